/*
 * anthropic.c: the Messages API (POST /v1/messages).  The request's
 * system (a string or text blocks), messages (string or blocks: text,
 * thinking, tool_use, tool_result, images named), tools and
 * metadata.user_id; the reply as JSON (a message or an error) or as
 * events (message_start, content_block_start/_delta/_stop, message_delta,
 * error), with usage, stop reason and the error object.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dissect/dissect-int.h"

/* A block of content (request or reply) into m; NULL if not one. */
static struct gp_llm_block *
block(struct gp_llm_call *c, struct gp_llm_msg *m, const cJSON *b)
{
	const char		*type = gp_j_str(b, "type");
	struct gp_llm_block	*k;
	const cJSON		*v;

	if (cJSON_IsString(b)) {
		k = gp_llm_block_add(c, m, GP_LLM_TEXT);
		k->text = gp_llm_strdup(c, b->valuestring);
		return k;
	}
	if (type == NULL)
		return NULL;
	if (strcmp(type, "text") == 0) {
		k = gp_llm_block_add(c, m, GP_LLM_TEXT);
		k->text = gp_llm_strdup(c, gp_j_str(b, "text"));
	} else if (strcmp(type, "thinking") == 0 ||
	    strcmp(type, "redacted_thinking") == 0) {
		k = gp_llm_block_add(c, m, GP_LLM_THINKING);
		k->text = gp_llm_strdup(c, gp_j_str(b, "thinking"));
	} else if (strcmp(type, "tool_use") == 0 ||
	    strcmp(type, "server_tool_use") == 0) {
		k = gp_llm_block_add(c, m, GP_LLM_TOOL_USE);
		k->name = gp_llm_strdup(c, gp_j_str(b, "name"));
		k->id = gp_llm_strdup(c, gp_j_str(b, "id"));
		v = cJSON_GetObjectItemCaseSensitive(b, "input");
		k->text = gp_j_text(c, v);
	} else if (strcmp(type, "tool_result") == 0 ||
	    strstr(type, "_tool_result") != NULL) {
		k = gp_llm_block_add(c, m, GP_LLM_TOOL_RESULT);
		k->id = gp_llm_strdup(c, gp_j_str(b, "tool_use_id"));
		k->is_error = cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(b, "is_error"));
		v = cJSON_GetObjectItemCaseSensitive(b, "content");
		if (cJSON_IsArray(v)) {		/* text parts joined */
			const cJSON *e;

			cJSON_ArrayForEach(e, v) {
				const char *t = gp_j_str(e, "text");

				if (t == NULL)
					continue;
				if (k->text != NULL)
					gp_llm_text_cat(c, k, "\n", 1);
				gp_llm_text_cat(c, k, t, strlen(t));
			}
		} else
			k->text = gp_j_text(c, v);
	} else if (strcmp(type, "image") == 0 ||
	    strcmp(type, "document") == 0) {
		k = gp_llm_block_add(c, m, GP_LLM_TEXT);
		k->text = strcmp(type, "image") == 0 ? "[image]" :
		    "[document]";
	} else
		return NULL;
	return k;
}

static void
content(struct gp_llm_call *c, struct gp_llm_msg *m, const cJSON *v)
{
	const cJSON *b;

	if (cJSON_IsString(v)) {
		block(c, m, v);
		return;
	}
	cJSON_ArrayForEach(b, v)
		block(c, m, b);
}

static void
usage(struct gp_llm_call *c, const cJSON *u)
{
	int64_t v;

	if (!cJSON_IsObject(u))
		return;
	/* message_start carries input, message_delta the final output */
	if ((v = gp_j_count(u, "input_tokens")) > 0)
		c->usage.input = v;
	if ((v = gp_j_count(u, "output_tokens")) > 0)
		c->usage.output = v;
	if ((v = gp_j_count(u, "cache_read_input_tokens")) > 0)
		c->usage.cache_read = v;
	if ((v = gp_j_count(u, "cache_creation_input_tokens")) > 0)
		c->usage.cache_write = v;
}

/* Stream state: the reply block for each content index. */
struct st {
	int	map[256];	/* index -> position in reply.b, or -1 */
};

static struct gp_llm_block *
at(struct gp_llm_call *c, struct st *s, const cJSON *ev)
{
	int64_t i = gp_j_int(ev, "index");

	if (i < 0 || i >= (int64_t)GP_ARRAY_LEN(s->map) || s->map[i] < 0)
		return NULL;
	return &c->reply.b[s->map[i]];
}

static void
on_reply(struct gp_llm_call *c, const char *event, const cJSON *j, void *arg)
{
	struct st		*s = arg;
	const char		*type = gp_j_str(j, "type");
	const cJSON		*v, *d;
	struct gp_llm_block	*k;
	const char		*t;

	(void)event;
	if (type == NULL)
		return;
	c->has_reply = 1;
	if (strcmp(type, "message") == 0) {	/* the JSON reply */
		if (gp_j_str(j, "model") != NULL && c->model == NULL)
			c->model = gp_llm_strdup(c, gp_j_str(j, "model"));
		c->response_id = gp_llm_strdup(c, gp_j_str(j, "id"));
		content(c, &c->reply, cJSON_GetObjectItemCaseSensitive(j,
		    "content"));
		c->stop_reason = gp_llm_strdup(c, gp_j_str(j, "stop_reason"));
		usage(c, cJSON_GetObjectItemCaseSensitive(j, "usage"));
	} else if (strcmp(type, "error") == 0) {
		gp_j_error(c, cJSON_GetObjectItemCaseSensitive(j, "error"));
	} else if (strcmp(type, "message_start") == 0) {
		v = cJSON_GetObjectItemCaseSensitive(j, "message");
		c->response_id = gp_llm_strdup(c, gp_j_str(v, "id"));
		if (c->model == NULL)
			c->model = gp_llm_strdup(c, gp_j_str(v, "model"));
		usage(c, cJSON_GetObjectItemCaseSensitive(v, "usage"));
	} else if (strcmp(type, "content_block_start") == 0) {
		int64_t i = gp_j_int(j, "index");

		v = cJSON_GetObjectItemCaseSensitive(j, "content_block");
		if (i < 0 || i >= (int64_t)GP_ARRAY_LEN(s->map))
			return;
		if ((k = block(c, &c->reply, v)) == NULL)
			return;
		s->map[i] = (int)(k - c->reply.b);
		if (k->kind == GP_LLM_TOOL_USE)	/* input comes as deltas */
			k->text = NULL;
	} else if (strcmp(type, "content_block_delta") == 0) {
		d = cJSON_GetObjectItemCaseSensitive(j, "delta");
		if ((k = at(c, s, j)) == NULL)
			return;
		if ((t = gp_j_str(d, "text")) == NULL &&
		    (t = gp_j_str(d, "thinking")) == NULL &&
		    (t = gp_j_str(d, "partial_json")) == NULL)
			return;
		gp_llm_text_cat(c, k, t, strlen(t));
	} else if (strcmp(type, "message_delta") == 0) {
		d = cJSON_GetObjectItemCaseSensitive(j, "delta");
		if ((t = gp_j_str(d, "stop_reason")) != NULL)
			c->stop_reason = gp_llm_strdup(c, t);
		usage(c, cJSON_GetObjectItemCaseSensitive(j, "usage"));
	}
}

/* Claude Code's metadata.user_id: legacy "..._session_<uuid>", a JSON
 * string or object with session_id. */
static void
session(struct gp_llm_call *c, const cJSON *meta)
{
	const cJSON	*u = cJSON_GetObjectItemCaseSensitive(meta, "user_id");
	const char	*s, *p;
	cJSON		*in;

	if (cJSON_IsObject(u)) {
		c->session_id = gp_llm_strdup(c, gp_j_str(u, "session_id"));
		return;
	}
	if (!cJSON_IsString(u))
		return;
	s = u->valuestring;
	if (*s == '{' && (in = cJSON_Parse(s)) != NULL) {
		c->session_id = gp_llm_strdup(c, gp_j_str(in, "session_id"));
		cJSON_Delete(in);
		return;
	}
	if ((p = strstr(s, "_session_")) != NULL && strlen(p + 9) >= 36)
		c->session_id = gp_llm_strndup(c, p + 9, 36);
}

void
gp_dissect_anthropic(const struct gp_llm_input *in, struct gp_llm_call *c)
{
	cJSON		*j;
	const cJSON	*v, *m;
	struct st	 s;

	c->dissector = "anthropic";
	c->provider = "anthropic";
	c->status = in->status;
	if ((j = gp_j_parse(c, in->req, in->req_len, "request")) != NULL) {
		c->model = gp_llm_strdup(c, gp_j_str(j, "model"));
		c->stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j,
		    "stream"));
		v = cJSON_GetObjectItemCaseSensitive(j, "system");
		if (cJSON_IsString(v))
			c->system = gp_llm_strdup(c, v->valuestring);
		else if (cJSON_IsArray(v)) {
			struct gp_llm_block sys = { 0 };

			cJSON_ArrayForEach(m, v) {
				const char *t = gp_j_str(m, "text");

				if (t == NULL)
					continue;
				if (sys.text != NULL)
					gp_llm_text_cat(c, &sys, "\n\n", 2);
				gp_llm_text_cat(c, &sys, t, strlen(t));
			}
			c->system = sys.text;
		}
		v = cJSON_GetObjectItemCaseSensitive(j, "messages");
		if (!cJSON_IsArray(v))
			gp_llm_fail(c, "request has no messages array");
		cJSON_ArrayForEach(m, v) {
			const char *role = gp_j_str(m, "role");

			content(c, gp_llm_msg_add(c, role != NULL ? role :
			    "user"), cJSON_GetObjectItemCaseSensitive(m,
			    "content"));
		}
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j,
		    "tools"))
			gp_llm_tool_add(c, gp_j_str(m, "name"));
		session(c, cJSON_GetObjectItemCaseSensitive(j, "metadata"));
		cJSON_Delete(j);
	}
	memset(s.map, 0xff, sizeof s.map);
	gp_j_reply(c, in, on_reply, &s);
}
