/*
 * overlay.c: what opens over a view — help, the decision dialog and
 * other menus, prompts, confirmations, details — their keys and their
 * drawing.  Each finishes through the callback it was opened with.
 */
#include "config.h"

#include <curses.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "core/core.h"
#include "tui/tui-int.h"

static void	close_overlay(struct tui *);
static void	prompt_changed(struct tui *);

void
tui_prompt_error(struct tui *t, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(t->prompt_error, sizeof t->prompt_error, fmt, ap);
	va_end(ap);
	tui_dirty(t);
}

void
tui_open_prompt(struct tui *t, const char *label, const char *initial,
    tui_text_fn done, tui_text_fn live)
{
	size_t n;

	t->ov = OV_PROMPT;
	t->prompt_done = done;
	t->prompt_live = live;
	t->prompt_overflow = 0;
	t->prompt_error[0] = '\0';
	t->prompt_secret = 0;
	snprintf(t->prompt_label, sizeof t->prompt_label, "%s", label);
	n = mbstowcs(t->prompt, initial ? initial : "",
	    GP_ARRAY_LEN(t->prompt) - 1);
	t->prompt_len = n == (size_t)-1 ? 0 : n;
	t->prompt[t->prompt_len] = L'\0';
	curs_set(1);
	tui_dirty(t);
}

void
tui_open_menu(struct tui *t, const struct tui_menu *m)
{
	t->ov = OV_MENU;
	t->menu = m;
	t->menu_n = m->n;
	t->menu_sel = 0;
	tui_dirty(t);
}

void
tui_open_confirm(struct tui *t, const char *text, tui_yes_fn done)
{
	t->ov = OV_CONFIRM;
	t->confirm_done = done;
	snprintf(t->confirm_text, sizeof t->confirm_text, "%s", text);
	tui_dirty(t);
}

void
tui_open_detail(struct tui *t, char *text)
{
	free(t->detail);
	t->detail = text;
	t->detail_id = 0;
	t->detail_fn = NULL;
	t->help_top = 0;		/* a new text starts at its top */
	t->ov = OV_DETAIL;
	tui_dirty(t);
}

/* Closes the overlay; its completion callback runs after this. */
static void
close_overlay(struct tui *t)
{
	t->ov = OV_NONE;
	curs_set(0);
	tui_dirty(t);
}

/* The filter follows the prompt as it is typed. */
static void
prompt_changed(struct tui *t)
{
	char	buf[4096];

	if (t->prompt_live == NULL)
		return;
	if (wcstombs(buf, t->prompt, sizeof buf) == (size_t)-1)
		return;
	t->prompt_live(t, buf);
	tui_dirty(t);
}

void
tui_open_secret_prompt(struct tui *t, const char *label, tui_text_fn done)
{
	tui_open_prompt(t, label, "", done, NULL);
	t->prompt_secret = 1;
}

/* A secret typed: out of the prompt's memory once used. */
static void
prompt_wipe(struct tui *t, char *buf, size_t n)
{
	if (!t->prompt_secret)
		return;
	OPENSSL_cleanse(t->prompt, sizeof t->prompt);
	OPENSSL_cleanse(buf, n);
	t->prompt_len = 0;
	t->prompt_secret = 0;
}

static void
prompt_key(struct tui *t, wint_t ch, int fkey)
{
	char	buf[1024];

	if (!fkey && ch == 27) {
		close_overlay(t);
		prompt_wipe(t, buf, 0);
		if (t->prompt_live != NULL)
			t->prompt_live(t, "");	/* Esc undoes a live prompt */
	} else if ((!fkey && (ch == '\n' || ch == '\r')) ||
	    (fkey && ch == KEY_ENTER)) {
		if (t->prompt_overflow) {
			/* Never act on a cut input: say so, keep it open. */
			tui_prompt_error(t, _("input too long (at most %zu "
			    "characters): shorten it or Esc"),
			    GP_ARRAY_LEN(t->prompt) - 1);
			return;
		}
		int secret = t->prompt_secret;

		t->prompt[t->prompt_len] = L'\0';
		if (wcstombs(buf, t->prompt, sizeof buf) == (size_t)-1)
			buf[0] = '\0';
		prompt_wipe(t, buf, 0);	/* done may open the next prompt */
		close_overlay(t);
		if (t->prompt_done != NULL)
			t->prompt_done(t, buf);
		if (secret)
			OPENSSL_cleanse(buf, sizeof buf);
	} else if ((fkey && ch == KEY_BACKSPACE) || (!fkey && (ch == 127 ||
	    ch == 8))) {
		if (t->prompt_len > 0)
			t->prompt[--t->prompt_len] = L'\0';
		t->prompt_overflow = 0;
		prompt_changed(t);
	} else if (!fkey && ch == GP_CTRL('u')) {
		t->prompt_len = 0;
		t->prompt[0] = L'\0';
		t->prompt_overflow = 0;
		prompt_changed(t);
	} else if (!fkey && ch >= 32) {
		if (t->prompt_len + 1 < GP_ARRAY_LEN(t->prompt)) {
			t->prompt[t->prompt_len++] = (wchar_t)ch;
			t->prompt[t->prompt_len] = L'\0';
			prompt_changed(t);
		} else
			t->prompt_overflow = 1;
	}
	tui_dirty(t);
}

void
tui_overlay_key(struct tui *t, wint_t ch, int fkey)
{
	int	a = gp_key_action(fkey ? (int)ch : (int)ch, C_ALL), pa;

	if (t->ov == OV_PROMPT) {
		prompt_key(t, ch, fkey);
		return;
	}
	if (t->ov == OV_CONFIRM) {
		if (!fkey && (ch == 'y' || ch == 'Y'))
			close_overlay(t), t->confirm_done(t, 1);
		else if (!fkey && (ch == 'n' || ch == 'N' || ch == 27 ||
		    ch == 'q'))
			close_overlay(t), t->confirm_done(t, 0);
		return;
	}
	if (!fkey && (ch == 27 || ch == 'q')) {
		close_overlay(t);
		return;
	}
	if (t->ov == OV_MENU) {
		if (t->menu->with_duration && ((fkey && ch == KEY_RIGHT) ||
		    (!fkey && (ch == 'l' || ch == '\t')))) {
			if (t->dur_sel + 1 < tm_nduration_choices)
				t->dur_sel++;
		} else if (t->menu->with_duration && ((fkey &&
		    (ch == KEY_LEFT || ch == KEY_BTAB)) || (!fkey &&
		    ch == 'h'))) {
			if (t->dur_sel > 0)
				t->dur_sel--;
		} else if (a == GP_A_DOWN && t->menu_sel + 1 < t->menu_n)
			t->menu_sel++;
		else if (a == GP_A_UP && t->menu_sel > 0)
			t->menu_sel--;
		else if (!fkey && ch >= '1' && ch <= '9' &&
		    (size_t)(ch - '1') < t->menu_n) {
			size_t c = (size_t)(ch - '1');

			close_overlay(t);
			t->menu->done(t, c);
			return;
		} else if (a == GP_A_DETAILS) {
			size_t c = t->menu_sel;

			close_overlay(t);
			t->menu->done(t, c);
			return;
		}
	} else if (t->ov == OV_DETAIL && t->detail_id != 0 &&
	    t->detail_fn == view_pending_detail &&
	    (pa = gp_key_action((int)ch, C_PENDING)) != GP_A_NONE &&
	    (pa == GP_A_ALLOW || pa == GP_A_DENY || pa == GP_A_ALLOW_SCOPE ||
	    pa == GP_A_DENY_SCOPE || pa == GP_A_DISMISS)) {
		/* The details' keys act on the entry they show. */
		char f[sizeof t->pending.filter];

		snprintf(f, sizeof f, "%s", t->pending.filter);
		t->pending.sel_id = t->detail_id;
		tm_list_set_filter(&t->pending, f);	/* reselects by id */
		close_overlay(t);
		if (tm_list_selected(&t->pending) != NULL &&
		    tm_id(tm_list_selected(&t->pending)) == t->detail_id)
			tui_views[V_PENDING]->key(t, pa);
		return;
	} else if (t->ov == OV_HELP || t->ov == OV_DETAIL) {
		size_t page = LINES > 8 ? (size_t)LINES - 8 : 1;

		if (a == GP_A_DOWN)
			t->help_top++;
		else if (a == GP_A_UP && t->help_top > 0)
			t->help_top--;
		else if (a == GP_A_PAGE_DOWN || (!fkey && ch == ' '))
			t->help_top += page;
		else if (a == GP_A_PAGE_UP)
			t->help_top = t->help_top > page ? t->help_top - page :
			    0;
		else if (a == GP_A_TOP)
			t->help_top = 0;
		else if (a == GP_A_BOTTOM)	/* the draw stops at the end */
			t->help_top = (size_t)INT_MAX;
		else if (a == GP_A_HELP || a == GP_A_DETAILS)
			close_overlay(t);
	}
	tui_dirty(t);
}

/* A centred box of h x w with a title; returns its top-left corner. */
static void
box_at(struct tui *t, int h, int w, const char *title, int *y0, int *x0)
{
	int	y, x;

	if (w > COLS - 2)
		w = COLS - 2;
	if (h > LINES - 2)
		h = LINES - 2;
	*y0 = (LINES - h) / 2;
	*x0 = (COLS - w) / 2;
	attrset(A_NORMAL);
	for (y = *y0; y < *y0 + h; y++)
		mvhline(y, *x0, ' ', w);
	attrset(tui_attr(t, CP_TAB, A_REVERSE));
	for (x = *x0; x < *x0 + w; x++)
		mvaddch(*y0, x, ' ');
	tui_text(*y0, *x0 + 1, w - 2, title);
	attrset(A_NORMAL);
	mvvline(*y0 + 1, *x0, ACS_VLINE, h - 1);
	mvvline(*y0 + 1, *x0 + w - 1, ACS_VLINE, h - 1);
	mvhline(*y0 + h - 1, *x0, ACS_HLINE, w);
	mvaddch(*y0 + h - 1, *x0, ACS_LLCORNER);
	mvaddch(*y0 + h - 1, *x0 + w - 1, ACS_LRCORNER);
}

/*
 * A scrolled text of total lines in rows rows (help, details): keeps
 * the top within it, never past the end (End asks for INT_MAX), and
 * titles the box with the lines shown when they do not all fit.
 */
static void
scroll_title(struct tui *t, int total, int rows, const char *part,
    const char *whole, char *title, size_t n)
{
	int	top;

	if ((int)t->help_top > total - rows)
		t->help_top = total > rows ? (size_t)(total - rows) : 0;
	top = (int)t->help_top;
	if (total > rows)
		snprintf(title, n, part, top + 1, top + rows < total ?
		    top + rows : total, total);
	else
		snprintf(title, n, "%s", whole);
}

static void
draw_help(struct tui *t)
{
	int	i, y0, x0, h = LINES - 2, w = COLS < 78 ? COLS - 2 : 76;
	int	line = 0, rows = h - 3, total = 0;
	char	buf[256], keys[32], title[128];

	for (i = 0; i < GP_A__COUNT; i++)
		if (gp_keydefs[i].ctx & tui_views[t->view]->ctx)
			total++;
	scroll_title(t, total, rows, _("Help: keys for this view, %d-%d of %d "
	    "(PgDn/PgUp, Esc closes)"), _("Help: keys for this view (Esc "
	    "closes)"), title, sizeof title);
	box_at(t, h, w, title, &y0, &x0);
	if (w > COLS - 2)
		w = COLS - 2;
	for (i = 0; i < GP_A__COUNT; i++) {
		const struct gp_keydef *k = &gp_keydefs[i];

		if (!(k->ctx & tui_views[t->view]->ctx))
			continue;
		if (line >= (int)t->help_top && line - (int)t->help_top <
		    rows) {
			snprintf(keys, sizeof keys, "%s", gp_key_name(k->key));
			if (k->key2 != 0 && strcmp(keys,
			    gp_key_name(k->key2)) != 0)
				snprintf(keys + strlen(keys), sizeof keys -
				    strlen(keys), ", %s", gp_key_name(k->key2));
			snprintf(buf, sizeof buf, "%-14s %s", keys,
			    _(k->help));
			tui_text(y0 + 1 + line - (int)t->help_top, x0 + 2,
			    w - 4, buf);
		}
		line++;
	}
}

static void
draw_menu(struct tui *t)
{
	int	y0, x0, w = COLS < 74 ? COLS - 2 : 72, per, h, y;
	size_t	i;
	char	buf[256], title[256];
	const struct tui_menu *m = t->menu;
	int	decide = m->with_duration;

	per = m->note != NULL && m->note(t, 0, buf, sizeof buf) != NULL ?
	    2 : 1;
	m->title(t, title, sizeof title);
	h = (int)t->menu_n * per + 3 + (decide ? 4 : 0);
	box_at(t, h, w, title, &y0, &x0);
	if (w > COLS - 2)
		w = COLS - 2;
	for (i = 0; i < t->menu_n; i++) {
		y = y0 + 1 + (int)i * per;
		attrset(i == t->menu_sel ? tui_attr(t, CP_SEL, A_REVERSE) |
		    (t->color ? 0 : A_REVERSE) : A_NORMAL);
		tui_text(y, x0 + 1, w - 2, m->item(t, i, buf, sizeof buf));
		if (per == 2 && m->note(t, i, buf, sizeof buf)) {
			attrset(tui_attr(t, CP_DIM, A_DIM));
			tui_text(y + 1, x0 + 1, w - 2, buf);
		}
	}
	attrset(A_NORMAL);
	if (!decide)
		return;
	/* One dialog: the duration on the same screen (Left/Right). */
	y = y0 + 1 + (int)t->menu_n * per + 1;
	{
		int x = x0 + 2;

		tui_text(y, x, 10, _("Duration:"));
		x += 10;
		for (i = 0; i < tm_nduration_choices && x < x0 + w - 2; i++) {
			const char *lbl = _(tm_duration_choices[i].label);
			int len = (int)strlen(lbl) + 2;

			attrset(i == t->dur_sel ? tui_attr(t, CP_SEL,
			    A_REVERSE) | (t->color ? 0 : A_REVERSE) : A_NORMAL);
			snprintf(buf, sizeof buf, " %s ", lbl);
			tui_text(y, x, len < x0 + w - 2 - x ? len : x0 + w - 2 -
			    x, buf);
			x += len + 1;
		}
	}
	attrset(tui_attr(t, CP_DIM, A_DIM));
	buf[0] = '\0';
	if (m->footer != NULL)
		m->footer(t, buf, sizeof buf);
	tui_text(y + 2, x0 + 2, w - 4, buf);
	attrset(A_NORMAL);
}

/*
 * The details' lines wrapped to w - 4 columns: drawn from line top into
 * rows rows at (y0, x0) when draw is set; returns how many there are.
 */
static int
detail_lines(struct tui *t, int w, int draw, int top, int rows, int y0,
    int x0)
{
	char	*copy = gp_xstrdup(t->detail ? t->detail : ""), *save, *ln;
	int	 line = 0, row = 0;

	/* Long lines wrap: a host is never cut off at the box's edge. */
	for (ln = strtok_r(copy, "\n", &save); ln != NULL;
	    ln = strtok_r(NULL, "\n", &save)) {
		size_t	len = strlen(ln), off = 0, cw = (size_t)(w - 4);

		do {
			char piece[512];
			size_t k = len - off < cw ? len - off : cw;

			/* whole UTF-8 characters only */
			while (k > 0 && off + k < len &&
			    ((unsigned char)ln[off + k] & 0xc0) == 0x80)
				k--;
			if (k == 0)
				k = len - off < cw ? len - off : cw;
			if (draw && line >= top && row < rows) {
				snprintf(piece, sizeof piece, "%.*s", (int)k,
				    ln + off);
				tui_text(y0 + 1 + row++, x0 + 2, w - 4, piece);
			}
			line++;
			off += k;
		} while (off < len);
	}
	free(copy);
	return line;
}

static void
draw_detail(struct tui *t)
{
	int	y0, x0, h = LINES - 4, w = COLS < 78 ? COLS - 2 : 76;
	int	rows = h - 2, total;
	char	title[160];

	if (w > COLS - 2)
		w = COLS - 2;
	total = detail_lines(t, w, 0, 0, 0, 0, 0);
	scroll_title(t, total, rows, _("Details, %d-%d of %d (PgDn/PgUp, End, "
	    "Esc closes)"), _("Details (Esc closes)"), title, sizeof title);
	box_at(t, h, w, title, &y0, &x0);
	detail_lines(t, w, 1, (int)t->help_top, rows, y0, x0);
}

void
tui_prompt_insert(struct tui *t, wchar_t ch)
{
	if (t->prompt_len + 1 >= GP_ARRAY_LEN(t->prompt)) {
		t->prompt_overflow = 1;
		return;
	}
	t->prompt[t->prompt_len++] = ch;
	t->prompt[t->prompt_len] = L'\0';
	prompt_changed(t);
}

void
tui_draw_overlay(struct tui *t)
{
	switch (t->ov) {
	case OV_HELP:
		draw_help(t);
		break;
	case OV_MENU:
		draw_menu(t);
		break;
	case OV_DETAIL:
		if (t->detail_id != 0 && t->detail_fn != NULL) { /* live */
			free(t->detail);
			t->detail = t->detail_fn(t);
		}
		draw_detail(t);
		break;
	default:
		break;
	}
}
