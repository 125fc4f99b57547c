/*
 * ctl.h: every operation the interfaces perform on the running core
 * (the API and the TUI in later steps; the CLI now).  Owns the compiled
 * rule set that the proxy borrows.
 *
 * Life: gp_ctl_init() → operations → gp_ctl_free().
 */
#ifndef GP_CTL_H
#define GP_CTL_H

#include "proxy/proxy.h"
#include "rules/rules.h"
#include "store/store.h"

struct gp_ctl {
	struct gp_store		*store;		/* borrowed */
	struct gp_proxy		*px;		/* borrowed */
	struct gp_ruleset	*rules;		/* owned */
	int64_t			 data_version;
};

int	gp_ctl_init(struct gp_ctl *, struct gp_store *, struct gp_proxy *);
void	gp_ctl_free(struct gp_ctl *);
/* Reloads rules from the store and swaps the proxy's set; 0 or -1. */
int	gp_ctl_reload_rules(struct gp_ctl *);
/* Reloads when another process changed the database (rule CLI). */
void	gp_ctl_poll_changes(struct gp_ctl *);
/* Validates, stores (synchronously) and applies a rule; 0 or -1 (why). */
int	gp_ctl_rule_add(struct gp_ctl *, struct gp_rule *, int *existed,
	    const char **why);
/* 1 deleted, 0 not found, -1 error. */
int	gp_ctl_rule_delete(struct gp_ctl *, int64_t id);

#endif
