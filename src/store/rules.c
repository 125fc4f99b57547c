/* rules.c (store): the rules table. */
#include "config.h"

#include <errno.h>

#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "store/store-int.h"

#define RULE_COLS "id, container_pattern, destination_pattern, "	\
	"port_pattern, rule_type, action, created_at, expires_at, "	\
	"last_used_at, created_by, notes, session_id, hit_count, "	\
	"method_pattern, path_pattern"

static int64_t
col_time(sqlite3_stmt *st, int i)
{
	const unsigned char	*t = sqlite3_column_text(st, i);
	int64_t			 v;

	if (t == NULL)
		return 0;
	v = gp_time_parse_sql((const char *)t);
	return v < 0 ? 0 : v;
}

/* Fills r from a row selected with RULE_COLS. */
static void
row_to_rule(sqlite3_stmt *st, struct gp_rule *r)
{
	const unsigned char *action = sqlite3_column_text(st, 5);

	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(st, 0);
	r->container = gp_store_col_text(st, 1);
	r->dest = gp_store_col_text(st, 2);
	r->ports = gp_store_col_text(st, 3);
	r->rule_type = gp_store_col_text(st, 4);
	r->action = action && strcmp((const char *)action, "deny") == 0 ?
	    GP_DENY : GP_ALLOW;
	r->created_at = col_time(st, 6);
	r->expires_at = col_time(st, 7);
	r->last_used_at = col_time(st, 8);
	r->created_by = gp_store_col_text(st, 9);
	r->notes = gp_store_col_text(st, 10);
	r->session_id = gp_store_col_text(st, 11);
	r->hit_count = sqlite3_column_int64(st, 12);
	r->method = gp_store_col_text(st, 13);
	r->path = gp_store_col_text(st, 14);
	gp_store_rule_layer(r);
}

void
gp_store_rule_layer(struct gp_rule *r)
{
	if (r->created_by != NULL && strcmp(r->created_by, "builtin") == 0)
		r->layer = GP_LAYER_BUILTIN;
	else if (r->session_id != NULL)
		r->layer = GP_LAYER_SESSION;
	else
		r->layer = GP_LAYER_GLOBAL;
}

/* Row by row into an array; st is reset (prepared) or finalized. */
static int
load_rows(struct gp_store *s, sqlite3_stmt *st, int finalize,
    void (*fill)(sqlite3_stmt *, struct gp_rule *), struct gp_rule **out,
    size_t *n)
{
	struct gp_rule	*v = NULL;
	size_t		 cnt = 0, cap = 0;
	int		 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 32;
			v = gp_xrealloc(v, cap * sizeof *v);
		}
		fill(st, &v[cnt++]);
	}
	if (finalize)
		sqlite3_finalize(st);
	else
		sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		gp_log(GP_LOG_ERROR, "loading rules: %s",
		    sqlite3_errmsg(s->db));
		gp_store_rules_free(v, cnt);
		return -1;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int
gp_store_rules_load(struct gp_store *s, struct gp_rule **out, size_t *n)
{
	sqlite3_stmt	*st;

	st = gp_store_stmt(s, ST_RULES_LOAD, "SELECT " RULE_COLS
	    " FROM rules ORDER BY created_at DESC, id DESC");
	if (st == NULL)
		return -1;
	return load_rows(s, st, 0, row_to_rule, out, n);
}

static void
row_to_matching(sqlite3_stmt *st, struct gp_rule *r)
{
	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(st, 0);
	r->container = gp_store_col_text(st, 1);
	r->dest = gp_store_col_text(st, 2);
	r->ports = gp_store_col_text(st, 3);
	r->action = sqlite3_column_int(st, 4) ? GP_DENY : GP_ALLOW;
	r->expires_at = col_time(st, 5);
	r->layer = sqlite3_column_int(st, 6) ? GP_LAYER_BUILTIN :
	    sqlite3_column_int(st, 7) ? GP_LAYER_SESSION : GP_LAYER_GLOBAL;
	r->method = gp_store_col_text(st, 8);
	r->path = gp_store_col_text(st, 9);
}

/*
 * What the matcher needs, in the same order: no text beyond the
 * patterns, no timestamps but the expiry (start-up at 100 000 rules:
 * 176 ms with the full rows, about 147 ms with these).
 */
int
gp_store_rules_load_matching(struct gp_store *s, struct gp_rule **out,
    size_t *n)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(s->db, "SELECT id, container_pattern,"
	    " destination_pattern, port_pattern, action = 'deny', expires_at,"
	    " created_by = 'builtin', session_id IS NOT NULL, method_pattern,"
	    " path_pattern FROM rules"
	    " ORDER BY created_at DESC, id DESC", -1, &st, NULL) != SQLITE_OK)
		return -1;
	return load_rows(s, st, 1, row_to_matching, out, n);
}

void
gp_store_rules_free(struct gp_rule *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		gp_rule_clear(&v[i]);
	free(v);
}

int
gp_store_rule_get(struct gp_store *s, int64_t id, struct gp_rule *r)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = gp_store_stmt(s, ST_RULE_GET, "SELECT " RULE_COLS
	    " FROM rules WHERE id = ?");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_to_rule(st, r);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Binds the six columns that make a rule unique, from position 1. */
static void
bind_key(sqlite3_stmt *st, const struct gp_rule *r, const char *action)
{
	sqlite3_bind_text(st, 1, r->container, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->dest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->ports, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->method ? r->method : "*", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->path ? r->path : "*", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, action, -1, SQLITE_STATIC);
}

static void
bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* Inside a transaction: see gp_store_rule_add(). */
static int
rule_insert(struct gp_store *s, struct gp_rule *r, int *existed)
{
	const char	*action = r->action == GP_DENY ? "deny" : "allow";
	sqlite3_stmt	*st;
	char		 now[20], exp[20];
	int		 rc;

	*existed = 0;
	gp_time_format_sql(gp_now(), now);
	/* An identical unexpired rule is returned as is. */
	st = gp_store_stmt(s, ST_RULE_FIND, "SELECT " RULE_COLS " FROM rules"
	    " WHERE container_pattern = ? AND destination_pattern = ?"
	    " AND port_pattern = ? AND method_pattern = ?"
	    " AND path_pattern = ? AND action = ?");
	if (st == NULL)
		goto rollback;
	bind_key(st, r, action);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		struct gp_rule old;

		row_to_rule(st, &old);
		sqlite3_reset(st);
		if (old.expires_at == 0 || old.expires_at > gp_now()) {
			gp_rule_clear(r);
			*r = old;
			*existed = 1;
			return 0;
		}
		gp_rule_clear(&old);
		/* Expired duplicate: purge it before the insert. */
		st = gp_store_stmt(s, ST_RULE_PURGE, "DELETE FROM rules WHERE"
		    " container_pattern = ? AND destination_pattern = ?"
		    " AND port_pattern = ? AND method_pattern = ?"
		    " AND path_pattern = ? AND action = ?");
		if (st == NULL)
			goto rollback;
		bind_key(st, r, action);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto rollback;
	} else if (rc != SQLITE_DONE)
		goto rollback;
	sqlite3_reset(st);

	st = gp_store_stmt(s, ST_RULE_INSERT, "INSERT INTO rules"
	    " (container_pattern, destination_pattern, port_pattern,"
	    " rule_type, action, created_at, expires_at, created_by, notes,"
	    " session_id, method_pattern, path_pattern)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
	if (st == NULL)
		goto rollback;
	sqlite3_bind_text(st, 1, r->container, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->dest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->ports, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->expires_at ? "temporary" : "permanent",
	    -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
	if (r->expires_at != 0) {
		gp_time_format_sql(r->expires_at, exp);
		sqlite3_bind_text(st, 7, exp, -1, SQLITE_STATIC);
	} else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_text(st, 8, r->created_by ? r->created_by : "admin", -1,
	    SQLITE_TRANSIENT);
	bind_text_or_null(st, 9, r->notes);
	bind_text_or_null(st, 10, r->session_id);
	sqlite3_bind_text(st, 11, r->method ? r->method : "*", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 12, r->path ? r->path : "*", -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto rollback;
	sqlite3_reset(st);
	r->id = sqlite3_last_insert_rowid(s->db);
	r->created_at = gp_time_parse_sql(now);
	free(r->rule_type);
	r->rule_type = gp_xstrdup(r->expires_at ? "temporary" : "permanent");
	if (r->created_by == NULL)
		r->created_by = gp_xstrdup("admin");
	return 0;
rollback:
	rc = gp_store_errno(s);
	gp_log(GP_LOG_ERROR, "adding rule: %s", sqlite3_errmsg(s->db));
	return rc;
}

int
gp_store_rule_add(struct gp_store *s, struct gp_rule *r, int *existed)
{
	return gp_store_rules_add_many(s, r, 1, existed);
}

int
gp_store_rules_add_many(struct gp_store *s, struct gp_rule *r, size_t n,
    int *existed)
{
	size_t	i;
	int64_t	v;
	int	rc;

	if ((rc = gp_store_rules_write_begin(s, &v)) != 0) {
		gp_log(GP_LOG_ERROR, "adding rules: %s", sqlite3_errmsg(s->db));
		return rc;
	}
	for (i = 0, rc = 0; i < n && rc == 0; i++)
		rc = rule_insert(s, &r[i], &existed[i]);
	if ((rc = gp_store_rules_write_end(s, v, rc)) < 0)
		gp_log(GP_LOG_ERROR, "adding rules: %s", sqlite3_errmsg(s->db));
	return rc;
}

int
gp_store_rule_delete(struct gp_store *s, int64_t id)
{
	sqlite3_stmt	*st;
	int64_t		 v;
	int		 rc;

	if ((rc = gp_store_rules_write_begin(s, &v)) != 0)
		return rc;
	st = gp_store_stmt(s, ST_RULE_DELETE, "DELETE FROM rules WHERE id=?");
	if (st == NULL)
		rc = gp_store_errno(s);
	else {
		sqlite3_bind_int64(st, 1, id);
		if ((rc = gp_store_run(s, st, "deleting rule")) == 0)
			rc = sqlite3_changes(s->db) > 0;
	}
	return gp_store_rules_write_end(s, v, rc);
}

static int rule_update(struct gp_store *, const struct gp_rule *);

int
gp_store_rule_update(struct gp_store *s, const struct gp_rule *r)
{
	int64_t	v;
	int	rc;

	if ((rc = gp_store_rules_write_begin(s, &v)) != 0)
		return rc;
	return gp_store_rules_write_end(s, v, rule_update(s, r));
}

static int
rule_update(struct gp_store *s, const struct gp_rule *r)
{
	sqlite3_stmt	*st;
	char		 exp[20];
	int		 rc;

	st = gp_store_stmt(s, ST_RULE_UPDATE, "UPDATE rules SET"
	    " container_pattern = ?, destination_pattern = ?,"
	    " port_pattern = ?, action = ?, notes = ?, expires_at = ?,"
	    " rule_type = ?, method_pattern = ?, path_pattern = ?"
	    " WHERE id = ?");
	if (st == NULL)
		return gp_store_errno(s);
	sqlite3_bind_text(st, 1, r->container, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->dest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->ports, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->action == GP_DENY ? "deny" : "allow", -1,
	    SQLITE_STATIC);
	bind_text_or_null(st, 5, r->notes);
	if (r->expires_at != 0) {
		gp_time_format_sql(r->expires_at, exp);
		sqlite3_bind_text(st, 6, exp, -1, SQLITE_STATIC);
	} else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_text(st, 7, r->expires_at ? "temporary" : "permanent",
	    -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, r->method ? r->method : "*", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 9, r->path ? r->path : "*", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, r->id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT) {
		sqlite3_reset(st);
		return -EEXIST;
	}
	if (rc != SQLITE_DONE) {
		rc = gp_store_errno(s);
		gp_log(GP_LOG_ERROR, "updating rule: %s",
		    sqlite3_errmsg(s->db));
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	return sqlite3_changes(s->db) > 0 ? 1 : 0;
}
