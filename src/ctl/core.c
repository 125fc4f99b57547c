/*
 * core.c: starting and stopping the in-process core: state, resolver,
 * pending queue, proxy listeners, the batched-write timer and the watch
 * for changes made by other processes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "ctl/ctl.h"

#define FLUSH_MS	250
#define WATCH_MS	250	/* PRAGMA data_version: microseconds */

static void
dns_answer(void *d, const char *key, const uint8_t *p, size_t n,
    int64_t stored, int64_t expires, int negative)
{
	gp_store_dns_answer(d, key, p, n, stored, expires, negative);
}

static void
dns_host(void *d, const char *ip, const char *host, int64_t expires)
{
	gp_store_dns_host(d, ip, host, expires);
}

static void
dns_cleared(void *d)
{
	gp_store_dns_prune(d, gp_now(), 1);
}

/* The loop's busy share since the last tick, for the lanes. */
static void
lane_load(struct gp_ctl *c)
{
	uint64_t wall = uv_hrtime(), idle = uv_metrics_idle_time(c->loop);
	uint64_t dw = wall - c->load_wall, di = idle - c->load_idle;

	if (c->load_wall != 0 && dw > 0)
		gp_lane_load(di >= dw ? 0 : (unsigned)((dw - di) * 100 / dw));
	c->load_wall = wall;
	c->load_idle = idle;
}

/* Pending rows and DNS cache rows written a tick, at most: about 1 ms
 * of the loop each. */
#define PENDING_FLUSH_MAX	512
#define DNS_FLUSH_MAX		512
/* The DNS cache's answers in memory; the database keeps at most twice
 * as many (and hosts likewise), trimmed this many rows a tick. */
#define DNS_CACHE_MAX		10000
#define DNS_TRIM_STEP		256
/* Ticks the batch may wait for a background writer, then how long the
 * loop waits for its step to end (gp_store_urgent). */
#define FLUSH_MISSES		1
#define FLUSH_WAIT_MS		20

/* Batched writes: the log, pending counts and the DNS cache. */
static void
on_flush(uv_timer_t *t)
{
	struct gp_ctl		*c = t->data;
	struct gp_dns_dirty	 d = { dns_answer, dns_host, dns_cleared,
	    c->store };
	static unsigned		 ticks;
	int			 trim;

	ticks++;
	lane_load(c);
	gp_pending_expire(&c->pending, gp_now());
	gp_ctl_capture_flush(c);	/* its own connection, on a worker */
	if (ticks % 4 == 0)		/* a second */
		gp_dnslog_sweep(c, c->dnslog, gp_now());
	/* A worker holds the write lock (an ingest): writing now would
	 * wait for it on the loop; the rows wait for a later tick. */
	if (c->ingesting)
		return;
	if (!gp_store_batch_due(c->store)) {
		/* The disk is full: back off; log rows are counted drops. */
		gp_store_log_flush(c->store);
		return;
	}
	gp_store_log_flush(c->store);
	/* The pending queue's changes (new entries, counts, entries gone)
	 * and the DNS cache: one transaction a tick (a burst of new
	 * destinations was one commit each on the loop).  While a
	 * background writer holds the lock, the next tick; after
	 * FLUSH_MISSES ticks so (at 50 connections 100 new entries took
	 * 1.6 s to be stored), the loop goes first, waiting at most
	 * FLUSH_WAIT_MS for the background's step to end.  The DNS tables
	 * are trimmed at every tick that writes them, and once a minute
	 * besides (for expiry). */
	trim = c->dns_cache != NULL && (ticks % 240 == 0 || c->dns_trim ||
	    gp_dns_cache_dirty(c->dns_cache) > 0);
	if (!trim && !gp_pending_dirty(&c->pending))
		c->flush_misses = 0;
	else if (gp_store_begin_within(c->store, c->flush_misses <
	    FLUSH_MISSES ? 0 : FLUSH_WAIT_MS) != 0)
		c->flush_misses++;
	else {
		int ok;

		c->flush_misses = 0;
		gp_pending_flush(&c->pending, PENDING_FLUSH_MAX);
		if (c->dns_cache != NULL) {
			gp_dns_cache_drain(c->dns_cache, &d, DNS_FLUSH_MAX);
			/* a full step: more may be due */
			c->dns_trim = trim && gp_store_dns_trim(c->store,
			    gp_now(), 2 * DNS_CACHE_MAX, 8 * DNS_CACHE_MAX,
			    DNS_TRIM_STEP) >= DNS_TRIM_STEP;
		}
		ok = gp_store_commit(c->store) == 0;
		gp_pending_flushed(&c->pending, ok);
		if (ok)		/* the end of a failure episode, if any */
			gp_store_batch_ok(c->store);
	}
}

static void
load_answer(void *d, const char *key, const void *p, size_t n,
    int64_t stored, int64_t expires, int negative)
{
	gp_dns_cache_load(d, key, p, n, stored, expires, negative, gp_now());
}

static void
load_host(void *d, const char *ip, const char *host, int64_t expires)
{
	gp_dns_cache_note_host(d, ip, host, expires);
}

/* DNS policy: a deny rule covering the name on every port refuses it. */
static int
dns_denied(void *data, const char *client_ip, const char *name)
{
	struct gp_ctl	*c = data;
	struct gp_query	 q;
	struct gp_match	 m;
	char		 id[GP_ADDR_STRLEN + 16];

	if (!c->settings.dns_policy)
		return 0;
	snprintf(id, sizeof id, "unknown-%s", client_ip);
	memset(&q, 0, sizeof q);
	q.container = id;
	q.host = name;
	q.port = 0;		/* only rules for every port apply */
	q.now = gp_now();
	return gp_rules_match(c->rules, &q, &m) && m.action == GP_DENY;
}

static void
dns_logged(void *data, const struct gp_dns_query_info *i)
{
	struct gp_ctl	*c = data;

	gp_dnslog_query(c, c->dnslog, i);
}

static void
on_watch(uv_timer_t *t)
{
	gp_ctl_poll_changes(t->data);
}

/* Keeps the most recent blocked decisions for GET /blocked. */
static void
on_event(void *data, enum gp_event ev, const void *obj)
{
	struct gp_ctl			*c = data;
	const struct gp_conn_log	*l = obj;
	struct gp_blocked		*b;

	if (ev != GP_EV_LOG_CREATED || l->allowed)
		return;
	b = &c->blocked[c->nblocked++ % GP_BLOCKED_RING];
	b->ts = l->ts;
	b->port = l->port;
	snprintf(b->host, sizeof b->host, "%s", l->host ? l->host : "");
	snprintf(b->container, sizeof b->container, "%s",
	    l->container ? l->container : "");
	snprintf(b->reason, sizeof b->reason, "%s", l->reason ? l->reason :
	    "");
	snprintf(b->method, sizeof b->method, "%s", l->method ? l->method :
	    "");
}

static int
listen_one(struct gp_ctl *c, uv_tcp_t *tcp, const char *what,
    const char *addr, uv_connection_cb cb, struct sockaddr_storage *bound,
    char **err)
{
	struct sockaddr_storage	 ss;
	const char		*why;
	char			 buf[GP_ADDR_STRLEN];
	int			 rc;

	if (gp_addr_parse(addr, &ss, &why) != 0) {
		gp_xasprintf(err, "%s %s: %s", what, addr, why);
		return -1;
	}
	rc = gp_listen_tcp(c->loop, tcp, (struct sockaddr *)&ss, cb, bound);
	if (rc != 0) {
		uv_close((uv_handle_t *)tcp, NULL);	/* c outlives the loop run */
		gp_xasprintf(err, _("cannot listen on %s for %s: %s"), addr,
		    what, uv_strerror(rc));
		return -1;
	}
	tcp->data = &c->px;
	gp_addr_format((struct sockaddr *)bound, buf, sizeof buf);
	gp_log(GP_LOG_INFO, "%s listening on %s", what, buf);
	return 0;
}

void
gp_ctl_own_listener(struct gp_ctl *c, const struct sockaddr *sa)
{
	gp_proxy_add_self(&c->px, sa);
}

/* Before each poll wait: how long the iteration ran outside the wait. */
static void
on_gauge(uv_prepare_t *h)
{
	struct gp_ctl		*c = h->data;
	struct gp_loop_stats	*st = &c->loop_stats;
	uint64_t		 wall = uv_hrtime();
	uint64_t		 idle = uv_metrics_idle_time(h->loop);
	uint64_t		 busy = wall - c->gauge_wall;

	busy = idle - c->gauge_idle < busy ? busy - (idle - c->gauge_idle) : 0;
	c->gauge_wall = wall;
	c->gauge_idle = idle;
	st->iterations++;
	if (busy > 1000000)
		st->busy_over_1ms++;
	if (busy > 10000000)
		st->busy_over_10ms++;
	if (busy > st->busy_max_ns)
		st->busy_max_ns = busy;
}

int
gp_ctl_start(struct gp_ctl *c, uv_loop_t *loop, const struct gp_config *cfg,
    char **err)
{
	char		*path, *e2 = NULL;
	const char	*why;
	int		 rc;

	memset(c, 0, sizeof *c);
	c->lock_fd = -1;
	c->reader_mu_ok = uv_mutex_init(&c->reader_mu) == 0;
	c->loop = loop;
	c->cfg = cfg;
	*err = NULL;
	gp_net_reserve_fds();	/* before serving: see net.h */
	if ((rc = gp_data_dir_prepare(cfg->data_dir)) != 0) {
		gp_xasprintf(err, _("data directory %s: %s"), cfg->data_dir,
		    strerror(-rc));
		return -1;
	}
	{
		long holder;

		rc = gp_data_dir_lock(cfg->data_dir, &c->lock_fd, &holder);
		if (rc == -EWOULDBLOCK) {
			gp_xasprintf(err, _("data directory %s is in use by "
			    "another greyproxy (pid %ld); attach to it with "
			    "'greyproxy tui' or use another --data-dir"),
			    cfg->data_dir, holder);
			return -1;
		}
		if (rc != 0) {
			gp_xasprintf(err, _("data directory %s: cannot lock: "
			    "%s"), cfg->data_dir, strerror(-rc));
			return -1;
		}
	}
	if (gp_settings_load(&c->settings, cfg->data_dir, &e2) != 0) {
		*err = e2;
		goto fail_lock;
	}
	gp_xasprintf(&path, "%s/greyproxy.db", cfg->data_dir);
	rc = gp_store_open(path, &c->store, err);
	free(c->db_path);
	c->db_path = path;		/* for workers' own connections */
	if (rc != 0)
		goto fail_lock;
	/* The log's episodes are told by its writer's connection; this
	 * one's failures (pending queue, DNS cache) show in the status and
	 * in one "commit:" line, not as a second episode of the log. */
	gp_store_set_quiet(c->store, 1);
	if (gp_store_writer_start(c->store, path, err) != 0)
		goto fail_store;
	if (gp_resolver_new(loop, cfg->dns_upstream, 2, &c->res, &why) != 0) {
		gp_xasprintf(err, "%s", why);
		goto fail_store;
	}
	gp_store_rules_seen(c->store);
	gp_pending_init(&c->pending, c->store, &c->bus);
	gp_ctl_settings_apply(c);
	c->dnslog = gp_dnslog_new();
	gp_proxy_init(&c->px, loop, c->res, c->store, &c->bus, &c->pending,
	    &c->settings);
	c->px.opts.connect_timeout_ms = cfg->connect_timeout_ms;
	c->px.opts.idle_timeout_ms = cfg->idle_timeout_ms;
	c->px.opts.header_timeout_ms = cfg->header_timeout_ms;
	if (gp_ctl_reload_rules(c) != 0) {
		gp_xasprintf(err, _("cannot load rules"));
		goto fail_res;
	}
	gp_ctl_request_rules_attach(c);
	gp_ctl_capture_attach(c);
	gp_ctl_creds_load(c);
	gp_ctl_sessions_load(c);
	gp_ctl_creds_attach(c);
	gp_ctl_cert_load(c);	/* none or a broken one: said, not fatal */
	c->bus_sub = gp_bus_subscribe(&c->bus, on_event, c);
	c->dns_cache = gp_dns_cache_new(DNS_CACHE_MAX,
	    (uint32_t)c->settings.dns_ttl_min,
	    (uint32_t)c->settings.dns_ttl_max);
	gp_store_dns_load(c->store, gp_now(), load_answer, load_host,
	    c->dns_cache);
	c->px.dns_cache = c->dns_cache;
	if (listen_one(c, &c->http, "http-proxy", cfg->http_addr,
	    gp_proxy_accept_http, &c->http_bound, err) != 0)
		goto fail_res;
	if (listen_one(c, &c->socks, "socks5-proxy", cfg->socks_addr,
	    gp_proxy_accept_socks5, &c->socks_bound, err) != 0) {
		uv_close((uv_handle_t *)&c->http, NULL);
		goto fail_res;
	}
	{
		struct gp_dns_hooks	 h = { dns_denied, dns_logged, c };
		struct sockaddr_storage	 up;
		char			 buf[GP_ADDR_STRLEN];
		const char		*why2;

		if (cfg->dns_upstream != NULL) {
			char tmp[GP_ADDR_STRLEN + 8];

			if (gp_addr_parse(cfg->dns_upstream, &up, &why2) != 0) {
				snprintf(tmp, sizeof tmp, strchr(
				    cfg->dns_upstream, ':') ? "[%s]:53" :
				    "%s:53", cfg->dns_upstream);
				if (gp_addr_parse(tmp, &up, &why2) != 0) {
					gp_xasprintf(err, _("invalid DNS "
					    "upstream %s"), cfg->dns_upstream);
					goto fail_listen;
				}
			}
		} else
			gp_dns_default_upstream(&up);
		if (gp_dns_start(&c->dns, loop, c->dns_cache, cfg->dns_addr,
		    (struct sockaddr *)&up, &h, &c->dns_bound, err) != 0) {
			c->dns = NULL;
			goto fail_listen;
		}
		gp_dns_set_deadline(c->dns, cfg->header_timeout_ms);
		gp_addr_format((struct sockaddr *)&c->dns_bound, buf,
		    sizeof buf);
		gp_log(GP_LOG_INFO, "dns-proxy listening on %s (udp+tcp)",
		    buf);
		gp_addr_format((struct sockaddr *)&up, buf, sizeof buf);
		gp_log(GP_LOG_INFO, "dns upstream %s", buf);
	}
	gp_proxy_add_self(&c->px, (struct sockaddr *)&c->http_bound);
	gp_proxy_add_self(&c->px, (struct sockaddr *)&c->socks_bound);
	gp_proxy_add_self(&c->px, (struct sockaddr *)&c->dns_bound);
	uv_timer_init(loop, &c->flush);
	c->flush.data = c;
	uv_timer_start(&c->flush, on_flush, FLUSH_MS, FLUSH_MS);
	uv_timer_init(loop, &c->watch);
	c->watch.data = c;
	uv_idle_init(loop, &c->announce);
	c->announce.data = c;
	uv_timer_start(&c->watch, on_watch, WATCH_MS, WATCH_MS);
	uv_loop_configure(loop, UV_METRICS_IDLE_TIME);
	uv_prepare_init(loop, &c->gauge);
	c->gauge.data = c;
	c->gauge_wall = uv_hrtime();
	c->gauge_idle = uv_metrics_idle_time(loop);
	uv_prepare_start(&c->gauge, on_gauge);
	uv_unref((uv_handle_t *)&c->gauge);
	c->started = 1;
	return 0;
fail_listen:
	uv_close((uv_handle_t *)&c->http, NULL);
	uv_close((uv_handle_t *)&c->socks, NULL);
fail_res:
	gp_resolver_close(c->res);
	c->res = NULL;
fail_store:
	gp_dnslog_free(c, c->dnslog);
	c->dnslog = NULL;
	gp_dns_cache_free(c->dns_cache);
	c->dns_cache = c->px.dns_cache = NULL;
	c->px.rules = NULL;
	gp_rules_free(c->rules);
	c->rules = NULL;
	gp_ctl_mitm_free(c);
	gp_bus_free(&c->bus);
	gp_pending_free(&c->pending);
	gp_store_close(c->store);
	c->store = NULL;
fail_lock:
	free(c->db_path);
	c->db_path = NULL;
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	c->lock_fd = -1;
	return -1;
}

void
gp_ctl_stop(struct gp_ctl *c)
{
	if (!c->started)
		return;
	c->started = 0;
	uv_close((uv_handle_t *)&c->http, NULL);
	uv_close((uv_handle_t *)&c->socks, NULL);
	uv_close((uv_handle_t *)&c->flush, NULL);
	uv_close((uv_handle_t *)&c->watch, NULL);
	uv_close((uv_handle_t *)&c->gauge, NULL);
	uv_close((uv_handle_t *)&c->announce, NULL);
	gp_dns_stop(c->dns);
	c->dns = NULL;
	gp_proxy_shutdown(&c->px);
	gp_resolver_close(c->res);
	c->res = NULL;
}

void
gp_ctl_free(struct gp_ctl *c)
{
	/* Folded DNS windows become rows, then the log is written. */
	gp_dnslog_free(c, c->dnslog);
	c->dnslog = NULL;
	if (c->store != NULL)
		gp_store_log_flush(c->store);
	gp_ctl_capture_free(c);
	if (c->dns_cache != NULL && c->store != NULL &&
	    gp_store_begin(c->store) == 0) {
		struct gp_dns_dirty d = { dns_answer, dns_host, dns_cleared,
		    c->store };

		gp_dns_cache_drain(c->dns_cache, &d, 0);
		gp_store_commit(c->store);
	}
	gp_dns_cache_free(c->dns_cache);
	c->dns_cache = NULL;
	c->px.dns_cache = NULL;
	gp_pending_free(&c->pending);
	gp_store_close(c->reader);	/* no query runs: the loop has ended */
	c->reader = NULL;
	if (c->reader_mu_ok)
		uv_mutex_destroy(&c->reader_mu);
	c->reader_mu_ok = 0;
	gp_store_close(c->store);
	c->store = NULL;
	c->px.rules = NULL;
	gp_rules_free(c->rules);
	c->rules = NULL;
	gp_ctl_mitm_free(c);
	gp_ctl_sessions_free(c);
	gp_ctl_creds_free(c);
	gp_bus_free(&c->bus);
	free(c->db_path);
	c->db_path = NULL;
	if (c->lock_fd >= 0)
		close(c->lock_fd);	/* the data directory is free again */
	c->lock_fd = -1;
}
