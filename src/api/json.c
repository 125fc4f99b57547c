/* json.c: struct → JSON in the original greyproxy's field names. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/fields.h"

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

	cJSON_AddNumberToObject(o, GP_F_ID, (double)r->id);
	cJSON_AddStringToObject(o, GP_F_CONTAINER_PATTERN, r->container);
	cJSON_AddStringToObject(o, GP_F_DEST_PATTERN, r->dest);
	cJSON_AddStringToObject(o, GP_F_PORT_PATTERN, r->ports);
	cJSON_AddStringToObject(o, GP_F_METHOD_PATTERN, r->method ?
	    r->method : "*");
	cJSON_AddStringToObject(o, GP_F_PATH_PATTERN, r->path ? r->path :
	    "*");
	cJSON_AddStringToObject(o, GP_F_RULE_TYPE, r->expires_at ? "temporary" :
	    "permanent");
	cJSON_AddStringToObject(o, GP_F_ACTION, r->action == GP_DENY ? "deny" :
	    "allow");
	gp_json_time(o, GP_F_CREATED_AT, r->created_at);
	gp_json_time(o, GP_F_EXPIRES_AT, r->expires_at);
	gp_json_time(o, GP_F_LAST_USED_AT, r->last_used_at);
	cJSON_AddStringToObject(o, GP_F_CREATED_BY, r->created_by ?
	    r->created_by : "admin");
	add_str_or_null(o, GP_F_NOTES, r->notes);
	cJSON_AddBoolToObject(o, GP_F_IS_ACTIVE, r->expires_at == 0 ||
	    r->expires_at > gp_now());
	cJSON_AddNumberToObject(o, GP_F_HIT_COUNT, (double)r->hit_count);
	return o;
}

cJSON *
gp_json_pending(const struct gp_pending_entry *e)
{
	cJSON	*o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, GP_F_ID, (double)e->id);
	cJSON_AddStringToObject(o, GP_F_CONTAINER, e->container);
	cJSON_AddStringToObject(o, GP_F_CONTAINER_ID, "");
	cJSON_AddStringToObject(o, GP_F_HOST, e->host);
	cJSON_AddNumberToObject(o, GP_F_PORT, e->port);
	add_str_or_null(o, GP_F_HOSTNAME, e->resolved_hostname);
	gp_json_time(o, GP_F_FIRST_SEEN, e->first_seen);
	gp_json_time(o, GP_F_LAST_SEEN, e->last_seen);
	cJSON_AddNumberToObject(o, GP_F_ATTEMPTS, (double)e->attempts);
	cJSON_AddNumberToObject(o, GP_F_WAITING, (double)e->nwaiters);
	cJSON_AddBoolToObject(o, GP_F_LOCAL, e->local);
	add_str_or_null(o, GP_F_REQUEST, e->request);
	add_str_or_null(o, GP_F_PROTOCOL, e->protocol);
	add_str_or_null(o, GP_F_ADDRESSES, e->addresses);
	return o;
}

static cJSON *
log_common(int64_t ts, const char *container, const char *host,
    unsigned port, const char *resolved_hostname, const char *method,
    int allowed, int64_t rule_id, int64_t duration)
{
	cJSON	*o = cJSON_CreateObject();

	gp_json_time(o, GP_F_TIMESTAMP, ts);
	cJSON_AddStringToObject(o, GP_F_CONTAINER, container ? container :
	    "");
	cJSON_AddStringToObject(o, GP_F_CONTAINER_ID, "");
	cJSON_AddStringToObject(o, GP_F_HOST, host ? host : "");
	cJSON_AddNumberToObject(o, GP_F_PORT, port);
	add_str_or_null(o, GP_F_HOSTNAME, resolved_hostname);
	cJSON_AddStringToObject(o, GP_F_METHOD, method ? method : "unknown");
	cJSON_AddStringToObject(o, GP_F_RESULT, allowed ? "allowed" : "blocked");
	if (rule_id > 0)
		cJSON_AddNumberToObject(o, GP_F_RULE_ID, (double)rule_id);
	else
		cJSON_AddNullToObject(o, GP_F_RULE_ID);
	cJSON_AddNumberToObject(o, GP_F_RESPONSE_MS, (double)duration);
	return o;
}

cJSON *
gp_json_log_row(const struct gp_log_row *r)
{
	cJSON	*o = log_common(r->ts, r->container, r->host, r->port,
	    r->resolved_hostname, r->method, r->allowed, r->rule_id,
	    r->duration_ms);

	cJSON_AddNumberToObject(o, GP_F_ID, (double)r->id);
	add_str_or_null(o, GP_F_RULE_SUMMARY, r->rule_summary);
	add_str_or_null(o, GP_F_CLIENT_ADDR, r->client_addr);
	add_str_or_null(o, GP_F_REQUEST, r->request);
	add_str_or_null(o, GP_F_RESOLVED_IP, r->resolved_ip);
	cJSON_AddStringToObject(o, GP_F_REASON, r->reason ? r->reason : "");
	cJSON_AddNumberToObject(o, GP_F_BYTES_UP, (double)r->bytes_up);
	cJSON_AddNumberToObject(o, GP_F_COUNT, (double)r->count);
	cJSON_AddNumberToObject(o, GP_F_BYTES_DOWN, (double)r->bytes_down);
	if (r->open)		/* a tunnel still open: bytes to come */
		cJSON_AddTrueToObject(o, GP_F_OPEN);
	return o;
}

cJSON *
gp_json_conn_log(const struct gp_conn_log *l)
{
	cJSON	*o = log_common(l->ts, l->container, l->host, l->port,
	    l->resolved_hostname, l->method, l->allowed, l->rule_id,
	    (int64_t)l->duration_ms);

	add_str_or_null(o, GP_F_CLIENT_ADDR, l->client_addr);
	add_str_or_null(o, GP_F_REQUEST, l->request);
	add_str_or_null(o, GP_F_RESOLVED_IP, l->resolved_ip);
	cJSON_AddStringToObject(o, GP_F_REASON, l->reason ? l->reason : "");
	cJSON_AddNumberToObject(o, GP_F_BYTES_UP, (double)l->bytes_up);
	cJSON_AddNumberToObject(o, GP_F_COUNT, l->count > 1 ? (double)l->count :
	    1);
	cJSON_AddNumberToObject(o, GP_F_BYTES_DOWN, (double)l->bytes_down);
	if (l->id != 0)		/* the row's, as /api/logs gives it */
		cJSON_AddNumberToObject(o, GP_F_ID, (double)l->id);
	if (l->open)		/* a tunnel, still open: bytes to come */
		cJSON_AddTrueToObject(o, GP_F_OPEN);
	return o;
}

/* HttpTransaction, as the original's, without bodies. */
cJSON *
gp_json_tx(int64_t id, const struct gp_tx_row *r)
{
	cJSON	*o = cJSON_CreateObject(), *h;
	char	 ts[21];

	cJSON_AddNumberToObject(o, GP_F_ID, (double)id);
	gp_time_format_rfc3339(r->ts, ts);
	cJSON_AddStringToObject(o, "timestamp", ts);
	cJSON_AddStringToObject(o, "container_name", r->container);
	cJSON_AddStringToObject(o, "destination_host", r->host);
	cJSON_AddNumberToObject(o, "destination_port", r->port);
	cJSON_AddStringToObject(o, "method", r->method);
	cJSON_AddStringToObject(o, "url", r->url);
	h = r->req_headers ? cJSON_Parse(r->req_headers) : NULL;
	cJSON_AddItemToObject(o, "request_headers", h ? h : cJSON_CreateNull());
	cJSON_AddNumberToObject(o, "request_body_size", (double)r->req_size);
	if (r->req_type != NULL)
		cJSON_AddStringToObject(o, "request_content_type", r->req_type);
	else
		cJSON_AddNullToObject(o, "request_content_type");
	if (r->status > 0)
		cJSON_AddNumberToObject(o, "status_code", r->status);
	else
		cJSON_AddNullToObject(o, "status_code");
	h = r->resp_headers ? cJSON_Parse(r->resp_headers) : NULL;
	cJSON_AddItemToObject(o, "response_headers", h ? h :
	    cJSON_CreateNull());
	cJSON_AddNumberToObject(o, "response_body_size", (double)r->resp_size);
	if (r->resp_type != NULL)
		cJSON_AddStringToObject(o, "response_content_type",
		    r->resp_type);
	else
		cJSON_AddNullToObject(o, "response_content_type");
	cJSON_AddNumberToObject(o, "duration_ms", (double)r->duration_ms);
	cJSON_AddNullToObject(o, "rule_id");
	cJSON_AddStringToObject(o, "result", "auto");
	/* greyproxy-c */
	cJSON_AddBoolToObject(o, "complete", r->complete);
	cJSON_AddBoolToObject(o, "tls", r->tls);
	cJSON_AddBoolToObject(o, "request_body_truncated", r->req_trunc);
	cJSON_AddBoolToObject(o, "response_body_truncated", r->resp_trunc);
	if (r->first_byte_ms >= 0)
		cJSON_AddNumberToObject(o, "first_byte_ms",
		    (double)r->first_byte_ms);
	/* as the original: the labels substituted, the session ("" for
	 * none); greyproxy-c: a placeholder seen where nothing is
	 * substituted (a body) */
	h = r->subst ? cJSON_Parse(r->subst) : NULL;
	cJSON_AddItemToObject(o, "substituted_credentials", h ? h :
	    cJSON_CreateArray());
	cJSON_AddStringToObject(o, "session_id", r->session_id ?
	    r->session_id : "");
	cJSON_AddBoolToObject(o, "placeholder_in_body",
	    r->placeholder_in_body);
	/* greyproxy-c: the conversation it belongs to (the original has
	 * the column but not the field) */
	if (r->conversation_id != NULL)
		cJSON_AddStringToObject(o, "conversation_id",
		    r->conversation_id);
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
		cJSON_AddNumberToObject(o, GP_F_PENDING_ID, (double)d->pending_id);
		if (d->rule != NULL)
			cJSON_AddItemToObject(o, "rule", gp_json_rule(d->rule));
		else if (ev == GP_EV_PENDING_ALLOWED)
			cJSON_AddNullToObject(o, "rule");
		/* greyproxy-c: which rule decided, and how. */
		if (d->rule_id != 0)
			cJSON_AddNumberToObject(o, GP_F_RULE_ID,
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
		cJSON_AddNumberToObject(o, GP_F_PENDING_ID, (double)c->e->id);
		cJSON_AddStringToObject(o, GP_F_CONTAINER, c->e->container);
		cJSON_AddStringToObject(o, "host", c->e->host);
		cJSON_AddNumberToObject(o, "port", c->e->port);
		cJSON_AddNumberToObject(o, "previous_count",
		    (double)c->previous);
		cJSON_AddNumberToObject(o, GP_F_CURRENT_COUNT, (double)c->current);
		return o;
	}
	case GP_EV_LOG_CREATED:
	case GP_EV_LOG_UPDATED:
		return gp_json_conn_log(obj);
	case GP_EV_RULE_CREATED:
		return gp_json_rule(obj);
	case GP_EV_RULE_UPDATED:
		return obj ? gp_json_rule(obj) : cJSON_CreateNull();
	case GP_EV_RULE_DELETED:
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, GP_F_ID, (double)*(const int64_t *)obj);
		return o;
	case GP_EV_SETTINGS_CHANGED:
		return gp_settings_json(obj);
	case GP_EV_TRANSACTION_NEW: {
		const struct gp_tx_event *e = obj;

		return gp_json_tx(e->id, e->row);
	}
	case GP_EV_SESSION_CREATED:
	case GP_EV_SESSION_DELETED:
	case GP_EV_SESSION_EXPIRED:
	case GP_EV_SESSION_HEARTBEAT:
		return cJSON_CreateString(obj);	/* the session id, as the
						 * original */
	case GP_EV_SESSION_SUBSTITUTION: {
		const struct gp_subst_event *e = obj;
		char *copy = gp_xstrdup(e->labels ? e->labels : ""), *save,
		    *l;
		cJSON *a;

		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "session_id", e->session_id ?
		    e->session_id : "");
		a = cJSON_AddArrayToObject(o, "labels");
		for (l = strtok_r(copy, "\n", &save); l != NULL;
		    l = strtok_r(NULL, "\n", &save))
			cJSON_AddItemToArray(a, cJSON_CreateString(l));
		free(copy);
		cJSON_AddStringToObject(o, GP_F_CONTAINER, e->identity);
		cJSON_AddStringToObject(o, GP_F_HOST, e->host);
		cJSON_AddNumberToObject(o, "substitution_count",
		    (double)e->count);
		return o;
	}
	case GP_EV_CREDENTIAL_BLOCKED: {
		const struct gp_cred_block *b = obj;

		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "label", b->label);
		cJSON_AddStringToObject(o, GP_F_CONTAINER, b->identity);
		cJSON_AddStringToObject(o, GP_F_HOST, b->host);
		cJSON_AddNumberToObject(o, GP_F_PORT, b->port);
		cJSON_AddStringToObject(o, "reason", b->reason);
		return o;
	}
	case GP_EV_CONVERSATION_UPDATED:
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "conversation_id", obj);
		return o;
	case GP_EV_MAINTENANCE_PROGRESS: {
		const struct gp_maint_progress *p = obj;

		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "task", p->task);
		cJSON_AddNumberToObject(o, "processed", (double)p->processed);
		cJSON_AddNumberToObject(o, "total", (double)p->total);
		cJSON_AddBoolToObject(o, "done", p->done);
		/* greyproxy-c: how many rows were rewritten. */
		cJSON_AddNumberToObject(o, "changed", (double)p->changed);
		if (p->error != NULL)
			cJSON_AddStringToObject(o, "error", p->error);
		return o;
	}
	default:
		return cJSON_CreateNull();
	}
}

int
gp_json_has_text(const cJSON *o, const char *text)
{
	const cJSON	*v;
	char		 num[32];

	if (text[0] == '\0')
		return 1;
	cJSON_ArrayForEach(v, o) {
		if (cJSON_IsString(v) && strcasestr(v->valuestring, text))
			return 1;
		if (cJSON_IsNumber(v)) {
			snprintf(num, sizeof num, "%.0f", v->valuedouble);
			if (strstr(num, text) != NULL)
				return 1;
		}
	}
	return 0;
}
