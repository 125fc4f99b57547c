/*
 * exchange.c: HTTP/1.1 exchanges between the two sides of a flow (see
 * flow.h): heads parsed and rebuilt, bodies streamed as they arrive
 * with their framing checked (Content-Length, chunked, until close),
 * keep-alive on both sides, 1xx forwarded, 101 handed to the tunnel,
 * and a request the origin dropped on a stale keep-alive connection
 * sent once more.  Each request/response pair is a struct gp_txn that
 * the proxy's filters see: head, body bytes as relayed, end.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "proxy/flow.h"

enum rstate { R_HEAD, R_WAIT, R_BODY, R_DONE };
enum pstate { P_IDLE, P_HEAD, P_BODY, P_DONE };
enum body { B_NONE, B_LENGTH, B_CHUNKED, B_CLOSE };

static void	client_data(struct gp_flow *);
static void	up_data(struct gp_flow *);

void
gp_exchange_init(struct gp_exchange *x, const struct gp_exchange_ops *ops)
{
	memset(x, 0, sizeof *x);
	x->ops = ops;
}

void
gp_exchange_free(struct gp_exchange *x)
{
	gp_exchange_head_reset(x, 1);
	gp_txn_free(x->txn);
	x->txn = NULL;
}

/* Transactions and filters. */

static uint64_t
now_us(void)
{
	return uv_hrtime() / 1000;
}

void
gp_exchange_begin(struct gp_flow *f, const struct gp_http_msg *m)
{
	struct gp_exchange	*x = f->proto;
	struct gp_txn		*t;

	gp_txn_free(x->txn);
	t = x->txn = gp_txn_new(++f->px->txn_seq);
	t->t_start = now_us();
	t->identity = gp_arena_strndup(&t->arena, f->identity,
	    strlen(f->identity));
	t->client_addr = gp_arena_strndup(&t->arena, f->client_addr,
	    strlen(f->client_addr));
	gp_txn_set_request(t, m);
}

static void
txn_body(struct gp_flow *f, enum gp_txn_dir dir, const char *p, size_t n)
{
	struct gp_exchange	*x = f->proto;
	struct gp_txn		*t = x->txn;
	size_t			 i;

	if (t == NULL || n == 0)
		return;
	if (dir == GP_TXN_REQUEST)
		t->req_body += n;
	else
		t->resp_body += n;
	for (i = 0; i < f->px->nfilters; i++)
		if (f->px->filters[i].ops->body != NULL)
			f->px->filters[i].ops->body(f->px->filters[i].arg, t,
			    dir, p, n);
}

/* The transaction's last word to the filters, then it is freed. */
static void
txn_end(struct gp_flow *f, int complete)
{
	struct gp_exchange	*x = f->proto;
	struct gp_txn		*t = x->txn;
	size_t			 i;

	if (t == NULL)
		return;
	x->txn = NULL;
	t->complete = complete != 0;
	t->t_end = now_us();
	for (i = 0; i < f->px->nfilters; i++)
		if (f->px->filters[i].ops->end != NULL)
			f->px->filters[i].ops->end(f->px->filters[i].arg, t);
	gp_txn_free(t);
}

int
gp_proxy_add_filter(struct gp_proxy *px, const struct gp_http_filter_ops *ops,
    void *arg)
{
	if (px->nfilters == GP_PROXY_FILTERS)
		return -ENOSPC;
	px->filters[px->nfilters].ops = ops;
	px->filters[px->nfilters].arg = arg;
	px->nfilters++;
	return 0;
}

/* Answers. */

void
gp_exchange_error(struct gp_flow *f, int status, const char *token,
    const char *line, int close)
{
	struct gp_buf	b = { 0 };

	gp_http_build_error(&b, status, token, line, close);
	gp_flow_write(&f->c, b.data, b.len);
	gp_buf_free(&b);
	if (close)
		gp_flow_finish(f);
}

void
gp_exchange_refuse(struct gp_flow *f, int status, const char *token,
    const char *line)
{
	struct gp_exchange *x = f->proto;

	if (x->txn != NULL) {
		x->txn->refused = 1;
		x->txn->status = status;
		txn_end(f, 1);
	}
	if (!f->intercepted)
		gp_flow_log(f);
	/*
	 * The connection persists only when no request body is left
	 * unread: otherwise its bytes would be taken for the next request.
	 */
	if (x->connect || x->req_body != B_NONE || !x->client_keep) {
		gp_exchange_error(f, status, token, line, 1);
		return;
	}
	gp_exchange_error(f, status, token, line, 0);
	x->r = R_HEAD;
	x->p = P_IDLE;
	gp_flow_set_deadline(f, f->px->opts.header_timeout_ms);
	client_data(f);		/* no-op when called from inside it */
}

void
gp_exchange_timeout(struct gp_flow *f)
{
	struct gp_exchange *x = f->proto;

	if (x->r == R_HEAD && x->p == P_IDLE && !f->tunnel &&
	    f->c.in.len > 0)
		gp_exchange_error(f, 408, "request-timeout",
		    "greyproxy: request header timeout", 1);
	else if (x->p == P_HEAD && !x->got_resp && !f->tunnel)
		gp_exchange_error(f, 504,
		    gp_reason_token(GP_R_UPSTREAM_TIMEOUT),
		    "greyproxy: upstream did not answer in time", 1);
	else
		gp_flow_close(f);
}

void
gp_exchange_closing(struct gp_flow *f)
{
	txn_end(f, 0);		/* one in flight did not finish */
}

void
gp_exchange_data(struct gp_flow *f, struct gp_side *s)
{
	if (f->finishing)
		return;
	if (s == &f->c)
		client_data(f);
	else
		up_data(f);
}

/* Requests. */

/* Parses the next request head from the client buffer and hands it to
 * the front end. */
static void
start_request(struct gp_flow *f)
{
	struct gp_exchange	*x = f->proto;
	struct gp_http_msg	 m;
	struct gp_http_err	 err = { 0, NULL };
	char			 target[257];
	int			 n;

	n = gp_http_scan_head(&x->req_scan, f->c.in.data, f->c.in.len, 1,
	    &err);
	if (n == GP_AGAIN)
		return;
	memset(&x->req_scan, 0, sizeof x->req_scan);
	if (n > 0)
		n = gp_http_parse_request(f->c.in.data, (size_t)n, &m, &err);
	if (n < 0) {
		gp_log(GP_LOG_WARN, "http %s: %d %s", f->client_addr,
		    err.status, err.why);
		gp_exchange_error(f, err.status, err.status == 431 ?
		    gp_reason_token(GP_R_HEADER_TOO_LARGE) :
		    gp_reason_token(GP_R_BAD_REQUEST), err.why, 1);
		return;
	}
	x->connect = gp_iov_eq(m.method, "CONNECT");
	x->client_keep = m.keep_alive;
	x->is_head = gp_iov_eq(m.method, "HEAD");
	x->upgrade = m.upgrade;
	x->got_resp = 0;
	x->req_body = x->connect ? B_NONE : m.chunked ? B_CHUNKED :
	    m.content_length > 0 ? B_LENGTH : B_NONE;
	x->req_left = m.content_length;
	memset(&x->req_ck, 0, sizeof x->req_ck);
	if (!f->intercepted) {		/* the tunnel's row stays its own */
		snprintf(f->method, sizeof f->method, "%.*s",
		    (int)(m.method.n < 15 ? m.method.n : 15), m.method.p);
		gp_url_redact(m.target, target, sizeof target);
		snprintf(f->request, sizeof f->request, "%.*s %s",
		    (int)(m.method.n < 32 ? m.method.n : 32), m.method.p,
		    target);
	}
	gp_txn_free(x->txn);
	x->txn = NULL;
	/* Waiting first: a decision may answer from inside the call. */
	x->r = R_WAIT;
	x->ops->request(f, x, &m, (size_t)n);
}

/*
 * How many of the n buffered bytes belong to a body framed as kind;
 * *done once it ended; -1 for a malformed chunked body.
 */
static ssize_t
body_take(int kind, int64_t *left, struct gp_chunked *ck, const char *p,
    size_t n, int *done)
{
	*done = 0;
	if (kind == B_LENGTH) {
		if ((int64_t)n > *left)
			n = (size_t)*left;
		*left -= (int64_t)n;
		*done = *left == 0;
		return (ssize_t)n;
	}
	if (kind == B_CHUNKED)
		return gp_chunked_scan(ck, p, n, done);
	return (ssize_t)n;		/* until close */
}

/* n body bytes from the front of from's input: shown, sent on. */
static void
pass_body(struct gp_flow *f, struct gp_side *from, enum gp_txn_dir dir,
    size_t n)
{
	txn_body(f, dir, from->in.data, n);
	gp_flow_write(gp_flow_other(from), from->in.data, n);
	gp_flow_consume(from, n);
}

/* Forwards request body bytes buffered from the client. */
static void
forward_request_body(struct gp_flow *f)
{
	struct gp_exchange	*x = f->proto;
	ssize_t			 take;
	int			 done;

	if (f->c.in.len == 0)
		return;
	take = body_take(x->req_body, &x->req_left, &x->req_ck, f->c.in.data,
	    f->c.in.len, &done);
	if (take < 0) {
		/* Nothing malformed is forwarded: the origin gets a
		 * truncated body and the connection is dropped. */
		gp_log(GP_LOG_WARN, "http %s: bad chunked request body",
		    f->client_addr);
		if (x->got_resp)
			gp_flow_close(f);
		else
			gp_exchange_error(f, 400,
			    gp_reason_token(GP_R_BAD_REQUEST),
			    "greyproxy: malformed chunked request body", 1);
		return;
	}
	pass_body(f, &f->c, GP_TXN_REQUEST, (size_t)take);
	if (done)
		x->r = R_DONE;
}

/*
 * The rest of a large response body nobody watches any more (every
 * filter that takes bodies is full: a capture at its cap) goes from the
 * origin's socket to the client's by splice(2) when both are plain TCP:
 * counted, not read.
 */
#define SPLICE_BODY_MIN	(256 * 1024)

static void
body_moved(struct gp_flow *f, size_t n)
{
	struct gp_exchange *x = f->proto;

	if (x->txn != NULL)
		x->txn->resp_body += n;
	if (x->resp_body == B_LENGTH)
		x->resp_left -= (int64_t)n;
}

static void
body_spliced(struct gp_flow *f, int status)
{
	struct gp_exchange *x = f->proto;

	if (status == 0) {		/* its length passed */
		x->p = P_DONE;
		up_data(f);
	} else				/* the origin ended first */
		f->ops->eof(f, &f->u);
}

static const struct gp_bsplice_cbs body_cbs = {
	.moved = body_moved,
	.done = body_spliced,
};

static int
response_watched(struct gp_flow *f)
{
	struct gp_exchange		*x = f->proto;
	const struct gp_http_filter_ops	*o;
	size_t				 i;

	for (i = 0; x->txn != NULL && i < f->px->nfilters; i++) {
		o = f->px->filters[i].ops;
		if (o->body != NULL && (o->body_full == NULL ||
		    !o->body_full(f->px->filters[i].arg, x->txn,
		    GP_TXN_RESPONSE)))
			return 1;
	}
	return 0;
}

static void
maybe_splice(struct gp_flow *f)
{
	struct gp_exchange	*x = f->proto;
	int64_t			 len;

	if (f->closing || f->finishing || f->tunnel || x->p != P_BODY ||
	    x->r != R_DONE || f->u.in.len > 0 || f->c.corked)
		return;
	if (x->resp_body == B_LENGTH && x->resp_left >= SPLICE_BODY_MIN)
		len = x->resp_left;
	else if (x->resp_body == B_CLOSE)
		len = -1;
	else
		return;
	if (!response_watched(f))
		(void)gp_relay_body(f, len, &body_cbs);
}

/*
 * A block of body bytes read while nothing is buffered, when all of it
 * belongs to the body in flight, goes on as it is instead of through
 * side->in (a copy less, and a second one less for the cork): 1 when
 * taken.  The framing's state is only kept when it took the whole block.
 */
int
gp_exchange_data_block(struct gp_flow *f, struct gp_side *s, char *block,
    size_t n)
{
	struct gp_exchange	*x = f->proto;
	struct gp_chunked	 ck;
	int64_t			 left;
	int			 up = s == &f->u, done, kind;
	enum gp_txn_dir		 dir;

	if (f->finishing || f->closing || f->tunnel || x->busy)
		return 0;
	if (up ? x->p != P_BODY : x->r != R_BODY)
		return 0;
	kind = up ? x->resp_body : x->req_body;
	left = up ? x->resp_left : x->req_left;
	ck = up ? x->resp_ck : x->req_ck;
	if (body_take(kind, &left, &ck, block, n, &done) != (ssize_t)n)
		return 0;
	if (up) {
		x->resp_left = left;
		x->resp_ck = ck;
		dir = GP_TXN_RESPONSE;
	} else {
		x->req_left = left;
		x->req_ck = ck;
		dir = GP_TXN_REQUEST;
	}
	txn_body(f, dir, block, n);
	gp_flow_write_block(gp_flow_other(s), block, block, n);
	if (done) {
		if (up) {
			x->p = P_DONE;
			up_data(f);
		} else
			x->r = R_DONE;
	} else if (up)
		maybe_splice(f);
	return 1;
}

/* Runs the request side as far as the buffered bytes allow. */
static void
client_data(struct gp_flow *f)
{
	struct gp_exchange	*x = f->proto;
	size_t			 before;

	if (x->busy)
		return;		/* the running loop picks the change up */
	x->busy = 1;
	while (!f->closing && !f->finishing && !f->tunnel) {
		before = f->c.in.len;
		if (x->r == R_HEAD) {
			/* Pipelined requests wait for the previous response. */
			if (x->p == P_HEAD || x->p == P_BODY || before == 0)
				break;
			start_request(f);
			if (x->r == R_HEAD && f->c.in.len == before)
				break;
		} else if (x->r == R_BODY && before > 0) {
			forward_request_body(f);
		} else
			break;
	}
	x->busy = 0;
}

void
gp_exchange_upstream_for(struct gp_flow *f, const char *host, unsigned port)
{
	struct gp_exchange *x = f->proto;

	if (f->u.st != NULL && (!x->up_keep || strcmp(x->uphost, host) != 0 ||
	    x->upport != port))
		gp_flow_close_side(&f->u);
	x->reused = f->u.st != NULL;
	x->retried = 0;
}

/* The filters' say on a request about to leave: 0, or refused. */
static int
filters_allow(struct gp_flow *f)
{
	struct gp_exchange	*x = f->proto;
	const char		*why = NULL;
	size_t			 i;
	enum gp_reason		 r;

	if (x->txn == NULL)
		return 0;
	for (i = 0; i < f->px->nfilters; i++) {
		const struct gp_http_filter *fl = &f->px->filters[i];

		if (fl->ops->request_head == NULL)
			continue;
		r = fl->ops->request_head(fl->arg, x->txn, &why);
		if (r != GP_R_NONE) {
			gp_log(GP_LOG_INFO, "http %s: %s refused by %s: %s",
			    f->client_addr, f->request, fl->ops->name,
			    why != NULL ? why : gp_reason_token(r));
			gp_flow_refused(f, r);
			gp_exchange_refuse(f, gp_reason_http_status(r),
			    gp_reason_token(r), why != NULL ? why :
			    "greyproxy: refused");
			return -1;
		}
	}
	return 0;
}

/* The filters' rewrites of the head that goes upstream. */
static void
rewrite_head(struct gp_flow *f)
{
	struct gp_exchange	*x = f->proto;
	size_t			 i;

	if (x->txn == NULL)
		return;
	for (i = 0; i < f->px->nfilters; i++)
		if (f->px->filters[i].ops->rewrite_head != NULL)
			f->px->filters[i].ops->rewrite_head(
			    f->px->filters[i].arg, x->txn, &x->head);
	if (x->txn->substituted)
		x->head_secret = 1;
}

/* The head buffer emptied for the next request, or freed: wiped first
 * when a secret was written into it. */
void
gp_exchange_head_reset(struct gp_exchange *x, int free_it)
{
	if (x->head_secret && x->head.data != NULL)
		OPENSSL_cleanse(x->head.data, x->head.cap);
	x->head_secret = 0;
	if (free_it)
		gp_buf_free(&x->head);
	else
		gp_buf_reset(&x->head);
}

void
gp_exchange_send(struct gp_flow *f)
{
	struct gp_exchange	*x = f->proto;

	if (x->txn != NULL) {
		x->txn->host = gp_arena_strndup(&x->txn->arena, f->host,
		    strlen(f->host));
		x->txn->port = f->port;
	}
	if (filters_allow(f) != 0)
		return;
	rewrite_head(f);
	snprintf(x->uphost, sizeof x->uphost, "%s", f->host);
	x->upport = f->port;
	x->up_keep = 1;
	memset(&x->resp_ck, 0, sizeof x->resp_ck);
	memset(&x->resp_scan, 0, sizeof x->resp_scan);
	gp_flow_write(&f->u, x->head.data, x->head.len);
	if (x->txn != NULL)
		x->txn->t_sent = now_us();
	x->p = P_HEAD;
	x->r = x->req_body == B_NONE ? R_DONE : R_BODY;
	gp_flow_read(&f->u, 1);
	gp_flow_read(&f->c, 1);
	gp_flow_set_timeout(f, f->px->opts.idle_timeout_ms);
	client_data(f);
	if (!f->closing && f->u.in.len > 0)
		up_data(f);
}

/* Responses. */

/* The exchange is complete: log, then reuse or close the connections. */
static void
exchange_done(struct gp_flow *f)
{
	struct gp_exchange *x = f->proto;

	txn_end(f, x->r == R_DONE);
	if (!f->intercepted)
		gp_flow_log(f);
	if (x->r != R_DONE || !x->client_keep || f->c.eof) {
		gp_flow_finish(f);
		return;
	}
	if (!x->up_keep)
		gp_flow_close_side(&f->u);
	x->r = R_HEAD;
	x->p = P_IDLE;
	gp_flow_set_deadline(f, f->px->opts.header_timeout_ms);
	client_data(f);
}

static void
forward_head(struct gp_flow *f, const struct gp_http_msg *m, size_t n,
    int close, int upgrade)
{
	struct gp_exchange	*x = f->proto;
	struct gp_buf		 b = { 0 };

	gp_http_build_response(&b, m, close, (upgrade ? GP_KEEP_UPGRADE : 0) |
	    x->keep);
	gp_flow_consume(&f->u, n);
	gp_flow_write(&f->c, b.data, b.len);
	gp_buf_free(&b);
}

/* Parses a response head and forwards it. */
static void
response_head(struct gp_flow *f)
{
	struct gp_exchange	*x = f->proto;
	struct gp_http_msg	 m;
	struct gp_http_err	 err = { 0, NULL };
	size_t			 i;
	int			 n;

	n = gp_http_scan_head(&x->resp_scan, f->u.in.data, f->u.in.len, 0,
	    &err);
	if (n == GP_AGAIN)
		return;
	memset(&x->resp_scan, 0, sizeof x->resp_scan);
	if (n > 0)
		n = gp_http_parse_response(f->u.in.data, (size_t)n, &m, &err);
	if (n < 0) {
		gp_log(GP_LOG_WARN, "http %s: upstream %s:%u: %s",
		    f->client_addr, f->host, f->port, err.why);
		gp_exchange_error(f, 502,
		    gp_reason_token(GP_R_UPSTREAM_PROTOCOL), err.why, 1);
		return;
	}
	if (m.status == 101 && (!x->upgrade || !m.upgrade)) {
		/* RFC 9110 15.2.2: only an Upgrade request may be switched. */
		gp_log(GP_LOG_WARN, "http %s: upstream %s:%u: unsolicited 101",
		    f->client_addr, f->host, f->port);
		gp_exchange_error(f, 502,
		    gp_reason_token(GP_R_UPSTREAM_PROTOCOL),
		    "greyproxy: upstream switched protocols unasked", 1);
		return;
	}
	if (x->txn != NULL && x->txn->t_first == 0)
		x->txn->t_first = now_us();
	x->got_resp = 1;
	if (m.status >= 100 && m.status < 200 && m.status != 101) {
		/* Interim response: forward it, the final one follows. */
		forward_head(f, &m, (size_t)n, 0, 0);
		return;
	}
	if (x->txn != NULL) {
		gp_txn_set_response(x->txn, &m);
		for (i = 0; i < f->px->nfilters; i++)
			if (f->px->filters[i].ops->response_head != NULL)
				f->px->filters[i].ops->response_head(
				    f->px->filters[i].arg, x->txn);
	}
	if (m.status == 101) {
		forward_head(f, &m, (size_t)n, 0, 1);
		for (i = 0; x->txn != NULL && i < f->px->nfilters &&
		    f->tap_ops == NULL; i++)
			if (f->px->filters[i].ops->upgraded != NULL)
				f->tap_ops = f->px->filters[i].ops->upgraded(
				    f->px->filters[i].arg, x->txn, &f->tap);
		txn_end(f, 1);		/* the switch itself */
		f->upgraded = 1;
		gp_flow_tunnel(f);
		return;
	}
	if (x->is_head || m.status == 204 || m.status == 304)
		x->resp_body = B_NONE;
	else if (m.chunked)
		x->resp_body = B_CHUNKED;
	else if (m.content_length >= 0)
		x->resp_body = m.content_length > 0 ? B_LENGTH : B_NONE;
	else
		x->resp_body = B_CLOSE;
	x->resp_left = m.content_length;
	x->up_keep = m.keep_alive && x->resp_body != B_CLOSE;
	if (!x->up_keep && x->resp_body == B_CLOSE)
		x->client_keep = 0;
	if (x->r != R_DONE)
		x->client_keep = 0;	/* answered before the body ended */
	forward_head(f, &m, (size_t)n, !x->client_keep, 0);
	x->p = x->resp_body == B_NONE ? P_DONE : P_BODY;
}

static void
forward_response_body(struct gp_flow *f)
{
	struct gp_exchange	*x = f->proto;
	ssize_t			 take;
	int			 done;

	take = body_take(x->resp_body, &x->resp_left, &x->resp_ck,
	    f->u.in.data, f->u.in.len, &done);
	if (take < 0) {
		gp_log(GP_LOG_WARN, "http %s: bad chunked response from %s",
		    f->client_addr, f->host);
		gp_flow_close(f);
		return;
	}
	pass_body(f, &f->u, GP_TXN_RESPONSE, (size_t)take);
	if (done)
		x->p = P_DONE;
}

static void
up_data_1(struct gp_flow *f)
{
	struct gp_exchange *x = f->proto;

	while (!f->closing && !f->finishing && !f->tunnel) {
		if (x->p == P_HEAD) {
			response_head(f);
			if (x->p == P_HEAD)
				return;
		} else if (x->p == P_BODY) {
			if (f->u.in.len == 0)
				return;
			forward_response_body(f);
		} else if (x->p == P_DONE) {
			x->p = P_IDLE;
			exchange_done(f);
			return;
		} else {
			/* Bytes with no request outstanding: drop the link. */
			if (f->u.in.len > 0)
				gp_flow_close_side(&f->u);
			return;
		}
	}
}

/* A response head and the body bytes read with it leave in one write. */
static void
up_data(struct gp_flow *f)
{
	struct gp_exchange *x = f->proto;

	if (x->p == P_BODY)
		up_data_1(f);	/* no head in this pass: nothing to gather */
	else {
		gp_flow_cork(&f->c);
		up_data_1(f);
		gp_flow_uncork(&f->c);
	}
	maybe_splice(f);
}

void
gp_exchange_eof(struct gp_flow *f, struct gp_side *s)
{
	struct gp_exchange *x = f->proto;

	if (f->finishing)
		return;
	if (s == &f->c) {
		/* Client done: finish the exchange in flight, if any. */
		if (x->r == R_BODY || f->held) {
			gp_flow_close(f);
			return;
		}
		if (x->p == P_IDLE && x->r != R_WAIT)
			gp_flow_close(f);
		x->client_keep = 0;
		return;
	}
	/* Upstream closed. */
	if (x->p == P_BODY && x->resp_body == B_CLOSE) {
		x->p = P_IDLE;
		exchange_done(f);
	} else if (x->p == P_HEAD && !x->got_resp && x->reused &&
	    !x->retried && x->req_body == B_NONE) {
		/*
		 * The kept-alive connection was closed by the origin as the
		 * request went out: nothing was answered and the request had
		 * no body, so send it again on a new connection (RFC 9112
		 * 9.3.1 allows a retry when no response was received).
		 */
		gp_log(GP_LOG_DEBUG, "http %s: stale upstream to %s:%u; "
		    "retrying", f->client_addr, f->host, f->port);
		x->retried = 1;
		x->reused = 0;
		x->p = P_IDLE;
		x->r = R_WAIT;
		gp_flow_reconnect(f);
	} else if (x->p == P_HEAD && !x->got_resp) {
		gp_exchange_error(f, 502,
		    gp_reason_token(GP_R_UPSTREAM_PROTOCOL),
		    "greyproxy: upstream closed without a response", 1);
	} else if (x->p == P_BODY) {
		gp_flow_close(f);	/* truncated: the client must see it */
	} else {
		gp_flow_close_side(&f->u);
		x->up_keep = 0;
	}
}
