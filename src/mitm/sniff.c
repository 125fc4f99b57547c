/*
 * sniff.c: is the first flight of a tunnel a TLS ClientHello, and for
 * which name?  Pure: bytes in, verdict out (RFC 8446 4.1.2, RFC 6066 3
 * server_name, RFC 7301 ALPN).  Only the first record is read; a hello
 * split over records is taken as TLS without a name.
 */
#include "config.h"

#include <string.h>

#include "mitm/mitm.h"

struct rd {
	const unsigned char	*p;
	size_t			 n;
	int			 bad;
};

static unsigned
u8(struct rd *r)
{
	if (r->n < 1) {
		r->bad = 1;
		return 0;
	}
	r->n--;
	return *r->p++;
}

static unsigned
u16(struct rd *r)
{
	unsigned hi = u8(r);

	return hi << 8 | u8(r);
}

static unsigned
u24(struct rd *r)
{
	unsigned hi = u16(r);

	return hi << 8 | u8(r);
}

/* A sub-reader over the next len bytes. */
static struct rd
sub(struct rd *r, size_t len)
{
	struct rd s = { r->p, len, 0 };

	if (len > r->n) {
		r->bad = 1;
		s.n = 0;
		s.bad = 1;
		return s;
	}
	r->p += len;
	r->n -= len;
	return s;
}

/* A host name as SNI allows: letters, digits, '-', '.', '_'. */
static int
sane_name(const unsigned char *p, size_t n)
{
	size_t i;

	if (n == 0 || n >= GP_SNI_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' &&
		    p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
		    p[i] == '-' || p[i] == '.' || p[i] == '_'))
			return 0;
	return 1;
}

static void
extensions(struct rd *r, struct gp_tls_hello *h)
{
	while (r->n >= 4 && !r->bad) {
		unsigned	type = u16(r), len = u16(r);
		struct rd	e = sub(r, len);

		if (type == 0) {		/* server_name */
			struct rd list = sub(&e, u16(&e));

			while (list.n >= 3 && !list.bad) {
				unsigned	kind = u8(&list);
				struct rd	name = sub(&list, u16(&list));

				if (kind == 0 && !name.bad && h->sni[0] ==
				    '\0' && sane_name(name.p, name.n)) {
					memcpy(h->sni, name.p, name.n);
					h->sni[name.n] = '\0';
				}
			}
		} else if (type == 16) {	/* ALPN */
			struct rd list = sub(&e, u16(&e));

			while (list.n >= 1 && !list.bad) {
				struct rd proto = sub(&list, u8(&list));

				if (!proto.bad && proto.n == 8 &&
				    memcmp(proto.p, "http/1.1", 8) == 0)
					h->alpn_http11 = 1;
				else if (!proto.bad && proto.n == 2 &&
				    memcmp(proto.p, "h2", 2) == 0)
					h->alpn_h2 = 1;
				if (!proto.bad)
					h->alpn_any = 1;
			}
		}
	}
}

enum gp_tls_sniff
gp_tls_sniff(const void *buf, size_t n, struct gp_tls_hello *h)
{
	struct rd	r = { buf, n, 0 }, rec, hs, body;
	unsigned	type, major, len;

	memset(h, 0, sizeof *h);
	if (n < 1)
		return GP_SNIFF_MORE;
	/* ContentType handshake(22), legacy version 3.x. */
	if (r.p[0] != 22)
		return GP_SNIFF_OTHER;
	if (n < 3)
		return GP_SNIFF_MORE;
	if (r.p[1] != 3)
		return GP_SNIFF_OTHER;
	if (n < 5)
		return GP_SNIFF_MORE;
	u8(&r);
	major = u8(&r);
	u8(&r);
	len = u16(&r);
	if (major != 3 || len == 0 || len > 16384 + 2048)
		return GP_SNIFF_OTHER;
	if (r.n < len)
		return n < GP_SNIFF_MAX ? GP_SNIFF_MORE : GP_SNIFF_OTHER;
	rec = sub(&r, len);
	type = u8(&rec);
	if (type != 1)			/* client_hello */
		return GP_SNIFF_OTHER;
	len = u24(&rec);
	if (rec.bad)
		return GP_SNIFF_OTHER;
	h->tls = 1;
	if (len > rec.n)
		return GP_SNIFF_TLS;	/* split over records: no name */
	hs = sub(&rec, len);
	u16(&hs);			/* legacy_version */
	sub(&hs, 32);			/* random */
	sub(&hs, u8(&hs));		/* legacy_session_id */
	sub(&hs, u16(&hs));		/* cipher_suites */
	sub(&hs, u8(&hs));		/* legacy_compression_methods */
	if (hs.bad)
		return GP_SNIFF_TLS;
	if (hs.n >= 2) {
		body = sub(&hs, u16(&hs));
		if (!body.bad)
			extensions(&body, h);
	}
	return GP_SNIFF_TLS;
}
