/*
 * ws.c: the event WebSocket (RFC 6455).  Our handshake (SHA-1 + base64
 * from OpenSSL); framing, fragmentation, masking and control frames by
 * wslay, which never owns the socket: bytes go in from the connection's
 * buffer and out through api_write().  A client more than API_WS_QUEUE
 * messages behind is dropped with close code 1008.
 */
#include "config.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api-int.h"

#define WS_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_WQ_MAX	(1024 * 1024)
#define WS_MAX_MSG	(64 * 1024)
#define WS_DROP_MS	10000		/* a dropped client's last chance */

struct ws {
	wslay_event_context_ptr	 ctx;
	uint32_t		 subs;		/* bit per event */
	int			 filtered;	/* after any subscribe */
	int			 focused;
	int			 dropping;
	uint64_t		 drop_ms;	/* when dropping began */
};

static void	flush(struct api_conn *);

static ssize_t
recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
    void *data)
{
	struct api_conn	*c = data;
	size_t		 n = c->in.len < len ? c->in.len : len;

	if (n == 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	memcpy(buf, c->in.data, n);
	api_conn_consume(c, n);
	return (ssize_t)n;
}

static ssize_t
send_cb(wslay_event_context_ptr ctx, const uint8_t *p, size_t len, int flags,
    void *data)
{
	struct api_conn	*c = data;

	if (c->closing || api_queued(c) > WS_WQ_MAX) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	api_write(c, p, len);
	return (ssize_t)len;
}

/*
 * A client that does not read falls behind: past API_WS_QUEUE queued
 * messages (events, command replies and pongs alike) it gets nothing
 * more but its close frame (1008), and is cut off if it does not read
 * that within WS_DROP_MS.  Returns 1 when c is being dropped.
 */
static int
lagging(struct api_conn *c)
{
	static const char why[] = "client too slow";
	struct ws	*ws = c->ws;

	if (ws->dropping) {
		if (uv_now(gp_ctl_loop(c->api->ctl)) - ws->drop_ms > WS_DROP_MS)
			api_conn_close(c);
		return 1;
	}
	if (wslay_event_get_queued_msg_count(ws->ctx) < API_WS_QUEUE)
		return 0;
	gp_log(GP_LOG_WARN, "api ws: client lags behind; dropping it");
	ws->dropping = 1;
	ws->drop_ms = uv_now(gp_ctl_loop(c->api->ctl));
	wslay_event_queue_close(ws->ctx, 1008, (const uint8_t *)why,
	    sizeof why - 1);
	flush(c);
	return 1;
}

/* Queues one JSON object as a text message. */
static void
send_json(struct api_conn *c, cJSON *o)
{
	char			*s;
	struct wslay_event_msg	 m;

	if (lagging(c))
		return;
	s = cJSON_PrintUnformatted(o);
	m.opcode = WSLAY_TEXT_FRAME;
	m.msg = (uint8_t *)s;
	m.msg_length = strlen(s);
	wslay_event_queue_msg(c->ws->ctx, &m);	/* copies the bytes */
	free(s);
}

static cJSON *
typed(const char *type)
{
	cJSON	*o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "type", type);
	gp_json_time(o, "timestamp", gp_now());
	return o;
}

static void
send_error(struct api_conn *c, const char *msg)
{
	cJSON	*o = typed("error");

	cJSON_AddStringToObject(o, "error", msg);
	send_json(c, o);
	cJSON_Delete(o);
}

static int64_t
jid(const cJSON *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, "pending_id");

	if (cJSON_IsNumber(v))
		return (int64_t)v->valuedouble;
	if (cJSON_IsString(v))
		return strtoll(v->valuestring, NULL, 10);
	return 0;
}

static const char *
jstr(const cJSON *b, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One client command. */
static void
command(struct api_conn *c, const char *text, size_t len)
{
	struct gp_ctl	*ctl = c->api->ctl;
	const char	*cmd, *why = "error";
	cJSON		*b = cJSON_ParseWithLength(text, len), *o;
	int64_t		 id, duration;
	int		 scope, ev, rc;

	if (b == NULL || !cJSON_IsObject(b) ||
	    (cmd = jstr(b, "command")) == NULL) {
		send_error(c, "expected {\"command\": ...}");
		gp_log(GP_LOG_WARN, "api ws: malformed command");
		goto out;
	}
	if (strcmp(cmd, "ping") == 0) {
		o = typed("pong");
		send_json(c, o);
		cJSON_Delete(o);
	} else if (strcmp(cmd, "allow") == 0 || strcmp(cmd, "deny") == 0 ||
	    strcmp(cmd, "dismiss") == 0) {
		struct gp_rule rule;

		id = jid(b);
		memset(&rule, 0, sizeof rule);
		scope = gp_scope_parse(jstr(b, "scope"));
		if (scope < 0 || gp_duration_parse(jstr(b, "duration"),
		    &duration) != 0) {
			send_error(c, "invalid scope or duration");
			goto out;
		}
		if (strcmp(cmd, "dismiss") == 0)
			rc = gp_ctl_pending_dismiss(ctl, id);
		else
			rc = gp_ctl_pending_decide(ctl, id, strcmp(cmd,
			    "allow") == 0 ? GP_ALLOW : GP_DENY, scope, duration,
			    jstr(b, "notes"), "admin", &rule, &why);
		if (rc != 0) {
			send_error(c, rc == -ENOENT ?
			    "pending request not found" : why);
			goto out;
		}
		o = typed("command_success");
		cJSON_AddStringToObject(o, "command", cmd);
		cJSON_AddNumberToObject(o, "pending_id", (double)id);
		if (rule.id > 0)
			cJSON_AddNumberToObject(o, "rule_id", (double)rule.id);
		send_json(c, o);
		cJSON_Delete(o);
		gp_rule_clear(&rule);
	} else if (strcmp(cmd, "subscribe") == 0 ||
	    strcmp(cmd, "unsubscribe") == 0) {
		const char *et = jstr(b, "event_type");

		if (et == NULL || (ev = gp_event_parse(et)) < 0) {
			send_error(c, "missing or unknown event_type");
			goto out;
		}
		if (cmd[0] == 's') {
			c->ws->filtered = 1;
			c->ws->subs |= 1u << ev;
		} else
			c->ws->subs &= ~(1u << ev);
		o = typed(cmd[0] == 's' ? "subscribed" : "unsubscribed");
		cJSON_AddStringToObject(o, "event_type", et);
		send_json(c, o);
		cJSON_Delete(o);
	} else if (strcmp(cmd, "presence") == 0) {
		c->ws->focused = cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(b, "focused"));
	} else {
		send_error(c, "unknown command");
	}
out:
	cJSON_Delete(b);
}

static void
on_msg(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *arg, void *data)
{
	struct api_conn *c = data;

	if (arg->opcode == WSLAY_TEXT_FRAME)
		command(c, (const char *)arg->msg, arg->msg_length);
	else if (arg->opcode == WSLAY_BINARY_FRAME)
		send_error(c, "binary messages are not supported");
}

int
api_ws_upgrade(struct api_conn *c, struct api_req *r)
{
	static const struct wslay_event_callbacks cbs = {
		recv_cb, send_cb, NULL, NULL, NULL, NULL, on_msg,
	};
	const struct gp_http_header	*key, *ver, *up;
	unsigned char			 dig[SHA_DIGEST_LENGTH], raw[32];
	char				 accept[64], buf[128];
	struct gp_buf			 b = { 0 };
	cJSON				*o;

	up = gp_http_find(r->m, "upgrade");
	key = gp_http_find(r->m, "sec-websocket-key");
	ver = gp_http_find(r->m, "sec-websocket-version");
	if (strcmp(r->method, "GET") != 0 || up == NULL ||
	    !gp_http_has_token(up->value, "websocket") || key == NULL ||
	    key->value.n != 24 ||
	    EVP_DecodeBlock(raw, (const unsigned char *)key->value.p, 24) !=
	    18) {
		gp_log(GP_LOG_WARN, "api ws: bad handshake");
		static const char bad[] = "HTTP/1.1 400 Bad Request\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n";

		c->close_after = 1;
		api_write(c, bad, sizeof bad - 1);
		return -1;
	}
	if (ver == NULL || !gp_iov_eq(ver->value, "13")) {
		static const char upgrade[] = "HTTP/1.1 426 Upgrade "
		    "Required\r\nSec-WebSocket-Version: 13\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n";

		c->close_after = 1;
		api_write(c, upgrade, sizeof upgrade - 1);
		return -1;
	}
	snprintf(buf, sizeof buf, "%.*s%s", 24, key->value.p, WS_GUID);
	SHA1((const unsigned char *)buf, strlen(buf), dig);
	EVP_EncodeBlock((unsigned char *)accept, dig, sizeof dig);
	gp_buf_printf(&b, "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
	api_write(c, b.data, b.len);
	gp_buf_free(&b);

	c->ws = gp_xcalloc(1, sizeof *c->ws);
	if (wslay_event_context_server_init(&c->ws->ctx, &cbs, c) != 0)
		gp_panic("wslay context");
	wslay_event_config_set_max_recv_msg_length(c->ws->ctx, WS_MAX_MSG);
	o = typed("connected");
	cJSON_AddStringToObject(o, "message", "greyproxy event stream");
	send_json(c, o);
	cJSON_Delete(o);
	flush(c);
	return 0;
}

/* Sends what wslay has queued; closes when the session is over. */
static void
flush(struct api_conn *c)
{
	struct ws *ws = c->ws;

	if (c->closing || ws == NULL)
		return;
	if (wslay_event_send(ws->ctx) != 0) {
		api_conn_close(c);
		return;
	}
	/* Done once wslay has nothing left to do, or, for a client being
	 * dropped, once its close frame is out (no reply awaited). */
	if ((!wslay_event_want_read(ws->ctx) || ws->dropping) &&
	    !wslay_event_want_write(ws->ctx) && api_queued(c) == 0)
		api_conn_close(c);
}

void
api_ws_data(struct api_conn *c)
{
	/* A client being dropped is not listened to any more (its
	 * commands would only queue replies it does not read). */
	if (lagging(c)) {
		api_conn_consume(c, c->in.len);
		return;
	}
	if (wslay_event_recv(c->ws->ctx) != 0) {
		gp_log(GP_LOG_WARN, "api ws: protocol error; closing");
		api_conn_close(c);
		return;
	}
	flush(c);
}

/* Called by server.c when a write finished: continue sending (for a
 * client being dropped, that is how its close frame gets out). */
void
api_ws_written(struct api_conn *c)
{
	if (c->ws != NULL)
		flush(c);
}

void
api_ws_event(void *data, enum gp_event ev, const void *obj)
{
	struct gp_api	*api = data;
	struct api_conn	*c, *next;
	char		*text = NULL;
	cJSON		*o;

	for (c = api->conns; c != NULL; c = next) {
		next = c->next;
		if (c->ws == NULL || c->closing)
			continue;
		if (c->ws->filtered && !(c->ws->subs & (1u << ev)))
			continue;
		if (lagging(c))
			continue;
		if (text == NULL) {
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "type", gp_event_name(ev));
			cJSON_AddItemToObject(o, "data", gp_json_event(ev,
			    obj));
			text = cJSON_PrintUnformatted(o);
			cJSON_Delete(o);
		}
		{
			struct wslay_event_msg m = { WSLAY_TEXT_FRAME,
			    (uint8_t *)text, strlen(text) };

			wslay_event_queue_msg(c->ws->ctx, &m);
		}
		flush(c);
	}
	free(text);
}

void
api_ws_free(struct api_conn *c)
{
	if (c->ws == NULL)
		return;
	wslay_event_context_free(c->ws->ctx);
	free(c->ws);
	c->ws = NULL;
}
