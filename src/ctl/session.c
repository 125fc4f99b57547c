/*
 * session.c: greywall's credential sessions (POST /api/sessions and the
 * rest), as the original's exchange: a sandbox registers its
 * placeholder → value mappings, the global labels it wants, its network
 * rules; heartbeats keep it alive; delete ends it.  Sessions persist
 * with their mappings sealed (a restart loses none) and expire when
 * used past their time, not by a sweep.
 *
 * A session's placeholder is substituted only in requests from its
 * identity (container_name, the proxy user greywall gives the sandbox);
 * its network rules are temporary rules created by session:<id> and
 * expiring with it, allow_all one rule letting its identity through.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cred/cred.h"
#include "ctl/ctl.h"

#define TTL_DEFAULT	900
#define TTL_MAX		3600

static void
map_clear(struct gp_session_map *m)
{
	free(m->ph);
	gp_secret_free(m->value);
	free(m->label);
	free(m->hosts);
}

const char *
gp_session_map_hosts(const struct gp_session_map *m)
{
	return m->hosts != NULL ? m->hosts : gp_cred_default_hosts(m->label);
}

/* Bindings a person set, {label: hosts}, onto the session's map. */
static void
bound_load(struct gp_session *s, const cJSON *b)
{
	size_t i;

	for (i = 0; i < s->nmap; i++) {
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(b,
		    s->map[i].label);

		if (cJSON_IsString(h)) {
			free(s->map[i].hosts);
			s->map[i].hosts = gp_xstrdup(h->valuestring);
		}
	}
}

static void
session_clear(struct gp_session *s)
{
	size_t i;

	for (i = 0; i < s->nmap; i++)
		map_clear(&s->map[i]);
	free(s->map);
	for (i = 0; i < s->nglobals; i++)
		free(s->globals[i]);
	free(s->globals);
	free(s->metadata);
	free(s->rule_ids);
	memset(s, 0, sizeof *s);
}

/* The mappings {placeholder: value} with their labels; each value is
 * copied, and wiped in the JSON it came from. */
static void
map_fill(struct gp_session *s, const cJSON *maps, const cJSON *labels)
{
	const cJSON	*it;
	size_t		 i = 0;

	s->nmap = (size_t)cJSON_GetArraySize(maps);
	s->map = gp_xcalloc(s->nmap + 1, sizeof *s->map);
	cJSON_ArrayForEach(it, maps) {
		const cJSON *lab = cJSON_GetObjectItemCaseSensitive(labels,
		    it->string);

		s->map[i].ph = gp_xstrdup(it->string);
		s->map[i].value = gp_xstrdup(it->valuestring);
		OPENSSL_cleanse(it->valuestring, strlen(it->valuestring));
		s->map[i].label = gp_xstrdup(cJSON_IsString(lab) ?
		    lab->valuestring : "");
		i++;
	}
}

static struct gp_session *
find(struct gp_ctl *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->nsessions; i++)
		if (strcmp(c->sessions[i].id, id) == 0)
			return &c->sessions[i];
	return NULL;
}

/* The session's row: mappings sealed, the rest as JSON text. */
static int
save(struct gp_ctl *c, const struct gp_session *s)
{
	struct gp_session_row	 r;
	cJSON			*m = cJSON_CreateObject(), *l, *g, *ids;
	char			*mj;
	size_t			 i;
	int			 rc;

	memset(&r, 0, sizeof r);
	l = cJSON_CreateObject();
	g = cJSON_CreateArray();
	ids = cJSON_CreateArray();
	for (i = 0; i < s->nmap; i++) {
		cJSON_AddStringToObject(m, s->map[i].ph, s->map[i].value);
		cJSON_AddStringToObject(l, s->map[i].ph, s->map[i].label ?
		    s->map[i].label : "");
	}
	for (i = 0; i < s->nglobals; i++)
		cJSON_AddItemToArray(g, cJSON_CreateString(s->globals[i]));
	for (i = 0; i < s->nrules; i++)
		cJSON_AddItemToArray(ids, cJSON_CreateNumber(
		    (double)s->rule_ids[i]));
	mj = cJSON_PrintUnformatted(m);
	rc = gp_vault_seal(c->vkey, mj, strlen(mj), &r.mappings_enc,
	    &r.mappings_len);
	OPENSSL_cleanse(mj, strlen(mj));
	free(mj);
	/* the values in the tree: wiped as they go */
	{
		cJSON *it;

		cJSON_ArrayForEach(it, m)
			OPENSSL_cleanse(it->valuestring,
			    strlen(it->valuestring));
	}
	cJSON_Delete(m);
	if (rc == 0) {
		r.id = s->id;
		r.container = s->container;
		r.labels = cJSON_PrintUnformatted(l);
		r.globals = cJSON_PrintUnformatted(g);
		r.metadata = s->metadata;
		r.rule_ids = cJSON_PrintUnformatted(ids);
		r.ttl = s->ttl;
		r.allow_all = s->allow_all;
		r.created_at = s->created_at;
		r.expires_at = s->expires_at;
		r.last_heartbeat = s->last_heartbeat;
		r.substitutions = (int64_t)s->substitutions;
		{
			cJSON *b = cJSON_CreateObject();

			for (i = 0; i < s->nmap; i++)
				if (s->map[i].hosts != NULL &&
				    !cJSON_HasObjectItem(b, s->map[i].label))
					cJSON_AddStringToObject(b,
					    s->map[i].label, s->map[i].hosts);
			r.bound = cJSON_GetArraySize(b) > 0 ?
			    cJSON_PrintUnformatted(b) : NULL;
			cJSON_Delete(b);
		}
		rc = gp_store_session_put(c->store, &r);
		free(r.bound);
		free(r.labels);
		free(r.globals);
		free(r.rule_ids);
		free(r.mappings_enc);
	}
	cJSON_Delete(l);
	cJSON_Delete(g);
	cJSON_Delete(ids);
	return rc;
}

/* The session's rules out of the set (deleted, or expired already). */
static void
drop_rules(struct gp_ctl *c, struct gp_session *s)
{
	size_t i;

	for (i = 0; i < s->nrules; i++)
		gp_ctl_rule_delete(c, s->rule_ids[i]);
	free(s->rule_ids);
	s->rule_ids = NULL;
	s->nrules = 0;
}

static void
add_rule(struct gp_ctl *c, struct gp_session *s, const char *dest,
    const char *ports, int deny, const char *notes)
{
	struct gp_rule	 r;
	const char	*why = NULL;
	int		 existed = 0;
	char		 by[128];

	memset(&r, 0, sizeof r);
	snprintf(by, sizeof by, "session:%s", s->id);
	r.container = gp_xstrdup(s->container);
	r.dest = gp_xstrdup(dest);
	r.ports = gp_xstrdup(ports != NULL && ports[0] ? ports : "*");
	r.action = deny ? GP_DENY : GP_ALLOW;
	r.layer = GP_LAYER_SESSION;
	r.rule_type = gp_xstrdup("temporary");
	r.created_by = gp_xstrdup(by);
	r.notes = notes != NULL ? gp_xstrdup(notes) : NULL;
	r.session_id = gp_xstrdup(s->id);
	r.created_at = gp_now();
	r.expires_at = s->expires_at;
	if (gp_ctl_rule_add(c, &r, &existed, &why) == 0 && r.id > 0) {
		s->rule_ids = gp_xrealloc(s->rule_ids, (s->nrules + 1) *
		    sizeof *s->rule_ids);
		s->rule_ids[s->nrules++] = r.id;
	} else if (why != NULL)
		gp_log(GP_LOG_WARN, "session %s: rule %s refused: %s", s->id,
		    dest, why);
	gp_rule_clear(&r);
}

/* Every session rule's expiry moved to the session's. */
static void
extend_rules(struct gp_ctl *c, struct gp_session *s)
{
	struct gp_rule	r;
	const char	*why;
	size_t		i;

	for (i = 0; i < s->nrules; i++) {
		memset(&r, 0, sizeof r);
		if (gp_ctl_rule_get(c, s->rule_ids[i], &r) == 0) {
			r.expires_at = s->expires_at;
			gp_ctl_rule_update(c, &r, &why);
		}
		gp_rule_clear(&r);
	}
}

static void
remove_at(struct gp_ctl *c, struct gp_session *s)
{
	size_t i = (size_t)(s - c->sessions);

	session_clear(s);
	memmove(&c->sessions[i], &c->sessions[i + 1], (c->nsessions - i - 1) *
	    sizeof *c->sessions);
	c->nsessions--;
}

/* A session past its time: gone now (expiry is checked where used). */
static int
expired(struct gp_ctl *c, struct gp_session *s)
{
	char id[80];

	if (s->expires_at > gp_now())
		return 0;
	snprintf(id, sizeof id, "%s", s->id);
	gp_log(GP_LOG_INFO, "session %s expired", id);
	drop_rules(c, s);
	gp_store_session_delete(c->store, id);
	remove_at(c, s);
	gp_bus_emit(&c->bus, GP_EV_SESSION_EXPIRED, id);
	return 1;
}

static void
expire_all(struct gp_ctl *c)
{
	size_t i;

	for (i = 0; i < c->nsessions; )
		if (!expired(c, &c->sessions[i]))
			i++;
}

int
gp_ctl_session_register(struct gp_ctl *c, const cJSON *b,
    struct gp_session_answer *ans, const char **why)
{
	const cJSON		*sid, *cont, *maps, *labels, *meta, *globs;
	const cJSON		*ttl, *rules, *all, *it;
	struct gp_session	*s, tmp;
	struct gp_buf		 unknown = { 0 };
	size_t			 i, nglob = 0;
	int			 rc, t;

	*why = NULL;
	memset(ans, 0, sizeof *ans);
	sid = cJSON_GetObjectItemCaseSensitive(b, "session_id");
	cont = cJSON_GetObjectItemCaseSensitive(b, "container_name");
	maps = cJSON_GetObjectItemCaseSensitive(b, "mappings");
	labels = cJSON_GetObjectItemCaseSensitive(b, "labels");
	meta = cJSON_GetObjectItemCaseSensitive(b, "metadata");
	globs = cJSON_GetObjectItemCaseSensitive(b, "global_credentials");
	ttl = cJSON_GetObjectItemCaseSensitive(b, "ttl_seconds");
	rules = cJSON_GetObjectItemCaseSensitive(b, "network_rules");
	all = cJSON_GetObjectItemCaseSensitive(b, "allow_all");
	if (!cJSON_IsString(sid) || sid->valuestring[0] == '\0' ||
	    strlen(sid->valuestring) >= sizeof s->id) {
		*why = "session_id is required";
		return -EINVAL;
	}
	if (!cJSON_IsString(cont) || cont->valuestring[0] == '\0' ||
	    strlen(cont->valuestring) >= sizeof s->container) {
		*why = "container_name is required";
		return -EINVAL;
	}
	cJSON_ArrayForEach(it, globs) {
		size_t		 n;
		const struct gp_cred *g = gp_ctl_creds(c, &n);

		for (i = 0; i < n && cJSON_IsString(it); i++)
			if (strcmp(g[i].label, it->valuestring) == 0)
				break;
		if (!cJSON_IsString(it) || i == n)
			gp_buf_printf(&unknown, "%s%s", unknown.len ? ", " : "",
			    cJSON_IsString(it) ? it->valuestring : "?");
		else
			nglob++;
	}
	if (unknown.len > 0) {
		snprintf(c->session_why, sizeof c->session_why,
		    "unknown global credentials: %s", unknown.data);
		gp_buf_free(&unknown);
		*why = c->session_why;
		return -EINVAL;
	}
	if (cJSON_GetArraySize(maps) == 0 && nglob == 0 &&
	    cJSON_GetArraySize(rules) == 0 && !cJSON_IsTrue(all)) {
		*why = "no credentials or network rules provided";
		return -EINVAL;
	}
	cJSON_ArrayForEach(it, maps)
		if (!cJSON_IsString(it) || it->string == NULL ||
		    strncmp(it->string, "greyproxy:credential:v1:", 24) != 0 ||
		    strpbrk(it->valuestring, "\r\n") != NULL ||
		    strlen(it->valuestring) > 8192) {
			*why = "mappings: placeholder → value, one line each";
			return -EINVAL;
		}
	if ((rc = gp_ctl_vault_key(c, 1)) != 0) {
		*why = "session.key cannot be made or read (see the log)";
		return rc;
	}
	expire_all(c);
	t = cJSON_IsNumber(ttl) ? ttl->valueint : 0;
	if (t > TTL_MAX)
		t = TTL_MAX;
	if (t <= 0)
		t = TTL_DEFAULT;
	memset(&tmp, 0, sizeof tmp);
	snprintf(tmp.id, sizeof tmp.id, "%s", sid->valuestring);
	snprintf(tmp.container, sizeof tmp.container, "%s",
	    cont->valuestring);
	tmp.ttl = t;
	tmp.allow_all = cJSON_IsTrue(all);
	tmp.created_at = gp_now();
	tmp.expires_at = gp_later(t);
	tmp.last_heartbeat = tmp.created_at;
	tmp.metadata = cJSON_IsObject(meta) ? cJSON_PrintUnformatted(meta) :
	    NULL;
	map_fill(&tmp, maps, labels);
	tmp.globals = gp_xcalloc(nglob + 1, sizeof *tmp.globals);
	cJSON_ArrayForEach(it, globs)
		tmp.globals[tmp.nglobals++] = gp_xstrdup(it->valuestring);
	/* Upsert: a re-registration replaces everything, rules too. */
	if ((s = find(c, tmp.id)) != NULL) {
		tmp.created_at = s->created_at;
		tmp.substitutions = s->substitutions;
		tmp.subst_saved = s->subst_saved;
		for (i = 0; i < s->nmap; i++) {	/* a person's bindings stay */
			size_t k;

			for (k = 0; k < tmp.nmap && s->map[i].hosts != NULL;
			    k++)
				if (tmp.map[k].hosts == NULL &&
				    strcmp(tmp.map[k].label,
				    s->map[i].label) == 0)
					tmp.map[k].hosts = gp_xstrdup(
					    s->map[i].hosts);
		}
		drop_rules(c, s);
		session_clear(s);
	} else {
		c->sessions = gp_xrealloc(c->sessions, (c->nsessions + 1) *
		    sizeof *c->sessions);
		s = &c->sessions[c->nsessions++];
	}
	*s = tmp;
	cJSON_ArrayForEach(it, rules) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(it,
		    "destination_pattern");
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(it,
		    "port_pattern");
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(it, "action");
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "notes");

		if (cJSON_IsString(d))
			add_rule(c, s, d->valuestring, cJSON_IsString(p) ?
			    p->valuestring : "*", cJSON_IsString(a) &&
			    strcmp(a->valuestring, "deny") == 0,
			    cJSON_IsString(n) ? n->valuestring : NULL);
	}
	if (s->allow_all)
		add_rule(c, s, "*", "*", 0, "allow_all");
	if ((rc = save(c, s)) != 0) {
		*why = "the session could not be stored";
		return rc;
	}
	ans->id = s->id;
	ans->expires_at = s->expires_at;
	ans->credential_count = (int)(s->nmap + s->nglobals);
	ans->rules_created = (int)s->nrules;
	ans->globals = s->globals;
	ans->nglobals = s->nglobals;
	gp_log(GP_LOG_INFO, "session %s registered for %s: %zu credentials, "
	    "%zu rules, %d s", s->id, s->container, s->nmap + s->nglobals,
	    s->nrules, s->ttl);
	gp_bus_emit(&c->bus, GP_EV_SESSION_CREATED, s->id);
	return 0;
}

int
gp_ctl_session_heartbeat(struct gp_ctl *c, const char *id,
    int64_t *expires_at)
{
	struct gp_session *s = find(c, id);

	if (s == NULL || expired(c, s))
		return -ENOENT;
	s->last_heartbeat = gp_now();
	s->expires_at = gp_later(s->ttl);
	extend_rules(c, s);
	save(c, s);
	*expires_at = s->expires_at;
	gp_bus_emit(&c->bus, GP_EV_SESSION_HEARTBEAT, s->id);
	return 0;
}

int
gp_ctl_session_delete(struct gp_ctl *c, const char *id)
{
	struct gp_session	*s = find(c, id);
	char			 sid[80];

	if (s == NULL)
		return 0;
	snprintf(sid, sizeof sid, "%s", s->id);
	drop_rules(c, s);
	gp_store_session_delete(c->store, sid);
	remove_at(c, s);
	gp_log(GP_LOG_INFO, "session %s deleted", sid);
	gp_bus_emit(&c->bus, GP_EV_SESSION_DELETED, sid);
	return 1;
}

const struct gp_session *
gp_ctl_sessions(struct gp_ctl *c, size_t *n)
{
	expire_all(c);
	*n = c->nsessions;
	return c->sessions;
}

/* The live mapping for a session placeholder, or NULL; *s its session. */
const struct gp_session_map *
gp_ctl_session_find(struct gp_ctl *c, const char *ph, size_t n,
    struct gp_session **sp)
{
	const char	*sid = ph + 24, *colon;
	size_t		 i, k;

	/* "…:v1:<session id>:<hex>": the id ends at the last ':' (an id
	 * may hold one; the hex never does) */
	if (n <= 24 || (colon = memrchr(sid, ':', n - 24)) == NULL)
		return NULL;
	for (i = 0; i < c->nsessions; i++) {
		struct gp_session *s = &c->sessions[i];

		if (strlen(s->id) != (size_t)(colon - sid) ||
		    memcmp(s->id, sid, (size_t)(colon - sid)) != 0)
			continue;
		if (expired(c, s))
			return NULL;
		for (k = 0; k < s->nmap; k++)
			if (strlen(s->map[k].ph) == n &&
			    memcmp(s->map[k].ph, ph, n) == 0) {
				*sp = s;
				return &s->map[k];
			}
		return NULL;
	}
	return NULL;
}

int
gp_ctl_session_bind(struct gp_ctl *c, const char *sid, const char *label,
    const char *hosts)
{
	struct gp_session	*s = find(c, sid);
	size_t			 i, n = 0;

	if (s == NULL || expired(c, s))
		return -ENOENT;
	for (i = 0; i < s->nmap; i++) {
		if (strcmp(s->map[i].label, label) != 0)
			continue;
		free(s->map[i].hosts);
		s->map[i].hosts = hosts != NULL ? gp_xstrdup(hosts) : NULL;
		n++;
	}
	if (n == 0)
		return -ENOENT;
	gp_log(GP_LOG_INFO, "session %s: %s may go to %s", sid, label,
	    hosts == NULL ? "its usual hosts" : *hosts == '\0' ? "any host" :
	    hosts);
	return save(c, s) == 0 ? 0 : -EIO;
}

size_t
gp_ctl_session_counts(struct gp_ctl *c, struct gp_session_count **out)
{
	size_t i, n = 0;

	*out = NULL;
	for (i = 0; i < c->nsessions; i++) {
		struct gp_session *s = &c->sessions[i];

		if (s->substitutions == s->subst_saved)
			continue;
		*out = gp_xrealloc(*out, (n + 1) * sizeof **out);
		snprintf((*out)[n].id, sizeof (*out)[n].id, "%s", s->id);
		(*out)[n++].n = (int64_t)s->substitutions;
		s->subst_saved = s->substitutions;
	}
	return n;
}

void
gp_ctl_sessions_load(struct gp_ctl *c)
{
	struct gp_session_row	*v;
	size_t			 n, i, bad = 0;
	int64_t			 now = gp_now();

	if (gp_store_sessions_load(c->store, &v, &n) != 0)
		return;
	for (i = 0; i < n; i++) {
		struct gp_session	 s;
		char			*plain = NULL;
		cJSON			*m = NULL, *l, *g, *ids, *it;

		if (v[i].expires_at <= now) {	/* gone, its rules too */
			ids = cJSON_Parse(v[i].rule_ids ? v[i].rule_ids : "[]");
			cJSON_ArrayForEach(it, ids)
				if (cJSON_IsNumber(it))
					gp_ctl_rule_delete(c,
					    (int64_t)it->valuedouble);
			cJSON_Delete(ids);
			gp_store_session_delete(c->store, v[i].id);
			gp_log(GP_LOG_INFO, "session %s expired while greyproxy "
			    "was stopped: removed with its rules", v[i].id);
			continue;
		}
		if (gp_ctl_vault_key(c, 0) != 0 || gp_vault_open(c->vkey,
		    v[i].mappings_enc, v[i].mappings_len, &plain, NULL) != 0 ||
		    (m = cJSON_Parse(plain)) == NULL) {
			gp_log(GP_LOG_ERROR, "session %s cannot be read with "
			    "this session.key: kept, not used", v[i].id);
			gp_secret_free(plain);
			bad++;
			continue;
		}
		gp_secret_free(plain);
		memset(&s, 0, sizeof s);
		snprintf(s.id, sizeof s.id, "%s", v[i].id);
		snprintf(s.container, sizeof s.container, "%s",
		    v[i].container);
		s.ttl = v[i].ttl;
		s.allow_all = v[i].allow_all;
		s.created_at = v[i].created_at;
		s.expires_at = v[i].expires_at;
		s.last_heartbeat = v[i].last_heartbeat;
		s.substitutions = (uint64_t)v[i].substitutions;
		s.subst_saved = s.substitutions;
		s.metadata = v[i].metadata ? gp_xstrdup(v[i].metadata) : NULL;
		l = cJSON_Parse(v[i].labels ? v[i].labels : "{}");
		map_fill(&s, m, l);
		if (v[i].bound != NULL) {
			cJSON *b = cJSON_Parse(v[i].bound);

			bound_load(&s, b);
			cJSON_Delete(b);
		}
		g = cJSON_Parse(v[i].globals ? v[i].globals : "[]");
		s.globals = gp_xcalloc((size_t)cJSON_GetArraySize(g) + 1,
		    sizeof *s.globals);
		cJSON_ArrayForEach(it, g)
			if (cJSON_IsString(it))
				s.globals[s.nglobals++] =
				    gp_xstrdup(it->valuestring);
		ids = cJSON_Parse(v[i].rule_ids ? v[i].rule_ids : "[]");
		s.rule_ids = gp_xcalloc((size_t)cJSON_GetArraySize(ids) + 1,
		    sizeof *s.rule_ids);
		cJSON_ArrayForEach(it, ids)
			s.rule_ids[s.nrules++] = (int64_t)it->valuedouble;
		cJSON_Delete(m);
		cJSON_Delete(l);
		cJSON_Delete(g);
		cJSON_Delete(ids);
		c->sessions = gp_xrealloc(c->sessions, (c->nsessions + 1) *
		    sizeof *c->sessions);
		c->sessions[c->nsessions++] = s;
	}
	gp_store_sessions_free(v, n);
	if (c->nsessions > 0 || bad > 0)
		gp_log(GP_LOG_INFO, "%zu sessions restored%s", c->nsessions,
		    bad ? " (some could not be read: see above)" : "");
}

void
gp_ctl_sessions_free(struct gp_ctl *c)
{
	size_t i;

	for (i = 0; i < c->nsessions; i++)
		session_clear(&c->sessions[i]);
	free(c->sessions);
	c->sessions = NULL;
	c->nsessions = 0;
}
