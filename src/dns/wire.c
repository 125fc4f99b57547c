/*
 * wire.c: DNS messages (RFC 1035 4.1).  Bounds are checked before every
 * read; names go through udns's dns_getdn, which refuses compression
 * pointer loops and over-long names.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <udns.h>

#include "core/core.h"
#include "dns/dns.h"

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
gp_dns_set_id(uint8_t *p, uint16_t id)
{
	p[0] = (uint8_t)(id >> 8);
	p[1] = (uint8_t)id;
}

/*
 * Steps over the (possibly compressed) name at *cur: 0, or -1 when a
 * label runs past the message, a pointer does not point strictly
 * backwards (which rules out every loop), a label type is reserved, or
 * the name is longer than 255 bytes.
 */
static int
check_name(const uint8_t *pkt, const uint8_t *end, const uint8_t **cur)
{
	const uint8_t	*p = *cur, *after = NULL;
	size_t		 total = 1;	/* the root */

	for (;;) {
		if (p >= end)
			return -1;
		if (*p == 0) {
			*cur = after != NULL ? after : p + 1;
			return 0;
		}
		if ((*p & 0xc0) == 0xc0) {
			const uint8_t *to;

			if (end - p < 2)
				return -1;
			to = pkt + ((size_t)(*p & 0x3f) << 8 | p[1]);
			if (to >= p)
				return -1;	/* forward or self: loops */
			if (after == NULL)
				after = p + 2;
			p = to;
			continue;
		}
		if (*p & 0xc0)
			return -1;		/* 0x40, 0x80: reserved */
		total += (size_t)*p + 1;
		if (total > DNS_MAXDN || end - p <= *p)
			return -1;
		p += *p + 1;
	}
}

/* Names inside the RDATA of the types that carry them (RFC 1035 3.3,
 * RFC 2782): each must be valid and end inside the RDATA. */
static int
check_rdata(const uint8_t *pkt, const uint8_t *end, uint16_t type,
    const uint8_t *rd, uint16_t rdlen)
{
	const uint8_t	*cur = rd, *rend = rd + rdlen;
	int		 names = 1;
	size_t		 skip = 0;

	switch (type) {
	case 2: case 5: case 12:		/* NS, CNAME, PTR */
		break;
	case 15:				/* MX: preference, name */
		skip = 2;
		break;
	case 33:				/* SRV: prio, weight, port */
		skip = 6;
		break;
	case GP_DNS_SOA:			/* MNAME, RNAME, 20 bytes */
		names = 2;
		break;
	default:
		return 0;
	}
	if ((size_t)rdlen < skip)
		return -1;
	cur += skip;
	while (names-- > 0)
		if (check_name(pkt, end, &cur) != 0 || cur > rend)
			return -1;
	if (type == GP_DNS_SOA && rend - cur != 20)
		return -1;
	return 0;
}

/*
 * Steps over one resource record at *cur, checking its owner name and
 * the names in its RDATA: *fixed points at its TYPE field (TTL at +4),
 * *rdata at its data.  0, or -1 if anything is malformed or overruns.
 */
static int
next_rr(const uint8_t *pkt, const uint8_t *end, const uint8_t **cur,
    const uint8_t **fixed, uint16_t *type, const uint8_t **rdata,
    uint16_t *rdlen)
{
	const uint8_t	*c = *cur;

	if (check_name(pkt, end, &c) != 0 || end - c < 10)
		return -1;
	*fixed = c;
	*type = get16(c);
	*rdlen = get16(c + 8);
	if (end - (c + 10) < *rdlen)
		return -1;
	*rdata = c + 10;
	if (check_rdata(pkt, end, *type, *rdata, *rdlen) != 0)
		return -1;
	*cur = c + 10 + *rdlen;
	return 0;
}

int
gp_dns_parse(const uint8_t *p, size_t n, struct gp_dns_msg *m)
{
	const uint8_t	*cur, *end = p + n;
	uint8_t		 dn[DNS_MAXDN];
	int		 len, i;

	memset(m, 0, sizeof *m);
	if (n < GP_DNS_HDR)
		return -1;
	m->id = get16(p);
	m->qr = p[2] >> 7;
	m->opcode = (p[2] >> 3) & 0x0f;
	m->tc = (p[2] >> 1) & 1;
	m->rd = p[2] & 1;
	m->rcode = p[3] & 0x0f;
	m->qdcount = get16(p + 4);
	m->ancount = get16(p + 6);
	m->nscount = get16(p + 8);
	m->arcount = get16(p + 10);
	m->udp_size = GP_DNS_UDP;
	if (m->opcode != 0)
		return GP_DNS_NOTIMP;
	if (m->qdcount != 1)
		return GP_DNS_FORMERR;
	cur = p + GP_DNS_HDR;
	len = dns_getdn(p, &cur, end, dn, sizeof dn);
	if (len <= 0 || end - cur < 4)
		return GP_DNS_FORMERR;
	if (dns_dntop(dn, m->name, sizeof m->name) <= 0)
		return GP_DNS_FORMERR;
	for (i = 0; m->name[i] != '\0'; i++)
		m->name[i] = (char)tolower((unsigned char)m->name[i]);
	if (i > 0 && m->name[i - 1] == '.' && i > 1)
		m->name[i - 1] = '\0';
	m->qtype = get16(cur);
	m->qclass = get16(cur + 2);
	cur += 4;
	m->qend = (size_t)(cur - p);
	/* Queries: an OPT record in the additional section sets the size. */
	if (!m->qr && m->ancount == 0 && m->nscount == 0 &&
	    m->arcount > 0) {
		for (i = 0; i < m->arcount; i++) {
			const uint8_t	*rd, *fixed, *start = cur;
			uint16_t	 type, rdlen;

			if (next_rr(p, end, &cur, &fixed, &type, &rd,
			    &rdlen) != 0)
				return GP_DNS_FORMERR;
			if (type == GP_DNS_OPT) {
				/* The OPT name must be the root (one 0). */
				if (*start != 0)
					return GP_DNS_FORMERR;
				m->udp_size = get16(start + 3);
				if (m->udp_size < GP_DNS_UDP)
					m->udp_size = GP_DNS_UDP;
			}
		}
	}
	return 0;
}

int
gp_dns_same_question(const struct gp_dns_msg *a, const struct gp_dns_msg *b)
{
	return a->qtype == b->qtype && a->qclass == b->qclass &&
	    strcmp(a->name, b->name) == 0;
}

/* Walks the RRs after the question; fn gets each with its TTL offset. */
static int
walk(uint8_t *p, size_t n, const struct gp_dns_msg *m,
    void (*fn)(void *, int sec, uint16_t type, uint8_t *ttlp,
    const uint8_t *rd, uint16_t rdlen), void *data)
{
	const uint8_t	*cur = p + m->qend, *end = p + n, *rd;
	int		 counts[3] = { m->ancount, m->nscount, m->arcount };
	int		 sec, i;

	for (sec = 0; sec < 3; sec++) {
		for (i = 0; i < counts[sec]; i++) {
			const uint8_t	*fixed;
			uint16_t	 type, rdlen;

			if (next_rr(p, end, &cur, &fixed, &type, &rd,
			    &rdlen) != 0)
				return -1;
			fn(data, sec, type, (uint8_t *)fixed + 4, rd, rdlen);
		}
	}
	return 0;
}

struct scan {
	const struct gp_dns_msg	*m;
	int64_t			 min_ttl;	/* answers */
	int64_t			 soa_min;	/* authority SOA */
	gp_dns_addr_fn		 fn;
	void			*data;
};

static void
scan_rr(void *d, int sec, uint16_t type, uint8_t *ttlp, const uint8_t *rd,
    uint16_t rdlen)
{
	struct scan	*s = d;
	uint32_t	 ttl = get32(ttlp);
	char		 ip[INET6_ADDRSTRLEN];

	if (sec == 0) {
		if (s->min_ttl < 0 || ttl < s->min_ttl)
			s->min_ttl = ttl;
		if (s->fn != NULL && ((type == GP_DNS_A && rdlen == 4 &&
		    inet_ntop(AF_INET, rd, ip, sizeof ip)) ||
		    (type == GP_DNS_AAAA && rdlen == 16 &&
		    inet_ntop(AF_INET6, rd, ip, sizeof ip))))
			s->fn(s->data, ip, ttl);
	} else if (sec == 1 && type == GP_DNS_SOA && rdlen >= 22) {
		/* RFC 2308 5: min(SOA TTL, SOA MINIMUM). */
		uint32_t minimum = get32(rd + rdlen - 4);

		s->soa_min = ttl < minimum ? ttl : minimum;
	}
}

int
gp_dns_scan_answer(const uint8_t *p, size_t n, const struct gp_dns_msg *m,
    int64_t *ttl, gp_dns_addr_fn fn, void *data)
{
	struct scan	s = { m, -1, -1, NULL, NULL };

	/* Validate the whole message before anything is noted from it. */
	if (walk((uint8_t *)p, n, m, scan_rr, &s) != 0)
		return -1;
	s.fn = fn;
	s.data = data;
	s.min_ttl = s.soa_min = -1;
	walk((uint8_t *)p, n, m, scan_rr, &s);
	if (m->tc || (m->rcode != GP_DNS_NOERROR &&
	    m->rcode != GP_DNS_NXDOMAIN))
		*ttl = -1;		/* errors and truncation: not kept */
	else if (m->rcode == GP_DNS_NXDOMAIN || m->ancount == 0)
		*ttl = s.soa_min;	/* negative: without SOA, not kept */
	else
		*ttl = s.min_ttl;
	return 0;
}

static void
age_rr(void *d, int sec, uint16_t type, uint8_t *ttlp, const uint8_t *rd,
    uint16_t rdlen)
{
	uint32_t	elapsed = *(uint32_t *)d, ttl;

	if (type == GP_DNS_OPT)
		return;		/* its "TTL" holds EDNS flags */
	ttl = get32(ttlp);
	put32(ttlp, ttl > elapsed ? ttl - elapsed : 0);
}

void
gp_dns_age(uint8_t *p, size_t n, uint32_t elapsed)
{
	struct gp_dns_msg m;

	if (gp_dns_parse(p, n, &m) == 0 && elapsed > 0)
		walk(p, n, &m, age_rr, &elapsed);
}

size_t
gp_dns_error(const uint8_t *q, const struct gp_dns_msg *m, int rcode, int tc,
    uint8_t *out, size_t outlen)
{
	size_t	qlen = m->qend >= GP_DNS_HDR ? m->qend : GP_DNS_HDR;

	if (outlen < qlen)
		return 0;
	memcpy(out, q, qlen);
	out[2] = (uint8_t)(0x80 | (m->opcode << 3) | (tc ? 2 : 0) |
	    (m->rd ? 1 : 0));
	out[3] = (uint8_t)(0x80 | (rcode & 0x0f));	/* RA */
	out[4] = 0;
	out[5] = m->qend >= GP_DNS_HDR ? 1 : 0;		/* qdcount */
	memset(out + 6, 0, 6);
	return qlen;
}

const char *
gp_dns_type_name(uint16_t t)
{
	static char	buf[16];

	switch (t) {
	case 1: return "A";
	case 2: return "NS";
	case 5: return "CNAME";
	case 6: return "SOA";
	case 12: return "PTR";
	case 15: return "MX";
	case 16: return "TXT";
	case 28: return "AAAA";
	case 33: return "SRV";
	case 65: return "HTTPS";
	case 255: return "ANY";
	}
	snprintf(buf, sizeof buf, "TYPE%u", t);
	return buf;
}
