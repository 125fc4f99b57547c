/* txn.c (store): the http_transactions table. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "store/store-int.h"

static void
text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void
blob_or_null(sqlite3_stmt *st, int i, const void *p, size_t n, int64_t size)
{
	if (size > 0)
		sqlite3_bind_blob64(st, i, n ? p : "", n, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void
int_or_null(sqlite3_stmt *st, int i, int64_t v)
{
	if (v >= 0)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

/* What a row counts for in tx_bytes: the triggers' expression (db.c). */
#define TX_SIZE	"ifnull(length(request_body), 0) +" \
	" ifnull(length(response_body), 0) +" \
	" ifnull(length(request_headers), 0) +" \
	" ifnull(length(response_headers), 0) + length(url)"

/*
 * A batch of inserts, in one SQLite transaction.  Row by row, the
 * trigger that keeps tx_bytes ran a sub-program per insert and, with the
 * table's indexes, made every insert keep a statement journal, which
 * spilled to a temporary file: four write(2)s a row, most of the
 * capture worker's system time.  So the connection's triggers are off between
 * begin and end, and end adds the batch's bytes at once, by the
 * trigger's own expression over the rows inserted (ids first..last: the
 * write lock is held, no other connection inserts between them).
 */
int
gp_store_tx_batch_begin(struct gp_store *s)
{
	int	rc;

	if (gp_store_begin(s) != 0)
		return (rc = gp_store_errno(s)) != 0 ? rc : -EIO;
	gp_store_triggers(s, 0);
	return 0;
}

int
gp_store_tx_batch_end(struct gp_store *s, int64_t first, int64_t last,
    int commit)
{
	sqlite3_stmt	*st;
	int		 rc = 0;

	if (commit && first > 0 && s->counting) {
		st = gp_store_stmt(s, ST_TX_BYTES_ADD, "UPDATE tx_bytes SET n ="
		    " n + (SELECT ifnull(sum(" TX_SIZE "), 0)"
		    " FROM http_transactions WHERE id BETWEEN ? AND ?)");
		if (st == NULL)
			rc = gp_store_errno(s);
		else {
			sqlite3_bind_int64(st, 1, first);
			sqlite3_bind_int64(st, 2, last);
			if (sqlite3_step(st) != SQLITE_DONE)
				rc = gp_store_errno(s);
			sqlite3_reset(st);
		}
	}
	gp_store_triggers(s, 1);
	if (commit && rc == 0)
		return gp_store_commit(s);
	gp_store_rollback(s);
	return rc;
}

int
gp_store_tx_insert(struct gp_store *s, const struct gp_tx_row *r,
    int64_t *id)
{
	sqlite3_stmt	*st;
	char		 ts[20];
	int		 rc;

	st = gp_store_stmt(s, ST_TX_INSERT, "INSERT INTO http_transactions"
	    " (timestamp, container_name, destination_host, destination_port,"
	    " method, url, request_headers, request_body, request_body_size,"
	    " request_content_type, request_body_truncated, status_code,"
	    " response_headers, response_body, response_body_size,"
	    " response_content_type, response_body_truncated, duration_ms,"
	    " first_byte_ms, complete, tls, substituted_credentials,"
	    " session_id, placeholder_in_body)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
	if (st == NULL)
		return gp_store_errno(s);
	gp_time_format_sql(r->ts, ts);
	sqlite3_bind_text(st, 1, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->container, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->host, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (int)r->port);
	sqlite3_bind_text(st, 5, r->method, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->url, -1, SQLITE_STATIC);
	text_or_null(st, 7, r->req_headers);
	blob_or_null(st, 8, r->req_body, r->req_len, r->req_size);
	sqlite3_bind_int64(st, 9, r->req_size);
	text_or_null(st, 10, r->req_type);
	sqlite3_bind_int(st, 11, r->req_trunc);
	int_or_null(st, 12, r->status > 0 ? r->status : -1);
	text_or_null(st, 13, r->resp_headers);
	blob_or_null(st, 14, r->resp_body, r->resp_len, r->resp_size);
	sqlite3_bind_int64(st, 15, r->resp_size);
	text_or_null(st, 16, r->resp_type);
	sqlite3_bind_int(st, 17, r->resp_trunc);
	int_or_null(st, 18, r->duration_ms);
	int_or_null(st, 19, r->first_byte_ms);
	sqlite3_bind_int(st, 20, r->complete);
	sqlite3_bind_int(st, 21, r->tls);
	text_or_null(st, 22, r->subst);
	text_or_null(st, 23, r->session_id);
	sqlite3_bind_int(st, 24, r->placeholder_in_body);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		gp_log(GP_LOG_ERROR, "storing a transaction: %s",
		    sqlite3_errmsg(s->db));
		return gp_store_errno(s);
	}
	*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static void
tx_where(struct gp_buf *b, const void *arg)
{
	const struct gp_tx_filter *f = arg;

	gp_buf_addstr(b, " WHERE 1=1");
	if (f->id > 0)
		gp_buf_addstr(b, " AND id = :id");
	if (f->container != NULL)
		gp_buf_addstr(b, " AND instr(container_name, :c) > 0");
	if (f->destination != NULL)
		gp_buf_addstr(b, " AND instr(destination_host, :d) > 0");
	if (f->method != NULL)
		gp_buf_addstr(b, " AND method = :m");
	if (f->session_id != NULL)
		gp_buf_addstr(b, " AND session_id = :sid");
	/* The TUI's filter, over what its Traffic list shows. */
	if (f->search != NULL)
		gp_buf_addstr(b, " AND (instr(lower(container_name), lower(:q))"
		    " OR instr(lower(destination_host), lower(:q))"
		    " OR instr(lower(method), lower(:q))"
		    " OR instr(lower(url), lower(:q))"
		    " OR instr(CAST(status_code AS TEXT), :q)"
		    " OR instr(CAST(destination_port AS TEXT), :q))");
	if (f->from > 0)
		gp_buf_addstr(b, " AND timestamp >= :f");
	if (f->to > 0)
		gp_buf_addstr(b, " AND timestamp <= :t");
}

static void
tx_bind(sqlite3_stmt *st, const void *arg)
{
	const struct gp_tx_filter	*f = arg;
	int				 i;

	if ((i = sqlite3_bind_parameter_index(st, ":id")) > 0)
		sqlite3_bind_int64(st, i, f->id);
	gp_store_bind_named(st, ":c", f->container);
	gp_store_bind_named(st, ":d", f->destination);
	gp_store_bind_named(st, ":m", f->method);
	gp_store_bind_named(st, ":sid", f->session_id);
	gp_store_bind_named(st, ":q", f->search);
	gp_store_bind_time(st, ":f", f->from);
	gp_store_bind_time(st, ":t", f->to);
}

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? gp_xstrdup((const char *)t) : NULL;
}

static void *
blob_dup(sqlite3_stmt *st, int i, size_t *n)
{
	const void	*p = sqlite3_column_blob(st, i);
	char		*out;

	*n = (size_t)sqlite3_column_bytes(st, i);
	if (p == NULL)
		return NULL;
	out = gp_xmalloc(*n + 1);
	memcpy(out, p, *n);
	out[*n] = '\0';
	return out;
}

static int64_t
int_or(sqlite3_stmt *st, int i, int64_t none)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? none :
	    sqlite3_column_int64(st, i);
}

#define TX_COLS "id, timestamp, container_name, destination_host,"	\
	" destination_port, method, url, request_headers,"		\
	" request_body_size, request_content_type,"			\
	" request_body_truncated, status_code, response_headers,"	\
	" response_body_size, response_content_type,"			\
	" response_body_truncated, duration_ms, first_byte_ms,"	\
	" complete, tls, substituted_credentials, session_id,"		\
	" placeholder_in_body, conversation_id"

static void
row_to_tx(sqlite3_stmt *st, struct gp_tx_stored *x, int bodies)
{
	struct gp_tx_row *r = &x->row;

	memset(x, 0, sizeof *x);
	x->id = sqlite3_column_int64(st, 0);
	r->ts = gp_time_parse_sql((const char *)sqlite3_column_text(st, 1));
	r->container = x->s[0] = col_dup(st, 2);
	r->host = x->s[1] = col_dup(st, 3);
	r->port = (unsigned)sqlite3_column_int(st, 4);
	r->method = x->s[2] = col_dup(st, 5);
	r->url = x->s[3] = col_dup(st, 6);
	r->req_headers = x->s[4] = col_dup(st, 7);
	r->req_size = sqlite3_column_int64(st, 8);
	r->req_type = x->s[5] = col_dup(st, 9);
	r->req_trunc = sqlite3_column_int(st, 10);
	r->status = (int)int_or(st, 11, 0);
	r->resp_headers = x->s[6] = col_dup(st, 12);
	r->resp_size = sqlite3_column_int64(st, 13);
	r->resp_type = x->s[7] = col_dup(st, 14);
	r->resp_trunc = sqlite3_column_int(st, 15);
	r->duration_ms = int_or(st, 16, -1);
	r->first_byte_ms = int_or(st, 17, -1);
	r->complete = sqlite3_column_int(st, 18);
	r->tls = sqlite3_column_int(st, 19);
	r->subst = x->s[8] = col_dup(st, 20);
	r->session_id = x->s[9] = col_dup(st, 21);
	r->placeholder_in_body = sqlite3_column_int(st, 22);
	r->conversation_id = x->s[10] = col_dup(st, 23);
	if (bodies) {
		r->req_body = x->b[0] = blob_dup(st, 24, &r->req_len);
		r->resp_body = x->b[1] = blob_dup(st, 25, &r->resp_len);
	}
}

static void
tx_row_cb(sqlite3_stmt *st, void *elem, const void *arg)
{
	const struct gp_tx_filter *f = arg;

	row_to_tx(st, elem, f->id > 0);
}

static void
tx_rows_free(void *v, size_t n)
{
	gp_store_tx_free(v, n);
}

int
gp_store_tx_query(struct gp_store *s, const struct gp_tx_filter *f,
    struct gp_tx_stored **out, size_t *n, int64_t *total)
{
	struct gp_store_page_q q = {
		.what = "transactions",
		.cols = f->id > 0 ? TX_COLS ", request_body, response_body" :
		    TX_COLS,
		.from = "http_transactions",
		.order = "id",
		.limit = f->limit,
		.offset = f->offset,
		.size = sizeof(struct gp_tx_stored),
		.where = tx_where,
		.bind = tx_bind,
		.row = tx_row_cb,
		.free_rows = tx_rows_free,
	};

	return gp_store_page(s, &q, f, (void **)out, n, total);
}

void
gp_store_tx_free(struct gp_tx_stored *v, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < GP_ARRAY_LEN(v[i].s); k++)
			free(v[i].s[k]);
		free(v[i].b[0]);
		free(v[i].b[1]);
	}
	free(v);
}

/* Rows per SQLite transaction of a retention step: the loop's writes
 * wait for at most one (gp_store_urgent is asked between them). */
#define PRUNE_CHUNK	1000

/* Runs a prepared DELETE and ends the chunk's transaction: the rows
 * deleted, or -errno (rolled back). */
static int
delete_chunk(struct gp_store *s, sqlite3_stmt *st)
{
	int	rc, n;

	n = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(s->db) :
	    gp_store_errno(s);
	sqlite3_finalize(st);
	if (n < 0) {
		gp_store_rollback(s);
		return n;
	}
	return (rc = gp_store_commit(s)) != 0 ? rc : n;
}

/* Up to chunk of the oldest rows before ts, in one transaction. */
static int
prune_old(struct gp_store *s, const char *ts, int chunk)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((rc = gp_store_begin(s)) != 0)
		return rc;
	/* By timestamp, so that the index is used (by id, SQLite scans
	 * the whole table every time, even when nothing is old). */
	if (sqlite3_prepare_v2(s->db, "DELETE FROM http_transactions WHERE"
	    " id IN (SELECT id FROM http_transactions WHERE timestamp < ?"
	    " ORDER BY timestamp LIMIT ?)", -1, &st, NULL) != SQLITE_OK) {
		rc = gp_store_errno(s);
		gp_store_rollback(s);
		return rc;
	}
	sqlite3_bind_text(st, 1, ts, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, chunk);
	return delete_chunk(s, st);
}

/* While the rows hold more than max_bytes: the oldest that hold the
 * excess (never more), at most chunk, in one transaction.  The rows'
 * sizes are read first, then one range is deleted. */
static int
prune_over(struct gp_store *s, int64_t max_bytes, int chunk)
{
	sqlite3_stmt	*st;
	int64_t		 over, sum = 0, cut = 0;
	int		 rc;

	if ((rc = gp_store_begin(s)) != 0)
		return rc;
	over = gp_store_int(s, "SELECT n FROM tx_bytes") - max_bytes;
	if (over > 0 && sqlite3_prepare_v2(s->db, "SELECT id, " TX_SIZE
	    " FROM http_transactions ORDER BY id LIMIT ?", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_int(st, 1, chunk);
		while (sum < over && sqlite3_step(st) == SQLITE_ROW) {
			cut = sqlite3_column_int64(st, 0);
			sum += sqlite3_column_int64(st, 1);
		}
		sqlite3_finalize(st);
	}
	if (cut > 0 && sqlite3_prepare_v2(s->db, "DELETE FROM"
	    " http_transactions WHERE id <= ?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, cut);
		return delete_chunk(s, st);
	}
	return (rc = gp_store_commit(s)) != 0 ? rc : 0;
}

/*
 * One step of retention: the oldest rows before `before` (epoch s, 0:
 * none), then, while the rows hold more than max_bytes (0: no cap), the
 * oldest, until neither is left, limit rows are gone or the loop waits
 * for the write lock.  In transactions of PRUNE_CHUNK rows, so that a
 * step keeps up with any rate of inserts (a row at a time, 20 000
 * transactions a second outgrew the cap without end).  Returns how many
 * were deleted, or -errno; *more: stopped with some still to go.
 */
int
gp_store_tx_prune(struct gp_store *s, int64_t before, int64_t max_bytes,
    int limit, int *more)
{
	char	ts[20];
	int	k, n = 0, by_size;

	*more = 0;
	gp_time_format_sql(before, ts);
	for (by_size = 0; by_size < 2; by_size++) {
		if (by_size ? max_bytes <= 0 : before <= 0)
			continue;
		do {
			if (n >= limit || gp_store_urgent()) {
				*more = 1;
				return n;
			}
			k = by_size ? prune_over(s, max_bytes, PRUNE_CHUNK) :
			    prune_old(s, ts, PRUNE_CHUNK);
			if (k < 0)
				return n > 0 ? n : k;
			n += k;
		} while (k == PRUNE_CHUNK);
	}
	return n;
}

int64_t
gp_store_tx_count(struct gp_store *s)
{
	return gp_store_int(s, "SELECT count(*) FROM http_transactions");
}

int
gp_store_tx_rewrite_heads(struct gp_store *s, int64_t *after, int limit,
    gp_store_head_fn fn, void *arg, int *changed)
{
	sqlite3_stmt	*sel = NULL, *upd = NULL;
	int		 rc, n = 0;

	*changed = 0;
	if ((rc = gp_store_begin(s)) != 0)
		return rc;
	if (sqlite3_prepare_v2(s->db, "SELECT id, request_headers,"
	    " response_headers FROM http_transactions WHERE id > ?"
	    " ORDER BY id LIMIT ?", -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "UPDATE http_transactions SET"
	    " request_headers = ?, response_headers = ? WHERE id = ?", -1,
	    &upd, NULL) != SQLITE_OK) {
		rc = gp_store_errno(s);
		goto out;
	}
	sqlite3_bind_int64(sel, 1, *after);
	sqlite3_bind_int(sel, 2, limit);
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		const char	*h[2];
		char		*nh[2];
		int		 i;

		if (n > 0 && gp_store_urgent()) {	/* the loop waits */
			rc = SQLITE_DONE;
			break;
		}
		*after = sqlite3_column_int64(sel, 0);
		n++;
		for (i = 0; i < 2; i++) {
			h[i] = (const char *)sqlite3_column_text(sel, 1 + i);
			nh[i] = h[i] != NULL ? fn(arg, h[i]) : NULL;
		}
		if (nh[0] == NULL && nh[1] == NULL)
			continue;
		for (i = 0; i < 2; i++) {
			const char *v = nh[i] != NULL ? nh[i] : h[i];

			if (v != NULL)
				sqlite3_bind_text(upd, 1 + i, v, -1,
				    SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(upd, 1 + i);
		}
		sqlite3_bind_int64(upd, 3, *after);
		rc = sqlite3_step(upd);
		sqlite3_reset(upd);
		free(nh[0]);
		free(nh[1]);
		if (rc != SQLITE_DONE)
			break;
		(*changed)++;
	}
	rc = rc == SQLITE_DONE ? 0 : gp_store_errno(s);
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	if (rc != 0) {
		gp_store_rollback(s);
		return rc;
	}
	if ((rc = gp_store_commit(s)) != 0)
		return rc;
	return n;
}
