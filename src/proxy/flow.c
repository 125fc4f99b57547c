/*
 * flow.c: the engine under both front ends: two sides, writes with
 * backpressure, half-close, one timer, the rules decision, resolution,
 * dialing, the tunnel, and the connection log record.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/flow.h"

static int	on_read(struct gp_stream *, char *, ssize_t);
static void	on_accept_failed(uv_handle_t *);
static void	on_side_closed(struct gp_stream *);
static void	on_timer_closed(uv_handle_t *);
static void	on_timer(uv_timer_t *);
static void	unref(struct gp_flow *);
static void	connect_target(struct gp_flow *);
static void	on_resolved(void *, int, const struct sockaddr_storage *,
		    size_t);
static void	on_dialed(void *, uv_tcp_t *, int, const struct sockaddr *);
static void	refuse(struct gp_flow *, enum gp_reason);
static void	on_verdict(struct gp_waiter *, enum gp_verdict, int64_t);
static void	decide_rules(struct gp_flow *);

static const struct gp_stream_cbs side_cbs = {
	.read = on_read,
	.written = gp_flow_written,
};

const struct gp_stream_cbs *
gp_flow_side_cbs(void)
{
	return &side_cbs;
}


void
gp_proxy_init(struct gp_proxy *px, uv_loop_t *loop, struct gp_resolver *res,
    struct gp_store *store, struct gp_bus *bus, struct gp_pending *pending,
    const struct gp_settings *settings)
{
	memset(px, 0, sizeof *px);
	px->loop = loop;
	px->resolver = res;
	px->store = store;
	px->bus = bus;
	px->pending = pending;
	px->settings = settings;
	px->opts.connect_timeout_ms = 10000;
	px->opts.header_timeout_ms = 30000;
	px->opts.idle_timeout_ms = 300000;
}

void
gp_proxy_shutdown(struct gp_proxy *px)
{
	struct gp_flow	*f, *next;

	px->shutting_down = 1;
	for (f = px->flows; f != NULL; f = next) {
		next = f->next;
		if (f->held && !f->closing) {
			/* Nobody will decide now: an answer, not a reset. */
			f->held = 0;
			gp_pending_release(px->pending, &f->w);
			refuse(f, GP_R_PENDING_CLOSED);
			gp_flow_finish(f);	/* once the answer is out */
			continue;
		}
		gp_flow_close(f);
	}
}

struct gp_flow *
gp_flow_new(struct gp_proxy *px, uv_stream_t *server,
    const struct gp_flow_ops *ops)
{
	struct gp_flow		*f = gp_xcalloc(1, sizeof *f);
	struct sockaddr_storage	 ss;
	int			 len = sizeof ss;
	uv_tcp_t		*tcp = gp_xmalloc(sizeof *tcp);

	f->px = px;
	f->ops = ops;
	f->c.f = f->u.f = f;
	uv_tcp_init(px->loop, tcp);
	tcp->data = f;
	f->handles = 1;
	/* Linked first: the last handle's close unlinks it, even when
	 * the accept fails. */
	f->next = px->flows;
	if (px->flows != NULL)
		px->flows->prev = f;
	px->flows = f;
	px->stats.flows++;
	if (uv_accept(server, (uv_stream_t *)tcp) != 0) {
		uv_close((uv_handle_t *)tcp, on_accept_failed);
		f->closing = 1;
		return NULL;
	}
	gp_net_accepted(ops->method, (uv_stream_t *)tcp);
	uv_tcp_nodelay(tcp, 1);
	f->c.st = gp_stream_tcp_new(tcp, &side_cbs, &f->c);
	if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) == 0) {
		gp_addr_ip((struct sockaddr *)&ss, f->client_ip,
		    sizeof f->client_ip);
		gp_addr_format((struct sockaddr *)&ss, f->client_addr,
		    sizeof f->client_addr);
	}
	uv_timer_init(px->loop, &f->timer);
	f->timer.data = f;
	f->handles++;
	gp_flow_set_identity(f, NULL);
	gp_flow_set_deadline(f, px->opts.header_timeout_ms);
	gp_flow_read(&f->c, 1);
	return f;
}

static void
unref(struct gp_flow *f)
{
	if (--f->handles > 0)
		return;
	if (f->ops->free != NULL)
		f->ops->free(f);
	gp_buf_free(&f->c.in);
	gp_buf_free(&f->u.in);
	gp_buf_free(&f->c.cork);
	gp_buf_free(&f->u.cork);
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		f->px->flows = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	f->px->stats.flows--;
	free(f);
}

void
gp_flow_hold_handle(struct gp_flow *f)
{
	f->handles++;
}

void
gp_flow_release_handle(struct gp_flow *f)
{
	unref(f);
}

static void
on_accept_failed(uv_handle_t *h)
{
	struct gp_flow	*f = h->data;

	free(h);
	unref(f);
}

static void
on_side_closed(struct gp_stream *st)
{
	unref(((struct gp_side *)st->data)->f);
}

static void
on_timer_closed(uv_handle_t *h)
{
	unref(h->data);
}

void
gp_flow_close_side(struct gp_side *s)
{
	if (s->st == NULL)
		return;
	/* Its queued writes are cancelled silently: the flow lives on
	 * (a stale upstream is dialed again). */
	gp_stream_close(s->st, on_side_closed);
	s->st = NULL;
	s->reading = s->paused = 0;
	gp_buf_reset(&s->in);
}

void
gp_flow_close(struct gp_flow *f)
{
	if (f->closing)
		return;
	f->closing = 1;
	if (f->held) {
		/* The client went away while a person was to decide. */
		f->held = 0;
		gp_pending_release(f->px->pending, &f->w);
		if (f->reason == GP_R_NONE)
			f->reason = GP_R_PENDING_LEFT;
	}
	gp_flow_log(f);
	if (f->ops->closing != NULL)
		f->ops->closing(f);
	if (f->rq != NULL) {
		gp_resolve_cancel(f->rq);
		f->rq = NULL;
	}
	if (f->dial != NULL) {
		gp_dial_cancel(f->dial);
		f->dial = NULL;
	}
	gp_relay_close(f);
	if (f->tap_ops != NULL) {
		f->tap_ops->end(f->tap);
		f->tap_ops = NULL;
	}
	gp_flow_close_side(&f->c);
	gp_flow_close_side(&f->u);
	uv_close((uv_handle_t *)&f->timer, on_timer_closed);
}

static void
on_client_shutdown(struct gp_stream *st, int status)
{
	gp_flow_close(((struct gp_side *)st->data)->f);
}

void
gp_flow_finish(struct gp_flow *f)
{
	if (f->closing || f->finishing)
		return;
	f->finishing = 1;
	gp_flow_uncork(&f->c);		/* written before the shutdown */
	gp_flow_read(&f->c, 0);
	gp_flow_close_side(&f->u);
	if (f->c.st == NULL ||
	    gp_stream_shutdown(f->c.st, on_client_shutdown) != 0)
		gp_flow_close(f);
}

void
gp_flow_consume(struct gp_side *s, size_t n)
{
	struct gp_side	*o = gp_flow_other(s);

	gp_buf_consume(&s->in, n);
	if (s->paused && s->in.len < GP_INBUF_MAX &&
	    (o->st == NULL || gp_stream_queued(o->st) < GP_WQ_LOW)) {
		s->paused = 0;
		gp_flow_read(s, s->reading);
	}
}

struct gp_side *
gp_flow_other(struct gp_side *s)
{
	return s == &s->f->c ? &s->f->u : &s->f->c;
}

/* Starts or stops wanting data; backpressure may hold it stopped. */
void
gp_flow_read(struct gp_side *s, int on)
{
	s->reading = on != 0;
	if (s->st == NULL)
		return;
	if (s->reading && !s->paused && !s->eof && s->f->relay == NULL)
		gp_stream_read_start(s->st);
	else
		gp_stream_read_stop(s->st);
}

void
gp_flow_pace(struct gp_side *from)
{
	struct gp_side	*to = gp_flow_other(from);
	size_t		 q = to->st != NULL ? gp_stream_queued(to->st) : 0;

	if (from->st == NULL)
		return;
	if (q > GP_WQ_HIGH && !from->paused) {
		from->paused = 1;
		gp_stream_read_stop(from->st);
	} else if (q < GP_WQ_LOW && from->paused &&
	    from->in.len < GP_INBUF_MAX) {
		from->paused = 0;
		gp_flow_read(from, from->reading);
	}
}

void
gp_flow_written(struct gp_stream *st, int status)
{
	struct gp_side	*to = st->data;
	struct gp_flow	*f = to->f;

	if (f->closing)
		return;
	if (status != 0) {
		gp_log(GP_LOG_DEBUG, "flow %s: write failed: %s",
		    f->client_addr, uv_strerror(status));
		gp_flow_close(f);
		return;
	}
	gp_flow_pace(gp_flow_other(to));
}

static void
after_write(struct gp_side *to, int rc)
{
	if (rc != 0) {
		gp_log(GP_LOG_DEBUG, "flow %s: write: %s", to->f->client_addr,
		    uv_strerror(rc));
		gp_flow_close(to->f);
		return;
	}
	gp_flow_pace(gp_flow_other(to));
}

void
gp_flow_write_block(struct gp_side *to, char *block, const char *p,
    size_t n)
{
	if (to->st == NULL || to->f->closing) {
		gp_block_put(block);
		return;
	}
	after_write(to, gp_stream_write_block(to->st, block, p, n));
}

void
gp_flow_write(struct gp_side *to, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (to->corked) {
		gp_buf_add(&to->cork, p, n);
		return;
	}
	if (to->st == NULL || to->f->closing)
		return;
	after_write(to, gp_stream_write(to->st, p, n));
}

void
gp_flow_cork(struct gp_side *s)
{
	s->corked = 1;
}

void
gp_flow_uncork(struct gp_side *s)
{
	struct gp_buf	b = s->cork;

	s->corked = 0;
	if (b.len == 0)
		return;
	memset(&s->cork, 0, sizeof s->cork);
	gp_flow_write(s, b.data, b.len);
	gp_buf_free(&b);
}

static int
on_read(struct gp_stream *st, char *block, ssize_t nread)
{
	struct gp_side	*s = st->data;
	struct gp_flow	*f = s->f;

	if (nread > 0) {
		s->nread += (uint64_t)nread;
		f->last_active = uv_now(f->px->loop);
		if (s->in.len == 0 && !f->sniffing &&
		    f->ops->data_block != NULL &&
		    f->ops->data_block(f, s, block, (size_t)nread))
			return 1;
		gp_buf_add(&s->in, block, (size_t)nread);
		if (s->in.len > GP_INBUF_MAX) {
			/* The front end is not consuming: hold the reader. */
			gp_stream_read_stop(st);
			s->paused = 1;
		}
		if (f->sniffing)
			gp_intercept_sniff(f, s);
		else
			f->ops->data(f, s);
		return 0;
	}
	gp_stream_read_stop(st);
	if (f->sniffing && nread == UV_EOF) {
		s->eof = 1;		/* the relay passes it on */
		gp_intercept_pass(f);
		return 0;
	}
	if (nread != UV_EOF && s == &f->c) {
		gp_log(GP_LOG_DEBUG, "flow %s: read: %s", f->client_addr,
		    uv_strerror((int)nread));
		gp_flow_close(f);
		return 0;
	}
	/* An upstream reset is an end the front end judges (a stale
	 * keep-alive connection may be retried). */
	s->eof = 1;
	f->ops->eof(f, s);
	return 0;
}

void
gp_flow_set_timeout(struct gp_flow *f, unsigned ms)
{
	f->deadline = 0;
	f->timeout_ms = ms;
	f->last_active = uv_now(f->px->loop);
	if (!f->closing)
		uv_timer_start(&f->timer, on_timer, ms, 0);
}

void
gp_flow_set_deadline(struct gp_flow *f, unsigned ms)
{
	gp_flow_set_timeout(f, ms);
	f->deadline = 1;
}

/* Fires at the deadline; an idle timer re-arms when there was activity
 * since. */
static void
on_timer(uv_timer_t *t)
{
	struct gp_flow	*f = t->data;
	uint64_t	 now = uv_now(f->px->loop);
	uint64_t	 idle = now - f->last_active;

	if (f->sniffing) {
		/* Nothing told TLS apart in time: a plain tunnel. */
		gp_intercept_pass(f);
		return;
	}
	if (f->held) {
		/* Nobody decided in time. */
		f->held = 0;
		gp_pending_release(f->px->pending, &f->w);
		refuse(f, GP_R_PENDING_TIMEOUT);
		return;
	}
	if (!f->deadline && idle < f->timeout_ms) {
		uv_timer_start(t, on_timer, f->timeout_ms - idle, 0);
		return;
	}
	if (f->ops->timeout != NULL)
		f->ops->timeout(f);
	else
		gp_flow_close(f);
}

void
gp_flow_set_identity(struct gp_flow *f, const char *user)
{
	if (user == NULL || *user == '\0' || strcmp(user, "proxy") == 0)
		snprintf(f->identity, sizeof f->identity, "unknown-%s",
		    f->client_ip);
	else
		snprintf(f->identity, sizeof f->identity, "%s", user);
}

int64_t
gp_proxy_log_row(struct gp_proxy *px, const struct gp_conn_log *l)
{
	struct gp_conn_log	c = *l;

	if (px->store != NULL)
		c.id = gp_store_log_push(px->store, l);
	if (px->bus != NULL)
		gp_bus_emit(px->bus, l->update_of != 0 ? GP_EV_LOG_UPDATED :
		    GP_EV_LOG_CREATED, &c);
	return c.id;
}

/* The decision in greyproxy's log. */
static void
log_line(struct gp_flow *f)
{
	char	esc[GP_REQ_MAX * 4];

	gp_log(GP_LOG_INFO, "%s %s %s%s%s:%u %s%s%s by %s", f->ops->method,
	    f->identity, gp_log_escape(esc, sizeof esc, f->host,
	    strlen(f->host)), f->hostname[0] ? "/" : "", f->hostname,
	    f->port, f->allowed ? "allowed" : "blocked",
	    f->reason != GP_R_NONE ? " " : "", gp_reason_label(f->reason),
	    f->client_addr);
}

/* The flow's row as it stands. */
static void
log_fill(struct gp_flow *f, struct gp_conn_log *l)
{
	memset(l, 0, sizeof *l);
	l->ts = f->t0;
	l->container = f->identity;
	l->client_addr = f->client_addr;
	l->method = f->ops->method;
	l->request = f->request;
	l->host = f->host;
	l->port = f->port;
	l->resolved_ip = f->resolved_ip[0] ? f->resolved_ip : NULL;
	l->resolved_hostname = f->hostname[0] ? f->hostname : NULL;
	l->allowed = f->allowed;
	l->rule_id = f->match.matched ? f->match.rule_id : 0;
	l->reason = gp_reason_label(f->reason);
	l->bytes_up = f->c.nread - f->up0;
	l->bytes_down = f->u.nread - f->down0;
	l->duration_ms = uv_now(f->px->loop) - f->t0_ms;
}

/*
 * A tunnel's row is written when it opens, so that a connection of
 * hours is seen (and in /api/logs, as the original writes it at the
 * decision) while it runs; gp_flow_log completes it with its bytes and
 * duration when it closes.
 */
static void
log_open(struct gp_flow *f)
{
	struct gp_conn_log l;

	if (!f->need_log || f->log_id != 0 || !f->allowed)
		return;
	log_fill(f, &l);
	l.open = 1;
	f->log_id = gp_proxy_log_row(f->px, &l);
	log_line(f);
}

void
gp_flow_log(struct gp_flow *f)
{
	struct gp_conn_log	l;

	if (!f->need_log)
		return;
	f->need_log = 0;
	log_fill(f, &l);
	l.update_of = f->log_id;
	f->log_id = 0;
	gp_proxy_log_row(f->px, &l);
	if (l.update_of != 0)
		return;		/* said when it opened */
	log_line(f);
}

void
gp_flow_refused(struct gp_flow *f, enum gp_reason r)
{
	if (f->intercepted)
		return;		/* the tunnel was allowed; its transaction
				 * says what was refused inside it */
	f->reason = r;
	if (f->allowed) {
		/* Allowed by policy, then refused or failed. */
		f->px->stats.allowed--;
		f->allowed = 0;
	}
	f->px->stats.blocked++;
}

/* Refuses the current request: counted, logged, answered by the front. */
static void
refuse(struct gp_flow *f, enum gp_reason r)
{
	gp_flow_refused(f, r);
	f->ops->refuse(f, r);
}

int
gp_flow_local_destination(const char *host)
{
	size_t n = strlen(host);

	return gp_ip_is_private(host) || strcmp(host, "localhost") == 0 ||
	    (n > 10 && strcmp(host + n - 10, ".localhost") == 0);
}

/* Limited mode: plain HTTP may only read (GET, HEAD, OPTIONS). */
static int
method_permitted(const struct gp_flow *f)
{
	if (f->px->settings == NULL ||
	    f->px->settings->mode != GP_MODE_LIMITED)
		return 1;
	return strcmp(f->method, "GET") == 0 ||
	    strcmp(f->method, "HEAD") == 0 ||
	    strcmp(f->method, "OPTIONS") == 0;
}

/* No rule matched: block, or hold the connection for a person. */
static void
hold(struct gp_flow *f)
{
	struct gp_pending_key	  k;
	const struct gp_settings *st = f->px->settings;

	if (f->px->pending == NULL || st == NULL ||
	    st->default_action == GP_DEFAULT_BLOCK) {
		refuse(f, GP_R_ALLOWLIST);
		return;
	}
	struct sockaddr_storage	  a[4];
	char			  ips[4 * (INET6_ADDRSTRLEN + 2)] = "";
	size_t			  n, i;

	memset(&k, 0, sizeof k);
	k.container = f->identity;
	k.host = f->host;
	k.port = f->port;
	k.local = gp_flow_local_destination(f->host);
	k.resolved_hostname = f->hostname[0] ? f->hostname : NULL;
	k.request = f->request;
	k.protocol = f->ops->method;
	/* Addresses known without a query (literals, localhost, hosts). */
	n = gp_resolve_static(f->px->resolver, f->host, f->port, a, 4);
	for (i = 0; i < n; i++) {
		char ip[INET6_ADDRSTRLEN];

		gp_addr_ip((struct sockaddr *)&a[i], ip, sizeof ip);
		snprintf(ips + strlen(ips), sizeof ips - strlen(ips), "%s%s",
		    i ? ", " : "", ip);
	}
	k.addresses = n ? ips : NULL;
	f->w.cb = on_verdict;
	if (gp_pending_hold(f->px->pending, &k, &f->w) == NULL) {
		refuse(f, GP_R_PENDING_FULL);
		return;
	}
	f->held = 1;
	/* The flow timer doubles as the pending deadline. */
	f->timeout_ms = (unsigned)st->pending_timeout * 1000;
	uv_timer_start(&f->timer, on_timer, f->timeout_ms, 0);
}

static void
on_verdict(struct gp_waiter *w, enum gp_verdict v, int64_t rule_id)
{
	struct gp_flow *f = (struct gp_flow *)((char *)w -
	    offsetof(struct gp_flow, w));

	f->held = 0;
	if (f->closing)
		return;
	switch (v) {
	case GP_VERDICT_ALLOW:
	case GP_VERDICT_RULE:
		/* Only a person's approval opens the local network. */
		f->approved = v == GP_VERDICT_ALLOW;
		f->match.matched = rule_id != 0;
		f->match.rule_id = rule_id;
		f->match.action = GP_ALLOW;
		f->allowed = 1;
		f->px->stats.allowed++;
		gp_flow_set_timeout(f, f->px->opts.idle_timeout_ms);
		connect_target(f);
		break;
	case GP_VERDICT_DENY:
		f->match.matched = rule_id != 0;
		f->match.rule_id = rule_id;
		f->match.action = GP_DENY;
		refuse(f, GP_R_DENYLIST);
		break;
	default:
		refuse(f, GP_R_ALLOWLIST);
		break;
	}
}

void
gp_flow_match(struct gp_flow *f, const char *host, unsigned port,
    struct gp_match *m, char *hostname, size_t hostlen)
{
	struct gp_query	q;
	int64_t		now = gp_now();

	/* Enrichment: a bare IP is also judged by the name it came from. */
	hostname[0] = '\0';
	if (f->px->dns_cache != NULL && gp_host_ip_family(host)) {
		const char *h = gp_dns_cache_host(f->px->dns_cache, host, now);

		if (h != NULL)
			snprintf(hostname, hostlen, "%s", h);
	}
	memset(&q, 0, sizeof q);
	q.container = f->identity;
	q.host = host;
	q.alt_host = hostname[0] ? hostname : NULL;
	q.port = port;
	q.now = now;
	gp_rules_match(f->px->rules, &q, m);
}

/* The rules decision, once the destination is known not to be us. */
static void
decide_rules(struct gp_flow *f)
{
	gp_flow_match(f, f->host, f->port, &f->match, f->hostname,
	    sizeof f->hostname);
	if (f->match.matched && f->match.action == GP_DENY) {
		if (f->px->store != NULL)
			gp_store_rule_hit(f->px->store, f->match.rule_id,
			    f->t0);
		refuse(f, GP_R_DENYLIST);
		return;
	}
	if (!f->match.matched) {
		hold(f);
		return;
	}
	/* A wildcard or a name's allow does not open the local network:
	 * a person does (or a rule naming it), asked now rather than
	 * refused at connect. */
	if (!gp_proxy_rule_opens(f->px, f->identity, f->host, f->port)) {
		if (f->px->settings != NULL && f->px->settings->default_action
		    == GP_DEFAULT_BLOCK)
			refuse(f, GP_R_POLICY);
		else
			hold(f);
		return;
	}
	if (f->px->store != NULL)
		gp_store_rule_hit(f->px->store, f->match.rule_id, f->t0);
	f->allowed = 1;
	f->px->stats.allowed++;
	connect_target(f);
}

/* A name on one of our ports resolved: refuse it if it lands on us. */
static void
on_self_checked(void *data, int status, const struct sockaddr_storage *a,
    size_t n)
{
	struct gp_flow *f = data;

	f->rq = NULL;
	if (status == 0 && gp_proxy_count_self(f->px, a, n) > 0) {
		gp_log(GP_LOG_WARN, "%s %s: %s:%u resolves to greyproxy's "
		    "own listener: refused", f->ops->method, f->identity,
		    f->host, f->port);
		refuse(f, GP_R_SELF);
		return;
	}
	decide_rules(f);
}

void
gp_flow_decide(struct gp_flow *f)
{
	struct sockaddr_storage	a[GP_RESOLVE_MAX];
	size_t			n;

	gp_flow_log(f);		/* a previous request on this connection */
	f->t0 = gp_now();
	f->t0_ms = uv_now(f->px->loop);
	f->up0 = f->c.nread;
	f->down0 = f->u.nread;
	f->resolved_ip[0] = '\0';
	f->reason = GP_R_NONE;
	f->allowed = 0;
	f->approved = 0;
	f->need_log = 1;
	memset(&f->match, 0, sizeof f->match);

	if (!method_permitted(f)) {
		refuse(f, GP_R_METHOD_POLICY);
		return;
	}
	/*
	 * Greyproxy itself is refused before any rule or the pending
	 * queue sees it, so nobody can approve it by reflex.  Names on one
	 * of our ports are resolved first; the guard checks again on the
	 * addresses actually dialed.
	 */
	if (gp_proxy_self_port(f->px, f->port)) {
		n = gp_resolve_static(f->px->resolver, f->host, f->port, a,
		    GP_RESOLVE_MAX);
		if (n > 0) {
			on_self_checked(f, 0, a, n);
			return;
		}
		f->rq = gp_resolve(f->px->resolver, f->host, f->port,
		    on_self_checked, f);
		if (f->rq != NULL)
			return;
	}
	decide_rules(f);
}

/* Without a person's answer: an address outside the local network, or
 * one a rule names (exact or CIDR; loopback: also localhost). */
static int
addr_open(const struct gp_proxy *px, const char *identity,
    const struct sockaddr *sa, unsigned port, int64_t now)
{
	char	ip[INET6_ADDRSTRLEN];

	if (!gp_addr_is_private(sa))
		return 1;
	gp_addr_ip(sa, ip, sizeof ip);
	return gp_rules_names_ip(px->rules, identity, ip,
	    gp_addr_is_loopback(sa), port, now);
}

/*
 * The guard on the addresses a connection would dial.  Any address that
 * is greyproxy itself refuses the whole destination (*why GP_R_SELF),
 * whatever rule or approval let it this far.  Otherwise, DNS-rebinding:
 * drops local-network addresses that no rule names (unless a person
 * approved this very connection or protection is off); when none is
 * left, *why is GP_R_POLICY.  Returns how many addresses remain.
 */
size_t
gp_flow_guard(struct gp_flow *f, unsigned port, struct sockaddr_storage *a,
    size_t n, enum gp_reason *why)
{
	const struct gp_settings *st = f->px->settings;
	char			  ip[INET6_ADDRSTRLEN];
	size_t			  i, o = 0;

	if (gp_proxy_count_self(f->px, a, n) > 0) {
		gp_log(GP_LOG_WARN, "%s %s: %s:%u is greyproxy's own "
		    "listener: refused", f->ops->method, f->identity,
		    f->host, port);
		*why = GP_R_SELF;
		return 0;
	}
	*why = GP_R_POLICY;
	if (f->approved || st == NULL || !st->private_protection)
		return n;
	for (i = 0; i < n; i++) {
		if (!addr_open(f->px, f->identity,
		    (const struct sockaddr *)&a[i], port, gp_now())) {
			gp_addr_ip((const struct sockaddr *)&a[i], ip,
			    sizeof ip);
			gp_log(GP_LOG_DEBUG, "%s resolves to local address "
			    "%s, not named by a rule", f->host, ip);
			continue;
		}
		a[o++] = a[i];
	}
	return o;
}

static int
cmp_row_id(const void *a, const void *b)
{
	int64_t x = (*(struct gp_log_row *const *)a)->id;
	int64_t y = (*(struct gp_log_row *const *)b)->id;

	return x < y ? -1 : x > y;
}

/*
 * On the loop: the page's rows (a few hundred) sorted by id, each open
 * tunnel looked up among them; never a sort of every open tunnel (ten
 * thousand idle ones are a normal load).
 */
void
gp_proxy_mark_open(const struct gp_proxy *px, struct gp_log_row *rows,
    size_t n)
{
	const struct gp_flow	*f;
	struct gp_log_row	**by_id, key, *kp = &key, **hit;
	size_t			 i;

	for (i = 0; i < n; i++)
		rows[i].open = 0;
	if (n == 0)
		return;
	by_id = gp_xcalloc(n, sizeof *by_id);
	for (i = 0; i < n; i++)
		by_id[i] = &rows[i];
	qsort(by_id, n, sizeof *by_id, cmp_row_id);
	for (f = px->flows; f != NULL; f = f->next) {
		if (f->log_id == 0)
			continue;
		key.id = f->log_id;
		if ((hit = bsearch(&kp, by_id, n, sizeof *by_id,
		    cmp_row_id)) != NULL)
			(*hit)->open = 1;
	}
	free(by_id);
}

int
gp_proxy_rule_opens(struct gp_proxy *px, const char *identity,
    const char *host, unsigned port)
{
	struct sockaddr_storage	a[GP_RESOLVE_MAX];
	size_t			n, i;
	int64_t			now = gp_now();

	if (px->settings == NULL || !px->settings->private_protection)
		return 1;
	n = gp_resolve_static(px->resolver, host, port, a, GP_RESOLVE_MAX);
	for (i = 0; i < n; i++)
		if (addr_open(px, identity, (const struct sockaddr *)&a[i],
		    port, now))
			return 1;
	return n == 0;
}

/* Resolves and dials f->host:f->port (reusing f->u if already open). */
static void
connect_target(struct gp_flow *f)
{
	struct sockaddr_storage	addrs[GP_RESOLVE_MAX];
	enum gp_reason		why;
	size_t			n;

	if (f->u.st != NULL) {
		f->ops->connected(f);
		return;
	}
	n = gp_resolve_static(f->px->resolver, f->host, f->port, addrs,
	    GP_RESOLVE_MAX);
	if (n > 0) {
		if ((n = gp_flow_guard(f, f->port, addrs, n, &why)) == 0) {
			refuse(f, why);
			return;
		}
		f->dial = gp_dial_start(f->px->loop, addrs, n,
		    f->px->opts.connect_timeout_ms, on_dialed, f);
		return;
	}
	f->rq = gp_resolve(f->px->resolver, f->host, f->port, on_resolved, f);
	if (f->rq == NULL)
		refuse(f, GP_R_DNS_FAILED);
}

static void
on_resolved(void *data, int status, const struct sockaddr_storage *addrs,
    size_t n)
{
	struct gp_flow		*f = data;
	struct sockaddr_storage	 copy[GP_RESOLVE_MAX];
	enum gp_reason		 why;

	f->rq = NULL;
	if (n > GP_RESOLVE_MAX)
		n = GP_RESOLVE_MAX;
	if (status != 0 || n == 0) {
		gp_log(GP_LOG_DEBUG, "resolve %s: %s", f->host,
		    strerror(-status));
		refuse(f, GP_R_DNS_FAILED);
		return;
	}
	memcpy(copy, addrs, n * sizeof *addrs);
	if ((n = gp_flow_guard(f, f->port, copy, n, &why)) == 0) {
		refuse(f, why);
		return;
	}
	f->dial = gp_dial_start(f->px->loop, copy, n,
	    f->px->opts.connect_timeout_ms, on_dialed, f);
}

static void
on_dialed(void *data, uv_tcp_t *tcp, int status, const struct sockaddr *peer)
{
	struct gp_flow	*f = data;

	f->dial = NULL;
	if (tcp == NULL) {
		gp_log(GP_LOG_DEBUG, "connect %s:%u: %s", f->host, f->port,
		    uv_strerror(status));
		refuse(f, status == UV_ECONNREFUSED ? GP_R_CONNECT_REFUSED :
		    status == UV_ETIMEDOUT ? GP_R_UPSTREAM_TIMEOUT :
		    status == UV_EHOSTUNREACH || status == UV_ENETUNREACH ?
		    GP_R_CONNECT_UNREACHABLE : GP_R_CONNECT_FAILED);
		return;
	}
	f->u.st = gp_stream_tcp_new(tcp, &side_cbs, &f->u);
	f->handles++;
	f->u.eof = f->u.shut = 0;
	gp_addr_ip(peer, f->resolved_ip, sizeof f->resolved_ip);
	gp_flow_set_timeout(f, f->px->opts.idle_timeout_ms);
	f->ops->connected(f);
}

void
gp_flow_reconnect(struct gp_flow *f)
{
	gp_flow_close_side(&f->u);
	connect_target(f);
}

void
gp_flow_tunnel(struct gp_flow *f)
{
	/*
	 * The interception stage: TLS termination and header rewriting
	 * will decide here whether the bytes are relayed raw.
	 */
	f->tunnel = 1;
	log_open(f);
	gp_flow_uncork(&f->c);		/* relayed bytes come after */
	gp_flow_uncork(&f->u);
	gp_flow_set_timeout(f, f->px->opts.idle_timeout_ms);
	if (!f->closing)
		gp_intercept_start(f);
}
