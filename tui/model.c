/* model.c: lists, filters, orders and selection for the views. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/core.h"
#include "dissect/dissect.h"
#include "ctl/ctl.h"
#include "tui/model.h"
#include "api/api.h"
#include "api/fields.h"

const struct tm_choice tm_scope_choices[] = {
	{ N_("this host and port"), "exact", NULL },
	{ N_("this host, any port"), "any_port", NULL },
	{ N_("the parent domain (*.domain)"), "subdomain_wildcard", NULL },
	{ N_("every source, this host and port"), "all_containers", NULL },
	{ N_("once (store no rule)"), "once", NULL },
};
const size_t tm_nscope_choices = GP_ARRAY_LEN(tm_scope_choices);

const struct tm_choice tm_duration_choices[] = {
	{ N_("permanent"), NULL, "permanent" },
	{ N_("1 hour"), NULL, "1h" },
	{ N_("12 hours"), NULL, "12h" },
	{ N_("1 day"), NULL, "24h" },
	{ N_("7 days"), NULL, "7d" },
	{ N_("30 days"), NULL, "30d" },
};
const size_t tm_nduration_choices = GP_ARRAY_LEN(tm_duration_choices);

int64_t
tm_id(const cJSON *o)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "id");

	if (!cJSON_IsNumber(v))
		v = cJSON_GetObjectItemCaseSensitive(o, "_seq");
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

void
tm_join(const cJSON *a, char *out, size_t n)
{
	const cJSON	*it;
	size_t		 len = 0;

	out[0] = '\0';
	cJSON_ArrayForEach(it, a)
		if (cJSON_IsString(it) && len < n)
			len += (size_t)snprintf(out + len, n - len, "%s%s",
			    len ? ", " : "", it->valuestring);
}

const char *
tm_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

double
tm_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

int64_t
tm_time(const cJSON *o, const char *key)
{
	int64_t	t = gp_time_parse_sql(tm_str(o, key));	/* RFC 3339 too */

	return t < 0 ? 0 : t;
}

void
tm_age(int64_t s, char *out, size_t n)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(out, n, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(out, n, "%lldm", (long long)s / 60);
	else if (s < 86400)
		snprintf(out, n, "%lldh", (long long)s / 3600);
	else
		snprintf(out, n, "%lldd", (long long)s / 86400);
}

static void	prune_marks(struct tm_list *);
static tm_cmp_fn sort_cmp;

static int
by_cmp(const void *a, const void *b)
{
	return sort_cmp(*(cJSON *const *)a, *(cJSON *const *)b);
}

/* Decodes every item once more after a change (never per frame). */
static void
decode_all(struct tm_list *l)
{
	size_t	i;

	if (l->decode == NULL)
		return;
	for (i = l->n; i < l->ntyped; i++)
		free(l->typed[i]);
	l->typed = gp_xrealloc(l->typed, (l->cap ? l->cap : 1) *
	    sizeof *l->typed);
	for (i = 0; i < l->n; i++) {
		if (i >= l->ntyped)
			l->typed[i] = gp_xmalloc(l->tsize);
		memset(l->typed[i], 0, l->tsize);
		l->decode(l->v[i], l->typed[i]);
	}
	l->ntyped = l->n;
}

/* Rebuilds the visible index and puts the selection back on its id. */
static void
revis(struct tm_list *l)
{
	size_t	i, old = l->sel;

	l->vis = gp_xrealloc(l->vis, (l->cap ? l->cap : 1) * sizeof *l->vis);
	l->nvis = 0;
	for (i = 0; i < l->n; i++)
		if (gp_json_has_text(l->v[i], l->filter))
			l->vis[l->nvis++] = i;
	/* Ids are unique: the selection's row, if it did not move. */
	if (old < l->nvis && l->ids[l->vis[old]] == l->sel_id)
		return;
	for (i = 0; i < l->nvis; i++) {
		if (l->ids[l->vis[i]] == l->sel_id) {
			l->sel = i;
			return;
		}
	}
	/* The selected item is gone (or filtered out): stay at the same
	 * row; with nothing visible, remember the id for later. */
	if (l->nvis == 0) {
		l->sel = 0;
		return;
	}
	l->sel = old < l->nvis ? old : l->nvis - 1;
	l->sel_id = l->ids[l->vis[l->sel]];
}

/* Sorts, decodes and rebuilds the visible index: after a whole change. */
static void
refresh(struct tm_list *l)
{
	size_t	i;

	if (l->cmp != NULL && l->n > 1) {
		sort_cmp = l->cmp;
		qsort(l->v, l->n, sizeof *l->v, by_cmp);
	}
	for (i = 0; i < l->n; i++)
		l->ids[i] = tm_id(l->v[i]);
	decode_all(l);
	revis(l);
}

/* Are the typed rows those of v, so that one change can be applied
 * alone? */
static int
in_step(const struct tm_list *l)
{
	return l->decode == NULL || (l->typed != NULL && l->ntyped == l->n);
}

/*
 * Item i changed (or was just added at the end): moves it to where the
 * order puts it and decodes it again, then rebuilds the visible index.
 * A burst of pending entries (hundreds a second) costs a search and a
 * move each, not a sort and a decode of the whole list: on the loop of
 * `greyproxy tui`, 900 new entries stalled every connection for 1.7 s.
 */
static void
changed(struct tm_list *l, size_t i)
{
	cJSON	*c = l->v[i];
	void	*row = l->decode != NULL ? l->typed[i] : NULL;
	int64_t	 id = l->ids[i];
	size_t	 lo = 0, hi, mid;

	if (l->cmp != NULL) {
		memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof *l->v);
		memmove(&l->ids[i], &l->ids[i + 1], (l->n - i - 1) *
		    sizeof *l->ids);
		if (row != NULL)
			memmove(&l->typed[i], &l->typed[i + 1],
			    (l->n - i - 1) * sizeof *l->typed);
		hi = l->n - 1;		/* the others, in order */
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (l->cmp(l->v[mid], c) <= 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		memmove(&l->v[lo + 1], &l->v[lo], (l->n - 1 - lo) *
		    sizeof *l->v);
		memmove(&l->ids[lo + 1], &l->ids[lo], (l->n - 1 - lo) *
		    sizeof *l->ids);
		l->v[lo] = c;
		l->ids[lo] = id;
		if (row != NULL) {
			memmove(&l->typed[lo + 1], &l->typed[lo],
			    (l->n - 1 - lo) * sizeof *l->typed);
			l->typed[lo] = row;
		}
	}
	if (row != NULL) {
		memset(row, 0, l->tsize);
		l->decode(c, row);
	}
	revis(l);
}

/* Room for one more item in every per-item array. */
static void
grow(struct tm_list *l)
{
	if (l->n < l->cap)
		return;
	l->cap = l->cap ? l->cap * 2 : 32;
	l->v = gp_xrealloc(l->v, l->cap * sizeof *l->v);
	l->ids = gp_xrealloc(l->ids, l->cap * sizeof *l->ids);
	l->vis = gp_xrealloc(l->vis, l->cap * sizeof *l->vis);
	if (l->typed != NULL)
		l->typed = gp_xrealloc(l->typed, l->cap * sizeof *l->typed);
}

/* Appends c (owned) with its id. */
static void
append(struct tm_list *l, cJSON *c)
{
	grow(l);
	l->ids[l->n] = tm_id(c);
	l->v[l->n++] = c;
}

static void
clear_items(struct tm_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		cJSON_Delete(l->v[i]);
	l->n = 0;
}

void
tm_list_set(struct tm_list *l, const cJSON *array)
{
	const cJSON	*it;

	clear_items(l);
	cJSON_ArrayForEach(it, array)
		append(l, cJSON_Duplicate(it, 1));
	refresh(l);
	prune_marks(l);
}

const void *
tm_list_item(const struct tm_list *l, size_t i)
{
	if (l->typed == NULL || i >= l->nvis)
		return NULL;
	return l->typed[l->vis[i]];
}

const void *
tm_list_selected_item(const struct tm_list *l)
{
	return l->nvis > 0 ? tm_list_item(l, l->sel) : NULL;
}

const void *
tm_list_find(const struct tm_list *l, int64_t id)
{
	size_t	i;

	if (l->typed == NULL)
		return NULL;
	for (i = 0; i < l->n; i++)
		if (l->ids[i] == id)
			return l->typed[i];
	return NULL;
}

static void
str(const cJSON *o, const char *key, char *out, size_t n)
{
	snprintf(out, n, "%s", tm_str(o, key));
}

void
tm_decode_pending(const cJSON *o, void *out)
{
	struct tm_pending *p = out;

	p->id = tm_id(o);
	str(o, GP_F_HOST, p->host, sizeof p->host);
	str(o, GP_F_HOSTNAME, p->hostname, sizeof p->hostname);
	p->port = (unsigned)tm_num(o, GP_F_PORT);
	str(o, GP_F_CONTAINER, p->container, sizeof p->container);
	p->waiting = (int)tm_num(o, GP_F_WAITING);
	p->attempts = (int)tm_num(o, GP_F_ATTEMPTS);
	p->local = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
	    GP_F_LOCAL));
	p->first_seen = tm_time(o, GP_F_FIRST_SEEN);
	p->last_seen = tm_time(o, GP_F_LAST_SEEN);
	str(o, GP_F_FIRST_SEEN, p->first_seen_s, sizeof p->first_seen_s);
	str(o, GP_F_LAST_SEEN, p->last_seen_s, sizeof p->last_seen_s);
	str(o, GP_F_REQUEST, p->request, sizeof p->request);
	str(o, GP_F_PROTOCOL, p->protocol, sizeof p->protocol);
	str(o, GP_F_ADDRESSES, p->addresses, sizeof p->addresses);
}

void
tm_decode_rule(const cJSON *o, void *out)
{
	struct tm_rule *r = out;

	r->id = tm_id(o);
	str(o, GP_F_ACTION, r->action, sizeof r->action);
	r->deny = strcmp(r->action, "deny") == 0;
	str(o, GP_F_DEST_PATTERN, r->dest, sizeof r->dest);
	str(o, GP_F_PORT_PATTERN, r->ports, sizeof r->ports);
	str(o, GP_F_CONTAINER_PATTERN, r->container, sizeof r->container);
	str(o, GP_F_CREATED_AT, r->created_at, sizeof r->created_at);
	str(o, GP_F_LAST_USED_AT, r->last_used_at, sizeof r->last_used_at);
	str(o, GP_F_EXPIRES_AT, r->expires_at_s, sizeof r->expires_at_s);
	r->expires_at = tm_time(o, GP_F_EXPIRES_AT);
	str(o, GP_F_CREATED_BY, r->created_by, sizeof r->created_by);
	str(o, GP_F_NOTES, r->notes, sizeof r->notes);
	str(o, GP_F_RULE_TYPE, r->rule_type, sizeof r->rule_type);
	r->hits = tm_num(o, GP_F_HIT_COUNT);
}

void
tm_decode_log(const cJSON *o, void *out)
{
	struct tm_log *e = out;

	e->id = tm_id(o);
	str(o, GP_F_TIMESTAMP, e->timestamp, sizeof e->timestamp);
	str(o, GP_F_RESULT, e->result, sizeof e->result);
	e->allowed = strcmp(e->result, "allowed") == 0;
	str(o, GP_F_REASON, e->reason, sizeof e->reason);
	str(o, GP_F_METHOD, e->method, sizeof e->method);
	str(o, GP_F_REQUEST, e->request, sizeof e->request);
	str(o, GP_F_CONTAINER, e->container, sizeof e->container);
	str(o, GP_F_CLIENT_ADDR, e->client, sizeof e->client);
	str(o, GP_F_HOST, e->host, sizeof e->host);
	e->port = (unsigned)tm_num(o, GP_F_PORT);
	str(o, GP_F_RESOLVED_IP, e->resolved_ip, sizeof e->resolved_ip);
	str(o, GP_F_RULE_SUMMARY, e->rule_summary, sizeof e->rule_summary);
	/* A live row (an event) names its rule by id only. */
	if (e->rule_summary[0] == '\0' && tm_num(o, GP_F_RULE_ID) > 0)
		snprintf(e->rule_summary, sizeof e->rule_summary, _("rule #%.0f"),
		    tm_num(o, GP_F_RULE_ID));
	e->bytes_up = tm_num(o, GP_F_BYTES_UP);
	e->bytes_down = tm_num(o, GP_F_BYTES_DOWN);
	e->ms = tm_num(o, GP_F_RESPONSE_MS);
	e->count = tm_num(o, GP_F_COUNT);
	e->open = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
	    GP_F_OPEN));
}

static void conv_clean(char *, size_t);

void
tm_decode_tx(const cJSON *o, void *out)
{
	struct tm_tx	*x = out;
	const char	*p;

	x->id = tm_id(o);
	str(o, GP_F_TIMESTAMP, x->timestamp, sizeof x->timestamp);
	str(o, GP_F_CONTAINER, x->container, sizeof x->container);
	str(o, GP_F_METHOD, x->method, sizeof x->method);
	str(o, GP_F_HOST, x->host, sizeof x->host);
	x->port = (unsigned)tm_num(o, GP_F_PORT);
	str(o, "url", x->url, sizeof x->url);
	conv_clean(x->url, sizeof x->url);	/* wire text: harmless */
	conv_clean(x->container, sizeof x->container);
	conv_clean(x->method, sizeof x->method);
	/* the path: after "scheme://authority", or all of it */
	p = strstr(x->url, "://");
	p = p != NULL ? strchr(p + 3, '/') : NULL;
	x->path_off = p != NULL ? (size_t)(p - x->url) : 0;
	x->status = (int)tm_num(o, "status_code");
	x->req_size = tm_num(o, "request_body_size");
	x->resp_size = tm_num(o, "response_body_size");
	x->ms = tm_num(o, "duration_ms");
	x->complete = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o,
	    "complete"));
	x->tls = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "tls"));
	x->substituted = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o,
	    "substituted_credentials")) > 0;
}

/* Appends s, at most max bytes, hostile bytes made visible. */
static void
tx_clean(struct gp_buf *b, const char *s, size_t max)
{
	size_t n = strlen(s), i;

	for (i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\t')
			gp_buf_add(b, "  ", 2);
		else if (c == '\n')
			gp_buf_add(b, "\n", 1);
		else if (c < 0x20 || c == 0x7f)
			gp_buf_add(b, "?", 1);
		else
			gp_buf_add(b, &s[i], 1);
	}
	if (n > max)
		gp_buf_printf(b, "\n... %zu more bytes not shown", n - max);
}

static void
tx_heads(struct gp_buf *b, const cJSON *o, const char *key)
{
	const cJSON *h, *v;

	cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(o, key))
		cJSON_ArrayForEach(v, h) {
			if (!cJSON_IsString(v) || h->string == NULL)
				continue;
			tx_clean(b, h->string, 256);
			gp_buf_add(b, ": ", 2);
			tx_clean(b, v->valuestring, 4096);
			gp_buf_add(b, "\n", 1);
		}
}

static void
tx_body(struct gp_buf *b, const cJSON *o, const char *which, size_t max)
{
	char		 k[64];
	const cJSON	*body;
	cJSON		*json;
	double		 size;

	snprintf(k, sizeof k, "%s_body", which);
	body = cJSON_GetObjectItemCaseSensitive(o, k);
	snprintf(k, sizeof k, "%s_body_size", which);
	size = tm_num(o, k);
	snprintf(k, sizeof k, "%s_body_truncated", which);
	gp_buf_printf(b, " \n-- %s body, %.0f bytes%s\n", strcmp(which,
	    "request") == 0 ? _("Request") : _("Response"), size,
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k)) ?
	    _(", stored truncated") : "");
	snprintf(k, sizeof k, "%s_body_binary", which);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k))) {
		gp_buf_addstr(b, _("(binary: not shown)\n"));
		return;
	}
	if (!cJSON_IsString(body) || body->valuestring[0] == '\0') {
		gp_buf_addstr(b, _("(empty)\n"));
		return;
	}
	if ((json = cJSON_Parse(body->valuestring)) != NULL &&
	    (cJSON_IsObject(json) || cJSON_IsArray(json))) {
		char *pretty = cJSON_Print(json);

		tx_clean(b, pretty != NULL ? pretty : body->valuestring, max);
		free(pretty);
	} else
		tx_clean(b, body->valuestring, max);
	cJSON_Delete(json);
	gp_buf_add(b, "\n", 1);
}

char *
tm_tx_text(const cJSON *o, size_t max_body)
{
	struct gp_buf	b = { 0 };
	double		st = tm_num(o, "status_code");

	tx_clean(&b, tm_str(o, GP_F_METHOD), 32);
	gp_buf_add(&b, " ", 1);
	tx_clean(&b, tm_str(o, "url"), 4096);
	gp_buf_printf(&b, "\n%s %s, %s\n", _("Time:"), tm_str(o,
	    GP_F_TIMESTAMP), cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
	    "tls")) ? _("inside intercepted TLS") : _("plain HTTP"));
	gp_buf_printf(&b, "%s ", _("Source:"));
	tx_clean(&b, tm_str(o, GP_F_CONTAINER), 128);
	if (*tm_str(o, "conversation_id") != '\0') {
		gp_buf_printf(&b, "\n%s ", _("Conversation (o opens it):"));
		tx_clean(&b, tm_str(o, "conversation_id"), 64);
	}
	if (st > 0)
		gp_buf_printf(&b, "\n%s %.0f", _("Status:"), st);
	else
		gp_buf_printf(&b, "\n%s %s", _("Status:"), _("no response"));
	if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "complete")))
		gp_buf_printf(&b, " (%s)", _("incomplete: a side left "
		    "before the end"));
	gp_buf_printf(&b, "\n%s %.0f ms\n \n-- %s\n", _("Duration:"),
	    tm_num(o, "duration_ms"), _("Request headers"));
	tx_heads(&b, o, "request_headers");
	tx_body(&b, o, "request", max_body);
	gp_buf_printf(&b, " \n-- %s\n", _("Response headers"));
	tx_heads(&b, o, "response_headers");
	tx_body(&b, o, "response", max_body);
	gp_buf_add(&b, "", 1);
	return b.data;
}

int
tm_list_remove(struct tm_list *l, int64_t id)
{
	size_t	i, row = l->sel;

	for (i = 0; i < l->n; i++)
		if (l->ids[i] == id)
			break;
	if (i == l->n)
		return 0;
	cJSON_Delete(l->v[i]);
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof *l->v);
	memmove(&l->ids[i], &l->ids[i + 1], (l->n - i - 1) * sizeof *l->ids);
	if (in_step(l) && l->decode != NULL) {
		free(l->typed[i]);
		memmove(&l->typed[i], &l->typed[i + 1], (l->n - i - 1) *
		    sizeof *l->typed);
		l->ntyped--;
		l->n--;
		revis(l);	/* the order holds without it */
	} else {
		l->n--;
		refresh(l);
	}
	/* The same row, now showing the next item (or the last row). */
	if (l->nvis > 0) {
		l->sel = row < l->nvis ? row : l->nvis - 1;
		l->sel_id = l->ids[l->vis[l->sel]];
	}
	return 1;
}

void
tm_list_upsert(struct tm_list *l, const cJSON *obj)
{
	int64_t	id = tm_id(obj);
	size_t	i;

	for (i = 0; i < l->n; i++) {
		if (l->ids[i] == id) {
			cJSON_Delete(l->v[i]);
			l->v[i] = cJSON_Duplicate(obj, 1);
			if (in_step(l))
				changed(l, i);
			else
				refresh(l);
			return;
		}
	}
	grow(l);
	if (in_step(l)) {
		if (l->decode != NULL)
			l->typed[l->ntyped++] = gp_xmalloc(l->tsize);
		append(l, cJSON_Duplicate(obj, 1));
		changed(l, l->n - 1);
		return;
	}
	append(l, cJSON_Duplicate(obj, 1));
	refresh(l);
}

int
tm_list_set_num(struct tm_list *l, int64_t id, const char *key, double v)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		if (l->ids[i] != id)
			continue;
		cJSON_DeleteItemFromObjectCaseSensitive(l->v[i], key);
		cJSON_AddNumberToObject(l->v[i], key, v);
		if (in_step(l))
			changed(l, i);
		else
			refresh(l);
		return 1;
	}
	return 0;
}

void
tm_list_mark(struct tm_list *l, int64_t id)
{
	size_t	i;

	for (i = 0; i < l->nmarks; i++) {
		if (l->marks[i] == id) {
			l->marks[i] = l->marks[--l->nmarks];
			return;
		}
	}
	l->marks = gp_xrealloc(l->marks, (l->nmarks + 1) * sizeof *l->marks);
	l->marks[l->nmarks++] = id;
}

int
tm_list_marked(const struct tm_list *l, int64_t id)
{
	size_t	i;

	for (i = 0; i < l->nmarks; i++)
		if (l->marks[i] == id)
			return 1;
	return 0;
}

void
tm_list_unmark_all(struct tm_list *l)
{
	free(l->marks);
	l->marks = NULL;
	l->nmarks = 0;
}

/* Marks of items no longer listed are dropped. */
static void
prune_marks(struct tm_list *l)
{
	size_t	i, k, o = 0;

	for (i = 0; i < l->nmarks; i++) {
		for (k = 0; k < l->n; k++)
			if (l->ids[k] == l->marks[i])
				break;
		if (k < l->n)
			l->marks[o++] = l->marks[i];
	}
	l->nmarks = o;
}

void
tm_fit_right_end(const char *s, size_t width, char *out, size_t outlen)
{
	size_t	n = strlen(s), head = 0, tail;

	if (outlen == 0)
		return;
	if (width == 0) {
		out[0] = '\0';
		return;
	}
	if (n <= width) {
		snprintf(out, outlen, "%-*s", (int)width, s);
		return;
	}
	/*
	 * The right end (domain and port) always; with room, a short head
	 * too, so hosts that differ on the left stay apart: "host12.a-…
	 * example.org.evil.test:443".  (Hosts are ASCII: punycode.)
	 */
	if (width >= 24)
		head = width / 3 < 12 ? width / 3 : 12;
	tail = width - head - 1;
	s += 0;
	{
		const char *t = s + n - tail;

		while ((*t & 0xc0) == 0x80)	/* whole characters only */
			t++;
		while (head > 0 && (s[head] & 0xc0) == 0x80)
			head--;
		snprintf(out, outlen, "%.*s\xe2\x80\xa6%s", (int)head, s, t);
	}
}

/*
 * A live list takes thousands of lines a second under load: a push
 * costs the new line, not the list (decoding and filtering every line
 * again per event made the TUI fall seconds behind its keys).  Only a
 * sorted list is rebuilt.
 */
void
tm_list_push(struct tm_list *l, const cJSON *obj)
{
	cJSON	*c = cJSON_Duplicate(obj, 1);

	tm_list_take(l, &c);
}

void
tm_list_take(struct tm_list *l, cJSON **obj)
{
	cJSON	*c = *obj;
	void	*spare = NULL;		/* the oldest's row, for the new */
	int	 at_top = l->nvis == 0 || l->sel == 0;
	size_t	 i;

	*obj = NULL;
	if (!cJSON_IsObject(c)) {	/* not a line */
		cJSON_Delete(c);
		return;
	}
	/* A line without an id yet (the log row is written later):
	 * negative, so never a stored row's id once the list is fetched. */
	if (tm_id(c) == 0)
		cJSON_AddNumberToObject(c, "_seq", -(double)++l->next_seq);
	else {
		/* Already listed (a fetch that answered after its event
		 * came, on another connection): the line, once. */
		for (i = 0; i < l->n; i++)
			if (l->ids[i] == tm_id(c)) {
				tm_list_upsert(l, c);
				cJSON_Delete(c);
				return;
			}
	}
	if (l->max != 0 && l->n >= l->max) {	/* the oldest goes */
		cJSON_Delete(l->v[l->n - 1]);
		l->n--;
		if (l->ntyped > l->n)
			spare = l->typed[--l->ntyped];
		if (l->cmp == NULL && l->nvis > 0 &&
		    l->vis[l->nvis - 1] == l->n)
			l->nvis--;
	}
	grow(l);
	memmove(l->v + 1, l->v, l->n * sizeof *l->v);
	memmove(l->ids + 1, l->ids, l->n * sizeof *l->ids);
	l->v[0] = c;
	l->ids[0] = tm_id(c);
	l->n++;
	if (l->cmp != NULL || (l->decode != NULL &&
	    (l->typed == NULL || l->ntyped != l->n - 1))) {
		free(spare);
		refresh(l);
	} else {
		if (l->decode != NULL) {	/* pointers move, not rows */
			memmove(l->typed + 1, l->typed, l->ntyped *
			    sizeof *l->typed);
			l->typed[0] = spare != NULL ? spare :
			    gp_xmalloc(l->tsize);
			memset(l->typed[0], 0, l->tsize);
			l->decode(c, l->typed[0]);
			l->ntyped++;
		}
		for (i = 0; i < l->nvis; i++)	/* the lines moved down */
			l->vis[i]++;
		if (gp_json_has_text(c, l->filter)) {
			memmove(l->vis + 1, l->vis, l->nvis * sizeof *l->vis);
			l->vis[0] = 0;
			l->nvis++;
			if (!at_top)
				l->sel++;	/* stays on its line */
		}
		if (l->nvis > 0 && l->sel >= l->nvis) {	/* it went */
			l->sel = l->nvis - 1;
			l->sel_id = l->ids[l->vis[l->sel]];
		}
	}
	/* Following the head: the newest line stays selected. */
	if (at_top && l->nvis > 0) {
		l->sel = 0;
		l->sel_id = l->ids[l->vis[0]];
	}
}

void
tm_list_set_filter(struct tm_list *l, const char *f)
{
	snprintf(l->filter, sizeof l->filter, "%s", f ? f : "");
	refresh(l);
}

void
tm_list_move(struct tm_list *l, long delta)
{
	long	s = (long)l->sel + delta;

	if (l->nvis == 0)
		return;
	if (s < 0)
		s = 0;
	if (s >= (long)l->nvis)
		s = (long)l->nvis - 1;
	l->sel = (size_t)s;
	l->sel_id = l->ids[l->vis[l->sel]];
}

void
tm_list_home(struct tm_list *l)
{
	tm_list_move(l, -(long)l->nvis);
	/* The first lines show, even if keys come before the next frame
	 * (g then j: the view scrolled only to the selection, hiding the
	 * lines above it). */
	l->top = 0;
}

void
tm_list_end(struct tm_list *l)
{
	tm_list_move(l, (long)l->nvis);
}

void
tm_list_scroll(struct tm_list *l, size_t rows)
{
	if (rows == 0)
		return;
	if (l->sel < l->top)
		l->top = l->sel;
	else if (l->sel >= l->top + rows)
		l->top = l->sel - rows + 1;
	if (l->top + rows > l->nvis)
		l->top = l->nvis > rows ? l->nvis - rows : 0;
}

const cJSON *
tm_list_row(const struct tm_list *l, size_t i)
{
	return i < l->nvis ? l->v[l->vis[i]] : NULL;
}

const cJSON *
tm_list_selected(const struct tm_list *l)
{
	return tm_list_row(l, l->sel);
}

void
tm_list_free(struct tm_list *l)
{
	size_t	i;

	for (i = 0; i < l->ntyped; i++)
		free(l->typed[i]);
	free(l->typed);
	l->typed = NULL;
	l->ntyped = 0;
	tm_list_unmark_all(l);
	clear_items(l);
	free(l->v);
	free(l->ids);
	free(l->vis);
	memset(l, 0, sizeof *l);
}

int
tm_cmp_pending(const cJSON *a, const cJSON *b)
{
	/* Those waiting now first, then the newest. */
	int wa = tm_num(a, GP_F_WAITING) > 0, wb = tm_num(b, GP_F_WAITING) > 0;
	int r = wb - wa;

	if (r != 0)
		return r;
	r = strcmp(tm_str(b, GP_F_LAST_SEEN), tm_str(a, GP_F_LAST_SEEN));

	return r != 0 ? r : tm_id(b) > tm_id(a) ? 1 : tm_id(b) < tm_id(a) ?
	    -1 : 0;
}

int
tm_cmp_rules(const cJSON *a, const cJSON *b)
{
	return tm_id(b) > tm_id(a) ? 1 : tm_id(b) < tm_id(a) ? -1 : 0;
}

void
tm_scope_preview(const struct tm_pending *p, const char *scope, char *out,
    size_t n)
{
	struct gp_pending_entry	e;
	struct gp_rule		r;
	int			s = gp_scope_parse(scope);

	memset(&e, 0, sizeof e);
	e.container = (char *)p->container;
	e.host = (char *)p->host;
	e.resolved_hostname = p->hostname[0] ? (char *)p->hostname : NULL;
	e.port = p->port;
	if (s < 0 || !gp_scope_rule(&e, s, GP_ALLOW, 0, &r)) {
		snprintf(out, n, "%s", _("no rule stored"));
		return;
	}
	if (s == GP_SCOPE_SUBDOMAIN && gp_host_ip_family(r.dest))
		snprintf(out, n, _("%s \u2192 %s:%s (an address has no "
		    "parent domain)"), r.container, r.dest, r.ports);
	else
		snprintf(out, n, "%s \u2192 %s:%s", r.container, r.dest,
		    r.ports);
	gp_rule_clear(&r);
}

/* "512", "12k", "3.4M": a count or a size in a few columns. */
void
tm_si(double v, char *out, size_t n)
{
	if (v < 1000)
		snprintf(out, n, "%.0f", v);
	else if (v < 1e6)
		snprintf(out, n, "%.0fk", v / 1e3);
	else
		snprintf(out, n, "%.1fM", v / 1e6);
}

/* --- conversations --- */

static int64_t
cid_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return (int64_t)(h & ((1ULL << 52) - 1)) + 1;	/* exact in a double */
}

void
tm_conv_ids(cJSON *items)
{
	cJSON *it;

	cJSON_ArrayForEach(it, items) {
		cJSON_DeleteItemFromObjectCaseSensitive(it, "_seq");
		cJSON_AddNumberToObject(it, "_seq", (double)cid_hash(tm_str(it,
		    "id")));
	}
}

static void harmless(struct gp_buf *, const char *);

/* A field from the wire made one harmless line, in place. */
static void
conv_clean(char *f, size_t n)
{
	struct gp_buf	b = { 0 };
	size_t		i;

	harmless(&b, f);
	gp_buf_add(&b, "", 1);
	for (i = 0; b.data[i] != '\0'; i++)
		if (b.data[i] == '\n')
			b.data[i] = ' ';
	snprintf(f, n, "%s", b.data);	/* a tab became two spaces */
	gp_buf_free(&b);
}

void
tm_decode_conv(const cJSON *o, void *out)
{
	struct tm_conv	*c = out;
	const cJSON	*tok = cJSON_GetObjectItemCaseSensitive(o, "tokens");

	memset(c, 0, sizeof *c);
	c->id = tm_id(o);
	str(o, "id", c->cid, sizeof c->cid);
	str(o, "client_name", c->client, sizeof c->client);
	str(o, "model", c->model, sizeof c->model);
	str(o, "container_name", c->container, sizeof c->container);
	str(o, "kind", c->kind, sizeof c->kind);
	str(o, "ended_at", c->ended, sizeof c->ended);
	str(o, "first_prompt", c->prompt, sizeof c->prompt);
	conv_clean(c->client, sizeof c->client);
	conv_clean(c->model, sizeof c->model);
	conv_clean(c->container, sizeof c->container);
	conv_clean(c->prompt, sizeof c->prompt);
	c->turns = (int)tm_num(o, "turn_count");
	c->subagents = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o,
	    "linked_subagents"));
	c->incomplete = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
	    "incomplete"));
	c->tok_in = tm_num(tok, "input") + tm_num(tok, "cache_read") +
	    tm_num(tok, "cache_write");
	c->tok_out = tm_num(tok, "output");
}

/* Appends s made harmless: controls and bidi overrides as '?', tabs as
 * two spaces. */
static void
harmless(struct gp_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		if (*p == '\t')
			gp_buf_add(b, "  ", 2);
		else if (*p == '\n')
			gp_buf_add(b, "\n", 1);
		else if (*p < 0x20 || *p == 0x7f)
			gp_buf_add(b, "?", 1);
		else if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa &&
		    p[2] <= 0xae) {		/* U+202A..202E */
			gp_buf_add(b, "?", 1);
			p += 2;
		} else if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 &&
		    p[2] <= 0xa9) {		/* U+2066..2069 */
			gp_buf_add(b, "?", 1);
			p += 2;
		} else
			gp_buf_add(b, p, 1);
	}
}

/* The first line of s, at most max bytes, whole UTF-8 characters, "…"
 * when cut. */
static void
first_line(const char *s, size_t max, char *out, size_t n)
{
	size_t k = strcspn(s, "\n");
	int cut = k > max || s[k] != '\0';

	if (k > max)
		k = max;
	while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	snprintf(out, n, "%.*s%s", (int)k, s, cut ? "…" : "");
}

static void
tline(struct tm_thread *th, int kind, int item, const char *text,
    const char *link)
{
	struct tm_tline *l;

	if (th->n == th->cap) {
		th->cap = th->cap ? th->cap * 2 : 64;
		th->l = gp_xrealloc(th->l, th->cap * sizeof *th->l);
	}
	l = &th->l[th->n++];
	l->kind = kind;
	l->item = item;
	l->text = gp_xstrdup(text);
	snprintf(l->link, sizeof l->link, "%s", link != NULL ? link : "");
}

/* Text as lines of at most width bytes-as-columns (whole UTF-8
 * characters), breaking at a space where one is near; prefix first. */
static void
wrapped(struct tm_thread *th, int kind, int item, const char *prefix,
    const char *text, const char *link)
{
	struct gp_buf	 b = { 0 };
	char		*copy, *save, *ln;
	size_t		 w = th->width > 10 ? (size_t)th->width : 10;
	size_t		 pl = strlen(prefix);
	int		 first = 1;

	harmless(&b, text);
	gp_buf_add(&b, "", 1);
	copy = b.data;
	for (ln = strtok_r(copy, "\n", &save); ln != NULL;
	    ln = strtok_r(NULL, "\n", &save)) {
		size_t len = strlen(ln), off = 0;

		do {
			char	line[1024];
			size_t	k = len - off, room = w > pl ? w - pl : 1, s;

			if (k > room) {
				k = room;
				for (s = k; s > room / 2; s--)
					if (ln[off + s] == ' ')
						break;
				if (s > room / 2)
					k = s + 1;
				while (k > 0 && ((unsigned char)ln[off + k] &
				    0xc0) == 0x80)
					k--;
				if (k == 0)
					k = 1;
			}
			snprintf(line, sizeof line, "%*s%.*s", (int)pl,
			    first ? prefix : "", (int)k, ln + off);
			first = 0;
			tline(th, kind, item, line, link);
			off += k;
		} while (off < len);
	}
	free(copy);
}

static void
clear_lines(struct tm_thread *th)
{
	size_t i;

	for (i = 0; i < th->n; i++)
		free(th->l[i].text);
	th->n = 0;
}

void
tm_thread_layout(struct tm_thread *th, int width)
{
	const cJSON	*t, *st, *tc, *tok;
	char		 head[512];
	int		 item = 0;

	clear_lines(th);
	th->width = width;
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(th->doc,
	    "turns")) {
		tok = cJSON_GetObjectItemCaseSensitive(t, "tokens");
		snprintf(head, sizeof head, "── %s %d · %d %s · %.0f/%.0f "
		    "%s · %.1fs ──", _("turn"), (int)tm_num(t, "turn_number"),
		    (int)tm_num(t, "api_calls_in_turn"), P_("request",
		    "requests", (unsigned long)tm_num(t, "api_calls_in_turn")),
		    tm_num(tok, "input") + tm_num(tok, "cache_read"),
		    tm_num(tok, "output"), _("tokens"),
		    tm_num(t, "duration_ms") / 1000);
		tline(th, TL_HEAD, -1, head, NULL);
		wrapped(th, TL_USER, -1, "> ", tm_str(t, "user_prompt"), NULL);
		cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(t,
		    "steps")) {
			const char *think = tm_str(st, "thinking_preview");

			if (*think != '\0') {
				int open = (size_t)item < th->nitems &&
				    th->open[item];

				if (open) {
					tline(th, TL_THINK, item, "▾ thinking",
					    NULL);
					wrapped(th, TL_THINK, item, "  ", think,
					    NULL);
				} else {
					char first[80];

					first_line(think, 60, first,
					    sizeof first);
					snprintf(head, sizeof head, "▸ thinking: "
					    "%s", first);
					wrapped(th, TL_THINK, item, "", head,
					    NULL);
				}
				item++;
			}
			if (*tm_str(st, "text") != '\0')
				wrapped(th, TL_TEXT, -1, "", tm_str(st, "text"),
				    NULL);
			cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(
			    st, "tool_calls")) {
				const char *link = tm_str(tc,
				    "linked_conversation_id");
				const char *sum = tm_str(tc, "tool_summary");
				int err = cJSON_IsTrue(
				    cJSON_GetObjectItemCaseSensitive(tc,
				    "is_error"));
				int open = (size_t)item < th->nitems &&
				    th->open[item];

				snprintf(head, sizeof head, "%s %s%s%s%s",
				    open ? "▾" : "▸", tm_str(tc, "tool"),
				    *sum ? ": " : "", sum, err ? "  [error]" :
				    cJSON_GetObjectItemCaseSensitive(tc,
				    "result_preview") ? "" : "  [no result]");
				wrapped(th, err ? TL_ERROR : TL_TOOL, item, "",
				    head, link);
				if (*link != '\0') {
					snprintf(head, sizeof head, "  ↳ "
					    "sub-agent %s (o opens it)", link);
					tline(th, TL_INFO, item, head, link);
				}
				if (open) {
					char	*pretty = gp_json_pretty(
					    tm_str(tc, "input_preview"));

					tline(th, TL_INFO, item, "  input:",
					    NULL);
					wrapped(th, TL_TOOL, item, "    ",
					    pretty != NULL ? pretty :
					    tm_str(tc, "input_preview"), link);
					free(pretty);
					if (cJSON_GetObjectItemCaseSensitive(tc,
					    "result_preview") != NULL) {
						tline(th, TL_INFO, item,
						    "  result:", NULL);
						wrapped(th, err ? TL_ERROR :
						    TL_RESULT, item, "    ",
						    tm_str(tc,
						    "result_preview"), link);
					}
				}
				item++;
			}
		}
	}
	if (th->n == 0)
		tline(th, TL_INFO, -1, "(no turns: nothing of this "
		    "conversation could be read)", NULL);
	if ((size_t)item > th->nitems) {
		th->open = gp_xrealloc(th->open, (size_t)item);
		memset(th->open + th->nitems, 0, (size_t)item - th->nitems);
		th->nitems = (size_t)item;
	}
	if (th->cur >= th->n)
		th->cur = th->n - 1;
}

void
tm_thread_set(struct tm_thread *th, cJSON *doc, int width)
{
	tm_thread_free(th);
	th->doc = doc;
	tm_thread_layout(th, width);
}

int
tm_thread_toggle(struct tm_thread *th)
{
	int	item;
	size_t	i;

	if (th->cur >= th->n || (item = th->l[th->cur].item) < 0 ||
	    (size_t)item >= th->nitems)
		return 0;
	th->open[item] = !th->open[item];
	tm_thread_layout(th, th->width);
	for (i = 0; i < th->n; i++)	/* the cursor on the item's head */
		if (th->l[i].item == item) {
			th->cur = i;
			break;
		}
	return 1;
}

long
tm_thread_find(const struct tm_thread *th, const char *s, size_t from,
    int dir)
{
	size_t	i, k;

	if (*s == '\0' || th->n == 0)
		return -1;
	for (k = 1; k <= th->n; k++) {
		i = (from + th->n + (dir > 0 ? k : th->n - k)) % th->n;
		if (strcasestr(th->l[i].text, s) != NULL)
			return (long)i;
	}
	return -1;
}

void
tm_thread_free(struct tm_thread *th)
{
	clear_lines(th);
	free(th->l);
	free(th->open);
	cJSON_Delete(th->doc);
	memset(th, 0, sizeof *th);
}
