/*
 * draw.c: the frame around the views: the tab bar (counts never cut),
 * the status bar (ports, the unmatched action, mode, attachment, a lost
 * daemon or a full disk unmistakable) and the last line (message,
 * prompt, confirmation or quick help), and the text helpers.
 */
#include "config.h"

#include <curses.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "core/core.h"
#include "tui/tui-int.h"

int
tui_attr(struct tui *t, int pair, int mono)
{
	return t->color ? (int)COLOR_PAIR(pair) : mono;
}

/* gp_text_fit's cell of exactly w columns, for a row's format ("%s"). */
const char *
tui_cell(char *buf, size_t n, const char *s, int w)
{
	gp_text_fit(buf, n, s, w, 1);
	return buf;
}

/* The same, but a text too wide ends in "…", so a cut is seen as one. */
const char *
tui_cell_end(char *buf, size_t n, const char *s, int w)
{
	char	head[1100];

	if (w < 2 || gp_text_fit(head, sizeof head, s, -1, 0) <= w)
		return tui_cell(buf, n, s, w);
	gp_text_fit(head, sizeof head, s, w - 1, 0);
	snprintf(buf, n, "%s\xe2\x80\xa6", head);
	return buf;
}

/*
 * The same, but a text too wide loses its middle, not its end: an
 * identity keeps its prefix and its distinguishing end
 * ("unkno…-127.0.0.1"), where a plain cut made "unknown-127.0.0.1" and
 * "unknown-127.0.0.10" the same cell, and 8 columns showed "unknown-"
 * for every client without a user name.
 */
const char *
tui_cell_mid(char *buf, size_t n, const char *s, int w)
{
	char	 safe[1100], head[1100], tail[1100], both[2300];
	wchar_t	 ws[600];
	size_t	 len, i;
	int	 cols, hw, tw, c = 0;

	cols = gp_text_fit(safe, sizeof safe, s, -1, 0);
	/* Text that carried hidden characters shows from its start, so
	 * their marks are seen, never cut through. */
	if (cols <= w || w < 4 || strstr(safe, "<U+") != NULL ||
	    strstr(safe, "\\x") != NULL ||
	    (len = mbstowcs(ws, safe, sizeof ws / sizeof ws[0])) ==
	    (size_t)-1 || len >= sizeof ws / sizeof ws[0])
		return tui_cell(buf, n, s, w);
	hw = (w - 1) / 3;	/* the end tells clients apart: more of it */
	tw = w - 1 - hw;
	/* The last characters that fit in tw columns (safe: printable). */
	for (i = len; i > 0; i--) {
		int cw = wcwidth(ws[i - 1]);

		if (c + (cw > 0 ? cw : 0) > tw)
			break;
		c += cw > 0 ? cw : 0;
	}
	if (wcstombs(tail, ws + i, sizeof tail) == (size_t)-1)
		return tui_cell(buf, n, s, w);
	gp_text_fit(head, sizeof head, safe, hw, 0);
	snprintf(both, sizeof both, "%s\xe2\x80\xa6%s", head, tail);
	return tui_cell(buf, n, both, w);
}

/* s at (y, x) in exactly w columns, cut or padded, made safe (gp_text_fit). */
void
tui_text(int y, int x, int w, const char *s)
{
	char	 small[1024], *buf = small;
	size_t	 n = (size_t)w * 8 + 64;	/* escapes: 8 bytes a column */
	int	 used;

	if (w <= 0)
		return;
	if (n > sizeof small)
		buf = gp_xmalloc(n);
	used = gp_text_fit(buf, n, s, w, 1);
	mvaddstr(y, x, buf);
	for (; used < w; used++)	/* out of room: zero-width runs */
		addch(' ');
	if (buf != small)
		free(buf);
}

/*
 * text word-wrapped into w columns from (y, x), at most rows lines (a
 * word wider than w is cut); returns the lines drawn.  Messages that
 * explain (an empty view, a hint) are read whole at 80 columns.
 */
int
tui_para(int y, int x, int w, int rows, const char *text)
{
	char		 line[1024], cand[1024], scratch[4096];
	const char	*p = text, *e;
	int		 n = 0;

	line[0] = '\0';
	while (*p != '\0' && n < rows) {
		for (e = p; *e != '\0' && *e != ' '; e++)
			;
		snprintf(cand, sizeof cand, "%s%s%.*s", line,
		    line[0] ? " " : "", (int)(e - p), p);
		if (line[0] != '\0' && gp_text_fit(scratch, sizeof scratch,
		    cand, -1, 0) > w) {
			tui_text(y + n++, x, w, line);
			snprintf(line, sizeof line, "%.*s", (int)(e - p), p);
		} else
			snprintf(line, sizeof line, "%s", cand);
		for (p = e; *p == ' '; p++)
			;
	}
	if (line[0] != '\0' && n < rows)
		tui_text(y + n++, x, w, line);
	return n;
}

/* Columns s takes on the screen (not bytes: "Réglages" is 8). */
static int
text_width(const char *s)
{
	wchar_t	w[128];
	size_t	n = mbstowcs(w, s, GP_ARRAY_LEN(w) - 1);
	int	cols;

	if (n == (size_t)-1 || n >= GP_ARRAY_LEN(w) - 1)
		return (int)strlen(s);
	cols = wcswidth(w, n);
	return cols < 0 ? (int)n : cols;
}

void
tui_draw_tabs(struct tui *t)
{
	char	buf[V__COUNT][48];
	int	i, x = 0, total = 0, shortl = 0;

	for (i = 0; i < V__COUNT; i++) {
		if (i == V_PENDING && t->pending.n > 0)
			snprintf(buf[i], sizeof buf[i], " %d %s %zu%s ", i + 1,
			    _(tui_views[i]->title), t->pending.n,
			    t->pending_flag ? "!" : "");
		else
			snprintf(buf[i], sizeof buf[i], " %d %s ", i + 1,
			    _(tui_views[i]->title));
		total += text_width(buf[i]);
	}
	/* Too wide: other tabs shrink to their digit, never the count. */
	if (total > COLS)
		shortl = 1;
	attrset(tui_attr(t, CP_BAR, A_REVERSE));
	mvhline(0, 0, ' ', COLS);
	for (i = 0; i < V__COUNT && x < COLS; i++) {
		if (shortl && i != V_PENDING && i != (int)t->view)
			snprintf(buf[i], sizeof buf[i], " %d ", i + 1);
		if (i == (int)t->view)
			attrset(tui_attr(t, CP_TAB, A_BOLD) | (int)A_BOLD);
		else if (i == V_PENDING && t->pending_flag)
			attrset(tui_attr(t, CP_NEW, A_REVERSE) | (int)A_BOLD);
		else
			attrset(tui_attr(t, CP_BAR, A_REVERSE));
		tui_text(0, x, COLS - x < text_width(buf[i]) ? COLS - x :
		    text_width(buf[i]), buf[i]);
		t->tab_x[i] = x;
		x += text_width(buf[i]);
	}
	t->tab_x[V__COUNT] = x;
	attrset(A_NORMAL);
}

/* Interception's state as /api/status says: on, off, no-ca, ... */
const char *
tui_mitm_state(const struct tui *t)
{
	return tm_str(cJSON_GetObjectItemCaseSensitive(t->status, "mitm"),
	    "state");
}

/* Interception, and when it is not on, the command that turns it on;
 * 1 when HTTPS is seen. */
static int
https_state(struct tui *t, char *out, size_t len)
{
	const char	*st = tui_mitm_state(t);

	if (strcmp(st, "on") == 0) {
		snprintf(out, len, "%s", _("https: seen"));
		return 1;
	}
	if (strcmp(st, "off") == 0)
		snprintf(out, len, "%s",
		    _("https: tunnelled (mitmEnabled off)"));
	else if (strcmp(st, "no-ca") == 0)
		snprintf(out, len, "%s", _("no CA: greyproxy cert generate"));
	else if (strcmp(st, "invalid-ca") == 0)
		snprintf(out, len, "%s", _("bad CA: greyproxy cert show"));
	else
		snprintf(out, len, "%s", _("https: starting"));
	return 0;
}

void
tui_draw_status(struct tui *t)
{
	char		 line[512], mode[96], where[160] = "", dropped[64];
	char		 https[96], lead[100] = "", tail[100] = "";
	char		 modew[64];
	int		 seen, compact, limited;
	const cJSON	*l = cJSON_GetObjectItemCaseSensitive(t->status,
	    "listeners");
	const cJSON	*s = cJSON_GetObjectItemCaseSensitive(t->status,
	    "settings");
	const cJSON	*st = cJSON_GetObjectItemCaseSensitive(t->status,
	    "storage");

	if (t->remote && !t->connected) {
		/* A lost daemon is unmistakable, never an empty list. */
		snprintf(line, sizeof line, _(" NOT CONNECTED to %s, "
		    "retrying: nothing shown is current (%s)"),
		    gp_link_target(t->link), t->link_error[0] ?
		    t->link_error : _("no answer"));
		attrset(tui_attr(t, CP_BLOCK, A_REVERSE | A_BOLD) | A_BOLD |
		    (t->color ? A_REVERSE : 0));
		tui_text(LINES - 2, 0, COLS, line);
		attrset(A_NORMAL);
		return;
	}
	if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(st, "writable"))) {
		/* Disk full: say so over everything else, in alarm colours. */
		snprintf(line, sizeof line, _(" DISK FULL: the connection log "
		    "is dropping rows (%.0f so far); traffic flows | %s"),
		    tm_num(st, "log_dropped"), t->remote ? _("attached") :
		    _("local"));
		attrset(tui_attr(t, CP_BLOCK, A_REVERSE | A_BOLD));
		tui_text(LINES - 2, 0, COLS, line);
		attrset(A_NORMAL);
		return;
	}
	compact = COLS < 100;
	if (t->remote) {
		/* Compact, a loopback daemon is its port (an 80-column bar
		 * with the CA's fix and three-digit counts cut it). */
		const char *to = gp_link_target(t->link);

		if (compact && strncmp(to, "127.0.0.1:", 10) == 0)
			to += 9;
		else if (compact && strncmp(to, "[::1]:", 6) == 0)
			to += 5;
		snprintf(mode, sizeof mode, "%s %s", _("attached"), to);
	} else
		snprintf(mode, sizeof mode, "%s", _("local"));
	/* HTTPS not seen comes first, with its fix; seen, last. */
	seen = https_state(t, https, sizeof https);
	if (seen)
		snprintf(tail, sizeof tail, " | %s", https);
	else
		snprintf(lead, sizeof lead, "%s | ", https);
	/*
	 * Compact under 100 columns: the HTTP and SOCKS5 ports only, and
	 * none while HTTPS's fix needs the room; the unmatched action's
	 * value alone; the mode only when limited.
	 */
	if (!compact)
		snprintf(where, sizeof where, "http %s socks %s | ",
		    tm_str(l, "http"), tm_str(l, "socks5"));
	else if (*tm_str(l, "http") && seen)
		snprintf(where, sizeof where, ":%s :%s | ",
		    strrchr(tm_str(l, "http"), ':') ?
		    strrchr(tm_str(l, "http"), ':') + 1 : "",
		    strrchr(tm_str(l, "socks5"), ':') ?
		    strrchr(tm_str(l, "socks5"), ':') + 1 : "");
	/* Log rows lost (budget, a writer behind): said, not hidden. */
	dropped[0] = '\0';
	if (tm_num(st, "log_dropped") > 0)
		snprintf(dropped, sizeof dropped, _("log dropped %.0f | "),
		    tm_num(st, "log_dropped"));
	limited = strcmp(tm_str(s, "mode"), "limited") == 0;
	modew[0] = '\0';
	if (limited || !compact)
		snprintf(modew, sizeof modew, "%s | ", limited ? _("limited") :
		    _("full"));
	snprintf(line, sizeof line, " %s%s%s %.0f/%.0f | %s%s%s%s | %s%s%s",
	    where, lead, _("pending"), tm_num(t->status, "pending"),
	    tm_num(t->status, "waiting"), dropped, compact ? "" :
	    _("unmatched:"), compact ? "" : " ",
	    strcmp(tm_str(s, "defaultAction"), "block") == 0 ? _("block") :
	    _("hold"), modew, mode, tail);
	attrset(tui_attr(t, CP_BAR, A_REVERSE));
	tui_text(LINES - 2, 0, COLS, line);
	attrset(A_NORMAL);
}

/* The last line: a message, the prompt, or the quick-help bar. */
void
tui_draw_bottom(struct tui *t)
{
	char	line[512];
	size_t	o = 0;
	int	i;

	if (t->ov == OV_PROMPT) {
		char	val[4096], fit[4200];
		int	x, room, wv;

		if (t->prompt_secret) {		/* never drawn */
			size_t k, m = t->prompt_len < 64 ? t->prompt_len : 64;

			for (k = 0; k < m; k++)
				val[k] = '*';
			val[m] = '\0';
		} else if (wcstombs(val, t->prompt, sizeof val) ==
		    (size_t)-1)
			val[0] = '\0';
		if (t->prompt_error[0] != '\0') {
			attrset(tui_attr(t, CP_BLOCK, A_REVERSE | A_BOLD) |
			    A_BOLD);
			tui_text(LINES - 2, 0, COLS, t->prompt_error);
		}
		attrset(A_BOLD);
		tui_text(LINES - 1, 0, COLS, t->prompt_label);
		attrset(A_NORMAL);
		x = (int)strlen(t->prompt_label) + 1;
		room = COLS - x - 1;
		wv = t->prompt_secret ? (int)strlen(val) :
		    wcswidth(t->prompt, t->prompt_len);
		/* A long input scrolls: its end and the cursor stay in view. */
		if (room > 4 && wv > room) {
			tm_fit_right_end(val, (size_t)room, fit, sizeof fit);
			tui_text(LINES - 1, x, COLS - x, fit);
			move(LINES - 1, x + room);
		} else {
			tui_text(LINES - 1, x, COLS - x, val);
			move(LINES - 1, x + wv < COLS ? x + wv : COLS - 1);
		}
		return;
	}
	if (t->ov == OV_CONFIRM) {
		attrset(tui_attr(t, CP_NEW, A_BOLD) | A_BOLD);
		tui_text(LINES - 1, 0, COLS, t->confirm_text);
		attrset(A_NORMAL);
		return;
	}
	if (t->msg[0] != '\0') {
		attrset(t->msg_error ? tui_attr(t, CP_BLOCK, A_BOLD) :
		    tui_attr(t, CP_ALLOW, A_BOLD));
		tui_text(LINES - 1, 0, COLS, t->msg);
		attrset(A_NORMAL);
		return;
	}
	/* "? help" and "q quit" come first, so they show at 80 columns. */
	/* (gp_key_name returns a static buffer: one call per format.) */
	o = (size_t)snprintf(line, sizeof line, "%s %s  ",
	    gp_key_name(gp_keydefs[GP_A_HELP].key), _(gp_keydefs[GP_A_HELP].bar));
	o += (size_t)snprintf(line + o, sizeof line - o, "%s %s  ",
	    gp_key_name(gp_keydefs[GP_A_QUIT].key),
	    _(gp_keydefs[GP_A_QUIT].bar));
	for (i = 0; i < GP_A__COUNT && o < sizeof line - 40; i++) {
		const struct gp_keydef *k = &gp_keydefs[i];

		if (k->bar == NULL || !(k->ctx & tui_views[t->view]->ctx) ||
		    i == GP_A_HELP || i == GP_A_QUIT)
			continue;
		if (i == GP_A_CA_CREATE &&	/* only while there is none */
		    strcmp(tui_mitm_state(t), "no-ca") != 0)
			continue;
		o += (size_t)snprintf(line + o, sizeof line - o, "%s %s  ",
		    gp_key_name(k->key), _(k->bar));
	}
	attrset(tui_attr(t, CP_DIM, A_DIM));
	tui_text(LINES - 1, 0, COLS, line);
	attrset(A_NORMAL);
}
