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
	char			 line[1024], when[16], dest[300], who[160];
	char			 reason[300];
	const char		*ts = e->timestamp;
	const char		*why = e->reason;
	int			 ok = e->allowed, attack, room;

	snprintf(when, sizeof when, "%.8s", strlen(ts) >= 19 ? ts + 11 : ts);
	{
		char host[300];

		snprintf(host, sizeof host, "%s:%u", e->host, e->port);
		tm_fit_right_end(host, (size_t)t->act_dest_w, dest,
		    sizeof dest);
	}
	/* A client trying to reach greyproxy itself is an attack: say so. */
	attack = strcmp(e->reason, "attack-greyproxy-itself") == 0;
	/* RESULT says blocked, so "blocked-by-denylist" is shown
	 * "denylist" (whole in Details). */
	if (strncmp(why, "blocked-by-", 11) == 0)
		why += 11;
	/* What the columns before it leave (a cut reason ends in "…"). */
	room = COLS - (8 + 1 + 7 + 1 + 6 + 1 + 16 + 1 + t->act_dest_w + 1);
	snprintf(line, sizeof line, "%s %-7s %-6s %s %s %s",
	    when, ok ? _("allowed") : attack ? _("ATTACK") : _("blocked"),
	    e->method, tui_cell_mid(who, sizeof who, e->container, 16), dest,
	    tui_cell_end(reason, sizeof reason, ok ? "" : attack ?
	    _("tried to reach greyproxy itself") : why, room));
	if (ok)
		attrset(tui_attr(t, CP_ALLOW, A_NORMAL));
	else
		attrset(tui_attr(t, CP_BLOCK, attack ? A_BOLD | A_REVERSE :
		    A_BOLD));
	tui_text(y, 0, COLS, line);
	attrset(A_NORMAL);
}

/*
 * DESTINATION is as wide as the widest one on screen, from 16 to 30
 * columns (beyond, its right end is kept), so that at 80 columns the
 * reason gets what the destinations leave: 8 columns at the least.
 */
static int
dest_width(struct tm_list *l, int rows)
{
	size_t	i;
	int	w = 16, n;

	tm_list_scroll(l, (size_t)rows);
	for (i = l->top; i < l->nvis && i < l->top + (size_t)rows; i++) {
		const struct tm_log *e = tm_list_item(l, i);

		n = snprintf(NULL, 0, "%s:%u", e->host, e->port);
		if (n > w)
			w = n < 30 ? n : 30;
	}
	return w;
}

static void
activity_draw(struct tui *t, int top, int rows)
{
	char	head[256];

	t->act_dest_w = dest_width(&t->activity, rows - 1);
	snprintf(head, sizeof head, "%s%-*s %s", _("TIME     RESULT  PROTO  "
	    "SOURCE           "), t->act_dest_w, _("DESTINATION"),
	    _("REASON"));
	view_draw_list(t, &t->activity, top, rows, head, log_row,
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

/* A log row's details; caller frees. */
static char *
log_detail_text(const struct tm_log *e)
{
	char	*d;

	char	 io[128];

	if (e->open)
		snprintf(io, sizeof io, "%s", _("open: its bytes and duration "
		    "come when it closes"));
	else
		snprintf(io, sizeof io, _("%.0f up, %.0f down in %.0f ms"),
		    e->bytes_up, e->bytes_down, e->ms);
	gp_xasprintf(&d, _("Time:         %s\nResult:       %s %s\n"
	    "Protocol:     %s\nRequest:      %s\nSource:       %s (%s)\n"
	    "Destination:  %s:%.0f\nResolved IP:  %s\n"
	    "Rule:         %s\nBytes:        %s"), e->timestamp, e->result,
	    e->reason, e->method, e->request, e->container, e->client,
	    e->host, (double)e->port, e->resolved_ip[0] ?
	    e->resolved_ip : "-", e->rule_summary[0] ?
	    e->rule_summary : "-", io);
	return d;
}

static void
activity_key(struct tui *t, int a)
{
	const struct tm_log	*e = tm_list_selected_item(&t->activity);

	if (a == GP_A_PAUSE) {
		t->paused = !t->paused;
		if (!t->paused && t->missed > 0) {
			t->missed = 0;
			tui_fetch(t, W_LOGS);
		}
	} else if (a == GP_A_DETAILS && e != NULL) {
		int64_t id = e->id;

		tui_open_detail(t, log_detail_text(e));
		/* Live: a tunnel's row gets its bytes when it closes. */
		t->detail_id = id;
		t->detail_fn = view_activity_detail;
	}
}

char *
view_activity_detail(struct tui *t)
{
	const struct tm_log *e = tm_list_find(&t->activity, t->detail_id);

	if (e != NULL)
		return log_detail_text(e);
	return gp_xstrdup(_("This line has left the list (the newest are "
	    "kept).\n\nEsc closes."));
}

const struct view_ops view_activity = {
	N_("Activity"), C_ACTIVITY, l_activity, NULL, activity_draw,
	activity_key, NULL,
};
