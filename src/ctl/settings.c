/* settings.c (ctl): settings changes, applied and announced. */
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ctl/ctl.h"

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
	gp_ctl_mitm_apply(c);
	if (c->store != NULL) {
		gp_store_log_budget(c->store, (uint32_t)s->log_budget);
		gp_store_log_retention(c->store, s->log_retention_days,
		    (int64_t)s->log_max_mb << 20);
	}
}

int
gp_ctl_settings_reload(struct gp_ctl *c, char **err)
{
	struct gp_settings s;

	if (gp_settings_load(&s, c->cfg->data_dir, err) != 0)
		return -EINVAL;
	c->settings = s;
	gp_ctl_settings_apply(c);
	gp_ctl_rules_reload_async(c);	/* never on the loop: 150 ms at 100k */
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
