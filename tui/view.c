/*
 * view.c: what the views share: requests whose answer is a message,
 * the list drawing, and the table of views (one file per view:
 * view-pending.c, view-rules.c, view-activity.c, view-traffic.c,
 * view-conv.c, view-creds.c, view-settings.c, each with its own keys and
 * state).
 */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tui/tui-int.h"

/* Requests sent together, reported once, when the last is answered. */
struct view_batch {
	size_t	 n, left, failed;
	char	 ok[200];	/* with the count */
	char	 err[200];	/* the last failure */
};

/* A reply that is only reported: ok text or the API's error. */
struct done_ctx {
	struct tui		*t;
	struct view_batch	*batch;	/* NULL: reported alone */
	char			 ok[200];
};

/* The API's error for a reply that failed. */
static void
failure(char *buf, size_t n, int status, const cJSON *json)
{
	if (status == 0)
		snprintf(buf, n, "%s", _("no answer from greyproxy"));
	else
		snprintf(buf, n, "%s (%d)", *tm_str(json, "error") ?
		    tm_str(json, "error") : _("request failed"), status);
}

/* One reply of a batch; the last one says how the batch went. */
static void
batch_done(struct tui *t, struct view_batch *b, int status,
    const cJSON *json)
{
	if (status < 200 || status >= 300) {
		b->failed++;
		failure(b->err, sizeof b->err, status, json);
	}
	if (--b->left > 0)
		return;
	if (!t->quit && b->failed == 0)
		tui_message(t, 0, "%s", b->ok);
	else if (!t->quit) {
		tui_message(t, 1, _("%zu of %zu failed: %s"), b->failed, b->n,
		    b->err);
		tui_fetch(t, W_ALL);	/* undoes what the views assumed */
	}
	free(b);
}

static void
on_done(void *d, int status, const cJSON *json)
{
	struct done_ctx *c = d;
	char		 err[200];

	if (c->batch != NULL)
		batch_done(c->t, c->batch, status, json);
	else if (c->t->quit)
		;	/* answered as the link closed */
	else if (status >= 200 && status < 300)
		tui_message(c->t, 0, "%s", c->ok);
	else {
		/* A view drops what it decided at once: a refusal brings
		 * back what the server still has. */
		failure(err, sizeof err, status, json);
		tui_message(c->t, 1, "%s", err);
		tui_fetch(c->t, W_ALL);
	}
	free(c);
}

struct view_batch *
view_batch_new(size_t n, const char *okfmt)
{
	struct view_batch *b = gp_xcalloc(1, sizeof *b);

	b->n = b->left = n;
	snprintf(b->ok, sizeof b->ok, okfmt, n);
	return b;
}

/* One request of batch b; the batch is freed with its last answer. */
void
view_api_send_batch(struct tui *t, const char *method, const char *path,
    cJSON *body, struct view_batch *b)
{
	struct done_ctx *c = gp_xcalloc(1, sizeof *c);

	c->t = t;
	c->batch = b;
	gp_link_request(t->link, method, path, body, on_done, c);
	cJSON_Delete(body);
}

void
view_api_send(struct tui *t, const char *method, const char *path, cJSON *body,
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
void
view_draw_list(struct tui *t, struct tm_list *l, int top, int rows,
    const char *header, tm_row_fn row_fn, const char *empty)
{
	size_t	i;
	int	y;

	attrset(A_BOLD | A_UNDERLINE);
	tui_text(top, 0, COLS, header);
	attrset(A_NORMAL);
	rows--;
	if (l->nvis == 0) {
		attrset(tui_attr(t, CP_DIM, A_DIM));
		tui_para(top + 2, 2, COLS - 4, rows - 2, l->filter[0] ?
		    _("Nothing matches the filter (/ to change it).") : empty);
		attrset(A_NORMAL);
		return;
	}
	tm_list_scroll(l, (size_t)rows);
	for (i = l->top, y = top + 1; i < l->nvis && y < top + 1 + rows;
	    i++, y++) {
		int sel = i == l->sel;

		row_fn(t, tm_list_row(l, i), tm_list_item(l, i), y, sel);
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


const struct view_ops *const tui_views[V__COUNT] = {
	&view_pending, &view_rules, &view_activity, &view_traffic, &view_conv,
	&view_creds, &view_settings,
};
