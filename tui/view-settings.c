/*
 * view-settings.c: every setting, changed at once: Space cycles, + and -
 * step within the core's limits, = types a number, Enter explains.  Then
 * the LLM endpoint rules (which dissector reads which API): Space turns
 * a user rule on or off, x deletes it, Space on a suggestion takes it,
 * Space on the last row adds one.
 */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tui/tui-int.h"

static void	setting_value_done(struct tui *, const char *);
static void	setting_list_done(struct tui *, const char *);

static struct tm_list *
l_settings(struct tui *t)
{
	return &t->settings;
}

/* The schema entry of a setting, or NULL before it has arrived. */
static const cJSON *
schema_of(struct tui *t, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(t->schema, key);
}

/* A row of the list: label, value, key (the key says what it is); its
 * id stays the same across refreshes, so the selection stays on it. */
static void
row_add(cJSON *arr, double id, const char *key, const char *label,
    const char *value)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", id);
	cJSON_AddStringToObject(o, "key", key);
	cJSON_AddStringToObject(o, "label", label);
	cJSON_AddStringToObject(o, "value", value);
	cJSON_AddBoolToObject(o, "raw", 1);	/* not a message to translate */
	cJSON_AddItemToArray(arr, o);
}

/* A host in at most w columns, its right end kept, no padding. */
static void
host_fit(const char *h, size_t w, char *out, size_t n)
{
	size_t len;

	tm_fit_right_end(h, w, out, n);
	while ((len = strlen(out)) > 0 && out[len - 1] == ' ')
		out[len - 1] = '\0';
}

/* Endpoint rules ("endpoint:<id>"), suggestions ("suggest:<n>") and the
 * row that adds one ("endpoint:new"). */
#define ROW_ENDPOINT	1000000.0	/* + rule id */
#define ROW_SUGGEST	2000000.0	/* + index */
#define ROW_NEW		3000000.0

static void
endpoint_rows(struct tui *t, cJSON *arr)
{
	const cJSON	*r;
	char		 key[48], label[320], host[200];
	int		 n = 0;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(t->endpoints,
	    "rules")) {
		int user = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r,
		    "user_defined"));

		snprintf(key, sizeof key, "endpoint:%.0f", tm_num(r, "id"));
		host_fit(tm_str(r, "host_pattern"), 34, host, sizeof host);
		snprintf(label, sizeof label, "%s %s %s %s", user ? "LLM" :
		    "LLM*", host, tm_str(r, "path_pattern"), tm_str(r,
		    "method"));
		row_add(arr, ROW_ENDPOINT + tm_num(r, "id"), key, label,
		    cJSON_IsFalse(
		    cJSON_GetObjectItemCaseSensitive(r, "enabled")) ? "off" :
		    tm_str(r, "decoder_name"));
	}
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(t->endpoints,
	    "suggestions")) {
		snprintf(key, sizeof key, "suggest:%d", n++);
		host_fit(tm_str(r, "host_pattern"), 30, host, sizeof host);
		snprintf(label, sizeof label, "%s %s %s", _("suggested:"),
		    host, tm_str(r, "path_pattern"));
		row_add(arr, ROW_SUGGEST + n, key, label, tm_str(r,
		    "decoder_name"));
	}
	row_add(arr, ROW_NEW, "endpoint:new", _("LLM endpoint: add a rule..."),
	    "");
}

/*
 * The rows come from the core's one settings table (GET
 * /api/settings/schema: key, label, step, limits, in its order); a
 * setting without a label is not shown.
 */
void
view_settings_rebuild(struct tui *t)
{
	cJSON		*arr = cJSON_CreateArray(), *o;
	const cJSON	*sc;
	int		 id = 0;

	cJSON_ArrayForEach(sc, t->schema) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		    t->settings_obj, sc->string);
		const cJSON *label = cJSON_GetObjectItemCaseSensitive(sc,
		    "label");
		char val[64];

		if (!cJSON_IsString(label))
			continue;
		if (cJSON_IsBool(v))
			snprintf(val, sizeof val, "%s", cJSON_IsTrue(v) ?
			    _("on") : _("off"));
		else if (cJSON_IsNumber(v))
			snprintf(val, sizeof val, "%d", v->valueint);
		else if (cJSON_IsArray(v))
			tm_join(v, val, sizeof val);
		else
			snprintf(val, sizeof val, "%s", cJSON_IsString(v) ?
			    v->valuestring : "?");
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", (double)++id);
		cJSON_AddStringToObject(o, "key", sc->string);
		cJSON_AddStringToObject(o, "label", label->valuestring);
		cJSON_AddStringToObject(o, "value", val);
		cJSON_AddItemToArray(arr, o);
	}
	if (t->schema != NULL)
		endpoint_rows(t, arr);
	tm_list_set(&t->settings, arr);
	cJSON_Delete(arr);
}

static void
setting_row(struct tui *t, const cJSON *s, const void *item, int y,
    int sel)
{
	char		 line[1024], l[300], v[600];
	const char	*label = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    s, "raw")) ? tm_str(s, "label") : _(tm_str(s, "label"));

	if (strncmp(tm_str(s, "key"), "endpoint:", 9) == 0 ||
	    strncmp(tm_str(s, "key"), "suggest:", 8) == 0)
		snprintf(line, sizeof line, " %s %s", tui_cell(l, sizeof l,
		    label, 62), tm_str(s, "value"));
	else	/* by columns (an accented label); a long value (a host
		 * list) is not cut: the key moves */
		snprintf(line, sizeof line, " %s %s %s", tui_cell(l, sizeof l,
		    label, 42), gp_text_pad(v, sizeof v, tm_str(s, "value"),
		    10), tm_str(s, "key"));
	tui_text(y, 0, COLS, line);
}

static void
settings_draw(struct tui *t, int top, int rows)
{
	const cJSON	*dns = cJSON_GetObjectItemCaseSensitive(t->status,
	    "dns");
	char		 line[256];
	int		 y = top + (int)t->settings.n + 2;

	if (y > top + rows - 2)		/* more settings than rows */
		y = top + rows - 2;

	view_draw_list(t, &t->settings, top, rows - 3,
	    _(" SETTING                                    VALUE      KEY"),
	    setting_row, _("Loading settings…"));

	attrset(tui_attr(t, CP_DIM, A_DIM));
	tui_text(y, 1, COLS - 2, _("Space changes, + and - adjust numbers; "
	    "changes apply at once and persist."));
	attrset(A_NORMAL);
	snprintf(line, sizeof line, _("DNS cache: %.0f answers, %.0f "
	    "addresses, hit rate %.0f%% (%.0f hits, %.0f misses)"),
	    tm_num(dns, "entries"), tm_num(dns, "hosts"),
	    100 * tm_num(dns, "hit_rate"), tm_num(dns, "hits"),
	    tm_num(dns, "misses"));
	tui_text(y + 1, 1, COLS - 2, line);
}

/*
 * Sends a new value, and shows it at once: the next + steps from it
 * (three quick + are three steps); the core's answer or event corrects
 * it if refused.
 */
static void
setting_put(struct tui *t, const char *key, cJSON *value)
{
	cJSON *b = cJSON_CreateObject();

	if (t->settings_obj != NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(t->settings_obj, key);
		cJSON_AddItemToObject(t->settings_obj, key,
		    cJSON_Duplicate(value, 1));
		view_settings_rebuild(t);
	}
	cJSON_AddItemToObject(b, key, value);
	view_api_send(t, "PUT", "/api/settings", b, _("%s changed"), key);
}

/* + and - step a number within its limits: - never raises it. */
static void
setting_step(struct tui *t, const char *key, int up)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(t->settings_obj,
	    key), *sc = schema_of(t, key);
	double		 lo = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(sc,
	    "min")) ? tm_num(sc, "min") : 0;
	double		 hi = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(sc,
	    "max")) ? tm_num(sc, "max") : 1e9;
	double		 step = tm_num(sc, "step") > 0 ? tm_num(sc, "step") : 1;
	double		 n = v->valuedouble + (up ? step : -step);

	if (n < lo)
		n = lo;
	if (n > hi)
		n = hi;
	if (n == v->valuedouble) {
		tui_message(t, 1, up ? _("%s is at its maximum (%.0f)") :
		    _("%s is at its minimum (%.0f)"), key, n);
		return;
	}
	setting_put(t, key, cJSON_CreateNumber(n));
}

/* The rule (or suggestion) a row names, in t->endpoints. */
static const cJSON *
endpoint_of(struct tui *t, const char *key)
{
	const cJSON *r;

	if (strncmp(key, "suggest:", 8) == 0)
		return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
		    t->endpoints, "suggestions"), atoi(key + 8));
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(t->endpoints,
	    "rules"))
		if (tm_num(r, "id") == atof(key + 9))
			return r;
	return NULL;
}

static void
endpoint_sent(void *d, int status, const cJSON *json)
{
	struct tui *t = d;

	if (t->quit)
		return;
	if (status == 200 || status == 201)
		tui_message(t, 0, "%s", _("LLM endpoint rules changed"));
	else
		tui_message(t, 1, "%s (%d)", *tm_str(json, "error") ?
		    tm_str(json, "error") : _("request failed"), status);
	view_settings_endpoints(t);
}

static void
endpoint_post(struct tui *t, const char *host, const char *path,
    const char *method, const char *decoder)
{
	cJSON	*b = cJSON_CreateObject();

	cJSON_AddStringToObject(b, "host_pattern", host);
	cJSON_AddStringToObject(b, "path_pattern", path);
	cJSON_AddStringToObject(b, "method", method);
	cJSON_AddStringToObject(b, "decoder_name", decoder);
	gp_link_request(t->link, "POST", "/api/endpoint-rules", b,
	    endpoint_sent, t);
	cJSON_Delete(b);
}

/* "HOST PATH [METHOD] DECODER" */
static void
endpoint_typed(struct tui *t, const char *text)
{
	char	*copy = gp_xstrdup(text), *w[4], *save;
	int	 n = 0;

	for (w[n] = strtok_r(copy, " \t", &save); w[n] != NULL && n < 3;
	    w[n] = strtok_r(NULL, " \t", &save))
		n++;
	if (n == 3 && w[3] != NULL)
		n = 4;
	if (n == 3)
		endpoint_post(t, w[0], w[1], "POST", w[2]);
	else if (n == 4)
		endpoint_post(t, w[0], w[1], w[2], w[3]);
	else if (*text != '\0')
		tui_message(t, 1, "%s", _("type: host path [method] decoder "
		    "(decoders: anthropic, openai, openai-ws, openai-chat, "
		    "google-ai)"));
	free(copy);
}

static void
endpoint_deleted(struct tui *t, int yes)
{
	char path[64];

	if (!yes)
		return;
	snprintf(path, sizeof path, "/api/endpoint-rules/%.0f",
	    (double)t->target_id);
	gp_link_request(t->link, "DELETE", path, NULL, endpoint_sent, t);
}

static void
endpoint_key(struct tui *t, const char *key, int a)
{
	const cJSON	*r = endpoint_of(t, key);
	char		 path[64], *s, *text;
	cJSON		*b;

	if (strcmp(key, "endpoint:new") == 0) {
		if (a == GP_A_TOGGLE || a == GP_A_DETAILS)
			tui_open_prompt(t, _("Endpoint (host path [method] "
			    "decoder):"), "", endpoint_typed, NULL);
		return;
	}
	if (r == NULL)
		return;
	if (a == GP_A_DETAILS) {
		s = cJSON_Print(r);
		gp_xasprintf(&text, "%s\n\n%s", s, strncmp(key, "suggest:", 8) ==
		    0 ? _("Seen in traffic and shaped like an LLM API request; "
		    "Space makes it a rule (transactions from then on are "
		    "read with it; rebuild-conversations reads older ones).") :
		    _("Space turns a user rule on or off, x deletes it; "
		    "built-in rules (LLM*) do not change."));
		cJSON_free(s);
		tui_open_detail(t, text);
		return;
	}
	if (strncmp(key, "suggest:", 8) == 0) {
		if (a == GP_A_TOGGLE)
			endpoint_post(t, tm_str(r, "host_pattern"),
			    tm_str(r, "path_pattern"), tm_str(r, "method"),
			    tm_str(r, "decoder_name"));
		return;
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r,
	    "user_defined"))) {
		if (a == GP_A_TOGGLE || a == GP_A_ENDPOINT_DELETE)
			tui_message(t, 1, "%s", _("a built-in endpoint rule "
			    "does not change"));
		return;
	}
	if (a == GP_A_TOGGLE) {
		b = cJSON_Duplicate(r, 1);
		cJSON_ReplaceItemInObject(b, "enabled", cJSON_CreateBool(
		    cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r,
		    "enabled"))));
		snprintf(path, sizeof path, "/api/endpoint-rules/%.0f",
		    tm_num(r, "id"));
		gp_link_request(t->link, "PUT", path, b, endpoint_sent, t);
		cJSON_Delete(b);
	} else if (a == GP_A_ENDPOINT_DELETE) {
		t->target_id = (int64_t)tm_num(r, "id");
		tui_open_confirm(t, _("Delete this LLM endpoint rule?"),
		    endpoint_deleted);
	}
}

static void
settings_key(struct tui *t, int a)
{
	const cJSON	*s = tm_list_selected(&t->settings);
	const cJSON	*v, *sc;
	size_t		 k, n;
	char		*text, limits[256] = "", cur[64], key[64];

	if (s == NULL)
		return;
	snprintf(key, sizeof key, "%s", tm_str(s, "key"));
	if (strncmp(key, "endpoint:", 9) == 0 || strncmp(key, "suggest:", 8) ==
	    0) {
		endpoint_key(t, key, a);
		return;
	}
	v = cJSON_GetObjectItemCaseSensitive(t->settings_obj, key);
	sc = schema_of(t, key);
	switch (a) {
	case GP_A_DETAILS: {
		/* Enter explains; it never changes anything. */
		const cJSON *c, *d = cJSON_GetObjectItemCaseSensitive(sc,
		    "default");

		if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(sc, "min")))
			snprintf(limits, sizeof limits, _("from %.0f to %.0f"),
			    tm_num(sc, "min"), tm_num(sc, "max"));
		else if ((c = cJSON_GetObjectItemCaseSensitive(sc,
		    "choices")) != NULL) {
			const cJSON *it;

			cJSON_ArrayForEach(it, c)
				snprintf(limits + strlen(limits), sizeof limits -
				    strlen(limits), "%s%s", limits[0] ? ", " : "",
				    it->valuestring);
		} else if (cJSON_IsArray(v))
			snprintf(limits, sizeof limits, "%s", _("a list, "
			    "comma-separated (* matches any characters)"));
		else
			snprintf(limits, sizeof limits, "%s", _("on or off"));
		char *def = d != NULL ? cJSON_PrintUnformatted(d) : NULL;

		snprintf(cur, sizeof cur, "%s", tm_str(s, "value"));
		gp_xasprintf(&text, _("Setting:  %s\nKey:      %s\nValue:    "
		    "%s\nDefault:  %s\nAllowed:  %s\n\nSpace changes it, + "
		    "and - step a number, = types one; changes apply at once "
		    "and persist."), _(tm_str(s, "label")), key, cur,
		    def ? def : "?", limits);
		free(def);
		tui_open_detail(t, text);
		return;
	}
	case GP_A_SET_VALUE:
		if (cJSON_IsArray(v))
			break;		/* typed as a list, below */
		if (!cJSON_IsNumber(v)) {
			tui_message(t, 1, "%s", _("only numbers are typed; Space "
			    "changes this one"));
			return;
		}
		snprintf(cur, sizeof cur, "%d", v->valueint);
		snprintf(t->setting_key, sizeof t->setting_key, "%s", key);
		tui_open_prompt(t, _("New value:"), cur, setting_value_done,
		    NULL);
		return;
	case GP_A_INCREASE:
	case GP_A_DECREASE:
		if (cJSON_IsNumber(v))
			setting_step(t, key, a == GP_A_INCREASE);
		return;
	case GP_A_TOGGLE:
		break;
	default:
		return;
	}
	if (cJSON_IsArray(v)) {
		char cur_list[2048];

		tm_join(v, cur_list, sizeof cur_list);
		snprintf(t->setting_key, sizeof t->setting_key, "%s", key);
		tui_open_prompt(t, _("Comma-separated:"), cur_list,
		    setting_list_done, NULL);
	} else if (cJSON_IsBool(v)) {
		setting_put(t, key, cJSON_CreateBool(!cJSON_IsTrue(v)));
	} else if (cJSON_IsNumber(v)) {
		setting_step(t, key, 1);
	} else if (cJSON_IsString(v) && (sc = cJSON_GetObjectItemCaseSensitive(
	    sc, "choices")) != NULL && (n = (size_t)cJSON_GetArraySize(sc)) >
	    0) {
		for (k = 0; k < n; k++)
			if (strcmp(cJSON_GetArrayItem(sc, (int)k)->valuestring,
			    v->valuestring) == 0)
				break;
		k = k + 1 >= n ? 0 : k + 1;
		setting_put(t, key, cJSON_CreateString(
		    cJSON_GetArrayItem(sc, (int)k)->valuestring));
	}
}

static void
setting_value_done(struct tui *t, const char *text)
{
	char	*end;
	long	 n = strtol(text, &end, 10);

	if (*text == '\0' || *end != '\0') {
		tui_message(t, 1, _("'%s' is not a whole number"), text);
		return;
	}
	/* The core checks the limits and names them if refused. */
	setting_put(t, t->setting_key, cJSON_CreateNumber(n));
}

/* "a, b c" → ["a","b","c"]; empty clears the list. */
static void
setting_list_done(struct tui *t, const char *text)
{
	cJSON	*arr = cJSON_CreateArray();
	char	*copy = gp_xstrdup(text), *save, *w;

	for (w = strtok_r(copy, ", \t", &save); w != NULL;
	    w = strtok_r(NULL, ", \t", &save))
		cJSON_AddItemToArray(arr, cJSON_CreateString(w));
	free(copy);
	/* The core checks each item and names one it refuses. */
	setting_put(t, t->setting_key, arr);
}

const struct view_ops view_settings = {
	N_("Settings"), C_SETTINGS, l_settings, view_settings_endpoints,
	settings_draw,
	settings_key, NULL,
};
