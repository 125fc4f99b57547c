/* pending.c (store): the pending_requests table. */
#include "config.h"

#include <string.h>

#include "core/core.h"
#include "store/store-int.h"

int
gp_store_pending_insert(struct gp_store *s, struct gp_store_pending *p)
{
	sqlite3_stmt	*st;
	char		 ts[20];
	int		 rc;

	gp_time_format_sql(p->first_seen, ts);
	st = gp_store_stmt(s, ST_PENDING_INSERT, "INSERT INTO pending_requests"
	    " (container_name, destination_host, destination_port,"
	    " resolved_hostname, first_seen, last_seen, local_network)"
	    " VALUES (?,?,?,?,?,?,?) ON CONFLICT (container_name,"
	    " destination_host, destination_port) DO UPDATE SET"
	    " last_seen = excluded.last_seen,"
	    " attempt_count = attempt_count + 1 RETURNING id");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, p->container, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->host, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)p->port);
	if (p->resolved_hostname != NULL)
		sqlite3_bind_text(st, 4, p->resolved_hostname, -1,
		    SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, ts, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, p->local);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		p->id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		gp_log(GP_LOG_ERROR, "pending insert: %s",
		    sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
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
	sqlite3_stmt	*st;

	st = gp_store_stmt(s, ST_PENDING_DELETE,
	    "DELETE FROM pending_requests WHERE id = ?");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return gp_store_run(s, st, "pending delete");
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
