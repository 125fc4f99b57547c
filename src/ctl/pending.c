/* pending.c (ctl): decisions on the pending queue. */
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ctl/ctl.h"

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
