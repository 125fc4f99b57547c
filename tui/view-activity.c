/* view-activity.c: the connection log, live, with a pause. */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tui/tui-int.h"

static struct tm_list *
l_activity(struct tui *t)
{
	return &t->activity;
}

static void
log_row(struct tui *t, const cJSON *json, const void *item, int y, int sel)
{
	const struct tm_log	*e = item;
	char			 line[512], when[16], dest[300], who[160];
	const char		*ts = e->timestamp;
	const char		*why = e->reason;
	int			 ok = e->allowed, attack;

	snprintf(when, sizeof when, "%.8s", strlen(ts) >= 19 ? ts + 11 : ts);
	{
		char host[300];

		snprintf(host, sizeof host, "%s:%u", e->host, e->port);
		tm_fit_right_end(host, 30, dest, sizeof dest);
	}
	/* A client trying to reach greyproxy itself is an attack: say so. */
	attack = strcmp(e->reason, "attack-greyproxy-itself") == 0;
	/* RESULT says blocked: at 80 columns the reason has 8 left, so
	 * "blocked-by-denylist" is shown "denylist" (whole in Details). */
	if (strncmp(why, "blocked-by-", 11) == 0)
		why += 11;
	snprintf(line, sizeof line, "%s %-7s %-6s %s %s %s",
	    when, ok ? _("allowed") : attack ? _("ATTACK") : _("blocked"),
	    e->method, tui_cell_mid(who, sizeof who, e->container, 16), dest, ok ? "" : attack ?
	    _("tried to reach greyproxy itself") : why);
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
	view_draw_list(t, &t->activity, top, rows,
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
	const struct tm_log	*e = tm_list_selected_item(&t->activity);
	char			*d;

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
		    "Duration:     %.0f ms"), e->timestamp, e->result,
		    e->reason, e->method, e->request, e->container, e->client,
		    e->host, (double)e->port, e->resolved_ip[0] ?
		    e->resolved_ip : "-", e->rule_summary[0] ?
		    e->rule_summary : "-", e->bytes_up, e->bytes_down, e->ms);
		tui_open_detail(t, d);
	}
}

const struct view_ops view_activity = {
	N_("Activity"), C_ACTIVITY, l_activity, NULL, activity_draw,
	activity_key, NULL,
};
