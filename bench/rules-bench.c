/*
 * rules-bench.c: decisions per rule-set size, printed, never asserted.
 * For each size (1, 10 000, 100 000 by default) a mixed set — half exact
 * hosts, 30 % "*.d", 20 % free globs ("api-N.*"), and a few "**.d",
 * CIDRs, port lists and identities — is compiled, then random queries
 * are timed one by one, warm and with the cache evicted between
 * queries.  Prints compile time, median and p99.
 *   bench/rules-bench [--smoke] [SIZE...]
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "rules/rules.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	return (unsigned)(gp_xorshift64(&rng) % n);
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct gp_rule *
make_rules(size_t n)
{
	struct gp_rule	*r = gp_xcalloc(n, sizeof *r);
	char		 buf[128];
	size_t		 i;

	for (i = 0; i < n; i++) {
		unsigned k = rnd(100);

		if (k < 50)
			snprintf(buf, sizeof buf, "host%zu.site%u.example", i,
			    rnd(5000));
		else if (k < 80)
			snprintf(buf, sizeof buf, "*.site%zu.example", i);
		else if (k < 97)
			snprintf(buf, sizeof buf, "api-%zu.*", i);
		else if (k < 98)
			snprintf(buf, sizeof buf, "**.zone%zu.example", i);
		else
			snprintf(buf, sizeof buf, "10.%u.%u.0/24", rnd(256),
			    rnd(256));
		r[i].id = (int64_t)i + 1;
		r[i].dest = gp_xstrdup(buf);
		r[i].container = gp_xstrdup(rnd(10) == 0 ? "ci-*" : "*");
		r[i].ports = gp_xstrdup(rnd(5) == 0 ? "80,443,8000-8100" : "*");
		r[i].action = rnd(4) == 0 ? GP_DENY : GP_ALLOW;
	}
	return r;
}

static void
query_host(size_t n, char *host, size_t len)
{
	switch (rnd(5)) {
	case 0: snprintf(host, len, "host%u.site%u.example", rnd((unsigned)n),
	    rnd(5000)); break;
	case 1: snprintf(host, len, "www.site%u.example", rnd((unsigned)n));
		break;
	case 2: snprintf(host, len, "api-%u.service.example",
	    rnd((unsigned)n)); break;
	case 3: snprintf(host, len, "10.%u.%u.%u", rnd(256), rnd(256),
	    rnd(256)); break;
	default: snprintf(host, len, "nomatch%u.other.test", rnd(100000));
		break;
	}
}

/* One rule removed and put back in place, as a rule edit does: no
 * recompile of the other n - 1. */
static void
churn(struct gp_ruleset *set, struct gp_rule *rules, size_t n)
{
	enum { ROUNDS = 1000 };
	double	 rm[ROUNDS], add[ROUNDS], t0;
	size_t	 i, k;

	for (i = 0; i < ROUNDS; i++) {
		k = rnd((unsigned)n);
		t0 = now_ns();
		gp_rules_remove(set, rules[k].id);
		rm[i] = now_ns() - t0;
		t0 = now_ns();
		gp_rules_add(set, &rules[k]);
		add[i] = now_ns() - t0;
	}
	qsort(rm, ROUNDS, sizeof *rm, cmp_d);
	qsort(add, ROUNDS, sizeof *add, cmp_d);
	printf("%8s        in-place remove median %7.0f ns  p99 %7.0f ns, "
	    "add median %7.0f ns  p99 %7.0f ns\n", "", rm[ROUNDS / 2],
	    rm[ROUNDS * 99 / 100], add[ROUNDS / 2], add[ROUNDS * 99 / 100]);
}

static void
run(size_t n, size_t queries, int cold)
{
	struct gp_rule		*rules = make_rules(n);
	struct gp_ruleset	*set;
	double			*t = gp_xcalloc(queries, sizeof *t), t0;
	static char		*evict;
	size_t			 i, hits = 0;
	char			 host[128];

	if (evict == NULL)
		evict = gp_xmalloc(32 << 20);
	t0 = now_ns();
	set = gp_rules_compile(rules, n, NULL);
	printf("%8zu rules  compile %8.1f ms", n, (now_ns() - t0) / 1e6);
	for (i = 0; i < queries; i++) {
		struct gp_query	q = { rnd(10) ? "agent" : "ci-1", host, NULL,
		    443, 1000 };
		struct gp_match	m;

		query_host(n, host, sizeof host);
		if (cold)
			memset(evict, (int)i, 32 << 20);
		t0 = now_ns();
		hits += (size_t)gp_rules_match(set, &q, &m);
		t[i] = now_ns() - t0;
	}
	qsort(t, queries, sizeof *t, cmp_d);
	printf("  %s decision median %7.0f ns  p99 %7.0f ns  (%zu of %zu "
	    "matched)\n", cold ? "cold" : "warm", t[queries / 2],
	    t[queries * 99 / 100], hits, queries);
	if (!cold && n > 1)
		churn(set, rules, n);
	gp_rules_free(set);
	for (i = 0; i < n; i++)
		gp_rule_clear(&rules[i]);
	free(rules);
	free(t);
}

int
main(int argc, char **argv)
{
	size_t	sizes[8] = { 1, 10000, 100000 }, nsizes = 3, i;
	int	smoke = argc > 1 && strcmp(argv[1], "--smoke") == 0, a;

	if (smoke) {
		sizes[0] = 1;
		sizes[1] = 1000;
		nsizes = 2;
	}
	for (a = 1 + smoke; a < argc && nsizes < 8; a++) {
		if (a == 1 + smoke)
			nsizes = 0;
		sizes[nsizes++] = (size_t)strtoul(argv[a], NULL, 10);
	}
	printf("greyproxy rule decisions (mixed: 50%% exact, 30%% *.d, "
	    "17%% globs, **.d, CIDRs, ports, identities)\n");
	for (i = 0; i < nsizes; i++) {
		run(sizes[i], smoke ? 2000 : 200000, 0);
		run(sizes[i], smoke ? 20 : 1000, 1);
	}
	return 0;
}
