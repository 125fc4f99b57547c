/*
 * routes-cred.c: global credentials, as the original's routes: POST
 * {label, value} (plus hosts: the destinations it is bound to), GET (newest
 * first), DELETE /:id.  No answer ever carries a value: the placeholder
 * and a preview only.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api/api-int.h"
#include "ctl/ctl.h"

static cJSON *
cred_json(const struct gp_cred *k)
{
	cJSON	*o = cJSON_CreateObject(), *h;
	char	 when[21], *copy, *save, *g;

	cJSON_AddStringToObject(o, "id", k->id);
	cJSON_AddStringToObject(o, "label", k->label);
	cJSON_AddStringToObject(o, "placeholder", k->placeholder);
	cJSON_AddStringToObject(o, "value_preview", k->preview);
	gp_time_format_rfc3339(k->created_at, when);
	cJSON_AddStringToObject(o, "created_at", when);
	/* greyproxy-c: where it may go ([]: anywhere), and whether its
	 * value could be read with this session.key */
	h = cJSON_AddArrayToObject(o, "hosts");
	copy = gp_xstrdup(k->hosts ? k->hosts : "");
	for (g = strtok_r(copy, "\n", &save); g != NULL;
	    g = strtok_r(NULL, "\n", &save))
		cJSON_AddItemToArray(h, cJSON_CreateString(g));
	free(copy);
	cJSON_AddBoolToObject(o, "readable", k->value != NULL);
	return o;
}

/* A JSON array of host globs as lines in hb ("" when empty); 1 when
 * it is not one. */
static int
hosts_lines(const cJSON *hosts, struct gp_buf *hb)
{
	const cJSON	*it;
	int		 bad = !cJSON_IsArray(hosts);

	cJSON_ArrayForEach(it, hosts) {
		if (!cJSON_IsString(it) || it->valuestring[0] == '\0' ||
		    strchr(it->valuestring, '\n') != NULL)
			bad = 1;
		else
			gp_buf_printf(hb, "%s%s", hb->len ? "\n" : "",
			    it->valuestring);
	}
	if (hb->data == NULL)
		gp_buf_addstr(hb, "");
	return bad;
}

void
api_creds_list(struct api_req *r, struct api_resp *resp)
{
	const struct gp_cred	*v;
	size_t			 n, i;
	cJSON			*a = cJSON_CreateArray();

	v = gp_ctl_creds(r->ctl, &n);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cred_json(&v[i]));
	ok_json(resp, a);
}

/* A JSON string wiped before it is freed (the body held a secret). */
static void
wipe_strings(cJSON *o)
{
	cJSON *it;

	cJSON_ArrayForEach(it, o) {
		if (cJSON_IsString(it) && it->valuestring != NULL)
			OPENSSL_cleanse(it->valuestring,
			    strlen(it->valuestring));
		else if (cJSON_IsArray(it) || cJSON_IsObject(it))
			wipe_strings(it);
	}
}

void
api_creds_create(struct api_req *r, struct api_resp *resp)
{
	const struct gp_cred	*k;
	const cJSON		*label, *value, *hosts;
	const char		*why = NULL;
	struct gp_buf		 hb = { 0 };
	cJSON			*b;
	int			 rc, bad = 0;

	if ((b = body_json(r, resp)) == NULL)
		return;
	label = cJSON_GetObjectItemCaseSensitive(b, "label");
	value = cJSON_GetObjectItemCaseSensitive(b, "value");
	hosts = cJSON_GetObjectItemCaseSensitive(b, "hosts");
	if (hosts != NULL && !cJSON_IsNull(hosts))
		bad = hosts_lines(hosts, &hb);
	if (bad) {
		api_error(resp, 400, "hosts must be an array of host names or "
		    "globs");
		rc = 0;
	} else if (!cJSON_IsString(label) || !cJSON_IsString(value)) {
		api_error(resp, 400, "label and value are required");
		rc = 0;
	} else if ((rc = gp_ctl_cred_add(r->ctl, label->valuestring,
	    value->valuestring, hb.data, &k, &why)) == 0)
		ok_json(resp, cred_json(k));
	else if (rc == -EINVAL)
		api_error(resp, 400, why);
	else if (rc == -EEXIST)
		api_error(resp, 409, why);
	else
		api_errno(resp, rc, why);
	gp_buf_free(&hb);
	wipe_strings(b);
	cJSON_Delete(b);
	/* the request's bytes held the value too */
	OPENSSL_cleanse((char *)(uintptr_t)r->body, r->body_len);
}

/* PUT /api/credentials/:id {hosts}: where it may go ([]: anywhere). */
void
api_creds_update(struct api_req *r, struct api_resp *resp)
{
	const struct gp_cred	*k;
	const cJSON		*hosts;
	const char		*why = NULL;
	struct gp_buf		 hb = { 0 };
	cJSON			*b;
	int			 rc, bad = 0;

	if ((b = body_json(r, resp)) == NULL)
		return;
	hosts = cJSON_GetObjectItemCaseSensitive(b, "hosts");
	bad = hosts_lines(hosts, &hb);
	if (bad)
		api_error(resp, 400, "hosts must be an array of host names or "
		    "globs");
	else if ((rc = gp_ctl_cred_set_hosts(r->ctl, r->param, hb.data ?
	    hb.data : "", &k, &why)) == 0)
		ok_json(resp, cred_json(k));
	else if (rc == -ENOENT)
		api_error(resp, 404, "credential not found");
	else if (rc == -EINVAL)
		api_error(resp, 400, why);
	else
		api_errno(resp, rc, why);
	gp_buf_free(&hb);
	cJSON_Delete(b);
}

void
api_creds_delete(struct api_req *r, struct api_resp *resp)
{
	cJSON	*o;
	int	 rc = gp_ctl_cred_delete(r->ctl, r->param);

	if (rc == -ENOENT) {
		api_error(resp, 404, "credential not found");
		return;
	}
	if (rc != 0) {
		api_errno(resp, rc, NULL);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", r->param);
	cJSON_AddBoolToObject(o, "deleted", 1);
	ok_json(resp, o);
}

/* greywall's sessions: the original's routes, answers and messages. */
static void
time_z(int64_t t, char out[21])
{
	gp_time_format_rfc3339(t, out);
}

void
api_sessions_create(struct api_req *r, struct api_resp *resp)
{
	struct gp_session_answer	 a;
	const struct gp_cred		*g;
	const char			*why = NULL;
	cJSON				*b, *o, *gl;
	char				 when[21];
	size_t				 i, k, n;
	int				 rc;

	if ((b = body_json(r, resp)) == NULL)
		return;
	rc = gp_ctl_session_register(r->ctl, b, &a, &why);
	wipe_strings(b);
	cJSON_Delete(b);
	OPENSSL_cleanse((char *)(uintptr_t)r->body, r->body_len);
	if (rc == -EINVAL) {
		api_error(resp, 400, why);
		return;
	}
	if (rc != 0) {
		api_error(resp, 500, why != NULL ? why : "cannot store the "
		    "session");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "session_id", a.id);
	time_z(a.expires_at, when);
	cJSON_AddStringToObject(o, "expires_at", when);
	cJSON_AddNumberToObject(o, "credential_count", a.credential_count);
	cJSON_AddNumberToObject(o, "rules_created", a.rules_created);
	if (a.nglobals > 0) {
		gl = cJSON_AddObjectToObject(o, "global_credentials");
		g = gp_ctl_creds(r->ctl, &n);
		for (i = 0; i < a.nglobals; i++)
			for (k = 0; k < n; k++)
				if (strcmp(g[k].label, a.globals[i]) == 0)
					cJSON_AddStringToObject(gl, g[k].label,
					    g[k].placeholder);
	}
	ok_json(resp, o);
}

void
api_sessions_heartbeat(struct api_req *r, struct api_resp *resp)
{
	int64_t	 exp;
	char	 when[21];
	cJSON	*o;

	/* A body (greywall's fs events) is optional and not used here. */
	if (gp_ctl_session_heartbeat(r->ctl, r->param, &exp) != 0) {
		api_error(resp, 404, "session not found or expired");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "session_id", r->param);
	time_z(exp, when);
	cJSON_AddStringToObject(o, "expires_at", when);
	ok_json(resp, o);
}

void
api_sessions_delete(struct api_req *r, struct api_resp *resp)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "session_id", r->param);
	cJSON_AddBoolToObject(o, "deleted", gp_ctl_session_delete(r->ctl,
	    r->param) > 0);
	ok_json(resp, o);
}

void
api_sessions_list(struct api_req *r, struct api_resp *resp)
{
	const struct gp_session	*v;
	size_t			 n, i, k;
	cJSON			*a = cJSON_CreateArray(), *o, *l, *m;
	char			 when[21];

	v = gp_ctl_sessions(r->ctl, &n);
	for (i = n; i-- > 0; ) {		/* newest first */
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "session_id", v[i].id);
		cJSON_AddStringToObject(o, "container_name", v[i].container);
		cJSON_AddNumberToObject(o, "credential_count",
		    (double)(v[i].nmap + v[i].nglobals));
		l = cJSON_AddArrayToObject(o, "credential_labels");
		for (k = 0; k < v[i].nmap; k++)
			cJSON_AddItemToArray(l, cJSON_CreateString(
			    v[i].map[k].label));
		for (k = 0; k < v[i].nglobals; k++)
			cJSON_AddItemToArray(l, cJSON_CreateString(
			    v[i].globals[k]));
		/* greyproxy-c: where each of its own credentials may go
		 * (the label's usual hosts, or a person's choice) */
		m = cJSON_AddObjectToObject(o, "credential_hosts");
		for (k = 0; k < v[i].nmap; k++) {
			char	*h, *save, *w;
			cJSON	*ha;

			if (cJSON_HasObjectItem(m, v[i].map[k].label))
				continue;
			ha = cJSON_AddArrayToObject(m, v[i].map[k].label);
			h = gp_xstrdup(gp_session_map_hosts(&v[i].map[k]));
			for (w = strtok_r(h, "\n", &save); w != NULL;
			    w = strtok_r(NULL, "\n", &save))
				cJSON_AddItemToArray(ha, cJSON_CreateString(w));
			free(h);
		}
		if (v[i].metadata != NULL &&
		    (m = cJSON_Parse(v[i].metadata)) != NULL)
			cJSON_AddItemToObject(o, "metadata", m);
		cJSON_AddNumberToObject(o, "ttl_seconds", v[i].ttl);
		time_z(v[i].created_at, when);
		cJSON_AddStringToObject(o, "created_at", when);
		time_z(v[i].expires_at, when);
		cJSON_AddStringToObject(o, "expires_at", when);
		time_z(v[i].last_heartbeat, when);
		cJSON_AddStringToObject(o, "last_heartbeat", when);
		cJSON_AddNumberToObject(o, "substitution_count",
		    (double)v[i].substitutions);
		cJSON_AddBoolToObject(o, "allow_all", v[i].allow_all);
		cJSON_AddItemToArray(a, o);
	}
	ok_json(resp, a);
}

/* PUT /api/sessions/:id/hosts {label, hosts: [...] | null}: where that
 * session credential may go ([]: anywhere; null: its label's usual
 * hosts).  greyproxy-c. */
void
api_sessions_bind(struct api_req *r, struct api_resp *resp)
{
	const cJSON	*label, *hosts;
	struct gp_buf	 hb = { 0 };
	cJSON		*b, *o;
	int		 rc;

	if ((b = body_json(r, resp)) == NULL)
		return;
	label = cJSON_GetObjectItemCaseSensitive(b, "label");
	hosts = cJSON_GetObjectItemCaseSensitive(b, "hosts");
	if (!cJSON_IsString(label) || (!cJSON_IsNull(hosts) &&
	    hosts_lines(hosts, &hb)))
		api_error(resp, 400, "a label and hosts (an array of host names "
		    "or globs, or null) are needed");
	else if ((rc = gp_ctl_session_bind(r->ctl, r->param,
	    label->valuestring, cJSON_IsNull(hosts) ? NULL : hb.data)) ==
	    -ENOENT)
		api_error(resp, 404, "no such live session or label");
	else if (rc != 0)
		api_errno(resp, rc, "the session could not be stored");
	else {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "session_id", r->param);
		cJSON_AddStringToObject(o, "label", label->valuestring);
		cJSON_AddItemToObject(o, "hosts", cJSON_IsNull(hosts) ?
		    cJSON_CreateNull() : cJSON_Duplicate(hosts, 1));
		ok_json(resp, o);
	}
	gp_buf_free(&hb);
	cJSON_Delete(b);
}
