/*
 * tui-int.h: the interface's state, shared by tui/ files.  Everything
 * the views show comes through a gp_link (local core or attached), as
 * JSON in the API's shapes, into the lists of model.h.
 */
#ifndef GP_TUI_INT_H
#define GP_TUI_INT_H

#include <cjson/cJSON.h>
#include <uv.h>

#include "api/api.h"
#include "tui/keys.h"
#include "tui/model.h"

enum view_id { V_PENDING, V_RULES, V_ACTIVITY, V_TRAFFIC, V_CONV, V_CREDS,
	V_SETTINGS, V__COUNT };

enum overlay { OV_NONE, OV_HELP, OV_MENU, OV_PROMPT, OV_CONFIRM, OV_DETAIL };

struct tui;
/* How a prompt, a confirmation and a menu finish: by callback. */
typedef void	(*tui_text_fn)(struct tui *, const char *text);
typedef void	(*tui_yes_fn)(struct tui *, int yes);
struct tui_menu {
	size_t		  n;
	const char	*(*item)(struct tui *, size_t, char *, size_t);
	/* a second, dimmed line under a choice, or NULL */
	const char	*(*note)(struct tui *, size_t, char *, size_t);
	void		 (*title)(struct tui *, char *, size_t);
	void		 (*footer)(struct tui *, char *, size_t); /* or NULL */
	int		   with_duration;	/* Left/Right: a duration */
	void		 (*done)(struct tui *, size_t choice);
};

/* Colour pairs (attributes only under NO_COLOR or on a mono terminal). */
enum { CP_TAB = 1, CP_ALLOW, CP_BLOCK, CP_NEW, CP_LOCAL, CP_DIM, CP_BAR,
	CP_SEL };

struct tui {
	uv_loop_t		*loop;
	struct gp_link		*link;
	int			 remote;	/* attached to another process */
	int			 connected;
	char			 link_error[128];
	uv_poll_t		 input;
	uv_signal_t		 winch;
	uv_timer_t		 frame;		/* coalesced redraws */
	uv_timer_t		 tick;		/* ages, status refresh */
	uv_timer_t		 fetch;		/* debounced refreshes */
	unsigned		 want;		/* W_* to fetch */
	int			 dirty;
	uint64_t		 last_frame;
	int			 color;
	int			 quit;

	enum view_id		 view;
	struct tm_list		 pending, rules, activity, settings, traffic;
	struct tm_list		 creds;		/* sessions, then globals */
	struct tm_list		 convs;		/* conversations */
	cJSON			*sessions_obj, *creds_obj;	/* as fetched */
	char			 blocked[8][160];	/* latest events: */
	int			 blocked_bad[8];	/* a refusal, or a use */
	int			 nblocked;
	char			 cred_label[128];	/* the n dialog's */
	char			 cred_value[8193];
	cJSON			*status;	/* GET /api/status */
	cJSON			*settings_obj;	/* GET /api/settings */
	cJSON			*schema;	/* GET /api/settings/schema */
	cJSON			*endpoints;	/* GET /api/endpoint-rules */
	int			 paused;	/* activity tail */
	/* pending: ids up to this one were in sight (the reader was at the
	 * top, or they were there at start); newer ones above the
	 * selection are counted ("^ 2 new above") */
	int64_t			 seen_pending;
	int			 pending_loaded;
	int			 pending_flag;	/* new since Pending was seen */
	uint64_t		 last_bell;	/* one bell per burst */
	int			 esc;		/* escape sequence state */
	char			 seq[16];	/* its parameters */
	size_t			 seqlen;
	uint64_t		 esc_ms;
	int			 paste;		/* in a bracketed paste */
	int			 tab_x[V__COUNT + 1];	/* tab bar layout */
	size_t			 missed;	/* lines while paused */
	int			 act_dest_w;	/* Activity's DESTINATION */

	enum overlay		 ov;
	tui_text_fn		 prompt_done, prompt_live;
	tui_yes_fn		 confirm_done;
	const struct tui_menu	*menu;
	int			 action;	/* allow/deny for the menus */
	int64_t			 target_id;	/* pending or rule id */
	char			 scope[32];
	size_t			 menu_sel, menu_n;
	size_t			 dur_sel;	/* decision dialog */
	int			 decide_marked;	/* it acts on the marks */
	char			 pending_rule[512];	/* awaiting a yes */
	int			 pending_rule_edit;
	char			 setting_key[64];	/* the = prompt's */
	char			 ca_path[512];	/* the CA certificate's file */
	char			 prompt_label[96];
	wchar_t			 prompt[1024];
	size_t			 prompt_len;
	int			 prompt_overflow;	/* typed past the end */
	int			 prompt_secret;	/* drawn as dots, wiped after */
	char			 prompt_error[200];	/* why it reopened */
	char			 confirm_text[192];
	char			*detail;	/* OV_DETAIL text */
	int64_t			 detail_id;	/* the entry shown, or 0 */
	char			*(*detail_fn)(struct tui *);	/* its text,
						 * rebuilt at each draw: live */
	size_t			 help_top;

	char			 msg[256];
	uint64_t		 msg_until;
	int			 msg_error;

	/* what the owner does on quit */
	void			(*on_quit)(struct tui *);
	void			*owner;
};

#define W_PENDING	0x01
#define W_RULES		0x02
#define W_STATUS	0x04
#define W_SETTINGS	0x08
#define W_LOGS		0x10
#define W_TX		0x20
#define W_CREDS		0x40
#define W_CONV		0x80
#define W_ALL		0xff

/* tui.c */
/* Can this terminal be drawn on?  0 with why when it cannot. */
int	 tui_term_usable(char *why, size_t n);
int	 tui_start(struct tui *, uv_loop_t *);
void	 tui_attach_link(struct tui *, struct gp_link *, int remote);
void	 tui_stop(struct tui *);
void	 tui_dirty(struct tui *);
void	 tui_pending_seen(struct tui *);
const char *tui_mitm_state(const struct tui *);
size_t	 tui_pending_new_above(const struct tui *);
void	 tui_message(struct tui *, int error, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 tui_fetch(struct tui *, unsigned what);
void	 tui_switch_view(struct tui *, int view);
void	 tui_on_event(void *, const char *type, cJSON **data);
void	 tui_on_state(void *, int connected, const char *why);
/* overlay.c.  live (may be NULL) follows the text as it is typed and
 * gets "" on Esc. */
void	 tui_open_prompt(struct tui *, const char *label, const char *initial,
	    tui_text_fn done, tui_text_fn live);
/* A prompt whose text is never drawn (dots) and is wiped once done. */
void	 tui_open_secret_prompt(struct tui *, const char *label,
	    tui_text_fn done);
/* Shows why the prompt (re)opened, over the status bar, in red. */
void	 tui_prompt_error(struct tui *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 tui_open_menu(struct tui *, const struct tui_menu *);
void	 tui_open_confirm(struct tui *, const char *text, tui_yes_fn done);
void	 tui_open_detail(struct tui *, char *text);	/* takes text */
void	 tui_overlay_key(struct tui *, wint_t ch, int fkey);
void	 tui_prompt_insert(struct tui *, wchar_t);
void	 tui_draw_overlay(struct tui *);
/* draw.c: the tab bar, the status bar, the last line. */
void	 tui_draw_tabs(struct tui *);
void	 tui_draw_status(struct tui *);
void	 tui_draw_bottom(struct tui *);
/* Draws s at y, x in at most w columns (UTF-8 aware), padding with blanks. */
void	 tui_text(int y, int x, int w, const char *s);
const char *tui_cell(char *buf, size_t n, const char *s, int w);
const char *tui_cell_mid(char *buf, size_t n, const char *s, int w);
const char *tui_cell_end(char *buf, size_t n, const char *s, int w);
int	tui_para(int y, int x, int w, int rows, const char *text);
int	 tui_attr(struct tui *, int pair, int mono);

/*
 * view.c and view-<name>.c: one file per view behind this table; each
 * keeps its own keys, rows and completions.
 */
struct view_ops {
	const char	*title;		/* N_() */
	int		 ctx;
	struct tm_list	*(*list)(struct tui *);	/* NULL: no list */
	void		(*open)(struct tui *);	/* comes to the front; NULL */
	void		(*draw)(struct tui *, int top, int rows);
	void		(*key)(struct tui *, int action);
	void		(*done)(struct tui *);	/* the interface ends; NULL */
};
extern const struct view_ops view_pending, view_rules, view_activity,
	    view_traffic, view_conv, view_creds, view_settings;
extern const struct view_ops *const tui_views[V__COUNT];
/* A request whose answer is a message: okfmt with arg (its right end
 * kept) on success, the API's error otherwise.  Takes body. */
void	 view_api_send(struct tui *, const char *method, const char *path,
	    cJSON *body, const char *okfmt, const char *arg);
/* Requests reported together when the last is answered: okfmt with the
 * count ("%zu") if all succeeded, else how many failed and the last
 * error.  Every view_batch_new is followed by n view_api_send_batch. */
struct view_batch;
struct view_batch *view_batch_new(size_t n, const char *okfmt);
void	 view_api_send_batch(struct tui *, const char *method,
	    const char *path, cJSON *body, struct view_batch *);
/* Draws a header row and the visible rows of l with row_fn. */
/* A row: the item's JSON and its typed row (NULL without a decoder). */
typedef void	(*tm_row_fn)(struct tui *, const cJSON *, const void *,
	    int y, int sel);
void	 view_draw_list(struct tui *, struct tm_list *, int top, int rows,
	    const char *header, tm_row_fn, const char *empty);
void	 view_settings_rebuild(struct tui *);
/* Settings' endpoint rules and suggestions (GET /api/endpoint-rules). */
void	 view_settings_endpoints(struct tui *);
/* The Credentials view's rows from the fetched sessions and
 * credentials; a refusal event noted. */
void	 view_creds_rebuild(struct tui *);
void	 view_creds_blocked(struct tui *, const cJSON *);
void	 view_creds_used(struct tui *, const cJSON *);
/* Conversations: the list's query (utility shown or not), a refresh,
 * and an update of the thread on screen. */
const char *view_conv_query(void);
void	 view_conv_fetch(struct tui *);
void	 view_conv_updated(struct tui *, const char *id);
/* Shows the Conversations view with that thread open. */
void	 view_conv_open(struct tui *, const char *id);
/* Asks where the CA certificate is (Traffic's steps show it). */
void	 view_traffic_cert(struct tui *);
/* The current text of the pending entry, or log row, the details show. */
char	*view_pending_detail(struct tui *);
char	*view_activity_detail(struct tui *);

#endif
