/*
 * view-pending.c: destinations waiting for a decision: the list (those
 * waiting first, newest on top, hosts by their right end), marks, the
 * one-key decisions and the one decision dialog, live details.
 */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tui/tui-int.h"

static void	decide_title(struct tui *, char *, size_t);
static void	decide_footer(struct tui *, char *, size_t);
static const char *decide_item(struct tui *, size_t, char *, size_t);
static const char *decide_note(struct tui *, size_t, char *, size_t);
static void	decide_done(struct tui *, size_t);

static const struct tui_menu decide_menu = {
	5, decide_item, decide_note, decide_title, decide_footer, 1,
	decide_done,
};

static struct tm_list *
l_pending(struct tui *t)
{
	return &t->pending;
}

static void
clear_seen_confirmed(struct tui *t, int yes)
{
	if (!yes)
		return;
	view_api_send(t, "POST", "/api/pending/clear", NULL,
	    _("entries nobody waits for were removed%s"), "");
	tui_fetch(t, W_PENDING);
}

static void
pending_row(struct tui *t, const cJSON *json, const void *item, int y,
    int sel)
{
	const struct tm_pending	*p = item;
	char			 host[300], dest[320], age[16], when[24];
	char			 line[800], who[200];
	int64_t			 now = gp_now();
	int			 fresh = now - p->last_seen < 5;
	int			 wide = COLS >= 100;
	int			 waiting = p->waiting > 0;

	snprintf(host, sizeof host, "%s:%u", p->hostname[0] ? p->hostname :
	    p->host, p->port);
	/* The right end (domain and port) always shows. */
	tm_fit_right_end(host, wide ? 44 : 34, dest, sizeof dest);
	/* Waiting now: how long; else when it was last seen. */
	tm_age(now - (waiting ? p->first_seen : p->last_seen), age,
	    sizeof age);
	if (waiting)
		snprintf(when, sizeof when, "%s", age);
	else
		snprintf(when, sizeof when, _("%s ago"), age);
	snprintf(line, sizeof line, wide ? "%s %s %5d %6d %8s" :
	    "%s %s %4d %5d %8s", dest, tui_cell_mid(who, sizeof who, p->container,
	    wide ? 24 : 16), p->waiting, p->attempts, when);
	if (fresh)
		attrset(tui_attr(t, CP_NEW, A_BOLD) | A_BOLD);
	else if (!waiting)
		attrset(tui_attr(t, CP_DIM, A_DIM));
	else
		attrset(A_NORMAL);
	tui_text(y, 1, COLS - 6, line);
	attrset(tui_attr(t, CP_NEW, A_BOLD) | A_BOLD);
	tui_text(y, 0, 1, tm_list_marked(&t->pending, p->id) ? "*" : " ");
	if (p->local) {
		attrset(tui_attr(t, CP_LOCAL, A_BOLD) | A_BOLD);
		tui_text(y, COLS - 5, 4, "LAN");
	}
	attrset(A_NORMAL);
}

static void
pending_draw(struct tui *t, int top, int rows)
{
	size_t	above = tui_pending_new_above(t);

	view_draw_list(t, &t->pending, top, rows, COLS >= 100 ?
	    _(" DESTINATION                                  SOURCE       "
	    "            WAIT   HITS      AGE") :
	    _(" DESTINATION                        SOURCE           WAIT  "
	    "HITS      AGE"), pending_row,
	    _("No destination is waiting for a decision."));
	if (t->pending.nmarks > 0 || above > 0) {
		char m[96] = "";

		if (above > 0)
			snprintf(m, sizeof m, _(" ^ %zu new above "), above);
		if (t->pending.nmarks > 0)
			snprintf(m + strlen(m), sizeof m - strlen(m),
			    _(" %zu marked "), t->pending.nmarks);
		int x = COLS - (int)strlen(m) - 1;

		/* Over whole column names: "HIT ^ 3 new above" read as a
		 * heading of its own. */
		while (x > 0 && (mvinch(top, x - 1) & A_CHARTEXT) != ' ')
			x--;
		attrset(A_BOLD | A_UNDERLINE);
		tui_text(top, x, COLS - x, "");
		attrset(tui_attr(t, CP_NEW, A_REVERSE) | A_BOLD);
		tui_text(top, COLS - (int)strlen(m) - 1, (int)strlen(m), m);
		attrset(A_NORMAL);
	}
}

/* Allows or denies pending entry id with a scope and duration. */
static void
decide_id(struct tui *t, int64_t id, const char *verb, const char *scope,
    const char *duration, struct view_batch *batch)
{
	const struct tm_pending	*p = tm_list_find(&t->pending, id);
	char			 path[96], what[300];
	cJSON			*b;

	if (p == NULL && batch == NULL) {
		tui_message(t, 1, "%s", _("that request is no longer pending"));
		return;
	}
	snprintf(path, sizeof path, "/api/pending/%lld/%s", (long long)id,
	    verb);
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "scope", scope);
	cJSON_AddStringToObject(b, "duration", duration);
	if (batch != NULL) {	/* the API says if it is gone */
		view_api_send_batch(t, "POST", path, b, batch);
		return;
	}
	snprintf(what, sizeof what, "%s:%u", p->host, p->port);
	view_api_send(t, "POST", path, b, strcmp(verb, "allow") == 0 ?
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
	const struct tm_pending	*p = tm_list_selected_item(&t->pending);
	int64_t			*ids, id;
	size_t			 n, i;

	if (t->pending.nmarks > 0) {
		struct view_batch *batch;

		n = t->pending.nmarks;
		ids = gp_xcalloc(n, sizeof *ids);
		memcpy(ids, t->pending.marks, n * sizeof *ids);
		tm_list_unmark_all(&t->pending);
		/* One message when all are answered, not one per entry. */
		batch = view_batch_new(n, strcmp(verb, "allow") == 0 ?
		    _("allowed %zu marked destinations") :
		    _("denied %zu marked destinations"));
		tui_message(t, 0, strcmp(verb, "allow") == 0 ?
		    _("allowing %zu marked destinations") :
		    _("denying %zu marked destinations"), n);
		for (i = 0; i < n; i++) {
			decide_id(t, ids[i], verb, scope, duration, batch);
			tm_list_remove(&t->pending, ids[i]);
		}
		free(ids);
		return;
	}
	if (p == NULL) {
		tui_message(t, 1, "%s", _("nothing selected"));
		return;
	}
	id = p->id;	/* (removing frees p) */
	decide_id(t, id, verb, scope, duration, NULL);
	tm_list_remove(&t->pending, id);
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

	tui_open_menu(t, &decide_menu);
	for (i = 0; i < tm_nscope_choices; i++)
		if (strcmp(tm_scope_choices[i].scope, scope) == 0)
			t->menu_sel = i;
	t->dur_sel = 0;
	for (i = 0; i < tm_nduration_choices; i++)
		if (strcmp(tm_duration_choices[i].duration, dur) == 0)
			t->dur_sel = i;
}

static void
decide_title(struct tui *t, char *buf, size_t n)
{
	const struct tm_pending	*p = tm_list_find(&t->pending, t->target_id);
	const char		*verb = t->action == GP_A_ALLOW ? _("Allow") :
	    _("Deny");
	char		 host[300], fit[320];
	int		 room;

	if (t->decide_marked) {
		snprintf(buf, n, _("%s %zu marked destinations"), verb,
		    t->pending.nmarks);
		return;
	}
	snprintf(host, sizeof host, "%s:%u", p ? p->host : "?", p ? p->port :
	    0);
	room = (COLS < 74 ? COLS - 2 : 72) - 4 - (int)strlen(verb);
	tm_fit_right_end(host, room > 12 ? (size_t)room : 12, fit, sizeof fit);
	snprintf(buf, n, "%s %s", verb, fit);
}

static void
decide_footer(struct tui *t, char *buf, size_t n)
{
	const struct tm_pending	*p = tm_list_find(&t->pending, t->target_id);
	const cJSON		*to = cJSON_GetObjectItemCaseSensitive(
	    t->settings_obj, "pendingTimeout");
	int64_t			 left;

	if (p == NULL || p->waiting <= 0 || !cJSON_IsNumber(to)) {
		snprintf(buf, n, "%s", _("No connection waits now. "
		    "Left/Right: duration; Enter decides."));
		return;
	}
	left = (int64_t)to->valuedouble - (gp_now() - p->last_seen);
	snprintf(buf, n, _("The agent waits %llds more. Left/Right: "
	    "duration; Enter decides."),
	    (long long)(left > 0 ? left : 0));
}

/* The details of a pending entry; caller frees. */
static char *
pending_detail_text(struct tui *t, const struct tm_pending *p)
{
	char	*text;

	gp_xasprintf(&text, _("Destination:  %s:%.0f\n"
	    "Request:      %s\nProtocol:     %s\n"
	    "Addresses:    %s\nHost name:    %s\nSource:       %s\n"
	    "Local network: %s\nWaiting now:  %.0f connections\n"
	    "Attempts:     %.0f\nFirst seen:   %s\nLast seen:    %s\n"
	    "\nKeys: a allow, d deny, A/D choose scope, x dismiss."),
	    p->host, (double)p->port, p->request[0] ? p->request : "-",
	    p->protocol[0] ? p->protocol : "-",
	    p->addresses[0] ? p->addresses : _("looked up once allowed"),
	    p->hostname[0] ? p->hostname : "-", p->container,
	    p->local ? _("yes") : _("no"), (double)p->waiting,
	    (double)p->attempts, p->first_seen_s, p->last_seen_s);
	return text;
}

static void
pending_key(struct tui *t, int a)
{
	const struct tm_pending	*p = tm_list_selected_item(&t->pending);
	char			 path[64], host[256];
	int64_t			 id;

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
		t->target_id = p != NULL ? p->id : t->pending.marks[0];
		t->decide_marked = t->pending.nmarks > 0;
		open_decide(t);
		break;
	case GP_A_DISMISS:
		if (p == NULL)
			break;
		id = p->id;
		snprintf(host, sizeof host, "%s", p->host);
		snprintf(path, sizeof path, "/api/pending/%lld", (long long)id);
		view_api_send(t, "DELETE", path, NULL, _("dismissed %s"),
		    host);
		tm_list_remove(&t->pending, id);
		break;
	case GP_A_MARK:
		if (p == NULL)
			break;
		tm_list_mark(&t->pending, p->id);
		tm_list_move(&t->pending, 1);
		break;
	case GP_A_MARK_ALL: {
		/* Every entry the filter shows, so a / then * then a
		 * decides all that match; a second * unmarks them all. */
		size_t i;

		if (t->pending.nmarks > 0) {
			tm_list_unmark_all(&t->pending);
			break;
		}
		for (i = 0; i < t->pending.nvis; i++)
			tm_list_mark(&t->pending, ((const struct tm_pending *)
			    tm_list_item(&t->pending, i))->id);
		break;
	}
	case GP_A_CLEAR_SEEN:
		tui_open_confirm(t, _("Remove every entry no connection "
		    "waits for? (y/n)"), clear_seen_confirmed);
		break;
	case GP_A_DETAILS:
		if (p == NULL)
			break;
		id = p->id;
		tui_open_detail(t, pending_detail_text(t, p));
		t->detail_id = id;	/* kept current, keys work */
		t->detail_fn = view_pending_detail;
		break;
	}
}

char *
view_pending_detail(struct tui *t)
{
	const struct tm_pending *p = tm_list_find(&t->pending, t->detail_id);

	if (p != NULL)
		return pending_detail_text(t, p);
	return gp_xstrdup(_("This entry has left the queue (decided, "
	    "dismissed or expired).\n\nEsc closes."));
}

static const char *
decide_item(struct tui *t, size_t i, char *buf, size_t n)
{
	snprintf(buf, n, " %zu  %s", i + 1, _(tm_scope_choices[i].label));
	return buf;
}

static const char *
decide_note(struct tui *t, size_t i, char *buf, size_t n)
{
	const struct tm_pending	*p = tm_list_find(&t->pending, t->target_id);
	char			 preview[300];

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

static void
decide_done(struct tui *t, size_t c)
{
	const char *verb = t->action == GP_A_ALLOW ? "allow" : "deny";
	const char *scope = tm_scope_choices[c].scope;
	const char *dur = tm_duration_choices[t->dur_sel].duration;

	if (t->decide_marked) {
		decide(t, verb, scope, dur);	/* every marked one */
	} else {
		decide_id(t, t->target_id, verb, scope, dur, NULL);
		tm_list_remove(&t->pending, t->target_id);
	}
}

const struct view_ops view_pending = {
	N_("Pending"), C_PENDING, l_pending, NULL, pending_draw, pending_key,
	NULL,
};
