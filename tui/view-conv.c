/*
 * view-conv.c: LLM conversations.  The list (client, model, identity,
 * turns, tokens, last activity; live on conversation.updated; utility
 * requests hidden until u) and a thread view: each turn's prompt and
 * the assistant's steps, thinking and tool calls collapsed to a line
 * until Enter opens them, sub-agents opened from their call (o) and
 * left again (b or Esc), search within the thread (/, n, N), export to
 * Markdown or JSON (E).
 */
#include "config.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "dissect/dissect.h"
#include "tui/tui-int.h"

#define BACK_DEPTH	8

static struct tm_thread	th;		/* the open thread, if th.doc */
static char		back[BACK_DEPTH][64];	/* where b returns to */
static int		nback;
static int		show_utility;
static int		inflight;	/* a thread request is out */
static char		again[64];	/* asked for meanwhile */

static void	open_thread(struct tui *, const char *);

static struct tm_list *
l_conv(struct tui *t)
{
	return th.doc != NULL ? NULL : &t->convs;	/* a thread: its keys */
}

/* A row: HH:MM, client, model, identity (its right end), turns,
 * tokens in/out, then the first prompt in what is left of 80 columns. */
#define ROW_FMT	"%-5s %s %s %s %3s %-9s %s"
#define W_CLIENT	11
#define W_MODEL		16
#define W_SOURCE	10

static void
conv_row(struct tui *t, const cJSON *json, const void *item, int y, int sel)
{
	const struct tm_conv	*c = item;
	char			 line[1024], when[8], in[16], out[16];
	char			 tok[40], turns[8], prompt[300];
	char			 cli[100], model[160], who[300];
	const char		*e = c->ended;

	(void)json;
	(void)sel;
	snprintf(when, sizeof when, "%.5s", strlen(e) >= 16 ? e + 11 : e);
	tm_si(c->tok_in, in, sizeof in);
	tm_si(c->tok_out, out, sizeof out);
	snprintf(tok, sizeof tok, "%s/%s", in, out);
	snprintf(turns, sizeof turns, "%d", c->turns);
	snprintf(prompt, sizeof prompt, "%s%s", c->subagents > 0 ? "+" : "",
	    c->prompt);
	/* A cut name ends in "…"; an identity keeps both ends. */
	snprintf(line, sizeof line, ROW_FMT, when, tui_cell_end(cli,
	    sizeof cli, c->client, W_CLIENT), tui_cell_end(model,
	    sizeof model, c->model, W_MODEL), tui_cell_mid(who, sizeof who,
	    c->container, W_SOURCE), turns, tok, prompt);
	if (c->incomplete || strcmp(c->kind, "utility") == 0)
		attrset(tui_attr(t, CP_DIM, A_DIM));
	tui_text(y, 0, COLS, line);
	attrset(A_NORMAL);
}

static int
line_attr(struct tui *t, int kind)
{
	switch (kind) {
	case TL_HEAD:	return tui_attr(t, CP_TAB, A_BOLD) | A_BOLD;
	case TL_USER:	return tui_attr(t, CP_NEW, A_BOLD) | A_BOLD;
	case TL_THINK:	return tui_attr(t, CP_DIM, A_DIM);
	case TL_TOOL:	return tui_attr(t, CP_LOCAL, A_NORMAL);
	case TL_RESULT:	return tui_attr(t, CP_ALLOW, A_NORMAL);
	case TL_ERROR:	return tui_attr(t, CP_BLOCK, A_BOLD);
	case TL_INFO:	return tui_attr(t, CP_DIM, A_DIM);
	default:	return A_NORMAL;
	}
}

static void
thread_draw(struct tui *t, int top, int rows)
{
	const cJSON	*d = th.doc, *tok;
	char		 head[512], in[16], out[16];
	size_t		 i;
	int		 y;

	if (th.width != COLS - 2)
		tm_thread_layout(&th, COLS - 2);
	tok = cJSON_GetObjectItemCaseSensitive(d, "tokens");
	tm_si(tm_num(tok, "input") + tm_num(tok, "cache_read") +
	    tm_num(tok, "cache_write"), in, sizeof in);
	tm_si(tm_num(tok, "output"), out, sizeof out);
	/* a sub-agent says whose first: the rest may not fit */
	snprintf(head, sizeof head, "%s%s%s%s · %s · %s · %d %s · %s/%s %s",
	    *tm_str(d, "parent_conversation_id") ? _("sub-agent of ") : "",
	    tm_str(d, "parent_conversation_id"),
	    *tm_str(d, "parent_conversation_id") ? " · " : "",
	    tm_str(d, "client_name"), tm_str(d, "model"),
	    tm_str(d, "container_name"), (int)tm_num(d, "turn_count"),
	    P_("turn", "turns", (unsigned long)tm_num(d, "turn_count")), in,
	    out, _("tokens"));
	attrset(A_BOLD | A_UNDERLINE);
	tui_text(top, 0, COLS, head);
	attrset(A_NORMAL);
	rows--;
	if (rows <= 0)
		return;
	if (th.cur < th.top)
		th.top = th.cur;
	if (th.cur >= th.top + (size_t)rows)
		th.top = th.cur - (size_t)rows + 1;
	for (i = th.top, y = top + 1; i < th.n && y < top + 1 + rows;
	    i++, y++) {
		attrset(line_attr(t, th.l[i].kind));
		tui_text(y, 1, COLS - 1, th.l[i].text);
		attrset(A_NORMAL);
		if (i == th.cur)
			mvchgat(y, 0, COLS, t->color ? A_NORMAL : A_REVERSE,
			    t->color ? CP_SEL : 0, NULL);
	}
	if (th.search[0] != '\0') {
		char f[160];

		snprintf(f, sizeof f, " /%s ", th.search);
		attrset(tui_attr(t, CP_NEW, A_BOLD));
		tui_text(top, COLS - (int)strlen(f) - 1, (int)strlen(f), f);
		attrset(A_NORMAL);
	}
}

static void
conv_draw(struct tui *t, int top, int rows)
{
	char hdr[512];

	if (th.doc != NULL) {
		thread_draw(t, top, rows);
		return;
	}
	{
		char c[64], m[64], s[64];

		/* The same cells as the rows (the names were not padded). */
		snprintf(hdr, sizeof hdr, ROW_FMT, _("LAST"), tui_cell(c,
		    sizeof c, _("CLIENT"), W_CLIENT), tui_cell(m, sizeof m,
		    _("MODEL"), W_MODEL), tui_cell(s, sizeof s, _("SOURCE"),
		    W_SOURCE), "#", _("TOKENS"), show_utility ?
		    _("FIRST PROMPT (utility shown)") : _("FIRST PROMPT"));
	}
	view_draw_list(t, &t->convs, top, rows, hdr, conv_row,
	    _("No LLM conversations yet. They are rebuilt from intercepted "
	    "LLM API traffic (4 Traffic; a CA and mitmEnabled needed)."));
}

/* Asks for the list (also on conversation.updated). */
void
view_conv_fetch(struct tui *t)
{
	tui_fetch(t, W_CONV);
}

const char *
view_conv_query(void)
{
	return show_utility ? "/api/conversations?limit=500&utility=1" :
	    "/api/conversations?limit=500";
}

static void
on_detail(void *d, int status, const cJSON *json)
{
	struct tui *t = d;

	if (t->quit)
		return;
	if (status != 200 || json == NULL) {
		inflight = 0;
		again[0] = '\0';
		tui_message(t, 1, "%s (%d)", *tm_str(json, "error") ?
		    tm_str(json, "error") : _("request failed"), status);
		if (nback > 0)
			nback--;
		return;
	}
	inflight = 0;
	if (th.doc != NULL && strcmp(tm_str(th.doc, "id"), tm_str(json, "id")) ==
	    0) {		/* the same thread, updated: stay where you are */
		size_t		 cur = th.cur, top = th.top, n = th.nitems;
		unsigned char	*open = n > 0 ? gp_xmalloc(n) : NULL;
		char		 search[sizeof th.search];

		if (n > 0)
			memcpy(open, th.open, n);
		memcpy(search, th.search, sizeof search);
		tm_thread_free(&th);
		memcpy(th.search, search, sizeof search);
		th.doc = cJSON_Duplicate(json, 1);
		tm_thread_layout(&th, COLS - 2);	/* sizes open[] */
		if (n > th.nitems)
			n = th.nitems;
		if (n > 0) {
			memcpy(th.open, open, n);
			tm_thread_layout(&th, COLS - 2);
		}
		free(open);
		th.cur = cur < th.n ? cur : th.n - 1;
		th.top = top;
	} else
		tm_thread_set(&th, cJSON_Duplicate(json, 1), COLS - 2);
	if (again[0] != '\0') {	/* updated meanwhile: once more */
		char id[64];

		snprintf(id, sizeof id, "%s", again);
		again[0] = '\0';
		open_thread(t, id);
	}
	tui_dirty(t);
}

static void
open_thread(struct tui *t, const char *id)
{
	char path[128];

	if (inflight) {		/* one request at a time; the latest wins */
		snprintf(again, sizeof again, "%s", id);
		return;
	}
	inflight = 1;

	snprintf(path, sizeof path, "/api/conversations/%s", id);
	gp_link_request(t->link, "GET", path, NULL, on_detail, t);
}

void
view_conv_open(struct tui *t, const char *id)
{
	nback = 0;
	tui_switch_view(t, V_CONV);
	open_thread(t, id);
}

/* The open thread again (an update while it is shown). */
void
view_conv_updated(struct tui *t, const char *id)
{
	if (th.doc != NULL && strcmp(tm_str(th.doc, "id"), id) == 0)
		open_thread(t, id);
}

static void
searched(struct tui *t, const char *s)
{
	long i;

	snprintf(th.search, sizeof th.search, "%s", s);
	if (*s == '\0')
		return;
	if ((i = tm_thread_find(&th, s, th.cur, 1)) < 0)
		tui_message(t, 1, _("not found: %s"), s);
	else
		th.cur = (size_t)i;
	tui_dirty(t);
}

static void
exported(struct tui *t, const char *path)
{
	struct gp_buf	 b = { 0 };
	size_t		 n = strlen(path);
	char		*json = NULL;
	int		 fd;

	if (*path == '\0' || th.doc == NULL)
		return;
	if (n > 5 && strcmp(path + n - 5, ".json") == 0) {
		json = cJSON_Print(th.doc);
		gp_buf_addstr(&b, json);
		gp_buf_addstr(&b, "\n");
		cJSON_free(json);
	} else
		gp_conv_markdown(th.doc, &b);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len) {
		tui_message(t, 1, _("cannot write %s: %s"), path,
		    strerror(errno));
	} else
		tui_message(t, 0, _("conversation written to %s"), path);
	if (fd >= 0)
		close(fd);
	gp_buf_free(&b);
}

static void
thread_key(struct tui *t, int a)
{
	long	 i;
	char	 def[96];
	int	 rows = LINES - 4 > 1 ? LINES - 4 : 1;

	switch (a) {
	case GP_A_DOWN: if (th.cur + 1 < th.n) th.cur++; break;
	case GP_A_UP: if (th.cur > 0) th.cur--; break;
	case GP_A_PAGE_DOWN:
		th.cur = th.cur + (size_t)rows < th.n ? th.cur + (size_t)rows :
		    th.n - 1;
		break;
	case GP_A_PAGE_UP:
		th.cur = th.cur > (size_t)rows ? th.cur - (size_t)rows : 0;
		break;
	case GP_A_TOP: th.cur = 0; break;
	case GP_A_BOTTOM: th.cur = th.n > 0 ? th.n - 1 : 0; break;
	case GP_A_DETAILS:
		if (!tm_thread_toggle(&th))
			tui_message(t, 0, "%s", _("nothing to open on this "
			    "line (thinking and tool calls open)"));
		break;
	case GP_A_FILTER:
		tui_open_prompt(t, _("Search:"), th.search, searched, NULL);
		break;
	case GP_A_THREAD_NEXT:
	case GP_A_THREAD_PREV:
		if ((i = tm_thread_find(&th, th.search, th.cur,
		    a == GP_A_THREAD_NEXT ? 1 : -1)) >= 0)
			th.cur = (size_t)i;
		else
			tui_message(t, 1, "%s", th.search[0] ?
			    _("no match") : _("no search: / first"));
		break;
	case GP_A_THREAD_OPEN:
		if (th.cur < th.n && th.l[th.cur].link[0] != '\0') {
			if (nback < BACK_DEPTH)
				snprintf(back[nback++], sizeof back[0], "%s",
				    tm_str(th.doc, "id"));
			open_thread(t, th.l[th.cur].link);
		} else
			tui_message(t, 0, "%s", _("no sub-agent on this line"));
		break;
	case GP_A_THREAD_BACK:
		if (nback > 0)
			open_thread(t, back[--nback]);
		else
			tm_thread_free(&th);
		break;
	case GP_A_EXPORT:
		snprintf(def, sizeof def, "%s.md", tm_str(th.doc, "id"));
		tui_open_prompt(t, _("Export to (.md or .json):"), def,
		    exported, NULL);
		break;
	}
	tui_dirty(t);
}

static void
conv_key(struct tui *t, int a)
{
	const struct tm_conv *c = tm_list_selected_item(&t->convs);

	if (th.doc != NULL) {
		thread_key(t, a);
		return;
	}
	if (a == GP_A_DETAILS && c != NULL) {
		nback = 0;
		open_thread(t, c->cid);
	} else if (a == GP_A_UTILITY) {
		show_utility = !show_utility;
		tui_message(t, 0, "%s", show_utility ? _("utility requests "
		    "shown") : _("utility requests hidden"));
		view_conv_fetch(t);
	} else if (a == GP_A_THREAD_BACK) {
		;	/* the list: nothing to go back to */
	} else if (a == GP_A_EXPORT && c != NULL) {
		tui_message(t, 0, "%s", _("open the conversation (Enter), "
		    "then E"));
	}
}

static void
conv_done(struct tui *t)
{
	(void)t;
	tm_thread_free(&th);
	nback = 0;
	inflight = 0;
	again[0] = '\0';
}

const struct view_ops view_conv = {
	N_("Convers."), C_CONV, l_conv, view_conv_fetch, conv_draw, conv_key,
	conv_done,
};
