/* t-rules.c: host normalization, globs, ports and rule precedence. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "rules/rules.h"
#include "../lib/tap.h"

static void
test_normalize(void)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "Example.COM", "example.com" },
		{ "example.com.", "example.com" },
		{ "[::1]", "::1" },
		{ "[2001:DB8:0:0::1]", "2001:db8::1" },
		{ "2001:db8::0:1", "2001:db8::1" },
		{ "127.0.0.1", "127.0.0.1" },
		{ "bücher.de", "xn--bcher-kva.de" },
		{ "BÜCHER.de", "xn--bcher-kva.de" },
		{ "ΑΘΗΝΑ.gr", "xn--mxaard0a.gr" },		/* αθηνα */
		{ "münchen.example", "xn--mnchen-3ya.example" },
		{ "*.bücher.de", "*.xn--bcher-kva.de" },
		{ "xn--bcher-kva.de", "xn--bcher-kva.de" },
		{ "例え.テスト", "xn--r8jz45g.xn--zckzah" },
		{ "*.npmjs.org", "*.npmjs.org" },
	};
	static const char *bad[] = { "", ".", "a..b", "a b", "[::1", "[zz]",
	    "ex@mple.com", "\xff\xfe.com" };
	char		out[GP_HOST_MAX];
	const char	*why;
	size_t		i;

	for (i = 0; i < GP_ARRAY_LEN(cases); i++) {
		int rc = gp_host_normalize(cases[i].in, strlen(cases[i].in),
		    out, sizeof out, &why);

		is_int(rc, 0, "normalize '%s' succeeds", cases[i].in);
		is_str(out, cases[i].want, "normalize '%s'", cases[i].in);
	}
	for (i = 0; i < GP_ARRAY_LEN(bad); i++)
		is_int(gp_host_normalize(bad[i], strlen(bad[i]), out,
		    sizeof out, &why), -1, "normalize rejects '%s'", bad[i]);
	/* 254 characters is over the DNS limit. */
	{
		char long_name[300];

		memset(long_name, 'a', sizeof long_name);
		for (i = 60; i < 254; i += 61)
			long_name[i] = '.';
		long_name[254] = '\0';
		is_int(gp_host_normalize(long_name, 254, out, sizeof out,
		    &why), -1, "normalize rejects a 254-byte name");
	}
}

static void
test_glob_ports(void)
{
	ok(gp_glob_match("*.npmjs.org", "registry.npmjs.org"), "glob star");
	ok(!gp_glob_match("*.npmjs.org", "npmjs.org"), "glob needs a label");
	ok(gp_glob_match("api.*", "api.example.com"), "glob trailing star");
	ok(gp_glob_match("a?c", "abc") && !gp_glob_match("a?c", "ac"),
	    "glob question mark");
	ok(gp_glob_match("host[0-9]", "host7") &&
	    !gp_glob_match("host[!0-9]", "host7"), "glob sets");
	ok(gp_glob_match("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaab") &&
	    !gp_glob_match("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	    "glob backtracking stays correct");
	ok(gp_rules_port_match("*", 1), "port any");
	ok(gp_rules_port_match("443", 443) && !gp_rules_port_match("443", 80),
	    "port exact");
	ok(gp_rules_port_match("80,443,8000-8100", 8050) &&
	    !gp_rules_port_match("80,443,8000-8100", 8101), "port list+range");
	{
		const char *why;

		is_int(gp_rules_check_ports("80, 443", &why), 0,
		    "ports with spaces");
		is_int(gp_rules_check_ports("0", &why), -1, "port 0 refused");
		is_int(gp_rules_check_ports("65536", &why), -1,
		    "port 65536 refused");
		is_int(gp_rules_check_ports("90-80", &why), -1,
		    "reversed range refused");
		is_int(gp_rules_check_ports("80,", &why), -1,
		    "trailing comma refused");
		is_int(gp_rules_check_ports("http", &why), -1,
		    "port names refused");
	}
}

/* Builds rule i from a compact description. */
static void
mk(struct gp_rule *r, int64_t id, const char *action, const char *cont,
    const char *dest, const char *ports)
{
	const char *why;

	memset(r, 0, sizeof *r);
	r->id = id;
	r->action = strcmp(action, "deny") == 0 ? GP_DENY : GP_ALLOW;
	r->container = gp_xstrdup(cont);
	r->dest = gp_xstrdup(dest);
	r->ports = gp_xstrdup(ports);
	r->layer = GP_LAYER_GLOBAL;
	if (gp_rule_prepare(r, &why) != 0)
		printf("# bad test rule %s: %s\n", dest, why);
}

/* Returns "allow:ID", "deny:ID" or "none" for a query. */
static const char *
decide(const struct gp_ruleset *set, const char *cont, const char *host,
    const char *alt, unsigned port, int64_t now)
{
	static char	buf[32];
	struct gp_match	m;
	struct gp_query	q = { cont, host, alt, port, now };

	if (!gp_rules_match(set, &q, &m))
		return "none";
	snprintf(buf, sizeof buf, "%s:%lld", m.action == GP_DENY ? "deny" :
	    "allow", (long long)m.rule_id);
	return buf;
}

static void
test_precedence(void)
{
	struct gp_rule		r[16];
	struct gp_ruleset	*set;
	size_t			n = 0, i, skipped;
	int64_t			now = 1700000000;

	mk(&r[n++], 1, "deny", "*", "*.example.com", "*");
	mk(&r[n++], 2, "allow", "*", "api.example.com", "*");
	mk(&r[n++], 3, "allow", "*", "*.npmjs.org", "443");
	mk(&r[n++], 4, "allow", "*", "**.pypi.org", "*");
	mk(&r[n++], 5, "allow", "*", "10.0.0.0/8", "*");
	mk(&r[n++], 6, "deny", "*", "10.1.2.3", "*");
	mk(&r[n++], 7, "allow", "agent-*", "*.github.com", "*");
	mk(&r[n++], 8, "deny", "agent-7", "*.github.com", "*");
	mk(&r[n++], 9, "allow", "*", "[2001:DB8::1]", "*");
	mk(&r[n++], 10, "allow", "*", "tie.test", "*");
	mk(&r[n++], 11, "deny", "*", "tie.test", "*");
	mk(&r[n++], 12, "allow", "*", "old.test", "*");
	r[n - 1].expires_at = now - 1;
	mk(&r[n++], 13, "allow", "*", "xn--bcher-kva.de", "80,443");
	mk(&r[n++], 14, "allow", "*", "api.*", "*");
	set = gp_rules_compile(r, n, &skipped);
	is_int(skipped, 0, "all rules compile");
	is_int(gp_rules_count(set), n, "rule count");

	is_str(decide(set, "c", "www.example.com", NULL, 443, now), "deny:1",
	    "wildcard deny");
	is_str(decide(set, "c", "api.example.com", NULL, 443, now),
	    "allow:2", "exact allow beats wildcard deny");
	is_str(decide(set, "c", "example.com", NULL, 443, now), "none",
	    "*.d does not cover d");
	is_str(decide(set, "c", "registry.npmjs.org", NULL, 443, now),
	    "allow:3", "wildcard with port");
	is_str(decide(set, "c", "registry.npmjs.org", NULL, 80, now), "none",
	    "port mismatch");
	is_str(decide(set, "c", "pypi.org", NULL, 443, now), "allow:4",
	    "**.d covers d");
	is_str(decide(set, "c", "files.pythonhosted.pypi.org", NULL, 1, now),
	    "allow:4", "**.d covers deep subdomains");
	is_str(decide(set, "c", "10.9.9.9", NULL, 22, now), "allow:5",
	    "CIDR allow");
	is_str(decide(set, "c", "10.1.2.3", NULL, 22, now), "deny:6",
	    "exact IP deny beats CIDR allow");
	is_str(decide(set, "c", "11.0.0.1", NULL, 22, now), "none",
	    "outside CIDR");
	is_str(decide(set, "agent-3", "api.github.com", NULL, 443, now),
	    "allow:7", "container glob");
	is_str(decide(set, "agent-7", "api.github.com", NULL, 443, now),
	    "deny:8", "exact container beats container glob");
	is_str(decide(set, "other", "www.github.com", NULL, 443, now), "none",
	    "container mismatch");
	is_str(decide(set, "c", "2001:db8::1", NULL, 443, now), "allow:9",
	    "IPv6 literal rule");
	is_str(decide(set, "c", "tie.test", NULL, 80, now), "deny:11",
	    "deny wins a tie");
	is_str(decide(set, "c", "old.test", NULL, 80, now), "none",
	    "expired rule ignored");
	is_str(decide(set, "c", "old.test", NULL, 80, now - 10), "allow:12",
	    "rule valid before expiry");
	is_str(decide(set, "c", "xn--bcher-kva.de", NULL, 443, now),
	    "allow:13", "IDN rule matches punycode host");
	is_str(decide(set, "c", "api.anything.net", NULL, 443, now),
	    "allow:14", "free-form glob");
	/* Enrichment: an IP destination judged by its hostname. */
	is_str(decide(set, "c", "93.184.216.34", "api.example.com", 443, now),
	    "allow:2", "alternate hostname is matched");
	is_str(decide(set, "c", "93.184.216.34", NULL, 443, now), "none",
	    "bare IP without hostname");
	/* DNS rebinding: who names a local address. */
	ok(gp_rules_names_ip(set, "c", "10.9.9.9", 0, 22, now),
	    "CIDR rule names a private IP");
	ok(!gp_rules_names_ip(set, "c", "10.1.2.3", 0, 22, now),
	    "a deny for the IP names nothing");
	ok(!gp_rules_names_ip(set, "c", "192.168.1.1", 0, 22, now),
	    "no rule for a private IP");
	gp_rules_free(set);
	for (i = 0; i < n; i++)
		gp_rule_clear(&r[i]);
	n = 0;
	mk(&r[n++], 1, "allow", "*", "*", "*");
	mk(&r[n++], 2, "allow", "*", "*.corp.test", "*");
	set = gp_rules_compile(r, n, NULL);
	ok(!gp_rules_names_ip(set, "c", "127.0.0.1", 1, 80, now),
	    "allow * does not name loopback");
	ok(!gp_rules_names_ip(set, "c", "10.0.0.5", 0, 80, now),
	    "a wildcard host rule does not name a private IP");
	gp_rules_free(set);
	for (i = 0; i < n; i++)
		gp_rule_clear(&r[i]);
	n = 0;
	mk(&r[n++], 1, "allow", "*", "localhost", "*");
	set = gp_rules_compile(r, n, NULL);
	ok(gp_rules_names_ip(set, "c", "127.0.0.1", 1, 80, now),
	    "allow localhost names loopback");
	ok(!gp_rules_names_ip(set, "c", "10.0.0.1", 0, 80, now),
	    "allow localhost does not name other private IPs");
	gp_rules_free(set);
	gp_rule_clear(&r[0]);

	is_int(gp_rules_score("*", "*", "*"), 0, "score of the catch-all");
	is_int(gp_rules_score("c", "a.b", "443"), 221, "score of exacts");
	is_int(gp_rules_score("c*", "*.b", "*"), 110, "score of globs");
}

static void
test_prepare(void)
{
	struct gp_rule	r;
	const char	*why;

	memset(&r, 0, sizeof r);
	r.dest = gp_xstrdup("10.1.2.3/8");
	is_int(gp_rule_prepare(&r, &why), 0, "CIDR accepted");
	is_str(r.container, "*", "container defaults to *");
	is_str(r.ports, "*", "ports default to *");
	gp_rule_clear(&r);
	r.dest = gp_xstrdup("10.0.0.0/33");
	is_int(gp_rule_prepare(&r, &why), -1, "CIDR prefix too long");
	gp_rule_clear(&r);
	r.dest = gp_xstrdup("Sub.Example.COM.");
	is_int(gp_rule_prepare(&r, &why), 0, "mixed case accepted");
	is_str(r.dest, "sub.example.com", "destination normalized");
	gp_rule_clear(&r);
	r.dest = gp_xstrdup("");
	is_int(gp_rule_prepare(&r, &why), -1, "empty destination refused");
	gp_rule_clear(&r);
}

static void
test_many_rules(void)
{
	struct gp_rule		*r;
	struct gp_ruleset	*set;
	size_t			 n = 5000, i;
	char			 name[64];

	r = gp_xcalloc(n, sizeof *r);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "host%zu.example.org", i);
		mk(&r[i], (int64_t)i + 1, i % 2 ? "deny" : "allow", "*", name,
		    "*");
	}
	set = gp_rules_compile(r, n, NULL);
	is_str(decide(set, "c", "host4242.example.org", NULL, 1, 0),
	    "allow:4243", "indexed lookup among 5000 rules");
	is_str(decide(set, "c", "host4243.example.org", NULL, 1, 0),
	    "deny:4244", "indexed lookup finds deny");
	gp_rules_free(set);
	for (i = 0; i < n; i++)
		gp_rule_clear(&r[i]);
	free(r);
}

/* The memory big rule sets live in: zeroed, a mapping aligned to huge
 * pages from GP_MAP_MIN on, kept whole when it grows. */
static void
test_mapped_memory(void)
{
	struct gp_arena	 a = { .chunk = GP_MAP_MIN };
	size_t		 big = GP_MAP_MIN + 12345, i, zero = 1;
	unsigned char	*p = gp_xmap(big), *small = gp_xmap(100);
	char		*s;

	for (i = 0; i < big; i += 511)
		zero &= p[i] == 0;
	ok(zero && small[99] == 0, "mapped and small tables come zeroed");
	ok(((uintptr_t)p & (((size_t)2 << 20) - 1)) == 0,
	    "a big table starts on a 2 MiB boundary");
	for (i = 0; i < big; i++)
		p[i] = (unsigned char)(i * 7);
	p = gp_xremap(p, big, 3 * big);
	for (i = 0, zero = 1; i < big; i++)
		zero &= p[i] == (unsigned char)(i * 7);
	ok(zero && p[3 * big - 1] == 0, "growing it keeps every byte and "
	    "zeroes the rest");
	small = gp_xremap(small, 100, big);
	ok(((uintptr_t)small & (((size_t)2 << 20) - 1)) == 0 &&
	    small[big - 1] == 0, "a small table grown big is mapped");
	gp_xunmap(p, 3 * big);
	gp_xunmap(small, big);
	s = gp_arena_strndup(&a, "kept", 4);
	for (i = 0; i < 100; i++)	/* several mapped chunks */
		gp_arena_alloc(&a, 64 << 10);
	is_str(s, "kept", "an arena with mapped chunks keeps its strings");
	gp_arena_free(&a);
}

/* A small deterministic generator (xorshift), so failures reproduce. */
static uint64_t rng = 88172645463325252ULL;

static unsigned
rnd(unsigned n)
{
	return (unsigned)(gp_xorshift64(&rng) % n);
}

/*
 * Differential test: the indexed matcher against the reference (every
 * rule checked in turn) over random rule sets of every kind and random
 * queries.  Any difference in the decision is a bug in the index.
 */
static void
test_differential(void)
{
	/* Long ones too: a rule's strings live inside it only when they
	 * fit. */
	static const char *doms[] = { "example.com", "npmjs.org", "a.b.c",
	    "evil.test", "api.example.com", "x",
	    "a-rather-long-label.under-a-long-zone.example.org" };
	static const char *ids[] = { "*", "agent", "ci-*", "ci-1", "other",
	    "sandbox-with-a-long-identity-for-its-runner-*" };
	static const char *ports[] = { "*", "443", "80,443", "8000-8100",
	    "22" };
	struct gp_rule	*rules;
	char		 buf[128];
	size_t		 n, i, k, diffs = 0, queries = 0, matched = 0;
	int		 round;

	/* The last two rounds are big: their arrays are mapped, and the one
	 * built rule by rule moves them as it grows. */
	for (round = 0; round < 32; round++) {
		struct gp_ruleset *set, *fresh;

		n = round < 30 ? 1 + rnd(400) : 24000;
		rules = gp_xcalloc(n, sizeof *rules);
		for (i = 0; i < n; i++) {
			const char *d = doms[rnd(GP_ARRAY_LEN(doms))];

			switch (rnd(13)) {
			case 0: snprintf(buf, sizeof buf, "%s", d); break;
			case 1: snprintf(buf, sizeof buf, "*.%s", d); break;
			case 2: snprintf(buf, sizeof buf, "**.%s", d); break;
			case 3: snprintf(buf, sizeof buf, "api-%u.*",
			    rnd(20)); break;
			case 4: snprintf(buf, sizeof buf, "*-cdn.%s", d);
				break;
			case 5: snprintf(buf, sizeof buf, "h?%u.%s", rnd(5),
			    d); break;
			case 6: snprintf(buf, sizeof buf, "[ab]x.%s", d);
				break;
			case 7: snprintf(buf, sizeof buf, "10.%u.0.0/%u",
			    rnd(3), 8 + rnd(17)); break;
			case 8: snprintf(buf, sizeof buf, "2001:db8:%x::/%u",
			    rnd(3), 32 + rnd(33)); break;
			case 9: snprintf(buf, sizeof buf, rnd(8) == 0 ? "*" :
			    "w*"); break;
			case 10: snprintf(buf, sizeof buf, "*m"); break;
			case 11: snprintf(buf, sizeof buf, "1?.%u.*", rnd(3));
				break;
			default: snprintf(buf, sizeof buf, "*api*"); break;
			}
			rules[i].id = (int64_t)i + 1;
			rules[i].dest = gp_xstrdup(buf);
			rules[i].container = gp_xstrdup(ids[rnd(
			    GP_ARRAY_LEN(ids))]);
			rules[i].ports = gp_xstrdup(ports[rnd(
			    GP_ARRAY_LEN(ports))]);
			rules[i].action = rnd(3) == 0 ? GP_DENY : GP_ALLOW;
			rules[i].expires_at = rnd(10) == 0 ? 500 : 0;
		}
		/* Half the rounds build the set rule by rule and remove a few
		 * (as the API does), the others compile it whole. */
		if (round % 2 == 1) {
			size_t half = n / 2;

			set = gp_rules_compile(rules, half, NULL);
			for (i = half; i < n; i++)
				gp_rules_add(set, &rules[i]);
			/* The reference is compiled afresh without them. */
			for (i = 0; i < n; i += 7) {
				gp_rules_remove(set, rules[i].id);
				free(rules[i].dest);
				rules[i].dest = NULL;	/* invalid: skipped */
			}
			fresh = gp_rules_compile(rules, n, NULL);
		} else
			set = fresh = gp_rules_compile(rules, n, NULL);
		for (k = 0; k < 400; k++) {
			struct gp_query	 q;
			struct gp_match	 a, b;
			char		 host[128];
			const char	*d = doms[rnd(GP_ARRAY_LEN(doms))];
			static const unsigned qports[] = { 443, 80, 22, 8050,
			    9999 };

			switch (rnd(9)) {
			case 0: snprintf(host, sizeof host, "%s", d); break;
			case 1: snprintf(host, sizeof host, "www.%s", d); break;
			case 2: snprintf(host, sizeof host, "api-%u.%s",
			    rnd(25), d); break;
			case 3: snprintf(host, sizeof host, "img-cdn.%s", d);
				break;
			case 4: snprintf(host, sizeof host, "h%c%u.%s",
			    'a' + rnd(3), rnd(6), d); break;
			case 5: snprintf(host, sizeof host, "%cx.%s",
			    'a' + rnd(3), d); break;
			case 6: snprintf(host, sizeof host, "10.%u.%u.%u",
			    rnd(4), rnd(256), rnd(256)); break;
			case 7: snprintf(host, sizeof host, "2001:db8:%x::%x",
			    rnd(4), rnd(100)); break;
			default: snprintf(host, sizeof host, "x.y.api.%s", d);
				break;
			}
			memset(&q, 0, sizeof q);
			q.host = host;
			q.alt_host = rnd(4) == 0 ? doms[rnd(GP_ARRAY_LEN(doms))]
			    : NULL;
			q.container = ids[1 + rnd(GP_ARRAY_LEN(ids) - 1)];
			q.port = qports[rnd(GP_ARRAY_LEN(qports))];
			q.now = 1000;
			gp_rules_match(set, &q, &a);
			gp_rules_match_reference(fresh, &q, &b);
			queries++;
			matched += a.matched;
			if (a.matched != b.matched || a.action != b.action ||
			    a.rule_id != b.rule_id ||
			    a.names_host != b.names_host) {
				if (diffs++ < 5)
					printf("# differs: %s:%u for %s: "
					    "index %d/%lld, reference %d/%lld\n",
					    host, q.port, q.container, a.matched,
					    (long long)a.rule_id, b.matched,
					    (long long)b.rule_id);
			}
		}
		if (fresh != set)
			gp_rules_free(fresh);
		gp_rules_free(set);
		for (i = 0; i < n; i++)
			gp_rule_clear(&rules[i]);
		free(rules);
	}
	is_int(diffs, 0, "indexed matcher (compiled, or built and pruned "
	    "rule by rule) = reference on %zu random queries (%zu matched)",
	    queries, matched);
	ok(matched > queries / 10 && matched < queries * 9 / 10, "the "
	    "queries exercise both matches and misses");
}

/* A request rule: mk() plus a method and a path. */
static void
mkreq(struct gp_rule *r, int64_t id, const char *action, const char *cont,
    const char *dest, const char *method, const char *path)
{
	const char *why;

	mk(r, id, action, cont, dest, "*");
	free(r->method);
	free(r->path);
	r->method = gp_xstrdup(method);
	r->path = gp_xstrdup(path);
	if (gp_rule_prepare(r, &why) != 0)
		printf("# bad request rule: %s\n", why);
}

static const char *
decide_req(const struct gp_ruleset *set, const char *cont, const char *host,
    const char *method, const char *path)
{
	static char	buf[32];
	struct gp_match	m;
	struct gp_query	q = { cont, host, NULL, 443, 1000 };

	if (!gp_rules_match_request(set, &q, method, path, &m))
		return "none";
	snprintf(buf, sizeof buf, "%s:%lld", m.action == GP_DENY ? "deny" :
	    "allow", (long long)m.rule_id);
	return buf;
}

static void
test_request_rules(void)
{
	struct gp_rule		 r[6], extra;
	struct gp_ruleset	*set;
	const char		*why;
	size_t			 i, n;

	mk(&r[0], 1, "allow", "*", "api.example.com", "*");
	mkreq(&r[1], 2, "deny", "*", "api.example.com", "post", "/v1/files*");
	mkreq(&r[2], 3, "allow", "*", "api.example.com", "POST",
	    "/v1/files/ok*");
	mkreq(&r[3], 4, "deny", "team-*", "**.example.com", "*", "/admin*");
	mkreq(&r[4], 5, "deny", "*", "*", "DELETE", "*");
	mkreq(&r[5], 6, "allow", "*", "*", "DELETE", "*");
	is_str(r[1].method, "POST", "a method is upper-cased");
	ok(gp_rule_is_request(&r[1]) && !gp_rule_is_request(&r[0]),
	    "a rule naming a method or a path is a request rule");
	set = gp_rules_compile(r, 6, NULL);
	is_int(gp_rules_count(set), 6, "all six compiled");
	is_int(gp_rules_request_count(set), 5, "five of them request rules");
	is_str(decide(set, "c", "api.example.com", NULL, 443, 1000), "allow:1",
	    "request rules never judge a connection");
	is_str(decide(set, "c", "other.example.com", NULL, 443, 1000), "none",
	    "nor match one");
	is_str(decide_req(set, "c", "api.example.com", "POST", "/v1/files/x"),
	    "deny:2", "POST on the path: denied");
	is_str(decide_req(set, "c", "api.example.com", "post", "/v1/files/x"),
	    "deny:2", "the method compares without case");
	is_str(decide_req(set, "c", "api.example.com", "GET", "/v1/files/x"),
	    "none", "another method: not covered");
	is_str(decide_req(set, "c", "api.example.com", "POST", "/v1/files/ok1"),
	    "allow:3", "a narrower path wins over the broader deny");
	is_str(decide_req(set, "team-a", "x.example.com", "GET", "/admin/y"),
	    "deny:4", "identity and host patterns apply");
	is_str(decide_req(set, "solo", "x.example.com", "GET", "/admin/y"),
	    "none", "another identity: not covered");
	is_str(decide_req(set, "c", "any.host", "DELETE", "/x"), "deny:5",
	    "deny wins a tie");
	ok(gp_rules_remove(set, 2) == 1, "a request rule is removed in place");
	is_str(decide_req(set, "c", "api.example.com", "POST", "/v1/files/x"),
	    "none", "and no longer decides");
	mkreq(&extra, 7, "deny", "*", "api.example.com", "PUT", "/v2/*");
	extra.expires_at = 500;
	ok(gp_rules_add(set, &extra) == 0, "one is added in place");
	is_str(decide_req(set, "c", "api.example.com", "PUT", "/v2/a"),
	    "none", "an expired one never decides");
	gp_rule_clear(&extra);
	/* Twenty more, one by one: the array moves as it grows, and each
	 * rule's strings (kept inside it) move with it. */
	for (i = 0, n = 0; i < 20; i++) {
		char	id[16], host[32], path[16];

		snprintf(id, sizeof id, "team-%zu", i);
		snprintf(host, sizeof host, "svc%zu.example.com", i);
		snprintf(path, sizeof path, "/p%zu/*", i);
		mkreq(&extra, 100 + (int64_t)i, "deny", id, host, "GET", path);
		gp_rules_add(set, &extra);
		gp_rule_clear(&extra);
	}
	for (i = 0; i < 20; i++) {
		char	id[16], host[32], path[16], want[16];

		snprintf(id, sizeof id, "team-%zu", i);
		snprintf(host, sizeof host, "svc%zu.example.com", i);
		snprintf(path, sizeof path, "/p%zu/x", i);
		snprintf(want, sizeof want, "deny:%zu", 100 + i);
		n += strcmp(decide_req(set, id, host, "GET", path), want) == 0;
	}
	is_int(n, 20, "twenty request rules added one by one each decide");
	mk(&extra, 8, "deny", "*", "x", "*");
	free(extra.method);
	extra.method = gp_xstrdup("P T");
	ok(gp_rule_prepare(&extra, &why) != 0, "a bad method is refused");
	free(extra.method);
	extra.method = NULL;
	free(extra.path);
	extra.path = gp_xstrdup("no-slash");
	ok(gp_rule_prepare(&extra, &why) != 0, "a path not from / is refused");
	gp_rule_clear(&extra);
	gp_rules_free(set);
	for (i = 0; i < 6; i++)
		gp_rule_clear(&r[i]);
}

int
main(void)
{
	test_mapped_memory();
	test_differential();
	test_normalize();
	test_glob_ports();
	test_precedence();
	test_prepare();
	test_many_rules();
	test_request_rules();
	ok(gp_glob_icase("*.Example.COM", "api.example.com"), "icase glob: "
	    "any case");
	ok(gp_glob_icase("x-*-key*", "X-Api-Key-2") &&
	    !gp_glob_icase("x-*-key", "X-Api-Key-2"), "icase glob: * anywhere");
	ok(gp_glob_icase("a?c", "abc") && !gp_glob_icase("a?c", "ac"),
	    "icase glob: ? is one character");
	ok(gp_globs_match("one.example\n*.two.example", "x.two.example") &&
	    !gp_globs_match("one.example\n*.two.example", "two.example"),
	    "a list of globs, one per line");
	return tap_done();
}
