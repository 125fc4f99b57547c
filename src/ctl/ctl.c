/* ctl.c: core operations (policy changes, pending decisions, settings). */
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ctl/ctl.h"

static const char *scope_names[] = {
	"exact", "any_port", "subdomain_wildcard", "all_containers", "once",
};

int
gp_scope_parse(const char *s)
{
	int	i;

	if (s == NULL || *s == '\0')
		return GP_SCOPE_EXACT;
	for (i = 0; i < GP_SCOPE__COUNT; i++)
		if (strcmp(s, scope_names[i]) == 0)
			return i;
	if (strcmp(s, "subdomain") == 0 || strcmp(s, "wildcard") == 0)
		return GP_SCOPE_SUBDOMAIN;
	return -1;
}

const char *
gp_scope_name(enum gp_scope s)
{
	return (unsigned)s < GP_SCOPE__COUNT ? scope_names[s] : "exact";
}

int
gp_duration_parse(const char *s, int64_t *out)
{
	char		*end;
	long long	 n;

	if (s == NULL || *s == '\0' || strcmp(s, "permanent") == 0) {
		*out = 0;
		return 0;
	}
	if (strcmp(s, "once") == 0) {
		*out = 30;	/* the original's "once": a 30 s rule */
		return 0;
	}
	n = strtoll(s, &end, 10);
	if (end == s || n <= 0 || n > 10LL * 365 * 86400)
		return -1;
	switch (*end) {
	case '\0': case 's': break;
	case 'm': n *= 60; break;
	case 'h': n *= 3600; break;
	case 'd': n *= 86400; break;
	default: return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	*out = n;
	return 0;
}

int
gp_scope_rule(const struct gp_pending_entry *e, enum gp_scope scope,
    enum gp_action action, int64_t duration, struct gp_rule *r)
{
	const char	*host = e->resolved_hostname ? e->resolved_hostname :
	    e->host;
	char		 ports[8];

	memset(r, 0, sizeof *r);
	if (scope == GP_SCOPE_ONCE)
		return 0;
	snprintf(ports, sizeof ports, "%u", e->port);
	r->action = action;
	r->layer = GP_LAYER_GLOBAL;
	r->container = gp_xstrdup(scope == GP_SCOPE_ALL_CONTAINERS ? "*" :
	    e->container);
	r->ports = gp_xstrdup(scope == GP_SCOPE_EXACT ||
	    scope == GP_SCOPE_ALL_CONTAINERS ? ports : "*");
	if (scope == GP_SCOPE_SUBDOMAIN && !gp_host_ip_family(host)) {
		/* The last two labels, as the original; a two-label host
		 * is covered itself too ("**."). */
		const char *p = host + strlen(host), *d = host;
		int	    dots = 0;

		while (p > host) {
			if (*--p == '.' && ++dots == 2) {
				d = p + 1;
				break;
			}
		}
		gp_xasprintf(&r->dest, "%s%s", d == host ? "**." : "*.", d);
	} else
		r->dest = gp_xstrdup(host);
	if (duration > 0)
		r->expires_at = gp_now() + duration;
	return 1;
}

int
gp_ctl_reload_rules(struct gp_ctl *c)
{
	struct gp_rule		*rows;
	struct gp_ruleset	*set;
	size_t			 n, skipped;

	if (gp_store_rules_load(c->store, &rows, &n) != 0)
		return -1;
	set = gp_rules_compile(rows, n, &skipped);
	gp_store_rules_free(rows, n);
	if (skipped > 0)
		gp_log(GP_LOG_WARN, "%zu stored rules are invalid and ignored",
		    skipped);
	c->px.rules = set;
	gp_rules_free(c->rules);
	c->rules = set;
	gp_log(GP_LOG_DEBUG, "%zu rules loaded", gp_rules_count(set));
	if (c->rejudge_hold == 0)
		gp_ctl_rejudge(c);
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
	int64_t	v = gp_store_data_version(c->store);

	if (v == c->data_version)
		return;
	c->data_version = v;
	gp_log(GP_LOG_INFO, "database changed by another process; "
	    "reloading rules");
	gp_ctl_reload_rules(c);
	gp_bus_emit(&c->bus, GP_EV_RULE_UPDATED, NULL);
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

int
gp_ctl_rule_add(struct gp_ctl *c, struct gp_rule *r, int *existed,
    const char **why)
{
	int	rc;

	if (gp_rule_prepare(r, why) != 0)
		return -EINVAL;
	if ((rc = gp_store_rule_add(c->store, r, existed)) != 0) {
		*why = gp_ctl_strerror(rc);
		return rc;
	}
	gp_ctl_reload_rules(c);
	if (!*existed)
		gp_bus_emit(&c->bus, GP_EV_RULE_CREATED, r);
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
		gp_ctl_reload_rules(c);
		gp_bus_emit(&c->bus, GP_EV_RULE_UPDATED, r);
	}
	return rc;
}

int
gp_ctl_rule_delete(struct gp_ctl *c, int64_t id)
{
	int	rc = gp_store_rule_delete(c->store, id);

	if (rc > 0) {
		gp_ctl_reload_rules(c);
		gp_bus_emit(&c->bus, GP_EV_RULE_DELETED, &id);
	}
	return rc;
}

int
gp_ctl_pending_decide(struct gp_ctl *c, int64_t id, enum gp_action action,
    enum gp_scope scope, int64_t duration, const char *notes,
    const char *created_by, struct gp_rule *out, const char **why)
{
	struct gp_pending_entry	*e = gp_pending_find(&c->pending, id);
	struct gp_rule		 r;
	int			 existed, stored;

	if (e == NULL)
		return -ENOENT;
	stored = gp_scope_rule(e, scope, action, duration, &r);
	if (stored) {
		if (notes != NULL && *notes != '\0')
			r.notes = gp_xstrdup(notes);
		r.created_by = gp_xstrdup(created_by ? created_by : "admin");
		/* Committed before anyone is answered: kill -9 keeps it.
		 * The queue is re-judged after the person's answer, which
		 * alone may open a local-network destination. */
		int rc;

		c->rejudge_hold++;
		rc = gp_ctl_rule_add(c, &r, &existed, why);
		c->rejudge_hold--;

		if (rc != 0) {
			gp_rule_clear(&r);
			return rc;
		}
	}
	/* The person's decision answers this entry and its siblings;
	 * then the new rule is applied to everything else waiting. */
	gp_pending_resolve(&c->pending, id, action == GP_ALLOW ?
	    GP_VERDICT_ALLOW : GP_VERDICT_DENY, stored ? &r : NULL,
	    stored ? r.id : 0);
	if (stored)
		gp_ctl_rejudge(c);
	gp_log(GP_LOG_INFO, "pending %lld %s (%s)%s%s", (long long)id,
	    action == GP_ALLOW ? "allowed" : "denied", gp_scope_name(scope),
	    stored ? " rule " : "", stored ? r.dest : "");
	if (out != NULL)
		*out = r;
	else
		gp_rule_clear(&r);
	return 0;
}

size_t
gp_ctl_pending_clear_unwatched(struct gp_ctl *c)
{
	struct gp_pending_entry	**v;
	int64_t			 *ids;
	size_t			  n, i, k = 0, done = 0;

	n = gp_pending_list(&c->pending, &v);
	ids = gp_xcalloc(n ? n : 1, sizeof *ids);
	for (i = 0; i < n; i++)
		if (v[i]->nwaiters == 0)
			ids[k++] = v[i]->id;
	free(v);
	for (i = 0; i < k; i++) {
		struct gp_pending_entry *e = gp_pending_find(&c->pending,
		    ids[i]);

		/* (A sibling may have been answered with an earlier one.) */
		if (e != NULL && e->nwaiters == 0 &&
		    gp_pending_resolve(&c->pending, ids[i],
		    GP_VERDICT_DISMISS, NULL, 0) == 0)
			done++;
	}
	free(ids);
	return done;
}

int
gp_ctl_pending_dismiss(struct gp_ctl *c, int64_t id)
{
	if (gp_pending_resolve(&c->pending, id, GP_VERDICT_DISMISS, NULL, 0)
	    != 0)
		return -ENOENT;
	return 0;
}

int
gp_ctl_settings_patch(struct gp_ctl *c, const cJSON *patch,
    const char **why)
{
	struct gp_settings tmp = c->settings;

	int			rc;

	if (gp_settings_patch(&tmp, patch, why) != 0)
		return -EINVAL;
	if ((rc = gp_settings_save(&tmp, c->cfg->data_dir)) != 0) {
		*why = rc == -ENOSPC ? "cannot write settings.json: disk full" :
		    "cannot write settings.json";
		return rc;
	}
	c->settings = tmp;
	gp_ctl_settings_apply(c);
	gp_bus_emit(&c->bus, GP_EV_SETTINGS_CHANGED, &c->settings);
	return 0;
}

void
gp_ctl_settings_apply(struct gp_ctl *c)
{
	const struct gp_settings *s = &c->settings;

	if (c->dns_cache != NULL)
		gp_dns_cache_limits(c->dns_cache, (uint32_t)s->dns_ttl_min,
		    (uint32_t)s->dns_ttl_max);
	c->pending.max_entries = (size_t)s->pending_max_entries;
	c->pending.max_waiters = (size_t)s->pending_max_waiters;
	c->pending.retention = s->pending_retention;
	if (c->store != NULL)
		gp_store_log_budget(c->store, (uint32_t)s->log_budget);
}

int
gp_ctl_settings_reload(struct gp_ctl *c, char **err)
{
	struct gp_settings s;

	if (gp_settings_load(&s, c->cfg->data_dir, err) != 0)
		return -EINVAL;
	c->settings = s;
	gp_ctl_settings_apply(c);
	gp_ctl_reload_rules(c);
	gp_bus_emit(&c->bus, GP_EV_SETTINGS_CHANGED, &c->settings);
	return 0;
}

void
gp_ctl_dns_flush(struct gp_ctl *c)
{
	if (c->dns_cache == NULL)
		return;
	gp_dns_cache_flush(c->dns_cache);
	gp_store_dns_prune(c->store, gp_now(), 1);
	gp_log(GP_LOG_INFO, "DNS cache flushed");
}
