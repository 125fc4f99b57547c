/*
 * client.c: the remote link: each request is one HTTP/1.1 exchange on a
 * fresh loopback connection (Connection: close); events arrive on a
 * WebSocket (wslay client context) that is reopened every two seconds
 * while the server is away.
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

#define REQ_TIMEOUT_MS	10000
#define RETRY_MS	2000

struct hreq {
	struct gp_link		*l;
	uv_tcp_t		 tcp;
	uv_connect_t		 conn;
	uv_write_t		 w;
	uv_timer_t		 timer;
	struct gp_buf		 out, in;
	gp_link_reply_fn	 fn;
	void			*data;
	int			 done;
	int			 open;		/* handles still open */
};

struct wsclient {
	struct gp_link		*l;
	uv_tcp_t		 tcp;
	uv_connect_t		 conn;
	struct gp_buf		 in;
	wslay_event_context_ptr	 ctx;
	int			 upgraded;
	int			 closing;
};

static void	ws_connect(struct gp_link *);

/* --- HTTP requests ------------------------------------------------ */

static void
hreq_closed(uv_handle_t *h)
{
	struct hreq	*q = h->data;
	struct gp_link	*l = q->l;

	if (--q->open > 0)
		return;
	gp_buf_free(&q->out);
	gp_buf_free(&q->in);
	free(q);
	gp_link_unref(l);
}

/* Reports once (status 0 and NULL on failure), then closes. */
static void
hreq_finish(struct hreq *q, int status, const cJSON *json)
{
	if (q->done)
		return;
	q->done = 1;
	/* Exactly once: a closing link still answers, with status 0. */
	if (q->fn != NULL)
		q->fn(q->data, q->l->closing ? 0 : status, q->l->closing ?
		    NULL : json);
	uv_close((uv_handle_t *)&q->tcp, hreq_closed);
	uv_close((uv_handle_t *)&q->timer, hreq_closed);
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

static void
hreq_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
	struct hreq *q = h->data;

	b->base = gp_buf_tail(&q->in, 16384, &b->len);
}

static void
hreq_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct hreq *q = s->data;

	if (n > 0) {
		q->in.len += (size_t)n;
		q->in.data[q->in.len] = '\0';
		if (q->in.len > 16 * 1024 * 1024)
			hreq_finish(q, 0, NULL);
		return;
	}
	if (n < 0)
		hreq_parse(q);	/* EOF ends the response (Connection: close) */
}

static void
hreq_written(uv_write_t *w, int status)
{
	struct hreq *q = w->data;

	if (status != 0)
		hreq_finish(q, 0, NULL);
}

static void
hreq_connected(uv_connect_t *c, int status)
{
	struct hreq	*q = c->data;
	uv_buf_t	 b;

	if (status != 0) {
		hreq_finish(q, 0, NULL);
		return;
	}
	b = uv_buf_init(q->out.data, (unsigned)q->out.len);
	q->w.data = q;
	if (uv_write(&q->w, (uv_stream_t *)&q->tcp, &b, 1, hreq_written) ||
	    uv_read_start((uv_stream_t *)&q->tcp, hreq_alloc, hreq_read))
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
	uv_tcp_init(l->loop, &q->tcp);
	uv_timer_init(l->loop, &q->timer);
	q->tcp.data = q->timer.data = q->conn.data = q;
	q->open = 2;
	l->handles++;
	uv_timer_start(&q->timer, hreq_timeout, REQ_TIMEOUT_MS, 0);
	if (uv_tcp_connect(&q->conn, &q->tcp, (struct sockaddr *)&l->addr,
	    hreq_connected) != 0)
		hreq_finish(q, 0, NULL);
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

static void
ws_written(uv_write_t *req, int status)
{
	free(req);
}

static ssize_t
ws_send(wslay_event_context_ptr ctx, const uint8_t *p, size_t len, int flags,
    void *data)
{
	struct wsclient	*w = data;
	uv_write_t	*req = gp_xmalloc(sizeof *req + len);
	uv_buf_t	 b;

	memcpy(req + 1, p, len);
	b = uv_buf_init((char *)(req + 1), (unsigned)len);
	if (uv_write(req, (uv_stream_t *)&w->tcp, &b, 1, ws_written) != 0) {
		free(req);
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
	if (cJSON_IsString(type))
		w->l->on_event(w->l->data, type->valuestring,
		    cJSON_GetObjectItemCaseSensitive(o, "data"));
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
ws_closed(uv_handle_t *h)
{
	struct wsclient	*w = h->data;
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
	uv_close((uv_handle_t *)&w->tcp, ws_closed);
}

static void
ws_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
	struct wsclient *w = h->data;

	b->base = gp_buf_tail(&w->in, 16384, &b->len);
}

static void
ws_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	static const struct wslay_event_callbacks cbs = {
		ws_recv, ws_send, ws_genmask, NULL, NULL, NULL, ws_msg,
	};
	struct wsclient	*w = s->data;
	char		*end;

	if (n < 0) {
		ws_fail(w, n == UV_EOF ? "connection closed" :
		    uv_strerror((int)n));
		return;
	}
	w->in.len += (size_t)n;
	w->in.data[w->in.len] = '\0';
	if (!w->upgraded) {
		if ((end = strstr(w->in.data, "\r\n\r\n")) == NULL) {
			if (w->in.len > 16384)
				ws_fail(w, "bad handshake");
			return;
		}
		if (strncmp(w->in.data, "HTTP/1.1 101", 12) != 0) {
			ws_fail(w, "not a greyproxy API");
			return;
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
}

static void
ws_connected(uv_connect_t *c, int status)
{
	struct wsclient	*w = c->data;
	unsigned char	 key[16];
	char		 b64[32], req[512];
	uv_write_t	*wr;
	uv_buf_t	 b;
	int		 n;

	if (status != 0) {
		ws_fail(w, uv_strerror(status));
		return;
	}
	RAND_bytes(key, sizeof key);
	EVP_EncodeBlock((unsigned char *)b64, key, sizeof key);
	n = snprintf(req, sizeof req, "GET /ws HTTP/1.1\r\nHost: %s\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
	    w->l->target, b64);
	wr = gp_xmalloc(sizeof *wr + (size_t)n);
	memcpy(wr + 1, req, (size_t)n);
	b = uv_buf_init((char *)(wr + 1), (unsigned)n);
	if (uv_write(wr, (uv_stream_t *)&w->tcp, &b, 1, ws_written) != 0) {
		free(wr);
		ws_fail(w, "write failed");
		return;
	}
	uv_read_start((uv_stream_t *)&w->tcp, ws_alloc, ws_read);
}

static void
ws_connect(struct gp_link *l)
{
	struct wsclient	*w = gp_xcalloc(1, sizeof *w);

	w->l = l;
	l->ws = w;
	l->handles++;
	uv_tcp_init(l->loop, &w->tcp);
	w->tcp.data = w->conn.data = w;
	if (uv_tcp_connect(&w->conn, &w->tcp, (struct sockaddr *)&l->addr,
	    ws_connected) != 0)
		ws_fail(w, "cannot connect");
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
	if (l->ws != NULL && !l->ws->closing) {
		l->ws->closing = 1;
		uv_close((uv_handle_t *)&l->ws->tcp, ws_closed);
	}
}
