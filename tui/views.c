/*
 * views.c: the six views.  Each draws its list from the model and turns
 * its keys into API requests through the link; results come back as
 * messages on the last line and as events that refresh the lists.
 */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tui/tui-int.h"

static struct tm_list *
l_pending(struct tui *t)
{
	return &t->pending;
}

static struct tm_list *
l_rules(struct tui *t)
{
	return &t->rules;
}

static struct tm_list *
l_activity(struct tui *t)
{
	return &t->activity;
}

static struct tm_list *
l_settings(struct tui *t)
{
	return &t->settings;
}

/* A reply that is only reported: ok text or the API's error. */
struct done_ctx {
	struct tui	*t;
	char		 ok[200];
};

static void
on_done(void *d, int status, const cJSON *json)
{
	struct done_ctx *c = d;

	if (c->t->quit) {
		free(c);	/* answered as the link closed */
		return;
	}
	if (status >= 200 && status < 300)
		tui_message(c->t, 0, "%s", c->ok);
	else if (status == 0)
		tui_message(c->t, 1, "%s", _("no answer from greyproxy"));
	else
		tui_message(c->t, 1, "%s (%d)", *tm_str(json, "error") ?
		    tm_str(json, "error") : _("request failed"), status);
	free(c);
}

static void
api_send(struct tui *t, const char *method, const char *path, cJSON *body,
    const char *okfmt, const char *arg)
{
	struct done_ctx *c = gp_xcalloc(1, sizeof *c);
	char		 fit[200];
	int		 room = COLS - ((int)strlen(okfmt) - 2) - 1;

	c->t = t;
	/* The subject (a host) keeps its right end if the line is short. */
	tm_fit_right_end(arg, room > 12 ? (size_t)room : 12, fit, sizeof fit);
	while (fit[0] != '\0' && fit[strlen(fit) - 1] == ' ')
		fit[strlen(fit) - 1] = '\0';
	snprintf(c->ok, sizeof c->ok, okfmt, fit);
	gp_link_request(t->link, method, path, body, on_done, c);
	cJSON_Delete(body);
}

/* Draws a header row and the visible rows of l with row_fn. */
static void
draw_list(struct tui *t, struct tm_list *l, int top, int rows,
    const char *header, void (*row_fn)(struct tui *, const cJSON *, int,
    int), const char *empty)
{
	size_t	i;
	int	y;

	attrset(A_BOLD | A_UNDERLINE);
	tui_text(top, 0, COLS, header);
	attrset(A_NORMAL);
	rows--;
	if (l->nvis == 0) {
		attrset(tui_attr(t, CP_DIM, A_DIM));
		tui_text(top + 2, 2, COLS - 4, l->filter[0] ?
		    _("Nothing matches the filter (/ to change it).") : empty);
		attrset(A_NORMAL);
		return;
	}
	tm_list_scroll(l, (size_t)rows);
	for (i = l->top, y = top + 1; i < l->nvis && y < top + 1 + rows;
	    i++, y++) {
		int sel = i == l->sel;

		row_fn(t, tm_list_row(l, i), y, sel);
		if (sel)
			mvchgat(y, 0, COLS, t->color ? A_NORMAL : A_REVERSE,
			    t->color ? CP_SEL : 0, NULL);
	}
	if (l->filter[0]) {
		char f[160];

		snprintf(f, sizeof f, _(" /%s: %zu of %zu "), l->filter,
		    l->nvis, l->n);
		attrset(tui_attr(t, CP_NEW, A_BOLD));
		tui_text(top, COLS - (int)strlen(f) - 1, (int)strlen(f), f);
		attrset(A_NORMAL);
	}
}

/* --- 1 pending ---------------------------------------------------- */

static void
pending_row(struct tui *t, const cJSON *p, int y, int sel)
{
	char		host[300], dest[320], age[16], when[24], line[512];
	int64_t		now = gp_now();
	int64_t		seen = tm_time(p, "last_seen");
	int		fresh = now - seen < 5, local;
	int		wide = COLS >= 100;
	int		waiting = tm_num(p, "waiting") > 0;

	local = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p,
	    "local_network"));
	snprintf(host, sizeof host, "%s:%.0f", *tm_str(p, "resolved_hostname")
	    ? tm_str(p, "resolved_hostname") : tm_str(p, "destination_host"),
	    tm_num(p, "destination_port"));
	/* The right end (domain and port) always shows. */
	tm_fit_right_end(host, wide ? 44 : 34, dest, sizeof dest);
	/* Waiting now: how long; else when it was last seen. */
	tm_age(now - tm_time(p, waiting ? "first_seen" : "last_seen"), age,
	    sizeof age);
	if (waiting)
		snprintf(when, sizeof when, "%s", age);
	else
		snprintf(when, sizeof when, _("%s ago"), age);
	snprintf(line, sizeof line, wide ? "%s %-24.24s %5.0f %6.0f %8s" :
	    "%s %-16.16s %4.0f %5.0f %8s", dest, tm_str(p, "container_name"),
	    tm_num(p, "waiting"), tm_num(p, "attempt_count"), when);
	if (fresh)
		attrset(tui_attr(t, CP_NEW, A_BOLD) | A_BOLD);
	else if (!waiting)
		attrset(tui_attr(t, CP_DIM, A_DIM));
	else
		attrset(A_NORMAL);
	tui_text(y, 1, COLS - 6, line);
	attrset(tui_attr(t, CP_NEW, A_BOLD) | A_BOLD);
	tui_text(y, 0, 1, tm_list_marked(&t->pending, tm_id(p)) ? "*" : " ");
	if (local) {
		attrset(tui_attr(t, CP_LOCAL, A_BOLD) | A_BOLD);
		tui_text(y, COLS - 5, 4, "LAN");
	}
	attrset(A_NORMAL);
}

static void
pending_draw(struct tui *t, int top, int rows)
{
	draw_list(t, &t->pending, top, rows, COLS >= 100 ?
	    _(" DESTINATION                                  SOURCE       "
	    "            WAIT   HITS      AGE") :
	    _(" DESTINATION                        SOURCE           WAIT  "
	    "HITS      AGE"), pending_row,
	    _("No destination is waiting for a decision."));
	if (t->pending.nmarks > 0 || t->new_above > 0) {
		char m[96] = "";

		if (t->new_above > 0)
			snprintf(m, sizeof m, _(" ^ %zu new above "),
			    t->new_above);
		if (t->pending.nmarks > 0)
			snprintf(m + strlen(m), sizeof m - strlen(m),
			    _(" %zu marked "), t->pending.nmarks);
		attrset(tui_attr(t, CP_NEW, A_REVERSE) | A_BOLD);
		tui_text(top, COLS - (int)strlen(m) - 1, (int)strlen(m), m);
		attrset(A_NORMAL);
	}
}

/* Allows or denies pending entry id with a scope and duration. */
static void
decide_id(struct tui *t, int64_t id, const char *verb, const char *scope,
    const char *duration)
{
	const cJSON	*p = NULL;
	char		 path[96], what[300];
	size_t		 i;
	cJSON		*b;

	for (i = 0; i < t->pending.n; i++)
		if (tm_id(t->pending.v[i]) == id)
			p = t->pending.v[i];
	if (p == NULL) {
		tui_message(t, 1, "%s", _("that request is no longer pending"));
		return;
	}
	snprintf(path, sizeof path, "/api/pending/%lld/%s", (long long)id,
	    verb);
	snprintf(what, sizeof what, "%s:%.0f", tm_str(p, "destination_host"),
	    tm_num(p, "destination_port"));
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "scope", scope);
	cJSON_AddStringToObject(b, "duration", duration);
	api_send(t, "POST", path, b, strcmp(verb, "allow") == 0 ?
	    _("allowed %s") : _("denied %s"), what);
}

/*
 * Decides the marked entries, or else the selected one.  Each decided
 * entry leaves the list at once, so the next key acts on what shows
 * next (ten quick a presses decide ten entries, never one ten times).
 */
static void
decide(struct tui *t, const char *verb, const char *scope,
    const char *duration)
{
	const cJSON	*p = tm_list_selected(&t->pending);
	int64_t		*ids;
	size_t		 n, i;

	if (t->pending.nmarks > 0) {
		n = t->pending.nmarks;
		ids = gp_xcalloc(n, sizeof *ids);
		memcpy(ids, t->pending.marks, n * sizeof *ids);
		tm_list_unmark_all(&t->pending);
		for (i = 0; i < n; i++) {
			decide_id(t, ids[i], verb, scope, duration);
			tm_list_remove(&t->pending, ids[i]);
		}
		if (n > 1)
			tui_message(t, 0, strcmp(verb, "allow") == 0 ?
			    _("allowing %zu marked destinations") :
			    _("denying %zu marked destinations"), n);
		free(ids);
		return;
	}
	if (p == NULL) {
		tui_message(t, 1, "%s", _("nothing selected"));
		return;
	}
	n = (size_t)tm_id(p);
	decide_id(t, (int64_t)n, verb, scope, duration);
	tm_list_remove(&t->pending, (int64_t)n);
}

/* A decision default from the settings, or fallback. */
static const char *
default_choice(struct tui *t, const char *key, const char *fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->settings_obj, key);

	return cJSON_IsString(v) ? v->valuestring : fallback;
}

/* The one decision dialog: scope and duration, preset to the defaults. */
static void
open_decide(struct tui *t)
{
	const char	*scope = default_choice(t, "decisionScope", "exact");
	const char	*dur = default_choice(t, "decisionDuration",
	    "permanent");
	size_t		 i;

	tui_open_menu(t, P_DECIDE, tm_nscope_choices);
	for (i = 0; i < tm_nscope_choices; i++)
		if (strcmp(tm_scope_choices[i].scope, scope) == 0)
			t->menu_sel = i;
	t->dur_sel = 0;
	for (i = 0; i < tm_nduration_choices; i++)
		if (strcmp(tm_duration_choices[i].duration, dur) == 0)
			t->dur_sel = i;
}

static const cJSON *
pending_by_id(struct tui *t, int64_t id)
{
	size_t	i;

	for (i = 0; i < t->pending.n; i++)
		if (tm_id(t->pending.v[i]) == id)
			return t->pending.v[i];
	return NULL;
}

void
views_menu_title(struct tui *t, char *buf, size_t n)
{
	const cJSON	*p = pending_by_id(t, t->target_id);
	const char	*verb = t->action == GP_A_ALLOW ? _("Allow") :
	    _("Deny");
	char		 host[300], fit[320];
	int		 room;

	if (t->decide_marked) {
		snprintf(buf, n, _("%s %zu marked destinations"), verb,
		    t->pending.nmarks);
		return;
	}
	snprintf(host, sizeof host, "%s:%.0f", p ? tm_str(p,
	    "destination_host") : "?", p ? tm_num(p, "destination_port") : 0);
	room = (COLS < 74 ? COLS - 2 : 72) - 4 - (int)strlen(verb);
	tm_fit_right_end(host, room > 12 ? (size_t)room : 12, fit, sizeof fit);
	snprintf(buf, n, "%s %s", verb, fit);
}

void
views_menu_footer(struct tui *t, char *buf, size_t n)
{
	const cJSON	*p = pending_by_id(t, t->target_id);
	const cJSON	*to = cJSON_GetObjectItemCaseSensitive(t->settings_obj,
	    "pendingTimeout");
	int64_t		 left;

	if (p == NULL || tm_num(p, "waiting") <= 0 || !cJSON_IsNumber(to)) {
		snprintf(n > 0 ? buf : buf, n, "%s", _("No connection waits "
		    "now. Up/Down scope, Left/Right duration, Enter decides."));
		return;
	}
	left = (int64_t)to->valuedouble - (gp_now() - tm_time(p,
	    "last_seen"));
	snprintf(buf, n, _("The agent waits %llds more. Up/Down scope, "
	    "Left/Right duration, Enter decides, Esc cancels."),
	    (long long)(left > 0 ? left : 0));
}

/* The details of a pending entry; caller frees. */
static char *
pending_detail_text(struct tui *t, const cJSON *p)
{
	char	*text;

	gp_xasprintf(&text, _("Destination:  %s:%.0f\n"
	    "Request:      %s\nProtocol:     %s\n"
	    "Addresses:    %s\nHost name:    %s\nSource:       %s\n"
	    "Local network: %s\nWaiting now:  %.0f connections\n"
	    "Attempts:     %.0f\nFirst seen:   %s\nLast seen:    %s\n"
	    "\nKeys: a allow, d deny, A/D choose scope, x dismiss."),
	    tm_str(p, "destination_host"),
	    tm_num(p, "destination_port"), tm_str(p, "request"),
	    tm_str(p, "protocol"), *tm_str(p, "addresses") ?
	    tm_str(p, "addresses") : _("looked up once allowed"),
	    *tm_str(p, "resolved_hostname") ?
	    tm_str(p, "resolved_hostname") : "-",
	    tm_str(p, "container_name"), cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(p, "local_network")) ?
	    _("yes") : _("no"), tm_num(p, "waiting"),
	    tm_num(p, "attempt_count"), tm_str(p, "first_seen"),
	    tm_str(p, "last_seen"));
	return text;
}

static void
pending_key(struct tui *t, int a)
{
	const cJSON	*p = tm_list_selected(&t->pending);
	char		 path[64];

	switch (a) {
	case GP_A_ALLOW:
	case GP_A_DENY:
		/* One key: the scope and duration chosen in Settings. */
		decide(t, a == GP_A_ALLOW ? "allow" : "deny",
		    default_choice(t, "decisionScope", "exact"),
		    default_choice(t, "decisionDuration", "permanent"));
		break;
	case GP_A_ALLOW_SCOPE:
	case GP_A_DENY_SCOPE:
		if (p == NULL && t->pending.nmarks == 0)
			break;
		t->action = a == GP_A_ALLOW_SCOPE ? GP_A_ALLOW : GP_A_DENY;
		t->target_id = p != NULL ? tm_id(p) : t->pending.marks[0];
		t->decide_marked = t->pending.nmarks > 0;
		open_decide(t);
		break;
	case GP_A_DISMISS:
		if (p == NULL)
			break;
		snprintf(path, sizeof path, "/api/pending/%lld",
		    (long long)tm_id(p));
		api_send(t, "DELETE", path, NULL, _("dismissed %s"),
		    tm_str(p, "destination_host"));
		tm_list_remove(&t->pending, tm_id(p));
		break;
	case GP_A_MARK:
		if (p == NULL)
			break;
		tm_list_mark(&t->pending, tm_id(p));
		tm_list_move(&t->pending, 1);
		break;
	case GP_A_CLEAR_SEEN:
		tui_open_confirm(t, P_CLEAR_SEEN, _("Remove every entry no "
		    "connection waits for? (y/n)"));
		break;
	case GP_A_DETAILS:
		if (p == NULL)
			break;
		tui_open_detail(t, pending_detail_text(t, p));
		t->detail_id = tm_id(p);	/* kept current, keys work */
		break;
	}
}

char *
views_detail_refresh(struct tui *t)
{
	size_t	i;

	for (i = 0; i < t->pending.n; i++)
		if (tm_id(t->pending.v[i]) == t->detail_id)
			return pending_detail_text(t, t->pending.v[i]);
	return gp_xstrdup(_("This entry has left the queue (decided, "
	    "dismissed or expired).\n\nEsc closes."));
}

const char *
views_menu_item(struct tui *t, size_t i, char *buf, size_t n)
{
	snprintf(buf, n, " %zu  %s", i + 1, t->purpose == P_DURATION ?
	    _(tm_duration_choices[i].label) : _(tm_scope_choices[i].label));
	return buf;
}

const char *
views_menu_note(struct tui *t, size_t i, char *buf, size_t n)
{
	const cJSON	*p = NULL;
	char		 preview[300];
	size_t		 k;

	if (t->purpose != P_SCOPE && t->purpose != P_DECIDE)
		return NULL;
	for (k = 0; k < t->pending.n; k++)
		if (tm_id(t->pending.v[k]) == t->target_id)
			p = t->pending.v[k];
	if (p == NULL)
		return NULL;
	tm_scope_preview(p, tm_scope_choices[i].scope, preview,
	    sizeof preview);
	{
		char	fit[320];
		int	w = (COLS < 74 ? COLS - 2 : 72) - 2 - 6;

		tm_fit_right_end(preview, w > 8 ? (size_t)w : 8, fit,
		    sizeof fit);
		snprintf(buf, n, "      %s", fit);
	}
	return buf;
}

void
views_menu_done(struct tui *t, size_t c)
{
	const char *verb = t->action == GP_A_ALLOW ? "allow" : "deny";

	if (t->purpose == P_DECIDE) {
		const char *scope = tm_scope_choices[c].scope;
		const char *dur = tm_duration_choices[t->dur_sel].duration;

		if (t->decide_marked) {
			decide(t, verb, scope, dur);	/* every marked one */
		} else {
			decide_id(t, t->target_id, verb, scope, dur);
			tm_list_remove(&t->pending, t->target_id);
		}
		return;
	}

	if (t->purpose == P_SCOPE) {
		snprintf(t->scope, sizeof t->scope, "%s",
		    tm_scope_choices[c].scope);
		if (strcmp(t->scope, "once") == 0)
			decide_id(t, t->target_id, verb, "once", "permanent");
		else
			tui_open_menu(t, P_DURATION, tm_nduration_choices);
		return;
	}
	decide_id(t, t->target_id, verb, t->scope,
	    tm_duration_choices[c].duration);
}

/* --- 2 rules ------------------------------------------------------ */

static void
rule_row(struct tui *t, const cJSON *r, int y, int sel)
{
	char		line[512], exp[32];
	int64_t		e = tm_time(r, "expires_at");
	int		deny = strcmp(tm_str(r, "action"), "deny") == 0;

	if (e == 0)
		snprintf(exp, sizeof exp, "%s", _("never"));
	else if (e <= gp_now())
		snprintf(exp, sizeof exp, "%s", _("expired"));
	else
		tm_age(e - gp_now(), exp, sizeof exp);
	char		dest[320];

	tm_fit_right_end(tm_str(r, "destination_pattern"), COLS >= 100 ? 32 :
	    24, dest, sizeof dest);
	snprintf(line, sizeof line, COLS >= 100 ?
	    "%5lld %-5s %s %-11.11s %-20.20s %6.0f %s" :
	    "%4lld %-5s %s %-9.9s %-14.14s %5.0f %s",
	    (long long)tm_id(r), deny ? _("deny") : _("allow"),
	    dest, tm_str(r, "port_pattern"),
	    tm_str(r, "container_pattern"), tm_num(r, "hit_count"), exp);
	attrset(deny ? tui_attr(t, CP_BLOCK, A_BOLD) : tui_attr(t, CP_ALLOW,
	    A_NORMAL));
	tui_text(y, 0, COLS, line);
	attrset(A_NORMAL);
}

static void
rules_draw(struct tui *t, int top, int rows)
{
	draw_list(t, &t->rules, top, rows, COLS >= 100 ?
	    _("   ID ACTN  DESTINATION                      PORTS       "
	    "SOURCE                 HITS EXPIRES") :
	    _("  ID ACTN  DESTINATION              PORTS     SOURCE          "
	    "HITS EXPIRES"), rule_row,
	    _("No rules yet: n adds one, and decisions on pending requests "
	    "add them too."));
}

/* The prompt again, with what was typed and why, after an error. */
static void
reprompt(struct tui *t, enum purpose p, const char *text, const char *why)
{
	tui_open_prompt(t, p, p == P_RULE_EDIT ? _("Edit rule:") :
	    _("New rule (allow|deny HOST [PORTS] [SOURCE]):"), text);
	if (why != NULL)
		tui_prompt_error(t, "%s", why);
}

/*
 * "allow|deny HOST [PORTS] [SOURCE]" → a rule body, or NULL after an
 * error (the prompt reopens with the text for correction).  Nothing is
 * changed silently: too long, extra words, or a pattern that matches
 * every host get an error or a confirmation.
 */
static cJSON *
parse_rule(struct tui *t, const char *text, int confirmed)
{
	char	 buf[512], *save, *w[6];
	int	 n = 0;
	cJSON	*b;

	if (strlen(text) >= sizeof buf) {
		char why[128];

		snprintf(why, sizeof why, _("rule too long (%zu characters, "
		    "at most %zu)"), strlen(text), sizeof buf - 1);
		reprompt(t, t->purpose, text, why);
		return NULL;
	}
	snprintf(buf, sizeof buf, "%s", text);
	for (w[n] = strtok_r(buf, " \t", &save); w[n] != NULL && n < 5;
	    w[++n] = strtok_r(NULL, " \t", &save))
		;
	if (n < 2 || n > 4 || (strcmp(w[0], "allow") && strcmp(w[0], "deny"))) {
		reprompt(t, t->purpose, text, n > 4 ? _("too many words: "
		    "expected allow|deny HOST [PORTS] [SOURCE]") :
		    _("expected: allow|deny HOST [PORTS] [SOURCE]"));
		return NULL;
	}
	if (!confirmed && strcmp(w[0], "allow") == 0 &&
	    strspn(w[1], "*.") == strlen(w[1])) {
		/* "*", "**", "*.*": every destination. Ask, keep the text. */
		char q[200];

		snprintf(t->pending_rule, sizeof t->pending_rule, "%s", text);
		t->pending_rule_purpose = t->purpose;
		snprintf(q, sizeof q, _("'%s' allows every destination for "
		    "%s. Store it? (y/n)"), w[1], n > 3 ? w[3] : _("every "
		    "source"));
		tui_open_confirm(t, P_RULE_ALL, q);
		return NULL;
	}
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "action", w[0]);
	cJSON_AddStringToObject(b, "destination_pattern", w[1]);
	cJSON_AddStringToObject(b, "port_pattern", n > 2 ? w[2] : "*");
	cJSON_AddStringToObject(b, "container_pattern", n > 3 ? w[3] : "*");
	cJSON_AddStringToObject(b, "created_by", "tui");
	return b;
}

/* Sends a rule the prompt produced (new or edited). */
static void
send_rule(struct tui *t, enum purpose p, const char *text, int confirmed)
{
	char	 path[64];
	cJSON	*b;

	t->purpose = p;
	if ((b = parse_rule(t, text, confirmed)) == NULL)
		return;
	if (p == P_RULE_EDIT) {
		snprintf(path, sizeof path, "/api/rules/%lld",
		    (long long)t->target_id);
		api_send(t, "PUT", path, b, _("rule %s updated"), path + 11);
	} else
		api_send(t, "POST", "/api/rules", b, _("rule added: %s"), text);
}

static void
rules_key(struct tui *t, int a)
{
	const cJSON	*r = tm_list_selected(&t->rules);
	char		 init[400], text[300];

	switch (a) {
	case GP_A_RULE_NEW:
		tui_open_prompt(t, P_RULE_NEW, _("New rule (allow|deny HOST "
		    "[PORTS] [SOURCE]):"), "allow ");
		break;
	case GP_A_RULE_EDIT:
		if (r == NULL)
			break;
		t->target_id = tm_id(r);
		snprintf(init, sizeof init, "%s %s %s %s", tm_str(r, "action"),
		    tm_str(r, "destination_pattern"), tm_str(r, "port_pattern"),
		    tm_str(r, "container_pattern"));
		tui_open_prompt(t, P_RULE_EDIT, _("Edit rule:"), init);
		break;
	case GP_A_RULE_DELETE:
		if (r == NULL)
			break;
		t->target_id = tm_id(r);
		snprintf(text, sizeof text, _("Delete rule %lld (%s %s)? (y/n)"),
		    (long long)tm_id(r), tm_str(r, "action"),
		    tm_str(r, "destination_pattern"));
		tui_open_confirm(t, P_RULE_DELETE, text);
		break;
	case GP_A_DETAILS: {
		char *d;

		if (r == NULL)
			break;
		gp_xasprintf(&d, _("Rule %lld\nAction:       %s\n"
		    "Destination:  %s\nPorts:        %s\nSource:       %s\n"
		    "Type:         %s\nCreated:      %s by %s\nExpires:      %s\n"
		    "Last used:    %s\nHits:         %.0f\nNotes:        %s"),
		    (long long)tm_id(r), tm_str(r, "action"),
		    tm_str(r, "destination_pattern"), tm_str(r, "port_pattern"),
		    tm_str(r, "container_pattern"), tm_str(r, "rule_type"),
		    tm_str(r, "created_at"), tm_str(r, "created_by"),
		    *tm_str(r, "expires_at") ? tm_str(r, "expires_at") :
		    _("never"), *tm_str(r, "last_used_at") ?
		    tm_str(r, "last_used_at") : "-", tm_num(r, "hit_count"),
		    tm_str(r, "notes"));
		tui_open_detail(t, d);
		break;
	}
	}
}

/* --- 3 activity --------------------------------------------------- */

static void
log_row(struct tui *t, const cJSON *e, int y, int sel)
{
	char		line[512], when[16], dest[300];
	const char	*ts = tm_str(e, "timestamp");
	int		ok = strcmp(tm_str(e, "result"), "allowed") == 0, attack;

	snprintf(when, sizeof when, "%.8s", strlen(ts) >= 19 ? ts + 11 : ts);
	{
		char host[300];

		snprintf(host, sizeof host, "%s:%.0f",
		    tm_str(e, "destination_host"),
		    tm_num(e, "destination_port"));
		tm_fit_right_end(host, 30, dest, sizeof dest);
	}
	/* A client trying to reach greyproxy itself is an attack: say so. */
	attack = strcmp(tm_str(e, "reason"), "attack-greyproxy-itself") == 0;
	snprintf(line, sizeof line, "%s %-7s %-6s %-16.16s %s %s",
	    when, ok ? _("allowed") : attack ? _("ATTACK") : _("blocked"),
	    tm_str(e, "method"), tm_str(e, "container_name"), dest, ok ? "" :
	    attack ? _("tried to reach greyproxy itself") :
	    tm_str(e, "reason"));
	if (ok)
		attrset(tui_attr(t, CP_ALLOW, A_NORMAL));
	else
		attrset(tui_attr(t, CP_BLOCK, attack ? A_BOLD | A_REVERSE :
		    A_BOLD));
	tui_text(y, 0, COLS, line);
	attrset(A_NORMAL);
}

static void
activity_draw(struct tui *t, int top, int rows)
{
	draw_list(t, &t->activity, top, rows,
	    _("TIME     RESULT  PROTO  SOURCE           DESTINATION       "
	    "             REASON"), log_row,
	    _("No connections yet. Point a client at the proxy."));
	if (t->paused) {
		char p[96];

		snprintf(p, sizeof p, _(" PAUSED, %zu new (Space resumes) "),
		    t->missed);
		attrset(tui_attr(t, CP_NEW, A_REVERSE) | A_BOLD);
		tui_text(top, COLS - (int)strlen(p) - 2, (int)strlen(p), p);
		attrset(A_NORMAL);
	}
}

static void
activity_key(struct tui *t, int a)
{
	const cJSON	*e = tm_list_selected(&t->activity);
	char		*d;

	if (a == GP_A_PAUSE) {
		t->paused = !t->paused;
		if (!t->paused && t->missed > 0) {
			t->missed = 0;
			tui_fetch(t, W_LOGS);
		}
	} else if (a == GP_A_DETAILS && e != NULL) {
		gp_xasprintf(&d, _("Time:         %s\nResult:       %s %s\n"
		    "Protocol:     %s\nRequest:      %s\nSource:       %s (%s)\n"
		    "Destination:  %s:%.0f\nResolved IP:  %s\n"
		    "Rule:         %s\nBytes:        %.0f up, %.0f down\n"
		    "Duration:     %.0f ms"), tm_str(e, "timestamp"),
		    tm_str(e, "result"), tm_str(e, "reason"),
		    tm_str(e, "method"), tm_str(e, "request"),
		    tm_str(e, "container_name"), tm_str(e, "client_addr"),
		    tm_str(e, "destination_host"),
		    tm_num(e, "destination_port"), *tm_str(e, "resolved_ip") ?
		    tm_str(e, "resolved_ip") : "-",
		    *tm_str(e, "rule_summary") ? tm_str(e, "rule_summary") :
		    "-", tm_num(e, "bytes_up"), tm_num(e, "bytes_down"),
		    tm_num(e, "response_time_ms"));
		tui_open_detail(t, d);
	}
}

/* --- 4 conversations, 5 credentials -------------------------------- */

static void
paragraph(struct tui *t, int y, const char *text)
{
	char	*copy = gp_xstrdup(text), *save, *ln;

	for (ln = strtok_r(copy, "\n", &save); ln != NULL && y < LINES - 2;
	    ln = strtok_r(NULL, "\n", &save))
		tui_text(y++, 2, COLS - 4, ln);
	free(copy);
}

static void
conv_draw(struct tui *t, int top, int rows)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(t->status,
	    "settings");

	attrset(A_BOLD);
	tui_text(top + 1, 2, COLS - 4, _("No LLM conversations yet."));
	attrset(A_NORMAL);
	paragraph(t, top + 3, _("Conversations are assembled from HTTPS "
	    "traffic to LLM APIs\n(Anthropic, OpenAI, Gemini) that greyproxy "
	    "intercepts, which needs\nTLS interception (MITM) and its CA "
	    "trusted by the client.\n\nThis build does not intercept TLS yet; "
	    "the view fills once it does."));
	tui_text(top + 10, 2, COLS - 4, cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(s, "mitmEnabled")) ?
	    _("Setting mitmEnabled: on") : _("Setting mitmEnabled: off "
	    "(6 Settings to change it)"));
}

static void
creds_draw(struct tui *t, int top, int rows)
{
	attrset(A_BOLD);
	tui_text(top + 1, 2, COLS - 4, _("No credential sessions."));
	attrset(A_NORMAL);
	paragraph(t, top + 3, _("greywall registers a session for each "
	    "sandbox it starts, with\nplaceholders that greyproxy swaps for "
	    "the real secrets on the way out.\nSessions and global "
	    "credentials are listed here by label, never by value.\n\n"
	    "This build has no credential store yet."));
}

/* --- 6 settings --------------------------------------------------- */

/*
 * The rows of the settings view: labels and steps are the interface's;
 * types, limits, choices and defaults come from the core's table
 * (GET /api/settings/schema), so both check the same limits.
 */
static const struct {
	const char	*key;
	const char	*label;		/* N_() */
	int		 step;		/* numbers */
} setting_rows[] = {
	{ "defaultAction", N_("When no rule matches"), 0 },
	{ "pendingTimeout", N_("Seconds a request waits"), 5 },
	{ "decisionScope", N_("Scope of a and d"), 0 },
	{ "decisionDuration", N_("Duration of a and d"), 0 },
	{ "mode", N_("Mode (limited: GET/HEAD/OPTIONS only)"), 0 },
	{ "privateNetworkProtection", N_("Local-network protection"), 0 },
	{ "pendingBell", N_("Bell on a new pending request"), 0 },
	{ "dnsPolicy", N_("DNS: refuse names a deny rule covers"), 0 },
	{ "dnsTtlMin", N_("DNS: shortest cache time (s)"), 30 },
	{ "dnsTtlMax", N_("DNS: longest cache time (s)"), 3600 },
	{ "pendingMaxEntries", N_("Pending: most destinations listed"), 1000 },
	{ "pendingMaxWaiters", N_("Pending: most connections held"), 256 },
	{ "pendingRetention", N_("Pending: keep unwatched entries (s)"), 86400 },
	{ "logBudgetPerMinute", N_("Log: rows per source a minute"), 100000 },
};

/* The schema entry of a setting, or NULL before it has arrived. */
static const cJSON *
schema_of(struct tui *t, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(t->schema, key);
}

void
views_settings_rebuild(struct tui *t)
{
	cJSON	*arr = cJSON_CreateArray(), *o;
	size_t	 i;

	for (i = 0; i < GP_ARRAY_LEN(setting_rows); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		    t->settings_obj, setting_rows[i].key);
		char val[64];

		if (cJSON_IsBool(v))
			snprintf(val, sizeof val, "%s", cJSON_IsTrue(v) ?
			    _("on") : _("off"));
		else if (cJSON_IsNumber(v))
			snprintf(val, sizeof val, "%d", v->valueint);
		else
			snprintf(val, sizeof val, "%s", cJSON_IsString(v) ?
			    v->valuestring : "?");
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", (double)(i + 1));
		cJSON_AddStringToObject(o, "key", setting_rows[i].key);
		cJSON_AddStringToObject(o, "value", val);
		cJSON_AddItemToArray(arr, o);
	}
	tm_list_set(&t->settings, arr);
	cJSON_Delete(arr);
}

static void
setting_row(struct tui *t, const cJSON *s, int y, int sel)
{
	char	line[256];
	size_t	i = (size_t)tm_id(s) - 1;

	snprintf(line, sizeof line, " %-44s %-10s %s",
	    _(setting_rows[i].label), tm_str(s, "value"),
	    setting_rows[i].key);
	tui_text(y, 0, COLS, line);
}

static void
settings_draw(struct tui *t, int top, int rows)
{
	const cJSON	*dns = cJSON_GetObjectItemCaseSensitive(t->status,
	    "dns");
	char		 line[256];
	int		 y = top + (int)GP_ARRAY_LEN(setting_rows) + 2;

	draw_list(t, &t->settings, top, rows - 3,
	    _(" SETTING                                      VALUE      KEY"),
	    setting_row, _("Loading settings…"));

	attrset(tui_attr(t, CP_DIM, A_DIM));
	tui_text(y, 1, COLS - 2, _("Space changes a setting, + and - adjust "
	    "numbers; changes apply at once and persist."));
	attrset(A_NORMAL);
	snprintf(line, sizeof line, _("DNS cache: %.0f answers, %.0f "
	    "addresses, hit rate %.0f%% (%.0f hits, %.0f misses)"),
	    tm_num(dns, "entries"), tm_num(dns, "hosts"),
	    100 * tm_num(dns, "hit_rate"), tm_num(dns, "hits"),
	    tm_num(dns, "misses"));
	tui_text(y + 1, 1, COLS - 2, line);
}

/* Sends a new value for setting row i. */
static void
setting_put(struct tui *t, size_t i, cJSON *value)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddItemToObject(b, setting_rows[i].key, value);
	api_send(t, "PUT", "/api/settings", b, _("%s changed"),
	    setting_rows[i].key);
}

/* + and - step a number within its limits: - never raises it. */
static void
setting_step(struct tui *t, size_t i, int up)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(t->settings_obj,
	    setting_rows[i].key), *sc = schema_of(t, setting_rows[i].key);
	double		 lo = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(sc,
	    "min")) ? tm_num(sc, "min") : 0;
	double		 hi = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(sc,
	    "max")) ? tm_num(sc, "max") : 1e9;
	double		 n = v->valuedouble + (up ? 1 : -1) *
	    setting_rows[i].step;

	if (n < lo)
		n = lo;
	if (n > hi)
		n = hi;
	if (n == v->valuedouble) {
		tui_message(t, 1, up ? _("%s is at its maximum (%.0f)") :
		    _("%s is at its minimum (%.0f)"), setting_rows[i].key, n);
		return;
	}
	setting_put(t, i, cJSON_CreateNumber(n));
}

static void
settings_key(struct tui *t, int a)
{
	const cJSON	*s = tm_list_selected(&t->settings);
	const cJSON	*v, *sc;
	size_t		 i, k, n;
	char		*text, limits[256] = "", cur[64];

	if (s == NULL)
		return;
	i = (size_t)tm_id(s) - 1;
	v = cJSON_GetObjectItemCaseSensitive(t->settings_obj,
	    setting_rows[i].key);
	sc = schema_of(t, setting_rows[i].key);
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
		} else
			snprintf(limits, sizeof limits, "%s", _("on or off"));
		char *def = d != NULL ? cJSON_PrintUnformatted(d) : NULL;

		snprintf(cur, sizeof cur, "%s", tm_str(s, "value"));
		gp_xasprintf(&text, _("Setting:  %s\nKey:      %s\nValue:    "
		    "%s\nDefault:  %s\nAllowed:  %s\n\nSpace changes it, + "
		    "and - step a number, = types one; changes apply at once "
		    "and persist."), _(setting_rows[i].label),
		    setting_rows[i].key, cur, def ? def : "?", limits);
		free(def);
		tui_open_detail(t, text);
		return;
	}
	case GP_A_SET_VALUE:
		if (!cJSON_IsNumber(v)) {
			tui_message(t, 1, "%s", _("only numbers are typed; Space "
			    "changes this one"));
			return;
		}
		snprintf(cur, sizeof cur, "%d", v->valueint);
		t->target_id = (int64_t)i;
		tui_open_prompt(t, P_SETTING_VALUE, _("New value:"), cur);
		return;
	case GP_A_INCREASE:
	case GP_A_DECREASE:
		if (cJSON_IsNumber(v))
			setting_step(t, i, a == GP_A_INCREASE);
		return;
	case GP_A_TOGGLE:
		break;
	default:
		return;
	}
	if (cJSON_IsBool(v)) {
		setting_put(t, i, cJSON_CreateBool(!cJSON_IsTrue(v)));
	} else if (cJSON_IsNumber(v)) {
		setting_step(t, i, 1);
	} else if (cJSON_IsString(v) && (sc = cJSON_GetObjectItemCaseSensitive(
	    sc, "choices")) != NULL && (n = (size_t)cJSON_GetArraySize(sc)) >
	    0) {
		for (k = 0; k < n; k++)
			if (strcmp(cJSON_GetArrayItem(sc, (int)k)->valuestring,
			    v->valuestring) == 0)
				break;
		k = k + 1 >= n ? 0 : k + 1;
		setting_put(t, i, cJSON_CreateString(
		    cJSON_GetArrayItem(sc, (int)k)->valuestring));
	}
}

/* --- prompts and confirmations ------------------------------------ */

void
views_prompt_done(struct tui *t, const char *text)
{
	struct tm_list	*l;

	if (t->purpose == P_FILTER) {
		l = tui_views[t->view].list ? tui_views[t->view].list(t) : NULL;
		if (l != NULL)
			tm_list_set_filter(l, text);
		return;
	}
	if (t->purpose == P_SETTING_VALUE) {
		char	*end;
		long	 n = strtol(text, &end, 10);

		if (*text == '\0' || *end != '\0') {
			tui_message(t, 1, _("'%s' is not a whole number"), text);
			return;
		}
		/* The core checks the limits and names them if refused. */
		setting_put(t, (size_t)t->target_id, cJSON_CreateNumber(n));
		return;
	}
	if (t->purpose == P_RULE_NEW || t->purpose == P_RULE_EDIT)
		send_rule(t, t->purpose, text, 0);
}

void
views_confirm_done(struct tui *t, int yes)
{
	char	path[64];

	if (t->purpose == P_RULE_ALL) {
		/* Yes stores it; no brings the text back for correction. */
		if (yes)
			send_rule(t, t->pending_rule_purpose, t->pending_rule, 1);
		else
			reprompt(t, t->pending_rule_purpose, t->pending_rule,
			    NULL);
		return;
	}
	if (!yes)
		return;
	if (t->purpose == P_RULE_DELETE) {
		snprintf(path, sizeof path, "/api/rules/%lld",
		    (long long)t->target_id);
		api_send(t, "DELETE", path, NULL, _("rule %s deleted"), path + 11);
	} else if (t->purpose == P_QUIT) {
		t->quit = 1;
		if (t->on_quit != NULL)
			t->on_quit(t);
	} else if (t->purpose == P_CLEAR_SEEN) {
		api_send(t, "POST", "/api/pending/clear", NULL,
		    _("entries nobody waits for were removed%s"), "");
		tui_fetch(t, W_PENDING);
	}
}

const struct view_ops tui_views[V__COUNT] = {
	{ N_("Pending"), C_PENDING, l_pending, pending_draw, pending_key },
	{ N_("Rules"), C_RULES, l_rules, rules_draw, rules_key },
	{ N_("Activity"), C_ACTIVITY, l_activity, activity_draw, activity_key },
	{ N_("Convers."), C_CONV, NULL, conv_draw, NULL },
	{ N_("Creds"), C_CREDS, NULL, creds_draw, NULL },
	{ N_("Settings"), C_SETTINGS, l_settings, settings_draw, settings_key },
};
