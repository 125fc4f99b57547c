/*
 * model.h: what the views show, without drawing: lists of JSON objects
 * (as the API returns them) with a filter, an order and a selection that
 * is kept by id, so new items never move the cursor (tmux mode-tree).
 * Pure: no curses, no loop; unit-tested in tests/unit/t-tui-model.c.
 */
#ifndef GP_TUI_MODEL_H
#define GP_TUI_MODEL_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

typedef int	(*tm_cmp_fn)(const cJSON *, const cJSON *);
typedef void	(*tm_decode_fn)(const cJSON *, void *out);

/*
 * Typed rows: the API's JSON decoded once, when a list changes (field
 * names from api/fields.h, shared with the encoder), so the views read
 * struct fields, never JSON, when they draw or act.
 */
struct tm_pending {
	int64_t		id;
	char		host[256];
	char		hostname[256];		/* resolved from an IP, or "" */
	unsigned	port;
	char		container[128];
	int		waiting, attempts, local;
	int64_t		first_seen, last_seen;
	char		first_seen_s[32], last_seen_s[32];
	char		request[320];
	char		protocol[16];
	char		addresses[160];
};
struct tm_rule {
	int64_t		id;
	int		deny;
	char		action[8];
	char		dest[256];
	char		ports[64];
	char		container[128];
	char		created_at[32], last_used_at[32], expires_at_s[32];
	int64_t		expires_at;
	char		created_by[64];
	char		notes[256];
	char		rule_type[16];
	double		hits;
};
struct tm_log {
	int64_t		id;
	char		timestamp[32];
	int		allowed;
	char		result[16];
	char		reason[64];
	char		method[16];
	char		request[320];
	char		container[128];
	char		client[64];
	char		host[256];
	unsigned	port;
	char		resolved_ip[64];
	char		rule_summary[320];
	double		bytes_up, bytes_down, ms, count;
	int		open;		/* a tunnel not closed yet */
};
/* A stored HTTP transaction as the list shows it (no bodies). */
struct tm_tx {
	int64_t		id;
	char		timestamp[32];
	char		container[128];
	char		method[16];
	char		host[256];
	unsigned	port;
	char		url[1024];
	size_t		path_off;	/* where the path starts in url */
	int		status;		/* 0: no response */
	double		req_size, resp_size, ms;
	int		complete, tls;
	int		substituted;	/* a credential went out in it */
};
void	tm_decode_pending(const cJSON *, void *);
void	tm_decode_tx(const cJSON *, void *);
/*
 * A transaction with its bodies (GET /api/transactions/:id) as the
 * details show it: what was asked and answered, both heads, and each body
 * as text (JSON pretty-printed), binary said as such, control characters
 * shown as '?', at most max_body bytes of each.  Blank lines are " " (the
 * details drop empty ones).  Returns malloc'd text.
 */
char	*tm_tx_text(const cJSON *, size_t max_body);
void	tm_decode_rule(const cJSON *, void *);
void	tm_decode_log(const cJSON *, void *);

struct tm_list {
	cJSON		**v;		/* owned copies */
	int64_t		 *ids;		/* tm_id(v[i]): searched by id */
	size_t		  n, cap;
	size_t		 *vis;		/* indices passing the filter */
	size_t		  nvis;
	size_t		  sel;		/* index into vis */
	size_t		  top;		/* first visible row */
	int64_t		  sel_id;	/* selection follows this id */
	char		  filter[128];
	tm_cmp_fn	  cmp;		/* NULL: keep order */
	size_t		  max;		/* 0: unbounded; else ring size */
	int64_t		  next_seq;	/* ids for items without one */
	int64_t		 *marks;	/* marked ids (pending: Space) */
	size_t		  nmarks;
	/* typed rows (optional): decode fills tsize bytes per item */
	tm_decode_fn	  decode;
	size_t		  tsize;
	void		**typed;	/* ntyped rows, in v's order */
	size_t		  ntyped;	/* n once decoded */
	/* fetched (rules, activity, traffic): the latest fetch, and the
	 * server's count of what matches */
	unsigned	  gen;
	double		  total;
};

int64_t		 tm_id(const cJSON *);		/* "id" or "_seq" */
/* "a, b, c" from a JSON array of strings (others skipped). */
void		 tm_join(const cJSON *, char *out, size_t outlen);
const char	*tm_str(const cJSON *, const char *key);	/* "" if absent */
double		 tm_num(const cJSON *, const char *key);

/* Replaces every item with copies of array's; keeps the selection. */
void		 tm_list_set(struct tm_list *, const cJSON *array);
/* Adds one copy in front (a log line), dropping the oldest past max. */
void		 tm_list_push(struct tm_list *, const cJSON *obj);
/* The same, keeping *obj itself (left NULL): no copy. */
void		 tm_list_take(struct tm_list *, cJSON **obj);
void		 tm_list_set_filter(struct tm_list *, const char *);
void		 tm_list_move(struct tm_list *, long delta);
void		 tm_list_home(struct tm_list *);
void		 tm_list_end(struct tm_list *);
/* Scrolls so the selection is within rows lines. */
void		 tm_list_scroll(struct tm_list *, size_t rows);
const cJSON	*tm_list_selected(const struct tm_list *);
const cJSON	*tm_list_row(const struct tm_list *, size_t visible_index);
/* The typed row of a visible index / of the selection / by id (NULL
 * without a decoder or when absent). */
const void	*tm_list_item(const struct tm_list *, size_t visible_index);
const void	*tm_list_selected_item(const struct tm_list *);
const void	*tm_list_find(const struct tm_list *, int64_t id);
void		 tm_list_free(struct tm_list *);
/*
 * Removes the item with this id at once (a decision sent: the next key
 * acts on what then shows); the selection stays on the same row, which
 * is now the next item.  Returns 1 if it was there.
 */
int		 tm_list_remove(struct tm_list *, int64_t id);
/* Replaces the item with obj's id, or adds it (a pushed event). */
void		 tm_list_upsert(struct tm_list *, const cJSON *obj);
/* Sets a number field of the item with this id; 1 if it was there. */
int		 tm_list_set_num(struct tm_list *, int64_t id, const char *key,
		    double value);
/* Marks: toggled by id, dropped when their item leaves the list. */
void		 tm_list_mark(struct tm_list *, int64_t id);
int		 tm_list_marked(const struct tm_list *, int64_t id);
void		 tm_list_unmark_all(struct tm_list *);

/*
 * Fits s into width columns keeping its right end, and from 24 columns
 * a short head ("host12.a-…west.evil.test:443"): where a host is cut,
 * its registrable domain and port stay visible, so an agent cannot make
 * one host look like another, and hosts differing on the left stay
 * apart.  Pads with blanks to width; out gets at most outlen bytes.
 */
void		 tm_fit_right_end(const char *s, size_t width, char *out,
		    size_t outlen);

/* Orders: pending newest first; rules newest first. */
int		 tm_cmp_pending(const cJSON *, const cJSON *);
int		 tm_cmp_rules(const cJSON *, const cJSON *);

/*
 * The scope menu of the pending view: label, the API's scope and
 * duration words, and what rule a choice would store for the entry.
 */
struct tm_choice {
	const char	*label;		/* N_() */
	const char	*scope;
	const char	*duration;
};
extern const struct tm_choice tm_scope_choices[];
extern const size_t tm_nscope_choices;
extern const struct tm_choice tm_duration_choices[];
extern const size_t tm_nduration_choices;
/* "agent → *.npmjs.org:*" or "nothing stored" for a pending entry. */
void		 tm_scope_preview(const struct tm_pending *, const char *scope,
		    char *out, size_t outlen);

/* "12s", "5m", "3h", "2d" for a duration in seconds. */
void		 tm_age(int64_t seconds, char *out, size_t outlen);
/* Parses an RFC 3339 time from the API; 0 if absent or invalid. */
int64_t		 tm_time(const cJSON *, const char *key);

/* "512", "12k", "3.4M". */
void	tm_si(double, char *out, size_t n);

/* A conversation as the list shows it. */
struct tm_conv {
	int64_t		id;		/* a hash of cid: the selection's key */
	char		cid[64];
	char		client[32], model[64], container[128], kind[16];
	char		ended[32];
	int		turns, subagents, incomplete;
	double		tok_in, tok_out;
	char		prompt[256];
};
void	tm_decode_conv(const cJSON *, void *);
/* Gives each item of a conversations list a numeric id ("_seq") from
 * its string id, so the selection follows it across refreshes. */
void	tm_conv_ids(cJSON *items);

/*
 * A thread (GET /api/conversations/:id) as lines: a head per turn, the
 * prompt, the assistant's text, thinking and tool calls collapsed to a
 * line each until opened (item), results with their call, sub-agents
 * named (link).  Text is wrapped at width columns and made harmless:
 * control and bidirectional-override characters become '?'.
 */
enum tm_tl { TL_HEAD, TL_USER, TL_TEXT, TL_THINK, TL_TOOL, TL_RESULT,
	TL_ERROR, TL_INFO };
struct tm_tline {
	int		 kind;
	int		 item;		/* -1: not collapsible */
	char		*text;
	char		 link[64];	/* a sub-agent's id, or "" */
};
struct tm_thread {
	cJSON		*doc;		/* owned */
	unsigned char	*open;		/* per item: expanded */
	size_t		 nitems;
	struct tm_tline	*l;
	size_t		 n, cap;
	size_t		 top, cur;	/* first line shown, cursor */
	int		 width;
	char		 search[128];
};
void	tm_thread_set(struct tm_thread *, cJSON *doc, int width);
void	tm_thread_layout(struct tm_thread *, int width);
/* Opens or closes the item of the cursor's line; the cursor stays on
 * it.  Returns 0 if the line has none. */
int	tm_thread_toggle(struct tm_thread *);
/* The next line (dir 1) or previous (-1) after from containing s, case
 * ignored; -1 if none. */
long	tm_thread_find(const struct tm_thread *, const char *s, size_t from,
	    int dir);
void	tm_thread_free(struct tm_thread *);

#endif
