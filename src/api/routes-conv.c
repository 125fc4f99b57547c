/*
 * routes-conv.c: LLM conversations and what reads them, as the
 * original: /api/conversations (filters, {items, total}; items is []
 * when empty, where the original sends null), /:id with turns and
 * steps, /:id/subagents; /api/dissectors; /api/endpoint-rules;
 * /api/maintenance/rebuild-conversations and /status.  Ids are
 * URL-safe, sub-agents' too.  Conversation queries run on a worker.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api-int.h"
#include "ctl/ctl.h"

struct convq {
	struct api_later	*later;
	int			 one;
};

static void
answered(void *arg, cJSON *json)
{
	struct convq	*q = arg;
	struct api_resp	 resp = { .status = 0 };

	if (json == NULL) {
		if (q->one)
			api_error(&resp, 404, "not found");
		else
			api_error(&resp, 500, "database error");
	} else
		ok_json(&resp, json);
	api_later_reply(q->later, resp.status, resp.json);
	free(q);
}

static struct convq *
defer(struct api_req *r, struct api_resp *resp, int one)
{
	struct convq *q;

	if (!api_can_defer(r)) {
		api_error(resp, 503, "no worker for the query");
		return NULL;
	}
	q = gp_xcalloc(1, sizeof *q);
	q->one = one;
	q->later = api_defer(r, resp);
	return q;
}

static void
failed(struct api_req *r, struct api_resp *resp)
{
	api_undefer(r, resp);
	api_error(resp, 503, "no worker for the query");
}

void
api_conv_list(struct api_req *r, struct api_resp *resp)
{
	struct gp_conv_filter	 f;
	struct convq		*q;
	char			 client[64], model[128], prov[64], cont[256];
	char			 text[512];

	memset(&f, 0, sizeof f);
	if (qpage(r, resp, &f.limit, &f.offset) != 0 ||
	    qtimes(r, resp, &f.from, &f.to) != 0)
		return;
	if ((f.client = qstr(r, "client", client, sizeof client)) == NULL)
		f.client = qstr(r, "client_name", client, sizeof client);
	f.model = qstr(r, "model", model, sizeof model);
	f.provider = qstr(r, "provider", prov, sizeof prov);
	if ((f.container = qstr(r, "container", cont, sizeof cont)) == NULL)
		f.container = qstr(r, "identity", cont, sizeof cont);
	if ((f.text = qstr(r, "text", text, sizeof text)) == NULL)
		f.text = qstr(r, "q", text, sizeof text);
	f.utility = qbool(r, "utility") || qbool(r, "include_utility");
	f.children = qbool(r, "subagents");
	if ((q = defer(r, resp, 0)) == NULL)
		return;
	if (gp_ctl_conv_list_async(r->ctl, &f, answered, q) != 0)
		failed(r, resp);
}

static void
one(struct api_req *r, struct api_resp *resp, int subagents)
{
	struct convq *q;

	if ((q = defer(r, resp, 1)) == NULL)
		return;
	if (gp_ctl_conv_get_async(r->ctl, r->param, subagents, answered, q) !=
	    0)
		failed(r, resp);
}

void
api_conv_get(struct api_req *r, struct api_resp *resp)
{
	one(r, resp, 0);
}

void
api_conv_subagents(struct api_req *r, struct api_resp *resp)
{
	one(r, resp, 1);
}

void
api_dissectors(struct api_req *r, struct api_resp *resp)
{
	(void)r;
	ok_json(resp, gp_ctl_dissectors());
}

void
api_endpoints_list(struct api_req *r, struct api_resp *resp)
{
	ok_json(resp, gp_ctl_endpoint_rules(r->ctl, qbool(r, "all")));
}

/* A rule from a body: the original's fields and defaults. */
static int
rule_from(struct api_resp *resp, const cJSON *b,
    struct gp_endpoint_rule *rule)
{
	const cJSON *v;

	memset(rule, 0, sizeof *rule);
	rule->host = cJSON_GetStringValue(cJSON_GetObjectItem(b,
	    "host_pattern"));
	rule->path = cJSON_GetStringValue(cJSON_GetObjectItem(b,
	    "path_pattern"));
	rule->decoder = cJSON_GetStringValue(cJSON_GetObjectItem(b,
	    "decoder_name"));
	rule->method = cJSON_GetStringValue(cJSON_GetObjectItem(b, "method"));
	if (rule->method == NULL || *rule->method == '\0')
		rule->method = "POST";
	v = cJSON_GetObjectItem(b, "priority");
	if (v != NULL && !cJSON_IsNumber(v)) {
		api_error(resp, 400, "priority must be a number");
		return -1;
	}
	rule->priority = v != NULL ? v->valueint : 0;
	v = cJSON_GetObjectItem(b, "enabled");
	rule->enabled = v == NULL || cJSON_IsTrue(v);
	return 0;
}

static void
put(struct api_req *r, struct api_resp *resp, int64_t id)
{
	struct gp_endpoint_rule	 rule;
	const char		*why = NULL;
	cJSON			*b, *o;
	int			 rc;

	if ((b = body_json(r, resp)) == NULL)
		return;
	if (rule_from(resp, b, &rule) != 0) {
		cJSON_Delete(b);
		return;
	}
	rule.id = id;
	rc = gp_ctl_endpoint_put(r->ctl, &rule, &why);
	if (rc == -ENOENT || rc == -EINVAL)	/* the original: 400 */
		api_error(resp, 400, why != NULL ? why : "invalid rule");
	else if (rc != 0)
		api_errno(resp, rc, why);
	else if (id > 0) {
		o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "ok", 1);
		ok_json(resp, o);
	} else {
		ok_json(resp, gp_ctl_endpoint_json(&rule));
		resp->status = 201;
	}
	cJSON_Delete(b);
}

void
api_endpoints_create(struct api_req *r, struct api_resp *resp)
{
	put(r, resp, 0);
}

void
api_endpoints_update(struct api_req *r, struct api_resp *resp)
{
	int64_t id;

	if (param_id(r, resp, &id) == 0)
		put(r, resp, id);
}

void
api_endpoints_delete(struct api_req *r, struct api_resp *resp)
{
	const char	*why = NULL;
	int64_t		 id;
	int		 rc;
	cJSON		*o;

	if (param_id(r, resp, &id) != 0)
		return;
	if ((rc = gp_ctl_endpoint_delete(r->ctl, id, &why)) != 0) {
		api_error(resp, rc == -ENOENT ? 400 : 500, why != NULL ? why :
		    "database error");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", 1);
	ok_json(resp, o);
}

void
api_conv_rebuild(struct api_req *r, struct api_resp *resp)
{
	int	 rc = gp_ctl_conv_rebuild(r->ctl);
	cJSON	*o;

	if (rc == -EBUSY) {
		api_error(resp, 409, "rebuild already running");
		return;
	}
	if (rc != 0) {
		api_errno(resp, rc, "rebuild could not start");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "status", "rebuild started");
	ok_json(resp, o);
}

void
api_maintenance_status(struct api_req *r, struct api_resp *resp)
{
	ok_json(resp, gp_ctl_conv_status(r->ctl));
}
