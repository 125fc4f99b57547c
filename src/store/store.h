/*
 * store.h: the only module with SQL.  One SQLite file in WAL mode;
 * the schema is versioned with PRAGMA user_version.
 *
 * Life: gp_store_open() → calls → gp_store_close().  Rule writes are
 * synchronous single transactions (committed before the caller answers,
 * so they survive kill -9).  Connection-log rows are queued in memory by
 * gp_store_log_push() and written in one transaction by
 * gp_store_log_flush(), which the loop calls on a timer.
 */
#ifndef GP_STORE_H
#define GP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "dissect/dissect.h"
#include "rules/rules.h"

struct gp_store;

/* Opens (creating, 0600) and migrates; 0 or -1 with *err (caller frees). */
int	gp_store_open(const char *path, struct gp_store **, char **err);
void	gp_store_close(struct gp_store *);
/* Changes when another connection commits (PRAGMA data_version). */
int64_t	gp_store_data_version(struct gp_store *);
/*
 * Whether another connection changed the rules since we last looked
 * (the log's own writes do not count); gp_store_rules_seen takes the
 * current state as known (after a load).
 */
int	gp_store_rules_changed(struct gp_store *);
void	gp_store_rules_seen(struct gp_store *);

/* The last SQLite error as a negative errno: -ENOSPC, -EBUSY or -EIO. */
int	gp_store_errno(struct gp_store *);

/*
 * Batched writes (connection log, pending counts, DNS cache) when the
 * disk is full: traffic flows on, batches back off (1 s doubling to
 * 30 s) and log rows are dropped and counted; one log line when an
 * episode starts and one when writes succeed again.
 */
int	gp_store_batch_due(struct gp_store *);	/* 1: try now */
void	gp_store_batch_failed(struct gp_store *, int rc);
void	gp_store_batch_ok(struct gp_store *);
struct gp_store_health {
	int		 failing;	/* -errno, 0 when writes succeed */
	const char	*error;		/* borrowed; NULL when fine */
	size_t		 log_queued;
	uint64_t	 log_dropped;	/* rows lost since start */
	uint64_t	 over_budget;	/* of which: identities over budget */
	uint64_t	 log_pruned;	/* rows removed by retention */
};
void	gp_store_health(struct gp_store *, struct gp_store_health *);

/* Rules.  Loaded rows are owned by the caller: gp_store_rules_free(). */
int	gp_store_rules_load(struct gp_store *, struct gp_rule **, size_t *);
void	gp_store_rules_free(struct gp_rule *, size_t);
/* The same rows with only what gp_rules_compile reads. */
int	gp_store_rules_load_matching(struct gp_store *, struct gp_rule **,
	    size_t *);
/*
 * Inserts r (id and created_at filled in).  An unexpired rule with the
 * same container, destination, ports and action is returned instead
 * (*existed = 1).  0, or a negative errno: -ENOSPC (disk or database
 * full), -EBUSY, -EIO.
 */
int	gp_store_rule_add(struct gp_store *, struct gp_rule *r, int *existed);
/* n rules in one transaction (all or none); existed[i] as above. */
int	gp_store_rules_add_many(struct gp_store *, struct gp_rule *, size_t n,
	    int *existed);
int	gp_store_rule_get(struct gp_store *, int64_t id, struct gp_rule *);
/* The layer a stored rule has (builtin, session, global), as loaded. */
void	gp_store_rule_layer(struct gp_rule *);
/* 1 deleted, 0 no such rule, or a negative errno (see rule_add). */
int	gp_store_rule_delete(struct gp_store *, int64_t id);
/* Rewrites every editable field; 1 ok, 0 no such rule, -EEXIST for a
 * duplicate, or a negative errno (see rule_add). */
int	gp_store_rule_update(struct gp_store *, const struct gp_rule *);

/* One decision of the connection log; strings are copied. */
struct gp_conn_log {
	int64_t		 ts;		/* epoch seconds at start */
	const char	*container;	/* identity */
	const char	*client_addr;
	const char	*method;	/* "HTTP" | "SOCKS5" (original's) */
	const char	*request;	/* "GET http://h/p", "CONNECT h:443" */
	const char	*host;
	unsigned	 port;
	const char	*resolved_hostname;	/* may be NULL */
	const char	*resolved_ip;		/* may be NULL */
	int		 allowed;
	int64_t		 rule_id;	/* 0: none */
	const char	*reason;	/* X-Proxy-Error token or "" */
	uint64_t	 bytes_up;
	uint64_t	 bytes_down;
	uint64_t	 duration_ms;
	uint32_t	 count;		/* decisions folded in (0 or 1: one) */
	int64_t		 id;		/* the row's, once queued */
	int64_t		 update_of;	/* not 0: completes that row (its
					 * bytes and duration), no new row */
	int		 open;		/* a tunnel's row at its opening */
};
/*
 * Queues a row.  Each identity may write rows_per_minute rows a minute
 * (gp_store_log_budget; 0: no limit); past it rows are dropped and
 * counted (health log_dropped, over_budget) with one log line when an
 * identity goes over and one with the count when its minute ends.
 */
/* Returns the row's id (given here, in order), or 0 when dropped. */
int64_t	gp_store_log_push(struct gp_store *, const struct gp_conn_log *);
void	gp_store_log_budget(struct gp_store *, uint32_t rows_per_minute);
size_t	gp_store_log_queued(struct gp_store *);
/*
 * From now on the log is written by a thread with its own connection
 * to path; gp_store_log_flush only hands it the queue (returns 1 when
 * it did).  Stopped, after a last batch, by gp_store_close.
 */
int	gp_store_writer_start(struct gp_store *, const char *path,
	    char **err);
/*
 * A worker thread borrows the writer's connection between its batches
 * (NULL: no writer, or stopping) and gives it back; the transaction
 * capture writes through it, so the database has one writer.
 */
struct gp_store *gp_store_writer_lend(struct gp_store *);
void	gp_store_writer_back(struct gp_store *);
/*
 * Retention of the connection log, applied by the writer thread in
 * small steps (about a second apart while there is work): rows older
 * than days, and the oldest rows while the database uses more than
 * max_bytes.  0 turns either off.
 */
void	gp_store_log_retention(struct gp_store *, int days,
	    int64_t max_bytes);
int	gp_store_log_prune_step(struct gp_store *, int64_t before,
	    int64_t max_bytes, int step);
int64_t	gp_store_used_bytes(struct gp_store *);
/* Writes the queued rows and rule hit counts; returns rows written. */
int	gp_store_log_flush(struct gp_store *);
/* Counts a rule hit (flushed with the log). */
void	gp_store_rule_hit(struct gp_store *, int64_t rule_id, int64_t when);

/* Connection-log queries (GET /api/logs). */
struct gp_log_filter {
	const char	*container;	/* exact; NULL any */
	const char	*destination;	/* substring of host/hostname */
	const char	*search;	/* in any shown column, any case */
	int		 result;	/* -1 any, 1 allowed, 0 blocked */
	int64_t		 from, to;	/* epoch seconds; 0 open */
	int		 limit, offset;
};
struct gp_log_row {
	int64_t		 id;
	int64_t		 ts;
	char		*container;
	char		*client_addr;
	char		*method;
	char		*request;
	char		*host;
	unsigned	 port;
	char		*resolved_hostname;
	char		*resolved_ip;
	int		 allowed;
	int64_t		 rule_id;
	char		*reason;
	int64_t		 bytes_up, bytes_down, duration_ms;
	char		*rule_summary;	/* "c → d:p" or NULL */
	int64_t		 count;		/* decisions the row stands for */
	int		 open;		/* a tunnel still open (marked by
					 * the proxy, not stored) */
};
/* Newest first; rows owned by the caller (gp_store_log_rows_free). */
int	gp_store_log_query(struct gp_store *, const struct gp_log_filter *,
	    struct gp_log_row **, size_t *n, int64_t *total);
void	gp_store_log_rows_free(struct gp_log_row *, size_t);
/*
 * For a query on another connection (another thread) that must see every
 * row logged so far: the loop takes a barrier, the reader waits for it
 * (at most ms; 0, or -1 timed out, e.g. while the disk is full).
 */
uint64_t gp_store_log_barrier(struct gp_store *);
int	gp_store_log_wait(struct gp_store *, uint64_t, unsigned ms);
/* Totals for GET /api/logs/stats. */
int	gp_store_log_stats(struct gp_store *, int64_t *total, int64_t *allowed,
	    int64_t *blocked);

/* Pending destinations (pending_requests). */
struct gp_store_pending {
	int64_t		 id;
	const char	*container;
	const char	*host;
	const char	*resolved_hostname;	/* may be NULL */
	unsigned	 port;
	int		 local;
	int64_t		 first_seen, last_seen;
	int64_t		 attempts;
};
/* Writes the entry under its id (the queue gives ids: see _next_id),
 * replacing a row with the same id or key. */
int	gp_store_pending_insert(struct gp_store *,
	    const struct gp_store_pending *);
/* The first id never given to an entry; _given records the ids given
 * up to last_id (those of entries that left unwritten included), so a
 * restart never gives one again. */
int64_t	gp_store_pending_next_id(struct gp_store *);
int	gp_store_pending_given(struct gp_store *, int64_t last_id);
int	gp_store_pending_touch(struct gp_store *, int64_t id, int64_t attempts,
	    int64_t last_seen);
int	gp_store_pending_delete(struct gp_store *, int64_t id);
int	gp_store_pending_load(struct gp_store *,
	    void (*)(void *, const struct gp_store_pending *), void *);

/*
 * txn.c: HTTP transactions.  Heads are stored as JSON {Name:[values]}
 * already redacted; bodies as captured (up to the cap).  insert() runs
 * between gp_store_begin and _commit (a worker's connection); *id is the
 * new row's.
 */
struct gp_tx_row {
	int64_t		 ts;		/* epoch seconds */
	const char	*container, *host, *method, *url;
	unsigned	 port;
	const char	*req_headers, *resp_headers;	/* JSON */
	const char	*req_type, *resp_type;		/* may be NULL */
	const void	*req_body, *resp_body;
	size_t		 req_len, resp_len;		/* stored */
	int64_t		 req_size, resp_size;		/* relayed */
	int		 req_trunc, resp_trunc;
	int		 status;			/* 0: none */
	int64_t		 duration_ms, first_byte_ms;	/* -1: none */
	int		 complete, tls;
	const char	*subst;		/* JSON array of labels, or NULL */
	const char	*session_id;	/* or NULL */
	int		 placeholder_in_body;
	const char	*conversation_id;	/* read back only */
};
int	gp_store_tx_batch_begin(struct gp_store *);
int	gp_store_tx_batch_end(struct gp_store *, int64_t, int64_t, int);
int	gp_store_tx_insert(struct gp_store *, const struct gp_tx_row *,
	    int64_t *id);
/* Stored transactions, newest first: a page (bodies left out), or the
 * one with id (bodies in).  Contains-matches on identity and host. */
struct gp_tx_filter {
	int64_t		 id;		/* > 0: that one, with bodies */
	const char	*container, *destination, *method;
	const char	*session_id;
	const char	*search;	/* in any listed column, any case */
	int64_t		 from, to;	/* epoch s, 0: open */
	int		 limit, offset;
};
struct gp_tx_stored {
	int64_t			 id;
	struct gp_tx_row	 row;	/* points into s[] and b[] */
	char			*s[11];
	void			*b[2];
};
int	gp_store_tx_query(struct gp_store *, const struct gp_tx_filter *,
	    struct gp_tx_stored **, size_t *n, int64_t *total);
void	gp_store_tx_free(struct gp_tx_stored *, size_t n);
/* A step of retention (txn.c): deleted rows, or -errno. */
/*
 * Worker: rewrites the stored heads of up to limit rows after *after (id
 * order), in one transaction: fn returns a new head (malloc'd) or NULL to
 * keep it.  Returns the rows seen (0: no more; fewer than limit when
 * the loop wanted the write lock) or -errno; *after moves past them,
 * *changed counts the rows updated.
 */
typedef char *(*gp_store_head_fn)(void *, const char *json);
int	gp_store_tx_rewrite_heads(struct gp_store *, int64_t *after, int limit,
	    gp_store_head_fn, void *, int *changed);
int64_t	gp_store_tx_count(struct gp_store *);
int	gp_store_tx_prune(struct gp_store *, int64_t before,
	    int64_t max_bytes, int limit, int *more);
/* The payload of transaction.new. */
struct gp_tx_event {
	int64_t			 id;
	const struct gp_tx_row	*row;
};

/* DNS cache persistence; call between gp_store_begin and _commit. */
int	gp_store_begin(struct gp_store *);
/* The same, but waiting at most ms for another writer (0: failing at
 * once): for the loop's periodic batches, which try again at the next
 * tick. */
int	gp_store_begin_within(struct gp_store *, int ms);
/*
 * How long a write waits for another connection's transaction (5 s by
 * default); 0 while an ingest holds the lock for a second, so the loop's
 * writes fail at once (and are kept in memory or retried) instead.
 */
void	gp_store_busy_wait(struct gp_store *, int ms);
/*
 * 1 while the loop's connection waits for the write lock: a background
 * writer ends its transaction at its next step.
 */
int	gp_store_urgent(void);
int	gp_store_commit(struct gp_store *);
void	gp_store_rollback(struct gp_store *);
/* A connection whose owner reports its own write failures (the
 * connection log's wording is not theirs). */
void	gp_store_set_quiet(struct gp_store *, int);
/* The page cache of a connection that writes one big transaction (an
 * ingest): room for its dirty pages, so that none is written to the WAL
 * before the commit and again after it. */
void	gp_store_set_cache_kib(struct gp_store *, int);
void	gp_store_set_temp_memory(struct gp_store *);
int	gp_store_dns_answer(struct gp_store *, const char *key, const void *,
	    size_t, int64_t stored, int64_t expires, int negative);
int	gp_store_dns_host(struct gp_store *, const char *ip, const char *host,
	    int64_t expires);
/* Deletes expired rows (all of them when clear). */
int	gp_store_dns_prune(struct gp_store *, int64_t now, int clear);
/*
 * A bounded step of the same, for the loop's tick: at most step expired
 * rows of each table, and at most step of the rows written before the
 * last keep_answers answers and keep_hosts hosts (a flood of new names
 * must not grow the file, nor make a later prune long).  Returns the
 * rows deleted, or -1.
 */
int	gp_store_dns_trim(struct gp_store *, int64_t now, int keep_answers,
	    int keep_hosts, int step);
int	gp_store_dns_load(struct gp_store *, int64_t now,
	    void (*answer)(void *, const char *, const void *, size_t,
	    int64_t, int64_t, int),
	    void (*host)(void *, const char *, const char *, int64_t),
	    void *);

/* cred.c: global credentials (the value only ever sealed). */
struct gp_cred_row {
	char		 id[32];
	char		 label[128];
	char		 placeholder[96];
	unsigned char	*value_enc;
	size_t		 value_len;
	char		 preview[32];
	char		*hosts;		/* globs, one a line */
	int64_t		 created_at;
};
/* 0; -EEXIST when the label is taken. */
int	gp_store_cred_insert(struct gp_store *, const struct gp_cred_row *);
/* 0, or -ENOENT. */
int	gp_store_cred_delete(struct gp_store *, const char *id);
int	gp_store_cred_set_hosts(struct gp_store *, const char *id,
	    const char *hosts);
int	gp_store_cred_set_preview(struct gp_store *, const char *id,
	    const char *preview);
/* Every row, newest first (caller frees with gp_store_creds_free). */
int	gp_store_creds_load(struct gp_store *, struct gp_cred_row **,
	    size_t *);
void	gp_store_creds_free(struct gp_cred_row *, size_t);

/* cred.c: greywall's sessions (mappings sealed). */
struct gp_session_row {
	const char	*id, *container;
	unsigned char	*mappings_enc;
	size_t		 mappings_len;
	char		*labels, *globals, *metadata, *rule_ids;	/* JSON */
	char		*bound;		/* JSON {label: hosts}, or NULL */
	int		 ttl, allow_all;
	int64_t		 created_at, expires_at, last_heartbeat;
	int64_t		 substitutions;
};
int	gp_store_session_put(struct gp_store *, const struct gp_session_row *);
int	gp_store_session_delete(struct gp_store *, const char *id);
int	gp_store_sessions_load(struct gp_store *, struct gp_session_row **,
	    size_t *);
void	gp_store_sessions_free(struct gp_session_row *, size_t);
/* A session's substitution count (a worker, between begin and commit). */
int	gp_store_session_count(struct gp_store *, const char *id, int64_t n);

/*
 * conv.c: LLM conversations (assembled by ctl/conv.c on the capture
 * worker's connection).  tok[]: input, output, cache read, cache write.
 */
struct gp_conv_row {
	const char	*id, *container, *client, *provider, *model, *kind;
	const char	*utility_reason, *session_key, *parent_id;
	const char	*parent_tool_use_id, *system_prompt, *first_prompt;
	const char	*messages_json, *req_fp, *last_response_id;
	const char	*incomplete_reason;
	int64_t		 started_at, ended_at;
	int		 turn_count, last_turn_has_response, incomplete;
	int		 requests, parseable, truncated, messages_in_best;
	int64_t		 best_request_id;
	int64_t		 tok[4];
};
struct gp_conv_loaded {		/* a row read back: s[] owns its strings */
	struct gp_conv_row	 row;
	char			*s[16];
};
struct gp_conv_cand {
	char	*id, *fp;
};
struct gp_conv_req {
	int64_t		 tx_id, ts, duration_ms, first_token_ms;
	const char	*conversation_id, *model, *stop_reason, *error, *why;
	int		 turn_number, status, stream;
	int64_t		 tok[4];
};
struct gp_conv_txref {		/* a transaction the assembler may read */
	int64_t		 id, req_len;	/* req_len: the stored body's */
	const char	*host, *method, *url, *req_type;
};
struct gp_conv_filter {
	const char	*client, *model, *provider, *container, *text;
	int64_t		 from, to;
	int		 limit, offset, utility, children;
};
int	gp_store_conv_put(struct gp_store *, const struct gp_conv_row *);
int	gp_store_conv_get(struct gp_store *, const char *id,
	    struct gp_conv_loaded *);
int	gp_store_conv_by_response(struct gp_store *, const char *container,
	    const char *response_id, struct gp_conv_loaded *);
void	gp_store_conv_loaded_free(struct gp_conv_loaded *);
/* Conversations key k's (container, client, kind, session) may continue,
 * most recently updated first. */
int	gp_store_conv_candidates(struct gp_store *, const struct gp_conv_row *k,
	    int limit, struct gp_conv_cand **, size_t *n);
void	gp_store_conv_cand_free(struct gp_conv_cand *, size_t n);
struct cJSON;
/* Turn n's prompt as stored (malloc'd), or -ENOENT. */
int	gp_store_conv_turn_prompt(struct gp_store *, const char *id, int n,
	    char **prompt);
/* The turns from number from on, written again (those before stay). */
int	gp_store_conv_turns(struct gp_store *, const char *id,
	    const struct cJSON *turns, int from);
int	gp_store_conv_request(struct gp_store *, const struct gp_conv_req *);
int	gp_store_conv_agent_put(struct gp_store *, const char *parent,
	    const char *tool_use_id, const char *tool, const char *container,
	    const char *session_key, const char *prompt_fp);
/* The oldest unclaimed agent call whose prompt is prompt_fp, now child's:
 * its parent and tool_use_id (malloc'd), or -ENOENT. */
int	gp_store_conv_agent_claim(struct gp_store *, const char *container,
	    const char *session_key, const char *prompt_fp, const char *child,
	    char **parent, char **tool_use_id);
int	gp_store_tx_set_conversation(struct gp_store *, int64_t tx_id,
	    const char *conv);
int	gp_store_conv_clear(struct gp_store *);
/* A step of retention: up to limit conversations that ended before
 * (with their turns, requests and calls); how many, or -errno. */
int	gp_store_conv_prune(struct gp_store *, int64_t before, int limit);
int	gp_store_conv_state(struct gp_store *, const char *key, int64_t *);
int	gp_store_conv_state_set(struct gp_store *, const char *key, int64_t);
/* Up to limit transactions after id after (no bodies); *remaining: how
 * many more there are past them. */
int	gp_store_conv_todo(struct gp_store *, int64_t after, int limit,
	    struct gp_conv_txref **, size_t *n, int64_t *remaining);
void	gp_store_conv_txref_free(struct gp_conv_txref *, size_t n);
/* Query workers: cJSON in the original's names (NULL: not found). */
struct cJSON *gp_store_conv_list(struct gp_store *,
	    const struct gp_conv_filter *);
struct cJSON *gp_store_conv_detail(struct gp_store *, const char *id);
struct cJSON *gp_store_conv_subagents(struct gp_store *, const char *id);
/* Endpoint rules: built-ins seeded (user_defined 0), users' own. */
int	gp_store_endpoint_seed(struct gp_store *,
	    const struct gp_endpoint_rule *, size_t n);
int	gp_store_endpoint_list(struct gp_store *, int enabled_only,
	    struct gp_endpoint_rule **, size_t *n);
void	gp_store_endpoint_free(struct gp_endpoint_rule *, size_t n);
/* Inserts (id 0: *id set) or updates a user rule; -ENOENT: no such user
 * rule; -EEXIST: the same rule exists. */
int	gp_store_endpoint_put(struct gp_store *, struct gp_endpoint_rule *);
int	gp_store_endpoint_delete(struct gp_store *, int64_t id);
int	gp_store_endpoint_suggest(struct gp_store *, const char *host,
	    const char *path, const char *method, const char *decoder,
	    int64_t ts, int64_t tx_id);
struct cJSON *gp_store_endpoint_suggestions(struct gp_store *);

#endif
