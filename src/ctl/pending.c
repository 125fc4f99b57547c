/* pending.c (ctl): decisions on the pending queue. */
#include "config.h"

#include <sys/types.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ctl/ctl.h"

/*
 * The decision on ids: their rules stored in one transaction before any
 * waiting connection is answered (kill -9 keeps them), the entries and
 * their siblings answered (a person's answer alone may open a
 * local-network destination), then the new rules applied to everything
 * else waiting, once.  out (n == 1; may be NULL) receives the rule.
 */
static int
decide_ids(struct gp_ctl *c, const int64_t *ids, size_t n,
    enum gp_action action, enum gp_scope scope, int64_t duration,
    const char *notes, const char *created_by, struct gp_rule *out,
    size_t *decided, const char **why)
{
	struct gp_rule	*rules = gp_xcalloc(n ? n : 1, sizeof *rules);
	int		*existed = gp_xcalloc(n ? n : 1, sizeof *existed);
	ssize_t		*slot = gp_xcalloc(n ? n : 1, sizeof *slot);
	size_t		 i, k = 0;
	int		 rc = 0;

	*decided = 0;
	/* slot: the entry's rule, -1 none (once), -2 gone or refused. */
	for (i = 0; i < n; i++) {
		struct gp_pending_entry	*e = gp_pending_find(&c->pending,
		    ids[i]);
		const char		*bad;

		slot[i] = -2;
		if (e == NULL)
			continue;
		if (!gp_scope_rule(e, scope, action, duration, &rules[k])) {
			slot[i] = -1;
			continue;
		}
		if (gp_rule_prepare(&rules[k], &bad) != 0) {
			gp_rule_clear(&rules[k]);
			memset(&rules[k], 0, sizeof rules[k]);
			if (n == 1) {		/* a lone decision says why */
				*why = bad;
				rc = -EINVAL;
				break;
			}
			gp_log(GP_LOG_WARN, "pending %lld: no rule (%s)",
			    (long long)ids[i], bad);
			continue;
		}
		if (notes != NULL && *notes != '\0')
			rules[k].notes = gp_xstrdup(notes);
		rules[k].created_by = gp_xstrdup(created_by ? created_by :
		    "admin");
		slot[i] = (ssize_t)k++;
	}
	if (rc == 0 && k > 0) {
		c->rejudge_hold++;
		rc = gp_ctl_rules_add(c, rules, k, existed, why);
		c->rejudge_hold--;
	}
	for (i = 0; rc == 0 && i < n; i++) {
		const struct gp_rule *r = slot[i] >= 0 ? &rules[slot[i]] :
		    NULL;

		/* (A sibling may have been answered with an earlier one.) */
		if (slot[i] == -2 || gp_pending_find(&c->pending, ids[i]) ==
		    NULL)
			continue;
		gp_pending_resolve(&c->pending, ids[i], action == GP_ALLOW ?
		    GP_VERDICT_ALLOW : GP_VERDICT_DENY, r, r ? r->id : 0);
		gp_log(GP_LOG_INFO, "pending %lld %s (%s)%s%s",
		    (long long)ids[i], action == GP_ALLOW ? "allowed" :
		    "denied", gp_scope_name(scope), r ? " rule " : "",
		    r ? r->dest : "");
		(*decided)++;
	}
	if (rc == 0 && k > 0)
		gp_ctl_rejudge(c);
	if (rc == 0 && out != NULL && k == 1) {
		*out = rules[0];
		memset(&rules[0], 0, sizeof rules[0]);
	}
	for (i = 0; i < k; i++)
		gp_rule_clear(&rules[i]);
	free(rules);
	free(existed);
	free(slot);
	return rc;
}

int
gp_ctl_pending_decide(struct gp_ctl *c, int64_t id, enum gp_action action,
    enum gp_scope scope, int64_t duration, const char *notes,
    const char *created_by, struct gp_rule *out, const char **why)
{
	size_t	decided;

	if (out != NULL)
		memset(out, 0, sizeof *out);
	if (gp_pending_find(&c->pending, id) == NULL)
		return -ENOENT;
	return decide_ids(c, &id, 1, action, scope, duration, notes,
	    created_by, out, &decided, why);
}

int
gp_ctl_pending_decide_many(struct gp_ctl *c, const int64_t *ids, size_t n,
    enum gp_action action, enum gp_scope scope, int64_t duration,
    const char *notes, const char *created_by, size_t *decided,
    const char **why)
{
	return decide_ids(c, ids, n, action, scope, duration, notes,
	    created_by, NULL, decided, why);
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
