/* pending.c (store): the pending_requests table. */
#include "config.h"

#include <string.h>

#include "core/core.h"
#include "store/store-int.h"

int
gp_store_pending_insert(struct gp_store *s, const struct gp_store_pending *p)
{
	sqlite3_stmt	*st;
	char		 first[20], last[20];

	gp_time_format_sql(p->first_seen, first);
	gp_time_format_sql(p->last_seen, last);
	/* The queue in memory is the truth: a row that holds the key or
	 * the id (written by an older process) gives way. */
	st = gp_store_stmt(s, ST_PENDING_INSERT, "INSERT OR REPLACE INTO"
	    " pending_requests (id, container_name, destination_host,"
	    " destination_port, resolved_hostname, first_seen, last_seen,"
	    " attempt_count, local_network) VALUES (?,?,?,?,?,?,?,?,?)");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, p->id);
	sqlite3_bind_text(st, 2, p->container, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->host, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (int)p->port);
	if (p->resolved_hostname != NULL)
		sqlite3_bind_text(st, 5, p->resolved_hostname, -1,
		    SQLITE_STATIC);
	sqlite3_bind_text(st, 6, first, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, last, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, p->attempts);
	sqlite3_bind_int(st, 9, p->local);
	return gp_store_run(s, st, "pending insert");
}

int64_t
gp_store_pending_next_id(struct gp_store *s)
{
	/* AUTOINCREMENT's high-water mark: an id is never given twice,
	 * even after its row has gone. */
	int64_t id = gp_store_int64(s, ST_PENDING_NEXT, "SELECT max("
	    "coalesce((SELECT seq FROM sqlite_sequence"
	    " WHERE name = 'pending_requests'), 0),"
	    "coalesce((SELECT max(id) FROM pending_requests), 0)) + 1");

	return id > 0 ? id : 1;
}

int
gp_store_pending_given(struct gp_store *s, int64_t last_id)
{
	int	rc;

	rc = gp_store_run_id(s, ST_PENDING_SEQ_ADD, "INSERT INTO"
	    " sqlite_sequence (name, seq) SELECT 'pending_requests', ?1"
	    " WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence"
	    " WHERE name = 'pending_requests')", last_id, "pending ids");
	if (rc != 0)
		return rc;
	return gp_store_run_id(s, ST_PENDING_SEQ_SET, "UPDATE sqlite_sequence"
	    " SET seq = ?1 WHERE name = 'pending_requests' AND seq < ?1",
	    last_id, "pending ids");
}

int
gp_store_pending_touch(struct gp_store *s, int64_t id, int64_t attempts,
    int64_t last_seen)
{
	sqlite3_stmt	*st;
	char		 ts[20];

	gp_time_format_sql(last_seen, ts);
	st = gp_store_stmt(s, ST_PENDING_TOUCH, "UPDATE pending_requests SET"
	    " attempt_count = ?, last_seen = ? WHERE id = ?");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, attempts);
	sqlite3_bind_text(st, 2, ts, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, id);
	return gp_store_run(s, st, "pending touch");
}

int
gp_store_pending_delete(struct gp_store *s, int64_t id)
{
	return gp_store_run_id(s, ST_PENDING_DELETE,
	    "DELETE FROM pending_requests WHERE id = ?1", id,
	    "pending delete");
}

int
gp_store_pending_load(struct gp_store *s,
    void (*fn)(void *, const struct gp_store_pending *), void *data)
{
	sqlite3_stmt		*st;
	struct gp_store_pending	 p;
	int			 rc;

	st = gp_store_stmt(s, ST_PENDING_LOAD, "SELECT id, container_name,"
	    " destination_host, destination_port, resolved_hostname,"
	    " local_network, first_seen, last_seen, attempt_count"
	    " FROM pending_requests ORDER BY id");
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&p, 0, sizeof p);
		p.id = sqlite3_column_int64(st, 0);
		p.container = (const char *)sqlite3_column_text(st, 1);
		p.host = (const char *)sqlite3_column_text(st, 2);
		p.port = (unsigned)sqlite3_column_int(st, 3);
		p.resolved_hostname = (const char *)sqlite3_column_text(st, 4);
		p.local = sqlite3_column_int(st, 5);
		p.first_seen = gp_time_parse_sql(
		    (const char *)sqlite3_column_text(st, 6));
		p.last_seen = gp_time_parse_sql(
		    (const char *)sqlite3_column_text(st, 7));
		p.attempts = sqlite3_column_int64(st, 8);
		if (p.container != NULL && p.host != NULL)
			fn(data, &p);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}
