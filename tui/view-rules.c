/*
 * view-rules.c: the rules: list, a prompt that never changes a rule's
 * meaning silently, edit, delete (asked first).
 */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tui/tui-int.h"

static void	rule_new_done(struct tui *, const char *);
static void	rule_edit_done(struct tui *, const char *);
static void	rule_all_confirmed(struct tui *, int);
static void	rule_delete_confirmed(struct tui *, int);

static struct tm_list *
l_rules(struct tui *t)
{
	return &t->rules;
}

/* The ID column: base wide, wider once ids grow past it (an ingest of
 * 100 000 rules), so that the columns after it stay under their
 * headings.  The list is newest first: the first id is the largest. */
static int
id_width(const struct tui *t, int base)
{
	int	w = t->rules.n > 0 ? snprintf(NULL, 0, "%lld",
	    (long long)t->rules.ids[0]) : 0;

	return w > base ? w : base;
}

static void
rule_row(struct tui *t, const cJSON *json, const void *item, int y, int sel)
{
	const struct tm_rule	*r = item;
	char			 line[800], exp[32], dest[320], ports[100];
	char			 who[200];
	int			 wide = COLS >= 100;
	int64_t			 e = r->expires_at;
	int			 deny = r->deny;

	if (e == 0)
		snprintf(exp, sizeof exp, "%s", _("never"));
	else if (e <= gp_now())
		snprintf(exp, sizeof exp, "%s", _("expired"));
	else
		tm_age(e - gp_now(), exp, sizeof exp);
	tm_fit_right_end(r->dest, COLS >= 100 ? 32 : 24, dest, sizeof dest);
	snprintf(line, sizeof line, wide ? "%*lld %-5s %s %s %s %6.0f %s" :
	    "%*lld %-5s %s %s %s %5.0f %s", id_width(t, wide ? 5 : 4),
	    (long long)r->id, deny ? _("deny") : _("allow"), dest,
	    tui_cell(ports, sizeof ports, r->ports, wide ? 11 : 9),
	    tui_cell_mid(who, sizeof who, r->container, wide ? 20 : 14), r->hits,
	    exp);
	attrset(deny ? tui_attr(t, CP_BLOCK, A_BOLD) : tui_attr(t, CP_ALLOW,
	    A_NORMAL));
	tui_text(y, 0, COLS, line);
	attrset(A_NORMAL);
}

static void
rules_draw(struct tui *t, int top, int rows)
{
	int	wide = COLS >= 100, base = wide ? 5 : 4;
	char	head[300];

	snprintf(head, sizeof head, "%*s%s", id_width(t, base) - base, "",
	    wide ? _("   ID ACTN  DESTINATION                      PORTS       "
	    "SOURCE                 HITS EXPIRES") :
	    _("  ID ACTN  DESTINATION              PORTS     SOURCE          "
	    "HITS EXPIRES"));
	view_draw_list(t, &t->rules, top, rows, head, rule_row,
	    _("No rules yet: n adds one, and decisions on pending requests "
	    "add them too."));
	/* More rules than the list holds: said, with the way to the rest. */
	if (t->rules.filter[0] == '\0' && t->rules.total > (double)t->rules.n) {
		char m[128];

		snprintf(m, sizeof m, _(" newest %zu of %.0f: / searches all "),
		    t->rules.n, t->rules.total);
		attrset(tui_attr(t, CP_NEW, A_BOLD));
		tui_text(top, COLS - (int)strlen(m) - 1, (int)strlen(m), m);
		attrset(A_NORMAL);
	}
}

/* The prompt again, with what was typed and why, after an error. */
static void
reprompt(struct tui *t, int edit, const char *text, const char *why)
{
	tui_open_prompt(t, edit ? _("Edit rule:") : _("New rule "
	    "(allow|deny HOST [PORTS] [SOURCE]):"), text, edit ?
	    rule_edit_done : rule_new_done, NULL);
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
parse_rule(struct tui *t, int edit, const char *text, int confirmed)
{
	char	 buf[512], *save, *w[6];
	int	 n = 0;
	cJSON	*b;

	if (strlen(text) >= sizeof buf) {
		char why[128];

		snprintf(why, sizeof why, _("rule too long (%zu characters, "
		    "at most %zu)"), strlen(text), sizeof buf - 1);
		reprompt(t, edit, text, why);
		return NULL;
	}
	snprintf(buf, sizeof buf, "%s", text);
	for (w[n] = strtok_r(buf, " \t", &save); w[n] != NULL && n < 5;
	    w[++n] = strtok_r(NULL, " \t", &save))
		;
	if (n < 2 || n > 4 || (strcmp(w[0], "allow") && strcmp(w[0], "deny"))) {
		reprompt(t, edit, text, n > 4 ? _("too many words: "
		    "expected allow|deny HOST [PORTS] [SOURCE]") :
		    _("expected: allow|deny HOST [PORTS] [SOURCE]"));
		return NULL;
	}
	if (!confirmed && strcmp(w[0], "allow") == 0 &&
	    strspn(w[1], "*.") == strlen(w[1])) {
		/* "*", "**", "*.*": every destination. Ask, keep the text. */
		char q[200];

		snprintf(t->pending_rule, sizeof t->pending_rule, "%s", text);
		t->pending_rule_edit = edit;
		snprintf(q, sizeof q, _("'%s' allows every destination for "
		    "%s. Store it? (y/n)"), w[1], n > 3 ? w[3] : _("every "
		    "source"));
		tui_open_confirm(t, q, rule_all_confirmed);
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
send_rule(struct tui *t, int edit, const char *text, int confirmed)
{
	char	 path[64];
	cJSON	*b;

	if ((b = parse_rule(t, edit, text, confirmed)) == NULL)
		return;
	if (edit) {
		snprintf(path, sizeof path, "/api/rules/%lld",
		    (long long)t->target_id);
		view_api_send(t, "PUT", path, b, _("rule %s updated"), path + 11);
	} else
		view_api_send(t, "POST", "/api/rules", b, _("rule added: %s"), text);
}

static void
rules_key(struct tui *t, int a)
{
	const struct tm_rule	*r = tm_list_selected_item(&t->rules);
	char			 init[600], text[400];

	switch (a) {
	case GP_A_RULE_NEW:
		tui_open_prompt(t, _("New rule (allow|deny HOST [PORTS] "
		    "[SOURCE]):"), "allow ", rule_new_done, NULL);
		break;
	case GP_A_RULE_EDIT:
		if (r == NULL)
			break;
		t->target_id = r->id;
		snprintf(init, sizeof init, "%s %s %s %s", r->action, r->dest,
		    r->ports, r->container);
		tui_open_prompt(t, _("Edit rule:"), init, rule_edit_done, NULL);
		break;
	case GP_A_RULE_DELETE:
		if (r == NULL)
			break;
		t->target_id = r->id;
		snprintf(text, sizeof text, _("Delete rule %lld (%s %s)? (y/n)"),
		    (long long)r->id, r->action, r->dest);
		tui_open_confirm(t, text, rule_delete_confirmed);
		break;
	case GP_A_DETAILS: {
		char *d;

		if (r == NULL)
			break;
		gp_xasprintf(&d, _("Rule %lld\nAction:       %s\n"
		    "Destination:  %s\nPorts:        %s\nSource:       %s\n"
		    "Type:         %s\nCreated:      %s by %s\nExpires:      %s\n"
		    "Last used:    %s\nHits:         %.0f\nNotes:        %s"),
		    (long long)r->id, r->action, r->dest, r->ports,
		    r->container, r->rule_type, r->created_at, r->created_by,
		    r->expires_at_s[0] ? r->expires_at_s : _("never"),
		    r->last_used_at[0] ? r->last_used_at : "-", r->hits,
		    r->notes);
		tui_open_detail(t, d);
		break;
	}
	}
}

static void
rule_new_done(struct tui *t, const char *text)
{
	send_rule(t, 0, text, 0);
}

static void
rule_edit_done(struct tui *t, const char *text)
{
	send_rule(t, 1, text, 0);
}

/* A pattern matching every host: yes stores it, no brings the text back
 * for correction. */
static void
rule_all_confirmed(struct tui *t, int yes)
{
	if (yes)
		send_rule(t, t->pending_rule_edit, t->pending_rule, 1);
	else
		reprompt(t, t->pending_rule_edit, t->pending_rule, NULL);
}

static void
rule_delete_confirmed(struct tui *t, int yes)
{
	char	path[64];

	if (!yes)
		return;
	snprintf(path, sizeof path, "/api/rules/%lld", (long long)t->target_id);
	view_api_send(t, "DELETE", path, NULL, _("rule %s deleted"), path + 11);
}

const struct view_ops view_rules = {
	N_("Rules"), C_RULES, l_rules, NULL, rules_draw, rules_key, NULL,
};
