/*
 * llm.c: the call a dissector fills.  Everything it points to lives in
 * the call's arena, freed at once by gp_llm_free().
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/dissect-int.h"

void
gp_llm_init(struct gp_llm_call *c)
{
	memset(c, 0, sizeof *c);
	c->reply.role = "assistant";
}

void
gp_llm_free(struct gp_llm_call *c)
{
	gp_arena_free(&c->a);
	memset(c, 0, sizeof *c);
}

const char *
gp_llm_strndup(struct gp_llm_call *c, const char *s, size_t n)
{
	return gp_arena_strndup(&c->a, s, n);
}

const char *
gp_llm_strdup(struct gp_llm_call *c, const char *s)
{
	return s == NULL ? NULL : gp_arena_strndup(&c->a, s, strlen(s));
}

/* Grows an arena array of size-byte items to hold one more. */
static void *
grow(struct gp_llm_call *c, void *v, size_t n, size_t *cap, size_t size)
{
	void	*nv;

	if (n < *cap)
		return v;
	*cap = *cap == 0 ? 8 : *cap * 2;
	nv = gp_arena_alloc(&c->a, *cap * size);
	if (n > 0)
		memcpy(nv, v, n * size);
	return nv;
}

struct gp_llm_msg *
gp_llm_msg_add(struct gp_llm_call *c, const char *role)
{
	struct gp_llm_msg *m;

	c->msgs = grow(c, c->msgs, c->nmsgs, &c->capmsgs, sizeof *c->msgs);
	m = &c->msgs[c->nmsgs++];
	memset(m, 0, sizeof *m);
	m->role = gp_llm_strdup(c, role);
	return m;
}

struct gp_llm_block *
gp_llm_block_add(struct gp_llm_call *c, struct gp_llm_msg *m,
    enum gp_llm_kind kind)
{
	struct gp_llm_block *b;

	m->b = grow(c, m->b, m->n, &m->cap, sizeof *m->b);
	b = &m->b[m->n++];
	memset(b, 0, sizeof *b);
	b->kind = kind;
	return b;
}

struct gp_llm_block *
gp_llm_block_last(struct gp_llm_call *c, struct gp_llm_msg *m,
    enum gp_llm_kind kind)
{
	if (m->n > 0 && m->b[m->n - 1].kind == kind)
		return &m->b[m->n - 1];
	return gp_llm_block_add(c, m, kind);
}

void
gp_llm_text_cat(struct gp_llm_call *c, struct gp_llm_block *b,
    const char *s, size_t n)
{
	char	*t;

	if (n == 0 && b->text != NULL)
		return;
	if (b->text != NULL && b->cap == 0) {
		/* set, not grown (maybe a literal): copied before writing */
		b->len = strlen(b->text);
		b->cap = b->len;
	}
	if (b->len + n + 1 > b->cap) {	/* doubling: deltas stay linear */
		size_t cap = b->cap < 64 ? 64 : b->cap;

		while (cap < b->len + n + 1)
			cap *= 2;
		t = gp_arena_alloc(&c->a, cap);
		if (b->len > 0)
			memcpy(t, b->text, b->len);
		b->text = t;
		b->cap = cap;
	}
	t = (char *)(uintptr_t)b->text;
	memcpy(t + b->len, s, n);
	b->len += n;
	t[b->len] = '\0';
}

void
gp_llm_tool_add(struct gp_llm_call *c, const char *name)
{
	if (name == NULL)
		return;
	c->tools = grow(c, c->tools, c->ntools, &c->captools,
	    sizeof *c->tools);
	c->tools[c->ntools++] = gp_llm_strdup(c, name);
}

void
gp_llm_fail(struct gp_llm_call *c, const char *why)
{
	if (c->why == NULL)
		c->why = gp_llm_strdup(c, why);
}

/* --- shared by the dissectors (dissect-int.h) --- */

const char *
gp_j_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int64_t
gp_j_int(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	/* hostile numbers: outside int64_t they would be undefined */
	if (!cJSON_IsNumber(v) || v->valuedouble != v->valuedouble)
		return 0;
	if (v->valuedouble >= 9.2e18)
		return INT64_MAX;
	if (v->valuedouble <= -9.2e18)
		return INT64_MIN;
	return (int64_t)v->valuedouble;
}

int64_t
gp_j_count(const cJSON *o, const char *key)
{
	int64_t v = gp_j_int(o, key);

	return v < 0 ? 0 : v > GP_J_COUNT_MAX ? GP_J_COUNT_MAX : v;
}

const char *
gp_j_text(struct gp_llm_call *c, const cJSON *v)
{
	const char	*t;
	char		*s;

	if (v == NULL)
		return NULL;
	if (cJSON_IsString(v))
		return gp_llm_strdup(c, v->valuestring);
	if ((s = cJSON_PrintUnformatted(v)) == NULL)
		return NULL;
	t = gp_llm_strdup(c, s);
	cJSON_free(s);
	return t;
}

cJSON *
gp_j_parse(struct gp_llm_call *c, const char *p, size_t n, const char *what)
{
	cJSON	*j;
	char	 why[96];

	if (p == NULL || n == 0) {
		snprintf(why, sizeof why, "no %s body", what);
		gp_llm_fail(c, why);
		return NULL;
	}
	if ((j = cJSON_ParseWithLength(p, n)) == NULL) {
		snprintf(why, sizeof why, "%s body is not JSON", what);
		gp_llm_fail(c, why);
	}
	return j;
}

void
gp_j_error(struct gp_llm_call *c, const cJSON *err)
{
	const char	*type, *msg;
	char		*s;

	if (cJSON_IsString(err)) {
		c->error = gp_llm_strdup(c, err->valuestring);
		return;
	}
	if (!cJSON_IsObject(err))
		return;
	type = gp_j_str(err, "type");
	if (type == NULL)
		type = gp_j_str(err, "status");	/* Gemini */
	if (type == NULL)
		type = gp_j_str(err, "code");
	msg = gp_j_str(err, "message");
	gp_xasprintf(&s, "%s%s%s", type != NULL ? type : "",
	    type != NULL && msg != NULL ? ": " : "", msg != NULL ? msg : "");
	c->error = gp_llm_strdup(c, s);
	free(s);
}

int
gp_j_streamed(const struct gp_llm_input *in)
{
	if (in->resp_type != NULL &&
	    strstr(in->resp_type, "text/event-stream") != NULL)
		return 1;
	return in->resp != NULL && gp_sse_looks(in->resp, in->resp_len);
}

int
gp_j_reply(struct gp_llm_call *c, const struct gp_llm_input *in,
    gp_j_event_fn fn, void *arg)
{
	struct gp_buf		 scratch = { 0 };
	struct gp_sse_event	 ev;
	const char		*p, *end;
	cJSON			*j;
	int			 partial, n = 0;

	if (in->resp == NULL || in->resp_len == 0)
		return 0;
	if (!gp_j_streamed(in)) {
		if ((j = cJSON_ParseWithLength(in->resp, in->resp_len)) ==
		    NULL) {
			gp_llm_fail(c, in->resp_truncated ?
			    "reply cut short (capture limit)" :
			    "reply is not JSON");
			if (in->resp_truncated)
				c->reply_truncated = 1;
			return 0;
		}
		fn(c, NULL, j, arg);
		cJSON_Delete(j);
		return 1;
	}
	c->stream = 1;
	p = in->resp;
	end = in->resp + in->resp_len;
	while (gp_sse_next(&p, end, &scratch, &ev, &partial)) {
		if (ev.len == 6 && memcmp(ev.data, "[DONE]", 6) == 0)
			continue;
		if ((j = cJSON_ParseWithLength(ev.data, ev.len)) == NULL) {
			gp_llm_fail(c, "an event's data is not JSON");
			continue;
		}
		fn(c, ev.event[0] != '\0' ? ev.event : NULL, j, arg);
		cJSON_Delete(j);
		n++;
	}
	if (partial || in->resp_truncated)
		c->reply_truncated = 1;
	gp_buf_free(&scratch);
	return n;
}
