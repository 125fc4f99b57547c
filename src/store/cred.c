/* cred.c (store): the credentials table; values arrive sealed. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "store/store-int.h"

int
gp_store_cred_insert(struct gp_store *s, const struct gp_cred_row *r)
{
	sqlite3_stmt	*st;
	char		 ts[20];
	int		 rc;

	if (sqlite3_prepare_v2(s->db, "INSERT INTO credentials (id, label,"
	    " placeholder, value_enc, value_preview, hosts, created_at)"
	    " VALUES (?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
		return gp_store_errno(s);
	gp_time_format_sql(r->created_at, ts);
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->label, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->placeholder, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 4, r->value_enc, r->value_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->preview, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->hosts ? r->hosts : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, ts, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return -EEXIST;
	return rc == SQLITE_DONE ? 0 : gp_store_errno(s);
}

static int
exec_id(struct gp_store *s, const char *sql, const char *a, const char *b)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return gp_store_errno(s);
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b != NULL)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return gp_store_errno(s);
	return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

int
gp_store_cred_delete(struct gp_store *s, const char *id)
{
	return exec_id(s, "DELETE FROM credentials WHERE id = ?", id, NULL);
}

int
gp_store_cred_set_hosts(struct gp_store *s, const char *id, const char *hosts)
{
	return exec_id(s, "UPDATE credentials SET hosts = ?2 WHERE id = ?1",
	    id, hosts);
}

int
gp_store_cred_set_preview(struct gp_store *s, const char *id,
    const char *preview)
{
	return exec_id(s, "UPDATE credentials SET value_preview = ?2"
	    " WHERE id = ?1", id, preview);
}

int
gp_store_creds_load(struct gp_store *s, struct gp_cred_row **out, size_t *n)
{
	sqlite3_stmt		*st;
	struct gp_cred_row	*v = NULL, *r;
	size_t			 cap = 0;
	int			 rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT id, label, placeholder,"
	    " value_enc, value_preview, hosts, created_at FROM credentials"
	    " ORDER BY created_at DESC, rowid DESC", -1, &st, NULL) !=
	    SQLITE_OK)
		return gp_store_errno(s);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const void	*b = sqlite3_column_blob(st, 3);
		int		 bl = sqlite3_column_bytes(st, 3);

		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			v = gp_xrealloc(v, cap * sizeof *v);
		}
		r = &v[(*n)++];
		memset(r, 0, sizeof *r);
		snprintf(r->id, sizeof r->id, "%s",
		    (const char *)sqlite3_column_text(st, 0));
		snprintf(r->label, sizeof r->label, "%s",
		    (const char *)sqlite3_column_text(st, 1));
		snprintf(r->placeholder, sizeof r->placeholder, "%s",
		    (const char *)sqlite3_column_text(st, 2));
		r->value_len = bl > 0 ? (size_t)bl : 0;
		r->value_enc = gp_xmalloc(r->value_len + 1);
		if (bl > 0)
			memcpy(r->value_enc, b, (size_t)bl);
		snprintf(r->preview, sizeof r->preview, "%s",
		    (const char *)sqlite3_column_text(st, 4));
		r->hosts = gp_store_col_text(st, 5);
		r->created_at = gp_time_parse_sql(
		    (const char *)sqlite3_column_text(st, 6));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		gp_store_creds_free(v, *n);
		*out = NULL;
		*n = 0;
		return gp_store_errno(s);
	}
	*out = v;
	return 0;
}

void
gp_store_creds_free(struct gp_cred_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].value_enc);
		free(v[i].hosts);
	}
	free(v);
}

int
gp_store_session_put(struct gp_store *s, const struct gp_session_row *r)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO sessions"
	    " (session_id, container_name, mappings_enc, labels,"
	    " global_labels, metadata, rule_ids, ttl_seconds, allow_all,"
	    " created_at, expires_at, last_heartbeat, substitution_count,"
	    " bound_hosts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st,
	    NULL) !=
	    SQLITE_OK)
		return gp_store_errno(s);
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->container, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 3, r->mappings_enc, r->mappings_len,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->labels, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->globals, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->metadata, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->rule_ids, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, r->ttl);
	sqlite3_bind_int(st, 9, r->allow_all);
	sqlite3_bind_int64(st, 10, r->created_at);
	sqlite3_bind_int64(st, 11, r->expires_at);
	sqlite3_bind_int64(st, 12, r->last_heartbeat);
	sqlite3_bind_int64(st, 13, r->substitutions);
	sqlite3_bind_text(st, 14, r->bound, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : gp_store_errno(s);
}

int
gp_store_session_delete(struct gp_store *s, const char *id)
{
	return exec_id(s, "DELETE FROM sessions WHERE session_id = ?", id,
	    NULL);
}

int
gp_store_sessions_load(struct gp_store *s, struct gp_session_row **out,
    size_t *n)
{
	sqlite3_stmt		*st;
	struct gp_session_row	*v = NULL, *r;
	size_t			 cap = 0;
	int			 rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT session_id, container_name,"
	    " mappings_enc, labels, global_labels, metadata, rule_ids,"
	    " ttl_seconds, allow_all, created_at, expires_at, last_heartbeat,"
	    " substitution_count, bound_hosts FROM sessions"
	    " ORDER BY created_at", -1, &st, NULL) != SQLITE_OK)
		return gp_store_errno(s);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int bl = sqlite3_column_bytes(st, 2);

		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			v = gp_xrealloc(v, cap * sizeof *v);
		}
		r = &v[(*n)++];
		memset(r, 0, sizeof *r);
		r->id = gp_store_col_text(st, 0);
		r->container = gp_store_col_text(st, 1);
		r->mappings_len = bl > 0 ? (size_t)bl : 0;
		r->mappings_enc = gp_xmalloc(r->mappings_len + 1);
		if (bl > 0)
			memcpy(r->mappings_enc, sqlite3_column_blob(st, 2),
			    (size_t)bl);
		r->labels = gp_store_col_text(st, 3);
		r->globals = gp_store_col_text(st, 4);
		r->metadata = gp_store_col_text(st, 5);
		r->rule_ids = gp_store_col_text(st, 6);
		r->ttl = sqlite3_column_int(st, 7);
		r->allow_all = sqlite3_column_int(st, 8);
		r->created_at = sqlite3_column_int64(st, 9);
		r->expires_at = sqlite3_column_int64(st, 10);
		r->last_heartbeat = sqlite3_column_int64(st, 11);
		r->substitutions = sqlite3_column_int64(st, 12);
		r->bound = gp_store_col_text(st, 13);
	}
	sqlite3_finalize(st);
	*out = v;
	if (rc != SQLITE_DONE)
		return gp_store_errno(s);
	return 0;
}

void
gp_store_sessions_free(struct gp_session_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free((char *)v[i].id);
		free((char *)v[i].container);
		free(v[i].mappings_enc);
		free(v[i].labels);
		free(v[i].globals);
		free(v[i].metadata);
		free(v[i].rule_ids);
		free(v[i].bound);
	}
	free(v);
}

int
gp_store_session_count(struct gp_store *s, const char *id, int64_t n)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(s->db, "UPDATE sessions SET substitution_count"
	    " = ? WHERE session_id = ?", -1, &st, NULL) != SQLITE_OK)
		return gp_store_errno(s);
	sqlite3_bind_int64(st, 1, n);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : gp_store_errno(s);
}
