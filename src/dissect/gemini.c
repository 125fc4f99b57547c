/*
 * gemini.c: Google's Gemini API (POST .../models/<model>:generateContent
 * and :streamGenerateContent, as SSE with alt=sse or as one JSON array
 * without).  contents by role (model is the assistant), parts with
 * text, thoughts, functionCall and functionResponse;
 * systemInstruction; function declarations; the reply's candidates,
 * finish reason and usageMetadata, or the error object.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dissect/dissect-int.h"

/* Parts into m; text parts of a stream append to the last one of
 * their kind. */
static void
parts(struct gp_llm_call *c, struct gp_llm_msg *m, const cJSON *ps,
    int stream)
{
	struct gp_llm_block	*k;
	const cJSON		*p, *f;
	const char		*t;

	cJSON_ArrayForEach(p, ps) {
		if ((t = gp_j_str(p, "text")) != NULL) {
			enum gp_llm_kind kind = cJSON_IsTrue(
			    cJSON_GetObjectItemCaseSensitive(p, "thought")) ?
			    GP_LLM_THINKING : GP_LLM_TEXT;

			k = stream ? gp_llm_block_last(c, m, kind) :
			    gp_llm_block_add(c, m, kind);
			gp_llm_text_cat(c, k, t, strlen(t));
		} else if ((f = cJSON_GetObjectItemCaseSensitive(p,
		    "functionCall")) != NULL) {
			k = gp_llm_block_add(c, m, GP_LLM_TOOL_USE);
			k->name = gp_llm_strdup(c, gp_j_str(f, "name"));
			k->id = gp_llm_strdup(c, gp_j_str(f, "id"));
			k->text = gp_j_text(c,
			    cJSON_GetObjectItemCaseSensitive(f, "args"));
		} else if ((f = cJSON_GetObjectItemCaseSensitive(p,
		    "functionResponse")) != NULL) {
			const cJSON *r = cJSON_GetObjectItemCaseSensitive(f,
			    "response");

			k = gp_llm_block_add(c, m, GP_LLM_TOOL_RESULT);
			k->name = gp_llm_strdup(c, gp_j_str(f, "name"));
			k->id = gp_llm_strdup(c, gp_j_str(f, "id"));
			k->is_error = cJSON_GetObjectItemCaseSensitive(r,
			    "error") != NULL;
			if (gp_j_str(r, "output") != NULL)
				k->text = gp_llm_strdup(c, gp_j_str(r,
				    "output"));
			else
				k->text = gp_j_text(c, r);
		} else if (cJSON_GetObjectItemCaseSensitive(p, "inlineData") !=
		    NULL || cJSON_GetObjectItemCaseSensitive(p, "fileData") !=
		    NULL) {
			k = gp_llm_block_add(c, m, GP_LLM_TEXT);
			k->text = "[file]";
		}
	}
}

static void
chunk(struct gp_llm_call *c, const char *event, const cJSON *j, void *arg)
{
	const cJSON	*cand, *u, *e;
	const char	*t;

	(void)event;
	(void)arg;
	if (cJSON_IsArray(j)) {		/* streamed without alt=sse */
		c->stream = 1;
		cJSON_ArrayForEach(e, j)
			chunk(c, NULL, e, NULL);
		return;
	}
	c->has_reply = 1;
	if ((e = cJSON_GetObjectItemCaseSensitive(j, "error")) != NULL) {
		gp_j_error(c, e);
		return;
	}
	if (c->response_id == NULL)
		c->response_id = gp_llm_strdup(c, gp_j_str(j, "responseId"));
	if (gp_j_str(j, "modelVersion") != NULL && c->model == NULL)
		c->model = gp_llm_strdup(c, gp_j_str(j, "modelVersion"));
	cand = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j,
	    "candidates"), 0);
	parts(c, &c->reply, cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(cand, "content"), "parts"), 1);
	if ((t = gp_j_str(cand, "finishReason")) != NULL)
		c->stop_reason = gp_llm_strdup(c, t);
	if ((u = cJSON_GetObjectItemCaseSensitive(j, "usageMetadata")) !=
	    NULL) {
		c->usage.cache_read = gp_j_count(u, "cachedContentTokenCount");
		c->usage.input = gp_j_count(u, "promptTokenCount") -
		    c->usage.cache_read;
		if (c->usage.input < 0)
			c->usage.input = 0;
		c->usage.output = gp_j_count(u, "candidatesTokenCount") +
		    gp_j_count(u, "thoughtsTokenCount");
	}
}

/* The model named in the path: /v1beta/models/<model>:<method>. */
static void
model_from_path(struct gp_llm_call *c, const char *path)
{
	const char *p, *e;

	if (path == NULL || (p = strstr(path, "/models/")) == NULL)
		return;
	p += 8;
	e = strchr(p, ':');
	c->model = gp_llm_strndup(c, p, e != NULL ? (size_t)(e - p) :
	    strlen(p));
}

void
gp_dissect_gemini(const struct gp_llm_input *in, struct gp_llm_call *c)
{
	cJSON		*j;
	const cJSON	*v, *m, *f;

	c->dissector = "google-ai";
	c->provider = "google-ai";
	c->status = in->status;
	model_from_path(c, in->path);
	if ((j = gp_j_parse(c, in->req, in->req_len, "request")) != NULL) {
		v = cJSON_GetObjectItemCaseSensitive(j, "systemInstruction");
		if (cJSON_IsString(v))
			c->system = gp_llm_strdup(c, v->valuestring);
		else if (v != NULL) {
			struct gp_llm_msg tmp = { 0 };

			parts(c, &tmp, cJSON_GetObjectItemCaseSensitive(v,
			    "parts"), 1);
			if (tmp.n > 0)
				c->system = tmp.b[0].text;
		}
		v = cJSON_GetObjectItemCaseSensitive(j, "contents");
		if (!cJSON_IsArray(v))
			gp_llm_fail(c, "request has no contents array");
		cJSON_ArrayForEach(m, v) {
			const char *role = gp_j_str(m, "role");

			parts(c, gp_llm_msg_add(c, role != NULL &&
			    strcmp(role, "model") == 0 ? "assistant" : "user"),
			    cJSON_GetObjectItemCaseSensitive(m, "parts"), 0);
		}
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j,
		    "tools"))
			cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(
			    m, "functionDeclarations"))
				gp_llm_tool_add(c, gp_j_str(f, "name"));
		cJSON_Delete(j);
	}
	c->stream = in->path != NULL &&
	    strstr(in->path, "streamGenerateContent") != NULL;
	gp_j_reply(c, in, chunk, NULL);
}
