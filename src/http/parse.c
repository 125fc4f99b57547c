/*
 * parse.c: strict HTTP/1.1 head parser after RFC 9112.  Rejects what
 * enables request smuggling or header injection: bare CR, NUL, obs-fold,
 * whitespace before the colon, Content-Length with Transfer-Encoding,
 * conflicting Content-Length values, and any Transfer-Encoding but a
 * single "chunked" (see derive()).  gp_http_scan_head() finds where a
 * head ends looking at each byte once, so a head trickled in byte by
 * byte is parsed once, not once per read.
 */
#include "config.h"

#include <string.h>
#include <strings.h>
#include <ctype.h>

#include "http/http.h"

static int	is_tchar(unsigned char);
static int	parse_headers(const char *, const char *, const char **,
		    struct gp_http_msg *, struct gp_http_err *);
static int	derive(struct gp_http_msg *, int, struct gp_http_err *);
static int	header_line(const char *, const char *,
		    struct gp_http_header *, struct gp_http_err *);
static int	request_line(const char *, const char *, struct gp_http_msg *,
		    struct gp_http_err *);
static int	status_line(const char *, const char *, struct gp_http_msg *,
		    struct gp_http_err *);
static int	parse_version(const char *, size_t);
static int	strips_framing(const struct gp_http_msg *);
static const char *find_line(const char *, const char *);

#define FAIL(st, w) do { err->status = (st); err->why = (w);		\
	return GP_EPROTO; } while (0)

/* RFC 9110 5.6.2 token characters. */
static int
is_tchar(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return 1;
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

const struct gp_http_header *
gp_http_find(const struct gp_http_msg *m, const char *name)
{
	size_t	i;

	for (i = 0; i < m->nh; i++)
		if (gp_iov_eq(m->h[i].name, name))
			return &m->h[i];
	return NULL;
}

int
gp_http_has_token(struct gp_iov v, const char *token)
{
	size_t	i = 0, start, end, tl = strlen(token);

	while (i < v.n) {
		while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t' ||
		    v.p[i] == ','))
			i++;
		start = i;
		while (i < v.n && v.p[i] != ',')
			i++;
		end = i;
		while (end > start && (v.p[end - 1] == ' ' ||
		    v.p[end - 1] == '\t'))
			end--;
		if (end - start == tl &&
		    strncasecmp(v.p + start, token, tl) == 0)
			return 1;
	}
	return 0;
}

/* Returns a pointer to the LF ending the line at p, or NULL. */
static const char *
find_line(const char *p, const char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

/* One header field line [p, eol) (no CR/LF) into h. */
static int
header_line(const char *p, const char *eol, struct gp_http_header *h,
    struct gp_http_err *err)
{
	const char	*colon, *v, *ve;

	if (*p == ' ' || *p == '\t')
		FAIL(400, "obsolete line folding");
	for (colon = p; colon < eol && is_tchar((unsigned char)*colon);
	    colon++)
		;
	if (colon == p || colon == eol || *colon != ':')
		FAIL(400, "malformed header field name");
	for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
		;
	for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
		;
	for (const char *q = v; q < ve; q++) {
		unsigned char c = (unsigned char)*q;

		if (c == '\0' || c == '\r' || (c < 0x20 && c != '\t') ||
		    c == 0x7f)
			FAIL(400, "invalid byte in header value");
	}
	h->name.p = p;
	h->name.n = (size_t)(colon - p);
	h->value.p = v;
	h->value.n = (size_t)(ve - v);
	return 0;
}

/* Parses header lines from p up to the empty line. */
static int
parse_headers(const char *p, const char *end, const char **after,
    struct gp_http_msg *m, struct gp_http_err *err)
{
	const char	*lf, *eol;

	m->nh = 0;
	for (;;) {
		if ((lf = find_line(p, end)) == NULL)
			return GP_AGAIN;
		eol = lf;
		if (eol > p && eol[-1] == '\r')
			eol--;
		if (eol == p) {		/* empty line: end of head */
			*after = lf + 1;
			return 0;
		}
		if (m->nh == GP_HTTP_MAX_HEADERS)
			FAIL(431, "too many header fields");
		if (header_line(p, eol, &m->h[m->nh], err) != 0)
			return GP_EPROTO;
		m->nh++;
		p = lf + 1;
	}
}

/* Does a Connection option name a field the framing depends on? */
static int
strips_framing(const struct gp_http_msg *m)
{
	size_t	i;

	for (i = 0; i < m->nh; i++)
		if (gp_iov_eq(m->h[i].name, "connection") &&
		    (gp_http_has_token(m->h[i].value, "content-length") ||
		    gp_http_has_token(m->h[i].value, "transfer-encoding")))
			return 1;
	return 0;
}

/*
 * Framing and persistence from the headers (RFC 9112 6.1-6.3, 9.3).
 * Anything a second parser could read differently is refused: HTTP/1.0
 * with Transfer-Encoding, any coding but one "chunked", Content-Length
 * with Transfer-Encoding, repeated Host (requests), and, in responses,
 * framing a Connection option would strip.
 */
static int
derive(struct gp_http_msg *m, int request, struct gp_http_err *err)
{
	const struct gp_http_header	*te = NULL;
	int				 conn_close = 0, conn_keep = 0;
	int				 hosts = 0, bad = request ? 400 : 502;
	size_t				 i;

	m->content_length = -1;
	m->chunked = m->upgrade = m->expect_continue = 0;
	for (i = 0; i < m->nh; i++) {
		struct gp_http_header *h = &m->h[i];

		if (gp_iov_eq(h->name, "content-length")) {
			int64_t	v = 0;
			size_t	k;

			if (h->value.n == 0 || h->value.n > 18)
				FAIL(bad, "invalid Content-Length");
			for (k = 0; k < h->value.n; k++) {
				if (h->value.p[k] < '0' || h->value.p[k] > '9')
					FAIL(bad, "invalid Content-Length");
				v = v * 10 + (h->value.p[k] - '0');
			}
			if (m->content_length != -1 && m->content_length != v)
				FAIL(bad, "conflicting Content-Length");
			m->content_length = v;
		} else if (gp_iov_eq(h->name, "transfer-encoding")) {
			if (te != NULL)
				FAIL(bad, "repeated Transfer-Encoding");
			te = h;
		} else if (gp_iov_eq(h->name, "host")) {
			if (request && ++hosts > 1)
				FAIL(400, "more than one Host header");
		} else if (gp_iov_eq(h->name, "connection") ||
		    gp_iov_eq(h->name, "proxy-connection")) {
			if (gp_http_has_token(h->value, "close"))
				conn_close = 1;
			if (gp_http_has_token(h->value, "keep-alive"))
				conn_keep = 1;
			if (gp_http_has_token(h->value, "upgrade"))
				m->upgrade |= 2;
		} else if (gp_iov_eq(h->name, "upgrade")) {
			m->upgrade |= 1;
		} else if (request && gp_iov_eq(h->name, "expect")) {
			if (gp_http_has_token(h->value, "100-continue"))
				m->expect_continue = 1;
		}
	}
	m->upgrade = m->upgrade == 3;
	if (te != NULL) {
		if (m->minor == 0)
			FAIL(bad, "Transfer-Encoding in an HTTP/1.0 message");
		if (m->content_length != -1)
			FAIL(bad, "Content-Length with Transfer-Encoding");
		/* Exactly one coding, chunked: no gzip, no repeats. */
		if (!gp_iov_eq(te->value, "chunked"))
			FAIL(bad, "unsupported Transfer-Encoding");
		m->chunked = 1;
	}
	if (!request && (te != NULL || m->content_length != -1) &&
	    strips_framing(m))
		FAIL(502, "Connection option names a framing header");
	if (m->minor >= 1)
		m->keep_alive = !conn_close;
	else
		m->keep_alive = conn_keep && !conn_close;
	return 0;
}

/* Parses "HTTP/1.x"; returns the minor version or -1. */
static int
parse_version(const char *p, size_t n)
{
	if (n != 8 || memcmp(p, "HTTP/1.", 7) != 0 ||
	    (p[7] != '0' && p[7] != '1'))
		return -1;
	return p[7] - '0';
}

/* The request line [p, eol) into m's method, target and version. */
static int
request_line(const char *p, const char *eol, struct gp_http_msg *m,
    struct gp_http_err *err)
{
	const char	*sp1, *sp2;

	for (const char *q = p; q < eol; q++)
		if (*q == '\0' || *q == '\r' || *q == '\t')
			FAIL(400, "invalid byte in request line");
	for (sp1 = p; sp1 < eol && is_tchar((unsigned char)*sp1); sp1++)
		;
	if (sp1 == p || sp1 == eol || *sp1 != ' ')
		FAIL(400, "malformed request method");
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (sp2 == NULL || sp2 == sp1 + 1)
		FAIL(400, "malformed request line");
	for (const char *q = sp1 + 1; q < sp2; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			FAIL(400, "invalid byte in request target");
	if ((m->minor = parse_version(sp2 + 1, (size_t)(eol - sp2 - 1))) < 0)
		FAIL(eol - sp2 - 1 >= 5 && memcmp(sp2 + 1, "HTTP/", 5) == 0 ?
		    505 : 400, "unsupported HTTP version");
	m->method.p = p;
	m->method.n = (size_t)(sp1 - p);
	m->target.p = sp1 + 1;
	m->target.n = (size_t)(sp2 - sp1 - 1);
	m->status = 0;
	return 0;
}

/*
 * Told apart from the first bytes alone, and early: a method (capital
 * letters, '-', '_'), spaces, then a target that starts with '/' or '*'
 * or is "http://..." or "https://...".  The rest of the line is left to
 * the parser, which answers a malformed one 400: a request a lenient
 * origin would take (spaces doubled, no version, absolute-form) must
 * not slip past request rules as "not HTTP".  What strays earlier is
 * another protocol (RTSP's "DESCRIBE rtsp://", Redis's "SET k v",
 * HTTP/2's "PRI *" preface) and stays a plain tunnel.
 */
enum gp_http_sniff
gp_http_sniff(const char *p, size_t n)
{
	static const char	 abs[] = "http";
	size_t			 i = 0, m, k;

	for (; i < n && ((p[i] >= 'A' && p[i] <= 'Z') || p[i] == '-' ||
	    p[i] == '_'); i++)
		if (i == 20)
			return GP_HSNIFF_OTHER;
	if (i == n)
		return GP_HSNIFF_MORE;
	m = i;
	if (m == 0 || p[i] != ' ' || (m == 3 && memcmp(p, "PRI", 3) == 0))
		return GP_HSNIFF_OTHER;
	for (; i < n && p[i] == ' '; i++)
		if (i >= GP_HTTP_MAX_LINE)
			return GP_HSNIFF_OTHER;
	if (i == n)
		return GP_HSNIFF_MORE;
	if (p[i] == '/' || p[i] == '*')
		return GP_HSNIFF_HTTP;
	for (k = 0; i < n && k < sizeof abs - 1; i++, k++)
		if ((p[i] | 0x20) != abs[k])
			return GP_HSNIFF_OTHER;
	if (i < n && (p[i] | 0x20) == 's')
		i++;
	for (k = 0; i < n && k < 3; i++, k++)
		if (p[i] != "://"[k])
			return GP_HSNIFF_OTHER;
	return i < n || k == 3 ? GP_HSNIFF_HTTP : GP_HSNIFF_MORE;
}

int
gp_http_parse_request(const char *buf, size_t len, struct gp_http_msg *m,
    struct gp_http_err *err)
{
	const char	*end = buf + len, *p = buf, *lf, *eol;
	const char	*after;
	int		 rc;

	/* RFC 9112 2.2: ignore at least one empty line before a request. */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	if ((lf = find_line(p, end)) == NULL) {
		if ((size_t)(end - p) > GP_HTTP_MAX_LINE)
			FAIL(414, "request line too long");
		goto again;
	}
	if ((size_t)(lf - p) > GP_HTTP_MAX_LINE)
		FAIL(414, "request line too long");
	eol = lf > p && lf[-1] == '\r' ? lf - 1 : lf;
	if (request_line(p, eol, m, err) != 0)
		return GP_EPROTO;
	rc = parse_headers(lf + 1, end, &after, m, err);
	if (rc == GP_AGAIN)
		goto again;
	if (rc != 0)
		return rc;
	m->head_len = (size_t)(after - buf);
	if (m->head_len > GP_HTTP_MAX_HEAD)
		FAIL(431, "request header too large");
	if (derive(m, 1, err) != 0)
		return GP_EPROTO;
	return (int)m->head_len;
again:
	if (len > GP_HTTP_MAX_HEAD)
		FAIL(431, "request header too large");
	return GP_AGAIN;
}

/* The status line [buf, eol) into m's version, status and reason. */
static int
status_line(const char *buf, const char *eol, struct gp_http_msg *m,
    struct gp_http_err *err)
{
	int	i;

	if (eol - buf < 12 || (m->minor = parse_version(buf, 8)) < 0 ||
	    buf[8] != ' ')
		FAIL(502, "malformed status line");
	m->status = 0;
	for (i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			FAIL(502, "malformed status code");
		m->status = m->status * 10 + (buf[i] - '0');
	}
	if (m->status < 100 || (eol - buf > 12 && buf[12] != ' '))
		FAIL(502, "malformed status line");
	for (const char *q = buf; q < eol; q++)
		if (*q == '\0' || *q == '\r')
			FAIL(502, "invalid byte in status line");
	m->reason.p = eol - buf > 12 ? buf + 13 : eol;
	m->reason.n = (size_t)(eol - m->reason.p);
	m->method.p = m->target.p = NULL;
	m->method.n = m->target.n = 0;
	return 0;
}

int
gp_http_parse_response(const char *buf, size_t len, struct gp_http_msg *m,
    struct gp_http_err *err)
{
	const char	*end = buf + len, *lf, *eol, *after;
	int		 rc;

	if ((lf = find_line(buf, end)) == NULL)
		goto again;
	eol = lf > buf && lf[-1] == '\r' ? lf - 1 : lf;
	if (status_line(buf, eol, m, err) != 0)
		return GP_EPROTO;
	rc = parse_headers(lf + 1, end, &after, m, err);
	if (rc == GP_AGAIN)
		goto again;
	if (rc != 0) {
		err->status = 502;
		return rc;
	}
	m->head_len = (size_t)(after - buf);
	if (m->head_len > GP_HTTP_MAX_HEAD)
		FAIL(502, "response header too large");
	if (derive(m, 0, err) != 0)
		return GP_EPROTO;
	return (int)m->head_len;
again:
	if (len > GP_HTTP_MAX_HEAD)
		FAIL(502, "response header too large");
	return GP_AGAIN;
}

/*
 * gp_http_scan_head: the state is the offset examined so far, the
 * length of the current line and how many lines are complete.  Each
 * line is checked once, when its LF arrives, so garbage is refused
 * as soon as a line of it is in, not when a head that never ends
 * times out.
 */
int
gp_http_scan_head(struct gp_http_scan *sc, const char *buf, size_t len,
    int request, struct gp_http_err *err)
{
	struct gp_http_msg	m;	/* only the line checks write to it */
	struct gp_http_header	h;
	const char		*p, *eol;
	size_t			 i;

	for (i = sc->off; i < len; i++) {
		if (buf[i] != '\n') {
			if (!sc->started && request && buf[i] == '\r')
				continue;	/* empty lines before a request */
			sc->started = 1;
			sc->line++;
			if (!sc->nlines && request &&
			    sc->line > GP_HTTP_MAX_LINE)
				FAIL(414, "request line too long");
			continue;
		}
		if (!sc->started)
			continue;
		p = buf + i - sc->line;
		eol = buf + i;
		if (eol > p && eol[-1] == '\r')
			eol--;
		if (eol == p && sc->nlines > 0) {
			sc->off = i + 1;
			if (i + 1 > GP_HTTP_MAX_HEAD)
				break;
			return (int)(i + 1);
		}
		if (sc->nlines == 0 ? (request ? request_line(p, eol, &m, err) :
		    status_line(p, eol, &m, err)) :
		    header_line(p, eol, &h, err)) {
			if (!request)
				err->status = 502;
			return GP_EPROTO;
		}
		if (sc->nlines++ > GP_HTTP_MAX_HEADERS)
			FAIL(request ? 431 : 502, "too many header fields");
		sc->line = 0;
	}
	sc->off = i;
	if (len > GP_HTTP_MAX_HEAD)
		FAIL(request ? 431 : 502, request ?
		    "request header too large" : "response header too large");
	return GP_AGAIN;
}

enum { CK_SIZE, CK_EXT, CK_SIZE_LF, CK_DATA, CK_DATA_CR, CK_DATA_LF,
	CK_TRAILER, CK_TRAILER_LF, CK_DONE };

#define CK_MAX_DIGITS	15	/* chunk sizes below 2^60 */

ssize_t
gp_chunked_scan(struct gp_chunked *c, const char *p, size_t n, int *done)
{
	size_t	i = 0;

	*done = 0;
	while (i < n) {
		unsigned char ch = (unsigned char)p[i];

		switch (c->state) {
		case CK_SIZE:
			if (isxdigit(ch)) {
				if (c->linelen++ >= CK_MAX_DIGITS)
					return GP_EPROTO;
				c->remaining = c->remaining * 16 +
				    (uint64_t)(ch <= '9' ? ch - '0' :
				    (ch | 0x20) - 'a' + 10);
			} else if (c->linelen == 0) {
				return GP_EPROTO;
			} else if (ch == ';') {
				/* No whitespace after the size (BWS is a
				 * smuggling vector between parsers). */
				c->state = CK_EXT;
			} else if (ch == '\r') {
				c->state = CK_SIZE_LF;
			} else
				return GP_EPROTO;
			i++;
			break;
		case CK_EXT:
			if (ch == '\r')
				c->state = CK_SIZE_LF;
			else if ((ch < 0x20 && ch != '\t') || ch == 0x7f ||
			    ++c->linelen > 4096)
				return GP_EPROTO;
			i++;
			break;
		case CK_SIZE_LF:
			if (ch != '\n')
				return GP_EPROTO;
			i++;
			c->linelen = 0;
			c->state = c->remaining ? CK_DATA : CK_TRAILER;
			break;
		case CK_DATA: {
			size_t take = n - i;

			if ((uint64_t)take > c->remaining)
				take = (size_t)c->remaining;
			i += take;
			c->remaining -= take;
			if (c->remaining == 0)
				c->state = CK_DATA_CR;
			break;
		}
		case CK_DATA_CR:
			if (ch != '\r')
				return GP_EPROTO;
			i++;
			c->state = CK_DATA_LF;
			break;
		case CK_DATA_LF:
			if (ch != '\n')
				return GP_EPROTO;
			i++;
			c->state = CK_SIZE;
			c->linelen = 0;
			break;
		case CK_TRAILER:
			/* Trailer fields (name ":" value), then an empty line;
			 * no folding, no control bytes. */
			if (ch == '\r') {
				if (c->linelen > 0 && !c->colon)
					return GP_EPROTO;
				c->state = CK_TRAILER_LF;
			} else if (++c->trailer > 16384) {
				return GP_EPROTO;
			} else if (!c->colon) {
				if (ch == ':' && c->linelen > 0)
					c->colon = 1;
				else if (!is_tchar(ch))
					return GP_EPROTO;
				c->linelen++;
			} else if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
				return GP_EPROTO;
			} else
				c->linelen++;
			i++;
			break;
		case CK_TRAILER_LF:
			if (ch != '\n')
				return GP_EPROTO;
			i++;
			if (c->linelen == 0) {
				c->state = CK_DONE;
				*done = 1;
				return (ssize_t)i;
			}
			c->linelen = 0;
			c->colon = 0;
			c->state = CK_TRAILER;
			break;
		default:
			*done = 1;
			return (ssize_t)i;
		}
	}
	return (ssize_t)i;
}
