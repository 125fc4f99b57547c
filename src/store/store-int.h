/* store-int.h: shared between the store's files only. */
#ifndef GP_STORE_INT_H
#define GP_STORE_INT_H

#include <sqlite3.h>

#include "store/store.h"

enum gp_stmt {
	ST_DATA_VERSION, ST_RULES_LOAD, ST_RULE_FIND, ST_RULE_INSERT,
	ST_RULE_GET, ST_RULE_DELETE, ST_RULE_PURGE, ST_LOG_INSERT, ST_LOG_UPDATE,
	ST_RULE_HIT, ST_PENDING_INSERT, ST_PENDING_TOUCH, ST_PENDING_DELETE,
	ST_PENDING_LOAD, ST_PENDING_NEXT, ST_PENDING_SEQ_ADD,
	ST_PENDING_SEQ_SET, ST_RULE_UPDATE, ST_DNS_ANSWER, ST_DNS_HOST,
	ST_RULES_VERSION, ST_TX_INSERT, ST_TX_BYTES_ADD, ST_LOG_COUNTS_ADD,
	ST_DNS_TRIM_A_EXP, ST_DNS_TRIM_A_OLD, ST_DNS_TRIM_H_EXP,
	ST_DNS_TRIM_H_OLD,
	ST__COUNT
};

struct gp_logrow;
struct gp_logwriter;
/* Per-identity log budget: rows in the current minute. */
#define GP_BUDGET_SLOTS	256
struct gp_budget {
	uint64_t	hash;		/* 0: free */
	char		id[128];
	int64_t		minute;
	uint32_t	used;
	uint64_t	dropped;	/* this episode, for the log line */
};
struct gp_hit {
	int64_t	rule_id;
	int64_t	count;
	int64_t	last;
};

struct gp_store {
	sqlite3			*db;
	int64_t			 dv_seen;	/* PRAGMA data_version */
	int64_t			 rules_seen;	/* rules_version.v loaded */
	int			 busy_ms;	/* waiting for another writer */
	int			 priority;	/* the loop's: goes first */
	uint64_t		 busy_since;	/* its wait began (ns) */
	int			 counting;	/* triggers off: batches count */
	sqlite3_stmt		*stmts[ST__COUNT];
	struct gp_logrow	*logq;
	size_t			 nlog, caplog;
	size_t			 logdone;	/* rows committed by a yield */
	int			 yielded;	/* the last flush gave way */
	struct gp_hit		*hits;
	size_t			 nhits, caphits;
	/* batched writes failing (disk full): one episode at a time */
	int			 failing;	/* -errno of the episode, or 0 */
	int			 quiet;		/* its owner words failures */
	char			 failure[128];	/* its SQLite message */
	uint64_t		 retry_ms;	/* next attempt (monotonic) */
	unsigned		 backoff_ms;
	uint64_t		 dropped;	/* log rows lost, since start */
	uint64_t		 episode_dropped;
	int			 queue_full;	/* queue at its bound, episode */
	uint32_t		 budget;	/* rows per identity-minute */
	uint64_t		 over_budget;	/* rows dropped by it */
	struct gp_budget	 budgets[GP_BUDGET_SLOTS];
	struct gp_logwriter	*writer;	/* NULL: the caller writes */
	int			 ret_days;	/* log retention: 0 forever */
	int64_t			 ret_bytes;	/* 0: no cap */
	char			 wfailure[128];	/* the writer's, copied */
	int64_t			 log_last_id;	/* ids given to queued rows */
	int			 log_ids;	/* log_last_id read */
};

/* writer.c */
struct gp_logwriter;
int	gp_store_writer_take(struct gp_store *);
void	gp_store_writer_health(struct gp_store *, struct gp_store_health *);
void	gp_store_writer_stop(struct gp_store *);
void	gp_store_writer_sync(struct gp_store *);
uint64_t gp_store_writer_checkpoints(struct gp_store *);
/* db.c: the loop's connection waits for the write lock before anyone
 * else; a background connection holds off while it does. */
void	gp_store_set_priority(struct gp_store *);
void	gp_store_give_way(struct gp_store *);
void	gp_store_writer_retention(struct gp_store *, int days,
	    int64_t max_bytes);
/* logs.c: drops the queued rows, counted. */
void	gp_store_log_discard(struct gp_store *);

/* Prepared once, reset and unbound on every call. */
sqlite3_stmt	*gp_store_stmt(struct gp_store *, enum gp_stmt, const char *);
/*
 * A count and one page of rows, newest first: "SELECT count(*) FROM
 * from" and "SELECT cols FROM from", both with where()'s clause and
 * bind()'s values; each row filled by row() into an element of size.
 */
struct gp_store_page_q {
	const char	*what, *cols, *from, *order;
	int		 limit, offset;
	size_t		 size;
	void		(*where)(struct gp_buf *, const void *);
	void		(*bind)(sqlite3_stmt *, const void *);
	void		(*row)(sqlite3_stmt *, void *, const void *);
	void		(*free_rows)(void *, size_t);
};
/* Binds a named parameter if the statement has it (values copied). */
void	gp_store_bind_named(sqlite3_stmt *, const char *name, const char *);
void	gp_store_bind_time(sqlite3_stmt *, const char *name, int64_t);
int	gp_store_page(struct gp_store *, const struct gp_store_page_q *,
	    const void *arg, void **out, size_t *n, int64_t *total);
/* Runs a statement that returns no rows, resets it, logs a failure
 * naming what (once per failing episode); 0 or a negative errno. */
int		 gp_store_run(struct gp_store *, sqlite3_stmt *, const char *);
int		 gp_store_run_id(struct gp_store *, enum gp_stmt, const char *,
		    int64_t, const char *);
int64_t		 gp_store_int64(struct gp_store *, enum gp_stmt, const char *);
/* A copy of text column i (NULL for SQL NULL); caller frees. */
char		*gp_store_col_text(sqlite3_stmt *, int i);

/* rules.c's writes: a transaction around them (db.c). */
int	gp_store_rules_write_begin(struct gp_store *, int64_t *before);
int	gp_store_rules_write_end(struct gp_store *, int64_t before, int rc);

/* The first column of a one-row query (a count, a pragma), or -1. */
int64_t	gp_store_int(struct gp_store *, const char *sql);
/* This connection's triggers off (on 0) or on again; while they are
 * confirmed off, s->counting is set and batches add the counts the
 * triggers would have (txn.c, logs.c). */
void	gp_store_triggers(struct gp_store *, int on);

#endif
