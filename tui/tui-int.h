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

enum view_id { V_PENDING, V_RULES, V_ACTIVITY, V_CONV, V_CREDS, V_SETTINGS,
	V__COUNT };

enum overlay { OV_NONE, OV_HELP, OV_MENU, OV_PROMPT, OV_CONFIRM, OV_DETAIL };

/* What a finished prompt, menu or confirmation does. */
enum purpose { P_NONE, P_FILTER, P_RULE_NEW, P_RULE_EDIT, P_RULE_DELETE,
	P_SCOPE, P_DURATION, P_QUIT, P_CLEAR_SEEN, P_SETTING_VALUE, P_DECIDE, P_RULE_ALL };

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
	struct tm_list		 pending, rules, activity, settings;
	cJSON			*status;	/* GET /api/status */
	cJSON			*settings_obj;	/* GET /api/settings */
	cJSON			*schema;	/* GET /api/settings/schema */
	int			 paused;	/* activity tail */
	size_t			 new_above;	/* pending: new, above sel */
	int			 pending_flag;	/* new since Pending was seen */
	uint64_t		 last_bell;	/* one bell per burst */
	int			 esc;		/* escape sequence state */
	char			 seq[16];	/* its parameters */
	size_t			 seqlen;
	uint64_t		 esc_ms;
	int			 paste;		/* in a bracketed paste */
	int			 tab_x[V__COUNT + 1];	/* tab bar layout */
	size_t			 missed;	/* lines while paused */

	enum overlay		 ov;
	enum purpose		 purpose;
	int			 action;	/* allow/deny for the menus */
	int64_t			 target_id;	/* pending or rule id */
	char			 scope[32];
	size_t			 menu_sel, menu_n;
	size_t			 dur_sel;	/* decision dialog */
	int			 decide_marked;	/* it acts on the marks */
	char			 pending_rule[512];	/* awaiting a yes */
	enum purpose		 pending_rule_purpose;
	char			 prompt_label[96];
	wchar_t			 prompt[1024];
	size_t			 prompt_len;
	int			 prompt_overflow;	/* typed past the end */
	char			 prompt_error[200];	/* why it reopened */
	char			 confirm_text[192];
	char			*detail;	/* OV_DETAIL text */
	int64_t			 detail_id;	/* pending entry shown, or 0 */
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
#define W_ALL		0x1f

/* tui.c */
/* Can this terminal be drawn on?  0 with why when it cannot. */
int	 tui_term_usable(char *why, size_t n);
int	 tui_start(struct tui *, uv_loop_t *);
void	 tui_attach_link(struct tui *, struct gp_link *, int remote);
void	 tui_stop(struct tui *);
void	 tui_dirty(struct tui *);
void	 tui_message(struct tui *, int error, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 tui_fetch(struct tui *, unsigned what);
void	 tui_on_event(void *, const char *type, const cJSON *data);
void	 tui_on_state(void *, int connected, const char *why);
void	 tui_open_prompt(struct tui *, enum purpose, const char *label,
	    const char *initial);
/* Shows why the prompt (re)opened, over the status bar, in red. */
void	 tui_prompt_error(struct tui *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 tui_open_menu(struct tui *, enum purpose, size_t n);
void	 tui_open_confirm(struct tui *, enum purpose, const char *text);
void	 tui_open_detail(struct tui *, char *text);	/* takes text */
/* Draws s at y, x in at most w columns (UTF-8 aware), padding with blanks. */
void	 tui_text(int y, int x, int w, const char *s);
int	 tui_attr(struct tui *, int pair, int mono);

/* views.c */
struct view_ops {
	const char	*title;		/* N_() */
	int		 ctx;
	struct tm_list	*(*list)(struct tui *);	/* NULL: no list */
	void		(*draw)(struct tui *, int top, int rows);
	void		(*key)(struct tui *, int action);
};
extern const struct view_ops tui_views[V__COUNT];
/* Called when a prompt, menu or confirmation finishes. */
void	 views_prompt_done(struct tui *, const char *text);
void	 views_menu_done(struct tui *, size_t choice);
void	 views_confirm_done(struct tui *, int yes);
/* Lines a menu shows for t->purpose. */
const char *views_menu_item(struct tui *, size_t i, char *buf, size_t n);
/* The decision dialog's title and footer (P_DECIDE). */
void	 views_menu_title(struct tui *, char *buf, size_t n);
void	 views_menu_footer(struct tui *, char *buf, size_t n);
/* A second, dimmed line under a choice (the scope's rule), or NULL. */
const char *views_menu_note(struct tui *, size_t i, char *buf, size_t n);
void	 views_settings_rebuild(struct tui *);
/* The current text of the pending entry the details show. */
char	*views_detail_refresh(struct tui *);

#endif
