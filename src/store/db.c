/* db.c: opening, pragmas and migrations. */
#include "config.h"

#include <errno.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "core/core.h"
#include "store/store-int.h"

/*
 * Migrations, applied in order inside one transaction each; the index
 * + 1 is the user_version afterwards.  Never edit a shipped entry: add
 * one.  Table and column names follow the original greyproxy.
 */
static const char *migrations[] = {
	/* 1: rules and the connection log */
	"CREATE TABLE rules ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" container_pattern TEXT NOT NULL DEFAULT '*',"
	" destination_pattern TEXT NOT NULL,"
	" port_pattern TEXT NOT NULL DEFAULT '*',"
	" rule_type TEXT NOT NULL DEFAULT 'permanent'"
	"  CHECK (rule_type IN ('permanent','temporary')),"
	" action TEXT NOT NULL DEFAULT 'allow'"
	"  CHECK (action IN ('allow','deny')),"
	" created_at DATETIME NOT NULL DEFAULT (datetime('now')),"
	" expires_at DATETIME,"
	" last_used_at DATETIME,"
	" created_by TEXT NOT NULL DEFAULT 'admin',"
	" notes TEXT,"
	" session_id TEXT,"
	" hit_count INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (container_pattern, destination_pattern, port_pattern,"
	"  action));"
	"CREATE INDEX idx_rules_session ON rules(session_id);"
	"CREATE TABLE request_logs ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" timestamp DATETIME NOT NULL DEFAULT (datetime('now')),"
	" container_name TEXT NOT NULL,"
	" container_id TEXT,"
	" destination_host TEXT NOT NULL,"
	" destination_port INTEGER,"
	" resolved_hostname TEXT,"
	" method TEXT,"
	" result TEXT NOT NULL CHECK (result IN ('allowed','blocked')),"
	" rule_id INTEGER REFERENCES rules(id) ON DELETE SET NULL,"
	" response_time_ms INTEGER,"
	" mitm_skip_reason TEXT,"
	" client_addr TEXT,"
	" request TEXT,"
	" resolved_ip TEXT,"
	" reason TEXT,"
	" bytes_up INTEGER NOT NULL DEFAULT 0,"
	" bytes_down INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX idx_request_logs_ts ON request_logs(timestamp);"
	"CREATE INDEX idx_request_logs_host ON request_logs(destination_host);",
	/* 2: destinations waiting for a decision */
	"CREATE TABLE pending_requests ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" container_name TEXT NOT NULL,"
	" container_id TEXT NOT NULL DEFAULT '',"
	" destination_host TEXT NOT NULL,"
	" destination_port INTEGER NOT NULL,"
	" resolved_hostname TEXT,"
	" first_seen DATETIME NOT NULL DEFAULT (datetime('now')),"
	" last_seen DATETIME NOT NULL DEFAULT (datetime('now')),"
	" attempt_count INTEGER NOT NULL DEFAULT 1,"
	" local_network INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (container_name, destination_host, destination_port));",
	/* 3: the DNS proxy's cache: answers, and IP → hostname */
	"CREATE TABLE dns_cache ("
	" ip TEXT PRIMARY KEY,"
	" hostname TEXT NOT NULL,"
	" updated_at DATETIME NOT NULL DEFAULT (datetime('now')),"
	" expires_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE dns_answers ("
	" key TEXT PRIMARY KEY,"
	" response BLOB NOT NULL,"
	" stored_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL,"
	" negative INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX idx_dns_answers_exp ON dns_answers(expires_at);",
	/* 4: a row may stand for several folded decisions (DNS repeats) */
	"ALTER TABLE request_logs ADD COLUMN count INTEGER NOT NULL"
	" DEFAULT 1;",
	/* 5: log stats kept by triggers, never by counting the table */
	"CREATE TABLE log_counts (result TEXT PRIMARY KEY,"
	" n INTEGER NOT NULL);"
	"INSERT INTO log_counts SELECT 'allowed', count(*) FROM request_logs"
	" WHERE result = 'allowed';"
	"INSERT INTO log_counts SELECT 'blocked', count(*) FROM request_logs"
	" WHERE result = 'blocked';"
	"CREATE TRIGGER log_counts_ins AFTER INSERT ON request_logs BEGIN"
	" UPDATE log_counts SET n = n + 1 WHERE result = NEW.result; END;"
	"CREATE TRIGGER log_counts_del AFTER DELETE ON request_logs BEGIN"
	" UPDATE log_counts SET n = n - 1 WHERE result = OLD.result; END;",
	/*
	 * 6: a version of the rule set, moved by every change that can alter
	 * a decision and by none of the log's (hit counts, last use), so a
	 * server reloads for another process's rule edit, not for the
	 * writes of its own log thread.
	 */
	"CREATE TABLE rules_version (v INTEGER NOT NULL);"
	"INSERT INTO rules_version VALUES (0);"
	"CREATE TRIGGER rules_version_ins AFTER INSERT ON rules BEGIN"
	" UPDATE rules_version SET v = v + 1; END;"
	"CREATE TRIGGER rules_version_del AFTER DELETE ON rules BEGIN"
	" UPDATE rules_version SET v = v + 1; END;"
	"CREATE TRIGGER rules_version_upd AFTER UPDATE OF container_pattern,"
	" destination_pattern, port_pattern, rule_type, action, expires_at,"
	" session_id ON rules BEGIN"
	" UPDATE rules_version SET v = v + 1; END;",
	/*
	 * 7: request rules: a method and a path glob, part of what makes a
	 * rule unique (the table is rebuilt: SQLite cannot change a UNIQUE
	 * constraint in place; foreign keys are off while migrating, so the
	 * log's rule_id survive the old table's DROP).
	 */
	"CREATE TABLE rules_new ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" container_pattern TEXT NOT NULL DEFAULT '*',"
	" destination_pattern TEXT NOT NULL,"
	" port_pattern TEXT NOT NULL DEFAULT '*',"
	" method_pattern TEXT NOT NULL DEFAULT '*',"
	" path_pattern TEXT NOT NULL DEFAULT '*',"
	" rule_type TEXT NOT NULL DEFAULT 'permanent'"
	"  CHECK (rule_type IN ('permanent','temporary')),"
	" action TEXT NOT NULL DEFAULT 'allow'"
	"  CHECK (action IN ('allow','deny')),"
	" created_at DATETIME NOT NULL DEFAULT (datetime('now')),"
	" expires_at DATETIME,"
	" last_used_at DATETIME,"
	" created_by TEXT NOT NULL DEFAULT 'admin',"
	" notes TEXT,"
	" session_id TEXT,"
	" hit_count INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (container_pattern, destination_pattern, port_pattern,"
	"  method_pattern, path_pattern, action));"
	"INSERT INTO rules_new (id, container_pattern, destination_pattern,"
	" port_pattern, rule_type, action, created_at, expires_at,"
	" last_used_at, created_by, notes, session_id, hit_count)"
	" SELECT id, container_pattern, destination_pattern, port_pattern,"
	" rule_type, action, created_at, expires_at, last_used_at,"
	" created_by, notes, session_id, hit_count FROM rules;"
	"DROP TABLE rules;"
	"ALTER TABLE rules_new RENAME TO rules;"
	"CREATE INDEX idx_rules_session ON rules(session_id);"
	"CREATE TRIGGER rules_version_ins AFTER INSERT ON rules BEGIN"
	" UPDATE rules_version SET v = v + 1; END;"
	"CREATE TRIGGER rules_version_del AFTER DELETE ON rules BEGIN"
	" UPDATE rules_version SET v = v + 1; END;"
	"CREATE TRIGGER rules_version_upd AFTER UPDATE OF container_pattern,"
	" destination_pattern, port_pattern, method_pattern, path_pattern,"
	" rule_type, action, expires_at, session_id ON rules BEGIN"
	" UPDATE rules_version SET v = v + 1; END;"
	"UPDATE rules_version SET v = v + 1;",
	/* 8: HTTP transactions, as the original's, and what it loses */
	"CREATE TABLE http_transactions ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" timestamp DATETIME NOT NULL DEFAULT (datetime('now')),"
	" container_name TEXT NOT NULL,"
	" destination_host TEXT NOT NULL,"
	" destination_port INTEGER NOT NULL,"
	" method TEXT NOT NULL,"
	" url TEXT NOT NULL,"
	" request_headers TEXT,"
	" request_body BLOB,"
	" request_body_size INTEGER,"
	" request_content_type TEXT,"
	" request_body_truncated INTEGER NOT NULL DEFAULT 0,"
	" status_code INTEGER,"
	" response_headers TEXT,"
	" response_body BLOB,"
	" response_body_size INTEGER,"
	" response_content_type TEXT,"
	" response_body_truncated INTEGER NOT NULL DEFAULT 0,"
	" duration_ms INTEGER,"
	" first_byte_ms INTEGER,"
	" rule_id INTEGER,"
	" result TEXT NOT NULL DEFAULT 'auto',"
	" complete INTEGER NOT NULL DEFAULT 1,"
	" tls INTEGER NOT NULL DEFAULT 0,"
	" substituted_credentials TEXT,"
	" session_id TEXT,"
	" conversation_id TEXT);"
	"CREATE INDEX idx_tx_timestamp ON http_transactions(timestamp);"
	"CREATE INDEX idx_tx_host ON http_transactions(destination_host);"
	/* what the rows hold, for the size cap: kept by triggers */
	"CREATE TABLE tx_bytes (n INTEGER NOT NULL);"
	"INSERT INTO tx_bytes VALUES (0);"
	"CREATE TRIGGER tx_bytes_ins AFTER INSERT ON http_transactions BEGIN"
	" UPDATE tx_bytes SET n = n + ifnull(length(NEW.request_body), 0) +"
	" ifnull(length(NEW.response_body), 0) +"
	" ifnull(length(NEW.request_headers), 0) +"
	" ifnull(length(NEW.response_headers), 0) + length(NEW.url); END;"
	"CREATE TRIGGER tx_bytes_del AFTER DELETE ON http_transactions BEGIN"
	" UPDATE tx_bytes SET n = n - ifnull(length(OLD.request_body), 0) -"
	" ifnull(length(OLD.response_body), 0) -"
	" ifnull(length(OLD.request_headers), 0) -"
	" ifnull(length(OLD.response_headers), 0) - length(OLD.url); END;",
	/* 9: heads rewritten in place (redaction re-applied) keep the
	 * count true. */
	"CREATE TRIGGER tx_bytes_upd AFTER UPDATE OF request_headers,"
	" response_headers ON http_transactions BEGIN"
	" UPDATE tx_bytes SET n = n + ifnull(length(NEW.request_headers), 0) -"
	" ifnull(length(OLD.request_headers), 0) +"
	" ifnull(length(NEW.response_headers), 0) -"
	" ifnull(length(OLD.response_headers), 0); END;",
	/* 10: global credentials, the value sealed (cred/vault.c); hosts:
	 * the destinations it may go to, one glob a line ("" any). */
	"CREATE TABLE credentials ("
	" id TEXT PRIMARY KEY,"
	" label TEXT NOT NULL UNIQUE,"
	" placeholder TEXT NOT NULL UNIQUE,"
	" value_enc BLOB NOT NULL,"
	" value_preview TEXT NOT NULL,"
	" hosts TEXT NOT NULL DEFAULT '',"
	" created_at TEXT NOT NULL);",
	/* 11: greywall's sessions; the mappings sealed. */
	"CREATE TABLE sessions ("
	" session_id TEXT PRIMARY KEY,"
	" container_name TEXT NOT NULL,"
	" mappings_enc BLOB NOT NULL,"
	" labels TEXT, global_labels TEXT, metadata TEXT, rule_ids TEXT,"
	" ttl_seconds INTEGER NOT NULL,"
	" allow_all INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
	" last_heartbeat INTEGER NOT NULL,"
	" substitution_count INTEGER NOT NULL DEFAULT 0);",
	/* 12: whether a placeholder was seen where nothing is substituted
	 * (a body); the labels substituted and the session have had their
	 * columns since 8. */
	"ALTER TABLE http_transactions ADD COLUMN placeholder_in_body"
	" INTEGER NOT NULL DEFAULT 0;",
	/* 13: LLM conversations assembled from transactions (ctl/conv.c):
	 * a conversation keeps its messages and the fingerprints of its
	 * last request's history, to be continued by content; requests,
	 * turns and sub-agent calls hang off it; endpoint rules say which
	 * dissector reads which endpoint, suggestions what looked like an
	 * LLM request elsewhere. */
	"CREATE TABLE conversations ("
	" id TEXT PRIMARY KEY,"
	" container_name TEXT NOT NULL, client_name TEXT NOT NULL,"
	" provider TEXT, model TEXT, kind TEXT NOT NULL DEFAULT 'main',"
	" utility_reason TEXT, session_key TEXT,"
	" parent_conversation_id TEXT, parent_tool_use_id TEXT,"
	" started_at INTEGER NOT NULL, ended_at INTEGER NOT NULL,"
	" turn_count INTEGER NOT NULL DEFAULT 0,"
	" system_prompt TEXT, first_prompt TEXT,"
	" messages_json TEXT, req_fp TEXT, last_response_id TEXT,"
	" last_turn_has_response INTEGER NOT NULL DEFAULT 0,"
	" incomplete INTEGER NOT NULL DEFAULT 0, incomplete_reason TEXT,"
	" requests INTEGER NOT NULL DEFAULT 0,"
	" parseable_requests INTEGER NOT NULL DEFAULT 0,"
	" truncated_requests INTEGER NOT NULL DEFAULT 0,"
	" best_request_id INTEGER, messages_in_best_request INTEGER,"
	" input_tokens INTEGER NOT NULL DEFAULT 0,"
	" output_tokens INTEGER NOT NULL DEFAULT 0,"
	" cache_read_tokens INTEGER NOT NULL DEFAULT 0,"
	" cache_write_tokens INTEGER NOT NULL DEFAULT 0,"
	" updated_at INTEGER NOT NULL);"
	"CREATE INDEX idx_conv_match ON conversations(container_name,"
	" client_name, kind, updated_at);"
	"CREATE INDEX idx_conv_ended ON conversations(ended_at);"
	"CREATE INDEX idx_conv_parent ON conversations(parent_conversation_id);"
	"CREATE INDEX idx_conv_response ON conversations(last_response_id);"
	"CREATE TABLE turns ("
	" conversation_id TEXT NOT NULL REFERENCES conversations(id)"
	" ON DELETE CASCADE,"
	" turn_number INTEGER NOT NULL, user_prompt TEXT, steps_json TEXT,"
	" PRIMARY KEY (conversation_id, turn_number));"
	"CREATE TABLE conversation_requests ("
	" tx_id INTEGER PRIMARY KEY,"
	" conversation_id TEXT NOT NULL REFERENCES conversations(id)"
	" ON DELETE CASCADE,"
	" turn_number INTEGER NOT NULL, ts INTEGER NOT NULL,"
	" duration_ms INTEGER, first_token_ms INTEGER, model TEXT,"
	" status INTEGER, stop_reason TEXT, error TEXT, why TEXT,"
	" stream INTEGER NOT NULL DEFAULT 0,"
	" input_tokens INTEGER NOT NULL DEFAULT 0,"
	" output_tokens INTEGER NOT NULL DEFAULT 0,"
	" cache_read_tokens INTEGER NOT NULL DEFAULT 0,"
	" cache_write_tokens INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX idx_convreq_conv ON conversation_requests"
	"(conversation_id, turn_number);"
	"CREATE TABLE conversation_agent_calls ("
	" parent_id TEXT NOT NULL REFERENCES conversations(id)"
	" ON DELETE CASCADE,"
	" tool_use_id TEXT NOT NULL, tool TEXT, container_name TEXT NOT NULL,"
	" session_key TEXT, prompt_fp TEXT NOT NULL, child_id TEXT,"
	" PRIMARY KEY (parent_id, tool_use_id));"
	"CREATE INDEX idx_agent_fp ON conversation_agent_calls(prompt_fp);"
	"CREATE TABLE conversation_processing_state ("
	" key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE INDEX idx_tx_conv ON http_transactions(conversation_id);"
	"CREATE TABLE endpoint_rules ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" host_pattern TEXT NOT NULL, path_pattern TEXT NOT NULL,"
	" method TEXT NOT NULL DEFAULT 'POST', decoder_name TEXT NOT NULL,"
	" priority INTEGER NOT NULL DEFAULT 0,"
	" enabled INTEGER NOT NULL DEFAULT 1,"
	" user_defined INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (host_pattern, path_pattern, method, user_defined));"
	"CREATE TABLE endpoint_suggestions ("
	" host TEXT NOT NULL, path TEXT NOT NULL, method TEXT NOT NULL,"
	" decoder_name TEXT NOT NULL, seen INTEGER NOT NULL DEFAULT 1,"
	" first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
	" example_tx_id INTEGER,"
	" PRIMARY KEY (host, path, method));",
	/* 14: a session's credentials bound by a person to other hosts
	 * than their label's usual ones: {label: "glob\nglob"}. */
	"ALTER TABLE sessions ADD COLUMN bound_hosts TEXT;",
	/*
	 * 15: indexes that cost every insert and served no query: the
	 * destination filters match substrings (instr), which no index
	 * serves, and only the rows of a conversation need finding by it.
	 */
	"DROP INDEX IF EXISTS idx_tx_host;"
	"DROP INDEX IF EXISTS idx_request_logs_host;"
	"DROP INDEX IF EXISTS idx_tx_conv;"
	"CREATE INDEX idx_tx_conv ON http_transactions(conversation_id)"
	" WHERE conversation_id IS NOT NULL;",
};

static int
exec(sqlite3 *db, const char *sql, char **err)
{
	char	*msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	if (err != NULL)
		gp_xasprintf(err, "%s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

static int
user_version(sqlite3 *db)
{
	sqlite3_stmt	*st;
	int		 v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Brings the schema to the newest version; refuses a newer database. */
static int
migrate(sqlite3 *db, char **err)
{
	int	v = user_version(db), n = (int)GP_ARRAY_LEN(migrations);
	char	sql[64];

	if (v < 0) {
		gp_xasprintf(err, "cannot read schema version: %s",
		    sqlite3_errmsg(db));
		return -1;
	}
	if (v > n) {
		gp_xasprintf(err, "database schema %d is newer than this "
		    "greyproxy (%d)", v, n);
		return -1;
	}
	/* Off while tables are rebuilt (no migration relies on them). */
	if (v < n && exec(db, "PRAGMA foreign_keys=OFF", err) != 0)
		return -1;
	for (; v < n; v++) {
		if (exec(db, "BEGIN IMMEDIATE", err) != 0)
			return -1;
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
		if (exec(db, migrations[v], err) != 0 ||
		    exec(db, sql, err) != 0) {
			exec(db, "ROLLBACK", NULL);
			return -1;
		}
		if (exec(db, "COMMIT", err) != 0)
			return -1;
		gp_log(GP_LOG_INFO, "database migrated to schema %d", v + 1);
	}
	return exec(db, "PRAGMA foreign_keys=ON", err);
}

/*
 * Before SQLite's first use: no allocation statistics.  Nothing reads
 * them, and keeping them takes a process-wide mutex on every malloc and
 * free SQLite makes (Debian builds it without lookaside, so a row insert
 * makes dozens), which the loop's threads and the writers then share.
 */
static void
sqlite_setup(void)
{
	if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
		gp_log(GP_LOG_DEBUG, "sqlite already initialized: "
		    "allocation statistics stay on");
}

int
gp_store_open(const char *path, struct gp_store **out, char **err)
{
	static uv_once_t once = UV_ONCE_INIT;
	struct gp_store	*s;
	sqlite3		*db = NULL;
	mode_t		 old;
	int		 rc, fd;

	uv_once(&once, sqlite_setup);

	*err = NULL;
	/*
	 * Create the file 0600 before SQLite does; -wal/-shm copy its mode.
	 * Only when it is new: closing any descriptor of an open database
	 * drops every POSIX lock this process holds on it, and another
	 * process that then believes itself the last one checkpoints and
	 * deletes the WAL under our other connections.
	 */
	old = umask(077);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd != -1)
		close(fd);
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	umask(old);
	if (rc != SQLITE_OK) {
		gp_xasprintf(err, "%s: %s", path,
		    db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	if (exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    "PRAGMA foreign_keys=ON;", err) != 0 || migrate(db, err) != 0) {
		char *m = *err;

		gp_xasprintf(err, "%s: %s", path, m ? m : "error");
		free(m);
		sqlite3_close(db);
		return -1;
	}
	s = gp_xcalloc(1, sizeof *s);
	s->db = db;
	s->busy_ms = 5000;
	*out = s;
	return 0;
}

void
gp_store_close(struct gp_store *s)
{
	size_t	i;

	if (s == NULL)
		return;
	gp_store_writer_stop(s);	/* its last batch written */
	gp_store_log_flush(s);
	for (i = 0; i < GP_ARRAY_LEN(s->stmts); i++)
		sqlite3_finalize(s->stmts[i]);
	sqlite3_close(s->db);
	free(s->logq);
	free(s->hits);
	free(s);
}

/*
 * The loop goes first.  The loop's writes (a rule, a decision) wait for
 * the write lock while a background connection holds it, and SQLite's
 * own busy handler sleeps 1, 2, 5, 10, 15 ms and more between tries:
 * under load an approval stalled every connection for up to 80 ms.
 * The loop's connection polls instead, and while it waits it says so;
 * the background writers end their transaction at their next step
 * (gp_store_urgent) and hold off their next one (gp_store_give_way).
 */
#define POLL_NS		100000		/* the loop's tries, 0.1 ms apart */
#define URGENT_NS	2000000		/* a wait is news this long */
#define GIVE_WAY_NS	20000000	/* a background begin waits at most */

static uint64_t	urgent_until;		/* monotonic ns; atomic */

static void
nap(uint64_t ns)
{
	struct timespec	ts = { 0, (long)ns };

	nanosleep(&ts, NULL);
}

static int
priority_busy(void *arg, int count)
{
	struct gp_store	*s = arg;
	uint64_t	 now = uv_hrtime();

	if (count == 0)
		s->busy_since = now;
	if (now - s->busy_since >= (uint64_t)s->busy_ms * 1000000)
		return 0;
	__atomic_store_n(&urgent_until, now + URGENT_NS, __ATOMIC_RELAXED);
	nap(POLL_NS);
	return 1;
}

int
gp_store_urgent(void)
{
	return uv_hrtime() < __atomic_load_n(&urgent_until, __ATOMIC_RELAXED);
}

void
gp_store_give_way(struct gp_store *s)
{
	uint64_t	end;

	if (s->priority || !gp_store_urgent())
		return;
	end = uv_hrtime() + GIVE_WAY_NS;
	while (gp_store_urgent() && uv_hrtime() < end)
		nap(POLL_NS);
}

void
gp_store_set_priority(struct gp_store *s)
{
	s->priority = 1;
	gp_store_busy_wait(s, s->busy_ms);
}

void
gp_store_busy_wait(struct gp_store *s, int ms)
{
	s->busy_ms = ms;
	if (s->priority)
		sqlite3_busy_handler(s->db, ms > 0 ? priority_busy : NULL, s);
	else
		sqlite3_busy_timeout(s->db, ms);
}

sqlite3_stmt *
gp_store_stmt(struct gp_store *s, enum gp_stmt which, const char *sql)
{
	sqlite3_stmt	*st = s->stmts[which];

	if (st == NULL) {
		if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) !=
		    SQLITE_OK) {
			gp_log(GP_LOG_ERROR, "sqlite prepare: %s",
			    sqlite3_errmsg(s->db));
			return NULL;
		}
		s->stmts[which] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* A cached statement taking one integer, ?1, run to its end. */
int
gp_store_run_id(struct gp_store *s, enum gp_stmt which, const char *sql,
    int64_t v, const char *what)
{
	sqlite3_stmt	*st = gp_store_stmt(s, which, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, v);
	return gp_store_run(s, st, what);
}

int
gp_store_run(struct gp_store *s, sqlite3_stmt *st, const char *what)
{
	int	rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	rc = gp_store_errno(s);
	if (!s->failing)
		gp_log(GP_LOG_ERROR, "%s: %s", what, sqlite3_errmsg(s->db));
	if (rc != -EBUSY)
		gp_store_batch_failed(s, rc);
	return rc;
}

/*
 * Batched writes back off while they fail: 1 s, doubling to 30 s, with
 * one log line when an episode starts and one when it ends.
 */
int
gp_store_batch_due(struct gp_store *s)
{
	return !s->failing || gp_now_ms() >= s->retry_ms;
}

void
gp_store_batch_failed(struct gp_store *s, int rc)
{
	if (s->failing && gp_now_ms() < s->retry_ms)
		return;		/* this attempt's failure is counted already */
	if (!s->failing) {
		snprintf(s->failure, sizeof s->failure, "%s%s",
		    rc == -ENOSPC ? "disk or database full: " : "",
		    sqlite3_errmsg(s->db));
		if (!s->quiet)
			gp_log(GP_LOG_ERROR, "database writes failing (%s): "
			    "connection log rows are dropped and counted until "
			    "they succeed again; traffic is not affected",
			    s->failure);
		s->backoff_ms = 1000;
		s->episode_dropped = 0;
	} else if (s->backoff_ms < 30000)
		s->backoff_ms *= 2;
	s->failing = rc;
	s->retry_ms = gp_now_ms() + s->backoff_ms;
}

void
gp_store_batch_ok(struct gp_store *s)
{
	if (!s->failing)
		return;
	if (s->quiet) {
		s->failing = 0;
		return;
	}
	gp_log(GP_LOG_WARN, "database writes succeed again; %llu connection "
	    "log rows were dropped", (unsigned long long)s->episode_dropped);
	s->failing = 0;
	s->failure[0] = '\0';
}

void
gp_store_health(struct gp_store *s, struct gp_store_health *h)
{
	h->failing = s->failing;
	h->error = s->failing ? s->failure : NULL;
	h->log_queued = s->nlog;
	h->log_dropped = s->dropped;
	h->over_budget = s->over_budget;
	if (s->writer != NULL)
		gp_store_writer_health(s, h);
}

int
gp_store_errno(struct gp_store *s)
{
	int	rc = sqlite3_errcode(s->db);

	if (rc == SQLITE_FULL || ((rc & 0xff) == SQLITE_IOERR &&
	    sqlite3_system_errno(s->db) == ENOSPC))
		return -ENOSPC;
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return -EBUSY;
	return -EIO;
}

char *
gp_store_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? gp_xstrdup((const char *)t) : NULL;
}

/* One integer from a cached one-row statement; -1 on error. */
int64_t
gp_store_int64(struct gp_store *s, enum gp_stmt which, const char *sql)
{
	sqlite3_stmt	*st = gp_store_stmt(s, which, sql);
	int64_t		 v = -1;

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
	return v;
}

static int64_t
rules_version(struct gp_store *s)
{
	return gp_store_int64(s, ST_RULES_VERSION, "SELECT v FROM rules_version");
}

int
gp_store_rules_changed(struct gp_store *s)
{
	int64_t	dv = gp_store_data_version(s), v;

	if (dv == s->dv_seen)
		return 0;		/* no other connection committed */
	s->dv_seen = dv;
	if ((v = rules_version(s)) == s->rules_seen)
		return 0;		/* the log's writes, say */
	s->rules_seen = v;
	return 1;
}

void
gp_store_rules_seen(struct gp_store *s)
{
	s->dv_seen = gp_store_data_version(s);
	s->rules_seen = rules_version(s);
}

/*
 * Our own rule writes run in a transaction that reads the version before
 * and after: when nobody else had moved it, the loaded set already holds
 * the write and no reload follows; when someone had, the next poll
 * reloads for both.
 */
int
gp_store_rules_write_begin(struct gp_store *s, int64_t *before)
{
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return gp_store_errno(s);
	*before = rules_version(s);
	return 0;
}

int
gp_store_rules_write_end(struct gp_store *s, int64_t before, int rc)
{
	int64_t after = rules_version(s);

	if (rc < 0 || sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		if (rc >= 0)
			rc = gp_store_errno(s);
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	if (before == s->rules_seen)
		s->rules_seen = after;
	return rc;
}

int64_t
gp_store_data_version(struct gp_store *s)
{
	return gp_store_int64(s, ST_DATA_VERSION, "PRAGMA data_version");
}

int
gp_store_page(struct gp_store *s, const struct gp_store_page_q *q,
    const void *arg, void **out, size_t *n, int64_t *total)
{
	struct gp_buf	 b = { 0 };
	sqlite3_stmt	*st = NULL;
	char		*v = NULL;
	size_t		 cnt = 0, cap = 0;
	int		 rc;

	*out = NULL;
	*n = 0;
	*total = 0;
	gp_buf_printf(&b, "SELECT count(*) FROM %s", q->from);
	q->where(&b, arg);
	if (sqlite3_prepare_v2(s->db, b.data, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	q->bind(st, arg);
	if (sqlite3_step(st) == SQLITE_ROW)
		*total = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	gp_buf_reset(&b);
	gp_buf_printf(&b, "SELECT %s FROM %s", q->cols, q->from);
	q->where(&b, arg);
	gp_buf_printf(&b, " ORDER BY %s DESC LIMIT %d OFFSET %d", q->order,
	    q->limit, q->offset);
	if (sqlite3_prepare_v2(s->db, b.data, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	q->bind(st, arg);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 32;
			v = gp_xrealloc(v, cap * q->size);
		}
		memset(v + cnt * q->size, 0, q->size);
		q->row(st, v + cnt * q->size, arg);
		cnt++;
	}
	sqlite3_finalize(st);
	gp_buf_free(&b);
	if (rc != SQLITE_DONE) {
		q->free_rows(v, cnt);
		return -1;
	}
	*out = v;
	*n = cnt;
	return 0;
fail:
	gp_log(GP_LOG_ERROR, "%s query: %s", q->what, sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	gp_buf_free(&b);
	return -1;
}

void
gp_store_bind_named(sqlite3_stmt *st, const char *name, const char *text)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i > 0)
		sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
}

void
gp_store_bind_time(sqlite3_stmt *st, const char *name, int64_t t)
{
	char	buf[20];

	gp_time_format_sql(t, buf);
	gp_store_bind_named(st, name, buf);
}
