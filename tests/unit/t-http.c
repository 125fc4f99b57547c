/* t-http.c: request/response heads, chunked bodies, URLs, forwarding. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "../lib/tap.h"

static int
req(const char *s, struct gp_http_msg *m, struct gp_http_err *e)
{
	return gp_http_parse_request(s, strlen(s), m, e);
}

static void
test_valid(void)
{
	struct gp_http_msg	m;
	struct gp_http_err	e;
	const char		*s = "GET http://example.com/a?b=1 HTTP/1.1\r\n"
	    "Host: example.com\r\nUser-Agent:  curl/8  \r\n"
	    "Content-Length: 5\r\n\r\nhello";
	const struct gp_http_header *h;

	is_int(req(s, &m, &e), (int)strlen(s) - 5, "head length");
	ok(gp_iov_eq(m.method, "GET"), "method");
	is_int(m.target.n, strlen("http://example.com/a?b=1"), "target");
	is_int(m.minor, 1, "HTTP/1.1");
	is_int(m.nh, 3, "three headers");
	is_int(m.content_length, 5, "content length");
	ok(m.keep_alive, "1.1 is persistent");
	h = gp_http_find(&m, "user-agent");
	ok(h != NULL && h->value.n == 6 && memcmp(h->value.p, "curl/8", 6)
	    == 0, "value trimmed, name case-insensitive");

	is_int(req("GET / HTTP/1.0\r\n\r\n", &m, &e), 18, "HTTP/1.0");
	ok(!m.keep_alive, "1.0 closes by default");
	req("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &m, &e);
	ok(m.keep_alive, "1.0 keep-alive");
	req("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &m, &e);
	ok(!m.keep_alive, "Connection: close");
	req("GET / HTTP/1.1\nHost: a\n\n", &m, &e);
	is_int(m.nh, 1, "bare LF line endings accepted");
	is_int(req("\r\nGET / HTTP/1.1\r\n\r\n", &m, &e), 20,
	    "leading empty line skipped");
	req("GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
	    &m, &e);
	ok(m.upgrade, "upgrade detected");
	req("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", &m,
	    &e);
	ok(m.chunked && m.content_length == -1, "chunked coding");
	req("PUT / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n", &m, &e);
	ok(m.expect_continue, "expect 100-continue");
}

static void
test_pipelined_and_partial(void)
{
	struct gp_http_msg	m;
	struct gp_http_err	e;
	const char		*two = "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n"
	    "GET http://b/ HTTP/1.1\r\nHost: b\r\n\r\n";
	int			n;
	size_t			i, len = strlen(two);

	n = req(two, &m, &e);
	is_int(n, (int)len / 2, "first of two pipelined requests");
	is_int(gp_http_parse_request(two + n, len - (size_t)n, &m, &e),
	    (int)len / 2, "second pipelined request");
	ok(m.target.p[7] == 'b', "second request's target");
	for (i = 0; i < len / 2; i++)
		if (gp_http_parse_request(two, i, &m, &e) != GP_AGAIN)
			break;
	is_int(i, len / 2, "every prefix of a head needs more bytes");
}

static void
test_malformed(void)
{
	static const struct { const char *in; int status; } bad[] = {
		{ "GARBAGE\r\n\r\n", 400 },
		{ "GET\r\n\r\n", 400 },
		{ "GET /  HTTP/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/2.0\r\n\r\n", 505 },
		{ "GET / FOO/1.1\r\n\r\n", 400 },
		{ "G(T / HTTP/1.1\r\n\r\n", 400 },
		{ "GET /\x01 HTTP/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nContent-Length: 5\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nContent-Length: 5\r\n"
		  "Content-Length: 6\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n", 400 },
		/* RFC 9112 6.1: framing a second parser could read another
		 * way is refused, never forwarded. */
		{ "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
		  400 },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		  400 },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n"
		  "\r\n", 400 },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked ,\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400 },
		/* The fuzzer's over-read: a version token shorter than 5. */
		{ "A B 0\n", 400 },
		{ "A B H\n\n", 400 },
	};
	struct gp_http_msg	m;
	struct gp_http_err	e;
	struct gp_buf		b = { 0 };
	size_t			i;

	for (i = 0; i < GP_ARRAY_LEN(bad); i++) {
		e.status = 0;
		is_int(req(bad[i].in, &m, &e), GP_EPROTO, "malformed #%zu "
		    "rejected", i);
		is_int(e.status, bad[i].status, "malformed #%zu status", i);
	}
	/* NUL inside the head. */
	is_int(gp_http_parse_request("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26,
	    &m, &e), GP_EPROTO, "NUL in a header value");
	/* Same Content-Length twice is tolerated. */
	is_int(req("POST / HTTP/1.1\r\nContent-Length: 3\r\n"
	    "Content-Length: 3\r\n\r\n", &m, &e) > 0, 1,
	    "identical Content-Length repeated");
	/* Size limits. */
	gp_buf_addstr(&b, "GET /");
	for (i = 0; i < GP_HTTP_MAX_LINE; i++)
		gp_buf_add(&b, "a", 1);
	gp_buf_addstr(&b, " HTTP/1.1\r\n\r\n");
	req(b.data, &m, &e);
	is_int(e.status, 414, "long request line: 414");
	gp_buf_reset(&b);
	gp_buf_addstr(&b, "GET / HTTP/1.1\r\n");
	for (i = 0; i <= GP_HTTP_MAX_HEADERS; i++)
		gp_buf_printf(&b, "X-%zu: v\r\n", i);
	gp_buf_addstr(&b, "\r\n");
	is_int(req(b.data, &m, &e), GP_EPROTO, "too many headers");
	is_int(e.status, 431, "too many headers: 431");
	gp_buf_reset(&b);
	gp_buf_addstr(&b, "GET / HTTP/1.1\r\n");
	while (b.len <= GP_HTTP_MAX_HEAD)
		gp_buf_addstr(&b, "X-Big: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
	is_int(req(b.data, &m, &e), GP_EPROTO, "oversized head, unfinished");
	is_int(e.status, 431, "oversized head: 431");
	gp_buf_free(&b);
}

static void
test_response(void)
{
	struct gp_http_msg	m;
	struct gp_http_err	e;
	const char		*r1 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
	const char		*r2 = "HTTP/1.1 204\r\n\r\n";
	const char		*r3 = "HTTP/1.0 200 OK\r\n\r\n";

	is_int(gp_http_parse_response(r1, strlen(r1), &m, &e),
	    (int)strlen(r1), "response head");
	is_int(m.status, 200, "status");
	ok(gp_iov_eq(m.reason, "OK"), "reason");
	is_int(gp_http_parse_response(r2, strlen(r2), &m, &e),
	    (int)strlen(r2), "status without reason");
	is_int(m.status, 204, "204");
	gp_http_parse_response(r3, strlen(r3), &m, &e);
	ok(!m.keep_alive && m.content_length == -1, "1.0 read-until-close");
	is_int(gp_http_parse_response("HTTP/1.1 2x0 OK\r\n\r\n", 19, &m, &e),
	    GP_EPROTO, "bad status code");
	is_int(gp_http_parse_response("ICY 200 OK\r\n\r\n", 14, &m, &e),
	    GP_EPROTO, "not HTTP");
	{
		static const char *bad[] = {
			"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
			"Transfer-Encoding: chunked\r\n\r\n",
			"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
			"\r\n",
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
			"Connection: transfer-encoding\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
			"Connection: close, Content-Length\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
			"Content-Length: 4\r\n\r\n",
		};
		size_t i;

		for (i = 0; i < GP_ARRAY_LEN(bad); i++) {
			e.status = 0;
			is_int(gp_http_parse_response(bad[i], strlen(bad[i]), &m,
			    &e), GP_EPROTO, "ambiguous response #%zu refused", i);
			is_int(e.status, 502, "ambiguous response #%zu: 502", i);
		}
	}
}

/* Heads found incrementally: each byte looked at once, same answers. */
static void
test_scan(void)
{
	struct gp_http_scan	sc;
	struct gp_http_err	e;
	struct gp_buf		b = { 0 };
	const char		*h = "\r\nGET / HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\nBODY";
	size_t			i, hl = strlen(h) - 4;
	int			n = GP_AGAIN;

	memset(&sc, 0, sizeof sc);
	for (i = 1; i <= strlen(h) && n == GP_AGAIN; i++)
		n = gp_http_scan_head(&sc, h, i, 1, &e);
	is_int(n, (int)hl, "trickled head found at its end");
	is_int(i - 1, hl, "found as soon as complete");
	ok(sc.off == hl, "every byte examined once");
	memset(&sc, 0, sizeof sc);
	is_int(gp_http_scan_head(&sc, "GET / HTTP/1.1\nA: b\n\n", 21, 1, &e),
	    21, "bare LF head");
	memset(&sc, 0, sizeof sc);
	is_int(gp_http_scan_head(&sc, "HTTP/1.1 200 OK\r\n\r\n", 19, 0, &e),
	    19, "response head");
	/* The request line limit applies before any LF. */
	memset(&sc, 0, sizeof sc);
	gp_buf_addstr(&b, "GET /");
	for (i = 0; i < GP_HTTP_MAX_LINE; i++)
		gp_buf_add(&b, "a", 1);
	e.status = 0;
	is_int(gp_http_scan_head(&sc, b.data, b.len, 1, &e), GP_EPROTO,
	    "long request line refused while it arrives");
	is_int(e.status, 414, "414");
	/* The head limit. */
	gp_buf_reset(&b);
	memset(&sc, 0, sizeof sc);
	gp_buf_addstr(&b, "GET / HTTP/1.1\r\n");
	while (b.len <= GP_HTTP_MAX_HEAD)
		gp_buf_addstr(&b, "X-Big: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
	e.status = 0;
	is_int(gp_http_scan_head(&sc, b.data, b.len, 1, &e), GP_EPROTO,
	    "oversized head refused while it arrives");
	is_int(e.status, 431, "431");
	gp_buf_free(&b);
}

static void
test_chunked(void)
{
	const char		*body = "4\r\nWiki\r\n5;ext=1\r\npedia\r\n"
	    "0\r\nTrailer: x\r\n\r\nNEXT";
	struct gp_chunked	c;
	ssize_t			n;
	size_t			i, total = 0;
	int			done = 0;

	memset(&c, 0, sizeof c);
	n = gp_chunked_scan(&c, body, strlen(body), &done);
	is_int(n, (long long)strlen(body) - 4, "chunked end found");
	ok(done, "chunked done");
	/* Byte by byte gives the same answer. */
	memset(&c, 0, sizeof c);
	done = 0;
	for (i = 0; i < strlen(body) && !done; i++) {
		n = gp_chunked_scan(&c, body + i, 1, &done);
		if (n < 0)
			break;
		total += (size_t)n;
	}
	is_int(total, strlen(body) - 4, "chunked byte by byte");
	{
		static const char *bad[] = { "x\r\n", "4\r\nWikiX\r\n",
		    "4\nWiki\r\n", "11111111111111111\r\n", "\r\n",
		    /* overflow, whitespace after the size, bad trailers */
		    "1000000000000000\r\n", "00000000000000004\r\n",
		    "4 \r\nWiki\r\n", "4\t\r\nWiki\r\n",
		    "4;a\x01\r\nWiki\r\n",
		    "0\r\nNoColon\r\n\r\n", "0\r\n folded: x\r\n\r\n",
		    "0\r\nBad Name: x\r\n\r\n", "0\r\n: x\r\n\r\n",
		    "0\r\nX: a\x01b\r\n\r\n", "0\r\nX: a\nb\r\n\r\n" };

		for (i = 0; i < GP_ARRAY_LEN(bad); i++) {
			memset(&c, 0, sizeof c);
			is_int(gp_chunked_scan(&c, bad[i], strlen(bad[i]),
			    &done), GP_EPROTO, "bad chunked #%zu", i);
		}
	}
}

static void
test_url_and_forward(void)
{
	struct gp_url		u;
	struct gp_iov		t;
	struct gp_http_msg	m;
	struct gp_http_err	e;
	struct gp_buf		b = { 0 };
	const char		*why;
	char			host[256];
	unsigned		port;
	const char		*in = "GET http://user:pw@Example.COM:8080/p?q=1#frag "
	    "HTTP/1.1\r\nHost: evil.test\r\nConnection: keep-alive, X-Hop\r\n"
	    "X-Hop: 1\r\nProxy-Authorization: Basic dXNlcjpwdw==\r\n"
	    "Keep-Alive: 300\r\nTE: trailers\r\nAccept: */*\r\n\r\n";

	t.p = "http://[::1]:81";
	t.n = strlen(t.p);
	is_int(gp_url_parse_absolute(t, &u, &why), 0, "IPv6 URL");
	is_str(u.host, "::1", "IPv6 host");
	is_int(u.port, 81, "port");
	ok(u.path.n == 1 && u.path.p[0] == '/', "empty path is /");
	t.p = "ftp://a/";
	t.n = 8;
	is_int(gp_url_parse_absolute(t, &u, &why), -1, "ftp refused");
	t.p = "/relative";
	t.n = 9;
	is_int(gp_url_parse_absolute(t, &u, &why), -1, "origin-form refused");
	t.p = "http://a:99999/";
	t.n = strlen(t.p);
	is_int(gp_url_parse_absolute(t, &u, &why), -1, "bad port refused");
	t.p = "Example.com:443";
	t.n = strlen(t.p);
	is_int(gp_url_parse_authority(t, host, sizeof host, &port, &why), 0,
	    "authority");
	ok(strcmp(host, "example.com") == 0 && port == 443, "authority parts");
	t.p = "[2001:db8::1]:8443";
	t.n = strlen(t.p);
	is_int(gp_url_parse_authority(t, host, sizeof host, &port, &why), 0,
	    "IPv6 authority");
	t.p = "example.com";
	t.n = strlen(t.p);
	is_int(gp_url_parse_authority(t, host, sizeof host, &port, &why), -1,
	    "authority needs a port");

	is_int(req(in, &m, &e) > 0, 1, "forwarding input parses");
	t = m.target;
	is_int(gp_url_parse_absolute(t, &u, &why), 0, "URL with userinfo");
	is_str(u.host, "example.com", "userinfo dropped, host lowered");
	gp_http_build_request(&b, &m, &u, 0, 0);
	ok(strncmp(b.data, "GET /p?q=1 HTTP/1.1\r\nHost: example.com:8080\r\n",
	    45) == 0, "origin-form and Host from the URL");
	ok(strstr(b.data, "evil.test") == NULL, "client Host replaced");
	ok(strstr(b.data, "X-Hop") == NULL, "Connection-named header removed");
	gp_buf_reset(&b);
	{
		const char *cl = "POST http://a/ HTTP/1.1\r\nHost: a\r\n"
		    "Content-Length: 4\r\nConnection: Content-Length, Host, "
		    "Transfer-Encoding\r\n\r\n";

		is_int(req(cl, &m, &e) > 0, 1, "Connection naming framing");
		is_int(gp_url_parse_absolute(m.target, &u, &why), 0, "its URL");
		gp_http_build_request(&b, &m, &u, 0, 0);
		ok(strstr(b.data, "Content-Length: 4\r\n") != NULL,
		    "Connection: Content-Length is ignored, the framing kept");
		gp_buf_reset(&b);
		/* ten Connection fields: the tenth one's tokens count too */
		cl = "GET http://a/ HTTP/1.1\r\nHost: a\r\n"
		    "Connection: a\r\nConnection: b\r\nConnection: c\r\n"
		    "Connection: d\r\nConnection: e\r\nConnection: f\r\n"
		    "Connection: g\r\nConnection: h\r\nConnection: i\r\n"
		    "Connection: X-Ninth, X-Also\r\nX-Ninth: 1\r\n"
		    "X-Kept: 1\r\nX-Also: 2\r\nC: 3\r\nZ: 4\r\n\r\n";
		is_int(req(cl, &m, &e) > 0, 1, "ten Connection fields");
		is_int(gp_url_parse_absolute(m.target, &u, &why), 0, "its URL");
		gp_buf_reset(&b);
		gp_http_build_request(&b, &m, &u, 0, 0);
		ok(strstr(b.data, "X-Ninth") == NULL &&
		    strstr(b.data, "X-Also") == NULL,
		    "fields the tenth Connection names are removed");
		ok(strstr(b.data, "X-Kept: 1\r\n") != NULL &&
		    strstr(b.data, "\r\nZ: 4\r\n") != NULL &&
		    strstr(b.data, "\r\nC: 3") == NULL,
		    "the others kept (C, named by one of the nine, not)");
		ok(gp_http_is_hop(&m, m.h[11].name) &&
		    !gp_http_is_hop(&m, m.h[12].name),
		    "gp_http_is_hop agrees");
		gp_buf_reset(&b);
		/* heads built without printf: versions, ports, statuses */
		cl = "GET http://[::1]:81/x HTTP/1.0\r\nVia: 1.1 a\r\n\r\n";
		is_int(req(cl, &m, &e) > 0, 1, "an HTTP/1.0 request");
		is_int(gp_url_parse_absolute(m.target, &u, &why), 0, "its URL");
		gp_http_build_request(&b, &m, &u, 0, 0);
		is_str(b.data, "GET /x HTTP/1.0\r\nHost: [::1]:81\r\n"
		    "Via: 1.1 a, 1.0 greyproxy\r\n"
		    "Connection: keep-alive\r\n\r\n", "its head upstream");
		gp_buf_reset(&b);
		cl = "HTTP/1.0 204 No Content\r\nX: 1\r\n\r\n";
		is_int(gp_http_parse_response(cl, strlen(cl), &m, &e) > 0, 1,
		    "an HTTP/1.0 response");
		gp_http_build_response(&b, &m, 1, 0);
		is_str(b.data, "HTTP/1.0 204 No Content\r\nX: 1\r\n"
		    "Via: 1.0 greyproxy\r\nConnection: close\r\n\r\n",
		    "its head to the client");
		gp_buf_reset(&b);
		m.status = 7;	/* never parsed: still three digits */
		gp_http_build_response(&b, &m, 0, 0);
		ok(strncmp(b.data, "HTTP/1.0 007 No Content\r\n", 25) == 0,
		    "a status is three digits");
		gp_buf_reset(&b);
		is_int(req(in, &m, &e) > 0, 1, "forwarding input again");
		is_int(gp_url_parse_absolute(m.target, &u, &why), 0, "its URL");
		gp_http_build_request(&b, &m, &u, 0, 0);
	}
	ok(strstr(b.data, "Proxy-Authorization") == NULL &&
	    strstr(b.data, "Keep-Alive") == NULL && strstr(b.data, "TE:") ==
	    NULL, "hop-by-hop headers removed");
	ok(strstr(b.data, "Accept: */*\r\n") != NULL, "end-to-end kept");
	ok(strstr(b.data, "Via: 1.1 greyproxy\r\n") != NULL, "Via added");
	ok(strstr(b.data, "#frag") == NULL, "fragment not sent");
	{
		const struct gp_http_header *pa =
		    gp_http_find(&m, "proxy-authorization");
		char user[64];

		is_int(gp_http_basic_user(pa->value, user, sizeof user), 0,
		    "basic credentials decode");
		is_str(user, "user", "basic user");
	}
	/* Beyond a tunnel there may be a proxy: its authorization stays. */
	gp_buf_reset(&b);
	gp_http_build_request(&b, &m, &u, 0, GP_KEEP_PROXY_AUTH);
	ok(strstr(b.data, "\r\nProxy-Authorization: Basic ") != NULL &&
	    strstr(b.data, "Keep-Alive") == NULL,
	    "GP_KEEP_PROXY_AUTH keeps Proxy-Authorization, not the rest");
	{
		const char *r = "HTTP/1.1 407 Auth\r\nProxy-Authenticate: "
		    "Basic realm=x\r\nContent-Length: 0\r\n\r\n";
		struct gp_http_msg	rm;

		is_int(gp_http_parse_response(r, strlen(r), &rm, &e) > 0, 1,
		    "a 407");
		gp_buf_reset(&b);
		gp_http_build_response(&b, &rm, 0, 0);
		ok(strstr(b.data, "Proxy-Authenticate") == NULL,
		    "its challenge is hop-by-hop");
		gp_buf_reset(&b);
		gp_http_build_response(&b, &rm, 0, GP_KEEP_PROXY_AUTH);
		ok(strstr(b.data, "\r\nProxy-Authenticate: Basic realm=x\r\n")
		    != NULL, "kept with GP_KEEP_PROXY_AUTH");
	}
	gp_buf_free(&b);
}

static void
test_redact(void)
{
	static const struct { const char *in, *out; } v[] = {
		{ "http://user:pw@example.com/p?q=1", "http://example.com/p?q=1" },
		{ "http://user@example.com:8080/", "http://example.com:8080/" },
		{ "http://a@b@example.com/x@y", "http://example.com/x@y" },
		{ "http://example.com/path@not-userinfo", "http://example.com/path@not-userinfo" },
		{ "user:pw@example.com:443", "example.com:443" },
		{ "example.com:443", "example.com:443" },
		{ "http://example.com", "http://example.com" },
		{ "/origin?x=a@b", "/origin?x=a@b" },
	};
	char	out[128];
	size_t	i;

	for (i = 0; i < GP_ARRAY_LEN(v); i++) {
		struct gp_iov t = { v[i].in, strlen(v[i].in) };

		gp_url_redact(t, out, sizeof out);
		ok(strcmp(out, v[i].out) == 0, "redact %s: %s", v[i].in, out);
	}
	{
		struct gp_iov t = { "http://u:p@h/long", 17 };

		is_int(gp_url_redact(t, out, 5), 4, "truncated to the buffer");
	}
}

/* A filter typed in the TUI, as a query value. */
static void
test_escape(void)
{
	char	out[32];

	is_int(gp_url_escape("api-2.example_x~", out, sizeof out), 0,
	    "escape: unreserved fits");
	is_str(out, "api-2.example_x~", "unreserved left as is");
	gp_url_escape("a b&c=d%/#+?", out, sizeof out);
	is_str(out, "a%20b%26c%3Dd%25%2F%23%2B%3F", "reserved and space "
	    "escaped");
	gp_url_escape("h\xc3\xa9\x01", out, sizeof out);
	is_str(out, "h%C3%A9%01", "bytes beyond ASCII and controls escaped");
	is_int(gp_url_escape("abc", out, 4), 0, "exactly fits");
	is_int(gp_url_escape("abcd", out, 4), -1, "one too many: -1");
	is_str(out, "", "and nothing half-written");
	is_int(gp_url_escape("a&", out, 4), -1, "an escape that does not "
	    "fit: -1");
	is_int(gp_url_escape("", out, 1), 0, "empty");
}

/* The first bytes of a tunnel: HTTP/1.x, something else, or more. */
static void
test_sniff(void)
{
	static const struct { const char *in; int want; } v[] = {
		{ "GET / HTTP/1.1\r\n", GP_HSNIFF_HTTP },
		{ "POST /v1/chat/completions?x=1 HTTP/1.0\n", GP_HSNIFF_HTTP },
		{ "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", GP_HSNIFF_HTTP },
		{ "M-SEARCH_X /a", GP_HSNIFF_HTTP },
		{ "GET /", GP_HSNIFF_HTTP },
		/* what a lenient origin takes is read (and judged) too */
		{ "POST   /v1/files HTTP/1.1\r\n", GP_HSNIFF_HTTP },
		{ "GET /secret\r\n", GP_HSNIFF_HTTP },
		{ "GET http://h/ HTTP/1.1\r\n", GP_HSNIFF_HTTP },
		{ "POST HTTPS://h/x HTTP/1.1\r\n", GP_HSNIFF_HTTP },
		{ "", GP_HSNIFF_MORE },
		{ "GE", GP_HSNIFF_MORE },
		{ "GET ", GP_HSNIFF_MORE },
		{ "GET    ", GP_HSNIFF_MORE },
		{ "GET h", GP_HSNIFF_MORE },
		{ "GET https:/", GP_HSNIFF_MORE },
		{ "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", GP_HSNIFF_OTHER },
		{ "DESCRIBE rtsp://h/x RTSP/1.0\r\n", GP_HSNIFF_OTHER },
		{ "SET k v\r\n", GP_HSNIFF_OTHER },
		{ "GET httpx://h/", GP_HSNIFF_OTHER },
		{ "GET http:/\\h", GP_HSNIFF_OTHER },
		{ "get / HTTP/1.1\r\n", GP_HSNIFF_OTHER },
		{ "GET\t/ HTTP/1.1\r\n", GP_HSNIFF_OTHER },
		{ " GET / HTTP/1.1\r\n", GP_HSNIFF_OTHER },
		{ "SSH-2.0-OpenSSH_9.2\r\n", GP_HSNIFF_OTHER },
		{ "\x16\x03\x01", GP_HSNIFF_OTHER },
		{ "ABCDEFGHIJKLMNOPQRSTU / HTTP/1.1\r\n", GP_HSNIFF_OTHER },
		{ "ABCDEFGHIJKLMNOPQRST / HTTP/1.1\r\n", GP_HSNIFF_HTTP },
	};
	char	*big;
	size_t	 i;

	for (i = 0; i < GP_ARRAY_LEN(v); i++) {
		char	what[24];
		size_t	k;

		/* (the description stays on one line) */
		for (k = 0; k + 1 < sizeof what && v[i].in[k] != '\0'; k++)
			what[k] = v[i].in[k] >= ' ' && v[i].in[k] < 0x7f ?
			    v[i].in[k] : '.';
		what[k] = '\0';
		ok((int)gp_http_sniff(v[i].in, strlen(v[i].in)) == v[i].want,
		    "sniff %zu: \"%s\"", i, what);
	}
	/* Spaces that never end are not waited for past the line limit. */
	big = gp_xmalloc(GP_HTTP_MAX_LINE + 16);
	memcpy(big, "GET ", 4);
	memset(big + 4, ' ', GP_HTTP_MAX_LINE + 12);
	is_int(gp_http_sniff(big, GP_HTTP_MAX_LINE - 1), GP_HSNIFF_MORE,
	    "spaces: more, under the line limit");
	is_int(gp_http_sniff(big, GP_HTTP_MAX_LINE + 16), GP_HSNIFF_OTHER,
	    "past it: not HTTP");
	free(big);
}

/* A Host header's host[:port]. */
static void
test_host_header(void)
{
	struct gp_url	u;
	const char	*why;

#define HOST(s)	gp_url_parse_host((struct gp_iov){ s, strlen(s) }, &u, &why)
	memset(&u, 0, sizeof u);
	is_int(HOST("Example.COM"), 0, "a name");
	ok(strcmp(u.host, "example.com") == 0 && u.port == 80,
	    "normalized, port 80 (%s:%u)", u.host, u.port);
	is_int(HOST("vhost.example:8080"), 0, "a name and a port");
	is_int((int)u.port, 8080, "the port");
	is_int(HOST("[::1]:81"), 0, "an IPv6 literal");
	ok(strcmp(u.host, "::1") == 0 && u.port == 81, "host ::1 port 81");
	ok(HOST("a/b") != 0, "a slash: refused");
	ok(HOST("u@h") != 0, "userinfo: refused");
	ok(HOST("h:0") != 0, "port 0: refused");
	ok(HOST("h:99999") != 0, "a port past 65535: refused");
	ok(HOST("") != 0, "empty: refused");
	ok(HOST("a b") != 0, "a space: refused");
#undef HOST
}

int
main(void)
{
	test_escape();
	test_sniff();
	test_host_header();
	test_redact();
	test_valid();
	test_pipelined_and_partial();
	test_malformed();
	test_response();
	test_scan();
	test_chunked();
	test_url_and_forward();
	return tap_done();
}
