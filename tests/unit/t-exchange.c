/*
 * t-exchange.c: a loop test of the HTTP exchange and its filters.  The
 * proxy (one allow rule, no store) and a scripted origin run on a loop
 * in a second thread; plain blocking sockets play the client.  A test
 * filter records what it is shown:
 *  - a GET: the request head, the response head, the body bytes, an end
 *    marked complete, and timestamps in order;
 *  - a POST: its body bytes as relayed;
 *  - a request the filter refuses: 403 with its X-Proxy-Error token,
 *    and the origin never sees it;
 *  - a chunked response whose pieces come one read at a time (they go on
 *    as read), the last with bytes after the body's end: the body whole,
 *    the extra bytes never forwarded;
 *  - a client hanging up mid-response: the transaction still ends,
 *    marked incomplete;
 * then everything closes and uv_loop_close() == 0.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <uv.h>

#include "core/core.h"
#include "proxy/proxy.h"
#include "rules/rules.h"
#include "../lib/tap.h"

static uv_loop_t	 loop;
static uv_tcp_t		 plisten, olisten;
static uv_async_t	 stop;
static struct gp_proxy	 px;
static int		 pport, oport;
static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cv = PTHREAD_COND_INITIALIZER;

/* What the filter saw, per transaction id (the tests run one at a time). */
static struct seen {
	char		method[16], target[128], host[64], body[64];
	unsigned	port;
	int		heads, resp_heads, ends, status, complete;
	uint64_t	req_body, resp_body, t_start, t_sent, t_first, t_end;
} seen;
static struct gp_buf	 origin_got;	/* every byte the origin read */

/* The filter. */

static enum gp_reason
f_request(void *arg, struct gp_txn *t, const char **why)
{
	pthread_mutex_lock(&mu);
	seen.heads++;
	snprintf(seen.method, sizeof seen.method, "%s", t->method);
	snprintf(seen.target, sizeof seen.target, "%s", t->target);
	snprintf(seen.host, sizeof seen.host, "%s", t->host);
	seen.port = t->port;
	pthread_mutex_unlock(&mu);
	if (strstr(t->target, "/forbidden") != NULL) {
		*why = "greyproxy: refused by the test filter";
		return GP_R_REQUEST_RULE;
	}
	return GP_R_NONE;
}

static void
f_response(void *arg, struct gp_txn *t)
{
	pthread_mutex_lock(&mu);
	seen.resp_heads++;
	seen.status = t->status;
	pthread_mutex_unlock(&mu);
}

static void
f_body(void *arg, struct gp_txn *t, enum gp_txn_dir dir, const char *p,
    size_t n)
{
	size_t have;

	pthread_mutex_lock(&mu);
	if (dir == GP_TXN_REQUEST) {
		have = strlen(seen.body);
		snprintf(seen.body + have, sizeof seen.body - have, "%.*s",
		    (int)n, p);
	}
	pthread_mutex_unlock(&mu);
}

static void
f_end(void *arg, struct gp_txn *t)
{
	pthread_mutex_lock(&mu);
	seen.ends++;
	seen.complete = t->complete;
	seen.status = t->status;
	seen.req_body = t->req_body;
	seen.resp_body = t->resp_body;
	seen.t_start = t->t_start;
	seen.t_sent = t->t_sent;
	seen.t_first = t->t_first;
	seen.t_end = t->t_end;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static const struct gp_http_filter_ops test_filter = {
	.name = "test",
	.request_head = f_request,
	.response_head = f_response,
	.body = f_body,
	.end = f_end,
};

/* The origin: answers per path once a head (and a short body) is in. */

struct oconn {
	uv_tcp_t	 tcp;
	struct gp_buf	 in;
	int		 answered;
	struct oconn	*next, **prevp;		/* open ones, for the stop */
};
static struct oconn	*oconns, *partial, *chunky;
static uv_async_t	 more, piece;
static int		 pieces;
static uv_timer_t	 more_timer;

static void
o_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	static char buf[65536];

	b->base = buf;
	b->len = sizeof buf;
}

static void
o_closed(uv_handle_t *h)
{
	struct oconn *c = h->data;

	if ((*c->prevp = c->next) != NULL)
		c->next->prevp = c->prevp;
	if (c == partial) {
		partial = NULL;
		uv_timer_stop(&more_timer);
	}
	gp_buf_free(&c->in);
	free(c);
}

static void
o_write(struct oconn *c, const char *s)
{
	uv_buf_t b = uv_buf_init((char *)s, (unsigned)strlen(s));

	uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
}

static void
o_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct oconn	*c = s->data;
	char		*end;

	if (n < 0) {
		uv_close((uv_handle_t *)s, o_closed);
		return;
	}
	gp_buf_add(&c->in, b->base, (size_t)n);
	pthread_mutex_lock(&mu);
	gp_buf_add(&origin_got, b->base, (size_t)n);
	pthread_mutex_unlock(&mu);
	gp_buf_add(&c->in, "", 1);
	c->in.len--;
	if (c->answered || (end = strstr(c->in.data, "\r\n\r\n")) == NULL)
		return;
	if (strncmp(c->in.data, "POST", 4) == 0 &&
	    c->in.len < (size_t)(end + 4 - c->in.data) + 11)
		return;		/* the 11-byte body is not all in */
	c->answered = 1;
	if (strstr(c->in.data, " /chunks") != NULL) {
		o_write(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
		    "\r\n\r\n");
		chunky = c;
		return;		/* the pieces come on request (on_piece) */
	}
	if (strstr(c->in.data, " /partial") != NULL) {
		o_write(c, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
		    "only the start");
		partial = c;
	}
	else
		o_write(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
	if (strstr(c->in.data, " /partial") == NULL) {
		c->answered = 0;	/* keep-alive: the next request */
		gp_buf_reset(&c->in);
	}
}

static void
o_accept(uv_stream_t *srv, int status)
{
	struct oconn *c = gp_xcalloc(1, sizeof *c);

	uv_tcp_init(&loop, &c->tcp);
	c->tcp.data = c;
	if ((c->next = oconns) != NULL)
		oconns->prevp = &c->next;
	oconns = c;
	c->prevp = &oconns;
	if (uv_accept(srv, (uv_stream_t *)&c->tcp) != 0) {
		uv_close((uv_handle_t *)&c->tcp, o_closed);
		return;
	}
	uv_read_start((uv_stream_t *)&c->tcp, o_alloc, o_read);
}

/* The rest of the partial body, bit by bit, as a streaming origin
 * would: the proxy notices the client is gone when it writes. */
static void
on_more_timer(uv_timer_t *t)
{
	if (partial != NULL)
		o_write(partial, "0123456789");
}

static void
on_more(uv_async_t *a)
{
	uv_timer_start(&more_timer, on_more_timer, 0, 20);
}

/* The next piece of /chunks, once the client has read the last one. */
static void
on_piece(uv_async_t *a)
{
	if (chunky == NULL)
		return;
	if (pieces++ == 0)
		o_write(chunky, "5\r\nhello\r\n");
	else
		o_write(chunky, "3\r\nend\r\n0\r\n\r\nXYZ");
}

static void
on_stop(uv_async_t *a)
{
	struct oconn *c;

	gp_proxy_shutdown(&px);
	for (c = oconns; c != NULL; c = c->next)
		if (!uv_is_closing((uv_handle_t *)&c->tcp))
			uv_close((uv_handle_t *)&c->tcp, o_closed);
	uv_close((uv_handle_t *)&plisten, NULL);
	uv_close((uv_handle_t *)&olisten, NULL);
	uv_close((uv_handle_t *)&stop, NULL);
	uv_close((uv_handle_t *)&more, NULL);
	uv_close((uv_handle_t *)&piece, NULL);
	uv_close((uv_handle_t *)&more_timer, NULL);
}

static void *
loop_thread(void *arg)
{
	uv_run(&loop, UV_RUN_DEFAULT);
	gp_block_pool_drain();		/* the pool is per thread */
	return NULL;
}

static int
listen_on(uv_tcp_t *t, uv_connection_cb cb)
{
	struct sockaddr_in	sin;
	struct sockaddr_storage	ss;
	int			len = sizeof ss;

	uv_ip4_addr("127.0.0.1", 0, &sin);
	uv_tcp_init(&loop, t);
	uv_tcp_bind(t, (struct sockaddr *)&sin, 0);
	uv_listen((uv_stream_t *)t, 16, cb);
	uv_tcp_getsockname(t, (struct sockaddr *)&ss, &len);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* The client side. */

static int
dial_proxy(void)
{
	struct sockaddr_in	sin;
	struct timeval		tv = { 10, 0 };
	int			fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)pport);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads until want appears (or EOF/timeout); returns what came. */
static void
read_until(int fd, const char *want, char *out, size_t outlen)
{
	size_t	len = 0;
	ssize_t	n;

	out[0] = '\0';
	while (len + 1 < outlen && strstr(out, want) == NULL) {
		n = recv(fd, out + len, outlen - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		out[len] = '\0';
	}
}

static void
send_str(int fd, const char *s)
{
	(void)!send(fd, s, strlen(s), MSG_NOSIGNAL);
}

/* Waits until the filter has seen `ends` ends. */
static int
wait_ends(int ends)
{
	struct timespec	ts;
	int		ok = 1;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&mu);
	while (seen.ends < ends && ok)
		ok = pthread_cond_timedwait(&cv, &mu, &ts) == 0;
	ok = seen.ends >= ends;
	pthread_mutex_unlock(&mu);
	return ok;
}

int
main(void)
{
	struct gp_rule		 r;
	struct gp_ruleset	*set;
	const char		*why;
	pthread_t		 th;
	char			 req[512], got[4096];
	int			 fd, n;

	signal(SIGPIPE, SIG_IGN);	/* as greyproxy itself */
	memset(&r, 0, sizeof r);
	r.id = 1;
	r.action = GP_ALLOW;
	r.container = gp_xstrdup("*");
	r.dest = gp_xstrdup("127.0.0.1");
	r.ports = gp_xstrdup("*");
	r.layer = GP_LAYER_GLOBAL;
	ok(gp_rule_prepare(&r, &why) == 0, "an allow rule for 127.0.0.1");
	set = gp_rules_compile(&r, 1, NULL);
	gp_rule_clear(&r);

	uv_loop_init(&loop);
	gp_proxy_init(&px, &loop, NULL, NULL, NULL, NULL, NULL);
	px.rules = set;
	ok(gp_proxy_add_filter(&px, &test_filter, NULL) == 0, "filter added");
	pport = listen_on(&plisten, gp_proxy_accept_http);
	plisten.data = &px;
	oport = listen_on(&olisten, o_accept);
	uv_async_init(&loop, &stop, on_stop);
	uv_async_init(&loop, &more, on_more);
	uv_async_init(&loop, &piece, on_piece);
	uv_timer_init(&loop, &more_timer);
	pthread_create(&th, NULL, loop_thread, NULL);

	/* A GET on a kept-alive connection. */
	fd = dial_proxy();
	ok(fd >= 0, "client connected to the proxy");
	snprintf(req, sizeof req, "GET http://127.0.0.1:%d/ok HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\nAuthorization: Bearer x\r\n\r\n", oport,
	    oport);
	send_str(fd, req);
	read_until(fd, "hello", got, sizeof got);
	ok(strstr(got, "200 OK") != NULL && strstr(got, "hello") != NULL,
	    "GET: the origin's answer");
	ok(wait_ends(1), "GET: the transaction ended");
	pthread_mutex_lock(&mu);
	is_str(seen.method, "GET", "GET: the filter saw the method");
	snprintf(req, sizeof req, "http://127.0.0.1:%d/ok", oport);
	is_str(seen.target, req, "GET: the target as the client sent it");
	is_str(seen.host, "127.0.0.1", "GET: the destination host");
	is_int(seen.port, oport, "GET: the destination port");
	is_int(seen.status, 200, "GET: the response status");
	is_int(seen.resp_heads, 1, "GET: one response head");
	is_int(seen.resp_body, 5, "GET: the response body's bytes");
	is_int(seen.complete, 1, "GET: complete");
	ok(seen.t_start > 0 && seen.t_start <= seen.t_sent &&
	    seen.t_sent <= seen.t_first && seen.t_first <= seen.t_end,
	    "GET: start <= sent <= first byte <= end");
	pthread_mutex_unlock(&mu);

	/* A POST on the same connection: the body as relayed. */
	snprintf(req, sizeof req, "POST http://127.0.0.1:%d/echo HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\nContent-Length: 11\r\n\r\nhello world",
	    oport, oport);
	send_str(fd, req);
	read_until(fd, "hello", got, sizeof got);
	ok(wait_ends(2), "POST: the transaction ended");
	pthread_mutex_lock(&mu);
	is_str(seen.body, "hello world", "POST: the filter saw the body");
	is_int(seen.req_body, 11, "POST: its bytes counted");
	is_int(seen.heads, 2, "one request head per transaction");
	pthread_mutex_unlock(&mu);

	/* Refused by the filter: answered by the proxy, never sent. */
	snprintf(req, sizeof req, "GET http://127.0.0.1:%d/forbidden "
	    "HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", oport, oport);
	send_str(fd, req);
	read_until(fd, "\r\n\r\n", got, sizeof got);
	ok(strncmp(got, "HTTP/1.1 403", 12) == 0, "refused: 403");
	ok(strstr(got, "X-Proxy-Error: blocked-by-request-rule") != NULL,
	    "refused: with the filter's X-Proxy-Error token");
	ok(wait_ends(3), "refused: the transaction ended");
	pthread_mutex_lock(&mu);
	gp_buf_add(&origin_got, "", 1);
	origin_got.len--;
	ok(strstr(origin_got.data, "/forbidden") == NULL,
	    "refused: the origin never saw it");
	pthread_mutex_unlock(&mu);
	is_int(px.stats.blocked, 1, "refused: counted blocked");
	close(fd);

	/* A chunked body a piece at a time, then bytes past its end. */
	fd = dial_proxy();
	snprintf(req, sizeof req, "GET http://127.0.0.1:%d/chunks HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\n\r\n", oport, oport);
	send_str(fd, req);
	read_until(fd, "\r\n\r\n", got, sizeof got);
	ok(strstr(got, "Transfer-Encoding: chunked") != NULL,
	    "chunks: the head came alone");
	uv_async_send(&piece);
	read_until(fd, "hello\r\n", got, sizeof got);
	is_str(got, "5\r\nhello\r\n", "chunks: the first piece");
	uv_async_send(&piece);
	read_until(fd, "0\r\n\r\n", got, sizeof got);
	is_str(got, "3\r\nend\r\n0\r\n\r\n", "chunks: the last piece, "
	    "without what followed the body");
	ok(wait_ends(4), "chunks: the transaction ended");
	pthread_mutex_lock(&mu);
	is_int(seen.complete, 1, "chunks: complete");
	is_int(seen.resp_body, 23, "chunks: every body byte shown, no more");
	pthread_mutex_unlock(&mu);
	close(fd);

	/* The client hangs up mid-response: the transaction still ends. */
	fd = dial_proxy();
	snprintf(req, sizeof req, "GET http://127.0.0.1:%d/partial HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\n\r\n", oport, oport);
	send_str(fd, req);
	read_until(fd, "only the start", got, sizeof got);
	ok(strstr(got, "only the start") != NULL, "partial: the start came");
	close(fd);
	uv_async_send(&more);
	ok(wait_ends(5), "partial: the transaction ended when the client left");
	pthread_mutex_lock(&mu);
	is_int(seen.complete, 0, "partial: marked incomplete");
	is_int(seen.status, 200, "partial: with the status it had");
	n = (int)seen.resp_body;
	pthread_mutex_unlock(&mu);
	ok(n >= 14 && n < 100000, "partial: the body bytes relayed before it "
	    "ended (%d)", n);

	uv_async_send(&stop);
	pthread_join(th, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	is_int(uv_loop_close(&loop), 0, "no handle left open");
	gp_rules_free(set);
	gp_buf_free(&origin_got);
	return tap_done();
}
