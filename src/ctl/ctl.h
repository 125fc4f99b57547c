/*
 * ctl.h: the in-process core and every operation the interfaces (REST
 * API, WebSocket, TUI, CLI) perform on it.  Owns the store, resolver,
 * pending queue, settings, event bus, compiled rules and the proxy
 * listeners; the proxy borrows from it.
 *
 * Life: gp_ctl_start() → operations → gp_ctl_stop() (closes handles; let
 * the loop run) → gp_ctl_free().  Every operation that changes policy is
 * committed to SQLite before it returns, then announced on the bus.
 */
#ifndef GP_CTL_H
#define GP_CTL_H

#include <cjson/cJSON.h>
#include <uv.h>

#include "conf/conf.h"
#include "mitm/mitm.h"
#include "pending/pending.h"
#include "proxy/proxy.h"
#include "rules/rules.h"
#include "store/store.h"

#define GP_BLOCKED_RING 64

struct gp_blocked {
	int64_t		 ts;
	char		 host[GP_HOST_MAX];
	unsigned	 port;
	char		 container[128];
	char		 reason[40];
	char		 method[8];
};

/*
 * The loop's own health: per iteration, the time spent outside the poll
 * wait (callbacks, timers, swaps).  A long one stalls every connection.
 */
struct gp_loop_stats {
	uint64_t	iterations;
	uint64_t	busy_over_1ms, busy_over_10ms;
	uint64_t	busy_max_ns;
};

struct gp_ctl_waiter;

struct gp_ctl {
	uv_loop_t		*loop;
	const struct gp_config	*cfg;		/* borrowed */
	struct gp_store		*store;
	struct gp_resolver	*res;
	struct gp_bus		 bus;
	struct gp_pending	 pending;
	struct gp_settings	 settings;
	struct gp_proxy		 px;
	struct gp_ruleset	*rules;
	uv_tcp_t		 http, socks;
	struct sockaddr_storage	 http_bound, socks_bound, dns_bound;
	struct gp_dns_cache	*dns_cache;
	int			 dns_trim;	/* a full trim step: more due */
	int			 flush_misses;	/* ticks the batch found busy */
	struct gp_dns_server	*dns;
	struct gp_dnslog	*dnslog;	/* DNS rows, folded */
	uv_timer_t		 flush, watch;
	uv_prepare_t		 gauge;		/* the loop's busy time */
	uint64_t		 gauge_wall, gauge_idle;
	uint64_t		 load_wall, load_idle;	/* the lanes' gauge */
	struct gp_loop_stats	 loop_stats;
	int			 started;
	int			 redacting;	/* a redaction job runs */
	struct gp_cred		*creds;		/* global, newest first */
	size_t			 ncreds, capcreds;
	unsigned char		 vkey[32];	/* session.key, once read */
	int			 vkey_ok;
	struct gp_session	*sessions;	/* greywall's, live */
	size_t			 nsessions;
	char			 session_why[256];
	int			 bus_sub;
	int			 rejudge_hold;	/* >0: a decision in progress */
	int			 lock_fd;	/* the data directory's lock */
	char			*db_path;
	uint64_t		 rules_gen;	/* edits of the compiled set */
	int			 ingesting;	/* a worker stores and compiles */
	int			 reloading;	/* a worker loads and compiles */
	struct gp_ctl_waiter	*after_ingest;	/* changes held meanwhile */
	int			 reload_again;	/* asked for meanwhile */
	/* The log's queries run on workers, through one reader connection. */
	uv_mutex_t		 reader_mu;
	int			 reader_mu_ok;
	struct gp_store		*reader;	/* under reader_mu */
	struct gp_blocked	 blocked[GP_BLOCKED_RING];
	size_t			 nblocked;	/* total ever, ring index */
	struct gp_ca		*ca;		/* NULL: none loaded */
	EVP_PKEY		*leaf_key;	/* made on a worker at start */
	struct gp_mitm		*mitm;		/* ca + leaf_key, when both */
	uint64_t		 mitm_gen;	/* moves with each CA load */
	char			 ca_error[256];	/* why the files did not load */
	int			 ca_generating;	/* a worker makes a key */
	/* capture.c: transactions waiting for the writer (a worker with
	 * its own connection, one batch at a time). */
	struct gp_ctl_tx	*tx_head, **tx_tail;
	/* The batch just stored, announced (transaction.new) and freed a
	 * slice per loop turn: thousands never stall the loop. */
	struct gp_ctl_tx	*ann_head;
	uv_idle_t		 announce;
	size_t			 tx_bytes;
	uint64_t		 tx_dropped;
	int			 tx_writing, tx_failing;
	uint64_t		 tx_prune_at;	/* loop ms */
	uint64_t		 tx_pruned;
	struct gp_store		*tx_store;
	struct gp_lane		*tx_lane;	/* tx_store's writes run there */
	int			 tx_lane_tried;
	/* conv.c: the assembler runs in the same worker jobs. */
	struct gp_conv_env	*conv_env;	/* the worker's */
	uint64_t		 endpoint_gen;	/* endpoint rules' edits */
	int			 conv_rebuild;	/* asked: next job clears */
	int			 conv_rebuilding;	/* until caught up */
	int			 conv_more;	/* transactions left to read */
	int64_t			 conv_done, conv_total;	/* rebuild progress */
	int			 conv_version;	/* stored; -1 unknown */
};

/*
 * The fields above are private to src/ctl/: the API, the CLI and the
 * TUI call the gp_ctl_* operations below (tests/unit/layering.sh keeps
 * it so), which store, apply and announce.
 */

/*
 * mitm.c: interception's CA.  load() reads the data directory's CA again
 * (start, SIGHUP, POST /api/cert/reload, `cert reload`): 0, -ENOENT (no
 * CA), or -EINVAL with the reason in the status; the old one stays in
 * use when the new files cannot be.  generate_async() makes a new key
 * and certificate on a worker, then loads it; done(arg, rc, why) on the
 * loop (-EEXIST without force, -EBUSY while one runs).
 */
int	gp_ctl_cert_load(struct gp_ctl *);
/* The same on a worker (the files and a key check take milliseconds);
 * done(arg, rc, why) on the loop, or nothing when done is NULL. */
int	gp_ctl_cert_load_async(struct gp_ctl *,
	    void (*done)(void *, int, const char *), void *arg);
/* Each load that changes the CA has the interception material (the
 * leaves' key the first time, the TLS contexts) made on a worker;
 * interception begins when it is in.  apply(): mitmEnabled turns it on
 * and off. */
void	gp_ctl_mitm_apply(struct gp_ctl *);
void	gp_ctl_mitm_free(struct gp_ctl *);
int	gp_ctl_cert_generate_async(struct gp_ctl *, int force,
	    void (*done)(void *, int, const char *), void *arg);
/* The loaded CA's description, else the files' (loaded says which). */
void	gp_ctl_cert_info(struct gp_ctl *, struct gp_ca_info *, int *loaded);
/*
 * The CA's files as they are on disk, read on a worker (never the loop:
 * a slow disk stalls every connection): fn on the loop with what was
 * found, whether the system store holds it, and with_pem its
 * certificate's PEM (never the key).  0 or a libuv error.
 */
struct gp_ca_disk {
	struct gp_ca_info	 info;
	int			 installed;
	char			*pem;		/* with_pem and valid */
	size_t			 pem_len;
};
typedef void (*gp_ctl_disk_fn)(void *, const struct gp_ca_disk *);
int	gp_ctl_cert_disk_async(struct gp_ctl *, int with_pem, gp_ctl_disk_fn,
	    void *);
/* The loaded CA certificate as PEM (caller frees); NULL if none. */
char	*gp_ctl_cert_pem(struct gp_ctl *);
/* "on" (tunnels carrying TLS are intercepted), "off" (mitmEnabled
 * false), "no-ca", "invalid-ca", "starting" (its key is being made). */
const char *gp_ctl_mitm_state(struct gp_ctl *);

/* Opens state and listens; 0, or -1 with *err (caller frees). */
int	gp_ctl_start(struct gp_ctl *, uv_loop_t *, const struct gp_config *,
	    char **err);
/* Closes listeners, flows and timers; the loop must run afterwards. */
void	gp_ctl_stop(struct gp_ctl *);
/* Pushes the settings' limits to the pending queue and DNS cache. */
void	gp_ctl_settings_apply(struct gp_ctl *);
/* Re-reads settings.json and the rules; 0, or -EINVAL with *err. */
int	gp_ctl_settings_reload(struct gp_ctl *, char **err);
/* status.c: what interfaces read.  Pointers are borrowed until the
 * next operation on the core. */
struct gp_ctl_status {
	struct sockaddr_storage		 http, socks, dns;	/* bound */
	size_t				 pending, waiting, rules;
	int				 ingesting;	/* a worker */
	int				 reloading;	/* a worker */
	uint64_t			 rules_gen;	/* moves per change */
	uint64_t			 allowed, blocked, connections;
	uint64_t			 spliced, copied;	/* tunnels */
	uint64_t			 intercepted, resumed;
	uint64_t			 plain_http;	/* tunnels read in the clear */
	uint64_t			 bodies_spliced;
	uint64_t			 tx_dropped;	/* not stored */
	uint64_t			 tx_pruned;	/* by retention */
	struct gp_dns_cache_stats	 dns_cache;
	int				 have_dns_cache;
	size_t				 dns_inflight;
	struct gp_store_health		 storage;
	struct gp_loop_stats		 loop;
	uint64_t			 dns_folded, accept_failures;
	const struct gp_settings	*settings;
	const struct gp_config		*cfg;
};
void	gp_ctl_status(struct gp_ctl *, struct gp_ctl_status *);
const struct gp_settings *gp_ctl_settings(struct gp_ctl *);
const struct gp_config *gp_ctl_config(struct gp_ctl *);
struct gp_bus *gp_ctl_bus(struct gp_ctl *);
uv_loop_t *gp_ctl_loop(struct gp_ctl *);
/* Newest first; the array is the caller's to free, entries borrowed. */
size_t	gp_ctl_pending_list(struct gp_ctl *, struct gp_pending_entry ***);
size_t	gp_ctl_pending_count(struct gp_ctl *);
/* Stored rules (gp_store_rules_free) and one rule (1, 0 none, <0). */
int	gp_ctl_rules_load(struct gp_ctl *, struct gp_rule **, size_t *);
int	gp_ctl_rule_get(struct gp_ctl *, int64_t id, struct gp_rule *);
int	gp_ctl_logs_query(struct gp_ctl *, const struct gp_log_filter *,
	    struct gp_log_row **, size_t *n, int64_t *total);
/*
 * The same two off the loop: on a worker, through a reader connection,
 * after every row logged so far is written; fn runs on the loop with the
 * result (rows are fn's to free with gp_store_log_rows_free).  f NULL
 * asks for the totals.  0, or -1 when no worker could take it.
 */
struct gp_ctl_logs_result {
	int			 rc;		/* 0, or -1 database error */
	struct gp_log_row	*rows;
	size_t			 n;
	int64_t			 total, allowed, blocked;
};
typedef void (*gp_ctl_logs_fn)(void *arg, struct gp_ctl_logs_result *);
int	gp_ctl_logs_async(struct gp_ctl *, const struct gp_log_filter *f,
	    gp_ctl_logs_fn, void *arg);
/*
 * An ingest holds the database's write lock for about a second: a change
 * that would wait for it on the loop waits here instead, and fn(arg, ok)
 * runs on the loop once the ingest has ended (ok 0: shutting down).
 */
int	gp_ctl_ingesting(struct gp_ctl *);
void	gp_ctl_after_ingest(struct gp_ctl *, void (*fn)(void *, int),
	    void *arg);
/*
 * Every stored rule, read on a worker through the reader connection:
 * scan(arg, rules, n) runs there (it must not touch the core), then
 * done(arg, rc) on the loop.  0, or -1 when no worker could take it.
 */
typedef void (*gp_ctl_rules_scan_fn)(void *arg, const struct gp_rule *,
    size_t n);
typedef void (*gp_ctl_rules_done_fn)(void *arg, int rc);
int	gp_ctl_rules_scan_async(struct gp_ctl *, gp_ctl_rules_scan_fn,
	    gp_ctl_rules_done_fn, void *arg);
/* Starts the log's retention now (on the writer thread). */
void	gp_ctl_logs_prune(struct gp_ctl *);
int	gp_ctl_logs_stats(struct gp_ctl *, int64_t *total, int64_t *allowed,
	    int64_t *blocked);
/* The i-th most recent refusal (GET /blocked), or NULL. */
const struct gp_blocked *gp_ctl_blocked(struct gp_ctl *, size_t i);

/* Another listener of this process (the API): never a destination. */
void	gp_ctl_own_listener(struct gp_ctl *, const struct sockaddr *);
/*
 * dnslog.c: DNS queries into the connection log, repeats of one
 * (identity, name, type) within a minute folded into one counted row.
 */
struct gp_dnslog;
struct gp_dns_query_info;
struct gp_dnslog *gp_dnslog_new(void);
void	gp_dnslog_query(struct gp_ctl *, struct gp_dnslog *,
	    const struct gp_dns_query_info *);
/* Writes the rows of windows that ended. */
void	gp_dnslog_sweep(struct gp_ctl *, struct gp_dnslog *, int64_t now);
/* Writes every open window's row and frees. */
void	gp_dnslog_free(struct gp_ctl *, struct gp_dnslog *);
uint64_t gp_dnslog_folded(const struct gp_dnslog *);
/* Frees what remains once the loop has run the close callbacks. */
void	gp_ctl_free(struct gp_ctl *);

/*
 * Errors: operations return 0 or a negative errno: -EINVAL (the request
 * is wrong; *why says how), -ENOENT, -EEXIST, -ENOSPC (disk or database
 * full), -EBUSY, -EIO.  gp_ctl_strerror() words the others.
 */
const char *gp_ctl_strerror(int);

/* Rules.  Every change of the rule set re-judges the pending queue. */
int	gp_ctl_reload_rules(struct gp_ctl *);
/* The same, loaded and compiled on a worker and swapped in on the loop
 * (announced with GP_EV_RULE_UPDATED); requests meanwhile coalesce. */
void	gp_ctl_rules_reload_async(struct gp_ctl *);
/* capture.c: stores every HTTP transaction relayed (filter), in batches
 * written by a worker; free() writes what is left once the loop ended. */
void	gp_ctl_capture_attach(struct gp_ctl *);
void	gp_ctl_capture_flush(struct gp_ctl *);
void	gp_ctl_capture_free(struct gp_ctl *);
/* Stored transactions (store.h's filter), read on a worker; fn on the
 * loop (rows are freed after it returns; rc < 0: the query failed). */
/* status.c, for workers: the reader connection under reader_mu. */
struct gp_store *gp_ctl_reader_lock(struct gp_ctl *);
typedef void (*gp_ctl_tx_fn)(void *arg, int rc, struct gp_tx_stored *,
	    size_t n, int64_t total);
/*
 * cred.c: global credentials.  add(): hosts NULL takes the label's
 * suggested destinations; 0 and *out, or -EINVAL / -EEXIST with *why.
 * The value never leaves this module but into the request it is for.
 */
struct gp_cred {
	char		 id[32];
	char		 label[128];
	char		 placeholder[96];
	char		 preview[32];
	char		*value;		/* NULL: could not be unsealed */
	char		*hosts;		/* globs a line; "" any */
	int64_t		 created_at;
};
void	gp_ctl_creds_load(struct gp_ctl *);
void	gp_ctl_creds_attach(struct gp_ctl *);
void	gp_ctl_creds_free(struct gp_ctl *);
const struct gp_cred *gp_ctl_creds(struct gp_ctl *, size_t *n);
int	gp_ctl_cred_add(struct gp_ctl *, const char *label, const char *value,
	    const char *hosts, const struct gp_cred **out, const char **why);
int	gp_ctl_cred_delete(struct gp_ctl *, const char *id);
/* A credential's destinations replaced: 0, -ENOENT, -EINVAL (*why). */
int	gp_ctl_cred_set_hosts(struct gp_ctl *, const char *id,
	    const char *hosts, const struct gp_cred **out, const char **why);
/* The session.substitution event's object. */
struct gp_subst_event {
	const char	*session_id, *labels, *identity, *host;
	uint64_t	 count;		/* the session's, so far */
};
/* session.key, read (or, with create, made) once; 0 or -errno. */
int	gp_ctl_vault_key(struct gp_ctl *, int create);

/*
 * session.c: greywall's sessions.  register() takes the request's JSON
 * (validated as the original: *why is its message); heartbeat() 0 or
 * -ENOENT (unknown or expired); delete() 1 when one was deleted.
 */
struct gp_session_map {
	char		*ph, *value, *label;
	char		*hosts;		/* globs a line; NULL: the label's
					 * usual hosts (gp_cred_default_hosts) */
};
/* Where a session's credential may go: its hosts, or the label's. */
const char *gp_session_map_hosts(const struct gp_session_map *);
/* Binds the session's credentials of that label to hosts (globs, one a
 * line; "" any host; NULL back to the label's usual ones), stored:
 * 0, -ENOENT (no such live session or label) or -EIO. */
int	gp_ctl_session_bind(struct gp_ctl *, const char *sid,
	    const char *label, const char *hosts);
struct gp_session {
	char			 id[80];
	char			 container[128];
	struct gp_session_map	*map;
	size_t			 nmap;
	char			**globals;	/* global labels asked for */
	size_t			 nglobals;
	char			*metadata;	/* JSON text or NULL */
	int			 ttl, allow_all;
	int64_t			 created_at, expires_at, last_heartbeat;
	uint64_t		 substitutions;
	uint64_t		 subst_saved;	/* the count the database has */
	int64_t			*rule_ids;
	size_t			 nrules;
};
/* Substitution counts not yet stored: written by the capture worker
 * with its next batch (never one UPDATE per request on the loop). */
struct gp_session_count {
	char		 id[80];
	int64_t		 n;
};
size_t	gp_ctl_session_counts(struct gp_ctl *, struct gp_session_count **);
struct gp_session_answer {
	const char	*id;
	int64_t		 expires_at;
	int		 credential_count, rules_created;
	char *const	*globals;
	size_t		 nglobals;
};
int	gp_ctl_session_register(struct gp_ctl *, const cJSON *,
	    struct gp_session_answer *, const char **why);
int	gp_ctl_session_heartbeat(struct gp_ctl *, const char *id,
	    int64_t *expires_at);
int	gp_ctl_session_delete(struct gp_ctl *, const char *id);
const struct gp_session *gp_ctl_sessions(struct gp_ctl *, size_t *n);
const struct gp_session_map *gp_ctl_session_find(struct gp_ctl *,
	    const char *ph, size_t n, struct gp_session **);
void	gp_ctl_sessions_load(struct gp_ctl *);
void	gp_ctl_sessions_free(struct gp_ctl *);
/* The credential.blocked event's object. */
struct gp_cred_block {
	const char	*label, *identity, *host;
	unsigned	 port;
	const char	*reason;
};
/*
 * conv.c: LLM conversations, assembled on the capture worker (see the
 * file's comment).  A step reads up to 200 transactions past the cursor;
 * the loop emits conversation.updated for the ids it returns.
 */
#define GP_ASSEMBLER_VERSION	1
struct gp_conv_env;
struct gp_conv_step_in {
	int		 enabled, rebuild;
	uint64_t	 rules_gen;
	/* the rows the caller has just stored on this connection, in id
	 * order (borrowed): read from here when they are the next to do,
	 * not from the table again */
	const struct gp_conv_txref *fresh;
	size_t		 nfresh;
};
struct gp_conv_step_out {
	int64_t		 processed, remaining;
	char		**ids;
	size_t		 nids;
	int		 rebuilt;
};
int	gp_conv_step(struct gp_conv_env **, struct gp_store *,
	    const struct gp_conv_step_in *, struct gp_conv_step_out *);
void	gp_conv_step_out_free(struct gp_conv_step_out *);
void	gp_conv_env_free(struct gp_conv_env *);
/* Clears and re-assembles every conversation from the stored
 * transactions, on the worker, announcing maintenance.progress. */
int	gp_ctl_conv_rebuild(struct gp_ctl *);
/* {assembler_version_current, _stored, needs_rebuild, running}. */
cJSON	*gp_ctl_conv_status(struct gp_ctl *);
/* Queries on workers: done(arg, json or NULL) on the loop; json is
 * the callee's to delete. */
typedef void (*gp_ctl_json_fn)(void *, cJSON *);
int	gp_ctl_conv_list_async(struct gp_ctl *, const struct gp_conv_filter *,
	    gp_ctl_json_fn, void *);
int	gp_ctl_conv_get_async(struct gp_ctl *, const char *id, int subagents,
	    gp_ctl_json_fn, void *);
/* Endpoint rules: {rules:[...]} (enabled, as the original) and, ours,
 * suggestions:[...]; put/delete return 0 or -errno with *why. */
cJSON	*gp_ctl_endpoint_rules(struct gp_ctl *, int all);
int	gp_ctl_endpoint_put(struct gp_ctl *, struct gp_endpoint_rule *,
	    const char **why);
int	gp_ctl_endpoint_delete(struct gp_ctl *, int64_t id, const char **why);
cJSON	*gp_ctl_dissectors(void);
/* A rule in the original's fields. */
cJSON	*gp_ctl_endpoint_json(const struct gp_endpoint_rule *);

/* Re-applies header redaction to every stored transaction, on workers,
 * announcing maintenance.progress: 0, -EBUSY while one runs. */
int	gp_ctl_tx_redact_start(struct gp_ctl *);
/* The maintenance.progress event's object. */
struct gp_maint_progress {
	const char	*task;
	int64_t		 processed, total, changed;
	int		 done;
	const char	*error;		/* NULL when none */
};
int	gp_ctl_tx_query_async(struct gp_ctl *, const struct gp_tx_filter *,
	    gp_ctl_tx_fn, void *arg);
/* Puts request rules (method, path) on every HTTP request relayed. */
void	gp_ctl_request_rules_attach(struct gp_ctl *);
/* Releases or refuses every pending entry a rule now covers (each
 * announced); returns how many left the queue. */
size_t	gp_ctl_rejudge(struct gp_ctl *);
void	gp_ctl_poll_changes(struct gp_ctl *);
/* Validates, stores and applies; 0, or a negative errno with *why. */
int	gp_ctl_rule_add(struct gp_ctl *, struct gp_rule *, int *existed,
	    const char **why);
/* The same for n rules: one transaction (all or none), then one
 * re-judging of the queue; existed[i] for each. */
int	gp_ctl_rules_add(struct gp_ctl *, struct gp_rule *, size_t n,
	    int *existed, const char **why);
/* Replaces the editable fields of rule r->id; 1, 0 (no such), or a
 * negative errno with *why. */
int	gp_ctl_rule_update(struct gp_ctl *, struct gp_rule *,
	    const char **why);
int	gp_ctl_rule_delete(struct gp_ctl *, int64_t id);
/* Validates and stores n rules in one transaction (invalid and
 * existing ones counted as skipped), then reloads and re-judges once;
 * takes the rules' contents.  0 or a negative errno (nothing stored). */
int	gp_ctl_rules_ingest(struct gp_ctl *, struct gp_rule *, size_t n,
	    size_t *imported, size_t *skipped);
/*
 * The same off the loop: on a worker thread, src yields the rules (it
 * may parse; 0, or -1 with *why for a 400), which are stored through
 * the worker's own connection and compiled with every stored rule; the
 * loop only swaps the set in and re-judges, then done is called with
 * rc (0, -EINVAL with why, a negative errno, -ECANCELED on shutdown).
 * -EBUSY at once while another ingest runs.
 */
typedef int	(*gp_rules_source_fn)(void *, struct gp_rule **, size_t *,
		    size_t *invalid, const char **why);
typedef void	(*gp_ctl_ingest_fn)(void *, int rc, const char *why,
		    size_t imported, size_t skipped, size_t cleaned);
int	gp_ctl_rules_ingest_async(struct gp_ctl *, gp_rules_source_fn,
	    void *src_arg, gp_ctl_ingest_fn, void *arg);

/* Pending decisions. */
enum gp_scope { GP_SCOPE_EXACT, GP_SCOPE_ANY_PORT, GP_SCOPE_SUBDOMAIN,
	GP_SCOPE_ALL_CONTAINERS, GP_SCOPE_ONCE, GP_SCOPE__COUNT };
int		 gp_scope_parse(const char *);		/* scope or -1 */
const char	*gp_scope_name(enum gp_scope);
/* "permanent" (0), "once" (30 s), "1h", "12h", "24h", "7d", "30d", "Nm",
 * "Nh", "Nd" or plain seconds; 0 or -1. */
int		 gp_duration_parse(const char *, int64_t *seconds);
/*
 * The rule a decision on entry e with scope would create (no rule for
 * GP_SCOPE_ONCE: returns 0); fills r (caller clears). Pure.
 */
int	gp_scope_rule(const struct gp_pending_entry *, enum gp_scope,
	    enum gp_action, int64_t duration, struct gp_rule *r);

/*
 * Allows or denies pending entry id; stores the scoped rule first (when
 * the scope stores one), then answers every waiting connection.
 * 0, -ENOENT, or -EINVAL/-EIO with *why.  out (may be NULL) receives the
 * stored rule; caller clears it.
 */
int	gp_ctl_pending_decide(struct gp_ctl *, int64_t id, enum gp_action,
	    enum gp_scope, int64_t duration, const char *notes,
	    const char *created_by, struct gp_rule *out, const char **why);
/*
 * The same decision on n entries (bulk-allow): their rules stored in one
 * transaction, every entry answered, then the queue re-judged once (one
 * decision at a time re-judged the whole queue after each: 2 000 entries
 * stalled the loop for 200 ms).  Ids gone meanwhile (answered with a
 * sibling) are skipped.  0 with *decided, or a negative errno with *why
 * (nothing decided).
 */
int	gp_ctl_pending_decide_many(struct gp_ctl *, const int64_t *ids,
	    size_t n, enum gp_action, enum gp_scope, int64_t duration,
	    const char *notes, const char *created_by, size_t *decided,
	    const char **why);
/* Dismisses without a rule: waiting connections are refused. */
int	gp_ctl_pending_dismiss(struct gp_ctl *, int64_t id);
/* Removes every entry no connection waits for (each announced). */
size_t	gp_ctl_pending_clear_unwatched(struct gp_ctl *);

/* Empties the DNS cache (memory and database). */
void	gp_ctl_dns_flush(struct gp_ctl *);

/* Settings: partial patch, persisted, announced; 0 or -1 with *why. */
int	gp_ctl_settings_patch(struct gp_ctl *, const struct cJSON *,
	    const char **why);

#endif
