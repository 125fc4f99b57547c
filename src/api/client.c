/*
 * client.c: the remote link: each request is one HTTP/1.1 exchange on a
 * fresh loopback connection (Connection: close), at most
 * REQ_MAX_INFLIGHT at once and the rest in turn (deciding 300 marked
 * entries must not take 300 of the server's connections: beyond its
 * limit they were refused); events arrive on a
 * WebSocket (wslay client context) that is reopened every two seconds
 * while the server is away.  Both dial (net/dial.c) and then read and
 * write through a gp_stream.
 */
#include "config.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

#include "api/link-int.h"
#include "http/http.h"
#include "net/net.h"

#define REQ_TIMEOUT_MS	10000
#define RETRY_MS	2000
#define REQ_MAX_INFLIGHT 8

struct hreq {
	struct gp_link		*l;
	struct gp_dial		*dial;		/* while connecting */
	struct gp_stream	*st;		/* once connected */
	uv_timer_t		 timer;
	struct gp_buf		 out, in;
	gp_link_reply_fn	 fn;
	void			*data;
	int			 done;
	int			 open;		/* timer + stream */
	int			 started;	/* counted in l->inflight */
	struct hreq		*next;		/* in l->waiting */
};

struct wsclient {
	struct gp_link		*l;
	struct gp_dial		*dial;
	struct gp_stream	*st;
	struct gp_buf		 in;
	wslay_event_context_ptr	 ctx;
	int			 upgraded;
	int			 closing;
};

static void	ws_connect(struct gp_link *);

/* --- HTTP requests ------------------------------------------------ */

static void
hreq_unref(struct hreq *q)
{
	struct gp_link	*l = q->l;

	if (--q->open > 0)
		return;
	gp_buf_free(&q->out);
	gp_buf_free(&q->in);
	free(q);
	gp_link_unref(l);
}

static void
hreq_timer_closed(uv_handle_t *h)
{
	hreq_unref(h->data);
}

static void
hreq_stream_closed(struct gp_stream *st)
{
	hreq_unref(st->data);
}

static void	hreq_start(struct hreq *);

/* Reports once (status 0 and NULL on failure), then closes. */
static void
hreq_finish(struct hreq *q, int status, const cJSON *json)
{
	struct gp_link	*l = q->l;

	if (q->done)
		return;
	q->done = 1;
	if (q->started && --l->inflight < REQ_MAX_INFLIGHT &&
	    l->waiting != NULL && !l->closing) {
		struct hreq *n = l->waiting;	/* the next in turn */

		l->waiting = n->next;
		hreq_start(n);
	}
	/* Exactly once: a closing link still answers, with status 0. */
	if (q->fn != NULL)
		q->fn(q->data, q->l->closing ? 0 : status, q->l->closing ?
		    NULL : json);
	if (q->dial != NULL) {
		gp_dial_cancel(q->dial);
		q->dial = NULL;
	}
	if (q->st != NULL)
		gp_stream_close(q->st, hreq_stream_closed);
	uv_close((uv_handle_t *)&q->timer, hreq_timer_closed);
}

static void
hreq_parse(struct hreq *q)
{
	struct gp_http_msg	m;
	struct gp_http_err	err;
	int			n;
	cJSON			*json;

	n = gp_http_parse_response(q->in.data, q->in.len, &m, &err);
	if (n <= 0) {
		hreq_finish(q, 0, NULL);
		return;
	}
	json = cJSON_ParseWithLength(q->in.data + n, q->in.len - (size_t)n);
	hreq_finish(q, m.status, json);
	cJSON_Delete(json);
}

static int
hreq_read(struct gp_stream *st, char *block, ssize_t n)
{
	struct hreq *q = st->data;

	if (q->done)
		return 0;
	if (n > 0) {
		gp_buf_add(&q->in, block, (size_t)n);
		if (q->in.len > 16 * 1024 * 1024)
			hreq_finish(q, 0, NULL);
		return 0;
	}
	hreq_parse(q);	/* EOF ends the response (Connection: close) */
	return 0;
}

static void
hreq_written(struct gp_stream *st, int status)
{
	if (status != 0)
		hreq_finish(st->data, 0, NULL);
}

static const struct gp_stream_cbs hreq_cbs = {
	.read = hreq_read,
	.written = hreq_written,
};

static void
hreq_dialed(void *data, uv_tcp_t *tcp, int status,
    const struct sockaddr *peer)
{
	struct hreq *q = data;

	q->dial = NULL;
	if (tcp == NULL) {
		hreq_finish(q, 0, NULL);
		return;
	}
	q->st = gp_stream_tcp_new(tcp, &hreq_cbs, q);
	q->open++;
	if (gp_stream_write(q->st, q->out.data, q->out.len) != 0 ||
	    gp_stream_read_start(q->st) != 0)
		hreq_finish(q, 0, NULL);
}

static void
hreq_timeout(uv_timer_t *t)
{
	hreq_finish(t->data, 0, NULL);
}

void
gp_link_remote_request(struct gp_link *l, const char *method,
    const char *path, const cJSON *body, gp_link_reply_fn fn, void *data)
{
	struct hreq	*q = gp_xcalloc(1, sizeof *q);
	char		*text = body ? cJSON_PrintUnformatted(body) : NULL;
	size_t		 blen = text ? strlen(text) : 0;

	q->l = l;
	q->fn = fn;
	q->data = data;
	gp_buf_printf(&q->out, "%s %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: greyproxy-tui/%s\r\nConnection: close\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
	    method, path, l->target, PACKAGE_VERSION, blen);
	if (text != NULL)
		gp_buf_add(&q->out, text, blen);
	free(text);
	l->handles++;	/* until q is freed, queued or not */
	if (l->inflight < REQ_MAX_INFLIGHT) {
		hreq_start(q);
		return;
	}
	if (l->waiting == NULL)
		l->waiting = q;
	else
		l->waiting_last->next = q;
	l->waiting_last = q;
}

/* Its turn: the timer (the whole exchange) and the connection. */
static void
hreq_start(struct hreq *q)
{
	struct gp_link	*l = q->l;

	q->started = 1;
	l->inflight++;
	uv_timer_init(l->loop, &q->timer);
	q->timer.data = q;
	q->open = 1;
	uv_timer_start(&q->timer, hreq_timeout, REQ_TIMEOUT_MS, 0);
	q->dial = gp_dial_start(l->loop, &l->addr, 1, REQ_TIMEOUT_MS,
	    hreq_dialed, q);
}

/* --- WebSocket events --------------------------------------------- */

static ssize_t
ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
    void *data)
{
	struct wsclient	*w = data;
	size_t		 n = w->in.len < len ? w->in.len : len;

	if (n == 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	memcpy(buf, w->in.data, n);
	gp_buf_consume(&w->in, n);
	return (ssize_t)n;
}

static ssize_t
ws_send(wslay_event_context_ptr ctx, const uint8_t *p, size_t len, int flags,
    void *data)
{
	struct wsclient *w = data;

	if (w->st == NULL || gp_stream_write(w->st, p, len) != 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

static int
ws_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
    void *data)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

static void
ws_msg(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *arg, void *data)
{
	struct wsclient	*w = data;
	const cJSON	*type;
	cJSON		*o;

	if (arg->opcode != WSLAY_TEXT_FRAME || w->l->closing)
		return;
	o = cJSON_ParseWithLength((const char *)arg->msg, arg->msg_length);
	type = cJSON_GetObjectItemCaseSensitive(o, "type");
	if (cJSON_IsString(type)) {
		cJSON *d = cJSON_DetachItemFromObjectCaseSensitive(o, "data");

		w->l->on_event(w->l->data, type->valuestring, &d);
		cJSON_Delete(d);	/* unless the handler kept it */
	}
	cJSON_Delete(o);
}

static void
ws_retry(uv_timer_t *t)
{
	struct gp_link *l = t->data;

	if (!l->closing && l->ws == NULL)
		ws_connect(l);
}

static void
ws_free(struct wsclient *w)
{
	struct gp_link	*l = w->l;

	if (w->ctx != NULL)
		wslay_event_context_free(w->ctx);
	gp_buf_free(&w->in);
	free(w);
	if (l->ws == w)
		l->ws = NULL;
	if (!l->closing)
		uv_timer_start(&l->timer, ws_retry, RETRY_MS, 0);
	gp_link_unref(l);
}

static void
ws_closed(struct gp_stream *st)
{
	ws_free(st->data);
}

/* Closed: the stream if connected, else the dial (no callback then). */
static void
ws_close(struct wsclient *w)
{
	if (w->st != NULL)
		gp_stream_close(w->st, ws_closed);
	else {
		if (w->dial != NULL)
			gp_dial_cancel(w->dial);
		w->dial = NULL;
		ws_free(w);
	}
}

static void
ws_fail(struct wsclient *w, const char *why)
{
	struct gp_link *l = w->l;

	if (w->closing)
		return;
	w->closing = 1;
	if (!l->closing) {
		/* Report every failure before the first connection, so the
		 * caller can decide; afterwards only the loss. */
		if (l->up || l->retry_ms == 0)
			l->on_state(l->data, 0, why);
		l->up = 0;
		l->retry_ms = RETRY_MS;
	}
	ws_close(w);
}

static int
ws_read(struct gp_stream *st, char *block, ssize_t n)
{
	static const struct wslay_event_callbacks cbs = {
		ws_recv, ws_send, ws_genmask, NULL, NULL, NULL, ws_msg,
	};
	struct wsclient	*w = st->data;
	char		*end;

	if (w->closing)
		return 0;
	if (n < 0) {
		ws_fail(w, n == UV_EOF ? "connection closed" :
		    uv_strerror((int)n));
		return 0;
	}
	gp_buf_add(&w->in, block, (size_t)n);
	if (!w->upgraded) {
		if ((end = strstr(w->in.data, "\r\n\r\n")) == NULL) {
			if (w->in.len > 16384)
				ws_fail(w, "bad handshake");
			return 0;
		}
		if (strncmp(w->in.data, "HTTP/1.1 101", 12) != 0) {
			ws_fail(w, "not a greyproxy API");
			return 0;
		}
		gp_buf_consume(&w->in, (size_t)(end + 4 - w->in.data));
		if (wslay_event_context_client_init(&w->ctx, &cbs, w) != 0)
			gp_panic("wslay client context");
		w->upgraded = 1;
		w->l->up = 1;
		w->l->retry_ms = RETRY_MS;
		w->l->on_state(w->l->data, 1, NULL);
	}
	if (wslay_event_recv(w->ctx) != 0 || wslay_event_send(w->ctx) != 0 ||
	    (!wslay_event_want_read(w->ctx) && !wslay_event_want_write(w->ctx)))
		ws_fail(w, "event stream closed");
	return 0;
}

static void
ws_written(struct gp_stream *st, int status)
{
	if (status != 0)
		ws_fail(st->data, uv_strerror(status));
}

static const struct gp_stream_cbs ws_cbs = {
	.read = ws_read,
	.written = ws_written,
};

static void
ws_dialed(void *data, uv_tcp_t *tcp, int status, const struct sockaddr *peer)
{
	struct wsclient	*w = data;
	unsigned char	 key[16];
	char		 b64[32], req[512];
	int		 n;

	w->dial = NULL;
	if (tcp == NULL) {
		ws_fail(w, uv_strerror(status));
		return;
	}
	w->st = gp_stream_tcp_new(tcp, &ws_cbs, w);
	RAND_bytes(key, sizeof key);
	EVP_EncodeBlock((unsigned char *)b64, key, sizeof key);
	n = snprintf(req, sizeof req, "GET /ws HTTP/1.1\r\nHost: %s\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
	    w->l->target, b64);
	if (gp_stream_write(w->st, req, (size_t)n) != 0 ||
	    gp_stream_read_start(w->st) != 0)
		ws_fail(w, "write failed");
}

static void
ws_connect(struct gp_link *l)
{
	struct wsclient	*w = gp_xcalloc(1, sizeof *w);

	w->l = l;
	l->ws = w;
	l->handles++;
	w->dial = gp_dial_start(l->loop, &l->addr, 1, REQ_TIMEOUT_MS,
	    ws_dialed, w);
}

struct gp_link *
gp_link_remote(uv_loop_t *loop, const char *target, gp_link_event_fn ev,
    gp_link_state_fn st, void *data)
{
	struct gp_link	*l = gp_xcalloc(1, sizeof *l);
	const char	*why;

	l->loop = loop;
	l->on_event = ev;
	l->on_state = st;
	l->data = data;
	snprintf(l->target, sizeof l->target, "%s", target);
	if (gp_addr_parse(target, &l->addr, &why) != 0) {
		free(l);	/* no handle registered yet */
		return NULL;
	}
	uv_timer_init(loop, &l->timer);
	l->timer.data = l;
	ws_connect(l);
	return l;
}

void
gp_link_remote_close(struct gp_link *l)
{
	struct hreq	*q;

	/* Requests still waiting their turn are answered (0) and go. */
	while ((q = l->waiting) != NULL) {
		l->waiting = q->next;
		gp_link_queue_reply(l, q->fn, q->data, 0, NULL);
		gp_buf_free(&q->out);
		free(q);
		gp_link_unref(l);
	}
	if (l->ws != NULL && !l->ws->closing) {
		l->ws->closing = 1;
		ws_close(l->ws);
	}
}
