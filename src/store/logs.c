/* logs.c (store): the connection log, written in batches. */
#include "config.h"

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
gp_store_log_push(struct gp_store *s, const struct gp_conn_log *l)
{
	const char		*fields[] = { l->container, l->client_addr,
	    l->method, l->request, l->host, l->resolved_hostname,
	    l->resolved_ip, l->reason };
	struct gp_logrow	*row;
	size_t			 i, len = 0;
	char			*p;

	if (s->nlog >= LOG_QUEUE_MAX) {
		if (s->nlog == LOG_QUEUE_MAX)
			gp_log(GP_LOG_WARN, "connection log queue full; "
			    "dropping rows until the next flush");
		return;
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
	row->strs = p = gp_xmalloc(len);
	row->l.container = put(&p, l->container);
	row->l.client_addr = put(&p, l->client_addr);
	row->l.method = put(&p, l->method);
	row->l.request = put(&p, l->request);
	row->l.host = put(&p, l->host);
	row->l.resolved_hostname = put(&p, l->resolved_hostname);
	row->l.resolved_ip = put(&p, l->resolved_ip);
	row->l.reason = put(&p, l->reason);
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

int
gp_store_log_flush(struct gp_store *s)
{
	sqlite3_stmt	*st;
	size_t		 i, done = 0;
	char		 ts[20];

	if (s->nlog == 0 && s->nhits == 0)
		return 0;
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		/* Busy: keep the rows and try again at the next flush. */
		gp_log(GP_LOG_WARN, "log flush deferred: %s",
		    sqlite3_errmsg(s->db));
		return 0;
	}
	st = gp_store_stmt(s, ST_LOG_INSERT, "INSERT INTO request_logs"
	    " (timestamp, container_name, destination_host, destination_port,"
	    " resolved_hostname, method, result, rule_id, response_time_ms,"
	    " client_addr, request, resolved_ip, reason, bytes_up, bytes_down)"
	    " VALUES (?,?,?,?,?,?,?,"
	    "  (SELECT id FROM rules WHERE id = ?),?,?,?,?,?,?,?)");
	for (i = 0; st != NULL && i < s->nlog; i++) {
		const struct gp_conn_log *l = &s->logq[i].l;

		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		gp_time_format_sql(l->ts, ts);
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
		if (sqlite3_step(st) != SQLITE_DONE)
			gp_log(GP_LOG_ERROR, "log insert: %s",
			    sqlite3_errmsg(s->db));
		else
			done++;
	}
	if (st != NULL)
		sqlite3_reset(st);
	st = gp_store_stmt(s, ST_RULE_HIT, "UPDATE rules SET hit_count ="
	    " hit_count + ?, last_used_at = ? WHERE id = ?");
	for (i = 0; st != NULL && i < s->nhits; i++) {
		sqlite3_reset(st);
		gp_time_format_sql(s->hits[i].last, ts);
		sqlite3_bind_int64(st, 1, s->hits[i].count);
		sqlite3_bind_text(st, 2, ts, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, s->hits[i].rule_id);
		sqlite3_step(st);
	}
	if (st != NULL)
		sqlite3_reset(st);
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		gp_log(GP_LOG_ERROR, "log commit: %s", sqlite3_errmsg(s->db));
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return 0;
	}
	for (i = 0; i < s->nlog; i++)
		free(s->logq[i].strs);
	s->nlog = 0;
	s->nhits = 0;
	return (int)done;
}
