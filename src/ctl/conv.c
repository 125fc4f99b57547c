/*
 * conv.c: LLM conversations assembled from stored transactions.
 *
 * The assembler runs on the capture worker, after each batch is
 * written, on that worker's connection: it reads the transactions past
 * its cursor (conversation_processing_state.last_processed_id), so the
 * incremental path and a rebuild are the same code.  A transaction an
 * endpoint rule names is dissected; its client, session and kind
 * (main, sub-agent, utility) are read from headers and body; then it
 * continues the conversation whose last request's history its own
 * extends — compared by normalized messages, never by time — within the
 * same identity, client, kind and session, or the one whose response it
 * chains to (previous_response_id), or it starts one.  A new one whose
 * first prompt is the prompt of an agent tool call of the same identity
 * is that call's sub-agent.  Utility requests (warm-ups, titles, quota
 * probes, scorers) make their own, hidden, conversations.
 *
 * Everything here runs on a worker; the loop only hands over settings
 * and emits conversation.updated for the ids a step returns.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "dissect/dissect.h"

#include "ctl/ctl.h"

#define STEP_ROWS	2000		/* transactions a step reads (most are
					   no LLM call: a glance each) */
#define CANDIDATES	200		/* conversations a request may continue */
#define BODY_SNIFF_MAX	(4 << 20)	/* unknown bodies shape-checked */
#define WS_SOCKETS	32
/* A step's write transaction is kept short: the loop's own rare writes
 * (an endpoint rule, a credential) wait for it. */
#define STEP_NS		(50 * 1000 * 1000ULL)

/* Worker state: only the job that owns the worker touches it. */
struct ws_last {
	char	*container, *url, *conv;
	int64_t	 req_tx, req_ts;
	int	 turn;
};
struct gp_conv_env {
	struct gp_endpoint_rule	*rules;
	size_t			 nrules;
	uint64_t		 rules_gen;	/* loaded; 0: never */
	struct ws_last		 ws[WS_SOCKETS];
	unsigned		 wsnext;
	int			 version_checked;
};

static void
ws_forget(struct ws_last *w)
{
	free(w->container);
	free(w->url);
	free(w->conv);
	memset(w, 0, sizeof *w);
}

void
gp_conv_env_free(struct gp_conv_env *e)
{
	size_t i;

	if (e == NULL)
		return;
	gp_store_endpoint_free(e->rules, e->nrules);
	for (i = 0; i < WS_SOCKETS; i++)
		ws_forget(&e->ws[i]);
	free(e);
}

static struct ws_last *
ws_find(struct gp_conv_env *e, const char *container, const char *url)
{
	size_t i;

	for (i = 0; i < WS_SOCKETS; i++)
		if (e->ws[i].conv != NULL &&
		    strcmp(e->ws[i].container, container) == 0 &&
		    strcmp(e->ws[i].url, url) == 0)
			return &e->ws[i];
	return NULL;
}

static void
ws_remember(struct gp_conv_env *e, const char *container, const char *url,
    const char *conv, int64_t tx, int64_t ts, int turn)
{
	struct ws_last *w = ws_find(e, container, url);

	if (w == NULL)
		w = &e->ws[e->wsnext++ % WS_SOCKETS];
	ws_forget(w);
	w->container = gp_xstrdup(container);
	w->url = gp_xstrdup(url);
	w->conv = gp_xstrdup(conv);
	w->req_tx = tx;
	w->req_ts = ts;
	w->turn = turn;
}

/* What a step collects for the loop. */
struct conv_out {
	char	**ids;		/* updated conversations */
	size_t	  n, cap;
};

static void
updated(struct conv_out *o, const char *id)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (strcmp(o->ids[i], id) == 0)
			return;
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 8;
		o->ids = gp_xrealloc(o->ids, o->cap * sizeof *o->ids);
	}
	o->ids[o->n++] = gp_xstrdup(id);
}

/* https://host:port/path?query -> the path, without the query. */
static char *
url_path(const char *url)
{
	const char	*p = strstr(url, "://"), *q;

	p = p != NULL ? strchr(p + 3, '/') : NULL;
	if (p == NULL)
		return gp_xstrdup("/");
	q = strchr(p, '?');
	return gp_xstrndup(p, q != NULL ? (size_t)(q - p) : strlen(p));
}

static void
new_id(char out[24])
{
	unsigned char	r[8];
	size_t		i;

	if (RAND_bytes(r, sizeof r) != 1)
		abort();
	memcpy(out, "conv_", 5);
	for (i = 0; i < sizeof r; i++)
		snprintf(out + 5 + 2 * i, 3, "%02x", r[i]);
}

/* A history built from several calls' messages (shallow copies). */
struct hist {
	struct gp_llm_msg	*m;
	size_t			 n, cap;
};

static void
hist_add(struct hist *h, const struct gp_llm_msg *m, size_t n)
{
	if (n == 0)
		return;
	if (h->n + n > h->cap) {
		h->cap = (h->n + n) * 2;
		h->m = gp_xrealloc(h->m, h->cap * sizeof *h->m);
	}
	memcpy(h->m + h->n, m, n * sizeof *m);
	h->n += n;
}

/* Agent tool calls of the history, recorded for their sub-agents. */
static void
agent_calls(struct gp_store *st, const struct gp_conv_row *r,
    const struct hist *h)
{
	size_t i, k;

	for (i = 0; i < h->n; i++)
		for (k = 0; k < h->m[i].n; k++) {
			const struct gp_llm_block	*b = &h->m[i].b[k];
			char				*p, fp[17], id[96];

			if (b->kind != GP_LLM_TOOL_USE ||
			    !gp_llm_agent_tool(b->name) ||
			    (p = gp_llm_agent_prompt(b->text)) == NULL)
				continue;
			snprintf(fp, sizeof fp, "%016llx", (unsigned long long)
			    gp_llm_text_fp(p));
			free(p);
			if (b->id == NULL)	/* Gemini: position names it */
				snprintf(id, sizeof id, "%s#%zu.%zu", b->name,
				    i, k);
			gp_store_conv_agent_put(st, r->id, b->id != NULL ?
			    b->id : id, b->name, r->container, r->session_key,
			    fp);
		}
}

/* The first real prompt of a history (arena of c), or NULL. */
static const char *
first_prompt(struct gp_llm_call *c, const struct hist *h)
{
	size_t		 i;
	const char	*p;

	for (i = 0; i < h->n; i++)
		if ((p = gp_llm_prompt(c, &h->m[i])) != NULL)
			return p;
	return NULL;
}

/* Is turn n as stored the same prompt as in turns (so those before it
 * are too: a continued history extends its prefix)? */
static int
same_turns(struct gp_store *st, const char *id, const cJSON *turns, int n)
{
	char		*stored = NULL;
	const char	*now = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetArrayItem(turns, n - 1), "user_prompt"));
	int		 same;

	if (gp_store_conv_turn_prompt(st, id, n, &stored) != 0)
		return 0;
	same = now != NULL && stored != NULL && strcmp(now, stored) == 0;
	free(stored);
	return same;
}

/* Stores r with its turns rebuilt from h; the request row too. */
static int
save(struct gp_store *st, struct gp_llm_call *c, struct gp_conv_row *r,
    const struct hist *h, const struct gp_conv_req *q)
{
	cJSON	*msgs = gp_llm_msgs_json(h->m, h->n);
	cJSON	*turns = gp_llm_turns(c, h->m, h->n);
	char	*mj = cJSON_PrintUnformatted(msgs);
	int	 rc, from;

	/* What a request changes is its last turns: those before it stay
	 * as stored, unless the history shrank or was rewritten there
	 * (then every turn is written again). */
	from = r->turn_count > 1 && cJSON_GetArraySize(turns) >=
	    r->turn_count && same_turns(st, r->id, turns, r->turn_count - 1) ?
	    r->turn_count - 1 : 1;
	r->messages_json = mj;
	r->turn_count = cJSON_GetArraySize(turns);
	rc = gp_store_conv_put(st, r);
	if (rc == 0)
		rc = gp_store_conv_turns(st, r->id, turns, from);
	if (rc == 0 && q != NULL)
		rc = gp_store_conv_request(st, q);
	if (rc == 0)
		agent_calls(st, r, h);
	cJSON_free(mj);
	cJSON_Delete(msgs);
	cJSON_Delete(turns);
	r->messages_json = NULL;
	return rc;
}

static void
req_tokens(struct gp_conv_req *q, const struct gp_llm_call *c)
{
	q->tok[0] = c->usage.input;
	q->tok[1] = c->usage.output;
	q->tok[2] = c->usage.cache_read;
	q->tok[3] = c->usage.cache_write;
}

static void
row_tokens(struct gp_conv_row *r, const struct gp_llm_call *c)
{
	r->tok[0] += c->usage.input;
	r->tok[1] += c->usage.output;
	r->tok[2] += c->usage.cache_read;
	r->tok[3] += c->usage.cache_write;
}

/* A WS_RESP frame with the final event: the reply of the socket's last
 * request, appended to its conversation. */
static void
ws_reply(struct gp_conv_env *e, struct gp_store *st,
    const struct gp_tx_stored *tx, struct gp_llm_call *c,
    struct conv_out *o)
{
	struct ws_last		*w = ws_find(e, tx->row.container,
	    tx->row.url);
	struct gp_conv_loaded	 l;
	struct gp_llm_call	 old;
	struct hist		 h = { 0 };
	struct gp_conv_req	 q = { 0 };

	if (w == NULL || gp_store_conv_get(st, w->conv, &l) != 0)
		return;
	gp_llm_init(&old);
	if (l.row.messages_json != NULL) {
		cJSON *j = cJSON_Parse(l.row.messages_json);

		gp_llm_msgs_load(&old, j);
		cJSON_Delete(j);
	}
	hist_add(&h, old.msgs, old.nmsgs);
	if (c->reply.n > 0)
		hist_add(&h, &c->reply, 1);
	if (c->response_id != NULL)
		l.row.last_response_id = c->response_id;
	if (c->model != NULL && l.row.model == NULL)
		l.row.model = c->model;
	l.row.last_turn_has_response = c->reply.n > 0;
	l.row.ended_at = tx->row.ts;
	row_tokens(&l.row, c);
	if (c->error != NULL) {
		l.row.incomplete = 1;
		l.row.incomplete_reason = c->error;
	}
	q.tx_id = w->req_tx;
	q.conversation_id = l.row.id;
	q.turn_number = w->turn;
	q.ts = w->req_ts;
	q.duration_ms = (tx->row.ts - w->req_ts) * 1000;
	q.first_token_ms = -1;
	q.model = c->model;
	q.stop_reason = c->stop_reason;
	q.error = c->error;
	q.stream = 1;
	req_tokens(&q, c);
	if (save(st, &old, &l.row, &h, &q) == 0) {
		gp_store_tx_set_conversation(st, tx->id, l.row.id);
		updated(o, l.row.id);
	}
	free(h.m);
	gp_llm_free(&old);
	gp_store_conv_loaded_free(&l);
}

/* Reads l's stored messages into old and h. */
static void
load_history(const struct gp_conv_loaded *l, struct gp_llm_call *old,
    struct hist *h)
{
	cJSON *j;

	if (l->row.messages_json == NULL ||
	    (j = cJSON_Parse(l->row.messages_json)) == NULL)
		return;
	gp_llm_msgs_load(old, j);
	cJSON_Delete(j);
	hist_add(h, old->msgs, old->nmsgs);
}

/* One dissected request: into the conversation it continues or a new
 * one. */
static void
assemble(struct gp_conv_env *e, struct gp_store *st,
    const struct gp_tx_stored *tx, struct gp_llm_call *c,
    const struct cJSON *heads, struct conv_out *o)
{
	const char		*client = gp_llm_client(heads, c);
	const char		*session = gp_llm_session(client, heads, c);
	const char		*why_util = gp_llm_utility(client, c);
	struct gp_conv_row	 key = { 0 }, r = { 0 };
	struct gp_conv_loaded	 l = { 0 }, chained = { 0 };
	struct gp_llm_call	 old;
	struct gp_conv_cand	*cand = NULL;
	struct gp_conv_req	 q = { 0 };
	struct hist		 h = { 0 };
	size_t			 ncand = 0, i, best = 0, nreq;
	char			 id[24], *fps, *parent = NULL, *tu = NULL;
	int			 found = 0;

	gp_llm_init(&old);
	key.container = tx->row.container;
	key.client = client;
	key.session_key = session;
	key.kind = why_util != NULL ? "utility" : "main";
	/* a chained request: the earlier history, then its new items */
	if (c->prev_response_id != NULL && gp_store_conv_by_response(st,
	    tx->row.container, c->prev_response_id, &chained) == 0) {

		load_history(&chained, &old, &h);
		if (c->system == NULL)
			c->system = gp_llm_strdup(c, chained.row.system_prompt);
		if (strcmp(chained.row.kind, "utility") != 0 ||
		    strcmp(key.kind, "utility") == 0) {
			l = chained;
			memset(&chained, 0, sizeof chained);
			found = 1;
		}
	}
	hist_add(&h, c->msgs, c->nmsgs);
	nreq = h.n;
	fps = gp_llm_fps(h.m, h.n);
	if (!found && gp_store_conv_candidates(st, &key, CANDIDATES, &cand,
	    &ncand) == 0) {
		size_t bestlen = 0;

		for (i = 0; i < ncand; i++)
			if (cand[i].fp != NULL &&
			    gp_llm_fps_prefix(cand[i].fp, fps) &&
			    strlen(cand[i].fp) > bestlen) {
				bestlen = strlen(cand[i].fp);
				best = i;
			}
		if (bestlen > 0 && gp_store_conv_get(st, cand[best].id, &l) ==
		    0)
			found = 1;
	}
	if (found) {
		r = l.row;
	} else {
		new_id(id);
		r.id = id;
		r.container = tx->row.container;
		r.client = client;
		r.kind = key.kind;
		r.session_key = session;
		r.started_at = tx->row.ts;
		if (why_util == NULL) {	/* a sub-agent of an agent call? */
			const char	*p = first_prompt(c, &h);
			char		 pfp[17];

			snprintf(pfp, sizeof pfp, "%016llx", (unsigned long long)
			    gp_llm_text_fp(p != NULL ? p : ""));
			if (p != NULL && gp_store_conv_agent_claim(st,
			    r.container, session, pfp, id, &parent, &tu) ==
			    0) {
				r.parent_id = parent;
				r.parent_tool_use_id = tu;
				r.kind = "subagent";
			}
		}
	}
	r.utility_reason = why_util != NULL ? why_util : r.utility_reason;
	r.provider = c->provider;
	if (c->model != NULL)
		r.model = c->model;
	if (c->system != NULL)
		r.system_prompt = c->system;
	r.req_fp = fps;
	if (c->response_id != NULL)
		r.last_response_id = c->response_id;
	r.ended_at = tx->row.ts;
	r.requests++;
	r.parseable += c->why == NULL;
	r.truncated += c->reply_truncated || tx->row.req_trunc;
	if ((int)nreq >= r.messages_in_best) {
		r.messages_in_best = (int)nreq;
		r.best_request_id = tx->id;
	}
	row_tokens(&r, c);
	q.tx_id = tx->id;
	q.conversation_id = r.id;
	q.turn_number = gp_llm_prompts(h.m, h.n);
	if (q.turn_number == 0)
		q.turn_number = 1;
	q.ts = tx->row.ts;
	q.duration_ms = tx->row.duration_ms;
	q.first_token_ms = tx->row.first_byte_ms;
	q.model = c->model;
	q.status = tx->row.status;
	q.stop_reason = c->stop_reason;
	q.error = c->error;
	q.why = c->why;
	q.stream = c->stream;
	req_tokens(&q, c);
	if (c->has_reply && c->reply.n > 0)
		hist_add(&h, &c->reply, 1);
	r.last_turn_has_response = c->has_reply && c->reply.n > 0;
	r.first_prompt = first_prompt(c, &h);
	if (r.first_prompt != NULL)
		r.first_prompt = gp_llm_cut(c, r.first_prompt, 1000);
	r.incomplete = c->why != NULL || c->error != NULL ||
	    gp_llm_prompts(h.m, h.n) == 0;
	r.incomplete_reason = c->error != NULL ? c->error : c->why != NULL ?
	    c->why : r.incomplete ? "no prompt in the request" : NULL;
	if (save(st, c, &r, &h, &q) == 0) {
		gp_store_tx_set_conversation(st, tx->id, r.id);
		updated(o, r.id);
		if (r.parent_id != NULL)
			updated(o, r.parent_id);
		if (c->ws)
			ws_remember(e, tx->row.container, tx->row.url, r.id,
			    tx->id, tx->row.ts, q.turn_number);
	}
	free(parent);
	free(tu);
	free(fps);
	free(h.m);
	gp_store_conv_cand_free(cand, ncand);
	gp_store_conv_loaded_free(&l);
	gp_store_conv_loaded_free(&chained);
	gp_llm_free(&old);
}

static const struct gp_dissector *
dissector_for(struct gp_conv_env *e, const struct gp_conv_txref *t,
    const char *path)
{
	const struct gp_endpoint_rule *r = gp_endpoint_match(e->rules,
	    e->nrules, t->method, t->host, path);

	return r != NULL ? gp_dissector_find(r->decoder) : NULL;
}

/* An unknown endpoint whose request looks like an LLM API's: offered
 * as a rule (never added by itself). */
static void
sniff(struct gp_store *st, const struct gp_tx_stored *tx, const char *path)
{
	const char	*shape;
	cJSON		*heads;

	shape = gp_endpoint_shape(tx->row.req_body, tx->row.req_len);
	if (shape == NULL)
		return;
	heads = gp_llm_heads(tx->row.req_headers);
	if (strcmp(shape, "openai-chat") == 0 &&
	    gp_llm_header(heads, "anthropic-version") != NULL)
		shape = "anthropic";
	cJSON_Delete(heads);
	gp_store_endpoint_suggest(st, tx->row.host, path, tx->row.method,
	    shape, tx->row.ts, tx->id);
}

static int
fetch(struct gp_store *st, int64_t id, struct gp_tx_stored **tx)
{
	struct gp_tx_filter	f = { 0 };
	size_t			n = 0;
	int64_t			total;

	f.id = id;
	f.limit = 1;
	*tx = NULL;
	if (gp_store_tx_query(st, &f, tx, &n, &total) != 0 || n == 0) {
		gp_store_tx_free(*tx, n);
		*tx = NULL;
		return -ENOENT;
	}
	return 0;
}

static void
one(struct gp_conv_env *e, struct gp_store *st, const struct gp_conv_txref *t,
    struct conv_out *o)
{
	const struct gp_dissector	*d;
	struct gp_tx_stored		*tx;
	struct gp_llm_input		 in = { 0 };
	struct gp_llm_call		 c;
	char				*path = url_path(t->url);
	cJSON				*heads;

	d = dissector_for(e, t, path);
	if (d == NULL) {
		if (strcmp(t->method, "POST") == 0 && t->req_type != NULL &&
		    strstr(t->req_type, "json") != NULL && t->req_len > 0 &&
		    t->req_len < BODY_SNIFF_MAX && fetch(st, t->id, &tx) == 0) {
			sniff(st, tx, path);
			gp_store_tx_free(tx, 1);
		}
		free(path);
		return;
	}
	if (fetch(st, t->id, &tx) != 0) {
		free(path);
		return;
	}
	in.method = tx->row.method;
	in.host = tx->row.host;
	in.path = path;
	in.req_type = tx->row.req_type;
	in.resp_type = tx->row.resp_type;
	in.req = tx->row.req_body;
	in.req_len = tx->row.req_len;
	in.resp = tx->row.resp_body;
	in.resp_len = tx->row.resp_len;
	in.status = tx->row.status;
	in.resp_truncated = tx->row.resp_trunc || !tx->row.complete;
	gp_llm_init(&c);
	d->parse(&in, &c);
	if (c.ws_reply_only) {
		if (c.has_reply)
			ws_reply(e, st, tx, &c, o);
	} else if (c.nmsgs > 0 || c.has_reply || c.warmup || c.why != NULL) {
		heads = gp_llm_heads(tx->row.req_headers);
		assemble(e, st, tx, &c, heads, o);
		cJSON_Delete(heads);
	}
	gp_llm_free(&c);
	gp_store_tx_free(tx, 1);
	free(path);
}

/* Rules as stored: loaded again when their generation moved. */
static void
rules(struct gp_conv_env *e, struct gp_store *st, uint64_t gen)
{
	if (e->rules_gen == gen && e->rules != NULL)
		return;
	gp_store_endpoint_free(e->rules, e->nrules);
	e->rules = NULL;
	e->nrules = 0;
	if (gp_store_endpoint_list(st, 1, &e->rules, &e->nrules) == 0)
		e->rules_gen = gen;
}

int
gp_conv_step(struct gp_conv_env **ep, struct gp_store *st,
    const struct gp_conv_step_in *in, struct gp_conv_step_out *out)
{
	struct gp_conv_env	*e;
	struct gp_conv_txref	*refs = NULL;
	const struct gp_conv_txref *todo;
	struct conv_out		 o = { 0 };
	size_t			 n = 0, i, done;
	int64_t			 cursor = 0, stored = 0;
	uint64_t		 t0;
	int			 rc;

	if (*ep == NULL)
		*ep = gp_xcalloc(1, sizeof **ep);
	e = *ep;
	memset(out, 0, sizeof *out);
	if ((rc = gp_store_begin(st)) != 0)
		return rc;
	if (!e->version_checked) {	/* seeded once per run */
		gp_store_endpoint_seed(st, gp_endpoint_builtin,
		    gp_endpoint_nbuiltin);
		e->rules_gen = 0;
		if (gp_store_conv_state(st, "assembler_version", &stored) != 0 ||
		    stored != GP_ASSEMBLER_VERSION)
			out->rebuilt = 1;
		e->version_checked = 1;
	}
	if (in->rebuild || out->rebuilt) {
		out->rebuilt = 1;
		if ((rc = gp_store_conv_clear(st)) == 0)
			rc = gp_store_conv_state_set(st, "assembler_version",
			    GP_ASSEMBLER_VERSION);
		for (i = 0; i < WS_SOCKETS; i++)
			ws_forget(&e->ws[i]);
		if (rc != 0) {
			gp_store_rollback(st);
			return rc;
		}
	}
	rules(e, st, in->rules_gen);
	gp_store_conv_state(st, "last_processed_id", &cursor);
	/* The caller's rows, when nothing stored comes before them (only
	 * the caller stores transactions, and nothing after them): at
	 * 40 000 transactions a second, reading them back was a twelfth of
	 * the background's time. */
	if (!out->rebuilt && in->nfresh > 0 && in->fresh[0].id == cursor + 1) {
		rc = 0;
		todo = in->fresh;
		n = in->nfresh;
		out->remaining = 0;
	} else {
		rc = gp_store_conv_todo(st, cursor, STEP_ROWS, &refs, &n,
		    &out->remaining);
		todo = refs;
	}
	t0 = uv_hrtime();
	for (i = 0; rc == 0 && i < n; i++) {
		if (i > 0 && (uv_hrtime() - t0 > STEP_NS ||
		    gp_lane_yield() || gp_store_urgent())) {
			out->remaining += (int64_t)(n - i);	/* next step */
			break;
		}
		if (in->enabled)
			one(e, st, &todo[i], &o);
		cursor = todo[i].id;
	}
	done = i;
	if (rc == 0 && done > 0)
		rc = gp_store_conv_state_set(st, "last_processed_id", cursor);
	if (refs != NULL)
		gp_store_conv_txref_free(refs, n);
	if (rc != 0) {
		gp_store_rollback(st);
		for (i = 0; i < o.n; i++)
			free(o.ids[i]);
		free(o.ids);
		return rc;
	}
	out->processed = (int64_t)done;
	out->ids = o.ids;
	out->nids = o.n;
	return gp_store_commit(st);
}

void
gp_conv_step_out_free(struct gp_conv_step_out *o)
{
	size_t i;

	for (i = 0; i < o->nids; i++)
		free(o->ids[i]);
	free(o->ids);
	memset(o, 0, sizeof *o);
}

/* --- the loop's side --- */

int
gp_ctl_conv_rebuild(struct gp_ctl *c)
{
	if (c->db_path == NULL)
		return -ENOENT;
	if (c->conv_rebuild || c->conv_rebuilding)
		return -EBUSY;
	c->conv_rebuild = 1;
	gp_ctl_capture_flush(c);
	return 0;
}

cJSON *
gp_ctl_conv_status(struct gp_ctl *c)
{
	cJSON	*o = cJSON_CreateObject();
	int64_t	 v = c->conv_version;

	if (v < 0 && c->store != NULL &&	/* before the first step */
	    gp_store_conv_state(c->store, "assembler_version", &v) != 0)
		v = 0;
	cJSON_AddNumberToObject(o, "assembler_version_current",
	    GP_ASSEMBLER_VERSION);
	cJSON_AddNumberToObject(o, "assembler_version_stored", (double)v);
	cJSON_AddBoolToObject(o, "needs_rebuild", v != GP_ASSEMBLER_VERSION);
	/* greyproxy-c: whether a rebuild runs, and how far it is */
	cJSON_AddBoolToObject(o, "rebuilding", c->conv_rebuild ||
	    c->conv_rebuilding);
	cJSON_AddNumberToObject(o, "rebuild_processed", (double)c->conv_done);
	cJSON_AddNumberToObject(o, "rebuild_total", (double)c->conv_total);
	cJSON_AddBoolToObject(o, "enabled", c->settings.conversations);
	return o;
}

struct convq {
	uv_work_t		 w;
	struct gp_ctl		*c;
	struct gp_conv_filter	 f;	/* strings owned */
	char			*id;
	int			 subagents;
	cJSON			*out;
	gp_ctl_json_fn		 fn;
	void			*arg;
};

static char *
dup_or_null(const char *s)
{
	return s != NULL ? gp_xstrdup(s) : NULL;
}

static void
convq_run(uv_work_t *w)
{
	struct convq	*q = w->data;
	struct gp_store	*r = gp_ctl_reader_lock(q->c);

	if (r != NULL) {
		if (q->id == NULL)
			q->out = gp_store_conv_list(r, &q->f);
		else if (q->subagents) {
			struct gp_conv_loaded l;

			if (gp_store_conv_get(r, q->id, &l) == 0) {
				q->out = cJSON_CreateObject();
				cJSON_AddItemToObject(q->out, "items",
				    gp_store_conv_subagents(r, q->id));
				gp_store_conv_loaded_free(&l);
			}
		} else
			q->out = gp_store_conv_detail(r, q->id);
	}
	uv_mutex_unlock(&q->c->reader_mu);
}

static void
convq_done(uv_work_t *w, int status)
{
	struct convq *q = w->data;

	if (status != 0) {
		cJSON_Delete(q->out);
		q->out = NULL;
	}
	q->fn(q->arg, q->out);
	free((char *)q->f.client);
	free((char *)q->f.model);
	free((char *)q->f.provider);
	free((char *)q->f.container);
	free((char *)q->f.text);
	free(q->id);
	free(q);
}

static int
convq_queue(struct gp_ctl *c, struct convq *q)
{
	q->w.data = q;
	q->c = c;
	if (c->db_path == NULL || !c->reader_mu_ok ||
	    uv_queue_work(c->loop, &q->w, convq_run, convq_done) != 0) {
		q->out = NULL;
		convq_done(&q->w, -1);
		return -EAGAIN;
	}
	return 0;
}

int
gp_ctl_conv_list_async(struct gp_ctl *c, const struct gp_conv_filter *f,
    gp_ctl_json_fn fn, void *arg)
{
	struct convq *q = gp_xcalloc(1, sizeof *q);

	q->f = *f;
	q->f.client = dup_or_null(f->client);
	q->f.model = dup_or_null(f->model);
	q->f.provider = dup_or_null(f->provider);
	q->f.container = dup_or_null(f->container);
	q->f.text = dup_or_null(f->text);
	q->fn = fn;
	q->arg = arg;
	return convq_queue(c, q);
}

int
gp_ctl_conv_get_async(struct gp_ctl *c, const char *id, int subagents,
    gp_ctl_json_fn fn, void *arg)
{
	struct convq *q = gp_xcalloc(1, sizeof *q);

	q->id = gp_xstrdup(id);
	q->subagents = subagents;
	q->fn = fn;
	q->arg = arg;
	return convq_queue(c, q);
}

cJSON *
gp_ctl_endpoint_json(const struct gp_endpoint_rule *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", (double)r->id);
	cJSON_AddStringToObject(o, "host_pattern", r->host);
	cJSON_AddStringToObject(o, "path_pattern", r->path);
	cJSON_AddStringToObject(o, "method", r->method);
	cJSON_AddStringToObject(o, "decoder_name", r->decoder);
	cJSON_AddNumberToObject(o, "priority", r->priority);
	cJSON_AddBoolToObject(o, "enabled", r->enabled);
	cJSON_AddBoolToObject(o, "user_defined", r->user_defined);
	return o;
}

/* The built-ins are in the table from the first step on; before it
 * (a fresh database), seeding here keeps the answer whole. */
cJSON *
gp_ctl_endpoint_rules(struct gp_ctl *c, int all)
{
	struct gp_endpoint_rule	*r = NULL;
	size_t			 n = 0, i;
	cJSON			*o = cJSON_CreateObject(), *a;

	a = cJSON_AddArrayToObject(o, "rules");
	if (c->store == NULL)
		return o;
	if (gp_store_endpoint_list(c->store, !all, &r, &n) == 0 && n == 0) {
		gp_store_endpoint_seed(c->store, gp_endpoint_builtin,
		    gp_endpoint_nbuiltin);
		gp_store_endpoint_list(c->store, !all, &r, &n);
	}
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, gp_ctl_endpoint_json(&r[i]));
	gp_store_endpoint_free(r, n);
	cJSON_AddItemToObject(o, "suggestions",
	    gp_store_endpoint_suggestions(c->store));
	return o;
}

int
gp_ctl_endpoint_put(struct gp_ctl *c, struct gp_endpoint_rule *r,
    const char **why)
{
	int rc;

	if ((*why = gp_endpoint_check(r->host, r->path, r->method,
	    r->decoder)) != NULL)
		return -EINVAL;
	if (c->store == NULL)
		return -ENOENT;
	rc = gp_store_endpoint_put(c->store, r);
	if (rc == -ENOENT)
		*why = "rule not found or is built-in";
	else if (rc == -EEXIST)
		*why = "an identical rule exists";
	else if (rc == 0)
		c->endpoint_gen++;
	return rc;
}

int
gp_ctl_endpoint_delete(struct gp_ctl *c, int64_t id, const char **why)
{
	int rc;

	if (c->store == NULL)
		return -ENOENT;
	rc = gp_store_endpoint_delete(c->store, id);
	if (rc == -ENOENT)
		*why = "rule not found or is built-in";
	else if (rc == 0)
		c->endpoint_gen++;
	return rc;
}

cJSON *
gp_ctl_dissectors(void)
{
	const struct gp_dissector	*d;
	cJSON				*o = cJSON_CreateObject(), *a;
	size_t				 i;

	a = cJSON_AddArrayToObject(o, "dissectors");
	for (i = 0; (d = gp_dissector_at(i)) != NULL; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "name", d->name);
		cJSON_AddStringToObject(e, "description", d->description);
		cJSON_AddStringToObject(e, "provider", d->provider);
		cJSON_AddItemToArray(a, e);
	}
	return o;
}
