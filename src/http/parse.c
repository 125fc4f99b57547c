/*
 * parse.c: strict HTTP/1.1 head parser after RFC 9112.  Rejects what
 * enables request smuggling or header injection: bare CR, NUL, obs-fold,
 * whitespace before the colon, Content-Length with Transfer-Encoding,
 * conflicting Content-Length values, and a Transfer-Encoding whose last
 * coding is not chunked.
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

int
gp_iov_eq(struct gp_iov v, const char *s)
{
	size_t	n = strlen(s);

	return v.n == n && strncasecmp(v.p, s, n) == 0;
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

/* Parses header lines from p up to the empty line. */
static int
parse_headers(const char *p, const char *end, const char **after,
    struct gp_http_msg *m, struct gp_http_err *err)
{
	const char	*lf, *eol, *colon, *v, *ve;

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
		if (*p == ' ' || *p == '\t')
			FAIL(400, "obsolete line folding");
		if (m->nh == GP_HTTP_MAX_HEADERS)
			FAIL(431, "too many header fields");
		for (colon = p; colon < eol && is_tchar((unsigned char)*colon);
		    colon++)
			;
		if (colon == p || colon == eol || *colon != ':')
			FAIL(400, "malformed header field name");
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t');
		    ve--)
			;
		for (const char *q = v; q < ve; q++) {
			unsigned char c = (unsigned char)*q;

			if (c == '\0' || c == '\r' || (c < 0x20 && c != '\t') ||
			    c == 0x7f)
				FAIL(400, "invalid byte in header value");
		}
		m->h[m->nh].name.p = p;
		m->h[m->nh].name.n = (size_t)(colon - p);
		m->h[m->nh].value.p = v;
		m->h[m->nh].value.n = (size_t)(ve - v);
		m->nh++;
		p = lf + 1;
	}
}

/* Framing and persistence from the headers (RFC 9112 6.1-6.3, 9.3). */
static int
derive(struct gp_http_msg *m, int request, struct gp_http_err *err)
{
	const struct gp_http_header	*te = NULL;
	int				 conn_close = 0, conn_keep = 0;
	size_t				 i;

	m->content_length = -1;
	m->chunked = m->upgrade = m->expect_continue = 0;
	for (i = 0; i < m->nh; i++) {
		struct gp_http_header *h = &m->h[i];

		if (gp_iov_eq(h->name, "content-length")) {
			int64_t	v = 0;
			size_t	k;

			if (h->value.n == 0 || h->value.n > 18)
				FAIL(400, "invalid Content-Length");
			for (k = 0; k < h->value.n; k++) {
				if (h->value.p[k] < '0' || h->value.p[k] > '9')
					FAIL(400, "invalid Content-Length");
				v = v * 10 + (h->value.p[k] - '0');
			}
			if (m->content_length != -1 && m->content_length != v)
				FAIL(400, "conflicting Content-Length");
			m->content_length = v;
		} else if (gp_iov_eq(h->name, "transfer-encoding")) {
			if (te != NULL)
				FAIL(400, "repeated Transfer-Encoding");
			te = h;
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
		struct gp_iov	v = te->value;
		size_t		last;

		if (m->content_length != -1 && request)
			FAIL(400, "Content-Length with Transfer-Encoding");
		/* The final coding must be chunked (RFC 9112 6.3 item 4). */
		for (last = v.n; last > 0 && v.p[last - 1] != ','; last--)
			;
		while (last < v.n && (v.p[last] == ' ' || v.p[last] == '\t'))
			last++;
		if (v.n - last != 7 || strncasecmp(v.p + last, "chunked", 7))
			FAIL(request ? 501 : 502,
			    "unsupported Transfer-Encoding");
		m->chunked = 1;
		m->content_length = -1;
	}
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

int
gp_http_parse_request(const char *buf, size_t len, struct gp_http_msg *m,
    struct gp_http_err *err)
{
	const char	*end = buf + len, *p = buf, *lf, *eol, *sp1, *sp2;
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
		FAIL(memcmp(sp2 + 1, "HTTP/", 5) == 0 ? 505 : 400,
		    "unsupported HTTP version");
	m->method.p = p;
	m->method.n = (size_t)(sp1 - p);
	m->target.p = sp1 + 1;
	m->target.n = (size_t)(sp2 - sp1 - 1);
	m->status = 0;
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

int
gp_http_parse_response(const char *buf, size_t len, struct gp_http_msg *m,
    struct gp_http_err *err)
{
	const char	*end = buf + len, *lf, *eol, *after;
	int		 rc, i;

	if ((lf = find_line(buf, end)) == NULL)
		goto again;
	eol = lf > buf && lf[-1] == '\r' ? lf - 1 : lf;
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

enum { CK_SIZE, CK_EXT, CK_SIZE_LF, CK_DATA, CK_DATA_CR, CK_DATA_LF,
	CK_TRAILER, CK_TRAILER_LF, CK_DONE };

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
				if (c->linelen++ >= 16)
					return GP_EPROTO;
				c->remaining = c->remaining * 16 +
				    (uint64_t)(ch <= '9' ? ch - '0' :
				    (ch | 0x20) - 'a' + 10);
			} else if (c->linelen == 0) {
				return GP_EPROTO;
			} else if (ch == ';' || ch == ' ' || ch == '\t') {
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
			else if (ch == '\n' || ch == '\0' ||
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
			/* Trailer lines, then an empty line. */
			if (ch == '\r') {
				c->state = CK_TRAILER_LF;
			} else if (ch == '\n' || ch == '\0' ||
			    ++c->trailer > 16384) {
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
			c->state = CK_TRAILER;
			break;
		default:
			*done = 1;
			return (ssize_t)i;
		}
	}
	return (ssize_t)i;
}
