/*
 * http.c: the HTTP proxy front end: absolute-form requests relayed with
 * keep-alive on both sides, request and response bodies streamed
 * (Content-Length, chunked, or until close), CONNECT tunnels, and
 * Upgrade (101) handed to the tunnel.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/flow.h"

enum rstate { R_HEAD, R_WAIT, R_BODY, R_DONE };
enum pstate { P_IDLE, P_HEAD, P_BODY, P_DONE };
enum body { B_NONE, B_LENGTH, B_CHUNKED, B_CLOSE };

struct http {
	enum rstate		 r;
	enum pstate		 p;
	int			 connect;	/* CONNECT request */
	int			 client_keep;	/* client connection persists */
	int			 up_keep;	/* upstream connection persists */
	int			 is_head;	/* HEAD: no response body */
	int			 upgrade;	/* request asked for Upgrade */
	int			 got_resp;	/* any response byte forwarded */
	int			 reused;	/* on a kept-alive upstream */
	int			 retried;	/* replayed once already */
	int			 busy;		/* inside client_data() */
	enum body		 req_body, resp_body;
	int64_t			 req_left, resp_left;
	struct gp_chunked	 req_ck, resp_ck;
	struct gp_http_scan	 req_scan, resp_scan;	/* heads arriving */
	char			 uphost[GP_HOST_MAX];	/* f->u's target */
	unsigned		 upport;
	struct gp_buf		 head;		/* upstream request head */
};

static void	http_data(struct gp_flow *, struct gp_side *);
static void	http_eof(struct gp_flow *, struct gp_side *);
static void	http_refuse(struct gp_flow *, enum gp_reason);
static void	http_connected(struct gp_flow *);
static void	http_timeout(struct gp_flow *);
static void	http_free(struct gp_flow *);
static void	client_data(struct gp_flow *);
static void	up_data(struct gp_flow *);

static const struct gp_flow_ops http_ops = {
	"HTTP", http_data, http_eof, http_refuse, http_connected,
	http_timeout, http_free, NULL,
};

void
gp_proxy_accept_http(uv_stream_t *server, int status)
{
	struct gp_flow	*f;

	if (status != 0) {
		gp_net_accept_failed("http", status);
		return;
	}
	f = gp_flow_new(server->data, server, &http_ops);
	if (f != NULL)
		f->proto = gp_xcalloc(1, sizeof(struct http));
}

static void
http_free(struct gp_flow *f)
{
	struct http *h = f->proto;

	if (h != NULL)
		gp_buf_free(&h->head);
	free(h);
}

/* Answers with an error and, when asked, closes after it is written. */
static void
send_error(struct gp_flow *f, int status, const char *token,
    const char *line, int close)
{
	struct gp_buf	b = { 0 };

	gp_http_build_error(&b, status, token, line, close);
	gp_flow_write(&f->c, b.data, b.len);
	gp_buf_free(&b);
	if (close)
		gp_flow_finish(f);
}

static void
http_refuse(struct gp_flow *f, enum gp_reason r)
{
	struct http	*h = f->proto;
	char		 line[512];
	int		 status = gp_reason_http_status(r);

	switch (r) {
	case GP_R_DENYLIST:
		snprintf(line, sizeof line, "greyproxy: %s:%u is denied by "
		    "a rule", f->host, f->port);
		break;
	case GP_R_ALLOWLIST:
		snprintf(line, sizeof line, "greyproxy: %s:%u is not allowed "
		    "(no rule matches)", f->host, f->port);
		break;
	case GP_R_DNS_FAILED:
		snprintf(line, sizeof line, "greyproxy: cannot resolve %s",
		    f->host);
		break;
	default:
		snprintf(line, sizeof line, "greyproxy: %s:%u: %s", f->host,
		    f->port, gp_reason_token(r));
		break;
	}
	gp_flow_log(f);
	/*
	 * The connection persists only when no request body is left
	 * unread: otherwise its bytes would be taken for the next request.
	 */
	if (h->connect || h->req_body != B_NONE || !h->client_keep) {
		send_error(f, status, gp_reason_token(r), line, 1);
		return;
	}
	send_error(f, status, gp_reason_token(r), line, 0);
	h->r = R_HEAD;
	h->p = P_IDLE;
	gp_flow_set_deadline(f, f->px->opts.header_timeout_ms);
	client_data(f);		/* no-op when called from inside it */
}

static void
http_timeout(struct gp_flow *f)
{
	struct http *h = f->proto;

	if (h->r == R_HEAD && h->p == P_IDLE && !f->tunnel &&
	    f->c.in.len > 0)
		send_error(f, 408, "request-timeout",
		    "greyproxy: request header timeout", 1);
	else if (h->p == P_HEAD && !h->got_resp && !f->tunnel)
		send_error(f, 504, gp_reason_token(GP_R_UPSTREAM_TIMEOUT),
		    "greyproxy: upstream did not answer in time", 1);
	else
		gp_flow_close(f);
}

static void
http_data(struct gp_flow *f, struct gp_side *s)
{
	if (f->finishing)
		return;
	if (s == &f->c)
		client_data(f);
	else
		up_data(f);
}

/* Parses the next request head from the client buffer and decides. */
static void
start_request(struct gp_flow *f)
{
	struct http		*h = f->proto;
	struct gp_http_msg	 m;
	struct gp_http_err	 err = { 0, NULL };
	const struct gp_http_header *pa;
	const char		*why = NULL;
	char			 user[128];
	char			 esc[200];
	int			 n;

	n = gp_http_scan_head(&h->req_scan, f->c.in.data, f->c.in.len, 1,
	    &err);
	if (n == GP_AGAIN)
		return;
	memset(&h->req_scan, 0, sizeof h->req_scan);
	if (n > 0)
		n = gp_http_parse_request(f->c.in.data, (size_t)n, &m, &err);
	if (n < 0) {
		gp_log(GP_LOG_WARN, "http %s: %d %s", f->client_addr,
		    err.status, err.why);
		send_error(f, err.status, err.status == 431 ?
		    gp_reason_token(GP_R_HEADER_TOO_LARGE) :
		    gp_reason_token(GP_R_BAD_REQUEST), err.why, 1);
		return;
	}
	/* Identity: the Basic Proxy-Authorization user, as greywall sends. */
	pa = gp_http_find(&m, "proxy-authorization");
	if (pa != NULL && gp_http_basic_user(pa->value, user, sizeof user) ==
	    0)
		gp_flow_set_identity(f, user);
	else
		gp_flow_set_identity(f, NULL);

	h->client_keep = m.keep_alive;
	h->is_head = gp_iov_eq(m.method, "HEAD");
	h->upgrade = m.upgrade;
	h->got_resp = 0;
	h->req_body = m.chunked ? B_CHUNKED : m.content_length > 0 ?
	    B_LENGTH : B_NONE;
	h->req_left = m.content_length;
	memset(&h->req_ck, 0, sizeof h->req_ck);
	snprintf(f->method, sizeof f->method, "%.*s",
	    (int)(m.method.n < 15 ? m.method.n : 15), m.method.p);
	{
		char	target[257];

		gp_url_redact(m.target, target, sizeof target);
		snprintf(f->request, sizeof f->request, "%.*s %s",
		    (int)(m.method.n < 32 ? m.method.n : 32), m.method.p,
		    target);
	}

	if (gp_iov_eq(m.method, "CONNECT")) {
		char		host[GP_HOST_MAX];
		unsigned	port;

		h->connect = 1;
		h->req_body = B_NONE;
		if (gp_url_parse_authority(m.target, host, sizeof host, &port,
		    &why) != 0)
			goto bad_target;
		gp_flow_consume(&f->c, (size_t)n);
		snprintf(f->host, sizeof f->host, "%s", host);
		f->port = port;
		/* The tunnel owns the connection from here on; early bytes
		 * stay buffered, and reading on notices a client leaving. */
		gp_flow_close_side(&f->u);
		h->r = R_WAIT;
		gp_flow_decide(f);
		return;
	} else {
		struct gp_url	u;

		h->connect = 0;
		if (gp_url_parse_absolute(m.target, &u, &why) != 0)
			goto bad_target;
		if (u.https) {
			gp_log(GP_LOG_WARN, "http %s: https:// absolute-form "
			    "refused", f->client_addr);
			send_error(f, 501, gp_reason_token(GP_R_NOT_IMPLEMENTED),
			    "greyproxy: use CONNECT for https:// URLs", 1);
			return;
		}
		snprintf(f->host, sizeof f->host, "%s", u.host);
		f->port = u.port;
		gp_buf_reset(&h->head);
		gp_http_build_request(&h->head, &m, &u, !h->client_keep,
		    h->upgrade);
		gp_flow_consume(&f->c, (size_t)n);
		/* A different target needs a different upstream connection. */
		if (f->u.st != NULL && (!h->up_keep ||
		    strcmp(h->uphost, f->host) != 0 || h->upport != f->port))
			gp_flow_close_side(&f->u);
		h->reused = f->u.st != NULL;
		h->retried = 0;
		h->r = R_WAIT;
		gp_flow_decide(f);
		return;
	}
bad_target:
	{
		char	target[160];
		size_t	tn = gp_url_redact(m.target, target, sizeof target);

		gp_log(GP_LOG_WARN, "http %s: bad target %s: %s",
		    f->client_addr, gp_log_escape(esc, sizeof esc, target, tn),
		    why);
	}
	send_error(f, 400, gp_reason_token(GP_R_BAD_REQUEST), why, 1);
}

/* Forwards request body bytes buffered from the client. */
static void
forward_request_body(struct gp_flow *f)
{
	struct http	*h = f->proto;
	size_t		 take = f->c.in.len;
	int		 done = 0;

	if (take == 0)
		return;
	if (h->req_body == B_LENGTH) {
		if ((int64_t)take > h->req_left)
			take = (size_t)h->req_left;
		h->req_left -= (int64_t)take;
		done = h->req_left == 0;
	} else {
		ssize_t k = gp_chunked_scan(&h->req_ck, f->c.in.data, take,
		    &done);

		if (k < 0) {
			/* Nothing malformed is forwarded: the origin gets a
			 * truncated body and the connection is dropped. */
			gp_log(GP_LOG_WARN, "http %s: bad chunked request "
			    "body", f->client_addr);
			if (h->got_resp)
				gp_flow_close(f);
			else
				send_error(f, 400, gp_reason_token(
				    GP_R_BAD_REQUEST), "greyproxy: malformed "
				    "chunked request body", 1);
			return;
		}
		take = (size_t)k;
	}
	gp_flow_write(&f->u, f->c.in.data, take);
	gp_flow_consume(&f->c, take);
	if (done)
		h->r = R_DONE;
}

/* Runs the request side as far as the buffered bytes allow. */
static void
client_data(struct gp_flow *f)
{
	struct http	*h = f->proto;
	size_t		 before;

	if (h->busy)
		return;		/* the running loop picks the change up */
	h->busy = 1;
	while (!f->closing && !f->finishing && !f->tunnel) {
		before = f->c.in.len;
		if (h->r == R_HEAD) {
			/* Pipelined requests wait for the previous response. */
			if (h->p == P_HEAD || h->p == P_BODY || before == 0)
				break;
			start_request(f);
			if (h->r == R_HEAD && f->c.in.len == before)
				break;
		} else if (h->r == R_BODY && before > 0) {
			forward_request_body(f);
		} else
			break;
	}
	h->busy = 0;
}

static void
http_connected(struct gp_flow *f)
{
	struct http	*h = f->proto;
	static const char established[] =
	    "HTTP/1.1 200 Connection established\r\n\r\n";

	if (h->connect) {
		gp_flow_write(&f->c, established, sizeof established - 1);
		gp_flow_tunnel(f);
		return;
	}
	snprintf(h->uphost, sizeof h->uphost, "%s", f->host);
	h->upport = f->port;
	h->up_keep = 1;
	memset(&h->resp_ck, 0, sizeof h->resp_ck);
	memset(&h->resp_scan, 0, sizeof h->resp_scan);
	gp_flow_write(&f->u, h->head.data, h->head.len);
	h->p = P_HEAD;
	h->r = h->req_body == B_NONE ? R_DONE : R_BODY;
	gp_flow_read(&f->u, 1);
	gp_flow_read(&f->c, 1);
	gp_flow_set_timeout(f, f->px->opts.idle_timeout_ms);
	client_data(f);
	if (!f->closing && f->u.in.len > 0)
		up_data(f);
}

/* The exchange is complete: log, then reuse or close the connections. */
static void
exchange_done(struct gp_flow *f)
{
	struct http *h = f->proto;

	gp_flow_log(f);
	if (h->r != R_DONE || !h->client_keep || f->c.eof) {
		gp_flow_finish(f);
		return;
	}
	if (!h->up_keep)
		gp_flow_close_side(&f->u);
	h->r = R_HEAD;
	h->p = P_IDLE;
	gp_flow_set_deadline(f, f->px->opts.header_timeout_ms);
	client_data(f);
}

/* Parses a response head and forwards it. */
static void
response_head(struct gp_flow *f)
{
	struct http		*h = f->proto;
	struct gp_http_msg	 m;
	struct gp_http_err	 err = { 0, NULL };
	struct gp_buf		 b = { 0 };
	int			 n, close;

	n = gp_http_scan_head(&h->resp_scan, f->u.in.data, f->u.in.len, 0,
	    &err);
	if (n == GP_AGAIN)
		return;
	memset(&h->resp_scan, 0, sizeof h->resp_scan);
	if (n > 0)
		n = gp_http_parse_response(f->u.in.data, (size_t)n, &m, &err);
	if (n < 0) {
		gp_log(GP_LOG_WARN, "http %s: upstream %s:%u: %s",
		    f->client_addr, f->host, f->port, err.why);
		send_error(f, 502, gp_reason_token(GP_R_UPSTREAM_PROTOCOL),
		    err.why, 1);
		return;
	}
	if (m.status == 101 && (!h->upgrade || !m.upgrade)) {
		/* RFC 9110 15.2.2: only an Upgrade request may be switched. */
		gp_log(GP_LOG_WARN, "http %s: upstream %s:%u: unsolicited 101",
		    f->client_addr, f->host, f->port);
		send_error(f, 502, gp_reason_token(GP_R_UPSTREAM_PROTOCOL),
		    "greyproxy: upstream switched protocols unasked", 1);
		return;
	}
	h->got_resp = 1;
	if (m.status == 101) {
		gp_http_build_response(&b, &m, 0, 1);
		gp_flow_consume(&f->u, (size_t)n);
		gp_flow_write(&f->c, b.data, b.len);
		gp_buf_free(&b);
		gp_flow_tunnel(f);
		return;
	}
	if (m.status >= 100 && m.status < 200) {
		/* Interim response: forward it, the final one follows. */
		gp_http_build_response(&b, &m, 0, 0);
		gp_flow_consume(&f->u, (size_t)n);
		gp_flow_write(&f->c, b.data, b.len);
		gp_buf_free(&b);
		return;
	}
	if (h->is_head || m.status == 204 || m.status == 304)
		h->resp_body = B_NONE;
	else if (m.chunked)
		h->resp_body = B_CHUNKED;
	else if (m.content_length >= 0)
		h->resp_body = m.content_length > 0 ? B_LENGTH : B_NONE;
	else
		h->resp_body = B_CLOSE;
	h->resp_left = m.content_length;
	h->up_keep = m.keep_alive && h->resp_body != B_CLOSE;
	if (!h->up_keep && h->resp_body == B_CLOSE)
		h->client_keep = 0;
	if (h->r != R_DONE)
		h->client_keep = 0;	/* answered before the body ended */
	close = !h->client_keep;
	gp_http_build_response(&b, &m, close, 0);
	gp_flow_consume(&f->u, (size_t)n);
	gp_flow_write(&f->c, b.data, b.len);
	gp_buf_free(&b);
	h->p = h->resp_body == B_NONE ? P_DONE : P_BODY;
}

static void
forward_response_body(struct gp_flow *f)
{
	struct http	*h = f->proto;
	size_t		 take = f->u.in.len;
	int		 done = 0;

	if (h->resp_body == B_LENGTH) {
		if ((int64_t)take > h->resp_left)
			take = (size_t)h->resp_left;
		h->resp_left -= (int64_t)take;
		done = h->resp_left == 0;
	} else if (h->resp_body == B_CHUNKED) {
		ssize_t k = gp_chunked_scan(&h->resp_ck, f->u.in.data, take,
		    &done);

		if (k < 0) {
			gp_log(GP_LOG_WARN, "http %s: bad chunked response "
			    "from %s", f->client_addr, f->host);
			gp_flow_close(f);
			return;
		}
		take = (size_t)k;
	}
	gp_flow_write(&f->c, f->u.in.data, take);
	gp_flow_consume(&f->u, take);
	if (done)
		h->p = P_DONE;
}

static void	up_data_1(struct gp_flow *);

/* A response head and the body bytes read with it leave in one write. */
static void
up_data(struct gp_flow *f)
{
	gp_flow_cork(&f->c);
	up_data_1(f);
	gp_flow_uncork(&f->c);
}

static void
up_data_1(struct gp_flow *f)
{
	struct http *h = f->proto;

	while (!f->closing && !f->finishing && !f->tunnel) {
		if (h->p == P_HEAD) {
			response_head(f);
			if (h->p == P_HEAD)
				return;
		} else if (h->p == P_BODY) {
			if (f->u.in.len == 0)
				return;
			forward_response_body(f);
		} else if (h->p == P_DONE) {
			h->p = P_IDLE;
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

static void
http_eof(struct gp_flow *f, struct gp_side *s)
{
	struct http *h = f->proto;

	if (f->finishing)
		return;
	if (s == &f->c) {
		/* Client done: finish the exchange in flight, if any. */
		if (h->r == R_BODY || f->held) {
			gp_flow_close(f);
			return;
		}
		if (h->p == P_IDLE && h->r != R_WAIT)
			gp_flow_close(f);
		h->client_keep = 0;
		return;
	}
	/* Upstream closed. */
	if (h->p == P_BODY && h->resp_body == B_CLOSE) {
		h->p = P_IDLE;
		exchange_done(f);
	} else if (h->p == P_HEAD && !h->got_resp && h->reused &&
	    !h->retried && h->req_body == B_NONE) {
		/*
		 * The kept-alive connection was closed by the origin as the
		 * request went out: nothing was answered and the request had
		 * no body, so send it again on a new connection (RFC 9112
		 * 9.3.1 allows a retry when no response was received).
		 */
		gp_log(GP_LOG_DEBUG, "http %s: stale upstream to %s:%u; "
		    "retrying", f->client_addr, f->host, f->port);
		h->retried = 1;
		h->reused = 0;
		h->p = P_IDLE;
		h->r = R_WAIT;
		gp_flow_reconnect(f);
	} else if (h->p == P_HEAD && !h->got_resp) {
		send_error(f, 502, gp_reason_token(GP_R_UPSTREAM_PROTOCOL),
		    "greyproxy: upstream closed without a response", 1);
	} else if (h->p == P_BODY) {
		gp_flow_close(f);	/* truncated: the client must see it */
	} else {
		gp_flow_close_side(&f->u);
		h->up_keep = 0;
	}
}
