/*
 * http.c: the forward proxy front end of the exchange (exchange.c):
 * absolute-form requests judged one by one and sent to their origin,
 * the upstream connection switched when the target changes, and CONNECT
 * answered and handed to the tunnel.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/flow.h"

struct http {
	struct gp_exchange	x;	/* first: f->proto is both */
};

static enum gp_ex_next http_request(struct gp_flow *, struct gp_exchange *,
		    const struct gp_http_msg *, size_t);
static void	http_refuse(struct gp_flow *, enum gp_reason);
static void	http_connected(struct gp_flow *);
static void	http_free(struct gp_flow *);

static const struct gp_flow_ops http_ops = {
	.method = "HTTP",
	.data = gp_exchange_data,
	.data_block = gp_exchange_data_block,
	.eof = gp_exchange_eof,
	.refuse = http_refuse,
	.connected = http_connected,
	.timeout = gp_exchange_timeout,
	.free = http_free,
	.closing = gp_exchange_closing,
};

static const struct gp_exchange_ops http_exchange = {
	.request = http_request,
};

void
gp_proxy_accept_http(uv_stream_t *server, int status)
{
	struct gp_flow	*f;
	struct http	*h;

	if (status != 0) {
		gp_net_accept_failed("http", status);
		return;
	}
	f = gp_flow_new(server->data, server, &http_ops);
	if (f != NULL) {
		h = gp_xcalloc(1, sizeof *h);
		gp_exchange_init(&h->x, &http_exchange);
		f->proto = h;
	}
}

static void
http_free(struct gp_flow *f)
{
	struct http *h = f->proto;

	if (h != NULL)
		gp_exchange_free(&h->x);
	free(h);
}

static void
http_refuse(struct gp_flow *f, enum gp_reason r)
{
	char	line[512];

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
	gp_exchange_refuse(f, gp_reason_http_status(r), gp_reason_token(r),
	    line);
}

static enum gp_ex_next
bad_target(struct gp_flow *f, const struct gp_http_msg *m, const char *why)
{
	char	target[160], esc[200];
	size_t	tn = gp_url_redact(m->target, target, sizeof target);

	gp_log(GP_LOG_WARN, "http %s: bad target %s: %s", f->client_addr,
	    gp_log_escape(esc, sizeof esc, target, tn), why);
	gp_exchange_error(f, 400, gp_reason_token(GP_R_BAD_REQUEST), why, 1);
	return GP_EX_DONE;
}

/* A request head: who asks, where to, and the decision. */
static enum gp_ex_next
http_request(struct gp_flow *f, struct gp_exchange *x,
    const struct gp_http_msg *m, size_t n)
{
	const struct gp_http_header	*pa;
	const char			*why = NULL;
	char				 user[128];
	struct gp_url			 u;

	/* Identity: the Basic Proxy-Authorization user, as greywall sends. */
	pa = gp_http_find(m, "proxy-authorization");
	if (pa != NULL && gp_http_basic_user(pa->value, user, sizeof user) ==
	    0)
		gp_flow_set_identity(f, user);
	else
		gp_flow_set_identity(f, NULL);

	if (x->connect) {
		char		host[GP_HOST_MAX];
		unsigned	port;

		if (gp_url_parse_authority(m->target, host, sizeof host, &port,
		    &why) != 0)
			return bad_target(f, m, why);
		gp_flow_consume(&f->c, n);
		snprintf(f->host, sizeof f->host, "%s", host);
		f->port = port;
		/* The tunnel owns the connection from here on; early bytes
		 * stay buffered, and reading on notices a client leaving. */
		gp_flow_close_side(&f->u);
		gp_flow_decide(f);
		return GP_EX_WAIT;
	}
	if (gp_url_parse_absolute(m->target, &u, &why) != 0)
		return bad_target(f, m, why);
	if (u.https) {
		gp_log(GP_LOG_WARN, "http %s: https:// absolute-form refused",
		    f->client_addr);
		gp_exchange_error(f, 501, gp_reason_token(GP_R_NOT_IMPLEMENTED),
		    "greyproxy: use CONNECT for https:// URLs", 1);
		return GP_EX_DONE;
	}
	snprintf(f->host, sizeof f->host, "%s", u.host);
	f->port = u.port;
	gp_exchange_head_reset(x, 0);
	gp_http_build_request(&x->head, m, &u, !x->client_keep,
	    x->upgrade ? GP_KEEP_UPGRADE : 0);
	gp_exchange_begin(f, m);	/* a transaction from here */
	gp_flow_consume(&f->c, n);
	/* A different target needs a different upstream connection. */
	gp_exchange_upstream_for(f, f->host, f->port);
	gp_flow_decide(f);
	return GP_EX_WAIT;
}

static void
http_connected(struct gp_flow *f)
{
	struct http	*h = f->proto;
	static const char established[] =
	    "HTTP/1.1 200 Connection established\r\n\r\n";

	if (h->x.connect) {
		gp_flow_write(&f->c, established, sizeof established - 1);
		gp_flow_tunnel(f);
		return;
	}
	gp_exchange_send(f);
}
