/* t-dns.c: DNS messages and the cache, without sockets. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "dns/dns.h"
#include "../lib/tap.h"

#define B(...) ((const uint8_t[]){ __VA_ARGS__ })
#define N(...) sizeof((const uint8_t[]){ __VA_ARGS__ })
#define PARSE(m, ...) gp_dns_parse(B(__VA_ARGS__), N(__VA_ARGS__), m)

/* A query for api.test A, then an answer with two A records and a TTL. */
static const uint8_t query[] = { 0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0,
	0, 0, 3, 'a', 'p', 'i', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1 };
static const uint8_t answer[] = { 0xab, 0xcd, 0x81, 0x80, 0, 1, 0, 2, 0, 0,
	0, 0, 3, 'a', 'p', 'i', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1,
	0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 100, 0, 4, 10, 0, 0, 1,
	0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 40, 0, 4, 10, 0, 0, 2 };
/* NXDOMAIN with an SOA whose TTL 300 and MINIMUM 30: negative TTL 30. */
static const uint8_t nxdomain[] = { 0, 7, 0x81, 0x83, 0, 1, 0, 0, 0, 1, 0, 0,
	2, 'n', 'x', 0, 0, 1, 0, 1,
	0xc0, 0x0c, 0, 6, 0, 1, 0, 0, 1, 44, 0, 26,
	1, 'n', 0, 1, 'a', 0, 0, 0, 0, 1, 0, 0, 0, 60, 0, 0, 0, 60, 0, 0, 0,
	60, 0, 0, 0, 30 };

static char	seen_ips[128];

static void
on_addr(void *d, const char *ip, uint32_t ttl)
{
	strcat(seen_ips, ip);
	strcat(seen_ips, " ");
}

/* Hostile answers: refused before anything is noted or cached. */
static void
test_hostile(void)
{
	/* Header + question "api.test A IN" (offset 12..25), then RRs. */
#define HDR(an) 0xab, 0xcd, 0x81, 0x80, 0, 1, 0, (an), 0, 0, 0, 0, \
	3, 'a', 'p', 'i', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1
#define A_RR 0, 1, 0, 1, 0, 0, 0, 100, 0, 4, 10, 0, 0, 9
	static const uint8_t loop[] = { HDR(1), 0xc0, 26, A_RR };
	static const uint8_t fwd[] = { HDR(1), 0xc0, 40, A_RR, 0 };
	static const uint8_t outside[] = { HDR(1), 0xc1, 0x00, A_RR };
	static const uint8_t overrun[] = { HDR(1), 0xc0, 0x0c, 0, 1, 0, 1,
	    0, 0, 0, 100, 0, 40, 10, 0, 0, 9 };
	static const uint8_t short_rr[] = { HDR(1), 0xc0, 0x0c, 0, 1, 0, 1 };
	static const uint8_t count[] = { HDR(2), 0xc0, 0x0c, A_RR };
	/* A CNAME whose target loops inside the RDATA. */
	static const uint8_t cname_loop[] = { HDR(1), 0xc0, 0x0c, 0, 5, 0, 1,
	    0, 0, 0, 100, 0, 2, 0xc0, 38 };
	/* A CNAME whose name runs past its RDATA. */
	static const uint8_t cname_long[] = { HDR(1), 0xc0, 0x0c, 0, 5, 0, 1,
	    0, 0, 0, 100, 0, 2, 3, 'a', 'b', 'c', 0 };
	struct {
		const uint8_t	*p;
		size_t		 n;
		const char	*what;
	} bad[] = {
		{ loop, sizeof loop, "owner name compression loop" },
		{ fwd, sizeof fwd, "compression pointer forward" },
		{ outside, sizeof outside, "compression pointer outside" },
		{ overrun, sizeof overrun, "RDATA overruns the message" },
		{ short_rr, sizeof short_rr, "record cut short" },
		{ count, sizeof count, "more records announced than sent" },
		{ cname_loop, sizeof cname_loop, "CNAME target loops" },
		{ cname_long, sizeof cname_long, "CNAME past its RDATA" },
	};
	uint8_t		 big[600];
	struct gp_dns_msg m;
	int64_t		 ttl;
	size_t		 i, o;

	for (i = 0; i < GP_ARRAY_LEN(bad); i++) {
		seen_ips[0] = '\0';
		ok(gp_dns_parse(bad[i].p, bad[i].n, &m) != 0 ||
		    gp_dns_scan_answer(bad[i].p, bad[i].n, &m, &ttl, on_addr,
		    NULL) == -1, "refused: %s", bad[i].what);
		is_str(seen_ips, "", "nothing noted from it: %s", bad[i].what);
	}
	/* An owner name over 255 bytes, built from 63-byte labels. */
	{
		static const uint8_t h[] = { HDR(1) };

		memcpy(big, h, sizeof h);
		o = sizeof h;
		for (i = 0; i < 5; i++) {
			big[o++] = 63;
			memset(big + o, 'x', 63);
			o += 63;
		}
		big[o++] = 0;
		memcpy(big + o, (const uint8_t[]){ A_RR }, 14);
		o += 14;
		ok(gp_dns_parse(big, o, &m) != 0 ||
		    gp_dns_scan_answer(big, o, &m, &ttl, on_addr, NULL) == -1,
		    "refused: owner name over 255 bytes");
	}
#undef HDR
#undef A_RR
}

/* What a drain hands over, as "a:KEY h:IP c " words. */
static char drained[512];

static void
on_answer(void *d, const char *key, const uint8_t *p, size_t n,
    int64_t stored, int64_t expires, int negative)
{
	(void)d; (void)p; (void)n; (void)stored; (void)expires; (void)negative;
	snprintf(drained + strlen(drained), sizeof drained - strlen(drained),
	    "a:%s ", key);
}

static void
on_host(void *d, const char *ip, const char *host, int64_t expires)
{
	(void)d; (void)host; (void)expires;
	snprintf(drained + strlen(drained), sizeof drained - strlen(drained),
	    "h:%s ", ip);
}

static void
on_cleared(void *d)
{
	(void)d;
	snprintf(drained + strlen(drained), sizeof drained - strlen(drained),
	    "c ");
}

/* An A answer for name, kept ttl seconds from now. */
static void
put(struct gp_dns_cache *c, const char *name, int64_t ttl, int64_t now)
{
	gp_dns_cache_put(c, name, 1, 1, answer, sizeof answer, ttl, 0, now);
}

static void
put4(struct gp_dns_cache *c, int64_t now)
{
	static const char *names[] = { "c.test", "e.test", "f.test",
	    "g.test" };
	size_t i;

	for (i = 0; i < 4; i++)
		put(c, names[i], 100, now);
}

/* The changes drained for the database: only the changed entries, at
 * most max a call, none twice, none evicted. */
static void
test_drain(void)
{
	struct gp_dns_dirty	 d = { on_answer, on_host, on_cleared, NULL };
	struct gp_dns_cache	*c = gp_dns_cache_new(3, 0, 3600);
	size_t			 n;

	gp_dns_cache_load(c, "old.test|1|1", answer, sizeof answer, 900, 2000,
	    0, 1000);
	put(c, "a.test", 100, 1000);
	put(c, "b.test", 100, 1000);
	put(c, "a.test", 200, 1001);
	gp_dns_cache_note_host(c, "10.0.0.1", "a.test", 2000);
	gp_dns_cache_note_host(c, "10.0.0.1", "a.test", 2100);
	is_int(gp_dns_cache_dirty(c), 3, "owed: two answers (one stored twice)"
	    " and one host (noted twice); nothing loaded");
	n = gp_dns_cache_drain(c, &d, 2);
	is_int(n, 2, "a drain hands at most max");
	is_str(drained, "a:a.test|1|1 a:b.test|1|1 ", "the answers first");
	is_int(gp_dns_cache_dirty(c), 1, "the rest stays owed");
	put4(c, 1002);		/* c, e, f, g: c is evicted, unwritten */
	is_int(gp_dns_cache_dirty(c), 4, "an evicted answer is owed no more");
	drained[0] = '\0';
	n = gp_dns_cache_drain(c, &d, 0);
	is_int(n, 4, "0: everything owed");
	is_str(drained, "a:g.test|1|1 a:f.test|1|1 a:e.test|1|1 h:10.0.0.1 ",
	    "newest answers first, then hosts");
	is_int(gp_dns_cache_dirty(c), 0, "nothing owed");
	drained[0] = '\0';
	is_int(gp_dns_cache_drain(c, &d, 0), 0, "a second drain hands nothing");
	put4(c, 1003);
	gp_dns_cache_flush(c);
	is_int(gp_dns_cache_dirty(c), 1, "a flush is owed, its entries not");
	gp_dns_cache_drain(c, &d, 0);
	is_str(drained, "c ", "the flush is handed over");
	gp_dns_cache_free(c);
}

int
main(void)
{
	struct gp_dns_msg	 m, a;
	struct gp_dns_cache	*c;
	struct gp_dns_cache_stats st;
	uint8_t			 buf[512], *hit;
	size_t			 len;
	int64_t			 ttl;

	is_int(gp_dns_parse(query, sizeof query, &m), 0, "query parses");
	is_str(m.name, "api.test", "question name");
	ok(m.qtype == 1 && m.qclass == 1 && m.id == 0xabcd && m.rd,
	    "type, class, id, rd");
	is_int(m.qend, sizeof query, "question end");
	is_int(m.udp_size, 512, "no EDNS: 512");
	is_int(PARSE(&m, 1, 2), -1, "shorter than a header: dropped");
	is_int(PARSE(&m, 0, 1, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1,
	    0, 1, 1, 'b', 0, 0, 1, 0, 1), GP_DNS_FORMERR, "two questions");
	is_int(PARSE(&m, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0), GP_DNS_FORMERR,
	    "no question");
	is_int(PARSE(&m, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1,
	    0, 1), GP_DNS_FORMERR, "compression pointer to itself");
	is_int(PARSE(&m, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0,
	    0x0c, 0, 1, 0, 1), GP_DNS_FORMERR, "compression loop");
	is_int(PARSE(&m, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 9, 'a', 'b'),
	    GP_DNS_FORMERR, "label past the end");
	is_int(PARSE(&m, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1),
	    GP_DNS_FORMERR, "question cut short");
	is_int(PARSE(&m, 0, 1, 0x28, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0,
	    1, 0, 1), GP_DNS_NOTIMP, "UPDATE opcode: NOTIMP");
	is_int(PARSE(&m, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 'A', 0, 0, 1,
	    0, 1, 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0), 0, "EDNS query");
	is_int(m.udp_size, 4096, "EDNS payload size");
	is_str(m.name, "a", "name lower-cased");
	is_int(PARSE(&m, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 'a', 0, 0, 1,
	    0, 1, 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 9), GP_DNS_FORMERR,
	    "OPT data past the end");

	is_int(gp_dns_parse(answer, sizeof answer, &a), 0, "answer parses");
	ok(gp_dns_same_question(&m, &a) == 0, "different questions differ");
	gp_dns_parse(query, sizeof query, &m);
	ok(gp_dns_same_question(&m, &a), "same question");
	is_int(gp_dns_scan_answer(answer, sizeof answer, &a, &ttl, on_addr,
	    NULL), 0, "scan");
	is_int(ttl, 40, "cache TTL is the smallest");
	is_str(seen_ips, "10.0.0.1 10.0.0.2 ", "addresses for enrichment");
	gp_dns_parse(nxdomain, sizeof nxdomain, &a);
	gp_dns_scan_answer(nxdomain, sizeof nxdomain, &a, &ttl, NULL, NULL);
	is_int(ttl, 30, "negative TTL from the SOA (RFC 2308)");
	memcpy(buf, answer, sizeof answer);
	buf[7] = 0;			/* NODATA without an SOA */
	gp_dns_parse(buf, GP_DNS_HDR + 14, &a);
	gp_dns_scan_answer(buf, GP_DNS_HDR + 14, &a, &ttl, NULL, NULL);
	is_int(ttl, -1, "negative answer without SOA: not kept");
	memcpy(buf, answer, sizeof answer);
	buf[3] = 0x82;			/* SERVFAIL */
	gp_dns_parse(buf, sizeof answer, &a);
	gp_dns_scan_answer(buf, sizeof answer, &a, &ttl, NULL, NULL);
	is_int(ttl, -1, "SERVFAIL: not kept");
	memcpy(buf, answer, sizeof answer);
	gp_dns_age(buf, sizeof answer, 30);
	ok(buf[35] == 70 && buf[51] == 10, "ageing lowers every TTL");
	gp_dns_age(buf, sizeof answer, 1000);
	ok(buf[35] == 0 && buf[51] == 0, "TTLs stop at zero");
	len = gp_dns_error(query, &m, GP_DNS_REFUSED, 0, buf, sizeof buf);
	is_int(len, sizeof query, "error reply echoes the question");
	ok(buf[2] == 0x81 && buf[3] == 0x85 && buf[5] == 1 && buf[7] == 0,
	    "QR, RD, RA, REFUSED; one question, no answers");

	/* The cache. */
	c = gp_dns_cache_new(2, 0, 3600);
	is_int(gp_dns_cache_put(c, "api.test", 1, 1, answer, sizeof answer,
	    40, 0, 1000), 0, "put");
	hit = gp_dns_cache_get(c, "api.test", 1, 1, 1010, &len);
	ok(hit != NULL && len == sizeof answer, "hit");
	ok(hit && hit[35] == 90 && hit[51] == 30, "served aged by 10 s");
	free(hit);
	ok(gp_dns_cache_get(c, "api.test", 28, 1, 1010, &len) == NULL,
	    "type is part of the key");
	ok(gp_dns_cache_get(c, "api.test", 1, 1, 1040, &len) == NULL,
	    "expired answers are not served");
	is_int(gp_dns_cache_put(c, "zero.test", 1, 1, answer, sizeof answer,
	    0, 0, 1000), -1, "TTL 0 not kept without a floor");
	gp_dns_cache_limits(c, 60, 120);
	gp_dns_cache_put(c, "a.test", 1, 1, answer, sizeof answer, 5, 0, 1000);
	ok((hit = gp_dns_cache_get(c, "a.test", 1, 1, 1030, &len)) != NULL,
	    "TTL floor keeps a short answer longer");
	free(hit);
	put(c, "b.test", 86400, 1000);
	ok(gp_dns_cache_get(c, "b.test", 1, 1, 1121, &len) == NULL,
	    "TTL ceiling");
	put(c, "c.test", 100, 1000);
	put(c, "d.test", 100, 1000);
	put(c, "e.test", 100, 1000);
	gp_dns_cache_stats(c, &st);
	is_int(st.entries, 2, "bounded to max entries");
	ok(gp_dns_cache_get(c, "c.test", 1, 1, 1001, &len) == NULL,
	    "least recently used evicted");
	gp_dns_cache_note_host(c, "10.0.0.1", "api.test", 2000);
	is_str(gp_dns_cache_host(c, "10.0.0.1", 1500), "api.test",
	    "IP → hostname");
	ok(gp_dns_cache_host(c, "10.0.0.1", 2001) == NULL,
	    "IP → hostname expires");
	gp_dns_cache_flush(c);
	gp_dns_cache_stats(c, &st);
	ok(st.entries == 0 && st.hosts == 0, "flush empties both maps");
	gp_dns_cache_free(c);
	test_hostile();
	test_drain();
	return tap_done();
}
