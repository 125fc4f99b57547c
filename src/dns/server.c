/*
 * server.c: the DNS proxy's listeners and forwarding.  Each upstream
 * query gets a random ID and its own UDP socket (a random source port);
 * an answer is taken only from the upstream's address with that ID and
 * the same question, so a stray packet cannot poison the cache.  A
 * truncated answer is fetched again over TCP.  At most MAX_INFLIGHT
 * queries wait upstream; past that, or after the retries, SERVFAIL.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "dns/dns.h"
#include "net/net.h"

#define MAX_INFLIGHT	512
#define UDP_TIMEOUT_MS	2000
#define UDP_TRIES	2
#define TCP_TIMEOUT_MS	4000
#define CONN_IDLE_MS	30000	/* between messages */
#define CONN_MSG_MS	10000	/* a whole message, from its first byte
				   (default; gp_dns_set_deadline) */

struct tconn;

struct dq {
	struct gp_dns_server	*s;
	struct gp_dns_msg	 q;
	uint8_t			*query;		/* the client's bytes */
	size_t			 qlen;
	struct sockaddr_storage	 client;
	struct tconn		*tc;		/* TCP client, or NULL */
	int			 via_tcp;
	uint16_t		 up_id;
	uv_udp_t		 up;
	struct gp_dial		*dial;		/* TCP upstream: dialing */
	struct gp_stream	*upst;		/* then connected */
	struct gp_buf		 tin;
	uv_timer_t		 timer;
	int			 tries;
	int			 done;
	int			 orphan;	/* TCP client gone */
	int			 up_open;
	int			 handles;
	uint64_t		 t0;
	struct dq		*next, *prev;
};

struct tconn {
	struct gp_dns_server	*s;
	struct gp_stream	*st;		/* NULL until accepted */
	uv_timer_t		 idle;
	struct gp_buf		 in;
	int			 closing, handles;
	int			 partial;	/* a message is arriving */
	int			 paused;	/* answers not read yet */
	struct tconn		*next, *prev;
};

#define TCONN_QUEUE_MAX	(256 * 1024)	/* answers held for one client */
static void	tconn_close(struct tconn *);
static void	tconn_pace(struct tconn *);

struct gp_dns_server {
	uv_loop_t		*loop;
	struct gp_dns_cache	*cache;
	struct gp_dns_hooks	 hooks;
	struct sockaddr_storage	 upstream;
	uv_udp_t		 udp;
	uv_tcp_t		 tcp;
	struct dq		*inflight;
	size_t			 ninflight;
	struct tconn		*conns;
	int			 handles;
	int			 stopping;
	unsigned		 msg_ms;		/* TCP message deadline */
};

static void	query(struct gp_dns_server *, const uint8_t *, size_t,
		    const struct sockaddr *, struct tconn *);
static void	dq_finish(struct dq *, const uint8_t *, size_t, int rcode);

static void
server_unref(struct gp_dns_server *s)
{
	if (--s->handles == 0 && s->stopping)
		free(s);
}

static void
on_server_handle_closed(uv_handle_t *h)
{
	server_unref(h->data);
}

/* --- replies ------------------------------------------------------ */

struct sreq {
	uv_udp_send_t	 req;
	uint8_t		 data[];
};

static void
udp_sent(uv_udp_send_t *req, int status)
{
	free(req->data);
}

/* Sends to a UDP client (truncating past its size) or a TCP client. */
static void
reply(struct gp_dns_server *s, const struct gp_dns_msg *q,
    const uint8_t *query, const struct sockaddr *client, struct tconn *tc,
    const uint8_t *p, size_t n)
{
	struct sreq	*r;
	uint8_t		 trunc[512];
	uv_buf_t	 b;

	if (tc == NULL && n > q->udp_size) {
		/* RFC 1035 4.2.1: too large for UDP, the client asks again
		 * over TCP. */
		n = gp_dns_error(query, q, p[3] & 0x0f, 1, trunc,
		    sizeof trunc);
		p = trunc;
	}
	if (n == 0)
		return;
	if (tc != NULL) {
		uint8_t framed[2 + 65535];

		if (tc->closing || n > 65535)
			return;
		framed[0] = (uint8_t)(n >> 8);
		framed[1] = (uint8_t)n;
		memcpy(framed + 2, p, n);
		if (gp_stream_write(tc->st, framed, n + 2) != 0)
			tconn_close(tc);
		else
			tconn_pace(tc);
		return;
	}
	r = gp_xmalloc(sizeof *r + n);
	memcpy(r->data, p, n);
	b = uv_buf_init((char *)r->data, (unsigned)n);
	r->req.data = r;
	if (uv_udp_send(&r->req, &s->udp, &b, 1, client, udp_sent) != 0)
		free(r);
}

static void
log_query(struct gp_dns_server *s, const struct gp_dns_msg *q,
    const struct sockaddr *client, struct tconn *tc, int rcode, int blocked,
    int cached, const char *first_ip, uint64_t t0)
{
	struct gp_dns_query_info	i;
	struct sockaddr_storage		ss;
	char				ip[INET6_ADDRSTRLEN] = "";
	int				len = sizeof ss;

	if (s->hooks.logged == NULL)
		return;
	if (client != NULL)
		gp_addr_ip(client, ip, sizeof ip);
	else if (tc != NULL && uv_tcp_getpeername(gp_stream_tcp(tc->st),
	    (struct sockaddr *)&ss, &len) == 0)
		gp_addr_ip((struct sockaddr *)&ss, ip, sizeof ip);
	memset(&i, 0, sizeof i);
	i.client_ip = ip;
	i.name = q->name;
	i.qtype = q->qtype;
	i.rcode = rcode;
	i.blocked = blocked;
	i.cached = cached;
	i.first_ip = first_ip;
	i.duration_ms = uv_now(s->loop) - t0;
	i.tcp = tc != NULL;
	s->hooks.logged(s->hooks.data, &i);
}

/* --- in-flight queries -------------------------------------------- */

static void
dq_closed_one(struct dq *d)
{
	struct gp_dns_server	*s = d->s;

	if (--d->handles > 0)
		return;
	free(d->query);
	gp_buf_free(&d->tin);
	free(d);
	server_unref(s);
}

static void
dq_closed(uv_handle_t *h)
{
	dq_closed_one(h->data);
}

static void
dq_stream_closed(struct gp_stream *st)
{
	dq_closed_one(st->data);
}

static void
dq_close_sockets(struct dq *d)
{
	if (d->up_open) {
		d->up_open = 0;
		uv_close((uv_handle_t *)&d->up, dq_closed);
	}
	if (d->dial != NULL) {
		gp_dial_cancel(d->dial);	/* no callback after this */
		d->dial = NULL;
	}
	if (d->upst != NULL) {
		gp_stream_close(d->upst, dq_stream_closed);
		d->upst = NULL;
	}
}

static void
dq_release(struct dq *d)
{
	struct gp_dns_server *s = d->s;

	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		s->inflight = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	s->ninflight--;
	dq_close_sockets(d);
	uv_close((uv_handle_t *)&d->timer, dq_closed);
}

struct first_ip {
	struct gp_dns_server	*s;
	const char		*name;
	char			 ip[INET6_ADDRSTRLEN];
	int64_t			 now;
};

static void
note_addr(void *data, const char *ip, uint32_t ttl)
{
	struct first_ip *f = data;

	if (f->ip[0] == '\0')
		snprintf(f->ip, sizeof f->ip, "%s", ip);
	gp_dns_cache_note_host(f->s->cache, ip, f->name, f->now +
	    (ttl > 60 ? ttl : 60));
}

/* Answers the client with the upstream's answer (or rcode if none). */
static void
dq_finish(struct dq *d, const uint8_t *p, size_t n, int rcode)
{
	struct gp_dns_server	*s = d->s;
	struct first_ip		 f;
	struct gp_dns_msg	 m;
	int64_t			 ttl;
	uint8_t			*copy, err[512];

	if (d->done)
		return;
	d->done = 1;
	memset(&f, 0, sizeof f);
	f.s = s;
	f.name = d->q.name;
	f.now = gp_now();
	if (p != NULL && gp_dns_parse(p, n, &m) == 0 &&
	    gp_dns_scan_answer(p, n, &m, &ttl, note_addr, &f) == 0) {
		gp_dns_cache_put(s->cache, d->q.name, d->q.qtype, d->q.qclass,
		    p, n, ttl, m.rcode == GP_DNS_NXDOMAIN || m.ancount == 0,
		    f.now);
		rcode = m.rcode;
		if (!d->orphan) {
			copy = gp_xmalloc(n);
			memcpy(copy, p, n);
			gp_dns_set_id(copy, d->q.id);
			reply(s, &d->q, d->query, d->tc ? NULL :
			    (struct sockaddr *)&d->client, d->tc, copy, n);
			free(copy);
		}
	} else if (!d->orphan) {
		if (p != NULL)
			gp_log(GP_LOG_WARN, "dns: malformed answer for %s from "
			    "upstream (bad name, compression or record "
			    "length); SERVFAIL", d->q.name);
		n = gp_dns_error(d->query, &d->q, rcode, 0, err, sizeof err);
		reply(s, &d->q, d->query, d->tc ? NULL :
		    (struct sockaddr *)&d->client, d->tc, err, n);
	}
	/* A TCP client that left is answered by nobody; the answer is kept. */
	if (d->orphan) {
		dq_release(d);
		return;
	}
	log_query(s, &d->q, d->tc ? NULL : (struct sockaddr *)&d->client,
	    d->tc, rcode, 0, 0, f.ip[0] ? f.ip : NULL, d->t0);
	dq_release(d);
}

static int
from_upstream(struct gp_dns_server *s, const struct sockaddr *a)
{
	const struct sockaddr *u = (const struct sockaddr *)&s->upstream;
	char	x[INET6_ADDRSTRLEN], y[INET6_ADDRSTRLEN];

	if (a == NULL || a->sa_family != u->sa_family ||
	    gp_addr_port(a) != gp_addr_port(u))
		return 0;
	gp_addr_ip(a, x, sizeof x);
	gp_addr_ip(u, y, sizeof y);
	return strcmp(x, y) == 0;
}

/* Is p the answer to d's upstream query? */
static int
matches(struct dq *d, const uint8_t *p, size_t n)
{
	struct gp_dns_msg m;

	if (n < GP_DNS_HDR || (uint16_t)(p[0] << 8 | p[1]) != d->up_id)
		return 0;
	if (gp_dns_parse(p, n, &m) != 0 || !m.qr)
		return 0;
	return gp_dns_same_question(&d->q, &m);
}

static void	start_tcp(struct dq *);

static void
up_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	static char	buf[GP_DNS_MAXMSG];

	b->base = buf;		/* the loop thread is the only reader */
	b->len = sizeof buf;
}

static void
up_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *b,
    const struct sockaddr *from, unsigned flags)
{
	struct dq	*d = u->data;
	const uint8_t	*p = (const uint8_t *)b->base;

	if (d->done)
		return;
	if (n < 0) {			/* refused: nothing listens there */
		gp_log(GP_LOG_WARN, "dns: upstream %s for %s",
		    uv_strerror((int)n), d->q.name);
		dq_finish(d, NULL, 0, GP_DNS_SERVFAIL);
		return;
	}
	if (n == 0)
		return;
	if (!from_upstream(d->s, from) || !matches(d, p, (size_t)n)) {
		gp_log(GP_LOG_DEBUG, "dns: ignored a stray answer for %s",
		    d->q.name);
		return;
	}
	if (p[2] & 0x02) {		/* TC: ask again over TCP */
		uv_udp_recv_stop(u);
		start_tcp(d);
		return;
	}
	dq_finish(d, p, (size_t)n, GP_DNS_SERVFAIL);
}

static void
up_sent(uv_udp_send_t *req, int status)
{
	free(req);
}

/* Opens the query's own socket (a random source port) and a random ID. */
static int
open_udp(struct dq *d)
{
	struct sockaddr_storage	any;

	if (RAND_bytes((unsigned char *)&d->up_id, sizeof d->up_id) != 1)
		return -1;
	memset(&any, 0, sizeof any);
	any.ss_family = d->s->upstream.ss_family;
	if (uv_udp_init(d->s->loop, &d->up) != 0)
		return -1;
	d->up.data = d;
	d->up_open = 1;
	d->handles++;
	/* Connected: the kernel takes datagrams from the upstream only,
	 * and its refusal (ICMP port unreachable) arrives as an error,
	 * answered SERVFAIL at once rather than after every retry. */
	if (uv_udp_bind(&d->up, (struct sockaddr *)&any, 0) != 0 ||
	    uv_udp_connect(&d->up, (struct sockaddr *)&d->s->upstream) != 0 ||
	    uv_udp_recv_start(&d->up, up_alloc, up_recv) != 0)
		return -1;
	return 0;
}

static int
send_udp(struct dq *d)
{
	uv_udp_send_t	*req = gp_xmalloc(sizeof *req + d->qlen);
	uint8_t		*copy = (uint8_t *)(req + 1);
	uv_buf_t	 b;

	memcpy(copy, d->query, d->qlen);
	gp_dns_set_id(copy, d->up_id);
	b = uv_buf_init((char *)copy, (unsigned)d->qlen);
	if (uv_udp_send(req, &d->up, &b, 1, NULL, up_sent) != 0) {
		free(req);
		return -1;
	}
	return 0;
}

static void
on_timeout(uv_timer_t *t)
{
	struct dq *d = t->data;

	if (d->done)
		return;
	if (!d->via_tcp && ++d->tries < UDP_TRIES) {
		gp_log(GP_LOG_DEBUG, "dns: retrying %s", d->q.name);
		uv_timer_start(t, on_timeout, UDP_TIMEOUT_MS, 0);
		if (send_udp(d) != 0)
			dq_finish(d, NULL, 0, GP_DNS_SERVFAIL);
		return;
	}
	gp_log(GP_LOG_WARN, "dns: upstream did not answer for %s",
	    d->q.name);
	dq_finish(d, NULL, 0, GP_DNS_SERVFAIL);
}

/* The upstream's answer over TCP: one length-prefixed message. */
static int
tcp_read(struct gp_stream *st, char *block, ssize_t n)
{
	struct dq	*d = st->data;
	size_t		 len;

	if (d->done)
		return 0;
	if (n < 0) {
		dq_finish(d, NULL, 0, GP_DNS_SERVFAIL);
		return 0;
	}
	gp_buf_add(&d->tin, block, (size_t)n);
	if (d->tin.len < 2)
		return 0;
	len = (size_t)((uint8_t)d->tin.data[0] << 8 | (uint8_t)d->tin.data[1]);
	if (d->tin.len < len + 2)
		return 0;
	if (!matches(d, (uint8_t *)d->tin.data + 2, len))
		dq_finish(d, NULL, 0, GP_DNS_SERVFAIL);
	else
		dq_finish(d, (uint8_t *)d->tin.data + 2, len, GP_DNS_SERVFAIL);
	return 0;
}

static const struct gp_stream_cbs up_cbs = {
	.read = tcp_read,
};

static void
tcp_dialed(void *data, uv_tcp_t *tcp, int status, const struct sockaddr *peer)
{
	struct dq	*d = data;
	uint8_t		 p[2 + 65535];

	d->dial = NULL;
	if (tcp == NULL) {
		dq_finish(d, NULL, 0, GP_DNS_SERVFAIL);
		return;
	}
	d->upst = gp_stream_tcp_new(tcp, &up_cbs, d);
	d->handles++;
	p[0] = (uint8_t)(d->qlen >> 8);
	p[1] = (uint8_t)d->qlen;
	memcpy(p + 2, d->query, d->qlen);
	gp_dns_set_id(p + 2, d->up_id);
	if (gp_stream_write(d->upst, p, d->qlen + 2) != 0 ||
	    gp_stream_read_start(d->upst) != 0)
		dq_finish(d, NULL, 0, GP_DNS_SERVFAIL);
}

static void
start_tcp(struct dq *d)
{
	d->via_tcp = 1;
	uv_timer_start(&d->timer, on_timeout, TCP_TIMEOUT_MS, 0);
	d->dial = gp_dial_start(d->s->loop, &d->s->upstream, 1,
	    TCP_TIMEOUT_MS, tcp_dialed, d);
}

/* --- client side -------------------------------------------------- */

static void
query(struct gp_dns_server *s, const uint8_t *p, size_t n,
    const struct sockaddr *client, struct tconn *tc)
{
	struct gp_dns_msg	 q;
	struct dq		*d;
	uint8_t			 out[512], *hit;
	size_t			 len;
	char			 ip[INET6_ADDRSTRLEN] = "";
	uint64_t		 t0 = uv_now(s->loop);
	int			 rc;

	rc = gp_dns_parse(p, n, &q);
	if (rc < 0 || q.qr) {
		gp_log(GP_LOG_WARN, "dns: dropped a %s packet of %zu bytes",
		    rc < 0 ? "malformed" : "response", n);
		return;
	}
	if (rc > 0) {
		gp_log(GP_LOG_WARN, "dns: %s for a malformed query",
		    rc == GP_DNS_NOTIMP ? "NOTIMP" : "FORMERR");
		len = gp_dns_error(p, &q, rc, 0, out, sizeof out);
		reply(s, &q, p, client, tc, out, len);
		return;
	}
	if (client != NULL)
		gp_addr_ip(client, ip, sizeof ip);
	if (s->hooks.denied != NULL &&
	    s->hooks.denied(s->hooks.data, ip, q.name)) {
		len = gp_dns_error(p, &q, GP_DNS_REFUSED, 0, out, sizeof out);
		reply(s, &q, p, client, tc, out, len);
		log_query(s, &q, client, tc, GP_DNS_REFUSED, 1, 0, NULL, t0);
		return;
	}
	if ((hit = gp_dns_cache_get(s->cache, q.name, q.qtype, q.qclass,
	    gp_now(), &len)) != NULL) {
		struct gp_dns_msg	m;
		struct first_ip		f;
		int64_t			ttl;

		gp_dns_set_id(hit, q.id);
		reply(s, &q, p, client, tc, hit, len);
		memset(&f, 0, sizeof f);
		f.s = s;
		f.name = q.name;
		f.now = gp_now();
		if (gp_dns_parse(hit, len, &m) == 0)
			gp_dns_scan_answer(hit, len, &m, &ttl, note_addr, &f);
		log_query(s, &q, client, tc, hit[3] & 0x0f, 0, 1,
		    f.ip[0] ? f.ip : NULL, t0);
		free(hit);
		return;
	}
	if (s->ninflight >= MAX_INFLIGHT) {
		gp_log(GP_LOG_WARN, "dns: %zu queries already upstream; "
		    "SERVFAIL for %s", s->ninflight, q.name);
		len = gp_dns_error(p, &q, GP_DNS_SERVFAIL, 0, out, sizeof out);
		reply(s, &q, p, client, tc, out, len);
		return;
	}
	d = gp_xcalloc(1, sizeof *d);
	d->s = s;
	d->q = q;
	d->query = gp_xmalloc(n);
	memcpy(d->query, p, n);
	d->qlen = n;
	if (client != NULL)
		memcpy(&d->client, client, client->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	d->tc = tc;
	d->t0 = t0;
	uv_timer_init(s->loop, &d->timer);
	d->timer.data = d;
	d->handles = 1;
	s->handles++;
	d->next = s->inflight;
	if (s->inflight != NULL)
		s->inflight->prev = d;
	s->inflight = d;
	s->ninflight++;
	uv_timer_start(&d->timer, on_timeout, UDP_TIMEOUT_MS, 0);
	if (open_udp(d) != 0 || send_udp(d) != 0)
		dq_finish(d, NULL, 0, GP_DNS_SERVFAIL);
}

static void
udp_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	static char	buf[GP_DNS_MAXMSG];

	b->base = buf;
	b->len = sizeof buf;
}

static void
udp_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *b,
    const struct sockaddr *from, unsigned flags)
{
	struct gp_dns_server *s = u->data;

	if (n <= 0 || from == NULL || s->stopping)
		return;
	if (flags & UV_UDP_PARTIAL) {
		gp_log(GP_LOG_WARN, "dns: dropped an oversized datagram");
		return;
	}
	query(s, (const uint8_t *)b->base, (size_t)n, from, NULL);
}

static void
tconn_unref(struct tconn *c)
{
	struct gp_dns_server	*s = c->s;

	if (--c->handles > 0)
		return;
	gp_buf_free(&c->in);
	free(c);
	server_unref(s);
}

static void
tconn_closed(uv_handle_t *h)
{
	tconn_unref(h->data);
}

static void
tconn_stream_closed(struct gp_stream *st)
{
	tconn_unref(st->data);
}

static void
tconn_tcp_closed(uv_handle_t *h)
{
	struct tconn *c = h->data;

	free(h);
	tconn_unref(c);
}

static void
tconn_close(struct tconn *c)
{
	struct dq *d;

	if (c->closing)
		return;
	c->closing = 1;
	for (d = c->s->inflight; d != NULL; d = d->next) {
		if (d->tc == c) {
			d->tc = NULL;
			d->orphan = 1;
		}
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->st != NULL)
		gp_stream_close(c->st, tconn_stream_closed);
	uv_close((uv_handle_t *)&c->idle, tconn_closed);
}

/* A client that sends queries without reading the answers is not read
 * until they are written (its answers are all it can make us hold). */
static void
tconn_pace(struct tconn *c)
{
	if (c->closing)
		return;
	if (gp_stream_queued(c->st) > TCONN_QUEUE_MAX) {
		if (!c->paused) {
			c->paused = 1;
			gp_stream_read_stop(c->st);
		}
	} else if (c->paused) {
		c->paused = 0;
		gp_stream_read_start(c->st);
	}
}

static void
tconn_written(struct gp_stream *st, int status)
{
	struct tconn *c = st->data;

	if (status != 0)
		tconn_close(c);
	else
		tconn_pace(c);
}

static void
tconn_idle(uv_timer_t *t)
{
	tconn_close(t->data);
}

static int
tconn_read(struct gp_stream *st, char *block, ssize_t n)
{
	struct tconn	*c = st->data;
	size_t		 len;

	if (n < 0) {
		tconn_close(c);
		return 0;
	}
	gp_buf_add(&c->in, block, (size_t)n);
	/* Deadlines are total: trickled bytes do not extend them. */
	if (!c->partial) {
		c->partial = 1;
		uv_timer_start(&c->idle, tconn_idle, c->s->msg_ms, 0);
	}
	while (!c->closing && c->in.len >= 2) {
		len = (size_t)((uint8_t)c->in.data[0] << 8 |
		    (uint8_t)c->in.data[1]);
		if (len < GP_DNS_HDR) {
			gp_log(GP_LOG_WARN, "dns: bad TCP message length %zu",
			    len);
			tconn_close(c);
			return 0;
		}
		if (c->in.len < len + 2)
			return 0;
		query(c->s, (uint8_t *)c->in.data + 2, len, NULL, c);
		gp_buf_consume(&c->in, len + 2);
		if (c->in.len == 0 && !c->closing) {
			c->partial = 0;
			uv_timer_start(&c->idle, tconn_idle, CONN_IDLE_MS, 0);
		} else if (!c->closing)
			uv_timer_start(&c->idle, tconn_idle, c->s->msg_ms, 0);
	}
	return 0;
}

static const struct gp_stream_cbs tconn_cbs = {
	.read = tconn_read,
	.written = tconn_written,
};

static void
on_tcp_conn(uv_stream_t *server, int status)
{
	struct gp_dns_server	*s = server->data;
	struct tconn		*c;
	uv_tcp_t		*tcp;

	if (status != 0) {
		gp_net_accept_failed("dns", status);
		return;
	}
	if (s->stopping)
		return;
	c = gp_xcalloc(1, sizeof *c);
	c->s = s;
	tcp = gp_xcalloc(1, sizeof *tcp);
	uv_tcp_init(s->loop, tcp);
	uv_timer_init(s->loop, &c->idle);
	tcp->data = c->idle.data = c;
	c->handles = 2;
	s->handles++;
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	if (uv_accept(server, (uv_stream_t *)tcp) != 0) {
		tconn_close(c);
		uv_close((uv_handle_t *)tcp, tconn_tcp_closed);
		return;
	}
	c->st = gp_stream_tcp_new(tcp, &tconn_cbs, c);
	gp_net_accepted("dns", (uv_stream_t *)tcp);
	uv_timer_start(&c->idle, tconn_idle, CONN_IDLE_MS, 0);
	gp_stream_read_start(c->st);
}

/*
 * Binds a UDP and a TCP socket to the same address; with port 0, tries
 * ports the kernel offers for UDP until TCP can have the same one.
 * Returns 0 with both descriptors, or -errno.
 */
static int
bind_pair(const struct sockaddr_storage *want, int *ufd, int *tfd,
    struct sockaddr_storage *bound)
{
	socklen_t	len = want->ss_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int		tries, one = 1, err = EADDRINUSE;

	for (tries = 0; tries < 50; tries++) {
		socklen_t blen = sizeof *bound;

		*ufd = socket(want->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		*tfd = socket(want->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (*ufd < 0 || *tfd < 0) {
			err = errno;
			break;
		}
		setsockopt(*tfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(*ufd, (const struct sockaddr *)want, len) != 0 ||
		    getsockname(*ufd, (struct sockaddr *)bound, &blen) != 0) {
			err = errno;
			break;
		}
		if (bind(*tfd, (struct sockaddr *)bound, len) == 0)
			return 0;
		err = errno;
		close(*ufd);
		close(*tfd);
		*ufd = *tfd = -1;
		if (err != EADDRINUSE || gp_addr_port(
		    (const struct sockaddr *)want) != 0)
			return -err;
	}
	if (*ufd >= 0)
		close(*ufd);
	if (*tfd >= 0)
		close(*tfd);
	*ufd = *tfd = -1;
	return -err;
}

int
gp_dns_start(struct gp_dns_server **out, uv_loop_t *loop,
    struct gp_dns_cache *cache, const char *addr,
    const struct sockaddr *upstream, const struct gp_dns_hooks *hooks,
    struct sockaddr_storage *bound, char **err)
{
	struct gp_dns_server	*s;
	struct sockaddr_storage	 ss;
	const char		*why;
	int			 rc, ufd, tfd, size = 1 << 20;

	if (gp_addr_parse(addr, &ss, &why) != 0) {
		gp_xasprintf(err, "dns %s: %s", addr, why);
		return -1;
	}
	if ((rc = bind_pair(&ss, &ufd, &tfd, bound)) != 0) {
		gp_xasprintf(err, _("cannot listen on %s for %s: %s"), addr,
		    "dns-proxy", strerror(-rc));
		return -1;
	}
	s = gp_xcalloc(1, sizeof *s);
	s->msg_ms = CONN_MSG_MS;
	s->loop = loop;
	s->cache = cache;
	s->hooks = *hooks;
	memcpy(&s->upstream, upstream, upstream->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	uv_udp_init(loop, &s->udp);
	uv_tcp_init(loop, &s->tcp);
	s->udp.data = s->tcp.data = s;
	s->handles = 2;
	if ((rc = uv_udp_open(&s->udp, ufd)) != 0 ||
	    (rc = uv_tcp_open(&s->tcp, tfd)) != 0 ||
	    (rc = uv_listen((uv_stream_t *)&s->tcp, 128, on_tcp_conn)) != 0) {
		gp_xasprintf(err, _("cannot listen on %s for %s: %s"), addr,
		    "dns-proxy", uv_strerror(rc));
		s->stopping = 1;
		uv_close((uv_handle_t *)&s->udp, on_server_handle_closed);
		uv_close((uv_handle_t *)&s->tcp, on_server_handle_closed);
		return -1;
	}
	/* Absorb bursts (the kernel may cap the size). */
	uv_recv_buffer_size((uv_handle_t *)&s->udp, &size);
	uv_udp_recv_start(&s->udp, udp_alloc, udp_recv);
	*out = s;
	return 0;
}

void
gp_dns_stop(struct gp_dns_server *s)
{
	if (s == NULL || s->stopping)
		return;
	s->stopping = 1;
	while (s->conns != NULL)
		tconn_close(s->conns);
	while (s->inflight != NULL) {
		s->inflight->done = 1;
		dq_release(s->inflight);
	}
	uv_close((uv_handle_t *)&s->udp, on_server_handle_closed);
	uv_close((uv_handle_t *)&s->tcp, on_server_handle_closed);
}

void
gp_dns_set_deadline(struct gp_dns_server *s, unsigned ms)
{
	s->msg_ms = ms;
}

size_t
gp_dns_inflight(const struct gp_dns_server *s)
{
	return s ? s->ninflight : 0;
}

void
gp_dns_default_upstream(struct sockaddr_storage *out)
{
	FILE		*f = fopen("/etc/resolv.conf", "re");
	char		 line[256], ip[128];
	const char	*why;

	if (f != NULL) {
		while (fgets(line, sizeof line, f) != NULL) {
			char buf[160];

			if (sscanf(line, " nameserver %127s", ip) != 1)
				continue;
			snprintf(buf, sizeof buf, strchr(ip, ':') ?
			    "[%s]:53" : "%s:53", ip);
			if (gp_addr_parse(buf, out, &why) == 0) {
				fclose(f);
				return;
			}
		}
		fclose(f);
	}
	gp_addr_parse("1.1.1.1:53", out, &why);
}
