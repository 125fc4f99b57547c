/*
 * core.h: the pieces every module uses: allocation that never returns
 * NULL, the log (the one global), growable byte buffers, reason codes
 * and time helpers.  Nothing here knows about libuv handles.
 */
#ifndef GP_CORE_H
#define GP_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef ENABLE_NLS
#include <libintl.h>
#define _(s) gettext(s)
#define P_(s, p, n) ngettext(s, p, n)	/* "1 turn", "2 turns" */
#else
#define _(s) (s)
#define P_(s, p, n) ((n) == 1 ? (s) : (p))
#endif
#define N_(s) (s)

#define GP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A string literal with its length known when compiled (GP_LIT("x")). */
struct gp_lit {
	const char	*s;
	size_t		 n;
};
#define GP_LIT(s)	{ s, sizeof s - 1 }

/* Parser results: > 0 bytes consumed, or one of these. */
#define GP_AGAIN  (-11)		/* need more input */
#define GP_EPROTO (-71)		/* malformed input; see the reason */

/* A glob of * and ? matched against s, with icase ASCII case ignored
 * (no locale, no classes: host and header names, paths). */
int	 gp_glob(const char *pat, const char *s, int icase);
int	 gp_glob_icase(const char *pat, const char *s);	/* icase 1 */
/* Does s match one of the globs in globs (one per line), as above?
 * Settings such as mitmBypass and redactedHeaders. */
int	 gp_globs_match(const char *globs, const char *s);

/* mem.c: allocation failure aborts (tmux xmalloc). */
void	*gp_xmalloc(size_t);
void	*gp_xcalloc(size_t, size_t);
void	*gp_xrealloc(void *, size_t);
char	*gp_xstrdup(const char *);
char	*gp_xstrndup(const char *, size_t);
int	 gp_xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 gp_panic(const char *, ...) __attribute__((noreturn,
	    format(printf, 1, 2)));
/*
 * Zeroed memory for big arrays read at random (rule indexes): from
 * GP_MAP_MIN on, a mapping of its own aligned to 2 MiB and offered huge
 * pages, so that a lookup with a cold cache does not also walk the page
 * tables for every line it misses; below it, calloc.  Free and grow with
 * the size it was made with; growing a mapping moves its pages, not its
 * bytes.
 */
#define GP_MAP_MIN	((size_t)1 << 20)
void	*gp_xmap(size_t);
void	*gp_xremap(void *, size_t, size_t);
void	 gp_xunmap(void *, size_t);

/* Hot code: the linker keeps it together, so that a decision with a cold
 * cache touches few pages of code. */
#define GP_HOT	__attribute__((hot))

/* arena.c: allocations freed together; zero-initialize, then
 * gp_arena_free() releases everything it handed out.  chunk: the size
 * of its chunks (0: 4 KiB); from GP_MAP_MIN on they come from gp_xmap. */
struct gp_arena_chunk;
struct gp_arena {
	struct gp_arena_chunk	*head;
	size_t			 total;		/* bytes handed out */
	size_t			 chunk;
};
void	*gp_arena_alloc(struct gp_arena *, size_t);	/* max-aligned */
char	*gp_arena_strndup(struct gp_arena *, const char *, size_t);
void	 gp_arena_free(struct gp_arena *);

/*
 * Reasons: one table feeds the X-Proxy-Error header, the log and the UI.
 * X(symbol, wire token, HTTP status, SOCKS5 reply code, log label): the
 * log label tells apart what the wire must not (a client trying to
 * reach greyproxy itself is told only "blocked-by-policy").
 */
#define GP_REASONS(X)							\
	X(NONE, "", 200, 0x00, "")					\
	X(DENYLIST, "blocked-by-denylist", 403, 0x02, NULL)		\
	X(ALLOWLIST, "blocked-by-allowlist", 403, 0x02, NULL)		\
	X(PENDING_TIMEOUT, "blocked-by-pending-timeout", 403, 0x02, NULL) \
	X(PENDING_FULL, "blocked-by-pending-limit", 503, 0x02, NULL)	\
	X(PENDING_CLOSED, "blocked-by-pending-shutdown", 403, 0x02, NULL) \
	X(PENDING_LEFT, "client-left", 403, 0x02, "left-while-pending") \
	X(METHOD_POLICY, "blocked-by-method-policy", 403, 0x02, NULL)	\
	X(POLICY, "blocked-by-policy", 403, 0x02, NULL)			\
	X(REQUEST_RULE, "blocked-by-request-rule", 403, 0x02, NULL)	\
	X(CRED_DESTINATION, "blocked-credential-destination", 403, 0x02,	\
	    "credential-sent-elsewhere")				\
	X(CRED_PLAINTEXT, "blocked-credential-plaintext", 403, 0x02,	\
	    "credential-sent-in-clear")					\
	X(CRED_IDENTITY, "blocked-credential-identity", 403, 0x02,	\
	    "credential-from-another-sandbox")				\
	X(SELF, "blocked-by-policy", 403, 0x02, "attack-greyproxy-itself") \
	X(BAD_REQUEST, "bad-request", 400, 0x01, NULL)			\
	X(HEADER_TOO_LARGE, "header-too-large", 431, 0x01, NULL)	\
	X(NOT_IMPLEMENTED, "not-implemented", 501, 0x07, NULL)		\
	X(DNS_FAILED, "dns-failed", 502, 0x04, NULL)			\
	X(CONNECT_REFUSED, "upstream-refused", 502, 0x05, NULL)		\
	X(CONNECT_UNREACHABLE, "upstream-unreachable", 502, 0x04, NULL)	\
	X(CONNECT_FAILED, "upstream-connect-failed", 502, 0x01, NULL)	\
	X(UPSTREAM_TIMEOUT, "upstream-timeout", 504, 0x04, NULL)	\
	X(UPSTREAM_PROTOCOL, "upstream-bad-response", 502, 0x01, NULL)	\
	X(UPSTREAM_TLS, "upstream-tls-failed", 502, 0x01, NULL)		\
	X(SHUTDOWN, "shutting-down", 503, 0x01, NULL)
enum gp_reason {
#define X(sym, tok, http, socks, label) GP_R_##sym,
	GP_REASONS(X)
#undef X
	GP_R__COUNT
};
const char	*gp_reason_token(enum gp_reason);
/* The label for the connection log and the UI (the token unless the
 * table names another). */
const char	*gp_reason_label(enum gp_reason);
int		 gp_reason_http_status(enum gp_reason);
int		 gp_reason_socks_reply(enum gp_reason);

/* log.c: the level is checked before formatting (redis serverLog). */
enum gp_log_level { GP_LOG_ERROR, GP_LOG_WARN, GP_LOG_INFO, GP_LOG_DEBUG };
extern int gp_log_level;
#define gp_log(lvl, ...) do {						\
	if ((lvl) <= gp_log_level)					\
		gp_log_write((lvl), __VA_ARGS__);			\
} while (0)
void	 gp_log_write(int, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 gp_log_open_file(const char *);	/* 0 or -errno */
int	 gp_log_parse_level(const char *);	/* level or -1 */
/* Copies s into out escaping control and non-ASCII bytes; returns out. */
char	*gp_log_escape(char *out, size_t outlen, const char *s, size_t n);
/*
 * s made safe for a terminal and cut to w screen columns (w < 0: no
 * limit), padded with spaces to w with pad, into out (always
 * terminated); returns the columns it takes.  Controls become '?',
 * bytes that are not UTF-8 "\\xNN", characters that hide or reorder
 * text (bidi overrides, zero-width spaces, tag characters) "<U+NNNN>".
 * Needs the locale set (LC_CTYPE).
 */
int	 gp_text_fit(char *out, size_t n, const char *s, int w, int pad);
/* The same never cut, padded to at least w columns; returns out. */
const char *gp_text_pad(char *out, size_t n, const char *s, int w);
/* gp_text_pad into a string of its own size; the caller frees it. */
char	*gp_text_padded(const char *s, int w);

/* buf.c: growable byte buffer; owner frees with gp_buf_free(). */
struct gp_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};
void	 gp_buf_reserve(struct gp_buf *, size_t extra);
void	 gp_buf_add(struct gp_buf *, const void *, size_t);
void	 gp_buf_addstr(struct gp_buf *, const char *);
/* v in decimal, at least width digits (heads built per request: no
 * printf). */
void	 gp_buf_add_uint(struct gp_buf *, unsigned v, int width);
void	 gp_buf_printf(struct gp_buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 gp_buf_consume(struct gp_buf *, size_t);	/* drop from front */
/* Room for at least min more bytes at the end: returns where, sets
 * *avail; the caller adds what it wrote to len (read callbacks). */
char	*gp_buf_tail(struct gp_buf *, size_t min, size_t *avail);
void	 gp_buf_reset(struct gp_buf *);
void	 gp_buf_free(struct gp_buf *);

/*
 * bus.c: events from the core to whoever listens (API WebSocket, TUI).
 * gp_bus_emit() calls each subscriber synchronously; obj is borrowed for
 * the duration of the call.  Unsubscribing during a dispatch only marks
 * the subscriber dead (swept afterwards); one added during a dispatch
 * does not receive that event.
 * X(symbol, wire name): names follow the original greyproxy.
 */
#define GP_EVENTS(X)							\
	X(PENDING_CREATED, "pending_request.created")			\
	X(PENDING_UPDATED, "pending_request.updated")			\
	X(PENDING_ALLOWED, "pending_request.allowed")			\
	X(PENDING_DISMISSED, "pending_request.dismissed")		\
	X(WAITERS_CHANGED, "waiters.changed")				\
	X(LOG_CREATED, "request_log.created")				\
	X(LOG_UPDATED, "request_log.updated")				\
	X(RULE_CREATED, "rule.created")					\
	X(RULE_UPDATED, "rule.updated")					\
	X(RULE_DELETED, "rule.deleted")					\
	X(SETTINGS_CHANGED, "settings.changed")				\
	X(TRANSACTION_NEW, "transaction.new")				\
	X(MAINTENANCE_PROGRESS, "maintenance.progress")			\
	X(CREDENTIAL_BLOCKED, "credential.blocked")			\
	X(SESSION_CREATED, "session.created")				\
	X(SESSION_DELETED, "session.deleted")				\
	X(SESSION_EXPIRED, "session.expired")				\
	X(SESSION_HEARTBEAT, "session.heartbeat")			\
	X(SESSION_SUBSTITUTION, "session.substitution")		\
	X(CONVERSATION_UPDATED, "conversation.updated")
enum gp_event {
#define X(sym, name) GP_EV_##sym,
	GP_EVENTS(X)
#undef X
	GP_EV__COUNT
};
typedef void (*gp_bus_fn)(void *data, enum gp_event, const void *obj);
struct gp_bus_sub;
struct gp_bus {
	struct gp_bus_sub	*subs;
	size_t			 n, cap;
	int			 depth;		/* dispatch nesting */
	int			 dead;		/* subscribers to sweep */
};
const char	*gp_event_name(enum gp_event);
int		 gp_event_parse(const char *);	/* event or -1 */
/* Returns a subscription id (> 0). */
int		 gp_bus_subscribe(struct gp_bus *, gp_bus_fn, void *);
void		 gp_bus_unsubscribe(struct gp_bus *, int id);
void		 gp_bus_emit(struct gp_bus *, enum gp_event, const void *);
void		 gp_bus_free(struct gp_bus *);

/* time.c */
/* xorshift64: a small deterministic generator (tests, benchmarks),
 * never for anything an attacker may predict. */
static inline uint64_t
gp_xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}
int64_t	 gp_now(void);				/* wall clock, seconds */
int64_t	 gp_later(int64_t);			/* ≥ that many s from now */
uint64_t gp_now_ms(void);			/* monotonic, milliseconds */

/*
 * lane.c: a background thread of the idle scheduling class that runs a
 * caller's steps while a core is spare, and one of the normal class at
 * a low priority (nice 10) that runs them when the loop is busy or the
 * idle one is starved; the caller waits.  NULL lanes
 * (GREYPROXY_BACKGROUND=normal, or no thread) run them in place.
 */
struct gp_lane;
typedef int (*gp_lane_step_fn)(void *);	/* 1: call again, 0: done */
struct gp_lane	*gp_lane_start(void);
void		 gp_lane_stop(struct gp_lane *);
void		 gp_lane_run(struct gp_lane *, gp_lane_step_fn, void *);
int		 gp_lane_yield(void);	/* in a step: end it now (starved) */
uint64_t	 gp_lane_handovers(struct gp_lane *);
void		 gp_lane_load(unsigned pct);	/* the loop's busy share */
/* "YYYY-MM-DD HH:MM:SS" (UTC, SQLite datetime()) <-> epoch; -1 on error. */
int64_t	 gp_time_parse_sql(const char *);
void	 gp_time_format_sql(int64_t, char out[20]);
void	 gp_time_format_rfc3339(int64_t, char out[21]);

#endif
