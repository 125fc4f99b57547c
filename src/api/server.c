/*
 * server.c: the API's HTTP/1.1 server on the loop, sharing the proxy's
 * parser.  Keep-alive, bodies by Content-Length up to 1 MiB, and two
 * guards for a policy endpoint reachable from a browser: the Host header
 * must name loopback (DNS rebinding), and a request from a web page (an
 * Origin that is not this API's own, Origin: null, Sec-Fetch-Site
 * cross-site) is refused.  Limits: API_MAX_CONNS connections, a whole
 * request within --header-timeout of its first byte, API_IDLE_MS between
 * requests, API_MAX_BUFFERED request bytes held across connections.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api-int.h"
#include "net/net.h"

static int	on_read(struct gp_stream *, char *, ssize_t);
static void	on_written(struct gp_stream *, int);
static void	process(struct api_conn *);
static void	on_listener_closed(uv_handle_t *);

static void
api_unref(struct gp_api *api)
{
	if (--api->handles == 0)
		free(api);
}

static void	on_timer(uv_timer_t *);

static const struct gp_stream_cbs conn_cbs = {
	.read = on_read,
	.written = on_written,
};

static void
conn_unref(struct api_conn *c)
{
	struct gp_api	*api = c->api;

	if (--c->handles > 0)
		return;
	api->nconns--;
	api->buffered -= c->in.len;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		api->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->later != NULL)
		c->later->c = NULL;	/* the reply will find nobody */
	api_ws_free(c);
	gp_buf_free(&c->in);
	free(c);
	api_unref(api);
}

static void
on_timer_closed(uv_handle_t *h)
{
	conn_unref(h->data);
}

static void
on_stream_closed(struct gp_stream *st)
{
	conn_unref(st->data);
}

static void
on_tcp_closed(uv_handle_t *h)
{
	struct api_conn *c = h->data;

	free(h);
	conn_unref(c);
}

void
api_conn_close(struct api_conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	if (c->st != NULL)
		gp_stream_close(c->st, on_stream_closed);
	uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

/* Drops n request bytes from the front of the connection's buffer. */
void
api_conn_consume(struct api_conn *c, size_t n)
{
	gp_buf_consume(&c->in, n);
	c->api->buffered -= n;
}

/* The next request must arrive whole within API_REQUEST_MS of its
 * first byte; before that byte the connection may idle API_IDLE_MS. */
static void
arm(struct api_conn *c)
{
	c->in_request = c->in.len > 0;
	uv_timer_start(&c->timer, on_timer, c->in_request ?
	    c->api->request_ms : c->api->idle_ms, 0);
}

static void
on_timer(uv_timer_t *t)
{
	struct api_conn *c = t->data;

	if (c->ws != NULL)
		return;
	gp_log(GP_LOG_DEBUG, "api: %s; closing", c->in_request ?
	    "request not complete in time" : "idle connection");
	if (c->in_request) {
		static const char slow[] = "HTTP/1.1 408 Request Timeout\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n";

		c->close_after = 1;
		api_write(c, slow, sizeof slow - 1);
	} else
		api_conn_close(c);
}

/* Written: a WebSocket continues; a reply that ends the connection
 * closes it once everything is out. */
static void
on_written(struct gp_stream *st, int status)
{
	struct api_conn *c = st->data;

	if (c->closing)
		return;
	if (status != 0)
		api_conn_close(c);
	else if (c->ws != NULL)
		api_ws_written(c);	/* wslay's state decides the close */
	else if (c->close_after && gp_stream_queued(c->st) == 0)
		api_conn_close(c);
}

void
api_write(struct api_conn *c, const void *p, size_t n)
{
	if (c->closing || n == 0)
		return;
	if (gp_stream_write(c->st, p, n) != 0) {
		api_conn_close(c);
		return;
	}
	/* Written at once (no callback follows): the close is now. */
	if (c->close_after && c->ws == NULL && gp_stream_queued(c->st) == 0)
		api_conn_close(c);
}

size_t
api_queued(const struct api_conn *c)
{
	return c->st != NULL ? gp_stream_queued(c->st) : 0;
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct gp_api	*api = server->data;
	struct api_conn	*c;
	uv_tcp_t	*tcp;

	if (status != 0) {
		gp_net_accept_failed("api", status);
		return;
	}
	if (api->stopping)
		return;
	c = gp_xcalloc(1, sizeof *c);
	c->api = api;
	tcp = gp_xcalloc(1, sizeof *tcp);
	uv_tcp_init(server->loop, tcp);
	tcp->data = c;
	uv_timer_init(server->loop, &c->timer);
	c->timer.data = c;
	c->handles = 2;
	api->handles++;
	api->nconns++;
	c->next = api->conns;
	if (api->conns != NULL)
		api->conns->prev = c;
	api->conns = c;
	if (uv_accept(server, (uv_stream_t *)tcp) != 0) {
		uv_close((uv_handle_t *)tcp, on_tcp_closed);
		c->closing = 1;
		uv_close((uv_handle_t *)&c->timer, on_timer_closed);
		return;
	}
	c->st = gp_stream_tcp_new(tcp, &conn_cbs, c);
	if (api->nconns > API_MAX_CONNS) {
		if (api->refused++ == 0)
			gp_log(GP_LOG_WARN, "api: more than %d connections; "
			    "refusing new ones", API_MAX_CONNS);
		api_conn_close(c);
		return;
	}
	if (api->refused > 0) {
		gp_log(GP_LOG_WARN, "api: accepting again; %llu connections "
		    "were refused", (unsigned long long)api->refused);
		api->refused = 0;
	}
	gp_net_accepted("api", (uv_stream_t *)gp_stream_tcp(c->st));
	arm(c);
	gp_stream_read_start(c->st);
}

/* A read: appended to the connection's input (the block goes back). */
static int
on_read(struct gp_stream *st, char *block, ssize_t n)
{
	struct api_conn *c = st->data;

	if (n < 0) {
		api_conn_close(c);
		return 0;
	}
	gp_buf_add(&c->in, block, (size_t)n);
	c->api->buffered += (size_t)n;
	c->in.data[c->in.len] = '\0';
	if (c->ws == NULL && !c->in_request && c->in.len > 0)
		arm(c);
	if (c->ws != NULL)
		api_ws_data(c);
	else if (c->later != NULL) {
		/* A reply is owed: hold what follows, within one body's worth. */
		if (c->in.len > API_MAX_BODY)
			gp_stream_read_stop(st);
	} else
		process(c);
	return 0;
}

/* Writes a complete JSON response. */
static void
reply(struct api_conn *c, int status, cJSON *json, int close)
{
	char		*body = json ? cJSON_PrintUnformatted(json) : NULL;
	struct gp_buf	 b = { 0 };
	size_t		 blen = body ? strlen(body) : 0;

	gp_buf_printf(&b, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n%s\r\n", status,
	    gp_http_status_text(status), blen,
	    close ? "Connection: close\r\n" : "");
	if (body != NULL)
		gp_buf_add(&b, body, blen);
	if (close)
		c->close_after = 1;
	api_write(c, b.data, b.len);
	gp_buf_free(&b);
	free(body);
}

/* Writes a file as an attachment. */
static void
reply_raw(struct api_conn *c, const struct api_resp *resp, int close)
{
	struct gp_buf	b = { 0 };

	gp_buf_printf(&b, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Disposition: attachment; filename=\"%s\"\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n%s\r\n", resp->status,
	    gp_http_status_text(resp->status), resp->content_type,
	    resp->filename, resp->raw_len, close ? "Connection: close\r\n" :
	    "");
	gp_buf_add(&b, resp->raw, resp->raw_len);
	if (close)
		c->close_after = 1;
	api_write(c, b.data, b.len);
	gp_buf_free(&b);
}

static void
reply_error(struct api_conn *c, int status, const char *msg, int close)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "error", msg);
	reply(c, status, o, close);
	cJSON_Delete(o);
}

/* Is "host[:port]" a loopback name or address? */
static int
loopback_authority(const char *p, size_t n)
{
	char		 host[256];
	const char	*end = p + n, *colon;
	size_t		 hl;

	if (n == 0)
		return 0;
	if (*p == '[') {
		const char *rb = memchr(p, ']', n);

		if (rb == NULL)
			return 0;
		hl = (size_t)(rb - p - 1);
		if (hl >= sizeof host)
			return 0;
		memcpy(host, p + 1, hl);
		host[hl] = '\0';
		return strcmp(host, "::1") == 0;
	}
	colon = memchr(p, ':', n);
	hl = colon ? (size_t)(colon - p) : (size_t)(end - p);
	if (hl == 0 || hl >= sizeof host)
		return 0;
	memcpy(host, p, hl);
	host[hl] = '\0';
	if (strcasecmp(host, "localhost") == 0)
		return 1;
	return strncmp(host, "127.", 4) == 0 && gp_host_ip_family(host) == 4;
}

/* Is the Origin value this API's own origin (http, loopback, our port)? */
static int
own_origin(const struct gp_api *api, struct gp_iov v)
{
	const char	*p = v.p, *colon;
	size_t		 n = v.n;
	unsigned	 port = 0;

	if (n <= 7 || strncasecmp(p, "http://", 7) != 0)
		return 0;	/* "null", https://, anything else */
	p += 7;
	n -= 7;
	if (!loopback_authority(p, n))
		return 0;
	/* The port is what follows the last colon (after "]" for v6). */
	colon = p + n;
	while (colon > p && colon[-1] >= '0' && colon[-1] <= '9')
		colon--;
	if (colon == p || colon[-1] != ':' || colon == p + n ||
	    p + n - colon > 5)
		return 0;
	for (; colon < p + n; colon++)
		port = port * 10 + (unsigned)(*colon - '0');
	return port == api->port;
}

/*
 * Refuses what a hostile web page could send; returns 0 when fine.  A
 * page can make a browser send a "simple" POST (text/plain, no
 * preflight) to any port, so every request with an Origin must come
 * from this API's own origin: "null" (sandboxed frames, file: pages)
 * and other loopback ports (other applications) are refused.  Clients
 * that send no Origin (greywall, curl, the TUI) are not browsers.
 */
static int
check_origin(struct api_conn *c, const struct gp_http_msg *m)
{
	const struct gp_http_header *h;

	h = gp_http_find(m, "host");
	if (h == NULL || !loopback_authority(h->value.p, h->value.n)) {
		gp_log(GP_LOG_WARN, "api: refused request with a non-loopback "
		    "Host header");
		reply_error(c, 403, "Host header must name a loopback address",
		    1);
		return -1;
	}
	h = gp_http_find(m, "sec-fetch-site");
	if (h != NULL && (gp_iov_eq(h->value, "cross-site") ||
	    gp_iov_eq(h->value, "same-site"))) {
		gp_log(GP_LOG_WARN, "api: refused a cross-site request");
		reply_error(c, 403, "cross-site requests are refused", 1);
		return -1;
	}
	h = gp_http_find(m, "origin");
	if (h != NULL && !own_origin(c->api, h->value)) {
		char esc[128];

		gp_log(GP_LOG_WARN, "api: refused a request from origin %s",
		    gp_log_escape(esc, sizeof esc, h->value.p, h->value.n));
		reply_error(c, 403, "requests from web pages are refused", 1);
		return -1;
	}
	return 0;
}

/* Splits target into path and query (both NUL-terminated copies). */
static int
split_target(struct api_req *r, struct gp_iov t)
{
	const char	*q = memchr(t.p, '?', t.n);
	size_t		 pl = q ? (size_t)(q - t.p) : t.n;

	if (pl == 0 || t.p[0] != '/' || pl >= sizeof r->path ||
	    (q && t.n - pl - 1 >= sizeof r->query))
		return -1;
	memcpy(r->path, t.p, pl);
	r->path[pl] = '\0';
	r->query[0] = '\0';
	if (q != NULL) {
		memcpy(r->query, q + 1, t.n - pl - 1);
		r->query[t.n - pl - 1] = '\0';
	}
	return 0;
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

int
api_query(const struct api_req *r, const char *key, char *out, size_t outlen)
{
	const char	*p = r->query;
	size_t		 kl = strlen(key);

	while (*p != '\0') {
		const char *amp = strchr(p, '&'), *end = amp ? amp :
		    p + strlen(p);

		if ((size_t)(end - p) >= kl && strncmp(p, key, kl) == 0 &&
		    (p[kl] == '=' || p + kl == end)) {
			const char *v = p[kl] == '=' ? p + kl + 1 : end;
			size_t	    o = 0;

			while (v < end && o + 1 < outlen) {
				if (*v == '%' && end - v >= 3 &&
				    hexval(v[1]) >= 0 && hexval(v[2]) >= 0) {
					out[o++] = (char)(hexval(v[1]) * 16 +
					    hexval(v[2]));
					v += 3;
				} else {
					out[o++] = *v == '+' ? ' ' : *v;
					v++;
				}
			}
			out[o] = '\0';
			return 1;
		}
		if (amp == NULL)
			break;
		p = amp + 1;
	}
	return 0;
}

/* Handles every complete request in the buffer (pipelining). */
static void
process(struct api_conn *c)
{
	struct gp_http_msg	 m;
	struct gp_http_err	 err;
	struct api_req		 r;
	struct api_resp		 resp;
	int			 n;
	size_t			 total;

	while (!c->closing && !c->close_after && c->ws == NULL &&
	    c->later == NULL && c->in.len > 0) {
		if (c->head_len == 0) {
			n = gp_http_scan_head(&c->scan, c->in.data, c->in.len,
			    1, &err);
			if (n == GP_AGAIN)
				return;
			memset(&c->scan, 0, sizeof c->scan);
			c->head_len = n > 0 ? (size_t)n : 0;
		}
		n = c->head_len > 0 ? gp_http_parse_request(c->in.data,
		    c->head_len, &m, &err) : GP_EPROTO;
		if (n < 0) {
			gp_log(GP_LOG_WARN, "api: %d %s", err.status, err.why);
			reply_error(c, err.status, err.why, 1);
			return;
		}
		if (m.chunked) {
			reply_error(c, 411, "send a Content-Length body", 1);
			return;
		}
		if (m.content_length > (m.target.n >= 17 && memcmp(m.target.p,
		    "/api/rules/ingest", 17) == 0 ? API_MAX_INGEST :
		    API_MAX_BODY)) {
			reply_error(c, 413, "request body too large", 1);
			return;
		}
		total = (size_t)n + (size_t)(m.content_length > 0 ?
		    m.content_length : 0);
		if (total > c->in.len && c->api->buffered + total -
		    c->in.len > API_MAX_BUFFERED) {
			gp_log(GP_LOG_WARN, "api: %zu request bytes held; "
			    "refusing a %zu-byte body", c->api->buffered,
			    (size_t)m.content_length);
			reply_error(c, 503, "too many request bodies in "
			    "flight; try again", 1);
			return;
		}
		if (c->in.len < total)
			return;		/* the body is still arriving */
		if (check_origin(c, &m) != 0)
			return;
		memset(&r, 0, sizeof r);
		r.ctl = c->api->ctl;
		r.c = c;
		r.m = &m;
		snprintf(r.method, sizeof r.method, "%.*s",
		    (int)(m.method.n < 15 ? m.method.n : 15), m.method.p);
		if (split_target(&r, m.target) != 0) {
			reply_error(c, 400, "bad request target", 1);
			return;
		}
		r.body = c->in.data + n;
		r.body_len = total - (size_t)n;
		if (m.upgrade && (strcmp(r.path, "/ws") == 0 ||
		    strcmp(r.path, "/api/ws") == 0)) {
			if (api_ws_upgrade(c, &r) == 0) {
				uv_timer_stop(&c->timer);
				api_conn_consume(c, total);
				c->head_len = 0;
				if (c->in.len > 0)
					api_ws_data(c);
			}
			return;
		}
		memset(&resp, 0, sizeof resp);
		if (api_route(&r, &resp) != 0)
			api_error(&resp, 404, "not found");
		if (resp.later != NULL) {
			resp.later->total = total;
			resp.later->close = !m.keep_alive;
			uv_timer_stop(&c->timer);	/* ours to be slow */
			return;
		}
		if (resp.raw != NULL)
			reply_raw(c, &resp, !m.keep_alive);
		else
			reply(c, resp.status, resp.json, !m.keep_alive);
		cJSON_Delete(resp.json);
		free(resp.raw);
		api_conn_consume(c, total);
		c->head_len = 0;
		arm(c);
	}
}

struct api_later *
api_defer(struct api_req *r, struct api_resp *resp)
{
	struct api_later *l = gp_xcalloc(1, sizeof *l);

	if (r->c != NULL) {
		l->c = r->c;
		r->c->later = l;
	} else {
		l->link = r->link;
		l->fn = r->link_fn;
		l->data = r->link_data;
		gp_link_hold(l->link);	/* it lives until answered */
	}
	resp->later = l;
	return l;
}

/* The work could not start after all: the reply is given now. */
void
api_undefer(struct api_req *r, struct api_resp *resp)
{
	struct api_later *l = resp->later;

	if (l->link != NULL)
		gp_link_unref(l->link);	/* not closing: it runs this one */
	else
		r->c->later = NULL;
	free(l);
	resp->later = NULL;
}

int
api_can_defer(const struct api_req *r)
{
	return r->c != NULL || r->link != NULL;
}

void
api_later_reply(struct api_later *l, int status, cJSON *json)
{
	struct api_resp resp = { .status = status, .json = json };

	api_later_send(l, &resp);
}

void
api_later_send(struct api_later *l, struct api_resp *resp)
{
	struct api_conn	*c = l->c;

	if (l->link != NULL) {
		if (resp->raw != NULL) {	/* a file: its text, as JSON */
			if (resp->json == NULL)
				resp->json = cJSON_CreateObject();
			cJSON_AddItemToObject(resp->json, "content",
			    cJSON_CreateString(resp->raw));
		}
		gp_link_later(l->link, l->fn, l->data, resp->status,
		    resp->json);
		free(resp->raw);
		free(l);
		return;
	}
	if (c != NULL && !c->closing) {
		c->later = NULL;
		gp_stream_read_start(c->st);
		if (resp->raw != NULL)
			reply_raw(c, resp, l->close);
		else
			reply(c, resp->status, resp->json, l->close);
		api_conn_consume(c, l->total);
		c->head_len = 0;
		arm(c);
		process(c);		/* requests pipelined behind it */
	} else if (c != NULL)
		c->later = NULL;
	cJSON_Delete(resp->json);
	free(resp->raw);
	free(l);
}

int
gp_api_start(struct gp_api **out, struct gp_ctl *ctl, const char *addr,
    struct sockaddr_storage *bound, char **err)
{
	struct gp_api		*api = gp_xcalloc(1, sizeof *api);
	struct sockaddr_storage	 ss;
	const char		*why;
	const struct gp_config	*cfg;
	int			 rc;

	*err = NULL;
	if (gp_addr_parse(addr, &ss, &why) != 0) {
		gp_xasprintf(err, "api %s: %s", addr, why);
		free(api);
		return -1;
	}
	api->ctl = ctl;
	cfg = gp_ctl_config(ctl);
	api->request_ms = cfg != NULL && cfg->header_timeout_ms ?
	    cfg->header_timeout_ms : API_REQUEST_MS;
	/* Idle keep-alive: 60 s, or --idle-timeout when shorter. */
	api->idle_ms = cfg != NULL && cfg->idle_timeout_ms &&
	    cfg->idle_timeout_ms < API_IDLE_MS ? cfg->idle_timeout_ms :
	    API_IDLE_MS;
	rc = gp_listen_tcp(gp_ctl_loop(ctl), &api->tcp, (struct sockaddr *)&ss,
	    on_connection, bound);
	api->tcp.data = api;
	api->handles = 1;
	if (rc != 0) {
		gp_xasprintf(err, _("cannot listen on %s for %s: %s"), addr,
		    "api", uv_strerror(rc));
		api->stopping = 1;
		uv_close((uv_handle_t *)&api->tcp, on_listener_closed);
		return -1;
	}
	gp_ctl_own_listener(ctl, (struct sockaddr *)bound);
	api->port = gp_addr_port((struct sockaddr *)bound);
	api->bus_sub = gp_bus_subscribe(gp_ctl_bus(ctl), api_ws_event, api);
	{
		char buf[GP_ADDR_STRLEN];

		gp_addr_format((struct sockaddr *)bound, buf, sizeof buf);
		gp_log(GP_LOG_INFO, "api listening on %s", buf);
	}
	*out = api;
	return 0;
}

static void
on_listener_closed(uv_handle_t *h)
{
	api_unref(h->data);
}

void
gp_api_stop(struct gp_api *api)
{
	struct api_conn	*c, *next;

	if (api == NULL || api->stopping)
		return;
	api->stopping = 1;
	gp_bus_unsubscribe(gp_ctl_bus(api->ctl), api->bus_sub);
	for (c = api->conns; c != NULL; c = next) {
		next = c->next;
		api_conn_close(c);
	}
	uv_close((uv_handle_t *)&api->tcp, on_listener_closed);
}
