/*
 * keys.h: every action of the interface, its keys, where it applies and
 * its help text.  The key map, the ? screen, the quick-help bar and the
 * man page's key list all come from this one table (tig REQ_INFO).
 * X(action, key, second key, contexts, bar label, help)
 */
#ifndef GP_TUI_KEYS_H
#define GP_TUI_KEYS_H

#include <curses.h>

#define C_ALL		0x7f
#define C_PENDING	0x01
#define C_RULES		0x02
#define C_ACTIVITY	0x04
#define C_CONV		0x08
#define C_CREDS		0x10
#define C_SETTINGS	0x20
#define C_TRAFFIC	0x40
#define C_LISTS		(C_PENDING | C_RULES | C_ACTIVITY | C_SETTINGS | \
			    C_TRAFFIC | C_CREDS | C_CONV)
#define GP_CTRL(c)	((c) & 0x1f)

#define GP_KEYS(X)							\
	X(ALLOW, 'a', 0, C_PENDING, N_("allow"),			\
	    N_("allow the selected destination (this host and port)"))	\
	X(ALLOW_SCOPE, 'A', 0, C_PENDING, N_("allow..."),		\
	    N_("allow with a choice of scope and duration"))		\
	X(DENY, 'd', 0, C_PENDING, N_("deny"),				\
	    N_("deny the selected destination (this host and port)"))	\
	X(DENY_SCOPE, 'D', 0, C_PENDING, N_("deny..."),		\
	    N_("deny with a choice of scope and duration"))		\
	X(DISMISS, 'x', 0, C_PENDING, N_("dismiss"),			\
	    N_("refuse the waiting connections, store no rule"))	\
	X(MARK, ' ', 0, C_PENDING, N_("mark"),				\
	    N_("mark or unmark the selected entry: a, d and their scopes "\
	    "then act on every marked one"))				\
	X(MARK_ALL, '*', 0, C_PENDING, NULL,				\
	    N_("mark every entry the filter shows (again: unmark all)"))	\
	X(CLEAR_SEEN, 'X', 0, C_PENDING, NULL,				\
	    N_("remove every entry no connection waits for (asks first)")) \
	X(RULE_NEW, 'n', 0, C_RULES, N_("new"), N_("add a rule"))	\
	X(RULE_EDIT, 'e', 0, C_RULES, N_("edit"),			\
	    N_("edit the selected rule"))				\
	X(RULE_DELETE, 'x', KEY_DC, C_RULES, N_("delete"),		\
	    N_("delete the selected rule (asks first)"))		\
	X(PAUSE, ' ', 0, C_ACTIVITY, N_("pause"),			\
	    N_("pause or resume the live tail"))			\
	X(CA_CREATE, 'c', 0, C_TRAFFIC, N_("create CA"),		\
	    N_("create greyproxy's CA, so HTTPS can be read (then trust "\
	    "it: greyproxy cert install)"))				\
	X(THREAD_NEXT, 'n', 0, C_CONV, N_("next"),			\
	    N_("in a conversation: go to the next line the search matches"))\
	X(THREAD_PREV, 'N', 0, C_CONV, NULL,				\
	    N_("in a conversation: go to the previous match"))		\
	X(THREAD_OPEN, 'o', 0, C_CONV, N_("sub-agent"),			\
	    N_("in a conversation: open the sub-agent the tool call at the "\
	    "cursor started"))						\
	X(THREAD_BACK, 'b', KEY_BACKSPACE, C_CONV, N_("back"),		\
	    N_("in a conversation: back to its parent, or to the list "	\
	    "(Esc too)"))						\
	X(EXPORT, 'E', 0, C_CONV, N_("export"),				\
	    N_("write the open conversation to a file: Markdown, or JSON "\
	    "for a .json name (also: greyproxy conversations export ID)"))	\
	X(UTILITY, 'u', 0, C_CONV, NULL,				\
	    N_("show or hide utility requests (titles, warm-ups, quota "	\
	    "probes, scorers)"))					\
	X(TX_CONV, 'o', 0, C_TRAFFIC, N_("conversation"),		\
	    N_("open the LLM conversation the selected transaction is part "\
	    "of"))							\
	X(CRED_NEW, 'n', 0, C_CREDS, N_("new"),				\
	    N_("add a global credential (the value is typed unseen)"))	\
	X(CRED_EDIT, 'e', 0, C_CREDS, N_("hosts"),			\
	    N_("change the hosts the selected credential (global, or a "\
	    "session's) may go to"))					\
	X(CRED_DELETE, 'x', KEY_DC, C_CREDS, N_("delete"),		\
	    N_("delete the selected global credential (asks first)"))	\
	X(TOGGLE, ' ', 0, C_SETTINGS, N_("change"),			\
	    N_("toggle or cycle the selected setting"))			\
	X(INCREASE, '+', 0, C_SETTINGS, N_("more"),			\
	    N_("increase the selected number"))				\
	X(DECREASE, '-', 0, C_SETTINGS, N_("less"),			\
	    N_("decrease the selected number"))				\
	X(ENDPOINT_DELETE, 'x', KEY_DC, C_SETTINGS, NULL,		\
	    N_("delete the selected LLM endpoint rule (asks first)"))	\
	X(SET_VALUE, '=', 0, C_SETTINGS, N_("type"),			\
	    N_("type a new value for the selected number or list"))		\
	X(DETAILS, '\n', KEY_ENTER, C_LISTS, N_("details"),		\
	    N_("show details of the selected line (in a conversation: "	\
	    "open or close the thinking or tool call)"))			\
	X(FILTER, '/', 0, C_PENDING | C_RULES | C_ACTIVITY | C_TRAFFIC | \
	    C_CONV, N_("filter"), N_("filter the list (empty clears; in a "\
	    "conversation: search it)"))		\
	X(DOWN, 'j', KEY_DOWN, C_ALL, NULL, N_("move down"))		\
	X(UP, 'k', KEY_UP, C_ALL, NULL, N_("move up"))			\
	X(PAGE_DOWN, GP_CTRL('f'), KEY_NPAGE, C_ALL, NULL,			\
	    N_("page down"))						\
	X(PAGE_UP, GP_CTRL('b'), KEY_PPAGE, C_ALL, NULL, N_("page up"))	\
	X(TOP, 'g', KEY_HOME, C_ALL, NULL, N_("go to the first line"))	\
	X(BOTTOM, 'G', KEY_END, C_ALL, NULL, N_("go to the last line"))	\
	X(NEXT_VIEW, '\t', KEY_RIGHT, C_ALL, NULL, N_("next view"))	\
	X(PREV_VIEW, KEY_BTAB, KEY_LEFT, C_ALL, NULL,			\
	    N_("previous view"))					\
	X(VIEW_PENDING, '1', 0, C_ALL, NULL, N_("pending requests"))	\
	X(VIEW_RULES, '2', 0, C_ALL, NULL, N_("rules"))			\
	X(VIEW_ACTIVITY, '3', 0, C_ALL, NULL, N_("activity"))		\
	X(VIEW_TRAFFIC, '4', 0, C_ALL, NULL,				\
	    N_("traffic: HTTP requests and responses"))			\
	X(VIEW_CONV, '5', 0, C_ALL, NULL, N_("conversations"))		\
	X(VIEW_CREDS, '6', 0, C_ALL, NULL, N_("credentials"))		\
	X(VIEW_SETTINGS, '7', 'O', C_ALL, NULL, N_("settings"))		\
	X(REDRAW, GP_CTRL('l'), 0, C_ALL, NULL, N_("redraw the screen"))	\
	X(HELP, '?', KEY_F(1), C_ALL, N_("help"), N_("show this help"))	\
	X(QUIT, 'q', 'Q', C_ALL, N_("quit"),				\
	    N_("quit (asks first if connections are waiting)"))		\
	X(INTERRUPT, GP_CTRL('c'), 0, C_ALL, NULL,			\
	    N_("quit, asking first as q does"))				\
	X(SUSPEND, GP_CTRL('z'), 0, C_ALL, NULL,			\
	    N_("suspend an attached interface (refused when the proxy runs "\
	    "in this process: it would stop)"))

enum gp_action_id {
#define X(a, k, k2, ctx, bar, help) GP_A_##a,
	GP_KEYS(X)
#undef X
	GP_A__COUNT,
	GP_A_NONE = -1
};

struct gp_keydef {
	int		 key, key2;
	int		 ctx;
	const char	*bar;
	const char	*help;
};

extern const struct gp_keydef gp_keydefs[GP_A__COUNT];
/* The action bound to key in context ctx, or GP_A_NONE. */
int		 gp_key_action(int key, int ctx);
/* "a", "Tab", "Enter", "^L", "PgDn"... */
const char	*gp_key_name(int key);

#endif
