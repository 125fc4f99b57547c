/* logs.c (store): the connection log, written in batches. */
#include "config.h"

#include <errno.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "store/store-int.h"

#define LOG_QUEUE_MAX 20000	/* beyond this, rows are dropped (logged) */

struct gp_logrow {
	struct gp_conn_log	 l;
	char			*strs;	/* one allocation for all strings */
};

static char *
put(char **p, const char *s)
{
	char	*at = *p;
	size_t	 n;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	memcpy(at, s, n);
	*p += n;
	return at;
}

void
gp_store_log_budget(struct gp_store *s, uint32_t rows_per_minute)
{
	s->budget = rows_per_minute;
}

/*
 * Is there budget left for one more row of this identity this minute?
 * Identities share slots by hash; the least recently used slot goes to
 * a newcomer, so an identity never escapes its budget for long.
 */
static int
within_budget(struct gp_store *s, const char *id, int64_t ts)
{
	uint64_t		 h = 1469598103934665603ULL;
	int64_t			 minute = ts / 60;
	struct gp_budget	*b, *victim = NULL;
	size_t			 k;

	if (s->budget == 0 || id == NULL)
		return 1;
	for (const char *p = id; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h |= 1;
	for (k = 0; k < 8; k++) {
		b = &s->budgets[(h + k) % GP_BUDGET_SLOTS];
		if (b->hash == h && strcmp(b->id, id) == 0)
			goto found;
		if (victim == NULL || b->hash == 0 || b->minute < victim->minute)
			victim = b;
	}
	b = victim;
	memset(b, 0, sizeof *b);
	b->hash = h;
	snprintf(b->id, sizeof b->id, "%s", id);
	b->minute = minute;
found:
	if (b->minute != minute) {
		if (b->dropped > 0)
			gp_log(GP_LOG_WARN, "connection log: %s went over its "
			    "budget of %u rows a minute; %llu rows dropped",
			    b->id, s->budget, (unsigned long long)b->dropped);
		b->minute = minute;
		b->used = 0;
		b->dropped = 0;
	}
	if (b->used < s->budget) {
		b->used++;
		return 1;
	}
	if (b->dropped++ == 0)
		gp_log(GP_LOG_WARN, "connection log: %s is over its budget of "
		    "%u rows a minute; dropping and counting its rows", b->id,
		    s->budget);
	s->over_budget++;
	s->dropped++;
	return 0;
}

/*
 * Row ids are given here, on the loop, as rows are queued: a tunnel's
 * row is written when it opens and completed by id when it closes, and
 * the writer thread inserts later.  The first from the table (and its
 * AUTOINCREMENT sequence: ids are never reused).
 */
static int64_t
next_log_id(struct gp_store *s)
{
	int64_t	last;

	if (!s->log_ids) {
		/* Unread (the database busy): SQLite gives this row its
		 * id, and the next row asks again; none given here yet. */
		if ((last = gp_store_int(s, "SELECT max(ifnull((SELECT seq"
		    " FROM sqlite_sequence WHERE name = 'request_logs'), 0),"
		    " ifnull((SELECT max(id) FROM request_logs), 0))")) < 0)
			return 0;
		s->log_ids = 1;
		s->log_last_id = last;
	}
	return ++s->log_last_id;
}

int64_t
gp_store_log_push(struct gp_store *s, const struct gp_conn_log *l)
{
	const char		*fields[] = { l->container, l->client_addr,
	    l->method, l->request, l->host, l->resolved_hostname,
	    l->resolved_ip, l->reason };
	struct gp_logrow	*row;
	size_t			 i, len = 0;
	char			*p;

	if (l->update_of == 0 && !within_budget(s, l->container, l->ts))
		return 0;
	if (s->nlog >= LOG_QUEUE_MAX) {
		if (!s->queue_full && !s->failing)
			gp_log(GP_LOG_WARN, "connection log queue full (%d "
			    "rows); dropping and counting rows until it drains",
			    LOG_QUEUE_MAX);
		s->queue_full = 1;
		if (l->update_of == 0) {	/* a row, not its bytes */
			s->dropped++;
			s->episode_dropped++;
		}
		return 0;
	}
	if (s->nlog == s->caplog) {
		s->caplog = s->caplog ? s->caplog * 2 : 64;
		s->logq = gp_xrealloc(s->logq, s->caplog * sizeof *s->logq);
	}
	for (i = 0; i < GP_ARRAY_LEN(fields); i++)
		if (fields[i] != NULL)
			len += strlen(fields[i]) + 1;
	row = &s->logq[s->nlog++];
	row->l = *l;
	row->l.id = l->update_of != 0 ? l->update_of : next_log_id(s);
	row->strs = p = gp_xmalloc(len);
	row->l.container = put(&p, l->container);
	row->l.client_addr = put(&p, l->client_addr);
	row->l.method = put(&p, l->method);
	row->l.request = put(&p, l->request);
	row->l.host = put(&p, l->host);
	row->l.resolved_hostname = put(&p, l->resolved_hostname);
	row->l.resolved_ip = put(&p, l->resolved_ip);
	row->l.reason = put(&p, l->reason);
	return row->l.id;
}

size_t
gp_store_log_queued(struct gp_store *s)
{
	return s->nlog;
}

void
gp_store_rule_hit(struct gp_store *s, int64_t rule_id, int64_t when)
{
	size_t	i;

	for (i = 0; i < s->nhits; i++) {
		if (s->hits[i].rule_id == rule_id) {
			s->hits[i].count++;
			s->hits[i].last = when;
			return;
		}
	}
	if (s->nhits == s->caphits) {
		s->caphits = s->caphits ? s->caphits * 2 : 16;
		s->hits = gp_xrealloc(s->hits, s->caphits * sizeof *s->hits);
	}
	s->hits[s->nhits].rule_id = rule_id;
	s->hits[s->nhits].count = 1;
	s->hits[s->nhits].last = when;
	s->nhits++;
}

static void
bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Drops every queued row (they could not be stored), counting them. */
void
gp_store_log_discard(struct gp_store *s)
{
	size_t	i;

	for (i = 0; i < s->nlog; i++)
		free(s->logq[i].strs);
	s->dropped += s->nlog - s->logdone;
	s->episode_dropped += s->nlog - s->logdone;
	s->nlog = s->logdone = 0;
	s->nhits = 0;
}

/* Ends a failed batch: rolled back, rows dropped, the episode noted. */
static int
flush_failed(struct gp_store *s)
{
	int	rc = gp_store_errno(s);

	if (rc == -EBUSY) {
		/* Another writer (the CLI): keep the rows for the next try. */
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		gp_log(GP_LOG_DEBUG, "log flush deferred: database busy");
		return 0;
	}
	gp_store_batch_failed(s, rc);	/* reads the error: before rollback */
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	gp_store_log_discard(s);
	return 0;
}

/*
 * The rows from..to counted in log_counts at once.  The trigger that
 * counts them an insert at a time (a sub-program per row) is off on this
 * connection while a batch is inserted, as for transactions (txn.c).
 */
static int
counts_add(struct gp_store *s, size_t from, size_t to)
{
	sqlite3_stmt	*st;
	int64_t		 n[2] = { 0, 0 };
	size_t		 i;
	int		 ok;

	if (!s->counting)	/* the triggers counted them */
		return 0;
	for (i = from; i < to; i++)
		if (s->logq[i].l.update_of == 0)
			n[s->logq[i].l.allowed ? 0 : 1]++;
	if (n[0] == 0 && n[1] == 0)
		return 0;
	st = gp_store_stmt(s, ST_LOG_COUNTS_ADD, "UPDATE log_counts SET n ="
	    " n + CASE result WHEN 'allowed' THEN ?1 ELSE ?2 END"
	    " WHERE result IN ('allowed', 'blocked')");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, n[0]);
	sqlite3_bind_int64(st, 2, n[1]);
	ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_reset(st);
	return ok ? 0 : -1;
}

static int	log_insert(struct gp_store *);

int
gp_store_log_flush(struct gp_store *s)
{
	int	rc;

	if (s->writer != NULL)
		return gp_store_writer_take(s);
	if (s->nlog == 0 && s->nhits == 0)
		return 0;
	if (!gp_store_batch_due(s)) {
		/* Backing off: what arrives meanwhile is dropped, counted. */
		gp_store_log_discard(s);
		return 0;
	}
	if (gp_store_begin(s) != 0)	/* gives way to the loop */
		return flush_failed(s);
	gp_store_triggers(s, 0);
	rc = log_insert(s);
	gp_store_triggers(s, 1);
	return rc;
}

/* The batch inserted and committed (or as much as a starved lane may),
 * inside the transaction gp_store_log_flush began. */
static int
log_insert(struct gp_store *s)
{
	sqlite3_stmt	*st, *up;
	size_t		 i, done = 0;
	int		 rc;
	char		 ts[20];
	int64_t		 ts_of = -1;	/* the second ts holds */

	st = gp_store_stmt(s, ST_LOG_INSERT, "INSERT INTO request_logs"
	    " (timestamp, container_name, destination_host, destination_port,"
	    " resolved_hostname, method, result, rule_id, response_time_ms,"
	    " client_addr, request, resolved_ip, reason, bytes_up, bytes_down,"
	    " count, id)"
	    " VALUES (?,?,?,?,?,?,?,"
	    "  (SELECT id FROM rules WHERE id = ?),?,?,?,?,?,?,?,?,?)");
	up = gp_store_stmt(s, ST_LOG_UPDATE, "UPDATE request_logs SET"
	    " response_time_ms = ?1, bytes_up = ?2, bytes_down = ?3"
	    " WHERE id = ?4 AND destination_host = ?5 AND destination_port = ?6"
	    " AND container_name = ?7");
	if (st == NULL || up == NULL)
		return flush_failed(s);
	s->yielded = 0;
	for (i = s->logdone; i < s->nlog; i++) {
		const struct gp_conn_log *l = &s->logq[i].l;

		/* On a background lane that is starved: what is inserted
		 * is committed, the rest waits for the next step. */
		if (i > s->logdone && (i - s->logdone) % 16 == 0 &&
		    (gp_lane_yield() || gp_store_urgent())) {
			sqlite3_reset(st);
			if (counts_add(s, s->logdone, i) != 0 ||
			    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) !=
			    SQLITE_OK)
				return flush_failed(s);
			s->logdone = i;
			s->yielded = 1;
			return (int)done;
		}

		if (l->update_of != 0) {	/* a tunnel closed: its bytes */
			sqlite3_reset(up);
			sqlite3_bind_int64(up, 1, (int64_t)l->duration_ms);
			sqlite3_bind_int64(up, 2, (int64_t)l->bytes_up);
			sqlite3_bind_int64(up, 3, (int64_t)l->bytes_down);
			sqlite3_bind_int64(up, 4, l->update_of);
			sqlite3_bind_text(up, 5, l->host ? l->host : "", -1,
			    SQLITE_STATIC);
			sqlite3_bind_int(up, 6, (int)l->port);
			sqlite3_bind_text(up, 7, l->container ? l->container :
			    "", -1, SQLITE_STATIC);
			if (sqlite3_step(up) != SQLITE_DONE) {
				sqlite3_reset(up);
				return flush_failed(s);
			}
			sqlite3_reset(up);
			done++;
			continue;
		}
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (l->ts != ts_of) {	/* a batch spans a second or so */
			gp_time_format_sql(l->ts, ts);
			ts_of = l->ts;
		}
		sqlite3_bind_text(st, 1, ts, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, l->container ? l->container : "", -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 3, l->host ? l->host : "", -1,
		    SQLITE_STATIC);
		sqlite3_bind_int(st, 4, (int)l->port);
		bind_opt(st, 5, l->resolved_hostname);
		bind_opt(st, 6, l->method);
		sqlite3_bind_text(st, 7, l->allowed ? "allowed" : "blocked",
		    -1, SQLITE_STATIC);
		if (l->rule_id != 0)
			sqlite3_bind_int64(st, 8, l->rule_id);
		sqlite3_bind_int64(st, 9, (int64_t)l->duration_ms);
		bind_opt(st, 10, l->client_addr);
		bind_opt(st, 11, l->request);
		bind_opt(st, 12, l->resolved_ip);
		bind_opt(st, 13, l->reason);
		sqlite3_bind_int64(st, 14, (int64_t)l->bytes_up);
		sqlite3_bind_int64(st, 15, (int64_t)l->bytes_down);
		sqlite3_bind_int64(st, 16, l->count > 1 ? l->count : 1);
		if (l->id != 0)		/* else NULL: SQLite's */
			sqlite3_bind_int64(st, 17, l->id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_CONSTRAINT && l->id > 0) {
			/*
			 * The id is taken: a row written by another hand.
			 * The row is kept under -id, which no id given here
			 * takes (SQLite's own choice would be the next one
			 * given, and every row after would collide); its
			 * update finds nothing (it checks the destination).
			 */
			gp_log(GP_LOG_WARN, "connection log: row id %lld is "
			    "taken (written by another process?); stored as "
			    "%lld", (long long)l->id, (long long)-l->id);
			sqlite3_reset(st);
			sqlite3_bind_int64(st, 17, -l->id);
			rc = sqlite3_step(st);
		}
		if (rc != SQLITE_DONE) {
			sqlite3_reset(st);
			return flush_failed(s);
		}
		done++;
	}
	sqlite3_reset(st);
	st = gp_store_stmt(s, ST_RULE_HIT, "UPDATE rules SET hit_count ="
	    " hit_count + ?, last_used_at = ? WHERE id = ?");
	for (i = 0; st != NULL && i < s->nhits; i++) {
		sqlite3_reset(st);
		gp_time_format_sql(s->hits[i].last, ts);
		sqlite3_bind_int64(st, 1, s->hits[i].count);
		sqlite3_bind_text(st, 2, ts, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, s->hits[i].rule_id);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_reset(st);
			return flush_failed(s);
		}
	}
	if (st != NULL)
		sqlite3_reset(st);
	if (counts_add(s, s->logdone, s->nlog) != 0 ||
	    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return flush_failed(s);
	for (i = 0; i < s->nlog; i++)
		free(s->logq[i].strs);
	s->nlog = s->logdone = 0;
	s->nhits = 0;
	s->queue_full = 0;
	gp_store_batch_ok(s);
	return (int)done;
}

/* Every row queued so far written, by the thread or here. */
static void
settle(struct gp_store *s)
{
	if (s->writer != NULL)
		gp_store_writer_sync(s);
	else
		gp_store_log_flush(s);
}

/* Appends the WHERE clause for f and binds nothing (see bind_filter). */
static void
filter_sql(struct gp_buf *b, const void *arg)
{
	const struct gp_log_filter *f = arg;

	gp_buf_addstr(b, " WHERE 1=1");
	if (f->container != NULL)
		gp_buf_addstr(b, " AND l.container_name = :c");
	if (f->destination != NULL)
		gp_buf_addstr(b, " AND (instr(l.destination_host, :d) > 0 OR"
		    " instr(ifnull(l.resolved_hostname, ''), :d) > 0)");
	if (f->result >= 0)
		gp_buf_addstr(b, " AND l.result = :r");
	/* The TUI's filter, over what its Activity list shows. */
	if (f->search != NULL)
		gp_buf_addstr(b, " AND (instr(lower(l.container_name), lower(:q))"
		    " OR instr(lower(l.destination_host), lower(:q))"
		    " OR instr(lower(ifnull(l.resolved_hostname, '')), lower(:q))"
		    " OR instr(lower(ifnull(l.method, '')), lower(:q))"
		    " OR instr(l.result, lower(:q))"
		    " OR instr(lower(ifnull(l.reason, '')), lower(:q))"
		    " OR instr(lower(ifnull(l.request, '')), lower(:q))"
		    " OR instr(ifnull(l.client_addr, ''), :q)"
		    " OR instr(CAST(l.destination_port AS TEXT), :q))");
	if (f->from > 0)
		gp_buf_addstr(b, " AND l.timestamp >= :f");
	if (f->to > 0)
		gp_buf_addstr(b, " AND l.timestamp <= :t");
}

static void
bind_filter(sqlite3_stmt *st, const void *arg)
{
	const struct gp_log_filter *f = arg;

	gp_store_bind_named(st, ":c", f->container);
	gp_store_bind_named(st, ":d", f->destination);
	gp_store_bind_named(st, ":q", f->search);
	gp_store_bind_named(st, ":r", f->result ? "allowed" : "blocked");
	gp_store_bind_time(st, ":f", f->from);
	gp_store_bind_time(st, ":t", f->to);
}

static void
log_row(sqlite3_stmt *st, void *elem, const void *arg)
{
	struct gp_log_row *r = elem;

	r->id = sqlite3_column_int64(st, 0);
	r->ts = gp_time_parse_sql((const char *)sqlite3_column_text(st, 1));
	r->container = gp_store_col_text(st, 2);
	r->client_addr = gp_store_col_text(st, 3);
	r->method = gp_store_col_text(st, 4);
	r->request = gp_store_col_text(st, 5);
	r->host = gp_store_col_text(st, 6);
	r->port = (unsigned)sqlite3_column_int(st, 7);
	r->resolved_hostname = gp_store_col_text(st, 8);
	r->resolved_ip = gp_store_col_text(st, 9);
	r->allowed = sqlite3_column_text(st, 10) != NULL &&
	    strcmp((const char *)sqlite3_column_text(st, 10), "allowed") == 0;
	r->rule_id = sqlite3_column_int64(st, 11);
	r->reason = gp_store_col_text(st, 12);
	r->bytes_up = sqlite3_column_int64(st, 13);
	r->bytes_down = sqlite3_column_int64(st, 14);
	r->duration_ms = sqlite3_column_int64(st, 15);
	r->rule_summary = gp_store_col_text(st, 16);
	r->count = sqlite3_column_int64(st, 17);
}

static void
log_rows_free(void *v, size_t n)
{
	gp_store_log_rows_free(v, n);
}

int
gp_store_log_query(struct gp_store *s, const struct gp_log_filter *f,
    struct gp_log_row **out, size_t *n, int64_t *total)
{
	struct gp_store_page_q q = {
		.what = "log",
		.cols = "l.id, l.timestamp, l.container_name, l.client_addr,"
		    " l.method, l.request, l.destination_host,"
		    " l.destination_port, l.resolved_hostname, l.resolved_ip,"
		    " l.result, l.rule_id, l.reason, l.bytes_up, l.bytes_down,"
		    " l.response_time_ms, CASE WHEN r.id IS NULL THEN NULL"
		    " ELSE r.container_pattern || ' → ' ||"
		    " r.destination_pattern || ':' || r.port_pattern END,"
		    " l.count",
		.from = "request_logs l LEFT JOIN rules r ON r.id = l.rule_id",
		.order = "l.id",
		.limit = f->limit,
		.offset = f->offset,
		.size = sizeof(struct gp_log_row),
		.where = filter_sql,
		.bind = bind_filter,
		.row = log_row,
		.free_rows = log_rows_free,
	};

	/* Queued rows first, so a query sees every decision made so far. */
	settle(s);
	return gp_store_page(s, &q, f, (void **)out, n, total);
}

void
gp_store_log_rows_free(struct gp_log_row *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(v[i].container);
		free(v[i].client_addr);
		free(v[i].method);
		free(v[i].request);
		free(v[i].host);
		free(v[i].resolved_hostname);
		free(v[i].resolved_ip);
		free(v[i].reason);
		free(v[i].rule_summary);
	}
	free(v);
}

int
gp_store_log_stats(struct gp_store *s, int64_t *total, int64_t *allowed,
    int64_t *blocked)
{
	sqlite3_stmt	*st;
	int		 rc;

	settle(s);
	/* Two rows kept by triggers (schema 5): no scan at any size. */
	if (sqlite3_prepare_v2(s->db, "SELECT ifnull(sum(n), 0),"
	    " ifnull(sum(CASE result WHEN 'allowed' THEN n END), 0),"
	    " ifnull(sum(CASE result WHEN 'blocked' THEN n END), 0)"
	    " FROM log_counts", -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*total = sqlite3_column_int64(st, 0);
		*allowed = sqlite3_column_int64(st, 1);
		*blocked = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int64_t
gp_store_int(struct gp_store *s, const char *sql)
{
	sqlite3_stmt	*st;
	int64_t		 v = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int64_t
gp_store_used_bytes(struct gp_store *s)
{
	int64_t	pages = gp_store_int(s, "PRAGMA page_count");
	int64_t	free_ = gp_store_int(s, "PRAGMA freelist_count");
	int64_t	size = gp_store_int(s, "PRAGMA page_size");

	if (pages < 0 || free_ < 0 || size < 0)
		return -1;
	return (pages - free_) * size;
}

/*
 * What the stored transactions take on disk, their table and its
 * indexes, about: what their own cap counts (tx_bytes) and, per row, a
 * record header, index entries and page slack.  dbstat measured 131 and
 * 158 bytes a row over their content in two databases (1.5 and 3.7
 * million rows), but reads every page it counts (0.5 s at 1 GiB): on the
 * log writer's thread it held the log for that long, every time.  So a
 * constant, and the row count from the ids at both ends.  The log's cap
 * is on the rest, so that transactions under their cap never crowd the
 * log out (on the whole file, at 20 000 requests a second they left the
 * log a second of rows).
 */
#define TX_ROW_DISK	160

static int64_t
tx_disk(struct gp_store *s)
{
	int64_t	n = gp_store_int(s, "SELECT n FROM tx_bytes");
	/* each alone, so that SQLite reads one end of the table each */
	int64_t	rows = gp_store_int(s, "SELECT ifnull((SELECT max(id) FROM"
	    " http_transactions) - (SELECT min(id) FROM http_transactions) +"
	    " 1, 0)");

	return (n > 0 ? n : 0) + (rows > 0 ? rows * TX_ROW_DISK : 0);
}

/*
 * One step of retention: up to step rows older than before (0: no age
 * limit) or, when the database without the transactions (tx_disk) uses
 * more than max_bytes (0: no cap), the step oldest rows.  Freed pages
 * are reused, so the file stops growing at the cap.  Returns the rows
 * deleted (0: nothing to do) or a negative errno.
 */
int
gp_store_log_prune_step(struct gp_store *s, int64_t before,
    int64_t max_bytes, int step)
{
	sqlite3_stmt	*st;
	char		 ts[20];
	int		 rc, n = 0;

	if (before > 0) {
		gp_time_format_sql(before, ts);
		if (sqlite3_prepare_v2(s->db, "DELETE FROM request_logs WHERE"
		    " id IN (SELECT id FROM request_logs WHERE timestamp < ?"
		    " LIMIT ?)", -1, &st, NULL) != SQLITE_OK)
			return gp_store_errno(s);
		sqlite3_bind_text(st, 1, ts, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, step);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return gp_store_errno(s);
		if ((n = sqlite3_changes(s->db)) > 0)
			return n;
	}
	if (max_bytes > 0 && gp_store_used_bytes(s) - tx_disk(s) > max_bytes) {
		if (sqlite3_prepare_v2(s->db, "DELETE FROM request_logs WHERE"
		    " id IN (SELECT id FROM request_logs ORDER BY id LIMIT ?)",
		    -1, &st, NULL) != SQLITE_OK)
			return gp_store_errno(s);
		sqlite3_bind_int(st, 1, step);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return gp_store_errno(s);
		n = sqlite3_changes(s->db);
	}
	return n;
}

void
gp_store_log_retention(struct gp_store *s, int days, int64_t max_bytes)
{
	s->ret_days = days;
	s->ret_bytes = max_bytes;
	if (s->writer != NULL)
		gp_store_writer_retention(s, days, max_bytes);
}
