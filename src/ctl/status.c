/*
 * status.c (ctl): what the interfaces read: a status snapshot, the
 * pending list, stored rules, the connection log and the recent refusals.
 * The API and the TUI go through these, never through struct gp_ctl.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ctl/ctl.h"

void
gp_ctl_status(struct gp_ctl *c, struct gp_ctl_status *s)
{
	memset(s, 0, sizeof *s);
	s->http = c->http_bound;
	s->socks = c->socks_bound;
	s->dns = c->dns_bound;
	s->pending = c->pending.count;
	s->waiting = gp_pending_waiting(&c->pending);
	s->allowed = c->px.stats.allowed;
	s->blocked = c->px.stats.blocked;
	s->connections = c->px.stats.flows;
	s->spliced = c->px.stats.spliced;
	s->copied = c->px.stats.copied;
	s->intercepted = c->px.stats.intercepted;
	s->plain_http = c->px.stats.plain_http;
	s->bodies_spliced = c->px.stats.body_spliced;
	s->resumed = c->px.stats.resumed;
	s->tx_dropped = c->tx_dropped;
	s->tx_pruned = c->tx_pruned;
	s->rules = gp_rules_count(c->rules);
	s->ingesting = c->ingesting;
	s->reloading = c->reloading;
	s->rules_gen = c->rules_gen;
	s->loop = c->loop_stats;
	if (c->dns_cache != NULL) {
		gp_dns_cache_stats(c->dns_cache, &s->dns_cache);
		s->have_dns_cache = 1;
	}
	s->dns_inflight = c->dns != NULL ? gp_dns_inflight(c->dns) : 0;
	gp_store_health(c->store, &s->storage);
	s->dns_folded = gp_dnslog_folded(c->dnslog);
	s->accept_failures = gp_net_accept_failures();
	s->settings = &c->settings;
	s->cfg = c->cfg;
}

const struct gp_settings *
gp_ctl_settings(struct gp_ctl *c)
{
	return &c->settings;
}

const struct gp_config *
gp_ctl_config(struct gp_ctl *c)
{
	return c->cfg;
}

struct gp_bus *
gp_ctl_bus(struct gp_ctl *c)
{
	return &c->bus;
}

uv_loop_t *
gp_ctl_loop(struct gp_ctl *c)
{
	return c->loop;
}

size_t
gp_ctl_pending_list(struct gp_ctl *c, struct gp_pending_entry ***out)
{
	return gp_pending_list(&c->pending, out);
}

size_t
gp_ctl_pending_count(struct gp_ctl *c)
{
	return c->pending.count;
}

int
gp_ctl_rules_load(struct gp_ctl *c, struct gp_rule **out, size_t *n)
{
	return gp_store_rules_load(c->store, out, n);
}

int
gp_ctl_rule_get(struct gp_ctl *c, int64_t id, struct gp_rule *r)
{
	return gp_store_rule_get(c->store, id, r);
}

int
gp_ctl_logs_query(struct gp_ctl *c, const struct gp_log_filter *f,
    struct gp_log_row **rows, size_t *n, int64_t *total)
{
	int rc = gp_store_log_query(c->store, f, rows, n, total);

	if (rc == 0)
		gp_proxy_mark_open(&c->px, *rows, *n);
	return rc;
}

struct logjob {
	uv_work_t			 w;
	struct gp_ctl			*c;
	uint64_t			 barrier;
	int				 stats;
	gp_ctl_rules_scan_fn		 scan;	/* a rules job */
	gp_ctl_rules_done_fn		 rdone;
	struct gp_log_filter		 f;	/* strings owned */
	struct gp_ctl_logs_result	 res;
	gp_ctl_logs_fn			 fn;
	void				*arg;
};

#define LOG_WAIT_MS	2000	/* for the writer; then read what is there */

/* Worker: the rows logged before the request, then the query. */
static void
logjob_run(uv_work_t *w)
{
	struct logjob	*j = w->data;
	struct gp_ctl	*c = j->c;

	if (j->scan == NULL &&
	    gp_store_log_wait(c->store, j->barrier, LOG_WAIT_MS) != 0)
		gp_log(GP_LOG_WARN, "log query: the writer is behind; "
		    "answering with what is written");
	if (gp_ctl_reader_lock(c) == NULL) {
		j->res.rc = -1;
	} else if (j->scan != NULL) {
		struct gp_rule	*v;
		size_t		 n;

		if ((j->res.rc = gp_store_rules_load(c->reader, &v, &n)) == 0) {
			j->scan(j->arg, v, n);
			gp_store_rules_free(v, n);
		}
	} else if (j->stats) {
		j->res.rc = gp_store_log_stats(c->reader, &j->res.total,
		    &j->res.allowed, &j->res.blocked);
	} else {
		j->res.rc = gp_store_log_query(c->reader, &j->f, &j->res.rows,
		    &j->res.n, &j->res.total);
	}
	uv_mutex_unlock(&c->reader_mu);
}

/* Worker: the core's one reader connection, opened on first use, under
 * reader_mu (held on return, even when NULL: unlock it). */
struct gp_store *
gp_ctl_reader_lock(struct gp_ctl *c)
{
	char *err = NULL;

	uv_mutex_lock(&c->reader_mu);
	if (c->reader == NULL && gp_store_open(c->db_path, &c->reader,
	    &err) != 0) {
		gp_log(GP_LOG_ERROR, "query: %s", err);
		free(err);
		c->reader = NULL;
	}
	return c->reader;
}

static void
logjob_done(uv_work_t *w, int status)
{
	struct logjob *j = w->data;

	if (status != 0 && j->res.rc == 0)
		j->res.rc = -1;
	if (j->scan != NULL)
		j->rdone(j->arg, j->res.rc);
	else {
		if (j->res.rc == 0 && !j->stats)	/* on the loop: flows */
			gp_proxy_mark_open(&j->c->px, j->res.rows, j->res.n);
		j->fn(j->arg, &j->res);
	}
	free((char *)j->f.container);
	free((char *)j->f.destination);
	free((char *)j->f.search);
	free(j);
}

/* Queues a read job, or frees it: 0, or -1 when no worker took it. */
static int
queue_read(struct gp_ctl *c, struct logjob *j)
{
	j->c = c;
	j->w.data = j;
	if (uv_queue_work(c->loop, &j->w, logjob_run, logjob_done) == 0)
		return 0;
	free((char *)j->f.container);
	free((char *)j->f.destination);
	free((char *)j->f.search);
	free(j);
	return -1;
}

int
gp_ctl_logs_async(struct gp_ctl *c, const struct gp_log_filter *f,
    gp_ctl_logs_fn fn, void *arg)
{
	struct logjob *j;

	if (c->db_path == NULL || !c->reader_mu_ok)
		return -1;
	j = gp_xcalloc(1, sizeof *j);
	j->fn = fn;
	j->arg = arg;
	j->stats = f == NULL;
	if (f != NULL) {
		j->f = *f;
		j->f.container = f->container ? gp_xstrdup(f->container) : NULL;
		j->f.destination = f->destination ?
		    gp_xstrdup(f->destination) : NULL;
		j->f.search = f->search ? gp_xstrdup(f->search) : NULL;
	}
	j->barrier = gp_store_log_barrier(c->store);
	return queue_read(c, j);
}

int
gp_ctl_rules_scan_async(struct gp_ctl *c, gp_ctl_rules_scan_fn scan,
    gp_ctl_rules_done_fn done, void *arg)
{
	struct logjob *j;

	if (c->db_path == NULL || !c->reader_mu_ok)
		return -1;
	j = gp_xcalloc(1, sizeof *j);
	j->scan = scan;
	j->rdone = done;
	j->arg = arg;
	return queue_read(c, j);
}

void
gp_ctl_logs_prune(struct gp_ctl *c)
{
	gp_store_log_retention(c->store, c->settings.log_retention_days,
	    (int64_t)c->settings.log_max_mb << 20);
}

int
gp_ctl_logs_stats(struct gp_ctl *c, int64_t *total, int64_t *allowed,
    int64_t *blocked)
{
	return gp_store_log_stats(c->store, total, allowed, blocked);
}

const struct gp_blocked *
gp_ctl_blocked(struct gp_ctl *c, size_t i)
{
	size_t n = c->nblocked < GP_BLOCKED_RING ? c->nblocked :
	    GP_BLOCKED_RING;

	if (i >= n)
		return NULL;
	return &c->blocked[(c->nblocked - 1 - i) % GP_BLOCKED_RING];
}
