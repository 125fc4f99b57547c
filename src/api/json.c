/* json.c: struct → JSON in the original greyproxy's field names. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "api/api.h"

void
gp_json_time(cJSON *o, const char *key, int64_t t)
{
	char	buf[21];

	if (t <= 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	gp_time_format_rfc3339(t, buf);
	cJSON_AddStringToObject(o, key, buf);
}

static void
add_str_or_null(cJSON *o, const char *key, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

cJSON *
gp_json_rule(const struct gp_rule *r)
{
	cJSON	*o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)r->id);
	cJSON_AddStringToObject(o, "container_pattern", r->container);
	cJSON_AddStringToObject(o, "destination_pattern", r->dest);
	cJSON_AddStringToObject(o, "port_pattern", r->ports);
	cJSON_AddStringToObject(o, "rule_type", r->expires_at ? "temporary" :
	    "permanent");
	cJSON_AddStringToObject(o, "action", r->action == GP_DENY ? "deny" :
	    "allow");
	gp_json_time(o, "created_at", r->created_at);
	gp_json_time(o, "expires_at", r->expires_at);
	gp_json_time(o, "last_used_at", r->last_used_at);
	cJSON_AddStringToObject(o, "created_by", r->created_by ?
	    r->created_by : "admin");
	add_str_or_null(o, "notes", r->notes);
	cJSON_AddBoolToObject(o, "is_active", r->expires_at == 0 ||
	    r->expires_at > gp_now());
	cJSON_AddNumberToObject(o, "hit_count", (double)r->hit_count);
	return o;
}

cJSON *
gp_json_pending(const struct gp_pending_entry *e)
{
	cJSON	*o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)e->id);
	cJSON_AddStringToObject(o, "container_name", e->container);
	cJSON_AddStringToObject(o, "container_id", "");
	cJSON_AddStringToObject(o, "destination_host", e->host);
	cJSON_AddNumberToObject(o, "destination_port", e->port);
	add_str_or_null(o, "resolved_hostname", e->resolved_hostname);
	gp_json_time(o, "first_seen", e->first_seen);
	gp_json_time(o, "last_seen", e->last_seen);
	cJSON_AddNumberToObject(o, "attempt_count", (double)e->attempts);
	cJSON_AddNumberToObject(o, "waiting", (double)e->nwaiters);
	cJSON_AddBoolToObject(o, "local_network", e->local);
	add_str_or_null(o, "request", e->request);
	add_str_or_null(o, "protocol", e->protocol);
	add_str_or_null(o, "addresses", e->addresses);
	return o;
}

static cJSON *
log_common(int64_t ts, const char *container, const char *host,
    unsigned port, const char *resolved_hostname, const char *method,
    int allowed, int64_t rule_id, int64_t duration)
{
	cJSON	*o = cJSON_CreateObject();

	gp_json_time(o, "timestamp", ts);
	cJSON_AddStringToObject(o, "container_name", container ? container :
	    "");
	cJSON_AddStringToObject(o, "container_id", "");
	cJSON_AddStringToObject(o, "destination_host", host ? host : "");
	cJSON_AddNumberToObject(o, "destination_port", port);
	add_str_or_null(o, "resolved_hostname", resolved_hostname);
	cJSON_AddStringToObject(o, "method", method ? method : "unknown");
	cJSON_AddStringToObject(o, "result", allowed ? "allowed" : "blocked");
	if (rule_id > 0)
		cJSON_AddNumberToObject(o, "rule_id", (double)rule_id);
	else
		cJSON_AddNullToObject(o, "rule_id");
	cJSON_AddNumberToObject(o, "response_time_ms", (double)duration);
	return o;
}

cJSON *
gp_json_log_row(const struct gp_log_row *r)
{
	cJSON	*o = log_common(r->ts, r->container, r->host, r->port,
	    r->resolved_hostname, r->method, r->allowed, r->rule_id,
	    r->duration_ms);

	cJSON_AddNumberToObject(o, "id", (double)r->id);
	add_str_or_null(o, "rule_summary", r->rule_summary);
	add_str_or_null(o, "client_addr", r->client_addr);
	add_str_or_null(o, "request", r->request);
	add_str_or_null(o, "resolved_ip", r->resolved_ip);
	cJSON_AddStringToObject(o, "reason", r->reason ? r->reason : "");
	cJSON_AddNumberToObject(o, "bytes_up", (double)r->bytes_up);
	cJSON_AddNumberToObject(o, "count", (double)r->count);
	cJSON_AddNumberToObject(o, "bytes_down", (double)r->bytes_down);
	return o;
}

cJSON *
gp_json_conn_log(const struct gp_conn_log *l)
{
	cJSON	*o = log_common(l->ts, l->container, l->host, l->port,
	    l->resolved_hostname, l->method, l->allowed, l->rule_id,
	    (int64_t)l->duration_ms);

	add_str_or_null(o, "client_addr", l->client_addr);
	add_str_or_null(o, "request", l->request);
	add_str_or_null(o, "resolved_ip", l->resolved_ip);
	cJSON_AddStringToObject(o, "reason", l->reason ? l->reason : "");
	cJSON_AddNumberToObject(o, "bytes_up", (double)l->bytes_up);
	cJSON_AddNumberToObject(o, "count", l->count > 1 ? (double)l->count :
	    1);
	cJSON_AddNumberToObject(o, "bytes_down", (double)l->bytes_down);
	return o;
}

cJSON *
gp_json_event(enum gp_event ev, const void *obj)
{
	cJSON	*o;

	switch (ev) {
	case GP_EV_PENDING_CREATED:
	case GP_EV_PENDING_UPDATED:
		return gp_json_pending(obj);
	case GP_EV_PENDING_ALLOWED:
	case GP_EV_PENDING_DISMISSED: {
		const struct gp_decision *d = obj;

		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "pending_id", (double)d->pending_id);
		if (d->rule != NULL)
			cJSON_AddItemToObject(o, "rule", gp_json_rule(d->rule));
		else if (ev == GP_EV_PENDING_ALLOWED)
			cJSON_AddNullToObject(o, "rule");
		/* greyproxy-c: which rule decided, and how. */
		if (d->rule_id != 0)
			cJSON_AddNumberToObject(o, "rule_id",
			    (double)d->rule_id);
		cJSON_AddStringToObject(o, "decided_by", d->verdict ==
		    GP_VERDICT_RULE || (d->verdict == GP_VERDICT_DENY &&
		    d->rule == NULL && d->rule_id != 0) ? "rule" :
		    d->verdict == GP_VERDICT_DISMISS ? "dismissed" : "person");
		return o;
	}
	case GP_EV_WAITERS_CHANGED: {
		const struct gp_waiters_change *c = obj;

		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "pending_id", (double)c->e->id);
		cJSON_AddStringToObject(o, "container_name", c->e->container);
		cJSON_AddStringToObject(o, "host", c->e->host);
		cJSON_AddNumberToObject(o, "port", c->e->port);
		cJSON_AddNumberToObject(o, "previous_count",
		    (double)c->previous);
		cJSON_AddNumberToObject(o, "current_count", (double)c->current);
		return o;
	}
	case GP_EV_LOG_CREATED:
		return gp_json_conn_log(obj);
	case GP_EV_RULE_CREATED:
		return gp_json_rule(obj);
	case GP_EV_RULE_UPDATED:
		return obj ? gp_json_rule(obj) : cJSON_CreateNull();
	case GP_EV_RULE_DELETED:
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", (double)*(const int64_t *)obj);
		return o;
	case GP_EV_SETTINGS_CHANGED:
		return gp_settings_json(obj);
	default:
		return cJSON_CreateNull();
	}
}
