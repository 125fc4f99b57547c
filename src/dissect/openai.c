/*
 * openai.c: OpenAI's two APIs.
 *
 * Responses (POST /v1/responses, and the same request as WebSocket
 * "response.create" frames): instructions and developer/system items
 * make the system prompt; input is a string or items (messages,
 * function_call, function_call_output, custom tool calls, reasoning);
 * previous_response_id chains a request to an earlier reply; generate:
 * false is a warm-up.  The reply is a response object (JSON, the
 * response.completed event, or a WS_RESP frame), rebuilt from the
 * streamed items when the stream was cut short.
 *
 * Chat Completions (POST .../chat/completions, any host a rule names):
 * messages by role (system and developer make the system prompt), tool
 * calls and tool messages; the reply as JSON or as chunks whose tool
 * calls arrive by index.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dissect/dissect-int.h"

static void
system_add(struct gp_llm_call *c, const char *t)
{
	struct gp_llm_block sys = { 0 };

	if (t == NULL || *t == '\0')
		return;
	sys.text = c->system;
	if (sys.text != NULL)
		gp_llm_text_cat(c, &sys, "\n\n", 2);
	gp_llm_text_cat(c, &sys, t, strlen(t));
	c->system = sys.text;
}

/* Text of a content value: a string, or parts with text. */
static void
parts(struct gp_llm_call *c, struct gp_llm_msg *m, const cJSON *v)
{
	struct gp_llm_block	*k;
	const cJSON		*p;

	if (cJSON_IsString(v)) {
		k = gp_llm_block_add(c, m, GP_LLM_TEXT);
		k->text = gp_llm_strdup(c, v->valuestring);
		return;
	}
	cJSON_ArrayForEach(p, v) {
		const char *type = gp_j_str(p, "type"), *t;

		if ((t = gp_j_str(p, "text")) != NULL ||
		    (t = gp_j_str(p, "refusal")) != NULL) {
			k = gp_llm_block_add(c, m, GP_LLM_TEXT);
			k->text = gp_llm_strdup(c, t);
		} else if (type != NULL && strstr(type, "image") != NULL) {
			k = gp_llm_block_add(c, m, GP_LLM_TEXT);
			k->text = "[image]";
		} else if (type != NULL && strstr(type, "file") != NULL) {
			k = gp_llm_block_add(c, m, GP_LLM_TEXT);
			k->text = "[file]";
		}
	}
}

/* The message to add a block of role to: the last one if it is that
 * role (tool calls join the assistant's turn), else a new one. */
static struct gp_llm_msg *
msg_for(struct gp_llm_call *c, const char *role, int join)
{
	if (join && c->nmsgs > 0 &&
	    strcmp(c->msgs[c->nmsgs - 1].role, role) == 0)
		return &c->msgs[c->nmsgs - 1];
	return gp_llm_msg_add(c, role);
}

/* One output or input item into m (a reply), or into the history. */
static void
item(struct gp_llm_call *c, const cJSON *it, struct gp_llm_msg *m)
{
	const char		*type = gp_j_str(it, "type");
	const char		*role = gp_j_str(it, "role");
	struct gp_llm_block	*k;
	const cJSON		*s;

	if (type == NULL)
		type = role != NULL ? "message" : "";
	if (strcmp(type, "message") == 0) {
		if (role != NULL && (strcmp(role, "developer") == 0 ||
		    strcmp(role, "system") == 0)) {
			struct gp_llm_msg tmp = { 0 };
			size_t i;

			parts(c, &tmp, cJSON_GetObjectItemCaseSensitive(it,
			    "content"));
			for (i = 0; i < tmp.n; i++)
				system_add(c, tmp.b[i].text);
			return;
		}
		if (m == NULL)
			m = msg_for(c, role != NULL ? role : "user", 0);
		parts(c, m, cJSON_GetObjectItemCaseSensitive(it, "content"));
	} else if (strcmp(type, "function_call") == 0 ||
	    strcmp(type, "custom_tool_call") == 0 ||
	    strcmp(type, "local_shell_call") == 0) {
		if (m == NULL)
			m = msg_for(c, "assistant", 1);
		k = gp_llm_block_add(c, m, GP_LLM_TOOL_USE);
		k->name = gp_llm_strdup(c, gp_j_str(it, "name"));
		if (k->name == NULL)
			k->name = "local_shell";
		k->id = gp_llm_strdup(c, gp_j_str(it, "call_id"));
		if ((s = cJSON_GetObjectItemCaseSensitive(it, "arguments")) ==
		    NULL && (s = cJSON_GetObjectItemCaseSensitive(it,
		    "input")) == NULL)
			s = cJSON_GetObjectItemCaseSensitive(it, "action");
		k->text = gp_j_text(c, s);
	} else if (strstr(type, "_call_output") != NULL) {
		if (m == NULL)
			m = msg_for(c, "tool", 1);
		k = gp_llm_block_add(c, m, GP_LLM_TOOL_RESULT);
		k->id = gp_llm_strdup(c, gp_j_str(it, "call_id"));
		s = cJSON_GetObjectItemCaseSensitive(it, "output");
		if (cJSON_IsArray(s)) {
			struct gp_llm_msg tmp = { 0 };
			size_t i;

			parts(c, &tmp, s);
			for (i = 0; i < tmp.n; i++)
				gp_llm_text_cat(c, k, tmp.b[i].text,
				    strlen(tmp.b[i].text));
		} else
			k->text = gp_j_text(c, s);
	} else if (strcmp(type, "reasoning") == 0) {
		if (m == NULL)
			m = msg_for(c, "assistant", 1);
		k = NULL;
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(it,
		    "summary")) {
			const char *t = gp_j_str(s, "text");

			if (t == NULL)
				continue;
			if (k == NULL)
				k = gp_llm_block_add(c, m, GP_LLM_THINKING);
			else
				gp_llm_text_cat(c, k, "\n", 1);
			gp_llm_text_cat(c, k, t, strlen(t));
		}
	}
}

static void
responses_usage(struct gp_llm_call *c, const cJSON *u)
{
	const cJSON *d;

	if (!cJSON_IsObject(u))
		return;
	c->usage.input = gp_j_count(u, "input_tokens");
	c->usage.output = gp_j_count(u, "output_tokens");
	d = cJSON_GetObjectItemCaseSensitive(u, "input_tokens_details");
	c->usage.cache_read = gp_j_count(d, "cached_tokens");
	/* cached tokens are part of input_tokens: keep input uncached */
	if (c->usage.input >= c->usage.cache_read)
		c->usage.input -= c->usage.cache_read;
}

/* A response object: the whole reply. */
static void
response(struct gp_llm_call *c, const cJSON *r)
{
	const cJSON	*out, *it, *v;
	const char	*status;

	if (!cJSON_IsObject(r))
		return;
	c->has_reply = 1;
	if (gp_j_str(r, "id") != NULL)
		c->response_id = gp_llm_strdup(c, gp_j_str(r, "id"));
	if (c->model == NULL)
		c->model = gp_llm_strdup(c, gp_j_str(r, "model"));
	out = cJSON_GetObjectItemCaseSensitive(r, "output");
	if (cJSON_GetArraySize(out) > 0) {
		c->reply.n = 0;
		cJSON_ArrayForEach(it, out)
			item(c, it, &c->reply);
	}
	if ((status = gp_j_str(r, "status")) != NULL)
		c->stop_reason = gp_llm_strdup(c, status);
	v = cJSON_GetObjectItemCaseSensitive(r, "incomplete_details");
	if (gp_j_str(v, "reason") != NULL)
		c->stop_reason = gp_llm_strdup(c, gp_j_str(v, "reason"));
	v = cJSON_GetObjectItemCaseSensitive(r, "error");
	if (cJSON_IsObject(v))
		gp_j_error(c, v);
	responses_usage(c, cJSON_GetObjectItemCaseSensitive(r, "usage"));
}

struct st {
	int	map[256];	/* output_index -> reply block, or -1 */
};

static struct gp_llm_block *
at(struct gp_llm_call *c, struct st *s, const cJSON *ev)
{
	int64_t i = gp_j_int(ev, "output_index");

	if (i < 0 || i >= (int64_t)GP_ARRAY_LEN(s->map) || s->map[i] < 0 ||
	    (size_t)s->map[i] >= c->reply.n)
		return NULL;
	return &c->reply.b[s->map[i]];
}

/* One event of a Responses stream (SSE, or a WS_RESP frame). */
static void
responses_event(struct gp_llm_call *c, const char *event, const cJSON *j,
    void *arg)
{
	struct st		*s = arg;
	const char		*type = gp_j_str(j, "type"), *t;
	struct gp_llm_block	*k;
	const cJSON		*it;

	(void)event;
	if (type == NULL)
		return;
	if (strcmp(type, "response") == 0) {		/* JSON reply */
		response(c, j);
	} else if (strcmp(type, "response.created") == 0) {
		it = cJSON_GetObjectItemCaseSensitive(j, "response");
		c->response_id = gp_llm_strdup(c, gp_j_str(it, "id"));
		if (c->model == NULL)
			c->model = gp_llm_strdup(c, gp_j_str(it, "model"));
	} else if (strcmp(type, "response.completed") == 0 ||
	    strcmp(type, "response.done") == 0 ||
	    strcmp(type, "response.incomplete") == 0 ||
	    strcmp(type, "response.failed") == 0) {
		response(c, cJSON_GetObjectItemCaseSensitive(j, "response"));
		c->reply_truncated = 0;
		if (s != NULL)
			memset(s->map, 0xff, sizeof s->map);
	} else if (strcmp(type, "error") == 0) {
		it = cJSON_GetObjectItemCaseSensitive(j, "error");
		gp_j_error(c, it != NULL ? it : j);
		c->has_reply = 1;
	} else if (s != NULL && strcmp(type, "response.output_item.added") ==
	    0) {
		int64_t i = gp_j_int(j, "output_index");
		size_t	before = c->reply.n;

		c->has_reply = 1;
		c->reply_truncated = 1;	/* until completed */
		item(c, cJSON_GetObjectItemCaseSensitive(j, "item"),
		    &c->reply);
		if (c->reply.n == before) {	/* content to come */
			t = gp_j_str(cJSON_GetObjectItemCaseSensitive(j,
			    "item"), "type");
			k = gp_llm_block_add(c, &c->reply, t != NULL &&
			    strcmp(t, "reasoning") == 0 ? GP_LLM_THINKING :
			    GP_LLM_TEXT);
			k->text = "";
		}
		if (c->reply.b[before].kind == GP_LLM_TOOL_USE)
			c->reply.b[before].text = NULL;
		if (i >= 0 && i < (int64_t)GP_ARRAY_LEN(s->map))
			s->map[i] = (int)before;
	} else if (s != NULL && (strcmp(type, "response.output_text.delta") ==
	    0 || strcmp(type, "response.function_call_arguments.delta") == 0 ||
	    strcmp(type, "response.reasoning_summary_text.delta") == 0 ||
	    strcmp(type, "response.custom_tool_call_input.delta") == 0)) {
		if ((k = at(c, s, j)) != NULL &&
		    (t = gp_j_str(j, "delta")) != NULL)
			gp_llm_text_cat(c, k, t, strlen(t));
	}
}

/* The request (HTTP body or response.create frame). */
static void
responses_request(struct gp_llm_call *c, const cJSON *j)
{
	const cJSON	*v, *it, *meta;
	const char	*t;

	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "response")))
		j = cJSON_GetObjectItemCaseSensitive(j, "response");
	c->model = gp_llm_strdup(c, gp_j_str(j, "model"));
	c->stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j,
	    "stream"));
	system_add(c, gp_j_str(j, "instructions"));
	v = cJSON_GetObjectItemCaseSensitive(j, "input");
	if (cJSON_IsString(v)) {
		struct gp_llm_block *k = gp_llm_block_add(c,
		    gp_llm_msg_add(c, "user"), GP_LLM_TEXT);

		k->text = gp_llm_strdup(c, v->valuestring);
	} else if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(it, v)
			item(c, it, NULL);
	} else if (v != NULL)
		gp_llm_fail(c, "input is neither a string nor items");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "tools")) {
		t = gp_j_str(it, "name");
		gp_llm_tool_add(c, t != NULL ? t : gp_j_str(it, "type"));
	}
	c->session_id = gp_llm_strdup(c, gp_j_str(j, "prompt_cache_key"));
	c->prev_response_id = gp_llm_strdup(c, gp_j_str(j,
	    "previous_response_id"));
	v = cJSON_GetObjectItemCaseSensitive(j, "generate");
	c->warmup = cJSON_IsFalse(v);
	meta = cJSON_GetObjectItemCaseSensitive(j, "client_metadata");
	if (cJSON_GetObjectItemCaseSensitive(meta, "x-codex-turn-metadata") !=
	    NULL)
		c->hint = "codex";
}

void
gp_dissect_openai(const struct gp_llm_input *in, struct gp_llm_call *c)
{
	cJSON		*j;
	struct st	 s;

	c->dissector = "openai";
	c->provider = "openai";
	c->status = in->status;
	if ((j = gp_j_parse(c, in->req, in->req_len, "request")) != NULL) {
		responses_request(c, j);
		cJSON_Delete(j);
	}
	memset(s.map, 0xff, sizeof s.map);
	if (gp_j_streamed(in))
		gp_j_reply(c, in, responses_event, &s);
	else if (in->resp != NULL && in->resp_len > 0) {
		if ((j = cJSON_ParseWithLength(in->resp, in->resp_len)) ==
		    NULL) {
			gp_llm_fail(c, "reply is not JSON");
			c->reply_truncated = in->resp_truncated;
			return;
		}
		if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j,
		    "error")) && gp_j_str(j, "object") == NULL) {
			gp_j_error(c, cJSON_GetObjectItemCaseSensitive(j,
			    "error"));
			c->has_reply = 1;
		} else
			response(c, j);
		cJSON_Delete(j);
	}
}

/*
 * A WebSocket message of /v1/responses: WS_REQ holds a request frame
 * (response.create), WS_RESP one server event; only the final ones
 * (completed, failed, error) make a reply.  Short or other frames are
 * nothing to read (no why: they are not failures).
 */
void
gp_dissect_openai_ws(const struct gp_llm_input *in, struct gp_llm_call *c)
{
	cJSON		*j;
	const char	*type;

	c->dissector = "openai-ws";
	c->provider = "openai";
	c->ws = 1;
	c->status = 0;
	if (in->req_len < 10 ||
	    (j = cJSON_ParseWithLength(in->req, in->req_len)) == NULL)
		return;
	type = gp_j_str(j, "type");
	if (strcmp(in->method, "WS_REQ") == 0) {
		if (type != NULL && strcmp(type, "response.create") == 0)
			responses_request(c, j);
		else
			c->why = "not a response.create frame";
	} else {
		c->ws_reply_only = 1;
		responses_event(c, NULL, j, NULL);
	}
	cJSON_Delete(j);
}

/* --- Chat Completions --- */

static void
chat_message(struct gp_llm_call *c, struct gp_llm_msg *m, const cJSON *o)
{
	struct gp_llm_block	*k;
	const cJSON		*tc;
	const char		*t;

	if ((t = gp_j_str(o, "reasoning_content")) != NULL ||
	    (t = gp_j_str(o, "reasoning")) != NULL) {
		k = gp_llm_block_add(c, m, GP_LLM_THINKING);
		k->text = gp_llm_strdup(c, t);
	}
	parts(c, m, cJSON_GetObjectItemCaseSensitive(o, "content"));
	cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(o,
	    "tool_calls")) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(tc,
		    "function");

		k = gp_llm_block_add(c, m, GP_LLM_TOOL_USE);
		k->id = gp_llm_strdup(c, gp_j_str(tc, "id"));
		k->name = gp_llm_strdup(c, gp_j_str(f, "name"));
		k->text = gp_j_text(c, cJSON_GetObjectItemCaseSensitive(f,
		    "arguments"));
	}
}

static void
chat_usage(struct gp_llm_call *c, const cJSON *u)
{
	const cJSON *d;

	if (!cJSON_IsObject(u))
		return;
	c->usage.input = gp_j_count(u, "prompt_tokens");
	c->usage.output = gp_j_count(u, "completion_tokens");
	d = cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens_details");
	c->usage.cache_read = gp_j_count(d, "cached_tokens");
	if (c->usage.input >= c->usage.cache_read)
		c->usage.input -= c->usage.cache_read;
}

struct chat_st {
	int	tool[64];	/* tool call index -> reply block, or -1 */
	int	text, think;	/* reply blocks, or -1 */
};

static void
chat_event(struct gp_llm_call *c, const char *event, const cJSON *j,
    void *arg)
{
	struct chat_st		*s = arg;
	const cJSON		*ch, *d, *tc, *err;
	struct gp_llm_block	*k;
	const char		*t;

	(void)event;
	c->has_reply = 1;
	if ((err = cJSON_GetObjectItemCaseSensitive(j, "error")) != NULL) {
		gp_j_error(c, err);
		return;
	}
	if (c->response_id == NULL)
		c->response_id = gp_llm_strdup(c, gp_j_str(j, "id"));
	if (c->model == NULL)
		c->model = gp_llm_strdup(c, gp_j_str(j, "model"));
	chat_usage(c, cJSON_GetObjectItemCaseSensitive(j, "usage"));
	ch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j,
	    "choices"), 0);
	if (ch == NULL)
		return;
	if ((t = gp_j_str(ch, "finish_reason")) != NULL)
		c->stop_reason = gp_llm_strdup(c, t);
	if ((d = cJSON_GetObjectItemCaseSensitive(ch, "message")) != NULL) {
		chat_message(c, &c->reply, d);	/* the JSON reply */
		return;
	}
	d = cJSON_GetObjectItemCaseSensitive(ch, "delta");
	if ((t = gp_j_str(d, "reasoning_content")) != NULL ||
	    (t = gp_j_str(d, "reasoning")) != NULL) {
		if (s->think < 0) {
			k = gp_llm_block_add(c, &c->reply, GP_LLM_THINKING);
			s->think = (int)(k - c->reply.b);
		}
		gp_llm_text_cat(c, &c->reply.b[s->think], t, strlen(t));
	}
	if ((t = gp_j_str(d, "content")) != NULL) {
		if (s->text < 0) {
			k = gp_llm_block_add(c, &c->reply, GP_LLM_TEXT);
			s->text = (int)(k - c->reply.b);
		}
		gp_llm_text_cat(c, &c->reply.b[s->text], t, strlen(t));
	}
	cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(d,
	    "tool_calls")) {
		int64_t		 i = gp_j_int(tc, "index");
		const cJSON	*f = cJSON_GetObjectItemCaseSensitive(tc,
		    "function");

		if (i < 0 || i >= (int64_t)GP_ARRAY_LEN(s->tool))
			continue;
		if (s->tool[i] < 0) {
			k = gp_llm_block_add(c, &c->reply, GP_LLM_TOOL_USE);
			s->tool[i] = (int)(k - c->reply.b);
		}
		k = &c->reply.b[s->tool[i]];
		if (gp_j_str(tc, "id") != NULL)
			k->id = gp_llm_strdup(c, gp_j_str(tc, "id"));
		if (gp_j_str(f, "name") != NULL)
			k->name = gp_llm_strdup(c, gp_j_str(f, "name"));
		if ((t = gp_j_str(f, "arguments")) != NULL)
			gp_llm_text_cat(c, k, t, strlen(t));
	}
}

void
gp_dissect_chat(const struct gp_llm_input *in, struct gp_llm_call *c)
{
	cJSON		*j;
	const cJSON	*m, *v;
	struct chat_st	 s;
	size_t		 i;

	c->dissector = "openai-chat";
	c->provider = in->host != NULL && strcmp(in->host, "openrouter.ai") ==
	    0 ? "openrouter" : "openai";
	c->status = in->status;
	if ((j = gp_j_parse(c, in->req, in->req_len, "request")) != NULL) {
		c->model = gp_llm_strdup(c, gp_j_str(j, "model"));
		c->stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j,
		    "stream"));
		v = cJSON_GetObjectItemCaseSensitive(j, "messages");
		if (!cJSON_IsArray(v))
			gp_llm_fail(c, "request has no messages array");
		cJSON_ArrayForEach(m, v) {
			const char *role = gp_j_str(m, "role");

			if (role == NULL)
				role = "user";
			if (strcmp(role, "system") == 0 ||
			    strcmp(role, "developer") == 0) {
				struct gp_llm_msg tmp = { 0 };

				parts(c, &tmp, cJSON_GetObjectItemCaseSensitive(
				    m, "content"));
				for (i = 0; i < tmp.n; i++)
					system_add(c, tmp.b[i].text);
			} else if (strcmp(role, "tool") == 0 ||
			    strcmp(role, "function") == 0) {
				struct gp_llm_block *k = gp_llm_block_add(c,
				    msg_for(c, "tool", 1), GP_LLM_TOOL_RESULT);
				struct gp_llm_msg tmp = { 0 };

				k->id = gp_llm_strdup(c, gp_j_str(m,
				    "tool_call_id"));
				parts(c, &tmp, cJSON_GetObjectItemCaseSensitive(
				    m, "content"));
				for (i = 0; i < tmp.n; i++)
					gp_llm_text_cat(c, k, tmp.b[i].text,
					    strlen(tmp.b[i].text));
			} else
				chat_message(c, gp_llm_msg_add(c, role), m);
		}
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j,
		    "tools")) {
			const cJSON *f = cJSON_GetObjectItemCaseSensitive(m,
			    "function");

			gp_llm_tool_add(c, gp_j_str(f, "name"));
		}
		c->session_id = gp_llm_strdup(c, gp_j_str(j,
		    "prompt_cache_key"));
		cJSON_Delete(j);
	}
	memset(s.tool, 0xff, sizeof s.tool);
	s.text = s.think = -1;
	gp_j_reply(c, in, chat_event, &s);
}
