/*
 * rules.c (ctl): rule changes, stored before they apply; every change of
 * the rule set re-judges the pending queue.
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ctl/ctl.h"


/* An old set is freed on a worker: at 100 000 rules that takes ~20 ms. */
struct retired {
	uv_work_t		 req;
	struct gp_ruleset	*set;
};

static void
retired_work(uv_work_t *req)
{
	struct retired *r = req->data;

	gp_rules_free(r->set);
}

static void
retired_after(uv_work_t *req, int status)
{
	(void)status;
	free(req->data);
}

/* The loop's set becomes set: the old one goes, the queue is re-judged. */
static void
install_set(struct gp_ctl *c, struct gp_ruleset *set)
{
	struct retired *r = gp_xcalloc(1, sizeof *r);

	r->req.data = r;
	r->set = c->rules;
	c->px.rules = set;
	c->rules = set;
	c->rules_gen++;
	if (r->set == NULL || uv_queue_work(c->loop, &r->req, retired_work,
	    retired_after) != 0) {
		gp_rules_free(r->set);
		free(r);
	}
	if (c->rejudge_hold == 0)
		gp_ctl_rejudge(c);
}

int
gp_ctl_reload_rules(struct gp_ctl *c)
{
	struct gp_rule		*rows;
	struct gp_ruleset	*set;
	size_t			 n, skipped;

	if (gp_store_rules_load_matching(c->store, &rows, &n) != 0)
		return -1;
	set = gp_rules_compile(rows, n, &skipped);
	gp_store_rules_free(rows, n);
	if (skipped > 0)
		gp_log(GP_LOG_WARN, "%zu stored rules are invalid and ignored",
		    skipped);
	gp_log(GP_LOG_DEBUG, "%zu rules loaded", gp_rules_count(set));
	install_set(c, set);
	return 0;
}

/*
 * Applies the rules to every pending entry: what a rule now allows is
 * released (as the rule allows it: the local-network guard still
 * applies, unlike a person's approval), what a deny covers is refused,
 * and each entry that leaves is announced (by the queue).  Called after
 * every change of the rule set, whatever its source.
 */
size_t
gp_ctl_rejudge(struct gp_ctl *c)
{
	struct gp_pending_entry	**v;
	int64_t			 *ids, now = gp_now();
	size_t			  n, i, done = 0;

	if (c->pending.count == 0)
		return 0;
	/* Ids, not pointers: resolving one entry frees its siblings. */
	n = gp_pending_list(&c->pending, &v);
	ids = gp_xcalloc(n ? n : 1, sizeof *ids);
	for (i = 0; i < n; i++)
		ids[i] = v[i]->id;
	free(v);
	for (i = 0; i < n; i++) {
		struct gp_pending_entry	*e = gp_pending_find(&c->pending,
		    ids[i]);
		struct gp_query		 q;
		struct gp_match		 m;

		if (e == NULL)
			continue;
		memset(&q, 0, sizeof q);
		q.container = e->container;
		q.host = e->host;
		q.alt_host = e->resolved_hostname;
		q.port = e->port;
		q.now = now;
		if (!gp_rules_match(c->rules, &q, &m) || !m.matched)
			continue;
		/* An allow that does not open a local-network literal
		 * leaves it waiting for a person (it would be refused). */
		if (m.action == GP_ALLOW && !gp_proxy_rule_opens(&c->px,
		    e->container, e->host, e->port))
			continue;
		gp_log(GP_LOG_INFO, "pending %lld %s:%u %s by rule %lld",
		    (long long)e->id, e->host, e->port, m.action == GP_ALLOW ?
		    "allowed" : "denied", (long long)m.rule_id);
		gp_pending_resolve(&c->pending, e->id, m.action == GP_ALLOW ?
		    GP_VERDICT_RULE : GP_VERDICT_DENY, NULL, m.rule_id);
		done++;
	}
	free(ids);
	return done;
}

void
gp_ctl_poll_changes(struct gp_ctl *c)
{
	if (c->ingesting)	/* its worker's commit: the ingest reloads */
		return;
	if (!gp_store_rules_changed(c->store))
		return;
	gp_log(GP_LOG_INFO, "database changed by another process; "
	    "reloading rules");
	gp_ctl_rules_reload_async(c);	/* announced when the new set is in */
}

const char *
gp_ctl_strerror(int rc)
{
	switch (rc) {
	case -ENOSPC: return "cannot store it: the disk or database is full";
	case -EBUSY: return "cannot store it: the database is busy";
	case -EINVAL: return "invalid request";
	case -ENOENT: return "not found";
	case -EEXIST: return "already exists";
	default: return "cannot store it: database error";
	}
}

/*
 * Removed rules stay in the set as inert entries; once they outnumber
 * the live ones (and a thousand), one reload packs the set again, so
 * the cost of that reload is spread over the edits that made it.
 */
static void
remove_compiled(struct gp_ctl *c, int64_t id)
{
	gp_rules_remove(c->rules, id);
	c->rules_gen++;
}

/* After the edits of one operation: packed, off the loop, when due. */
static void
maybe_pack(struct gp_ctl *c)
{
	if (gp_rules_dead(c->rules) > 1024 &&
	    gp_rules_dead(c->rules) > gp_rules_count(c->rules))
		gp_ctl_rules_reload_async(c);	/* from the store: it holds every edit */
}

/*
 * A stored rule joins the compiled set in place — a few hash operations,
 * never a reload of every row — and the queue is re-judged.
 */
static void
apply_added(struct gp_ctl *c, struct gp_rule *r)
{
	gp_store_rule_layer(r);
	c->rules_gen++;
	if (gp_rules_add(c->rules, r) != 0) {
		gp_ctl_reload_rules(c);		/* cannot happen: prepared */
		return;
	}
	if (c->rejudge_hold == 0)
		gp_ctl_rejudge(c);
}

int
gp_ctl_rule_add(struct gp_ctl *c, struct gp_rule *r, int *existed,
    const char **why)
{
	return gp_ctl_rules_add(c, r, 1, existed, why);
}

int
gp_ctl_rules_add(struct gp_ctl *c, struct gp_rule *r, size_t n,
    int *existed, const char **why)
{
	size_t	i, added = 0;
	int	rc;

	for (i = 0; i < n; i++)
		if (gp_rule_prepare(&r[i], why) != 0)
			return -EINVAL;
	if ((rc = gp_store_rules_add_many(c->store, r, n, existed)) != 0) {
		*why = gp_ctl_strerror(rc);
		return rc;
	}
	/* Each joins the set in place; the queue is judged once, if the
	 * set changed. */
	c->rejudge_hold++;
	for (i = 0; i < n; i++)
		if (!existed[i]) {
			apply_added(c, &r[i]);
			gp_bus_emit(&c->bus, GP_EV_RULE_CREATED, &r[i]);
			added++;
		}
	c->rejudge_hold--;
	if (added > 0 && c->rejudge_hold == 0)
		gp_ctl_rejudge(c);
	return 0;
}

int
gp_ctl_rule_update(struct gp_ctl *c, struct gp_rule *r, const char **why)
{
	int	rc;

	if (gp_rule_prepare(r, why) != 0)
		return -EINVAL;
	rc = gp_store_rule_update(c->store, r);
	if (rc == -EEXIST) {
		*why = "an identical rule already exists";
		return rc;
	}
	if (rc < 0) {
		*why = gp_ctl_strerror(rc);
		return rc;
	}
	if (rc > 0) {
		/* The rule's old form leaves the set, its new form joins. */
		remove_compiled(c, r->id);
		apply_added(c, r);
		maybe_pack(c);
		gp_bus_emit(&c->bus, GP_EV_RULE_UPDATED, r);
	}
	return rc;
}

int
gp_ctl_rule_delete(struct gp_ctl *c, int64_t id)
{
	int	rc = gp_store_rule_delete(c->store, id);

	if (rc > 0) {
		remove_compiled(c, id);		/* in place, no reload */
		maybe_pack(c);
		gp_bus_emit(&c->bus, GP_EV_RULE_DELETED, &id);
	}
	return rc;
}

/*
 * Many rules in one transaction, then one reload and one re-judging of
 * the queue (not one per rule), announced as one outside change.
 */
int
gp_ctl_rules_ingest(struct gp_ctl *c, struct gp_rule *rules, size_t n,
    size_t *imported, size_t *skipped)
{
	struct gp_rule	*ok = gp_xcalloc(n ? n : 1, sizeof *ok);
	int		*existed = gp_xcalloc(n ? n : 1, sizeof *existed);
	const char	*why;
	size_t		 i, k = 0;
	int		 rc;

	*imported = *skipped = 0;
	for (i = 0; i < n; i++) {
		if (gp_rule_prepare(&rules[i], &why) != 0) {
			(*skipped)++;
			continue;
		}
		ok[k++] = rules[i];	/* moved: the caller's copy is cleared */
		memset(&rules[i], 0, sizeof rules[i]);
	}
	rc = k > 0 ? gp_store_rules_add_many(c->store, ok, k, existed) : 0;
	if (rc == 0) {
		for (i = 0; i < k; i++) {
			if (existed[i])
				(*skipped)++;
			else
				(*imported)++;
		}
		if (*imported > 0) {
			gp_ctl_reload_rules(c);
			gp_bus_emit(&c->bus, GP_EV_RULE_UPDATED, NULL);
		}
	}
	for (i = 0; i < k; i++)
		gp_rule_clear(&ok[i]);
	free(ok);
	free(existed);
	return rc;
}

struct ingest_job {
	uv_work_t		 req;
	struct gp_ctl		*c;
	char			*db_path;
	gp_rules_source_fn	 src;
	void			*src_arg;
	gp_ctl_ingest_fn	 done;
	void			*arg;
	uint64_t		 gen;		/* rules_gen when queued */
	int			 rc;
	const char		*why;
	size_t			 imported, skipped;
	struct gp_ruleset	*set;		/* every stored rule */
	int			 reload;	/* no source: load and compile */
	int			 attempts;	/* reloads redone for a race */
};

static int queue_job(struct gp_ctl *, struct ingest_job *);

/* Worker thread: nothing here touches the core. */
static void
ingest_work(uv_work_t *req)
{
	struct ingest_job	*j = req->data;
	struct gp_rule		*in = NULL, *rows;
	struct gp_store		*st;
	size_t			 n = 0, invalid = 0, k = 0, i, nrows, bad;
	int			*existed;
	char			*err;

	if (j->reload) {
		if (gp_store_open(j->db_path, &st, &err) != 0) {
			gp_log(GP_LOG_ERROR, "reloading rules: %s", err);
			free(err);
			j->rc = -EIO;
			return;
		}
		if (gp_store_rules_load_matching(st, &rows, &nrows) == 0) {
			j->set = gp_rules_compile(rows, nrows, &bad);
			gp_store_rules_free(rows, nrows);
			if (bad > 0)
				gp_log(GP_LOG_WARN, "%zu stored rules are "
				    "invalid and ignored", bad);
		} else
			j->rc = -EIO;
		gp_store_close(st);
		return;
	}
	if (j->src(j->src_arg, &in, &n, &invalid, &j->why) != 0) {
		j->rc = -EINVAL;
		return;
	}
	j->skipped = invalid;
	for (i = 0; i < n; i++) {
		const char *why;

		if (gp_rule_prepare(&in[i], &why) != 0) {
			gp_rule_clear(&in[i]);
			j->skipped++;
		} else
			in[k++] = in[i];
	}
	if (gp_store_open(j->db_path, &st, &err) != 0) {
		gp_log(GP_LOG_ERROR, "ingest: %s", err);
		free(err);
		j->rc = -EIO;
		goto out;
	}
	/* About 200 bytes a rule in the table and its indexes; a bigger
	 * ingest spills to the WAL rather than holding more than 64 MiB. */
	gp_store_set_cache_kib(st, (int)(k / 5 < 2048 ? 2048 : k / 5 > 65536 ?
	    65536 : k / 5));
	existed = gp_xcalloc(k ? k : 1, sizeof *existed);
	j->rc = k > 0 ? gp_store_rules_add_many(st, in, k, existed) : 0;
	for (i = 0; j->rc == 0 && i < k; i++) {
		if (existed[i])
			j->skipped++;
		else
			j->imported++;
	}
	free(existed);
	if (j->rc == 0 && j->imported > 0 &&
	    gp_store_rules_load_matching(st, &rows, &nrows) == 0) {
		j->set = gp_rules_compile(rows, nrows, &bad);
		gp_store_rules_free(rows, nrows);
	}
	gp_store_close(st);
out:
	for (i = 0; i < k; i++)
		gp_rule_clear(&in[i]);
	free(in);
}

struct gp_ctl_waiter {
	struct gp_ctl_waiter	*next;
	void			(*fn)(void *, int);
	void			*arg;
};

int
gp_ctl_ingesting(struct gp_ctl *c)
{
	return c->ingesting;
}

void
gp_ctl_after_ingest(struct gp_ctl *c, void (*fn)(void *, int), void *arg)
{
	struct gp_ctl_waiter *w = gp_xcalloc(1, sizeof *w), **tail;

	w->fn = fn;
	w->arg = arg;
	for (tail = &c->after_ingest; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = w;
}

/* The changes held during the ingest, in the order they came. */
static void
run_after_ingest(struct gp_ctl *c)
{
	struct gp_ctl_waiter *w;

	while ((w = c->after_ingest) != NULL && !c->ingesting) {
		c->after_ingest = w->next;
		w->fn(w->arg, c->started);
		free(w);
	}
}

/*
 * Loop thread, a reload's end: the set swaps in unless an edit changed
 * the loop's set meanwhile (it may or may not be in what the worker
 * read); then it is read again, and after three races on the loop.
 */
static void
reload_after(struct ingest_job *j, int status)
{
	struct gp_ctl	*c = j->c;

	c->reloading = 0;
	if (status != 0 || !c->started) {
		gp_rules_free(j->set);
	} else if (j->rc == 0 && j->set != NULL && j->gen == c->rules_gen) {
		gp_log(GP_LOG_DEBUG, "%zu rules loaded",
		    gp_rules_count(j->set));
		install_set(c, j->set);
		gp_bus_emit(&c->bus, GP_EV_RULE_UPDATED, NULL);
	} else {
		gp_rules_free(j->set);
		j->set = NULL;
		if (j->rc == 0 && ++j->attempts < 3) {
			j->gen = c->rules_gen;
			if (queue_job(c, j) == 0) {
				c->reloading = 1;
				return;
			}
		}
		gp_ctl_reload_rules(c);
		gp_bus_emit(&c->bus, GP_EV_RULE_UPDATED, NULL);
	}
	if (c->reload_again && c->started) {
		c->reload_again = 0;
		gp_ctl_rules_reload_async(c);
	}
	free(j->db_path);
	free(j);
}

/* Loop thread: the set swaps in, unless an edit raced the worker's
 * read, when the loop reloads (rare; the store holds both). */
static void
ingest_after(uv_work_t *req, int status)
{
	struct ingest_job	*j = req->data;
	struct gp_ctl		*c = j->c;
	size_t			 before = c->pending.count, cleaned = 0;

	if (j->reload) {
		reload_after(j, status);
		return;
	}
	c->ingesting = 0;
	gp_store_busy_wait(c->store, 5000);
	if (status != 0 || !c->started) {
		gp_rules_free(j->set);
		j->done(j->arg, -ECANCELED, NULL, 0, 0, 0);
		goto out;
	}
	gp_store_rules_seen(c->store);
	if (j->rc == 0 && j->imported > 0) {
		if (j->set == NULL || j->gen != c->rules_gen) {
			/* An edit raced the worker's read: the store has both. */
			gp_rules_free(j->set);
			gp_ctl_reload_rules(c);
		} else
			install_set(c, j->set);
		gp_bus_emit(&c->bus, GP_EV_RULE_UPDATED, NULL);
		cleaned = before - c->pending.count;
	} else
		gp_rules_free(j->set);
	j->done(j->arg, j->rc, j->why, j->imported, j->skipped, cleaned);
out:
	free(j->db_path);
	free(j);
	run_after_ingest(c);
}

static int
queue_job(struct gp_ctl *c, struct ingest_job *j)
{
	return uv_queue_work(c->loop, &j->req, ingest_work, ingest_after);
}

/*
 * The whole set again from the store, loaded and compiled on a worker
 * (~150 ms at 100 000 rules), swapped in on the loop.  One at a time: a
 * request meanwhile runs once the current one ends.
 */
void
gp_ctl_rules_reload_async(struct gp_ctl *c)
{
	struct ingest_job *j;

	if (c->reloading) {
		c->reload_again = 1;
		return;
	}
	j = gp_xcalloc(1, sizeof *j);
	j->req.data = j;
	j->c = c;
	j->reload = 1;
	j->db_path = gp_xstrdup(c->db_path);
	j->gen = c->rules_gen;
	if (queue_job(c, j) != 0) {
		free(j->db_path);
		free(j);
		gp_ctl_reload_rules(c);
		gp_bus_emit(&c->bus, GP_EV_RULE_UPDATED, NULL);
		return;
	}
	c->reloading = 1;
}

int
gp_ctl_rules_ingest_async(struct gp_ctl *c, gp_rules_source_fn src,
    void *src_arg, gp_ctl_ingest_fn done, void *arg)
{
	struct ingest_job	*j;
	int			 rc;

	if (c->ingesting)
		return -EBUSY;
	j = gp_xcalloc(1, sizeof *j);
	j->req.data = j;
	j->c = c;
	j->db_path = gp_xstrdup(c->db_path);
	j->src = src;
	j->src_arg = src_arg;
	j->done = done;
	j->arg = arg;
	j->gen = c->rules_gen;
	if ((rc = queue_job(c, j)) != 0) {
		free(j->db_path);
		free(j);
		return rc;
	}
	c->ingesting = 1;
	gp_store_busy_wait(c->store, 0);	/* the loop never waits for it */
	return 0;
}

/*
 * Request rules, as a filter on every HTTP request the proxy relays
 * (plain and intercepted): a deny that names the request's method or
 * path answers 403 blocked-by-request-rule.
 */
static void
request_path(const char *target, char *out, size_t len)
{
	const char	*p = target, *s;
	size_t		 n;

	if ((s = strstr(p, "://")) != NULL && s < p + strcspn(p, "/?#"))
		p = (s = strchr(s + 3, '/')) != NULL ? s : "/";
	n = strcspn(p, "?#");
	if (n == 0) {
		p = "/";
		n = 1;
	}
	snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), p);
}

static enum gp_reason
request_head(void *arg, struct gp_txn *t, const char **why)
{
	static char	 line[1200];	/* one loop thread */
	struct gp_ctl	*c = arg;
	struct gp_query	 q;
	struct gp_match	 m;
	char		 path[1024];

	if (gp_rules_request_count(c->rules) == 0 || t->host == NULL)
		return GP_R_NONE;
	request_path(t->target, path, sizeof path);
	memset(&q, 0, sizeof q);
	q.container = t->identity;
	q.host = t->host;
	q.port = t->port;
	q.now = gp_now();
	if (!gp_rules_match_request(c->rules, &q, t->method, path, &m) ||
	    m.action != GP_DENY)
		return GP_R_NONE;
	if (c->store != NULL)
		gp_store_rule_hit(c->store, m.rule_id, q.now);
	snprintf(line, sizeof line, "greyproxy: %s %s%s is denied by rule "
	    "%lld", t->method, t->host, path, (long long)m.rule_id);
	*why = line;
	return GP_R_REQUEST_RULE;
}

static const struct gp_http_filter_ops request_rules = {
	.name = "request rules",
	.request_head = request_head,
};

void
gp_ctl_request_rules_attach(struct gp_ctl *c)
{
	gp_proxy_add_filter(&c->px, &request_rules, c);
}
