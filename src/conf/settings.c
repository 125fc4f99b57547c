/* settings.c: runtime settings, one descriptor table for everything. */
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "core/core.h"

enum stype { T_BOOL, T_INT, T_ENUM, T_STR, T_LIST };

struct sdesc {
	const char	*key;
	enum stype	 type;
	size_t		 off;
	int		 def;		/* bool, int, enum index */
	int		 min, max;	/* int range; max: string room */
	const char	*choices[8];	/* enum names, by value */
	const char	*sdef;		/* string default */
	const char	*label;		/* N_(): the TUI's; NULL: hidden */
	int		 step;		/* the TUI's + and - */
};

#define OFF(f) offsetof(struct gp_settings, f)
/*
 * The one settings table: key, type, limits, default, and how the TUI
 * shows it (label, step; no label: not shown).  It drives parsing,
 * validation, settings.json, the API and the TUI (GET
 * /api/settings/schema), in this order.
 */
static const struct sdesc table[] = {
	{ "defaultAction", T_ENUM, OFF(default_action), GP_DEFAULT_PENDING,
	    0, 0, { "pending", "block", NULL }, NULL,
	    N_("When no rule matches"), 0 },
	{ "pendingTimeout", T_INT, OFF(pending_timeout), 60, 1, 3600,
	    { NULL }, NULL, N_("Seconds a request waits"), 5 },
	{ "decisionScope", T_ENUM, OFF(decision_scope), 0, 0, 0,
	    { "exact", "any_port", "subdomain_wildcard", "all_containers",
	    "once", NULL }, NULL, N_("Scope of a and d"), 0 },
	{ "decisionDuration", T_ENUM, OFF(decision_duration), 0, 0, 0,
	    { "permanent", "1h", "12h", "24h", "7d", "30d", NULL }, NULL,
	    N_("Duration of a and d"), 0 },
	{ "mode", T_ENUM, OFF(mode), GP_MODE_FULL, 0, 0,
	    { "full", "limited", NULL }, NULL,
	    N_("Mode (limited: GET/HEAD/OPTIONS only)"), 0 },
	{ "privateNetworkProtection", T_BOOL, OFF(private_protection), 1, 0,
	    0, { NULL }, NULL, N_("Local-network protection"), 0 },
	{ "pendingBell", T_BOOL, OFF(pending_bell), 1, 0, 0, { NULL }, NULL,
	    N_("Bell on a new pending request"), 0 },
	{ "dnsPolicy", T_BOOL, OFF(dns_policy), 1, 0, 0, { NULL }, NULL,
	    N_("DNS: refuse names a deny rule covers"), 0 },
	{ "dnsTtlMin", T_INT, OFF(dns_ttl_min), 0, 0, 86400, { NULL }, NULL,
	    N_("DNS: shortest cache time (s)"), 30 },
	{ "dnsTtlMax", T_INT, OFF(dns_ttl_max), 86400, 1, 604800, { NULL },
	    NULL, N_("DNS: longest cache time (s)"), 3600 },
	{ "pendingMaxEntries", T_INT, OFF(pending_max_entries), 10000, 10,
	    1000000, { NULL }, NULL, N_("Pending: most destinations listed"),
	    1000 },
	{ "pendingMaxWaiters", T_INT, OFF(pending_max_waiters), 4096, 1,
	    100000, { NULL }, NULL, N_("Pending: most connections held"),
	    256 },
	{ "pendingRetention", T_INT, OFF(pending_retention), 7 * 86400, 60,
	    365 * 86400, { NULL }, NULL,
	    N_("Pending: keep unwatched entries (s)"), 86400 },
	{ "logBudgetPerMinute", T_INT, OFF(log_budget), 1200000, 0,
	    100000000, { NULL }, NULL, N_("Log: rows per source a minute"),
	    100000 },
	{ "logRetentionDays", T_INT, OFF(log_retention_days), 7, 0, 3650,
	    { NULL }, NULL, N_("Log: keep rows (days, 0 forever)"), 1 },
	{ "logMaxMB", T_INT, OFF(log_max_mb), 1024, 0, 1048576, { NULL },
	    NULL, N_("Log: own size cap (MiB, 0 none)"), 256 },
	{ "mitmEnabled", T_BOOL, OFF(mitm_enabled), 1, 0, 0, { NULL }, NULL,
	    N_("Interception: read tunnels"), 0 },
	/* Host globs whose tunnels are never read (pinned, sensitive). */
	{ "mitmBypass", T_LIST, OFF(mitm_bypass), 0, 0,
	    (int)sizeof(((struct gp_settings *)0)->mitm_bypass), { NULL }, "",
	    N_("Interception: hosts left unread (globs)"), 0 },
	/* Which transactions are stored: every one, those inside
	 * intercepted TLS, or none (forward HTTP is ~15 % faster). */
	{ "captureTransactions", T_ENUM, OFF(capture), GP_CAPTURE_ALL, 0, 0,
	    { "all", "intercepted", "none", NULL }, NULL,
	    N_("Transactions: which are stored"), 0 },
	{ "transactionRetentionDays", T_INT, OFF(tx_retention_days), 7, 0,
	    3650, { NULL }, NULL, N_("Transactions: keep (days, 0 forever)"),
	    1 },
	{ "transactionMaxMB", T_INT, OFF(tx_max_mb), 512, 0, 1048576,
	    { NULL }, NULL, N_("Transactions: size cap (MiB, 0 none)"), 64 },
	{ "maxBodyBytes", T_INT, OFF(max_body_bytes), 2 * 1024 * 1024, 0,
	    64 * 1024 * 1024, { NULL }, NULL,
	    N_("Transactions: bytes kept of a body"), 262144 },
	/* Header names (globs, any case) stored as [REDACTED], beyond the
	 * built-in Authorization, Cookie, *token*, *secret*, *api-key*. */
	{ "redactedHeaders", T_LIST, OFF(redacted_headers), 0, 0,
	    (int)sizeof(((struct gp_settings *)0)->redacted_headers), { NULL },
	    "", N_("Transactions: more headers redacted"), 0 },
	/* LLM conversations rebuilt from transactions (off: rows are
	 * still stored, nothing is assembled) */
	{ "conversationsEnabled", T_BOOL, OFF(conversations), 1, 0, 0,
	    { NULL }, NULL, N_("Conversations: assemble LLM traffic"), 0 },
	/* the original's, kept for greywall; not built yet: not shown */
	{ "notificationsEnabled", T_BOOL, OFF(notifications), 1, 0, 0,
	    { NULL }, NULL, NULL, 0 },
	{ "theme", T_STR, OFF(theme), 0, 0,
	    (int)sizeof(((struct gp_settings *)0)->theme), { NULL }, "system",
	    NULL, 0 },
};

_Static_assert(GP_ARRAY_LEN(table) <= 64, "user_set has a bit per entry");

static int *
ival(struct gp_settings *s, const struct sdesc *d)
{
	return (int *)((char *)s + d->off);
}

void
gp_settings_defaults(struct gp_settings *s)
{
	size_t	i;

	memset(s, 0, sizeof *s);
	for (i = 0; i < GP_ARRAY_LEN(table); i++) {
		if (table[i].type == T_STR || table[i].type == T_LIST)
			snprintf((char *)s + table[i].off,
			    (size_t)table[i].max, "%s", table[i].sdef);
		else
			*ival(s, &table[i]) = table[i].def;
	}
}

/*
 * A list of host globs: a JSON array of strings, each non-empty, at most
 * 253 characters of letters, digits and . - _ * ? (globs of * and ?,
 * case ignored); kept one per line.
 */
static int
apply_list(char *out, size_t room, const char *key, const cJSON *v,
    const char **why)
{
	static char	 msg[160];
	const cJSON	*it;
	struct gp_buf	 b = { 0 };
	const char	*p;

	if (!cJSON_IsArray(v)) {
		*why = "value has the wrong type";
		return -1;
	}
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsString(it) || it->valuestring[0] == '\0' ||
		    strlen(it->valuestring) > 253)
			goto bad;
		for (p = it->valuestring; *p != '\0'; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
			    *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    strchr(".-_*?", *p) != NULL))
				goto bad;
		gp_buf_printf(&b, "%s%s", b.len ? "\n" : "", it->valuestring);
	}
	if (b.len >= room) {
		gp_buf_free(&b);
		*why = "value too long";
		return -1;
	}
	snprintf(out, room, "%s", b.len ? b.data : "");
	gp_buf_free(&b);
	return 0;
bad:
	gp_buf_free(&b);
	snprintf(msg, sizeof msg, "%s takes host patterns such as "
	    "\"*.example.com\"", key);
	*why = msg;
	return -1;
}

/* Validates and applies one value; -1 with *why. */
static int
apply(struct gp_settings *s, const struct sdesc *d, const cJSON *v,
    const char **why)
{
	int	i;

	switch (d->type) {
	case T_BOOL:
		if (!cJSON_IsBool(v))
			goto type;
		*ival(s, d) = cJSON_IsTrue(v);
		return 0;
	case T_INT:
		if (!cJSON_IsNumber(v))
			goto type;
		/* Range first: a double outside int cannot be converted. */
		if (!(v->valuedouble >= d->min && v->valuedouble <= d->max)) {
			/* The limits are named (one loop thread: static). */
			static char range[160];

			snprintf(range, sizeof range, "%s must be between %d "
			    "and %d", d->key, d->min, d->max);
			*why = range;
			return -1;
		}
		if (v->valuedouble != (int)v->valuedouble)
			goto type;
		*ival(s, d) = v->valueint;
		return 0;
	case T_ENUM:
		if (!cJSON_IsString(v))
			goto type;
		for (i = 0; d->choices[i] != NULL; i++) {
			if (strcmp(v->valuestring, d->choices[i]) == 0) {
				*ival(s, d) = i;
				return 0;
			}
		}
		{
			static char list[256];
			size_t o = (size_t)snprintf(list, sizeof list,
			    "%s must be one of:", d->key);

			for (i = 0; d->choices[i] != NULL && o < sizeof list;
			    i++)
				o += (size_t)snprintf(list + o, sizeof list - o,
				    " %s", d->choices[i]);
			*why = list;
		}
		return -1;
	case T_STR:
		if (!cJSON_IsString(v))
			goto type;
		if (strlen(v->valuestring) >= (size_t)d->max) {
			*why = "value too long";
			return -1;
		}
		snprintf((char *)s + d->off, (size_t)d->max, "%s",
		    v->valuestring);
		return 0;
	case T_LIST:
		return apply_list((char *)s + d->off, (size_t)d->max, d->key, v,
		    why);
	}
type:
	*why = "value has the wrong type";
	return -1;
}

int
gp_settings_patch(struct gp_settings *s, const cJSON *patch,
    const char **why)
{
	struct gp_settings	 tmp = *s;
	const cJSON		*item;
	size_t			 i;

	if (!cJSON_IsObject(patch)) {
		*why = "settings must be a JSON object";
		return -1;
	}
	cJSON_ArrayForEach(item, patch) {
		for (i = 0; i < GP_ARRAY_LEN(table); i++)
			if (strcmp(item->string, table[i].key) == 0)
				break;
		if (i == GP_ARRAY_LEN(table)) {
			*why = "unknown setting";
			return -1;
		}
		if (apply(&tmp, &table[i], item, why) != 0)
			return -1;
		tmp.user_set |= (uint64_t)1 << i;
	}
	*s = tmp;
	return 0;
}

/* Adds table entry i of s to obj. */
static void
add_item(cJSON *obj, const struct gp_settings *s, size_t i)
{
	const struct sdesc	*d = &table[i];
	int			 v = d->type == T_STR || d->type == T_LIST ? 0 :
				    *ival((struct gp_settings *)s, d);

	switch (d->type) {
	case T_BOOL:
		cJSON_AddBoolToObject(obj, d->key, v);
		break;
	case T_INT:
		cJSON_AddNumberToObject(obj, d->key, v);
		break;
	case T_ENUM:
		cJSON_AddStringToObject(obj, d->key, d->choices[v]);
		break;
	case T_STR:
		cJSON_AddStringToObject(obj, d->key, (const char *)s + d->off);
		break;
	case T_LIST: {
		cJSON		*a = cJSON_AddArrayToObject(obj, d->key);
		const char	*p = (const char *)s + d->off, *e;

		char		*one;

		while (*p != '\0') {
			e = strchr(p, '\n');
			one = gp_xstrndup(p, e != NULL ? (size_t)(e - p) :
			    strlen(p));
			cJSON_AddItemToArray(a, cJSON_CreateString(one));
			free(one);
			if (e == NULL)
				break;
			p = e + 1;
		}
		break;
	}
	}
}

cJSON *
gp_settings_json(const struct gp_settings *s)
{
	cJSON	*obj = cJSON_CreateObject();
	size_t	 i;

	for (i = 0; i < GP_ARRAY_LEN(table); i++)
		add_item(obj, s, i);
	return obj;
}

cJSON *
gp_settings_schema_json(void)
{
	cJSON	*obj = cJSON_CreateObject(), *o, *c;
	size_t	 i, k;
	static const char *types[] = { "bool", "int", "enum", "string",
	    "list" };
	struct gp_settings def;

	gp_settings_defaults(&def);
	for (i = 0; i < GP_ARRAY_LEN(table); i++) {
		const struct sdesc *d = &table[i];

		o = cJSON_AddObjectToObject(obj, d->key);
		cJSON_AddStringToObject(o, "type", types[d->type]);
		if (d->label != NULL)
			cJSON_AddStringToObject(o, "label", d->label);
		else
			cJSON_AddNullToObject(o, "label");
		if (d->type == T_INT)
			cJSON_AddNumberToObject(o, "step", d->step);
		if (d->type == T_INT) {
			cJSON_AddNumberToObject(o, "min", d->min);
			cJSON_AddNumberToObject(o, "max", d->max);
		}
		if (d->type == T_ENUM) {
			c = cJSON_AddArrayToObject(o, "choices");
			for (k = 0; d->choices[k] != NULL; k++)
				cJSON_AddItemToArray(c,
				    cJSON_CreateString(d->choices[k]));
		}
		{
			cJSON *tmp = cJSON_CreateObject();

			add_item(tmp, &def, i);
			cJSON_AddItemToObject(o, "default", cJSON_Duplicate(
			    cJSON_GetObjectItemCaseSensitive(tmp, d->key), 1));
			cJSON_Delete(tmp);
		}
	}
	return obj;
}

int
gp_settings_load(struct gp_settings *s, const char *dir, char **err)
{
	char		*path, *text = NULL;
	const char	*why;
	FILE		*f;
	long		 len;
	cJSON		*root;
	int		 rc = 0;

	gp_settings_defaults(s);
	*err = NULL;
	gp_xasprintf(&path, "%s/settings.json", dir);
	if ((f = fopen(path, "re")) == NULL) {
		free(path);
		return 0;		/* nothing changed yet */
	}
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    len < 1024 * 1024 && fseek(f, 0, SEEK_SET) == 0) {
		text = gp_xmalloc((size_t)len + 1);
		text[fread(text, 1, (size_t)len, f)] = '\0';
	}
	fclose(f);
	root = text ? cJSON_Parse(text) : NULL;
	if (root == NULL) {
		gp_xasprintf(err, "%s: not valid JSON", path);
		rc = -1;
	} else if (gp_settings_patch(s, root, &why) != 0) {
		gp_xasprintf(err, "%s: %s", path, why);
		rc = -1;
	}
	cJSON_Delete(root);
	free(text);
	free(path);
	return rc;
}

int
gp_settings_save(const struct gp_settings *s, const char *dir)
{
	cJSON	*obj = cJSON_CreateObject();
	char	*path, *tmp, *text;
	size_t	 i;
	int	 fd, rc = 0;

	for (i = 0; i < GP_ARRAY_LEN(table); i++)
		if (s->user_set & ((uint64_t)1 << i))
			add_item(obj, s, i);
	text = cJSON_Print(obj);
	cJSON_Delete(obj);
	gp_xasprintf(&path, "%s/settings.json", dir);
	gp_xasprintf(&tmp, "%s.tmp", path);
	errno = 0;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    write(fd, "\n", 1) != 1 || fsync(fd) != 0)
		rc = errno ? -errno : -ENOSPC;	/* a short write: full */
	if (fd != -1 && close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0) {
		unlink(tmp);
		gp_log(GP_LOG_ERROR, "writing %s: %s", path, strerror(-rc));
	}
	free(text);
	free(tmp);
	free(path);
	return rc;
}
