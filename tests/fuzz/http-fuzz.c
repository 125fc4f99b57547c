/*
 * http-fuzz.c: the HTTP head scanner and parsers, the chunked scanner,
 * the URL helpers (the escape checked: only unreserved bytes and %XX
 * out) and the tunnel's HTTP sniff.  The first byte picks the mode; the
 * rest is the input, scanned as it would arrive in pieces.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "http/http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* gp_url_escape's output holds nothing but unreserved bytes and %XX. */
static void
escaped(const char *s)
{
	char	esc[700];
	size_t	i;

	if (gp_url_escape(s, esc, sizeof esc) != 0) {
		if (esc[0] != '\0')
			__builtin_trap();
		return;
	}
	for (i = 0; esc[i] != '\0'; i++) {
		if (esc[i] == '%') {
			if (strchr("0123456789ABCDEF", esc[i + 1]) == NULL ||
			    esc[i + 1] == '\0' || esc[i + 2] == '\0' ||
			    strchr("0123456789ABCDEF", esc[i + 2]) == NULL)
				__builtin_trap();
			i += 2;
		} else if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789-._~", esc[i]) == NULL)
			__builtin_trap();
	}
}

static void
head(const char *p, size_t n, int request)
{
	struct gp_http_scan	sc;
	struct gp_http_msg	m;
	struct gp_http_err	e;
	struct gp_url		u;
	struct gp_buf		b = { 0 };
	char			out[512], host[256];
	unsigned		port;
	const char		*why;
	size_t			i, step = n / 7 + 1;
	int			rc = GP_AGAIN;

	memset(&sc, 0, sizeof sc);
	for (i = step; rc == GP_AGAIN && i < n + step; i += step)
		rc = gp_http_scan_head(&sc, p, i < n ? i : n, request, &e);
	if (rc <= 0)
		return;
	rc = request ? gp_http_parse_request(p, (size_t)rc, &m, &e) :
	    gp_http_parse_response(p, (size_t)rc, &m, &e);
	if (rc <= 0)
		return;
	if (request) {
		gp_url_redact(m.target, out, sizeof out);
		escaped(out);
		if (gp_url_parse_absolute(m.target, &u, &why) == 0)
			gp_http_build_request(&b, &m, &u, 0, (m.upgrade ?
			    GP_KEEP_UPGRADE : 0) | GP_KEEP_PROXY_AUTH);
		gp_url_parse_authority(m.target, host, sizeof host, &port,
		    &why);
		if (gp_http_find(&m, "host") != NULL)
			(void)gp_url_parse_host(gp_http_find(&m, "host")->value,
			    &u, &why);
	} else
		gp_http_build_response(&b, &m, 1, 0);
	gp_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data + 1;
	size_t		 n = size - 1;

	if (size == 0)
		return 0;
	(void)gp_http_sniff(p, n);
	switch (data[0] % 3) {
	case 0:
		head(p, n, 1);
		break;
	case 1:
		head(p, n, 0);
		break;
	default: {
		struct gp_chunked	c;
		size_t			off = 0;
		ssize_t			k;
		int			done = 0;

		memset(&c, 0, sizeof c);
		/* In uneven pieces, as reads deliver it. */
		while (off < n && !done) {
			size_t piece = (size_t)(data[off % size] % 17) + 1;

			if (piece > n - off)
				piece = n - off;
			k = gp_chunked_scan(&c, p + off, piece, &done);
			if (k < 0)
				break;
			off += (size_t)k;
			if ((size_t)k < piece && !done)
				break;
		}
		break;
	}
	}
	return 0;
}
