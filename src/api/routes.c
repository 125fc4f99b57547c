/*
 * routes.c: the REST routes.  Paths, fields and codes follow the original
 * greyproxy (doc/api.md lists them, with our additions); errors are
 * {"error": "..."}.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api-int.h"

typedef void (*handler)(struct api_req *, struct api_resp *);

static struct gp_ctl *
ctl_of(struct api_req *r)
{
	return r->ctl;
}

void
api_error(struct api_resp *resp, int status, const char *msg)
{
	cJSON_Delete(resp->json);
	resp->status = status;
	resp->json = cJSON_CreateObject();
	cJSON_AddStringToObject(resp->json, "error", msg);
}

/* The answer to a failed ctl operation: the status its errno means. */
void
api_errno(struct api_resp *resp, int rc, const char *why)
{
	int	status;

	switch (rc) {
	case -EINVAL: status = 400; break;
	case -ENOENT: status = 404; break;
	case -EEXIST: status = 409; break;
	case -ENOSPC: status = 507; break;	/* RFC 4918 11.5 */
	case -EBUSY: status = 503; break;
	default: status = 500; break;
	}
	api_error(resp, status, why != NULL ? why : gp_ctl_strerror(rc));
}

void
ok_json(struct api_resp *resp, cJSON *o)
{
	resp->status = 200;
	resp->json = o;
}

/* Parses the body as JSON; an empty body is {}.  NULL after a 400. */
cJSON *
body_json(struct api_req *r, struct api_resp *resp)
{
	cJSON	*o;

	if (r->body_len == 0)
		return cJSON_CreateObject();
	o = cJSON_ParseWithLength(r->body, r->body_len);
	if (o == NULL) {
		api_error(resp, 400, "request body is not valid JSON");
		gp_log(GP_LOG_WARN, "api: %s %s: invalid JSON body", r->method,
		    r->path);
	}
	return o;
}

static const char *
jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Integer query parameter with bounds; -1 after a 400. */
int
qint(struct api_req *r, struct api_resp *resp, const char *key, int def,
    int min, int max, int *out)
{
	char	buf[32], *end;
	long	v;

	*out = def;
	if (!api_query(r, key, buf, sizeof buf) || buf[0] == '\0')
		return 0;
	v = strtol(buf, &end, 10);
	if (*end != '\0' || v < min || v > max) {
		char msg[96];

		snprintf(msg, sizeof msg, "invalid %s", key);
		api_error(resp, 400, msg);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* limit (1-1000, 50) and offset; -1 after a 400. */
int
qpage(struct api_req *r, struct api_resp *resp, int *limit, int *offset)
{
	return qint(r, resp, "limit", 50, 1, 1000, limit) ||
	    qint(r, resp, "offset", 0, 0, 1 << 30, offset) ? -1 : 0;
}

/* A query parameter that is "1", "true" or "yes" (any case). */
int
qbool(struct api_req *r, const char *key)
{
	char v[16];

	return api_query(r, key, v, sizeof v) && (strcmp(v, "1") == 0 ||
	    strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0);
}

/* A query parameter's value, or NULL when absent or empty. */
const char *
qstr(struct api_req *r, const char *key, char *buf, size_t len)
{
	return api_query(r, key, buf, len) && buf[0] != '\0' ? buf : NULL;
}

/* from_date and to_date, when given; -1 after a 400. */
int
qtimes(struct api_req *r, struct api_resp *resp, int64_t *from, int64_t *to)
{
	char	t[64];

	if (api_query(r, "from_date", t, sizeof t) && t[0] &&
	    (*from = parse_time(t)) < 0) {
		api_error(resp, 400, "invalid from_date");
		return -1;
	}
	if (api_query(r, "to_date", t, sizeof t) && t[0] &&
	    (*to = parse_time(t)) < 0) {
		api_error(resp, 400, "invalid to_date");
		return -1;
	}
	return 0;
}

/* The ":id" segment as a positive id; -1 after a 400. */
int
param_id(struct api_req *r, struct api_resp *resp, int64_t *id)
{
	char		*end;
	long long	 v = strtoll(r->param, &end, 10);

	if (r->param[0] == '\0' || *end != '\0' || v <= 0) {
		api_error(resp, 400, "invalid id");
		return -1;
	}
	*id = v;
	return 0;
}

/* RFC 3339 or "YYYY-MM-DDTHH:MM"; -1 if invalid. */
int64_t
parse_time(const char *s)
{
	static const char *fmts[] = { "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
	    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d" };
	struct tm	 tm;
	const char	*end;
	size_t		 i;

	for (i = 0; i < GP_ARRAY_LEN(fmts); i++) {
		memset(&tm, 0, sizeof tm);
		end = strptime(s, fmts[i], &tm);
		if (end != NULL && (*end == '\0' || strcmp(end, "Z") == 0 ||
		    (*end == '.' && end[strspn(end + 1, "0123456789") + 1] ==
		    'Z')))
			return (int64_t)timegm(&tm);
	}
	return -1;
}

static void
h_health(struct api_req *r, struct api_resp *resp)
{
	struct gp_ctl_status	 st;
	cJSON			*o = cJSON_CreateObject(), *ports;

	gp_ctl_status(ctl_of(r), &st);
	cJSON_AddStringToObject(o, "service", "greyproxy");
	cJSON_AddStringToObject(o, "version", PACKAGE_VERSION);
	cJSON_AddStringToObject(o, "status", "ok");
	ports = cJSON_AddObjectToObject(o, "ports");
	cJSON_AddNumberToObject(ports, "http-proxy",
	    gp_addr_port((struct sockaddr *)&st.http));
	cJSON_AddNumberToObject(ports, "socks5-proxy",
	    gp_addr_port((struct sockaddr *)&st.socks));
	cJSON_AddNumberToObject(ports, "dns-proxy",
	    gp_addr_port((struct sockaddr *)&st.dns));
	ok_json(resp, o);
}

static void
h_pending_list(struct api_req *r, struct api_resp *resp)
{
	struct gp_pending_entry	**v;
	char			  cont[256], dest[256];
	int			  limit, offset, hc, hd;
	size_t			  n, i, total = 0, shown = 0;
	cJSON			 *o, *items;

	if (qint(r, resp, "limit", 100, 1, 1000, &limit) ||
	    qint(r, resp, "offset", 0, 0, 1 << 30, &offset))
		return;
	hc = api_query(r, "container", cont, sizeof cont) && cont[0];
	hd = api_query(r, "destination", dest, sizeof dest) && dest[0];
	n = gp_ctl_pending_list(ctl_of(r), &v);
	o = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(o, "items");
	for (i = 0; i < n; i++) {
		if (hc && strcmp(v[i]->container, cont) != 0)
			continue;
		if (hd && strstr(v[i]->host, dest) == NULL &&
		    (v[i]->resolved_hostname == NULL ||
		    strstr(v[i]->resolved_hostname, dest) == NULL))
			continue;
		/* (cJSON counts an array by walking it: count here) */
		if (total++ < (size_t)offset || shown >= (size_t)limit)
			continue;
		cJSON_AddItemToArray(items, gp_json_pending(v[i]));
		shown++;
	}
	cJSON_AddNumberToObject(o, "total", (double)total);
	free(v);
	ok_json(resp, o);
}

static void
h_pending_count(struct api_req *r, struct api_resp *resp)
{
	struct gp_ctl_status	 st;
	cJSON			*o = cJSON_CreateObject();

	gp_ctl_status(ctl_of(r), &st);
	cJSON_AddNumberToObject(o, "count", (double)st.pending);
	cJSON_AddNumberToObject(o, "waiting", (double)st.waiting);
	ok_json(resp, o);
}

/* Reads scope, duration and notes; -1 after a 400. */
static int
decision_args(struct api_resp *resp, const cJSON *b, int *scope,
    int64_t *duration, const char **notes)
{
	const char *s = jstr(b, "scope"), *d = jstr(b, "duration");

	*scope = gp_scope_parse(s);
	if (*scope < 0) {
		api_error(resp, 400, "scope must be exact, any_port, "
		    "subdomain_wildcard, all_containers or once");
		return -1;
	}
	if (gp_duration_parse(d, duration) != 0) {
		api_error(resp, 400, "duration must be permanent, once, 1h, "
		    "12h, 24h, 7d, 30d, or N[smhd]");
		return -1;
	}
	*notes = jstr(b, "notes");
	return 0;
}

static void
decide(struct api_req *r, struct api_resp *resp, enum gp_action action)
{
	struct gp_rule	 rule;
	const char	*notes, *why = "error";
	int64_t		 id, duration;
	int		 scope, rc;
	cJSON		*b;

	if (param_id(r, resp, &id) != 0 || (b = body_json(r, resp)) == NULL)
		return;
	if (decision_args(resp, b, &scope, &duration, &notes) != 0) {
		cJSON_Delete(b);
		return;
	}
	rc = gp_ctl_pending_decide(ctl_of(r), id, action, scope, duration,
	    notes, "admin", &rule, &why);
	cJSON_Delete(b);
	if (rc == -ENOENT) {
		api_error(resp, 404, "pending request not found");
		return;
	}
	if (rc != 0) {
		api_errno(resp, rc, why);
		return;
	}
	if (rule.dest != NULL) {
		ok_json(resp, gp_json_rule(&rule));
	} else {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "pending_id", (double)id);
		cJSON_AddNullToObject(o, "rule");
		ok_json(resp, o);
	}
	gp_rule_clear(&rule);
}

static void
h_pending_allow(struct api_req *r, struct api_resp *resp)
{
	decide(r, resp, GP_ALLOW);
}

static void
h_pending_deny(struct api_req *r, struct api_resp *resp)
{
	decide(r, resp, GP_DENY);
}

static void
h_pending_dismiss(struct api_req *r, struct api_resp *resp)
{
	int64_t	 id;
	cJSON	*o;

	if (param_id(r, resp, &id) != 0)
		return;
	if (gp_ctl_pending_dismiss(ctl_of(r), id) != 0) {
		api_error(resp, 404, "pending request not found");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "pending_id", (double)id);
	cJSON_AddBoolToObject(o, "dismissed", 1);
	ok_json(resp, o);
}

/* The ids of a bulk body: [1,2] or {"ids":[1,2], ...}. */
static const cJSON *
bulk_ids(const cJSON *b)
{
	return cJSON_IsArray(b) ? b : cJSON_GetObjectItemCaseSensitive(b,
	    "ids");
}

static void
bulk(struct api_req *r, struct api_resp *resp, int allow)
{
	const cJSON	*ids, *it;
	const char	*notes, *why = "error";
	int64_t		 duration, *v;
	size_t		 n = 0, i, done = 0;
	int		 scope, rc = 0;
	cJSON		*b, *o;

	if ((b = body_json(r, resp)) == NULL)
		return;
	ids = bulk_ids(b);
	if (!cJSON_IsArray(ids) || (!cJSON_IsArray(b) &&
	    decision_args(resp, b, &scope, &duration, &notes) != 0)) {
		if (resp->json == NULL)
			api_error(resp, 400, "expected a list of ids");
		cJSON_Delete(b);
		return;
	}
	if (cJSON_IsArray(b)) {
		scope = GP_SCOPE_EXACT;
		duration = 0;
		notes = NULL;
	}
	v = gp_xcalloc((size_t)cJSON_GetArraySize(ids) + 1, sizeof *v);
	cJSON_ArrayForEach(it, ids)
		if (cJSON_IsNumber(it))
			v[n++] = (int64_t)it->valuedouble;
	if (allow)		/* notes points into b */
		rc = gp_ctl_pending_decide_many(ctl_of(r), v, n, GP_ALLOW,
		    scope, duration, notes, "admin", &done, &why);
	else
		for (i = 0; i < n; i++)
			done += gp_ctl_pending_dismiss(ctl_of(r), v[i]) == 0;
	cJSON_Delete(b);
	free(v);
	if (rc != 0) {
		api_errno(resp, rc, why);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, allow ? "allowed" : "dismissed",
	    (double)done);
	ok_json(resp, o);
}

/* greyproxy-c: removes every entry no connection waits for. */
static void
h_pending_clear(struct api_req *r, struct api_resp *resp)
{
	cJSON	*o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "cleared",
	    (double)gp_ctl_pending_clear_unwatched(ctl_of(r)));
	ok_json(resp, o);
}

static void
h_bulk_allow(struct api_req *r, struct api_resp *resp)
{
	bulk(r, resp, 1);
}

static void
h_bulk_dismiss(struct api_req *r, struct api_resp *resp)
{
	bulk(r, resp, 0);
}

/* GET /api/rules: a filter and a page over every stored rule. */
struct rules_list {
	char			 cont[256], dest[256], action[16];
	char			 search[256];	/* gp_json_has_text */
	int			 hc, hd, ha, expired, limit, offset;
	int64_t			 now;
	cJSON			*out;	/* built by the scan */
	struct api_later	*later;
};

/* On a worker (or inline): pure, over the rules it is given. */
static void
rules_list_scan(void *arg, const struct gp_rule *v, size_t n)
{
	struct rules_list	*q = arg;
	cJSON			*items;
	size_t			 i, total = 0, shown = 0;

	q->out = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(q->out, "items");
	for (i = 0; i < n; i++) {
		if (!q->expired && v[i].expires_at && v[i].expires_at <= q->now)
			continue;
		if (q->hc && strstr(v[i].container, q->cont) == NULL)
			continue;
		if (q->hd && strstr(v[i].dest, q->dest) == NULL)
			continue;
		if (q->ha && strcmp(q->action, v[i].action == GP_DENY ?
		    "deny" : "allow") != 0)
			continue;
		/* search: what the TUI's filter matches, in every rule
		 * (it holds 10 000 of them) */
		if (q->search[0] != '\0') {
			cJSON *o = gp_json_rule(&v[i]);

			if (!gp_json_has_text(o, q->search) ||
			    total++ < (size_t)q->offset ||
			    shown >= (size_t)q->limit) {
				cJSON_Delete(o);
				continue;
			}
			cJSON_AddItemToArray(items, o);
			shown++;
			continue;
		}
		/* (cJSON counts an array by walking it: 100 000 rules
		 * walked a page of 10 000 each, 3 s a request) */
		if (total++ < (size_t)q->offset || shown >= (size_t)q->limit)
			continue;
		cJSON_AddItemToArray(items, gp_json_rule(&v[i]));
		shown++;
	}
	cJSON_AddNumberToObject(q->out, "total", (double)total);
}

static void
rules_list_done(void *arg, int rc)
{
	struct rules_list *q = arg;

	if (rc != 0) {
		struct api_resp resp = { .status = 0 };

		cJSON_Delete(q->out);
		api_error(&resp, 500, "database error");
		api_later_reply(q->later, resp.status, resp.json);
	} else
		api_later_reply(q->later, 200, q->out);
	free(q);
}

static void
h_rules_list(struct api_req *r, struct api_resp *resp)
{
	struct rules_list	*q = gp_xcalloc(1, sizeof *q);
	struct gp_rule		*v;
	size_t			 n;

	if (qint(r, resp, "limit", 100, 1, 10000, &q->limit) ||
	    qint(r, resp, "offset", 0, 0, 1 << 30, &q->offset)) {
		free(q);
		return;
	}
	q->hc = api_query(r, "container", q->cont, sizeof q->cont) &&
	    q->cont[0];
	q->hd = api_query(r, "destination", q->dest, sizeof q->dest) &&
	    q->dest[0];
	q->ha = api_query(r, "action", q->action, sizeof q->action) &&
	    q->action[0];
	q->expired = qbool(r, "include_expired");
	if (!api_query(r, "search", q->search, sizeof q->search))
		q->search[0] = '\0';
	q->now = gp_now();
	/* At 100 000 rules a listing reads them all: on a worker. */
	if (api_can_defer(r)) {
		q->later = api_defer(r, resp);
		if (gp_ctl_rules_scan_async(ctl_of(r), rules_list_scan,
		    rules_list_done, q) == 0)
			return;
		api_undefer(r, resp);
	}
	if (gp_ctl_rules_load(ctl_of(r), &v, &n) != 0) {
		api_error(resp, 500, "database error");
		free(q);
		return;
	}
	rules_list_scan(q, v, n);
	gp_store_rules_free(v, n);
	ok_json(resp, q->out);
	free(q);
}

/* Fills rule fields present in b; -1 after a 400. */
static int
rule_fields(struct api_resp *resp, const cJSON *b, struct gp_rule *rule,
    int creating)
{
	static const struct { const char *key; size_t off; } str[] = {
		{ "container_pattern", offsetof(struct gp_rule, container) },
		{ "destination_pattern", offsetof(struct gp_rule, dest) },
		{ "port_pattern", offsetof(struct gp_rule, ports) },
		{ "method_pattern", offsetof(struct gp_rule, method) },
		{ "path_pattern", offsetof(struct gp_rule, path) },
		{ "notes", offsetof(struct gp_rule, notes) },
	};
	const cJSON	*v;
	const char	*s;
	size_t		 i;

	for (i = 0; i < GP_ARRAY_LEN(str); i++) {
		char **field = (char **)((char *)rule + str[i].off);

		v = cJSON_GetObjectItemCaseSensitive(b, str[i].key);
		if (v == NULL || cJSON_IsNull(v))
			continue;
		if (!cJSON_IsString(v)) {
			api_error(resp, 400, "pattern fields must be strings");
			return -1;
		}
		free(*field);
		*field = gp_xstrdup(v->valuestring);
	}
	if ((s = jstr(b, "action")) != NULL) {
		if (strcmp(s, "allow") != 0 && strcmp(s, "deny") != 0) {
			api_error(resp, 400, "action must be allow or deny");
			return -1;
		}
		rule->action = strcmp(s, "deny") == 0 ? GP_DENY : GP_ALLOW;
	}
	v = cJSON_GetObjectItemCaseSensitive(b, "expires_in_seconds");
	if (v != NULL && !cJSON_IsNull(v)) {
		if (!cJSON_IsNumber(v) || v->valuedouble <= 0 ||
		    v->valuedouble > 10.0 * 365 * 86400) {
			api_error(resp, 400, "expires_in_seconds must be a "
			    "positive number");
			return -1;
		}
		rule->expires_at = gp_later((int64_t)v->valuedouble);
	}
	if (!creating && (v = cJSON_GetObjectItemCaseSensitive(b,
	    "expires_at")) != NULL) {
		if (cJSON_IsNull(v) || (cJSON_IsString(v) &&
		    v->valuestring[0] == '\0'))
			rule->expires_at = 0;
		else if (!cJSON_IsString(v) ||
		    (rule->expires_at = parse_time(v->valuestring)) < 0) {
			api_error(resp, 400, "expires_at must be RFC 3339");
			return -1;
		}
	}
	if (creating && (s = jstr(b, "created_by")) != NULL)
		rule->created_by = gp_xstrdup(s);
	return 0;
}

static void
h_rules_create(struct api_req *r, struct api_resp *resp)
{
	struct gp_rule	 rule;
	const char	*why;
	int		 existed;
	cJSON		*b;

	if ((b = body_json(r, resp)) == NULL)
		return;
	memset(&rule, 0, sizeof rule);
	if (!cJSON_IsObject(b)) {
		api_error(resp, 400, "expected a JSON object");
	} else if (rule_fields(resp, b, &rule, 1) == 0) {
		int rc = gp_ctl_rule_add(ctl_of(r), &rule, &existed, &why);

		if (rc != 0)
			api_errno(resp, rc, why);
		else
			ok_json(resp, gp_json_rule(&rule));
	}
	cJSON_Delete(b);
	gp_rule_clear(&rule);
}

static void
h_rules_update(struct api_req *r, struct api_resp *resp)
{
	struct gp_rule	 rule;
	const char	*why;
	int64_t		 id;
	int		 rc;
	cJSON		*b;

	if (param_id(r, resp, &id) != 0)
		return;
	memset(&rule, 0, sizeof rule);
	rc = gp_ctl_rule_get(ctl_of(r), id, &rule);
	if (rc <= 0) {
		api_error(resp, rc == 0 ? 404 : 500, rc == 0 ?
		    "rule not found" : "database error");
		return;
	}
	if ((b = body_json(r, resp)) == NULL) {
		gp_rule_clear(&rule);
		return;
	}
	if (!cJSON_IsObject(b))
		api_error(resp, 400, "expected a JSON object");
	else if (rule_fields(resp, b, &rule, 0) == 0) {
		rc = gp_ctl_rule_update(ctl_of(r), &rule, &why);
		if (rc < 0)
			api_errno(resp, rc, why);
		else if (rc == 0)
			api_error(resp, 404, "rule not found");
		else {
			gp_rule_clear(&rule);
			gp_ctl_rule_get(ctl_of(r), id, &rule);
			ok_json(resp, gp_json_rule(&rule));
		}
	}
	cJSON_Delete(b);
	gp_rule_clear(&rule);
}

static void
h_rules_delete(struct api_req *r, struct api_resp *resp)
{
	int64_t	 id;
	int	 rc;
	cJSON	*o;

	if (param_id(r, resp, &id) != 0)
		return;
	rc = gp_ctl_rule_delete(ctl_of(r), id);
	if (rc <= 0) {
		if (rc == 0)
			api_error(resp, 404, "rule not found");
		else
			api_errno(resp, rc, NULL);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)id);
	cJSON_AddBoolToObject(o, "deleted", 1);
	ok_json(resp, o);
}

/* POST /rules/ingest: many rules at once; pending they now allow go. */
/*
 * The rules of an ingest body: a list, or {"items": [...]}.  Pure (a
 * worker thread runs it): 0, or -1 with *why.
 */
static int
ingest_parse(const char *body, size_t len, struct gp_rule **out,
    size_t *n, size_t *invalid, const char **why)
{
	cJSON		*b = len > 0 ? cJSON_ParseWithLength(body, len) :
			    cJSON_CreateObject();
	const cJSON	*items, *it;
	struct gp_rule	*rules;
	size_t		 k = 0;

	*out = NULL;
	*n = *invalid = 0;
	if (b == NULL) {
		*why = "request body is not valid JSON";
		return -1;
	}
	items = cJSON_IsArray(b) ? b : cJSON_GetObjectItemCaseSensitive(b,
	    "items");
	if (!cJSON_IsArray(items)) {
		*why = "expected a list of rules";
		cJSON_Delete(b);
		return -1;
	}
	rules = gp_xcalloc((size_t)cJSON_GetArraySize(items) + 1,
	    sizeof *rules);
	cJSON_ArrayForEach(it, items) {
		struct api_resp scratch = { .status = 0 };

		if (!cJSON_IsObject(it) || rule_fields(&scratch, it,
		    &rules[k], 1) != 0) {
			gp_rule_clear(&rules[k]);
			(*invalid)++;
		} else
			k++;
		cJSON_Delete(scratch.json);
	}
	cJSON_Delete(b);
	*out = rules;
	*n = k;
	return 0;
}

static void
ingest_reply(struct api_resp *resp, size_t imported, size_t skipped,
    size_t cleaned)
{
	cJSON	*o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "imported", (double)imported);
	cJSON_AddNumberToObject(o, "skipped", (double)skipped);
	/* Pending entries the new rules cover left the queue (re-judged
	 * once, each announced). */
	cJSON_AddNumberToObject(o, "pending_cleaned", (double)cleaned);
	ok_json(resp, o);
}

/* An ingest answered later: the body copied for the worker. */
struct ingest_later {
	struct api_later	*later;
	char			*body;
	size_t			 len;
};

static int
ingest_source(void *arg, struct gp_rule **rules, size_t *n, size_t *invalid,
    const char **why)
{
	struct ingest_later *il = arg;

	return ingest_parse(il->body, il->len, rules, n, invalid, why);
}

static void
ingest_done(void *arg, int rc, const char *why, size_t imported,
    size_t skipped, size_t cleaned)
{
	struct ingest_later	*il = arg;
	struct api_resp		 resp = { .status = 0 };

	if (rc == -EINVAL) {
		gp_log(GP_LOG_WARN, "api: POST /api/rules/ingest: %s", why);
		api_error(&resp, 400, why);
	}
	else if (rc != 0)
		api_errno(&resp, rc, NULL);
	else
		ingest_reply(&resp, imported, skipped, cleaned);
	api_later_reply(il->later, resp.status, resp.json);
	free(il->body);
	free(il);
}

/*
 * Parsing, storing and compiling happen on a worker thread (a 100 000
 * rule body takes over a second); the loop serves meanwhile and the
 * reply follows.  In-process callers are answered at once.
 */
static void
h_rules_ingest(struct api_req *r, struct api_resp *resp)
{
	struct gp_ctl		*c = ctl_of(r);
	struct gp_rule		*rules;
	size_t			 n, invalid, imp = 0, skip = 0, i;
	size_t			 before = gp_ctl_pending_count(c);
	const char		*why;
	int			 rc;

	if (api_can_defer(r)) {
		struct ingest_later *il = gp_xcalloc(1, sizeof *il);

		il->len = r->body_len;
		il->body = gp_xmalloc(il->len + 1);
		memcpy(il->body, r->body, il->len);
		rc = gp_ctl_rules_ingest_async(c, ingest_source, il,
		    ingest_done, il);
		if (rc == 0) {
			il->later = api_defer(r, resp);
			return;
		}
		free(il->body);
		free(il);
		if (rc == -EBUSY) {
			api_error(resp, 409, "another ingest is running; "
			    "try again when it ends");
			return;
		}
		/* no worker: answered here */
	}
	if (ingest_parse(r->body, r->body_len, &rules, &n, &invalid,
	    &why) != 0) {
		gp_log(GP_LOG_WARN, "api: %s %s: %s", r->method, r->path, why);
		api_error(resp, 400, why);
		return;
	}
	rc = gp_ctl_rules_ingest(c, rules, n, &imp, &skip);
	for (i = 0; i < n; i++)
		gp_rule_clear(&rules[i]);
	free(rules);
	if (rc != 0) {
		api_errno(resp, rc, NULL);
		return;
	}
	ingest_reply(resp, imp, skip + invalid, before -
	    gp_ctl_pending_count(c));
}

static void
logs_json(struct api_resp *resp, struct gp_ctl_logs_result *res)
{
	cJSON	*o, *items;
	size_t	 i;

	if (res->rc != 0) {
		gp_store_log_rows_free(res->rows, res->n);
		api_error(resp, 500, "database error");
		return;
	}
	o = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(o, "items");
	for (i = 0; i < res->n; i++)
		cJSON_AddItemToArray(items, gp_json_log_row(&res->rows[i]));
	cJSON_AddNumberToObject(o, "total", (double)res->total);
	gp_store_log_rows_free(res->rows, res->n);
	ok_json(resp, o);
}

/* The query ran on a worker (it can scan); the reply follows. */
static void
logs_done(void *arg, struct gp_ctl_logs_result *res)
{
	struct api_resp	resp = { .status = 0 };

	logs_json(&resp, res);
	api_later_reply(arg, resp.status, resp.json);
}

static void
h_logs(struct api_req *r, struct api_resp *resp)
{
	struct gp_log_filter	 f;
	struct gp_ctl_logs_result res = { 0, NULL, 0, 0, 0, 0 };
	char			 cont[256], dest[256], result[16], q[256];

	memset(&f, 0, sizeof f);
	f.result = -1;
	if (qpage(r, resp, &f.limit, &f.offset) != 0)
		return;
	f.container = qstr(r, "container", cont, sizeof cont);
	f.destination = qstr(r, "destination", dest, sizeof dest);
	f.search = qstr(r, "search", q, sizeof q);
	if (api_query(r, "result", result, sizeof result) && result[0]) {
		if (strcmp(result, "allowed") != 0 &&
		    strcmp(result, "blocked") != 0) {
			api_error(resp, 400, "result must be allowed or "
			    "blocked");
			return;
		}
		f.result = strcmp(result, "allowed") == 0;
	}
	if (qtimes(r, resp, &f.from, &f.to) != 0)
		return;
	if (api_can_defer(r) &&
	    gp_ctl_logs_async(ctl_of(r), &f, logs_done, api_defer(r, resp)) == 0)
		return;
	if (resp->later != NULL)	/* no worker took it */
		api_undefer(r, resp);
	res.rc = gp_ctl_logs_query(ctl_of(r), &f, &res.rows, &res.n,
	    &res.total);
	logs_json(resp, &res);
}

static void
stats_json(struct api_resp *resp, struct gp_ctl_logs_result *res)
{
	cJSON	*o;

	if (res->rc != 0) {
		api_error(resp, 500, "database error");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "total_requests", (double)res->total);
	cJSON_AddNumberToObject(o, "allowed", (double)res->allowed);
	cJSON_AddNumberToObject(o, "blocked", (double)res->blocked);
	cJSON_AddNumberToObject(o, "allow_rate", res->total ?
	    (double)res->allowed / (double)res->total : 0.0);
	ok_json(resp, o);
}

static void
stats_done(void *arg, struct gp_ctl_logs_result *res)
{
	struct api_resp	resp = { .status = 0 };

	stats_json(&resp, res);
	api_later_reply(arg, resp.status, resp.json);
}

static void
h_logs_stats(struct api_req *r, struct api_resp *resp)
{
	struct gp_ctl_logs_result res = { 0, NULL, 0, 0, 0, 0 };

	if (api_can_defer(r) &&
	    gp_ctl_logs_async(ctl_of(r), NULL, stats_done,
	    api_defer(r, resp)) == 0)
		return;
	if (resp->later != NULL)
		api_undefer(r, resp);
	res.rc = gp_ctl_logs_stats(ctl_of(r), &res.total, &res.allowed,
	    &res.blocked);
	stats_json(resp, &res);
}

static void
h_settings_get(struct api_req *r, struct api_resp *resp)
{
	ok_json(resp, gp_settings_json(gp_ctl_settings(ctl_of(r))));
}

/* greyproxy-c: types, limits, choices and defaults of every setting. */
static void
h_settings_schema(struct api_req *r, struct api_resp *resp)
{
	ok_json(resp, gp_settings_schema_json());
}

static void
h_settings_put(struct api_req *r, struct api_resp *resp)
{
	const char	*why;
	cJSON		*b;

	if ((b = body_json(r, resp)) == NULL)
		return;
	int		 rc;

	if ((rc = gp_ctl_settings_patch(ctl_of(r), b, &why)) != 0)
		api_errno(resp, rc, why);
	else
		ok_json(resp, gp_settings_json(gp_ctl_settings(ctl_of(r))));
	cJSON_Delete(b);
}

/* DNS cache size and hit rate. */
static cJSON *
dns_json(const struct gp_ctl_status *s)
{
	const struct gp_dns_cache_stats	*st = &s->dns_cache;
	cJSON				*o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "entries", (double)st->entries);
	cJSON_AddNumberToObject(o, "hosts", (double)st->hosts);
	cJSON_AddNumberToObject(o, "hits", (double)st->hits);
	cJSON_AddNumberToObject(o, "misses", (double)st->misses);
	cJSON_AddNumberToObject(o, "hit_rate", st->hits + st->misses ?
	    (double)st->hits / (double)(st->hits + st->misses) : 0.0);
	cJSON_AddNumberToObject(o, "inflight", (double)s->dns_inflight);
	return o;
}

/* GET /api/status: what the TUI's status bar needs in one call. */
static void
h_status(struct api_req *r, struct api_resp *resp)
{
	struct gp_ctl_status	 s;
	cJSON			*o = cJSON_CreateObject(), *l, *st;
	char			 buf[GP_ADDR_STRLEN];

	gp_ctl_status(ctl_of(r), &s);
	l = cJSON_AddObjectToObject(o, "listeners");
	gp_addr_format((struct sockaddr *)&s.http, buf, sizeof buf);
	cJSON_AddStringToObject(l, "http", buf);
	gp_addr_format((struct sockaddr *)&s.socks, buf, sizeof buf);
	cJSON_AddStringToObject(l, "socks5", buf);
	gp_addr_format((struct sockaddr *)&s.dns, buf, sizeof buf);
	cJSON_AddStringToObject(l, "dns", buf);
	cJSON_AddNumberToObject(o, "pending", (double)s.pending);
	cJSON_AddNumberToObject(o, "waiting", (double)s.waiting);
	cJSON_AddNumberToObject(o, "allowed", (double)s.allowed);
	cJSON_AddNumberToObject(o, "blocked", (double)s.blocked);
	cJSON_AddNumberToObject(o, "connections", (double)s.connections);
	l = cJSON_AddObjectToObject(o, "tunnels");
	cJSON_AddNumberToObject(l, "spliced", (double)s.spliced);
	cJSON_AddNumberToObject(l, "copied", (double)s.copied);
	cJSON_AddNumberToObject(l, "intercepted", (double)s.intercepted);
	cJSON_AddNumberToObject(l, "plain_http", (double)s.plain_http);
	cJSON_AddNumberToObject(l, "bodies_spliced",
	    (double)s.bodies_spliced);
	cJSON_AddNumberToObject(l, "upstream_resumed", (double)s.resumed);
	cJSON_AddNumberToObject(o, "rules", (double)s.rules);
	cJSON_AddBoolToObject(o, "rules_ingesting", s.ingesting);
	cJSON_AddBoolToObject(o, "rules_reloading", s.reloading);
	l = cJSON_AddObjectToObject(o, "mitm");
	cJSON_AddStringToObject(l, "state", gp_ctl_mitm_state(ctl_of(r)));
	cJSON_AddStringToObject(l, "fix", strcmp(gp_ctl_mitm_state(
	    ctl_of(r)), "no-ca") == 0 ? "greyproxy cert generate" :
	    strcmp(gp_ctl_mitm_state(ctl_of(r)), "invalid-ca") == 0 ?
	    "greyproxy cert generate --force" : strcmp(gp_ctl_mitm_state(
	    ctl_of(r)), "off") == 0 ? "set mitmEnabled to true" : "");
	cJSON_AddNumberToObject(o, "rules_generation", (double)s.rules_gen);
	l = cJSON_AddObjectToObject(o, "loop");
	cJSON_AddNumberToObject(l, "iterations", (double)s.loop.iterations);
	cJSON_AddNumberToObject(l, "busy_max_ms",
	    (double)s.loop.busy_max_ns / 1e6);
	cJSON_AddNumberToObject(l, "busy_over_1ms",
	    (double)s.loop.busy_over_1ms);
	cJSON_AddNumberToObject(l, "busy_over_10ms",
	    (double)s.loop.busy_over_10ms);
	cJSON_AddItemToObject(o, "dns", dns_json(&s));
	cJSON_AddItemToObject(o, "settings", gp_settings_json(s.settings));
	st = cJSON_AddObjectToObject(o, "storage");
	cJSON_AddBoolToObject(st, "writable", s.storage.failing == 0);
	if (s.storage.error != NULL)
		cJSON_AddStringToObject(st, "error", s.storage.error);
	else
		cJSON_AddNullToObject(st, "error");
	cJSON_AddNumberToObject(st, "log_queued", (double)s.storage.log_queued);
	cJSON_AddNumberToObject(st, "log_dropped",
	    (double)s.storage.log_dropped);
	cJSON_AddNumberToObject(st, "transactions_dropped",
	    (double)s.tx_dropped);
	cJSON_AddNumberToObject(st, "transactions_pruned",
	    (double)s.tx_pruned);
	cJSON_AddNumberToObject(st, "log_over_budget",
	    (double)s.storage.over_budget);
	cJSON_AddNumberToObject(st, "log_pruned",
	    (double)s.storage.log_pruned);
	cJSON_AddNumberToObject(st, "dns_folded", (double)s.dns_folded);
	cJSON_AddNumberToObject(st, "accept_failures",
	    (double)s.accept_failures);
	ok_json(resp, o);
}

static void
h_dns(struct api_req *r, struct api_resp *resp)
{
	struct gp_ctl_status s;

	gp_ctl_status(ctl_of(r), &s);
	ok_json(resp, dns_json(&s));
}

static void
h_dns_flush(struct api_req *r, struct api_resp *resp)
{
	struct gp_ctl_status s;

	gp_ctl_dns_flush(ctl_of(r));
	gp_ctl_status(ctl_of(r), &s);
	ok_json(resp, dns_json(&s));
}

/* Retention runs now, in steps on the log's writer thread: 202. */
static void
h_logs_prune(struct api_req *r, struct api_resp *resp)
{
	struct gp_ctl_status	 s;
	cJSON			*o = cJSON_CreateObject();

	gp_ctl_logs_prune(ctl_of(r));
	gp_ctl_status(ctl_of(r), &s);
	cJSON_AddStringToObject(o, "status", "pruning");
	cJSON_AddNumberToObject(o, "logRetentionDays",
	    s.settings->log_retention_days);
	cJSON_AddNumberToObject(o, "logMaxMB", s.settings->log_max_mb);
	cJSON_AddNumberToObject(o, "pruned", (double)s.storage.log_pruned);
	ok_json(resp, o);
	resp->status = 202;
}

/* codex-network-proxy admin routes. */
static void
h_admin_health(struct api_req *r, struct api_resp *resp)
{
	cJSON	*o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "status", "ok");
	ok_json(resp, o);
}

static void
h_admin_config(struct api_req *r, struct api_resp *resp)
{
	const struct gp_config	*cfg = gp_ctl_config(ctl_of(r));
	cJSON			*o = gp_settings_json(gp_ctl_settings(ctl_of(r)));

	cJSON_AddStringToObject(o, "httpProxy", cfg->http_addr);
	cJSON_AddStringToObject(o, "socksProxy", cfg->socks_addr);
	cJSON_AddStringToObject(o, "api", cfg->api_addr);
	cJSON_AddStringToObject(o, "dataDir", cfg->data_dir);
	ok_json(resp, o);
}

static void
h_admin_patterns(struct api_req *r, struct api_resp *resp)
{
	struct gp_rule	*v;
	size_t		 n, i;
	int64_t		 now = gp_now();
	cJSON		*o, *allow, *deny;

	if (gp_ctl_rules_load(ctl_of(r), &v, &n) != 0) {
		api_error(resp, 500, "database error");
		return;
	}
	o = cJSON_CreateObject();
	allow = cJSON_AddArrayToObject(o, "allowed");
	deny = cJSON_AddArrayToObject(o, "denied");
	for (i = 0; i < n; i++) {
		if (v[i].expires_at && v[i].expires_at <= now)
			continue;
		cJSON_AddItemToArray(v[i].action == GP_DENY ? deny : allow,
		    cJSON_CreateString(v[i].dest));
	}
	gp_store_rules_free(v, n);
	ok_json(resp, o);
}

static void
h_admin_blocked(struct api_req *r, struct api_resp *resp)
{
	const struct gp_blocked	*b;
	size_t			 i;
	cJSON			*o = cJSON_CreateObject(), *items;

	items = cJSON_AddArrayToObject(o, "blocked");
	for (i = 0; (b = gp_ctl_blocked(ctl_of(r), i)) != NULL; i++) {
		cJSON *e = cJSON_CreateObject();

		gp_json_time(e, "timestamp", b->ts);
		cJSON_AddStringToObject(e, "host", b->host);
		cJSON_AddNumberToObject(e, "port", b->port);
		cJSON_AddStringToObject(e, "container_name", b->container);
		cJSON_AddStringToObject(e, "reason", b->reason);
		cJSON_AddStringToObject(e, "method", b->method);
		cJSON_AddItemToArray(items, e);
	}
	ok_json(resp, o);
}

static void
h_admin_mode(struct api_req *r, struct api_resp *resp)
{
	const char	*mode, *why;
	cJSON		*b, *patch, *o;
	int		 rc;

	if ((b = body_json(r, resp)) == NULL)
		return;
	mode = jstr(b, "mode");
	if (mode == NULL || (strcmp(mode, "full") && strcmp(mode, "limited"))) {
		api_error(resp, 400, "mode must be full or limited");
		cJSON_Delete(b);
		return;
	}
	patch = cJSON_CreateObject();
	cJSON_AddStringToObject(patch, "mode", mode);
	if ((rc = gp_ctl_settings_patch(ctl_of(r), patch, &why)) != 0)
		api_errno(resp, rc, why);
	else {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "mode", mode);
		ok_json(resp, o);
	}
	cJSON_Delete(patch);
	cJSON_Delete(b);
}

static void
h_admin_reload(struct api_req *r, struct api_resp *resp)
{
	char	*err = NULL;
	cJSON	*o;

	if (gp_ctl_settings_reload(ctl_of(r), &err) != 0) {
		api_error(resp, 500, err);
		free(err);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "status", "reloaded");
	ok_json(resp, o);
}

static const struct route {
	const char	*method;
	const char	*pattern;	/* ":id" matches one segment */
	handler		 fn;
} routes[] = {
	{ "GET", "/api/health", h_health },
	{ "GET", "/api/status", h_status },
	{ "GET", "/api/pending", h_pending_list },
	{ "GET", "/api/pending/count", h_pending_count },
	{ "POST", "/api/pending/bulk-allow", h_bulk_allow },
	{ "POST", "/api/pending/bulk-dismiss", h_bulk_dismiss },
	{ "POST", "/api/pending/clear", h_pending_clear },
	{ "POST", "/api/pending/:id/allow", h_pending_allow },
	{ "POST", "/api/pending/:id/deny", h_pending_deny },
	{ "DELETE", "/api/pending/:id", h_pending_dismiss },
	{ "GET", "/api/rules", h_rules_list },
	{ "POST", "/api/rules", h_rules_create },
	{ "POST", "/api/rules/ingest", h_rules_ingest },
	{ "PUT", "/api/rules/:id", h_rules_update },
	{ "DELETE", "/api/rules/:id", h_rules_delete },
	{ "GET", "/api/logs", h_logs },
	{ "GET", "/api/logs/stats", h_logs_stats },
	{ "POST", "/api/logs/prune", h_logs_prune },
	{ "GET", "/api/dns", h_dns },
	{ "POST", "/api/dns/flush", h_dns_flush },
	{ "GET", "/api/settings", h_settings_get },
	{ "GET", "/api/settings/schema", h_settings_schema },
	{ "PUT", "/api/settings", h_settings_put },
	{ "GET", "/health", h_admin_health },
	{ "GET", "/config", h_admin_config },
	{ "GET", "/patterns", h_admin_patterns },
	{ "GET", "/blocked", h_admin_blocked },
	{ "POST", "/mode", h_admin_mode },
	{ "POST", "/reload", h_admin_reload },
	{ "GET", "/api/cert/status", api_cert_status },
	{ "POST", "/api/cert/generate", api_cert_generate },
	{ "GET", "/api/cert/download", api_cert_download },
	{ "POST", "/api/cert/reload", api_cert_reload },
	{ "GET", "/api/transactions", api_tx_list },
	{ "GET", "/api/transactions/:id", api_tx_get },
	{ "POST", "/api/maintenance/redact-headers", api_tx_redact },
	{ "GET", "/api/credentials", api_creds_list },
	{ "POST", "/api/credentials", api_creds_create },
	{ "DELETE", "/api/credentials/:id", api_creds_delete },
	{ "PUT", "/api/credentials/:id", api_creds_update },
	{ "GET", "/api/sessions", api_sessions_list },
	{ "POST", "/api/sessions", api_sessions_create },
	{ "POST", "/api/sessions/:id/heartbeat", api_sessions_heartbeat },
	{ "DELETE", "/api/sessions/:id", api_sessions_delete },
	{ "PUT", "/api/sessions/:id/hosts", api_sessions_bind },
	{ "GET", "/api/conversations", api_conv_list },
	{ "GET", "/api/conversations/:id", api_conv_get },
	{ "GET", "/api/conversations/:id/subagents", api_conv_subagents },
	{ "GET", "/api/dissectors", api_dissectors },
	{ "GET", "/api/endpoint-rules", api_endpoints_list },
	{ "POST", "/api/endpoint-rules", api_endpoints_create },
	{ "PUT", "/api/endpoint-rules/:id", api_endpoints_update },
	{ "DELETE", "/api/endpoint-rules/:id", api_endpoints_delete },
	{ "POST", "/api/maintenance/rebuild-conversations", api_conv_rebuild },
	{ "GET", "/api/maintenance/status", api_maintenance_status },
};

/* Matches path against pattern; sets *param for ":id". */
static int
match(const char *pattern, const char *path, const char **param,
    char *pbuf, size_t plen)
{
	while (*pattern != '\0' && *path != '\0') {
		if (pattern[0] == ':') {
			size_t n = strcspn(path, "/");

			if (n == 0 || n >= plen)
				return 0;
			memcpy(pbuf, path, n);
			pbuf[n] = '\0';
			*param = pbuf;
			path += n;
			pattern += strcspn(pattern, "/");
			continue;
		}
		if (*pattern++ != *path++)
			return 0;
	}
	if (*path == '/' && path[1] == '\0')
		path++;		/* tolerate one trailing slash */
	return *pattern == '\0' && *path == '\0';
}

/*
 * A change requested while an ingest holds the database (about a second
 * at 100 000 rules) is held and run once it has ended, its reply
 * deferred: the loop never waits for the lock, and nothing is refused.
 */
struct held {
	struct gp_ctl		*ctl;
	struct api_later	*later;
	char			 method[16];
	char			 path[1024];
	char			 query[2048];
	char			*body;
	size_t			 body_len;
};

static void
held_run(void *arg, int ok)
{
	struct held	*h = arg;
	struct api_req	 r;
	struct api_resp	 resp = { .status = 0 };

	memset(&r, 0, sizeof r);
	r.ctl = h->ctl;		/* no connection: it cannot be held again */
	memcpy(r.method, h->method, sizeof r.method);
	memcpy(r.path, h->path, sizeof r.path);
	memcpy(r.query, h->query, sizeof r.query);
	r.body = h->body;
	r.body_len = h->body_len;
	if (!ok)
		api_error(&resp, 503, "shutting down");
	else if (api_route(&r, &resp) != 0)
		api_error(&resp, 404, "not found");
	else if (resp.status == 0)
		resp.status = 200;
	api_later_reply(h->later, resp.status, resp.json);
	free(h->body);
	free(h);
}

static int
hold_for_ingest(struct api_req *r, struct api_resp *resp)
{
	struct held	*h;

	if (!api_can_defer(r) || !gp_ctl_ingesting(ctl_of(r)) ||
	    strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0 ||
	    strcmp(r->path, "/api/rules/ingest") == 0)
		return 0;
	h = gp_xcalloc(1, sizeof *h);
	h->ctl = ctl_of(r);
	memcpy(h->method, r->method, sizeof h->method);
	memcpy(h->path, r->path, sizeof h->path);
	memcpy(h->query, r->query, sizeof h->query);
	h->body_len = r->body_len;
	h->body = gp_xmalloc(r->body_len + 1);
	if (r->body_len > 0)
		memcpy(h->body, r->body, r->body_len);
	h->body[r->body_len] = '\0';
	h->later = api_defer(r, resp);
	gp_ctl_after_ingest(ctl_of(r), held_run, h);
	return 1;
}

int
api_route(struct api_req *r, struct api_resp *resp)
{
	static char	 pbuf[64];
	size_t		 i;
	int		 path_known = 0;

	if (hold_for_ingest(r, resp))
		return 0;
	for (i = 0; i < GP_ARRAY_LEN(routes); i++) {
		r->param = "";
		if (!match(routes[i].pattern, r->path, &r->param, pbuf,
		    sizeof pbuf))
			continue;
		path_known = 1;
		if (strcmp(routes[i].method, r->method) != 0)
			continue;
		routes[i].fn(r, resp);
		if (resp->status == 0)
			resp->status = 200;
		return 0;
	}
	if (path_known) {
		api_error(resp, 405, "method not allowed");
		return 0;
	}
	return -1;
}
