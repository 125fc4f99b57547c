/*
 * intercept.c: what a decided tunnel carries is read where it can be.
 * A client that speaks first with a TLS ClientHello is terminated with
 * greyproxy's leaf for its name, the origin is reached over TLS that
 * verifies it, and the HTTP/1.1 inside runs through the exchange
 * (transactions, filters) instead of being relayed blind.  A client
 * that speaks first with an HTTP/1.x request line runs through the
 * exchange as it is, in the clear: greywall sends every connection of a
 * sandbox through SOCKS5, so its plain HTTP (a package mirror, a model
 * served on the local network) would otherwise escape request rules,
 * credential checks and capture.  Anything else — an origin that speaks
 * first, another protocol, a client silent past the deadline, a host on
 * mitmBypass — is relayed untouched.
 *
 * The tunnel's connection-log row stays the tunnel's (CONNECT or SOCKS5,
 * every byte); each request inside is a transaction, judged and stored
 * for the tunnel's destination whatever its Host header says.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/flow.h"

struct mitm_front {
	struct gp_exchange	x;	/* first: f->proto is both */
	char			name[GP_SNI_MAX];	/* SNI, else host */
	char			sni[GP_SNI_MAX];	/* as the client sent */
	int			up;	/* 0 handshaking, 1 ok, -1 failed */
	int			plain;	/* HTTP in the clear: no TLS */
	char			up_why[200];
};

static enum gp_ex_next mitm_request(struct gp_flow *, struct gp_exchange *,
		    const struct gp_http_msg *, size_t);
static void	mitm_refuse(struct gp_flow *, enum gp_reason);
static void	mitm_connected(struct gp_flow *);
static void	mitm_free(struct gp_flow *);

#define MITM_OPS(label) {						\
	.method = label,						\
	.data = gp_exchange_data,					\
	.data_block = gp_exchange_data_block,				\
	.eof = gp_exchange_eof,						\
	.refuse = mitm_refuse,						\
	.connected = mitm_connected,					\
	.timeout = gp_exchange_timeout,					\
	.free = mitm_free,						\
	.closing = gp_exchange_closing,					\
}
static const struct gp_flow_ops mitm_http_ops = MITM_OPS("HTTP");
static const struct gp_flow_ops mitm_socks_ops = MITM_OPS("SOCKS5");

static const struct gp_exchange_ops mitm_exchange = {
	.request = mitm_request,
};

static int
is_ip(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static void
mitm_free(struct gp_flow *f)
{
	struct mitm_front *mf = f->proto;

	if (mf != NULL)
		gp_exchange_free(&mf->x);
	free(mf);
}

/* The bytes buffered on either side go on, then the relay. */
void
gp_intercept_pass(struct gp_flow *f)
{
	if (f->sniffing)
		gp_flow_set_timeout(f, f->px->opts.idle_timeout_ms);
	f->sniffing = 0;
	if (f->tap_ops != NULL) {	/* bytes read with the 101's head */
		if (f->c.in.len > 0)
			f->tap_ops->data(f->tap, GP_TXN_REQUEST, f->c.in.data,
			    f->c.in.len);
		if (f->u.in.len > 0)
			f->tap_ops->data(f->tap, GP_TXN_RESPONSE,
			    f->u.in.data, f->u.in.len);
	}
	if (f->c.in.len > 0) {
		gp_flow_write(&f->u, f->c.in.data, f->c.in.len);
		gp_buf_reset(&f->c.in);
	}
	if (f->u.in.len > 0) {
		gp_flow_write(&f->c, f->u.in.data, f->u.in.len);
		gp_buf_reset(&f->u.in);
	}
	if (!f->closing)
		gp_relay_start(f);
}

static void
client_done(struct gp_stream *st, int status, const char *why)
{
	struct gp_flow *f = ((struct gp_side *)st->data)->f;

	if (status == 0)
		return;
	/* Most often: the client does not trust greyproxy's CA. */
	gp_log(GP_LOG_WARN, "%s %s: %s:%u: the client refused interception: "
	    "%s", f->ops->method, f->identity, f->host, f->port, why);
	gp_flow_close(f);
}

static void
upstream_done(struct gp_stream *st, int status, const char *why)
{
	struct gp_flow		*f = ((struct gp_side *)st->data)->f;
	struct mitm_front	*mf = f->proto;
	char			 line[700];

	if (status == 0) {
		mf->up = 1;
		if (SSL_session_reused(gp_stream_tls_ssl(st)))
			f->px->stats.resumed++;
		return;
	}
	mf->up = -1;
	snprintf(mf->up_why, sizeof mf->up_why, "%s", why);
	gp_log(GP_LOG_WARN, "%s %s: %s:%u: upstream TLS failed: %s",
	    f->ops->method, f->identity, f->host, f->port, why);
	gp_flow_close_side(&f->u);
	if (mf->x.txn != NULL && !mf->x.got_resp) {
		/* A request went (into the TLS layer) and waits: answer it. */
		snprintf(line, sizeof line, "greyproxy: TLS to %s:%u failed: %s",
		    mf->name, f->port, why);
		gp_flow_refused(f, GP_R_UPSTREAM_TLS);
		gp_exchange_refuse(f, 502, gp_reason_token(GP_R_UPSTREAM_TLS),
		    line);
	}
}

/* f->u is a fresh TCP connection to the origin: TLS on it, verified. */
static int
wrap_upstream(struct gp_flow *f)
{
	struct mitm_front	*mf = f->proto;
	SSL			*ssl;

	ssl = gp_mitm_client_ssl(f->px->mitm, mf->sni[0] ? mf->sni :
	    is_ip(f->host) ? NULL : f->host, mf->name);
	if (ssl == NULL)
		return -1;
	mf->up = 0;
	f->u.st = gp_stream_tls_new(f->px->loop, f->u.st, ssl, 0, NULL, 0,
	    gp_flow_side_cbs(), &f->u, upstream_done);
	return 0;
}

static void
mitm_connected(struct gp_flow *f)
{
	struct mitm_front *mf = f->proto;

	if (!mf->plain && gp_stream_tls_ssl(f->u.st) == NULL &&
	    wrap_upstream(f) != 0) {
		gp_flow_close(f);
		return;
	}
	gp_exchange_send(f);
}

static void
mitm_refuse(struct gp_flow *f, enum gp_reason r)
{
	char line[700];

	snprintf(line, sizeof line, "greyproxy: %s:%u: %s", f->host, f->port,
	    gp_reason_token(r));
	gp_exchange_refuse(f, gp_reason_http_status(r), gp_reason_token(r),
	    line);
}

/*
 * A request in the clear inside a tunnel goes on as the client wrote it:
 * its target (an absolute-form one too: the tunnel may lead to another
 * proxy) and its Host (a server behind an address may serve several
 * names).  Neither moves the destination, which is the tunnel's; shown
 * is the path the transaction and the rules see.  0, or answered 400.
 */
static int
plain_target(struct gp_flow *f, const struct gp_http_msg *m,
    struct gp_url *u, struct gp_iov *shown)
{
	const struct gp_http_header	*h = gp_http_find(m, "host");
	struct gp_url			 abs;
	const char			*why = NULL;
	int				 absolute = m->target.n > 0 &&
	    m->target.p[0] != '/' && m->target.p[0] != '*';

	memset(&abs, 0, sizeof abs);
	if (absolute)
		(void)gp_url_parse_absolute(m->target, &abs, &why);
	if (why == NULL && h != NULL)
		(void)gp_url_parse_host(h->value, u, &why);
	else if (why == NULL) {		/* no Host: the target's, or ours */
		snprintf(u->host, sizeof u->host, "%s", absolute ? abs.host :
		    f->host);
		u->port = absolute ? abs.port : f->port;
	}
	if (why != NULL) {
		gp_exchange_error(f, 400, gp_reason_token(GP_R_BAD_REQUEST),
		    why, 1);
		return -1;
	}
	u->https = abs.https;	/* Host's port shown unless the default */
	u->path = m->target;
	*shown = absolute ? abs.path : m->target;
	return 0;
}

static enum gp_ex_next
mitm_request(struct gp_flow *f, struct gp_exchange *x,
    const struct gp_http_msg *m, size_t n)
{
	struct mitm_front	*mf = f->proto;
	struct gp_url		 u;
	struct gp_iov		 shown;
	char			 line[700];

	memset(&u, 0, sizeof u);
	shown = m->target;
	if (mf->plain) {
		if (plain_target(f, m, &u, &shown) != 0)
			return GP_EX_DONE;
	} else if (m->target.n == 0 || (m->target.p[0] != '/' &&
	    !(m->target.n == 1 && m->target.p[0] == '*'))) {
		gp_exchange_error(f, 400, gp_reason_token(GP_R_BAD_REQUEST),
		    "greyproxy: an intercepted request takes an origin-form "
		    "target", 1);
		return GP_EX_DONE;
	} else {
		snprintf(u.host, sizeof u.host, "%s", mf->name);
		u.port = f->port;
		u.https = 1;
		u.path = m->target;
	}
	gp_exchange_head_reset(x, 0);
	gp_http_build_request(&x->head, m, &u, !x->client_keep,
	    (x->upgrade ? GP_KEEP_UPGRADE : 0) | x->keep);
	gp_exchange_begin(f, m);
	if (x->txn != NULL) {
		x->txn->tls = !mf->plain;
		/* Stored and shown for the tunnel's destination: the path
		 * only, never a host the client named. */
		x->txn->target = gp_arena_strndup(&x->txn->arena, shown.p,
		    shown.n);
	}
	gp_flow_consume(&f->c, n);
	if (mf->up < 0) {
		snprintf(line, sizeof line, "greyproxy: TLS to %s:%u failed: %s",
		    mf->name, f->port, mf->up_why);
		gp_flow_refused(f, GP_R_UPSTREAM_TLS);
		gp_exchange_refuse(f, 502, gp_reason_token(GP_R_UPSTREAM_TLS),
		    line);
		return GP_EX_DONE;
	}
	if (f->u.st == NULL) {		/* the origin closed: again */
		gp_flow_reconnect(f);
		return GP_EX_WAIT;
	}
	gp_exchange_send(f);
	return GP_EX_WAIT;
}

/* The front end that decided hands the tunnel over to an exchange. */
static struct mitm_front *
take_over(struct gp_flow *f, const char *name, const char *sni)
{
	struct mitm_front *mf = gp_xcalloc(1, sizeof *mf);

	gp_exchange_init(&mf->x, &mitm_exchange);
	snprintf(mf->name, sizeof mf->name, "%s", name);
	snprintf(mf->sni, sizeof mf->sni, "%s", sni);
	if (f->ops->free != NULL)
		f->ops->free(f);
	f->ops = strcmp(f->ops->method, "SOCKS5") == 0 ? &mitm_socks_ops :
	    &mitm_http_ops;
	f->proto = mf;
	f->sniffing = 0;
	f->tunnel = 0;
	f->intercepted = 1;
	return mf;
}

/* HTTP/1.x in the clear: the exchange reads what was sniffed. */
static void
read_plain(struct gp_flow *f)
{
	struct mitm_front *mf = take_over(f, f->host, "");

	mf->plain = 1;
	mf->up = 1;
	mf->x.keep = GP_KEEP_PROXY_AUTH;	/* for a proxy beyond */
	f->px->stats.plain_http++;
	gp_flow_set_deadline(f, f->px->opts.header_timeout_ms);
	f->ops->data(f, &f->c);
}

static void
intercept(struct gp_flow *f, const struct gp_tls_hello *h)
{
	const char	*name = h->sni[0] ? h->sni : f->host;
	SSL		*ssl;

	if ((ssl = gp_mitm_server_ssl(f->px->mitm, name)) == NULL) {
		gp_log(GP_LOG_WARN, "%s %s: no leaf for %s: relayed",
		    f->ops->method, f->identity, name);
		gp_intercept_pass(f);
		return;
	}
	(void)take_over(f, name, h->sni);
	f->px->stats.intercepted++;
	f->c.st = gp_stream_tls_new(f->px->loop, f->c.st, ssl, 1,
	    f->c.in.data, f->c.in.len, gp_flow_side_cbs(), &f->c, client_done);
	gp_buf_reset(&f->c.in);
	if (wrap_upstream(f) != 0) {
		gp_flow_close(f);
		return;
	}
	gp_flow_set_deadline(f, f->px->opts.header_timeout_ms);
	gp_flow_read(&f->c, 1);
}

/* Is name on the mitmBypass list (host globs, any case)? */
static int
bypassed(const struct gp_flow *f, const char *name)
{
	return f->px->settings != NULL &&
	    gp_globs_match(f->px->settings->mitm_bypass, name);
}

/* Bytes arrived while sniffing: decide once the first flight says. */
void
gp_intercept_sniff(struct gp_flow *f, struct gp_side *s)
{
	struct gp_tls_hello	h;
	enum gp_tls_sniff	v;

	if (s == &f->u) {		/* the origin speaks first: not TLS */
		gp_intercept_pass(f);
		return;
	}
	v = gp_tls_sniff(f->c.in.data, f->c.in.len, &h);
	if (v == GP_SNIFF_MORE)
		return;
	if (v == GP_SNIFF_OTHER) {
		enum gp_http_sniff hv = gp_http_sniff(f->c.in.data,
		    f->c.in.len);

		if (hv == GP_HSNIFF_MORE)
			return;
		if (hv == GP_HSNIFF_HTTP && !bypassed(f, f->host))
			read_plain(f);
		else
			gp_intercept_pass(f);
		return;
	}
	if (f->px->mitm == NULL) {	/* TLS, but no CA (or it is off) */
		gp_intercept_pass(f);
		return;
	}
	if ((h.sni[0] && bypassed(f, h.sni)) || bypassed(f, f->host)) {
		gp_log(GP_LOG_DEBUG, "%s %s: %s is on mitmBypass: relayed",
		    f->ops->method, f->identity, h.sni[0] ? h.sni : f->host);
		gp_intercept_pass(f);
		return;
	}
	intercept(f, &h);
}

/* A tunnel is ready: sniff it when interception is on (TLS once a CA
 * exists, plain HTTP always), else relay. */
void
gp_intercept_start(struct gp_flow *f)
{
	int on = f->px->mitm != NULL || (f->px->settings != NULL &&
	    f->px->settings->mitm_enabled);

	if (!on || f->upgraded) {
		gp_intercept_pass(f);
		return;
	}
	f->sniffing = 1;
	if (f->c.in.len > 0) {
		gp_intercept_sniff(f, &f->c);
		if (!f->sniffing)
			return;
	}
	/* A silent client is relayed, no later than an idle tunnel
	 * would be closed. */
	gp_flow_set_deadline(f, f->px->opts.header_timeout_ms <
	    f->px->opts.idle_timeout_ms ? f->px->opts.header_timeout_ms :
	    f->px->opts.idle_timeout_ms);
	gp_flow_read(&f->c, 1);
	gp_flow_read(&f->u, 1);
}
