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

#include "rules/rules.h"

struct gp_store;

/* Opens (creating, 0600) and migrates; 0 or -1 with *err (caller frees). */
int	gp_store_open(const char *path, struct gp_store **, char **err);
void	gp_store_close(struct gp_store *);
/* Changes when another connection commits (PRAGMA data_version). */
int64_t	gp_store_data_version(struct gp_store *);

/* Rules.  Loaded rows are owned by the caller: gp_store_rules_free(). */
int	gp_store_rules_load(struct gp_store *, struct gp_rule **, size_t *);
void	gp_store_rules_free(struct gp_rule *, size_t);
/*
 * Inserts r (id and created_at filled in).  An unexpired rule with the
 * same container, destination, ports and action is returned instead
 * (*existed = 1).  0 or -1.
 */
int	gp_store_rule_add(struct gp_store *, struct gp_rule *r, int *existed);
int	gp_store_rule_get(struct gp_store *, int64_t id, struct gp_rule *);
/* 1 deleted, 0 no such rule, -1 error. */
int	gp_store_rule_delete(struct gp_store *, int64_t id);

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
};
void	gp_store_log_push(struct gp_store *, const struct gp_conn_log *);
size_t	gp_store_log_queued(struct gp_store *);
/* Writes the queued rows and rule hit counts; returns rows written. */
int	gp_store_log_flush(struct gp_store *);
/* Counts a rule hit (flushed with the log). */
void	gp_store_rule_hit(struct gp_store *, int64_t rule_id, int64_t when);

#endif
