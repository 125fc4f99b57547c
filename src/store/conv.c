/*
 * conv.c (store): LLM conversations, their turns, requests and
 * sub-agent calls; endpoint rules and suggestions; the assembler's
 * cursor.  Written by the capture worker's connection only (ctl/conv.c
 * assembles); read by the API's query workers, which get cJSON in the
 * original's field names.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/core.h"
#include "store/store-int.h"

static sqlite3_stmt *
prep(struct gp_store *s, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		gp_log(GP_LOG_ERROR, "conversations: %s", sqlite3_errmsg(s->db));
		return NULL;
	}
	return st;
}

static void
bind_str(sqlite3_stmt *st, int i, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* Steps a statement that returns no rows and finalizes it. */
static int
done(struct gp_store *s, sqlite3_stmt *st)
{
	int rc;

	if (st == NULL)
		return -EIO;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return -EEXIST;
	return rc == SQLITE_DONE ? 0 : gp_store_errno(s);
}

int
gp_store_conv_put(struct gp_store *s, const struct gp_conv_row *r)
{
	sqlite3_stmt *st = prep(s, "INSERT INTO conversations (id,"
	    " container_name, client_name, provider, model, kind,"
	    " utility_reason, session_key, parent_conversation_id,"
	    " parent_tool_use_id, started_at, ended_at, turn_count,"
	    " system_prompt, first_prompt, messages_json, req_fp,"
	    " last_response_id, last_turn_has_response, incomplete,"
	    " incomplete_reason, requests, parseable_requests,"
	    " truncated_requests, best_request_id, messages_in_best_request,"
	    " input_tokens, output_tokens, cache_read_tokens,"
	    " cache_write_tokens, updated_at) VALUES (?1,?2,?3,?4,?5,?6,?7,"
	    "?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,"
	    "?24,?25,?26,?27,?28,?29,?30,?31) ON CONFLICT(id) DO UPDATE SET"
	    " provider=?4, model=?5, kind=?6, utility_reason=?7,"
	    " session_key=?8, parent_conversation_id=?9,"
	    " parent_tool_use_id=?10, ended_at=?12, turn_count=?13,"
	    " system_prompt=?14, first_prompt=?15, messages_json=?16,"
	    " req_fp=?17, last_response_id=?18, last_turn_has_response=?19,"
	    " incomplete=?20, incomplete_reason=?21, requests=?22,"
	    " parseable_requests=?23, truncated_requests=?24,"
	    " best_request_id=?25, messages_in_best_request=?26,"
	    " input_tokens=?27, output_tokens=?28, cache_read_tokens=?29,"
	    " cache_write_tokens=?30, updated_at=?31");

	if (st == NULL)
		return -EIO;
	bind_str(st, 1, r->id);
	bind_str(st, 2, r->container);
	bind_str(st, 3, r->client);
	bind_str(st, 4, r->provider);
	bind_str(st, 5, r->model);
	bind_str(st, 6, r->kind);
	bind_str(st, 7, r->utility_reason);
	bind_str(st, 8, r->session_key);
	bind_str(st, 9, r->parent_id);
	bind_str(st, 10, r->parent_tool_use_id);
	sqlite3_bind_int64(st, 11, r->started_at);
	sqlite3_bind_int64(st, 12, r->ended_at);
	sqlite3_bind_int(st, 13, r->turn_count);
	bind_str(st, 14, r->system_prompt);
	bind_str(st, 15, r->first_prompt);
	bind_str(st, 16, r->messages_json);
	bind_str(st, 17, r->req_fp);
	bind_str(st, 18, r->last_response_id);
	sqlite3_bind_int(st, 19, r->last_turn_has_response);
	sqlite3_bind_int(st, 20, r->incomplete);
	bind_str(st, 21, r->incomplete_reason);
	sqlite3_bind_int(st, 22, r->requests);
	sqlite3_bind_int(st, 23, r->parseable);
	sqlite3_bind_int(st, 24, r->truncated);
	sqlite3_bind_int64(st, 25, r->best_request_id);
	sqlite3_bind_int(st, 26, r->messages_in_best);
	sqlite3_bind_int64(st, 27, r->tok[0]);
	sqlite3_bind_int64(st, 28, r->tok[1]);
	sqlite3_bind_int64(st, 29, r->tok[2]);
	sqlite3_bind_int64(st, 30, r->tok[3]);
	sqlite3_bind_int64(st, 31, gp_now());
	return done(s, st);
}

static const char conv_cols[] = "id, container_name, client_name,"
    " provider, model, kind, utility_reason, session_key,"
    " parent_conversation_id, parent_tool_use_id, system_prompt,"
    " first_prompt, messages_json, req_fp, last_response_id,"
    " incomplete_reason, started_at, ended_at, turn_count,"
    " last_turn_has_response, incomplete, requests, parseable_requests,"
    " truncated_requests, best_request_id, messages_in_best_request,"
    " input_tokens, output_tokens, cache_read_tokens, cache_write_tokens";

static void
conv_read(sqlite3_stmt *st, struct gp_conv_loaded *l)
{
	struct gp_conv_row	*r = &l->row;
	const char		**f[] = { &r->id, &r->container, &r->client,
	    &r->provider, &r->model, &r->kind, &r->utility_reason,
	    &r->session_key, &r->parent_id, &r->parent_tool_use_id,
	    &r->system_prompt, &r->first_prompt, &r->messages_json,
	    &r->req_fp, &r->last_response_id, &r->incomplete_reason };
	size_t			 i;

	memset(l, 0, sizeof *l);
	for (i = 0; i < GP_ARRAY_LEN(f); i++)
		*f[i] = l->s[i] = gp_store_col_text(st, (int)i);
	r->started_at = sqlite3_column_int64(st, 16);
	r->ended_at = sqlite3_column_int64(st, 17);
	r->turn_count = sqlite3_column_int(st, 18);
	r->last_turn_has_response = sqlite3_column_int(st, 19);
	r->incomplete = sqlite3_column_int(st, 20);
	r->requests = sqlite3_column_int(st, 21);
	r->parseable = sqlite3_column_int(st, 22);
	r->truncated = sqlite3_column_int(st, 23);
	r->best_request_id = sqlite3_column_int64(st, 24);
	r->messages_in_best = sqlite3_column_int(st, 25);
	for (i = 0; i < 4; i++)
		r->tok[i] = sqlite3_column_int64(st, 26 + (int)i);
}

void
gp_store_conv_loaded_free(struct gp_conv_loaded *l)
{
	size_t i;

	for (i = 0; i < GP_ARRAY_LEN(l->s); i++)
		free(l->s[i]);
	memset(l, 0, sizeof *l);
}

/* The conversation of a query with one text parameter, or -ENOENT. */
static int
conv_where(struct gp_store *s, const char *where, const char *a,
    const char *b, struct gp_conv_loaded *l)
{
	char		*sql;
	sqlite3_stmt	*st;
	int		 rc;

	gp_xasprintf(&sql, "SELECT %s FROM conversations WHERE %s", conv_cols,
	    where);
	st = prep(s, sql);
	free(sql);
	if (st == NULL)
		return -EIO;
	bind_str(st, 1, a);
	if (b != NULL)
		bind_str(st, 2, b);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		conv_read(st, l);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT :
	    gp_store_errno(s);
}

int
gp_store_conv_get(struct gp_store *s, const char *id,
    struct gp_conv_loaded *l)
{
	return conv_where(s, "id = ?1", id, NULL, l);
}

int
gp_store_conv_by_response(struct gp_store *s, const char *container,
    const char *response_id, struct gp_conv_loaded *l)
{
	return conv_where(s, "last_response_id = ?1 AND container_name = ?2"
	    " ORDER BY updated_at DESC LIMIT 1", response_id, container, l);
}

int
gp_store_conv_candidates(struct gp_store *s, const struct gp_conv_row *k,
    int limit, struct gp_conv_cand **out, size_t *n)
{
	sqlite3_stmt	*st = prep(s, "SELECT id, req_fp FROM conversations"
	    " WHERE container_name = ?1 AND client_name = ?2 AND"
	    " (kind = ?3 OR (?3 = 'main' AND kind = 'subagent')) AND"
	    " session_key IS ?4 ORDER BY updated_at DESC LIMIT ?5");
	size_t		 cap = 0;
	int		 rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -EIO;
	bind_str(st, 1, k->container);
	bind_str(st, 2, k->client);
	bind_str(st, 3, k->kind);
	bind_str(st, 4, k->session_key);
	sqlite3_bind_int(st, 5, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = gp_xrealloc(*out, cap * sizeof **out);
		}
		(*out)[*n].id = gp_store_col_text(st, 0);
		(*out)[*n].fp = gp_store_col_text(st, 1);
		(*n)++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : gp_store_errno(s);
}

void
gp_store_conv_cand_free(struct gp_conv_cand *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(c[i].id);
		free(c[i].fp);
	}
	free(c);
}

int
gp_store_conv_turns(struct gp_store *s, const char *id, const cJSON *turns,
    int from)
{
	sqlite3_stmt	*st;
	const cJSON	*t;
	int		 rc, n;

	st = prep(s, "DELETE FROM turns WHERE conversation_id = ?1 AND"
	    " turn_number >= ?2");
	if (st == NULL)
		return -EIO;
	bind_str(st, 1, id);
	sqlite3_bind_int(st, 2, from);
	if ((rc = done(s, st)) != 0)
		return rc;
	cJSON_ArrayForEach(t, turns) {
		char *steps;

		if ((n = cJSON_GetObjectItemCaseSensitive(t,
		    "turn_number")->valueint) < from)
			continue;	/* unchanged: not written again */
		steps = cJSON_PrintUnformatted(
		    cJSON_GetObjectItemCaseSensitive(t, "steps"));
		st = prep(s, "INSERT INTO turns (conversation_id, turn_number,"
		    " user_prompt, steps_json) VALUES (?1, ?2, ?3, ?4)");
		if (st == NULL) {
			cJSON_free(steps);
			return -EIO;
		}
		bind_str(st, 1, id);
		sqlite3_bind_int(st, 2, n);
		bind_str(st, 3, cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(t, "user_prompt")));
		bind_str(st, 4, steps);
		rc = done(s, st);
		cJSON_free(steps);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
gp_store_conv_turn_prompt(struct gp_store *s, const char *id, int n,
    char **prompt)
{
	sqlite3_stmt	*st = prep(s, "SELECT user_prompt FROM turns WHERE"
	    " conversation_id = ?1 AND turn_number = ?2");
	int		 rc;

	*prompt = NULL;
	if (st == NULL)
		return -EIO;
	bind_str(st, 1, id);
	sqlite3_bind_int(st, 2, n);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*prompt = gp_store_col_text(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -ENOENT;
}

int
gp_store_conv_request(struct gp_store *s, const struct gp_conv_req *q)
{
	sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO"
	    " conversation_requests (tx_id, conversation_id, turn_number, ts,"
	    " duration_ms, first_token_ms, model, status, stop_reason, error,"
	    " why, stream, input_tokens, output_tokens, cache_read_tokens,"
	    " cache_write_tokens) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,"
	    "?12,?13,?14,?15,?16)");
	int i;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, q->tx_id);
	bind_str(st, 2, q->conversation_id);
	sqlite3_bind_int(st, 3, q->turn_number);
	sqlite3_bind_int64(st, 4, q->ts);
	sqlite3_bind_int64(st, 5, q->duration_ms);
	sqlite3_bind_int64(st, 6, q->first_token_ms);
	bind_str(st, 7, q->model);
	sqlite3_bind_int(st, 8, q->status);
	bind_str(st, 9, q->stop_reason);
	bind_str(st, 10, q->error);
	bind_str(st, 11, q->why);
	sqlite3_bind_int(st, 12, q->stream);
	for (i = 0; i < 4; i++)
		sqlite3_bind_int64(st, 13 + i, q->tok[i]);
	return done(s, st);
}

int
gp_store_conv_agent_put(struct gp_store *s, const char *parent,
    const char *tool_use_id, const char *tool, const char *container,
    const char *session_key, const char *prompt_fp)
{
	sqlite3_stmt *st = prep(s, "INSERT OR IGNORE INTO"
	    " conversation_agent_calls (parent_id, tool_use_id, tool,"
	    " container_name, session_key, prompt_fp) VALUES"
	    " (?1, ?2, ?3, ?4, ?5, ?6)");

	if (st == NULL)
		return -EIO;
	bind_str(st, 1, parent);
	bind_str(st, 2, tool_use_id);
	bind_str(st, 3, tool);
	bind_str(st, 4, container);
	bind_str(st, 5, session_key);
	bind_str(st, 6, prompt_fp);
	return done(s, st);
}

int
gp_store_conv_agent_claim(struct gp_store *s, const char *container,
    const char *session_key, const char *prompt_fp, const char *child,
    char **parent, char **tool_use_id)
{
	sqlite3_stmt	*st = prep(s, "SELECT parent_id, tool_use_id FROM"
	    " conversation_agent_calls WHERE prompt_fp = ?1 AND"
	    " container_name = ?2 AND (?3 IS NULL OR session_key IS NULL OR"
	    " session_key = ?3) AND child_id IS NULL AND parent_id != ?4"
	    " ORDER BY rowid LIMIT 1");
	int		 rc;

	*parent = *tool_use_id = NULL;
	if (st == NULL)
		return -EIO;
	bind_str(st, 1, prompt_fp);
	bind_str(st, 2, container);
	bind_str(st, 3, session_key);
	bind_str(st, 4, child);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*parent = gp_store_col_text(st, 0);
		*tool_use_id = gp_store_col_text(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? -ENOENT : gp_store_errno(s);
	st = prep(s, "UPDATE conversation_agent_calls SET child_id = ?3"
	    " WHERE parent_id = ?1 AND tool_use_id = ?2");
	if (st == NULL)
		return -EIO;
	bind_str(st, 1, *parent);
	bind_str(st, 2, *tool_use_id);
	bind_str(st, 3, child);
	return done(s, st);
}

int
gp_store_tx_set_conversation(struct gp_store *s, int64_t tx_id,
    const char *conv)
{
	sqlite3_stmt *st = prep(s, "UPDATE http_transactions SET"
	    " conversation_id = ?2 WHERE id = ?1");

	if (st == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, tx_id);
	bind_str(st, 2, conv);
	return done(s, st);
}

int
gp_store_conv_clear(struct gp_store *s)
{
	char	*err = NULL;
	int	 rc;

	rc = sqlite3_exec(s->db, "DELETE FROM conversation_agent_calls;"
	    "DELETE FROM conversation_requests; DELETE FROM turns;"
	    "DELETE FROM conversations;"
	    "UPDATE http_transactions SET conversation_id = NULL"
	    " WHERE conversation_id IS NOT NULL;"
	    "DELETE FROM conversation_processing_state"
	    " WHERE key = 'last_processed_id';", NULL, NULL, &err);
	if (rc != SQLITE_OK) {
		gp_log(GP_LOG_ERROR, "conversations: %s", err);
		sqlite3_free(err);
		return gp_store_errno(s);
	}
	return 0;
}

int
gp_store_conv_prune(struct gp_store *s, int64_t before, int limit)
{
	sqlite3_stmt *st = prep(s, "DELETE FROM conversations WHERE id IN"
	    " (SELECT id FROM conversations WHERE ended_at < ?1"
	    " ORDER BY ended_at LIMIT ?2)");
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, before);
	sqlite3_bind_int(st, 2, limit);
	if ((rc = done(s, st)) != 0)
		return rc;
	return sqlite3_changes(s->db);
}

int
gp_store_conv_state(struct gp_store *s, const char *key, int64_t *v)
{
	sqlite3_stmt	*st = prep(s, "SELECT value FROM"
	    " conversation_processing_state WHERE key = ?1");
	int		 rc;

	*v = 0;
	if (st == NULL)
		return -EIO;
	bind_str(st, 1, key);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT :
	    gp_store_errno(s);
}

int
gp_store_conv_state_set(struct gp_store *s, const char *key, int64_t v)
{
	sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO"
	    " conversation_processing_state (key, value) VALUES (?1, ?2)");

	if (st == NULL)
		return -EIO;
	bind_str(st, 1, key);
	sqlite3_bind_int64(st, 2, v);
	return done(s, st);
}

int
gp_store_conv_todo(struct gp_store *s, int64_t after, int limit,
    struct gp_conv_txref **out, size_t *n, int64_t *remaining)
{
	sqlite3_stmt	*st = prep(s, "SELECT id, destination_host, method,"
	    " url, request_content_type, length(request_body) FROM"
	    " http_transactions WHERE id > ?1 ORDER BY id LIMIT ?2");
	int		 rc;

	*out = gp_xcalloc((size_t)limit, sizeof **out);
	*n = 0;
	if (st == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct gp_conv_txref *r = &(*out)[(*n)++];

		r->id = sqlite3_column_int64(st, 0);
		r->host = gp_store_col_text(st, 1);
		r->method = gp_store_col_text(st, 2);
		r->url = gp_store_col_text(st, 3);
		r->req_type = gp_store_col_text(st, 4);
		r->req_len = sqlite3_column_int64(st, 5);
	}
	sqlite3_finalize(st);
	if (remaining != NULL) {
		st = prep(s, "SELECT count(*) FROM http_transactions"
		    " WHERE id > ?1");
		*remaining = 0;
		if (st != NULL) {
			sqlite3_bind_int64(st, 1, *n > 0 ?
			    (*out)[*n - 1].id : after);
			if (sqlite3_step(st) == SQLITE_ROW)
				*remaining = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
	}
	return rc == SQLITE_DONE ? 0 : gp_store_errno(s);
}

void
gp_store_conv_txref_free(struct gp_conv_txref *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {	/* gp_store_conv_todo's copies */
		free((char *)r[i].host);
		free((char *)r[i].method);
		free((char *)r[i].url);
		free((char *)r[i].req_type);
	}
	free(r);
}

/* --- endpoint rules --- */

int
gp_store_endpoint_seed(struct gp_store *s, const struct gp_endpoint_rule *r,
    size_t n)
{
	size_t	i;
	int	rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		sqlite3_stmt *st = prep(s, "INSERT INTO endpoint_rules"
		    " (host_pattern, path_pattern, method, decoder_name,"
		    " priority, enabled, user_defined) VALUES"
		    " (?1, ?2, ?3, ?4, ?5, 1, 0) ON CONFLICT DO UPDATE SET"
		    " decoder_name = ?4, priority = ?5");

		if (st == NULL)
			return -EIO;
		bind_str(st, 1, r[i].host);
		bind_str(st, 2, r[i].path);
		bind_str(st, 3, r[i].method);
		bind_str(st, 4, r[i].decoder);
		sqlite3_bind_int(st, 5, r[i].priority);
		rc = done(s, st);
	}
	return rc;
}

int
gp_store_endpoint_list(struct gp_store *s, int enabled_only,
    struct gp_endpoint_rule **out, size_t *n)
{
	sqlite3_stmt	*st = prep(s, "SELECT id, host_pattern, path_pattern,"
	    " method, decoder_name, priority, enabled, user_defined FROM"
	    " endpoint_rules WHERE enabled OR NOT ?1"
	    " ORDER BY priority DESC, id ASC");
	size_t		 cap = 0;
	int		 rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -EIO;
	sqlite3_bind_int(st, 1, enabled_only);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct gp_endpoint_rule *r;

		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = gp_xrealloc(*out, cap * sizeof **out);
		}
		r = &(*out)[(*n)++];
		r->id = sqlite3_column_int64(st, 0);
		r->host = gp_store_col_text(st, 1);
		r->path = gp_store_col_text(st, 2);
		r->method = gp_store_col_text(st, 3);
		r->decoder = gp_store_col_text(st, 4);
		r->priority = sqlite3_column_int(st, 5);
		r->enabled = sqlite3_column_int(st, 6);
		r->user_defined = sqlite3_column_int(st, 7);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : gp_store_errno(s);
}

void
gp_store_endpoint_free(struct gp_endpoint_rule *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free((char *)(uintptr_t)r[i].host);
		free((char *)(uintptr_t)r[i].path);
		free((char *)(uintptr_t)r[i].method);
		free((char *)(uintptr_t)r[i].decoder);
	}
	free(r);
}

int
gp_store_endpoint_put(struct gp_store *s, struct gp_endpoint_rule *r)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (r->id > 0)
		st = prep(s, "UPDATE endpoint_rules SET host_pattern = ?1,"
		    " path_pattern = ?2, method = ?3, decoder_name = ?4,"
		    " priority = ?5, enabled = ?6 WHERE id = ?7 AND"
		    " user_defined = 1");
	else
		st = prep(s, "INSERT INTO endpoint_rules (host_pattern,"
		    " path_pattern, method, decoder_name, priority, enabled,"
		    " user_defined) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)");
	if (st == NULL)
		return -EIO;
	bind_str(st, 1, r->host);
	bind_str(st, 2, r->path);
	bind_str(st, 3, r->method);
	bind_str(st, 4, r->decoder);
	sqlite3_bind_int(st, 5, r->priority);
	sqlite3_bind_int(st, 6, r->enabled);
	if (r->id > 0)
		sqlite3_bind_int64(st, 7, r->id);
	if ((rc = done(s, st)) != 0)
		return rc;
	if (r->id > 0)
		return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
	r->id = sqlite3_last_insert_rowid(s->db);
	r->user_defined = 1;
	/* a suggestion taken is no longer one */
	st = prep(s, "DELETE FROM endpoint_suggestions WHERE host GLOB ?1"
	    " AND path GLOB ?2");
	return st == NULL ? 0 : (bind_str(st, 1, r->host), bind_str(st, 2,
	    r->path), done(s, st));
}

int
gp_store_endpoint_delete(struct gp_store *s, int64_t id)
{
	sqlite3_stmt *st = prep(s, "DELETE FROM endpoint_rules WHERE id = ?1"
	    " AND user_defined = 1");
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = done(s, st)) != 0)
		return rc;
	return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

int
gp_store_endpoint_suggest(struct gp_store *s, const char *host,
    const char *path, const char *method, const char *decoder, int64_t ts,
    int64_t tx_id)
{
	sqlite3_stmt *st = prep(s, "INSERT INTO endpoint_suggestions (host,"
	    " path, method, decoder_name, first_seen, last_seen,"
	    " example_tx_id) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)"
	    " ON CONFLICT DO UPDATE SET seen = seen + 1, last_seen = ?5,"
	    " decoder_name = ?4");

	if (st == NULL)
		return -EIO;
	bind_str(st, 1, host);
	bind_str(st, 2, path);
	bind_str(st, 3, method);
	bind_str(st, 4, decoder);
	sqlite3_bind_int64(st, 5, ts);
	sqlite3_bind_int64(st, 6, tx_id);
	return done(s, st);
}

/* --- queries (API workers): the original's field names --- */

static void
add_time(cJSON *o, const char *k, int64_t t)
{
	char ts[21];

	if (t <= 0) {
		cJSON_AddNullToObject(o, k);
		return;
	}
	gp_time_format_rfc3339(t, ts);
	cJSON_AddStringToObject(o, k, ts);
}

static void
add_str(cJSON *o, const char *k, const char *v, int null)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, k, v);
	else if (null)
		cJSON_AddNullToObject(o, k);
}

static cJSON *
tokens(const int64_t t[4])
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "input", (double)t[0]);
	cJSON_AddNumberToObject(o, "output", (double)t[1]);
	cJSON_AddNumberToObject(o, "cache_read", (double)t[2]);
	cJSON_AddNumberToObject(o, "cache_write", (double)t[3]);
	return o;
}

/* Linked sub-agents of a conversation: [{conversation_id, ...}]. */
static cJSON *
subagents(struct gp_store *s, const char *id, int limit)
{
	sqlite3_stmt	*st = prep(s, "SELECT id, turn_count, started_at,"
	    " ended_at, first_prompt, parent_tool_use_id, model, client_name"
	    " FROM conversations WHERE parent_conversation_id = ?1"
	    " ORDER BY started_at, id LIMIT ?2");
	cJSON		*a = cJSON_CreateArray();

	if (st == NULL)
		return a;
	bind_str(st, 1, id);
	sqlite3_bind_int(st, 2, limit);
	while (sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();

		add_str(o, "conversation_id", (const char *)
		    sqlite3_column_text(st, 0), 1);
		cJSON_AddNumberToObject(o, "turn_count",
		    sqlite3_column_int(st, 1));
		add_time(o, "started_at", sqlite3_column_int64(st, 2));
		add_time(o, "ended_at", sqlite3_column_int64(st, 3));
		add_str(o, "first_prompt", (const char *)
		    sqlite3_column_text(st, 4), 0);
		add_str(o, "tool_use_id", (const char *)
		    sqlite3_column_text(st, 5), 0);
		add_str(o, "model", (const char *)sqlite3_column_text(st, 6),
		    1);
		add_str(o, "client_name", (const char *)
		    sqlite3_column_text(st, 7), 0);
		cJSON_AddItemToArray(a, o);
	}
	sqlite3_finalize(st);
	return a;
}

/* The transactions of a conversation, in order (the original's
 * request_ids). */
static cJSON *
request_ids(struct gp_store *s, const char *id)
{
	sqlite3_stmt	*st = prep(s, "SELECT tx_id FROM conversation_requests"
	    " WHERE conversation_id = ?1 ORDER BY tx_id");
	cJSON		*a = cJSON_CreateArray();

	if (st == NULL)
		return a;
	bind_str(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)
		    sqlite3_column_int64(st, 0)));
	sqlite3_finalize(st);
	return a;
}

static cJSON *
conv_json(struct gp_store *s, const struct gp_conv_row *r, int detail)
{
	cJSON	*o = cJSON_CreateObject(), *m, *subs;
	char	 sum[504];

	cJSON_AddStringToObject(o, "id", r->id);
	add_str(o, "model", r->model, 1);
	add_str(o, "container_name", r->container, 1);
	add_str(o, "provider", r->provider, 0);
	add_str(o, "client_name", r->client, 0);
	add_str(o, "kind", r->kind, 0);
	add_str(o, "utility_reason", r->utility_reason, 0);
	add_str(o, "session_key", r->session_key, 0);
	add_time(o, "started_at", r->started_at);
	add_time(o, "ended_at", r->ended_at);
	cJSON_AddNumberToObject(o, "turn_count", r->turn_count);
	if (r->system_prompt != NULL && strlen(r->system_prompt) > 100) {
		snprintf(sum, sizeof sum, "%.500s", r->system_prompt);
		cJSON_AddStringToObject(o, "system_prompt_summary", sum);
	}
	add_str(o, "parent_conversation_id", r->parent_id, 0);
	add_str(o, "parent_tool_use_id", r->parent_tool_use_id, 0);
	cJSON_AddBoolToObject(o, "last_turn_has_response",
	    r->last_turn_has_response);
	m = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddNumberToObject(m, "total_requests", r->requests);
	cJSON_AddNumberToObject(m, "truncated_requests", r->truncated);
	cJSON_AddNumberToObject(m, "parseable_requests", r->parseable);
	cJSON_AddNumberToObject(m, "messages_in_best_request",
	    r->messages_in_best);
	cJSON_AddNumberToObject(m, "best_request_id",
	    (double)r->best_request_id);
	cJSON_AddBoolToObject(o, "incomplete", r->incomplete);
	add_str(o, "first_prompt", r->first_prompt, 0);
	cJSON_AddNumberToObject(o, "requests", r->requests);
	cJSON_AddItemToObject(o, "request_ids", request_ids(s, r->id));
	cJSON_AddItemToObject(o, "tokens", tokens(r->tok));
	subs = subagents(s, r->id, 100);
	if (cJSON_GetArraySize(subs) > 0)
		cJSON_AddItemToObject(o, "linked_subagents", subs);
	else
		cJSON_Delete(subs);
	if (detail) {
		add_str(o, "system_prompt", r->system_prompt, 1);
		add_str(o, "incomplete_reason", r->incomplete_reason, 1);
	}
	return o;
}

/* Requests of each turn: [{turn, ids[], from, to, tokens}] into turns. */
static void
turn_stats(struct gp_store *s, const char *id, cJSON *turns)
{
	sqlite3_stmt	*st = prep(s, "SELECT turn_number, tx_id, ts,"
	    " duration_ms, first_token_ms, model, input_tokens, output_tokens,"
	    " cache_read_tokens, cache_write_tokens, stop_reason, error, why"
	    " FROM conversation_requests WHERE conversation_id = ?1"
	    " ORDER BY turn_number, tx_id");
	cJSON		*t;

	if (st == NULL)
		return;
	bind_str(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int		 n = sqlite3_column_int(st, 0);
		int64_t		 ts = sqlite3_column_int64(st, 2);
		int64_t		 dur = sqlite3_column_int64(st, 3);
		cJSON		*ids, *tok, *reqs, *q;
		const char	*err;
		int		 i;

		cJSON_ArrayForEach(t, turns)
			if (cJSON_GetObjectItem(t, "turn_number")->valueint ==
			    n)
				break;
		if (t == NULL)
			t = cJSON_GetArrayItem(turns, cJSON_GetArraySize(
			    turns) - 1);
		if (t == NULL)
			continue;
		if ((ids = cJSON_GetObjectItem(t, "request_ids")) == NULL) {
			ids = cJSON_AddArrayToObject(t, "request_ids");
			add_time(t, "timestamp", ts);
			tok = cJSON_AddObjectToObject(t, "tokens");
			for (i = 0; i < 4; i++)
				cJSON_AddNumberToObject(tok, (const char *[]){
				    "input", "output", "cache_read",
				    "cache_write" }[i], 0);
			cJSON_AddArrayToObject(t, "requests");
			cJSON_AddNumberToObject(t, "first_ts", (double)ts);
		}
		cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)
		    sqlite3_column_int64(st, 1)));
		cJSON_DeleteItemFromObject(t, "api_calls_in_turn");
		cJSON_AddNumberToObject(t, "api_calls_in_turn",
		    cJSON_GetArraySize(ids));
		cJSON_DeleteItemFromObject(t, "timestamp_end");
		add_time(t, "timestamp_end", ts + (dur > 0 ? (dur + 999) /
		    1000 : 0));
		cJSON_DeleteItemFromObject(t, "duration_ms");
		cJSON_AddNumberToObject(t, "duration_ms", (double)((ts -
		    (int64_t)cJSON_GetObjectItem(t, "first_ts")->valuedouble) *
		    1000 + (dur > 0 ? dur : 0)));
		cJSON_DeleteItemFromObject(t, "model");
		add_str(t, "model", (const char *)sqlite3_column_text(st, 5),
		    0);
		tok = cJSON_GetObjectItem(t, "tokens");
		for (i = 0; i < 4; i++) {
			cJSON *v = cJSON_GetArrayItem(tok, i);

			cJSON_SetNumberValue(v, v->valuedouble + (double)
			    sqlite3_column_int64(st, 6 + i));
		}
		q = cJSON_CreateObject();
		cJSON_AddNumberToObject(q, "id", (double)
		    sqlite3_column_int64(st, 1));
		cJSON_AddNumberToObject(q, "duration_ms", (double)dur);
		if (sqlite3_column_type(st, 4) != SQLITE_NULL &&
		    sqlite3_column_int64(st, 4) >= 0)
			cJSON_AddNumberToObject(q, "first_token_ms", (double)
			    sqlite3_column_int64(st, 4));
		add_str(q, "stop_reason", (const char *)
		    sqlite3_column_text(st, 10), 0);
		if ((err = (const char *)sqlite3_column_text(st, 11)) != NULL)
			cJSON_AddStringToObject(q, "error", err);
		add_str(q, "unparsed", (const char *)sqlite3_column_text(st,
		    12), 0);
		reqs = cJSON_GetObjectItem(t, "requests");
		cJSON_AddItemToArray(reqs, q);
	}
	sqlite3_finalize(st);
	cJSON_ArrayForEach(t, turns) {
		cJSON_DeleteItemFromObject(t, "first_ts");
		if (cJSON_GetObjectItem(t, "api_calls_in_turn") == NULL)
			cJSON_AddNumberToObject(t, "api_calls_in_turn", 0);
	}
}

/* Tool calls that started a sub-agent get its id. */
static void
link_calls(struct gp_store *s, const char *id, cJSON *turns)
{
	sqlite3_stmt	*st = prep(s, "SELECT tool_use_id, child_id FROM"
	    " conversation_agent_calls WHERE parent_id = ?1 AND child_id IS"
	    " NOT NULL");
	cJSON		*t, *step, *tc;

	if (st == NULL)
		return;
	bind_str(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *tu = (const char *)sqlite3_column_text(st, 0);
		const char *child = (const char *)sqlite3_column_text(st, 1);

		cJSON_ArrayForEach(t, turns)
		cJSON_ArrayForEach(step, cJSON_GetObjectItem(t, "steps"))
		cJSON_ArrayForEach(tc, cJSON_GetObjectItem(step, "tool_calls")) {
			const char *u = cJSON_GetStringValue(
			    cJSON_GetObjectItem(tc, "tool_use_id"));

			if (u != NULL && strcmp(u, tu) == 0 &&
			    cJSON_GetObjectItem(tc, "linked_conversation_id") ==
			    NULL)
				cJSON_AddStringToObject(tc,
				    "linked_conversation_id", child);
		}
	}
	sqlite3_finalize(st);
}

cJSON *
gp_store_conv_detail(struct gp_store *s, const char *id)
{
	struct gp_conv_loaded	 l;
	sqlite3_stmt		*st;
	cJSON			*o, *turns;

	if (gp_store_conv_get(s, id, &l) != 0)
		return NULL;
	o = conv_json(s, &l.row, 1);
	turns = cJSON_AddArrayToObject(o, "turns");
	if ((st = prep(s, "SELECT turn_number, user_prompt, steps_json FROM"
	    " turns WHERE conversation_id = ?1 ORDER BY turn_number")) !=
	    NULL) {
		bind_str(st, 1, id);
		while (sqlite3_step(st) == SQLITE_ROW) {
			cJSON		*t = cJSON_CreateObject(), *steps;
			const char	*sj = (const char *)sqlite3_column_text(
			    st, 2);

			cJSON_AddNumberToObject(t, "turn_number",
			    sqlite3_column_int(st, 0));
			add_str(t, "user_prompt", (const char *)
			    sqlite3_column_text(st, 1), 0);
			steps = sj != NULL ? cJSON_Parse(sj) : NULL;
			cJSON_AddItemToObject(t, "steps", steps != NULL ?
			    steps : cJSON_CreateArray());
			cJSON_AddItemToArray(turns, t);
		}
		sqlite3_finalize(st);
	}
	turn_stats(s, id, turns);
	link_calls(s, id, turns);
	gp_store_conv_loaded_free(&l);
	return o;
}

cJSON *
gp_store_conv_subagents(struct gp_store *s, const char *id)
{
	return subagents(s, id, 100);
}

static void
conv_filter_sql(struct gp_buf *b, const struct gp_conv_filter *f)
{
	gp_buf_addstr(b, " WHERE 1");
	if (!f->children)
		gp_buf_addstr(b, " AND parent_conversation_id IS NULL");
	if (!f->utility)
		gp_buf_addstr(b, " AND kind != 'utility'");
	if (f->client != NULL)
		gp_buf_addstr(b, " AND client_name = :client");
	if (f->model != NULL)
		gp_buf_addstr(b, " AND model LIKE '%' || :model || '%'");
	if (f->provider != NULL)
		gp_buf_addstr(b, " AND provider = :provider");
	if (f->container != NULL)
		gp_buf_addstr(b, " AND container_name LIKE '%' || :container"
		    " || '%'");
	if (f->from > 0)
		gp_buf_addstr(b, " AND ended_at >= :from");
	if (f->to > 0)
		gp_buf_addstr(b, " AND started_at <= :to");
	if (f->text != NULL)
		gp_buf_addstr(b, " AND (instr(lower(messages_json),"
		    " lower(:text)) > 0 OR instr(lower(ifnull(first_prompt,"
		    " '')), lower(:text)) > 0)");
}

static void
conv_filter_bind(sqlite3_stmt *st, const struct gp_conv_filter *f)
{
	int i;

	gp_store_bind_named(st, ":client", f->client);
	gp_store_bind_named(st, ":model", f->model);
	gp_store_bind_named(st, ":provider", f->provider);
	gp_store_bind_named(st, ":container", f->container);
	gp_store_bind_named(st, ":text", f->text);
	if ((i = sqlite3_bind_parameter_index(st, ":from")) > 0)
		sqlite3_bind_int64(st, i, f->from);
	if ((i = sqlite3_bind_parameter_index(st, ":to")) > 0)
		sqlite3_bind_int64(st, i, f->to);
}

cJSON *
gp_store_conv_list(struct gp_store *s, const struct gp_conv_filter *f)
{
	struct gp_buf	 b = { 0 };
	sqlite3_stmt	*st;
	cJSON		*o = cJSON_CreateObject(), *items;
	int64_t		 total = 0;

	gp_buf_addstr(&b, "SELECT count(*) FROM conversations");
	conv_filter_sql(&b, f);
	gp_buf_add(&b, "", 1);
	if ((st = prep(s, b.data)) != NULL) {
		conv_filter_bind(st, f);
		if (sqlite3_step(st) == SQLITE_ROW)
			total = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	gp_buf_reset(&b);
	gp_buf_printf(&b, "SELECT %s FROM conversations", conv_cols);
	conv_filter_sql(&b, f);
	gp_buf_printf(&b, " ORDER BY ended_at DESC, rowid DESC"
	    " LIMIT %d OFFSET %d", f->limit > 0 ? f->limit : 50,
	    f->offset > 0 ? f->offset : 0);
	gp_buf_add(&b, "", 1);
	items = cJSON_AddArrayToObject(o, "items");
	if ((st = prep(s, b.data)) != NULL) {
		conv_filter_bind(st, f);
		while (sqlite3_step(st) == SQLITE_ROW) {
			struct gp_conv_loaded l;

			conv_read(st, &l);
			cJSON_AddItemToArray(items, conv_json(s, &l.row, 0));
			gp_store_conv_loaded_free(&l);
		}
		sqlite3_finalize(st);
	}
	gp_buf_free(&b);
	cJSON_AddNumberToObject(o, "total", (double)total);
	return o;
}

cJSON *
gp_store_endpoint_suggestions(struct gp_store *s)
{
	sqlite3_stmt	*st = prep(s, "SELECT host, path, method,"
	    " decoder_name, seen, first_seen, last_seen, example_tx_id FROM"
	    " endpoint_suggestions ORDER BY last_seen DESC LIMIT 100");
	cJSON		*a = cJSON_CreateArray();

	if (st == NULL)
		return a;
	while (sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();

		add_str(o, "host_pattern", (const char *)
		    sqlite3_column_text(st, 0), 1);
		add_str(o, "path_pattern", (const char *)
		    sqlite3_column_text(st, 1), 1);
		add_str(o, "method", (const char *)sqlite3_column_text(st, 2),
		    1);
		add_str(o, "decoder_name", (const char *)
		    sqlite3_column_text(st, 3), 1);
		cJSON_AddNumberToObject(o, "seen", sqlite3_column_int(st, 4));
		add_time(o, "first_seen", sqlite3_column_int64(st, 5));
		add_time(o, "last_seen", sqlite3_column_int64(st, 6));
		cJSON_AddNumberToObject(o, "example_transaction_id", (double)
		    sqlite3_column_int64(st, 7));
		cJSON_AddItemToArray(a, o);
	}
	sqlite3_finalize(st);
	return a;
}
