/*
 * tui.c: the interface's life on the loop: curses set-up and teardown,
 * keys from stdin (uv_poll + wget_wch), SIGWINCH (uv_signal), redraws
 * coalesced to 20 frames a second (a keypress is drawn at once),
 * overlays (help, menus, prompts, confirmations, details), the tab and
 * status bars, and the link's events turning into refreshes.
 */
#include "config.h"

#include <curses.h>
#include <fcntl.h>
#include <term.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

#include "core/core.h"
#include "api/fields.h"
#include "http/http.h"
#include "tui/tui-int.h"

#define FRAME_MS	50
#define FETCH_MS	80
#define SEARCH_MS	250	/* a pause in typing a filter */
#define TICK_MS		1000

const struct gp_keydef gp_keydefs[GP_A__COUNT] = {
#define X(a, k, k2, ctx, bar, help) { k, k2, ctx, bar, help },
	GP_KEYS(X)
#undef X
};

static void	render(struct tui *);
static void	clear_filter(struct tui *);
static int	in_sequence(struct tui *, wint_t, int);int
gp_key_action(int key, int ctx)
{
	int	i;

	for (i = 0; i < GP_A__COUNT; i++)
		if ((gp_keydefs[i].key == key || (gp_keydefs[i].key2 != 0 &&
		    gp_keydefs[i].key2 == key)) && (gp_keydefs[i].ctx & ctx))
			return i;
	return GP_A_NONE;
}

const char *
gp_key_name(int key)
{
	static char	buf[16];

	switch (key) {
	case '\t': return "Tab";
	case '\n': return "Enter";
	case ' ': return "Space";
	case KEY_BTAB: return "S-Tab";
	case KEY_DOWN: return "Down";
	case KEY_UP: return "Up";
	case KEY_LEFT: return "Left";
	case KEY_RIGHT: return "Right";
	case KEY_NPAGE: return "PgDn";
	case KEY_PPAGE: return "PgUp";
	case KEY_HOME: return "Home";
	case KEY_END: return "End";
	case KEY_DC: return "Del";
	case KEY_ENTER: return "Enter";
	}
	if (key == KEY_F(1))
		return "F1";
	if (key > 0 && key < 32)
		snprintf(buf, sizeof buf, "^%c", key + '@');
	else
		snprintf(buf, sizeof buf, "%c", key);
	return buf;
}

void
tui_message(struct tui *t, int error, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof t->msg, fmt, ap);
	va_end(ap);
	t->msg_error = error;
	t->msg_until = uv_now(t->loop) + 4000;
	tui_dirty(t);
}

/* --- data --------------------------------------------------------- */

static void
on_list(struct tui *t, struct tm_list *l, int status, const cJSON *json)
{
	if (t->quit)
		return;		/* answered as the link closes */
	if (status == 200)
		tm_list_set(l, cJSON_GetObjectItemCaseSensitive(json, "items"));
	tui_dirty(t);
}

static void
on_pending(void *d, int status, const cJSON *json)
{
	struct tui *t = d;

	on_list(d, &t->pending, status, json);
	if (!t->quit && status == 200 && !t->pending_loaded) {
		t->pending_loaded = 1;	/* there at start: not new */
		tui_pending_seen(t);
	}
}

/* The newest entries are in sight: none counts as new above. */
void
tui_pending_seen(struct tui *t)
{
	const struct tm_pending	*p;
	size_t			 i;

	for (i = 0; (p = tm_list_item(&t->pending, i)) != NULL; i++)
		if (p->id > t->seen_pending)
			t->seen_pending = p->id;
}

/* Entries above the selection that arrived since the reader last saw
 * the top: decided or dismissed ones no longer count. */
size_t
tui_pending_new_above(const struct tui *t)
{
	const struct tm_pending	*p;
	size_t			 i, n = 0;

	for (i = 0; i < t->pending.sel &&
	    (p = tm_list_item(&t->pending, i)) != NULL; i++)
		n += p->id > t->seen_pending;
	return n;
}

/* A list's fetch: the answer counts only if no later one was sent (a
 * search typed fast sends one per pause). */
struct list_fetch {
	struct tui	*t;
	struct tm_list	*l;
	unsigned	 gen;
};

static void
on_fetched(void *d, int status, const cJSON *json)
{
	struct list_fetch *f = d;

	if (f->gen == f->l->gen) {
		on_list(f->t, f->l, status, json);
		if (status == 200)
			f->l->total = tm_num(json, "total");
	}
	free(f);
}

/*
 * Rules, Activity and Traffic hold the newest rules, log rows and
 * transactions (10 000, 500, 500); a filter is also a search of all of
 * them on the server (100 000 imported rules are a normal size, and an
 * agent fills 500 transactions in minutes), which the list's own filter
 * then keeps current as events arrive.
 */
static void
fetch_list(struct tui *t, struct tm_list *l, const char *base)
{
	struct list_fetch	*f = gp_xcalloc(1, sizeof *f);
	char			 path[1024], q[3 * sizeof l->filter];

	f->t = t;
	f->l = l;
	f->gen = ++l->gen;
	if (gp_url_escape(l->filter, q, sizeof q) != 0)
		q[0] = '\0';
	snprintf(path, sizeof path, "%s%s%s", base, q[0] ? "&search=" : "",
	    q);
	gp_link_request(t->link, "GET", path, NULL, on_fetched, f);
}

static void
on_convs(void *d, int status, const cJSON *json)
{
	struct tui	*t = d;
	cJSON		*copy;
	int		 at_top = t->convs.sel == 0;

	if (status != 200 || json == NULL)
		return;
	copy = cJSON_Duplicate(json, 1);
	tm_conv_ids(cJSON_GetObjectItemCaseSensitive(copy, "items"));
	on_list(d, &t->convs, status, copy);
	if (at_top)		/* watching the newest: stay on it */
		tm_list_home(&t->convs);
	cJSON_Delete(copy);
}

static void
on_sessions(void *d, int status, const cJSON *json)
{
	struct tui *t = d;

	if (t->quit || status != 200)
		return;
	cJSON_Delete(t->sessions_obj);
	t->sessions_obj = cJSON_Duplicate(json, 1);
	view_creds_rebuild(t);
	tui_dirty(t);
}

static void
on_creds(void *d, int status, const cJSON *json)
{
	struct tui *t = d;

	if (t->quit || status != 200)
		return;
	cJSON_Delete(t->creds_obj);
	t->creds_obj = cJSON_Duplicate(json, 1);
	view_creds_rebuild(t);
	tui_dirty(t);
}

static void
on_status(void *d, int status, const cJSON *json)
{
	struct tui *t = d;

	if (t->quit || status != 200)
		return;
	cJSON_Delete(t->status);
	t->status = cJSON_Duplicate(json, 1);
	tui_dirty(t);
}

static void
on_settings(void *d, int status, const cJSON *json)
{
	struct tui *t = d;

	if (t->quit || status != 200)
		return;
	cJSON_Delete(t->settings_obj);
	t->settings_obj = cJSON_Duplicate(json, 1);
	view_settings_rebuild(t);
	tui_dirty(t);
}

static void
on_endpoints(void *d, int status, const cJSON *json)
{
	struct tui *t = d;

	if (t->quit || status != 200)
		return;
	cJSON_Delete(t->endpoints);
	t->endpoints = cJSON_Duplicate(json, 1);
	view_settings_rebuild(t);
	tui_dirty(t);
}

void
view_settings_endpoints(struct tui *t)
{
	if (t->link != NULL && t->connected)
		gp_link_request(t->link, "GET", "/api/endpoint-rules?all=1",
		    NULL, on_endpoints, t);
}

static void
on_schema(void *d, int status, const cJSON *json)
{
	struct tui *t = d;

	if (t->quit || status != 200 || t->schema != NULL)
		return;
	t->schema = cJSON_Duplicate(json, 1);
	if (t->settings_obj != NULL)
		view_settings_rebuild(t);
	tui_dirty(t);
}

static void
do_fetch(uv_timer_t *tm)
{
	struct tui	*t = tm->data;
	unsigned	 w = t->want;

	t->want = 0;
	if (t->link == NULL || !t->connected)
		return;
	if (w & W_PENDING)
		gp_link_request(t->link, "GET", "/api/pending?limit=1000", NULL,
		    on_pending, t);
	if (w & W_RULES)
		fetch_list(t, &t->rules,
		    "/api/rules?limit=10000&include_expired=true");
	if (w & W_LOGS)
		fetch_list(t, &t->activity, "/api/logs?limit=500");
	if (w & W_TX)
		fetch_list(t, &t->traffic, "/api/transactions?limit=500");
	if (w & W_CONV)
		gp_link_request(t->link, "GET", view_conv_query(), NULL,
		    on_convs, t);
	if (w & W_CREDS) {
		gp_link_request(t->link, "GET", "/api/sessions", NULL,
		    on_sessions, t);
		gp_link_request(t->link, "GET", "/api/credentials", NULL,
		    on_creds, t);
	}
	if (w & W_SETTINGS) {
		gp_link_request(t->link, "GET", "/api/settings", NULL,
		    on_settings, t);
		if (t->schema == NULL)
			gp_link_request(t->link, "GET", "/api/settings/schema",
			    NULL, on_schema, t);
		view_settings_endpoints(t);
	}
	if (w & W_STATUS) {
		gp_link_request(t->link, "GET", "/api/status", NULL, on_status,
		    t);
		if (t->ca_path[0] == '\0')
			view_traffic_cert(t);
	}
}

#define BELL_GAP_MS	2000	/* quiet this long: the next entry rings */

void
tui_fetch(struct tui *t, unsigned what)
{
	t->want |= what;
	if (!uv_is_active((uv_handle_t *)&t->fetch))
		uv_timer_start(&t->fetch, do_fetch, FETCH_MS, 0);
}

void
tui_on_event(void *data, const char *type, cJSON **dp)
{
	struct tui	*t = data;
	const cJSON	*d = *dp;

	if (strncmp(type, "pending_request.", 16) == 0 ||
	    strcmp(type, "waiters.changed") == 0) {
		if (strcmp(type, "pending_request.created") == 0) {
			uint64_t now = uv_now(t->loop);

			/* One bell for a burst of new entries. */
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
			    t->settings_obj, "pendingBell")) &&
			    now - t->last_bell > BELL_GAP_MS) {
				beep();
			}
			t->last_bell = now;
			if (t->view != V_PENDING)
				t->pending_flag = 1;
		}
		/* Events are applied to the list; no refetch of it. */
		if (strcmp(type, "pending_request.created") == 0 ||
		    strcmp(type, "pending_request.updated") == 0) {
			/* A new entry may land above the one the reader is
			 * on, which stays selected, a row lower. */
			tm_list_upsert(&t->pending, d);
		} else if (strcmp(type, "waiters.changed") == 0) {
			if (!tm_list_set_num(&t->pending, (int64_t)tm_num(d,
			    GP_F_PENDING_ID), GP_F_WAITING, tm_num(d,
			    GP_F_CURRENT_COUNT)))
				tui_fetch(t, W_PENDING);	/* not seen yet */
		} else
			tm_list_remove(&t->pending, (int64_t)tm_num(d,
			    GP_F_PENDING_ID));
		tui_fetch(t, W_STATUS);
		tui_dirty(t);
	} else if (strcmp(type, "rule.created") == 0) {
		tm_list_upsert(&t->rules, d);
		tui_fetch(t, W_STATUS);
		tui_dirty(t);
	} else if (strcmp(type, "rule.deleted") == 0) {
		tm_list_remove(&t->rules, (int64_t)tm_num(d, GP_F_ID));
		tui_fetch(t, W_STATUS);
		tui_dirty(t);
	} else if (strncmp(type, "rule.", 5) == 0) {
		/* An update (or an outside change, null): fetch the list. */
		if (cJSON_IsObject(d))
			tm_list_upsert(&t->rules, d);
		else
			tui_fetch(t, W_RULES);
		tui_fetch(t, W_STATUS);
		tui_dirty(t);
	} else if (strcmp(type, "request_log.created") == 0) {
		if (t->paused)
			t->missed++;
		else
			tm_list_take(&t->activity, dp);
		tui_fetch(t, W_STATUS);
		tui_dirty(t);
	} else if (strcmp(type, "request_log.updated") == 0) {
		/* A tunnel closed: its row (listed since it opened), now
		 * with its bytes and duration. */
		if (tm_list_find(&t->activity, tm_id(d)) != NULL) {
			tm_list_upsert(&t->activity, d);
			tui_dirty(t);
		}
	} else if (strcmp(type, "session.substitution") == 0) {
		view_creds_used(t, d);
		tui_fetch(t, W_CREDS);
	} else if (strncmp(type, "session.", 8) == 0) {
		tui_fetch(t, W_CREDS);
	} else if (strcmp(type, "credential.blocked") == 0) {
		view_creds_blocked(t, d);
		tui_dirty(t);
	} else if (strcmp(type, "transaction.new") == 0) {
		tm_list_take(&t->traffic, dp);
		tui_dirty(t);
	} else if (strcmp(type, "conversation.updated") == 0) {
		tui_fetch(t, W_CONV);
		view_conv_updated(t, tm_str(d, "conversation_id"));
	} else if (strcmp(type, "settings.changed") == 0) {
		on_settings(t, 200, d);
		tui_fetch(t, W_STATUS);
	}
}

void
tui_on_state(void *data, int connected, const char *why)
{
	struct tui *t = data;

	t->connected = connected;
	if (connected) {
		t->link_error[0] = '\0';
		tui_fetch(t, W_ALL);
	} else
		snprintf(t->link_error, sizeof t->link_error, "%s",
		    why ? why : _("disconnected"));
	tui_dirty(t);
}

void
tui_attach_link(struct tui *t, struct gp_link *l, int remote)
{
	t->link = l;
	t->remote = remote;
	tui_dirty(t);
}

/* --- overlays ----------------------------------------------------- */

void
tui_switch_view(struct tui *t, int v)
{
	t->view = (enum view_id)((v + V__COUNT) % V__COUNT);
	if (t->view == V_PENDING)
		t->pending_flag = 0;
	if (tui_views[t->view]->open != NULL)
		tui_views[t->view]->open(t);
	tui_dirty(t);
}

/* The fetch of a list whose filter also searches the server, or 0. */
static unsigned
fetched(const struct tui *t, const struct tm_list *l)
{
	return l == &t->rules ? W_RULES : l == &t->activity ? W_LOGS :
	    l == &t->traffic ? W_TX : 0;
}

/* The filter follows the prompt as it is typed; Esc clears it. */
static void
set_filter(struct tui *t, const char *text)
{
	const struct view_ops	*v = tui_views[t->view];
	struct tm_list		*l = v->list ? v->list(t) : NULL;

	if (l != NULL)
		tm_list_set_filter(l, text);
	/* The search, on the server, once typing pauses: each scans
	 * the stored rows, one after another on one reader. */
	if (fetched(t, l) != 0) {
		t->want |= fetched(t, l);
		uv_timer_start(&t->fetch, do_fetch, SEARCH_MS, 0);
	}
	tui_dirty(t);
}

static void
quit_confirmed(struct tui *t, int yes)
{
	if (!yes)
		return;
	t->quit = 1;
	if (t->on_quit != NULL)
		t->on_quit(t);
}

static void
request_quit(struct tui *t)
{
	int	waiting = 0;
	size_t	i;

	/* From the list, which events keep current (the status lags). */
	for (i = 0; i < t->pending.n; i++)
		waiting += ((const struct tm_pending *)
		    t->pending.typed[i])->waiting;

	if (!t->remote && waiting > 0) {
		char text[192];

		snprintf(text, sizeof text, _("%d connections are waiting for "
		    "a decision. Quit and refuse them? (y/n)"), waiting);
		tui_open_confirm(t, text, quit_confirmed);
		return;
	}
	t->quit = 1;
	if (t->on_quit != NULL)
		t->on_quit(t);
}

static void
global_key(struct tui *t, int a)
{
	const struct view_ops	*v = tui_views[t->view];
	struct tm_list		*l = v->list ? v->list(t) : NULL;
	int			 rows = LINES - 4;

	switch (a) {
	case GP_A_QUIT:
	case GP_A_INTERRUPT:
		request_quit(t);
		break;
	case GP_A_SUSPEND:
		if (!t->remote) {
			tui_message(t, 1, "%s", _("not suspended: the proxy runs "
			    "in this process and would stop (run 'greyproxy "
			    "serve --daemon', then 'greyproxy tui')"));
			break;
		}
		/* Attached: nothing here serves traffic; stop like ^Z. */
		endwin();
		raise(SIGSTOP);
		clearok(curscr, TRUE);
		break;
	case GP_A_HELP:
		t->ov = OV_HELP;
		t->help_top = 0;
		break;
	case GP_A_NEXT_VIEW: tui_switch_view(t, (int)t->view + 1); break;
	case GP_A_PREV_VIEW: tui_switch_view(t, (int)t->view - 1); break;
	case GP_A_VIEW_PENDING: tui_switch_view(t, V_PENDING); break;
	case GP_A_VIEW_RULES: tui_switch_view(t, V_RULES); break;
	case GP_A_VIEW_ACTIVITY: tui_switch_view(t, V_ACTIVITY); break;
	case GP_A_VIEW_TRAFFIC: tui_switch_view(t, V_TRAFFIC); break;
	case GP_A_VIEW_CONV: tui_switch_view(t, V_CONV); break;
	case GP_A_VIEW_CREDS: tui_switch_view(t, V_CREDS); break;
	case GP_A_VIEW_SETTINGS: tui_switch_view(t, V_SETTINGS); break;
	case GP_A_REDRAW: clearok(curscr, TRUE); break;
	case GP_A_DOWN: case GP_A_UP: case GP_A_PAGE_DOWN: case GP_A_PAGE_UP:
	case GP_A_TOP: case GP_A_BOTTOM: case GP_A_FILTER:
		if (l == NULL) {	/* a view without a list moves itself */
			if (v->key != NULL)
				v->key(t, a);
			break;
		}
		if (a == GP_A_DOWN)
			tm_list_move(l, 1);
		else if (a == GP_A_UP)
			tm_list_move(l, -1);
		else if (a == GP_A_PAGE_DOWN)
			tm_list_move(l, rows > 1 ? rows - 1 : 1);
		else if (a == GP_A_PAGE_UP)
			tm_list_move(l, -(rows > 1 ? rows - 1 : 1));
		else if (a == GP_A_TOP)
			tm_list_home(l);
		else if (a == GP_A_BOTTOM)
			tm_list_end(l);
		else
			tui_open_prompt(t, _("Filter:"), l->filter, set_filter,
			    set_filter);
		break;
	default:
		if (v->key != NULL)
			v->key(t, a);
		break;
	}
	if (t->view == V_PENDING && t->pending.sel == 0)
		tui_pending_seen(t);	/* the newest are in sight */
	tui_dirty(t);
}

static void
mouse_event(struct tui *t)
{
	MEVENT			 me;
	struct tm_list		*l;
	const struct view_ops	*v = tui_views[t->view];

	if (getmouse(&me) != OK)
		return;
	l = v->list ? v->list(t) : NULL;
	if (me.bstate & BUTTON1_CLICKED || me.bstate & BUTTON1_PRESSED) {
		if (me.y == 0) {	/* the tab bar */
			int i;

			for (i = 0; i < V__COUNT; i++)
				if (me.x >= t->tab_x[i] && me.x < t->tab_x[i + 1])
					tui_switch_view(t, i);
			return;
		}
		if (l != NULL && me.y >= 2 && me.y < LINES - 2) {
			size_t row = l->top + (size_t)(me.y - 2);

			if (row < l->nvis)
				tm_list_move(l, (long)row - (long)l->sel);
		}
	}
#ifdef BUTTON5_PRESSED
	if (l != NULL && (me.bstate & BUTTON4_PRESSED))
		tm_list_move(l, -3);
	if (l != NULL && (me.bstate & BUTTON5_PRESSED))
		tm_list_move(l, 3);
#endif
	tui_dirty(t);
}

/* Esc in a list: the filter goes. */
static void
clear_filter(struct tui *t)
{
	const struct view_ops	*v = tui_views[t->view];
	struct tm_list		*l = v->list ? v->list(t) : NULL;

	if (l != NULL && l->filter[0] != '\0') {
		tm_list_set_filter(l, "");
		tui_fetch(t, fetched(t, l));	/* the newest again */
		tui_dirty(t);
	} else if (l == NULL && v->key != NULL)	/* a thread: back */
		v->key(t, GP_A_THREAD_BACK);
}

/*
 * Keys that are not keys: the rest of an escape sequence whose ESC came
 * alone (a slow link splits "ESC [ A"; ncurses then hands us "[", "A"
 * — and A would open a menu), and bracketed pastes ("ESC [200~" ...
 * "ESC [201~"), whose text goes into an open prompt and is never taken
 * as commands.  Returns 1 when ch was consumed here.
 */
static int
in_sequence(struct tui *t, wint_t ch, int fkey)
{
	uint64_t now = uv_now(t->loop);

	if (t->esc != 0 && now - t->esc_ms > 1000 && !t->paste)
		t->esc = 0;		/* a late "[" is a key again */
	if (!fkey && ch == 27) {
		t->esc = 1;
		t->esc_ms = now;
		t->seqlen = 0;
		return t->paste;	/* a lone Esc acts, unless pasting */
	}
	switch (t->esc) {
	case 1:
		if (!fkey && (ch == '[' || ch == 'O')) {
			t->esc = ch == '[' ? 2 : 3;
			return 1;
		}
		t->esc = 0;
		break;
	case 2:			/* CSI: parameters, then a final byte */
		if (!fkey && ch >= 0x20 && ch <= 0x3f) {
			if (t->seqlen + 1 < sizeof t->seq)
				t->seq[t->seqlen++] = (char)ch;
			return 1;
		}
		t->seq[t->seqlen] = '\0';
		t->esc = 0;
		if (!fkey && ch == '~' && strcmp(t->seq, "200") == 0)
			t->paste = 1;
		else if (!fkey && ch == '~' && strcmp(t->seq, "201") == 0) {
			t->paste = 0;
			if (t->ov != OV_PROMPT)
				tui_message(t, 0, "%s", _("pasted text is not "
				    "taken as keys (open a prompt to paste)"));
		}
		return 1;
	case 3:			/* SS3: one more byte */
		t->esc = 0;
		return 1;
	}
	if (!t->paste)
		return 0;
	/* Pasted text: into a prompt, printable only; else dropped. */
	if (t->ov == OV_PROMPT && !fkey && ch >= 32 && ch != 127)
		tui_prompt_insert(t, (wchar_t)ch);
	return 1;
}

static void
on_input(uv_poll_t *p, int status, int events)
{
	struct tui	*t = p->data;
	wint_t		 ch;
	int		 rc, got = 0;

	while (!t->quit && (rc = wget_wch(stdscr, &ch)) != ERR) {
		int fkey = rc == KEY_CODE_YES;

		got = 1;
		if (fkey && ch == KEY_RESIZE)
			continue;	/* handled by the SIGWINCH watcher */
		if (fkey && ch == KEY_MOUSE) {
			mouse_event(t);
			continue;
		}
		if (in_sequence(t, ch, fkey))
			continue;	/* a split escape sequence or a paste */
		if (t->ov != OV_NONE) {
			tui_overlay_key(t, ch, fkey);
			continue;
		}
		if (!fkey && ch == 27) {
			clear_filter(t);
			continue;
		}
		global_key(t, gp_key_action((int)ch,
		    tui_views[t->view]->ctx));
	}
	/* The result of a keypress is drawn at once. */
	if (got && t->dirty && !t->quit)
		render(t);
}

static void
on_winch(uv_signal_t *s, int signum)
{
	struct tui	*t = s->data;
	struct winsize	 ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	clearok(curscr, TRUE);
	render(t);
}

static void
on_frame(uv_timer_t *tm)
{
	render(tm->data);
}

void
tui_dirty(struct tui *t)
{
	uint64_t now, next;

	t->dirty = 1;
	if (t->quit || uv_is_active((uv_handle_t *)&t->frame))
		return;
	now = uv_now(t->loop);
	next = t->last_frame + FRAME_MS;
	uv_timer_start(&t->frame, on_frame, next > now ? next - now : 0, 0);
}

static void
on_tick(uv_timer_t *tm)
{
	struct tui *t = tm->data;

	tui_fetch(t, W_STATUS);
	if (t->msg[0] && uv_now(t->loop) > t->msg_until)
		t->msg[0] = '\0';
	tui_dirty(t);	/* ages move */
}

/* --- drawing ------------------------------------------------------ */

static void
render(struct tui *t)
{
	const struct view_ops *v = tui_views[t->view];

	if (t->quit)
		return;
	uv_timer_stop(&t->frame);
	t->dirty = 0;
	t->last_frame = uv_now(t->loop);
	erase();
	if (LINES < 10 || COLS < 40) {
		tui_text(0, 0, COLS, _("greyproxy: terminal too small"));
		wnoutrefresh(stdscr);
		doupdate();
		return;
	}
	tui_draw_tabs(t);
	if (t->link == NULL || (!t->connected && !t->remote))
		tui_text(2, 1, COLS - 2, _("Starting…"));
	else
		v->draw(t, 1, LINES - 3);
	tui_draw_status(t);
	tui_draw_overlay(t);
	tui_draw_bottom(t);
	wnoutrefresh(stdscr);
	doupdate();
}

/* --- life --------------------------------------------------------- */

int
tui_term_usable(char *why, size_t n)
{
	const char	*term = getenv("TERM");
	char		*cup;
	int		 err = 0;

	if (term == NULL || *term == '\0') {
		snprintf(why, n, "%s", _("TERM is not set"));
		return 0;
	}
	if (setupterm(NULL, STDOUT_FILENO, &err) != OK) {
		snprintf(why, n, _("unknown terminal type '%s'"), term);
		return 0;
	}
	cup = tigetstr("cup");
	del_curterm(cur_term);
	if (cup == NULL || cup == (char *)-1) {
		snprintf(why, n, _("terminal type '%s' cannot move the "
		    "cursor"), term);
		return 0;
	}
	return 1;
}

int
tui_start(struct tui *t, uv_loop_t *loop)
{
	const char *nc = getenv("NO_COLOR");
	int	    fl;

	t->loop = loop;
	t->pending.cmp = tm_cmp_pending;
	t->pending.decode = tm_decode_pending;
	t->pending.tsize = sizeof(struct tm_pending);
	t->rules.cmp = tm_cmp_rules;
	t->rules.decode = tm_decode_rule;
	t->rules.tsize = sizeof(struct tm_rule);
	t->activity.max = 2000;
	t->activity.decode = tm_decode_log;
	t->activity.tsize = sizeof(struct tm_log);
	t->traffic.max = 1000;
	t->traffic.decode = tm_decode_tx;
	t->traffic.tsize = sizeof(struct tm_tx);
	t->convs.decode = tm_decode_conv;
	t->convs.tsize = sizeof(struct tm_conv);
	if (initscr() == NULL)
		return -1;
	/* raw: ^C and ^Z arrive as keys (^C asks like q; ^Z must not
	 * freeze an in-process proxy). */
	raw();
	noecho();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED
#ifdef BUTTON5_PRESSED
	    | BUTTON4_PRESSED | BUTTON5_PRESSED
#endif
	    , NULL);
	t->color = has_colors() && (nc == NULL || *nc == '\0');
	if (t->color) {
		int dim = COLORS >= 256 ? 244 : COLOR_WHITE;

		start_color();
		use_default_colors();
		init_pair(CP_TAB, COLOR_BLACK, COLOR_CYAN);
		init_pair(CP_ALLOW, COLOR_GREEN, -1);
		init_pair(CP_BLOCK, COLOR_RED, -1);
		init_pair(CP_NEW, COLOR_YELLOW, -1);
		init_pair(CP_LOCAL, COLOR_MAGENTA, -1);
		init_pair(CP_DIM, dim, -1);
		init_pair(CP_BAR, COLOR_WHITE, COLORS >= 256 ? 236 :
		    COLOR_BLUE);
		init_pair(CP_SEL, COLOR_BLACK, COLOR_WHITE);
	}
	/* Bracketed paste: pasted text is never taken as commands. */
	fputs("\033[?2004h", stdout);
	fflush(stdout);
	uv_poll_init(loop, &t->input, STDIN_FILENO);
	/* libuv made the terminal non-blocking, and stdout shares its file
	 * description: when the terminal stopped reading, ncurses retried
	 * its writes in a loop, a core at 100 %.  Blocking, the thread
	 * sleeps instead (the proxy runs on another); keys are read only
	 * when poll says so, and nodelay never waits for more. */
	if ((fl = fcntl(STDIN_FILENO, F_GETFL)) != -1)
		(void)fcntl(STDIN_FILENO, F_SETFL, fl & ~O_NONBLOCK);
	t->input.data = t;
	uv_poll_start(&t->input, UV_READABLE, on_input);
	uv_signal_init(loop, &t->winch);
	t->winch.data = t;
	uv_signal_start(&t->winch, on_winch, SIGWINCH);
	uv_timer_init(loop, &t->frame);
	t->frame.data = t;
	uv_timer_init(loop, &t->fetch);
	t->fetch.data = t;
	uv_timer_init(loop, &t->tick);
	t->tick.data = t;
	uv_timer_start(&t->tick, on_tick, TICK_MS, TICK_MS);
	render(t);
	return 0;
}

void
tui_stop(struct tui *t)
{
	t->quit = 1;
	uv_close((uv_handle_t *)&t->input, NULL);
	uv_close((uv_handle_t *)&t->winch, NULL);
	uv_close((uv_handle_t *)&t->frame, NULL);
	uv_close((uv_handle_t *)&t->fetch, NULL);
	uv_close((uv_handle_t *)&t->tick, NULL);
	fputs("\033[?2004l", stdout);
	fflush(stdout);
	endwin();
	tm_list_free(&t->pending);
	tm_list_free(&t->rules);
	tm_list_free(&t->activity);
	tm_list_free(&t->traffic);
	tm_list_free(&t->convs);
	tm_list_free(&t->creds);
	cJSON_Delete(t->sessions_obj);
	cJSON_Delete(t->creds_obj);
	tm_list_free(&t->settings);
	cJSON_Delete(t->status);
	cJSON_Delete(t->settings_obj);
	cJSON_Delete(t->schema);
	cJSON_Delete(t->endpoints);
	t->schema = NULL;
	free(t->detail);
}
