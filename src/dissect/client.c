/*
 * client.c: who sent a call.  Coding clients name themselves in their
 * headers (user agent, originator, x-app, X-Title, Referer) and carry
 * their session in headers or in the body; each wraps prompts in its
 * own scaffolding, which is not what a person typed.  Detection reads
 * headers and body only: a container's name says nothing reliable.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "dissect/dissect.h"

struct cJSON *
gp_llm_heads(const char *json)
{
	return json != NULL ? cJSON_Parse(json) : NULL;
}

const char *
gp_llm_header(const cJSON *heads, const char *name)
{
	const cJSON *h, *v;

	cJSON_ArrayForEach(h, heads) {
		if (h->string == NULL || strcasecmp(h->string, name) != 0)
			continue;
		v = cJSON_IsArray(h) ? cJSON_GetArrayItem(h, 0) : h;
		return cJSON_IsString(v) ? v->valuestring : NULL;
	}
	return NULL;
}

static int
has(const cJSON *heads, const char *name, const char *needle)
{
	const char *v = gp_llm_header(heads, name);

	return v != NULL && strstr(v, needle) != NULL;
}

static int
starts(const cJSON *heads, const char *name, const char *prefix)
{
	const char *v = gp_llm_header(heads, name);

	return v != NULL && strncasecmp(v, prefix, strlen(prefix)) == 0;
}

const char *
gp_llm_client(const cJSON *heads, const struct gp_llm_call *c)
{
	if (starts(heads, "originator", "codex_") ||
	    starts(heads, "user-agent", "codex_") ||
	    (c->hint != NULL && strcmp(c->hint, "codex") == 0))
		return "codex";
	if (has(heads, "user-agent", "claude-cli/") ||
	    has(heads, "user-agent", "Claude-Code/") ||
	    gp_llm_header(heads, "x-claude-code-session-id") != NULL ||
	    (has(heads, "x-app", "cli") &&
	    has(heads, "anthropic-beta", "claude-code")))
		return "claude-code";
	if (has(heads, "user-agent", "GeminiCLI"))
		return "gemini-cli";
	if (has(heads, "user-agent", "opencode/") ||
	    starts(heads, "x-title", "opencode") ||
	    starts(heads, "http-referer", "https://opencode.ai") ||
	    starts(heads, "referer", "https://opencode.ai"))
		return "opencode";
	if (starts(heads, "http-referer", "https://aider.chat") ||
	    starts(heads, "referer", "https://aider.chat") ||
	    starts(heads, "x-title", "aider") ||
	    (c->system != NULL &&
	    strstr(c->system, "expert software developer") != NULL &&
	    strstr(c->system, "diligent and tireless") != NULL))
		return "aider";
	if (starts(heads, "user-agent", "Anthropic/"))
		return "anthropic-sdk";
	if (starts(heads, "user-agent", "OpenAI/"))
		return "openai-sdk";
	if (has(heads, "x-goog-api-client", "google-genai-sdk/") ||
	    has(heads, "user-agent", "google-genai-sdk/"))
		return "google-genai-sdk";
	return "generic";
}

const char *
gp_llm_session(const char *client, const cJSON *heads,
    struct gp_llm_call *c)
{
	static const char *const names[] = { "x-claude-code-session-id",
	    "session-id", "session_id", "thread-id" };
	const char	*v;
	size_t		 i;

	for (i = 0; i < GP_ARRAY_LEN(names); i++)
		if ((v = gp_llm_header(heads, names[i])) != NULL && *v != '\0')
			return gp_llm_strdup(c, v);
	(void)client;
	return c->session_id;
}

const char *
gp_llm_utility(const char *client, const struct gp_llm_call *c)
{
	if (c->warmup)
		return "warm-up";
	if (c->nmsgs == 0 && !c->ws)
		return "utility";
	if (strcmp(client, "gemini-cli") == 0 && c->model != NULL &&
	    strstr(c->model, "flash-lite") != NULL)
		return "complexity-scorer";
	if (c->ntools > 0 || c->ws)
		return NULL;
	if (strcmp(client, "opencode") == 0)
		return "title-gen";
	if (strcmp(client, "claude-code") == 0 ||
	    strcmp(client, "codex") == 0 || strcmp(client, "gemini-cli") == 0)
		return "utility";
	return NULL;
}

int
gp_llm_scaffolding(const char *t)
{
	static const char *const prefixes[] = { "<system-reminder>",
	    "<available-deferred-tools>", "<local-command-caveat>",
	    "<command-name>", "<command-message>", "<command-args>",
	    "<local-command-stdout>", "<environment_context>", "<permissions",
	    "<user_instructions>", "<session_context>", "<extension_context>",
	    "<loaded_context>", "# AGENTS.md instructions", "<INSTRUCTIONS>",
	    "[Request interrupted by user", "Tool loaded." };
	size_t i;

	if (t == NULL)
		return 1;
	while (isspace((unsigned char)*t))
		t++;
	if (*t == '\0')
		return 1;
	for (i = 0; i < GP_ARRAY_LEN(prefixes); i++)
		if (strncmp(t, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

int
gp_llm_agent_tool(const char *name)
{
	static const char *const agents[] = { "Agent", "Task", "task",
	    "spawn_agent", "codebase_investigator", "generalist",
	    "dispatch_agent" };
	size_t i;

	for (i = 0; name != NULL && i < GP_ARRAY_LEN(agents); i++)
		if (strcmp(name, agents[i]) == 0)
			return 1;
	return 0;
}

char *
gp_llm_agent_prompt(const char *input)
{
	static const char *const keys[] = { "prompt", "message", "objective",
	    "task", "query", "description" };
	cJSON	*j;
	char	*s = NULL;
	size_t	 i;

	if (input == NULL || (j = cJSON_Parse(input)) == NULL)
		return NULL;
	for (i = 0; s == NULL && i < GP_ARRAY_LEN(keys); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[i]);

		if (cJSON_IsString(v) && *v->valuestring != '\0')
			s = gp_xstrdup(v->valuestring);
	}
	cJSON_Delete(j);
	return s;
}
