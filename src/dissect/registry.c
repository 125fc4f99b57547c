/*
 * registry.c: which dissector reads which endpoint.  The built-in rules
 * are the original's (host, path glob, method -> dissector); users add
 * their own (a LiteLLM or Ollama host, a corporate gateway).  Rules are
 * tried by priority, then id; '*' matches any run of characters and '?'
 * one (gp_glob), hosts case-insensitively, paths without their query.  An unknown endpoint is
 * never guessed into a rule: its body's shape only suggests one.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "dissect/dissect.h"

static const struct gp_dissector dissectors[] = {
	{ "anthropic", "anthropic", "Anthropic Messages API "
	    "(/v1/messages), JSON and streamed", gp_dissect_anthropic },
	{ "openai", "openai", "OpenAI Responses API (/v1/responses), "
	    "JSON and streamed", gp_dissect_openai },
	{ "openai-ws", "openai", "OpenAI Responses API over WebSocket "
	    "(response.create frames and server events)",
	    gp_dissect_openai_ws },
	{ "openai-chat", "openai", "OpenAI Chat Completions "
	    "(/chat/completions; OpenRouter and compatible gateways)",
	    gp_dissect_chat },
	{ "google-ai", "google-ai", "Google Gemini API (generateContent, "
	    "streamGenerateContent)", gp_dissect_gemini },
};

const struct gp_dissector *
gp_dissector_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < GP_ARRAY_LEN(dissectors); i++)
		if (strcmp(dissectors[i].name, name) == 0)
			return &dissectors[i];
	return NULL;
}

const struct gp_dissector *
gp_dissector_at(size_t i)
{
	return i < GP_ARRAY_LEN(dissectors) ? &dissectors[i] : NULL;
}

const struct gp_endpoint_rule gp_endpoint_builtin[] = {
	{ 0, "api.anthropic.com", "/v1/messages", "POST", "anthropic",
	    0, 1, 0 },
	{ 0, "api.openai.com", "/v1/responses", "POST", "openai", 0, 1, 0 },
	{ 0, "api.openai.com", "/v1/responses", "WS_REQ", "openai-ws",
	    0, 1, 0 },
	{ 0, "api.openai.com", "/v1/responses", "WS_RESP", "openai-ws",
	    0, 1, 0 },
	{ 0, "api.openai.com", "/v1/chat/completions", "POST", "openai-chat",
	    0, 1, 0 },
	{ 0, "openrouter.ai", "/api/v1/chat/completions", "POST",
	    "openai-chat", 0, 1, 0 },
	{ 0, "generativelanguage.googleapis.com", "/v1beta/models/*", "POST",
	    "google-ai", 0, 1, 0 },
};
const size_t gp_endpoint_nbuiltin = GP_ARRAY_LEN(gp_endpoint_builtin);

const struct gp_endpoint_rule *
gp_endpoint_match(const struct gp_endpoint_rule *r, size_t n,
    const char *method, const char *host, const char *path)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!r[i].enabled)
			continue;
		if (strcmp(r[i].method, "*") != 0 &&
		    strcasecmp(r[i].method, method) != 0)
			continue;
		if (gp_glob(r[i].host, host, 1) &&
		    gp_glob(r[i].path, path, 0))
			return &r[i];
	}
	return NULL;
}

/* Does an array hold an object with key (the first few looked at)? */
static int
has_item_key(const cJSON *a, const char *key, const char *type)
{
	const cJSON	*e, *v;
	int		 n = 0;

	cJSON_ArrayForEach(e, a) {
		if (n++ > 64)
			break;
		if ((v = cJSON_GetObjectItemCaseSensitive(e, key)) == NULL)
			continue;
		if (type == NULL)
			return 1;
		if (cJSON_IsArray(v)) {
			const cJSON *b;

			cJSON_ArrayForEach(b, v) {
				const cJSON *t = cJSON_GetObjectItem(b, "type");

				if (cJSON_IsString(t) &&
				    strcmp(t->valuestring, type) == 0)
					return 1;
			}
		}
	}
	return 0;
}

const char *
gp_endpoint_shape(const char *body, size_t len)
{
	cJSON		*j;
	const cJSON	*msgs;
	const char	*shape = NULL;

	if (body == NULL || len < 2 || (j = cJSON_ParseWithLength(body,
	    len)) == NULL)
		return NULL;
	if (!cJSON_IsObject(j))
		goto out;
	msgs = cJSON_GetObjectItemCaseSensitive(j, "messages");
	if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "contents")))
		shape = "google-ai";
	else if (cJSON_GetObjectItemCaseSensitive(j, "input") != NULL &&
	    cJSON_GetObjectItemCaseSensitive(j, "model") != NULL &&
	    msgs == NULL)
		shape = "openai";
	else if (cJSON_IsArray(msgs) && cJSON_GetArraySize(msgs) > 0 &&
	    cJSON_GetObjectItemCaseSensitive(j, "model") != NULL) {
		/* Anthropic: a top-level system, max_tokens required, block
		 * types only it has; Chat: system as a message, tool_calls */
		if (cJSON_GetObjectItemCaseSensitive(j, "system") != NULL ||
		    has_item_key(msgs, "content", "tool_use") ||
		    has_item_key(msgs, "content", "tool_result") ||
		    (cJSON_GetObjectItemCaseSensitive(j, "max_tokens") !=
		    NULL && !has_item_key(msgs, "tool_calls", NULL) &&
		    cJSON_GetObjectItemCaseSensitive(j, "metadata") != NULL))
			shape = "anthropic";
		else
			shape = "openai-chat";
	}
out:
	cJSON_Delete(j);
	return shape;
}

const char *
gp_endpoint_check(const char *host, const char *path, const char *method,
    const char *decoder)
{
	static const char *const methods[] = { "GET", "POST", "PUT",
	    "PATCH", "DELETE", "WS_REQ", "WS_RESP", "*" };
	size_t i;

	if (decoder == NULL || gp_dissector_find(decoder) == NULL)
		return "unknown decoder";
	if (path == NULL || path[0] != '/')
		return "path_pattern must start with /";
	if (host == NULL || *host == '\0' || strcmp(host, "*") == 0 ||
	    strchr(host, '%') != NULL)
		return "host_pattern must name a host";
	for (i = 0; host[i] != '\0'; i++)
		if ((unsigned char)host[i] <= ' ' || host[i] == '/')
			return "host_pattern must name a host";
	for (i = 0; method != NULL && i < GP_ARRAY_LEN(methods); i++)
		if (strcasecmp(method, methods[i]) == 0)
			return NULL;
	return "invalid method";
}
