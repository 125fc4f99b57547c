/* scope.c: decision scopes and durations (pure). */
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
		r->expires_at = gp_later(duration);
	return 1;
}
