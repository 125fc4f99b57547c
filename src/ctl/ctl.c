/* ctl.c: core operations, local implementation. */
#include "config.h"

#include <string.h>

#include "core/core.h"
#include "ctl/ctl.h"

int
gp_ctl_init(struct gp_ctl *c, struct gp_store *store, struct gp_proxy *px)
{
	memset(c, 0, sizeof *c);
	c->store = store;
	c->px = px;
	c->data_version = gp_store_data_version(store);
	return gp_ctl_reload_rules(c);
}

void
gp_ctl_free(struct gp_ctl *c)
{
	if (c->px != NULL)
		c->px->rules = NULL;
	gp_rules_free(c->rules);
	c->rules = NULL;
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
	if (c->px != NULL)
		c->px->rules = set;
	gp_rules_free(c->rules);
	c->rules = set;
	gp_log(GP_LOG_DEBUG, "%zu rules loaded", gp_rules_count(set));
	return 0;
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
}

int
gp_ctl_rule_add(struct gp_ctl *c, struct gp_rule *r, int *existed,
    const char **why)
{
	if (gp_rule_prepare(r, why) != 0)
		return -1;
	if (gp_store_rule_add(c->store, r, existed) != 0) {
		*why = "database error";
		return -1;
	}
	return gp_ctl_reload_rules(c);
}

int
gp_ctl_rule_delete(struct gp_ctl *c, int64_t id)
{
	int	rc = gp_store_rule_delete(c->store, id);

	if (rc > 0)
		gp_ctl_reload_rules(c);
	return rc;
}
