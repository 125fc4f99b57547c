/* time.c: clocks and the two time formats greyproxy stores and shows. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/core.h"

int64_t
gp_now(void)
{
	return (int64_t)time(NULL);
}

/*
 * The first whole second at least secs from now. Expiry times are whole
 * seconds and "now" may be late in its second: now + secs would let a
 * 1 s lifetime end after a few milliseconds.
 */
int64_t
gp_later(int64_t secs)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec + secs + (ts.tv_nsec > 0);
}

uint64_t
gp_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t
gp_time_parse_sql(const char *s)
{
	struct tm	tm;
	const char	*end;

	if (s == NULL)
		return -1;
	memset(&tm, 0, sizeof tm);
	end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (end == NULL) {
		memset(&tm, 0, sizeof tm);
		end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	}
	if (end == NULL)
		return -1;
	return (int64_t)timegm(&tm);
}

void
gp_time_format_sql(int64_t t, char out[20])
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	gmtime_r(&tt, &tm);
	strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

void
gp_time_format_rfc3339(int64_t t, char out[21])
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	gmtime_r(&tt, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
