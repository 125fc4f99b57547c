/*
 * sse.c: text/event-stream as the WHATWG HTML standard (9.2.6) parses
 * it: lines end in CRLF, LF or CR; a line starting with ':' is a
 * comment; "field: value" loses one leading space of the value; data
 * lines are joined with LF; a blank line dispatches the event, and one
 * without data is dropped; retry and unknown fields are ignored.  What
 * is left without a blank line at the end is not an event (a stream cut
 * short): the caller learns it was there.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dissect/dissect.h"

/* The next line of [p, end): its length, *next after its end, or -1
 * when no line end follows (the stream's last, unterminated line). */
static long
line(const char *p, const char *end, const char **next)
{
	const char *q;

	for (q = p; q < end; q++)
		if (*q == '\n' || *q == '\r') {
			*next = q + 1;
			if (*q == '\r' && q + 1 < end && q[1] == '\n')
				*next = q + 2;
			return (long)(q - p);
		}
	return -1;
}

/* scratch holds event\0id\0data\0: offsets of each part. */
int
gp_sse_next(const char **pp, const char *end, struct gp_buf *scratch,
    struct gp_sse_event *ev, int *partial)
{
	const char	*p = *pp, *next;
	struct gp_buf	 data = { 0 };
	char		*event = NULL, *id = NULL;
	int		 has_data = 0, any = 0;
	long		 n;

	*partial = 0;
	while (p < end && (n = line(p, end, &next)) >= 0) {
		const char	*colon, *v;
		size_t		 fl, vl;

		if (n == 0) {		/* dispatch */
			p = next;
			if (!has_data) {
				free(event);
				free(id);
				event = id = NULL;
				gp_buf_reset(&data);
				any = 0;
				continue;
			}
			gp_buf_reset(scratch);
			gp_buf_addstr(scratch, event != NULL ? event : "");
			gp_buf_add(scratch, "", 1);
			gp_buf_addstr(scratch, id != NULL ? id : "");
			gp_buf_add(scratch, "", 1);
			ev->len = data.len;
			gp_buf_add(scratch, data.data, data.len);
			gp_buf_add(scratch, "", 1);
			ev->event = scratch->data;
			ev->id = scratch->data + strlen(scratch->data) + 1;
			ev->data = ev->id + strlen(ev->id) + 1;
			free(event);
			free(id);
			gp_buf_free(&data);
			*pp = p;
			return 1;
		}
		any = 1;
		if (*p == ':') {	/* comment */
			p = next;
			continue;
		}
		colon = memchr(p, ':', (size_t)n);
		fl = colon != NULL ? (size_t)(colon - p) : (size_t)n;
		v = colon != NULL ? colon + 1 : p + n;
		vl = (size_t)(p + n - v);
		if (vl > 0 && *v == ' ') {
			v++;
			vl--;
		}
		if (fl == 4 && memcmp(p, "data", 4) == 0) {
			if (has_data)
				gp_buf_add(&data, "\n", 1);
			gp_buf_add(&data, v, vl);
			has_data = 1;
		} else if (fl == 5 && memcmp(p, "event", 5) == 0) {
			free(event);
			event = gp_xstrndup(v, vl);
		} else if (fl == 2 && memcmp(p, "id", 2) == 0 &&
		    memchr(v, '\0', vl) == NULL) {
			free(id);
			id = gp_xstrndup(v, vl);
		}
		p = next;
	}
	*partial = any || p < end;
	*pp = end;
	free(event);
	free(id);
	gp_buf_free(&data);
	return 0;
}

int
gp_sse_looks(const char *p, size_t n)
{
	static const char *const fields[] = { "data:", "event:", "id:",
	    "retry:", ":" };
	size_t i;

	while (n > 0 && (*p == '\n' || *p == '\r')) {
		p++;
		n--;
	}
	for (i = 0; i < GP_ARRAY_LEN(fields); i++)
		if (n >= strlen(fields[i]) &&
		    memcmp(p, fields[i], strlen(fields[i])) == 0)
			return 1;
	return 0;
}
