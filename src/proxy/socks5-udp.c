/*
 * socks5-udp.c: UDP ASSOCIATE (RFC 1928 7).  The association lives as
 * long as its TCP control connection.  Datagrams are taken only from
 * the client's address; each destination is judged by the rules like a
 * CONNECT (re-judged every few seconds, so a new rule takes effect), an
 * unmatched one is listed in pending for a person while its datagrams
 * are dropped (UDP clients retry), and local-network addresses need a
 * rule naming them.  Fragments are dropped, as RFC 1928 allows.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/flow.h"

#define UDP_DESTS	64
#define REJUDGE_MS	5000
#define UDP_MAX		65535

enum dstate { D_NEW, D_ALLOWED, D_BLOCKED, D_RESOLVING };

struct udest {
	char			 host[GP_HOST_MAX];
	unsigned		 port;
	enum dstate		 state;
	enum gp_reason		 reason;
	struct sockaddr_storage	 addr;
	uint64_t		 decided_ms;
	struct gp_resolve	*rq;
	struct gp_udp_assoc	*a;
};

struct gp_udp_assoc {
	struct gp_flow		*f;
	uv_udp_t		 relay;		/* the client talks to this */
	uv_udp_t		 up4, up6;	/* to destinations */
	int			 up4_open, up6_open;
	struct sockaddr_storage	 client;
	int			 have_client;
	struct udest		 d[UDP_DESTS];
	size_t			 nd;
};

static void
handle_closed(uv_handle_t *h)
{
	struct gp_udp_assoc *a = h->data;

	gp_flow_release_handle(a->f);
}

static void
alloc_buf(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	static char	buf[UDP_MAX + 300];

	b->base = buf;		/* one reader: the loop thread */
	b->len = sizeof buf;
}

static void
sent(uv_udp_send_t *req, int status)
{
	free(req);
}

static void
send_to(uv_udp_t *u, const struct sockaddr *to, const void *p, size_t n)
{
	uv_udp_send_t	*req = gp_xmalloc(sizeof *req + n);
	uv_buf_t	 b;

	memcpy(req + 1, p, n);
	b = uv_buf_init((char *)(req + 1), (unsigned)n);
	if (uv_udp_send(req, u, &b, 1, to, sent) != 0)
		free(req);
}

/* One connection-log row per decision on a destination. */
static void
log_dest(struct gp_udp_assoc *a, struct udest *d, const char *hostname)
{
	struct gp_flow		*f = a->f;
	struct gp_conn_log	 l;
	char			 req[GP_HOST_MAX + 16], ip[INET6_ADDRSTRLEN];

	snprintf(req, sizeof req, "UDP %s:%u", d->host, d->port);
	memset(&l, 0, sizeof l);
	l.ts = gp_now();
	l.container = f->identity;
	l.client_addr = f->client_addr;
	l.method = "SOCKS5";
	l.request = req;
	l.host = d->host;
	l.port = d->port;
	l.resolved_hostname = hostname && *hostname ? hostname : NULL;
	if (d->state == D_ALLOWED) {
		gp_addr_ip((struct sockaddr *)&d->addr, ip, sizeof ip);
		l.resolved_ip = ip;
	}
	l.allowed = d->state == D_ALLOWED;
	l.reason = gp_reason_label(d->reason);
	gp_proxy_log_row(f->px, &l);
}

static void
set_allowed(struct udest *d, const struct sockaddr_storage *addrs, size_t n)
{
	struct gp_flow	*f = d->a->f;
	struct sockaddr_storage copy[GP_RESOLVE_MAX];

	memcpy(copy, addrs, n * sizeof *addrs);
	if ((n = gp_flow_guard(f, d->port, copy, n, &d->reason)) == 0) {
		d->state = D_BLOCKED;
	} else {
		d->state = D_ALLOWED;
		d->reason = GP_R_NONE;
		d->addr = copy[0];
	}
}

static void
on_resolved(void *data, int status, const struct sockaddr_storage *addrs,
    size_t n)
{
	struct udest *d = data;

	d->rq = NULL;
	if (status != 0 || n == 0) {
		d->state = D_BLOCKED;
		d->reason = GP_R_DNS_FAILED;
	} else
		set_allowed(d, addrs, n);
	d->decided_ms = uv_now(d->a->f->px->loop);
	log_dest(d->a, d, NULL);
}

/* Judges a destination now (rules, pending, resolution, guard). */
static void
judge(struct gp_udp_assoc *a, struct udest *d)
{
	struct gp_flow		*f = a->f;
	struct gp_match		 m;
	struct sockaddr_storage	 addrs[GP_RESOLVE_MAX];
	char			 hostname[GP_HOST_MAX];
	enum dstate		 before = d->state;
	size_t			 n;

	d->decided_ms = uv_now(f->px->loop);
	gp_flow_match(f, d->host, d->port, &m, hostname, sizeof hostname);
	n = gp_resolve_static(f->px->resolver, d->host, d->port, addrs,
	    GP_RESOLVE_MAX);
	if (gp_proxy_self_port(f->px, d->port) && (n == 0 ||
	    gp_proxy_count_self(f->px, addrs, n) > 0)) {
		/* Greyproxy itself (or a name on one of our ports, which
		 * is never held for a person): refused before any rule. */
		d->state = D_BLOCKED;
		d->reason = n == 0 ? GP_R_POLICY : GP_R_SELF;
	} else if (m.matched && m.action == GP_DENY) {
		d->state = D_BLOCKED;
		d->reason = GP_R_DENYLIST;
	} else if (!m.matched) {
		const struct gp_settings *st = f->px->settings;

		d->state = D_BLOCKED;
		d->reason = GP_R_ALLOWLIST;
		if (f->px->pending != NULL && st != NULL &&
		    st->default_action == GP_DEFAULT_PENDING) {
			/* Listed for a person; datagrams wait for a rule. */
			struct gp_pending_key	k;
			struct gp_waiter	w;
			char			req[GP_HOST_MAX + 16];

			snprintf(req, sizeof req, "UDP %s:%u", d->host,
			    d->port);
			memset(&k, 0, sizeof k);
			memset(&w, 0, sizeof w);
			k.container = f->identity;
			k.host = d->host;
			k.port = d->port;
			k.resolved_hostname = hostname[0] ? hostname : NULL;
			k.local = gp_flow_local_destination(d->host);
			k.request = req;
			k.protocol = "SOCKS5";
			if (gp_pending_hold(f->px->pending, &k, &w) != NULL)
				gp_pending_release(f->px->pending, &w);
			/* still "no rule": the datagram is dropped */
		}
	} else if (n > 0) {
		set_allowed(d, addrs, n);
	} else {
		d->state = D_RESOLVING;
		d->rq = gp_resolve(f->px->resolver, d->host, d->port,
		    on_resolved, d);
		if (d->rq == NULL) {
			d->state = D_BLOCKED;
			d->reason = GP_R_DNS_FAILED;
		}
	}
	if (d->state != before && d->state != D_RESOLVING)
		log_dest(a, d, hostname);
}

static struct udest *
find(struct gp_udp_assoc *a, const char *host, unsigned port)
{
	struct udest	*d, *oldest = NULL;
	size_t		 i;

	for (i = 0; i < a->nd; i++)
		if (a->d[i].port == port && strcmp(a->d[i].host, host) == 0)
			return &a->d[i];
	if (a->nd < UDP_DESTS)
		d = &a->d[a->nd++];
	else {
		for (i = 0; i < a->nd; i++)
			if (a->d[i].rq == NULL && (oldest == NULL ||
			    a->d[i].decided_ms < oldest->decided_ms))
				oldest = &a->d[i];
		if ((d = oldest) == NULL)
			return NULL;
	}
	memset(d, 0, sizeof *d);
	snprintf(d->host, sizeof d->host, "%s", host);
	d->port = port;
	d->a = a;
	return d;
}

static uv_udp_t *
up_socket(struct gp_udp_assoc *a, int family);

/* A datagram from the client: judge its destination, relay the data. */
static void
from_client(uv_udp_t *u, ssize_t n, const uv_buf_t *b,
    const struct sockaddr *from, unsigned flags)
{
	struct gp_udp_assoc	*a = u->data;
	struct gp_flow		*f = a->f;
	struct gp_socks5_req	 r;
	struct udest		*d;
	char			 ip[INET6_ADDRSTRLEN];
	int			 hl;
	uv_udp_t		*up;

	if (n <= 0 || from == NULL || f->closing)
		return;
	gp_addr_ip(from, ip, sizeof ip);
	if (strcmp(ip, f->client_ip) != 0 || (f->port != 0 &&
	    gp_addr_port(from) != f->port))
		return;		/* only the associated client */
	if ((hl = gp_socks5_parse_udp((const unsigned char *)b->base,
	    (size_t)n, &r)) < 0) {
		gp_log(GP_LOG_DEBUG, "socks5 udp %s: dropped a bad or "
		    "fragmented datagram", f->client_addr);
		return;
	}
	memcpy(&a->client, from, from->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	a->have_client = 1;
	f->last_active = uv_now(f->px->loop);
	if ((d = find(a, r.host, r.port)) == NULL)
		return;
	if (d->state == D_NEW || (d->state != D_RESOLVING &&
	    uv_now(f->px->loop) - d->decided_ms > REJUDGE_MS))
		judge(a, d);
	if (d->state != D_ALLOWED)
		return;
	if ((up = up_socket(a, d->addr.ss_family)) == NULL)
		return;
	send_to(up, (struct sockaddr *)&d->addr, b->base + hl,
	    (size_t)n - (size_t)hl);
	f->c.nread += (uint64_t)n - (uint64_t)hl;
}

/* A datagram from a destination: back to the client, with its header. */
static void
from_dest(uv_udp_t *u, ssize_t n, const uv_buf_t *b,
    const struct sockaddr *from, unsigned flags)
{
	struct gp_udp_assoc	*a = u->data;
	unsigned char		*out;
	char			 ip[INET6_ADDRSTRLEN], dip[INET6_ADDRSTRLEN];
	size_t			 i, hl;
	int			 known = 0;

	if (n < 0 || from == NULL || !a->have_client || a->f->closing)
		return;
	/* Only answers from destinations the client was allowed to reach. */
	gp_addr_ip(from, ip, sizeof ip);
	for (i = 0; i < a->nd && !known; i++) {
		if (a->d[i].state != D_ALLOWED || gp_addr_port(
		    (struct sockaddr *)&a->d[i].addr) != gp_addr_port(from))
			continue;
		gp_addr_ip((struct sockaddr *)&a->d[i].addr, dip, sizeof dip);
		known = strcmp(ip, dip) == 0;
	}
	if (!known)
		return;
	out = gp_xmalloc((size_t)n + 3 + 19);
	out[0] = out[1] = out[2] = 0;
	hl = 3 + gp_socks5_addr(out + 3, from);
	memcpy(out + hl, b->base, (size_t)n);
	send_to(&a->relay, (struct sockaddr *)&a->client, out, hl + (size_t)n);
	free(out);
	a->f->u.nread += (uint64_t)n;
	a->f->last_active = uv_now(a->f->px->loop);
}

static uv_udp_t *
up_socket(struct gp_udp_assoc *a, int family)
{
	struct sockaddr_storage	 any;
	uv_udp_t		*u = family == AF_INET6 ? &a->up6 : &a->up4;
	int			*open = family == AF_INET6 ? &a->up6_open :
	    &a->up4_open;

	if (*open)
		return u;
	memset(&any, 0, sizeof any);
	any.ss_family = (sa_family_t)family;
	uv_udp_init(a->f->px->loop, u);
	u->data = a;
	*open = 1;
	gp_flow_hold_handle(a->f);
	if (uv_udp_bind(u, (struct sockaddr *)&any, 0) != 0 ||
	    uv_udp_recv_start(u, alloc_buf, from_dest) != 0)
		return NULL;
	return u;
}

void
gp_socks5_udp_start(struct gp_flow *f)
{
	struct gp_udp_assoc	*a = gp_xcalloc(1, sizeof *a);
	struct sockaddr_storage	 local;
	unsigned char		 rep[3 + 19];
	int			 len = sizeof local;
	size_t			 n;

	a->f = f;
	f->udp = a;
	snprintf(f->request, sizeof f->request, "UDP ASSOCIATE");
	/* The relay listens where the client reached us. */
	if (f->c.st == NULL || uv_tcp_getsockname(gp_stream_tcp(f->c.st),
	    (struct sockaddr *)&local, &len) ||
	    uv_udp_init(f->px->loop, &a->relay) != 0) {
		gp_flow_finish(f);
		return;
	}
	a->relay.data = a;
	gp_flow_hold_handle(f);
	((struct sockaddr_in *)&local)->sin_port = 0;	/* same offset in v6 */
	len = sizeof local;
	if (uv_udp_bind(&a->relay, (struct sockaddr *)&local, 0) != 0 ||
	    uv_udp_getsockname(&a->relay, (struct sockaddr *)&local,
	    &len) != 0 ||
	    uv_udp_recv_start(&a->relay, alloc_buf, from_client) != 0) {
		unsigned char fail[10];

		gp_socks5_reply(fail, 0x01);
		gp_flow_write(&f->c, fail, sizeof fail);
		gp_flow_finish(f);
		return;
	}
	rep[0] = 5;
	rep[1] = 0;
	rep[2] = 0;
	n = 3 + gp_socks5_addr(rep + 3, (struct sockaddr *)&local);
	gp_flow_write(&f->c, rep, n);
	gp_flow_set_timeout(f, f->px->opts.idle_timeout_ms);
	gp_flow_read(&f->c, 1);		/* EOF ends the association */
	gp_log(GP_LOG_INFO, "SOCKS5 %s UDP association for %s", f->identity,
	    f->client_addr);
}

void
gp_socks5_udp_close(struct gp_flow *f)
{
	struct gp_udp_assoc	*a = f->udp;
	size_t			 i;

	for (i = 0; i < a->nd; i++) {
		if (a->d[i].rq != NULL) {
			gp_resolve_cancel(a->d[i].rq);
			a->d[i].rq = NULL;
		}
	}
	if (a->relay.data == a && !uv_is_closing((uv_handle_t *)&a->relay))
		uv_close((uv_handle_t *)&a->relay, handle_closed);
	if (a->up4_open) {
		a->up4_open = 0;
		uv_close((uv_handle_t *)&a->up4, handle_closed);
	}
	if (a->up6_open) {
		a->up6_open = 0;
		uv_close((uv_handle_t *)&a->up6, handle_closed);
	}
}
