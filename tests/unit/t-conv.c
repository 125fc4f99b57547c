/*
 * t-conv.c: the assembler (ctl/conv.c) on a real store: transactions are
 * inserted as capture would, steps read them, conversations are checked
 * through the same queries the API serves.  Multi-turn continuation,
 * sub-agents linked from their call, utility requests kept apart, two
 * clients never merged, a conversation spanning hours, a Gemini resume
 * with rewritten history, a Codex WebSocket session with warm-ups,
 * chaining and a resume, unknown endpoints suggested, and a rebuild
 * that gives the same result.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "../lib/tap.h"
#include "../lib/tmpstore.h"

static struct gp_store		*st;
static struct gp_conv_env	*env;
static int64_t			 now = 1790000000;
/* The rows stored since the last step, handed to it as the capture
 * worker does (its fresh rows). */
static struct gp_conv_txref	 pend[16];
static size_t			 npend;
static int64_t			 remaining;

static void
pend_drop(size_t i)
{
	free((char *)pend[i].host);
	free((char *)pend[i].method);
	free((char *)pend[i].url);
	memmove(&pend[i], &pend[i + 1], (npend - i - 1) * sizeof pend[0]);
	npend--;
}

static int64_t
tx(const char *host, const char *method, const char *path,
    const char *heads, const char *req, const char *resp,
    const char *resp_type)
{
	struct gp_tx_row	r = { 0 };
	char			url[512];
	int64_t			id = 0;

	snprintf(url, sizeof url, "%s://%s%s", method[0] == 'W' ? "wss" :
	    "https", host, path);
	r.ts = now;
	r.container = "agent-1";
	r.host = host;
	r.method = method;
	r.url = url;
	r.port = 443;
	r.req_headers = heads != NULL ? heads : "{}";
	r.resp_headers = "{}";
	r.req_type = "application/json";
	r.resp_type = resp_type;
	r.req_body = req;
	r.req_len = req != NULL ? strlen(req) : 0;
	r.resp_body = resp;
	r.resp_len = resp != NULL ? strlen(resp) : 0;
	r.req_size = (int64_t)r.req_len;
	r.resp_size = (int64_t)r.resp_len;
	r.status = method[0] == 'W' ? 101 : 200;
	r.duration_ms = 1200;
	r.first_byte_ms = 300;
	r.complete = 1;
	r.tls = 1;
	if (gp_store_begin(st) != 0 || gp_store_tx_insert(st, &r, &id) != 0 ||
	    gp_store_commit(st) != 0) {
		printf("Bail out! insert\n");
		exit(1);
	}
	if (npend == GP_ARRAY_LEN(pend))
		pend_drop(0);		/* then read back from the table */
	pend[npend].id = id;
	pend[npend].req_len = r.req_size > 0 ? (int64_t)r.req_len : 0;
	pend[npend].host = gp_xstrdup(host);
	pend[npend].method = gp_xstrdup(method);
	pend[npend].url = gp_xstrdup(url);
	pend[npend].req_type = r.req_type;
	npend++;
	now += 60;
	return id;
}

static size_t
step(int rebuild)
{
	struct gp_conv_step_in	in = { 1, rebuild, 1, pend, npend };
	struct gp_conv_step_out	out;
	size_t			n;

	if (gp_conv_step(&env, st, &in, &out) != 0) {
		printf("Bail out! step\n");
		exit(1);
	}
	while (npend > 0)
		pend_drop(npend - 1);
	n = out.nids;
	remaining = out.remaining;
	gp_conv_step_out_free(&out);
	return n;
}

static cJSON *
list(int utility, int children)
{
	struct gp_conv_filter f = { 0 };

	f.utility = utility;
	f.children = children;
	return gp_store_conv_list(st, &f);
}

static const char *
s(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(o, k));
}

static double
num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* An Anthropic request from Claude Code of session sid. */
static char *
cc_heads(const char *sid)
{
	char *h;

	gp_xasprintf(&h, "{\"User-Agent\":[\"claude-cli/2.1.197 (external, "
	    "sdk-cli)\"],\"X-Claude-Code-Session-Id\":[\"%s\"]}", sid);
	return h;
}

static char *
sse_text(const char *text, int out_tokens)
{
	char *b;

	gp_xasprintf(&b, "event: message_start\ndata: {\"type\":"
	    "\"message_start\",\"message\":{\"id\":\"msg_x\",\"model\":"
	    "\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":10}}}\n\n"
	    "event: content_block_start\ndata: {\"type\":\"content_block_"
	    "start\",\"index\":0,\"content_block\":{\"type\":\"text\","
	    "\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":"
	    "\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
	    "\"text_delta\",\"text\":\"%s\"}}\n\nevent: message_delta\ndata: "
	    "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
	    "\"end_turn\"},\"usage\":{\"output_tokens\":%d}}\n\n", text,
	    out_tokens);
	return b;
}

static const char tools[] = "\"tools\":[{\"name\":\"Bash\"},{\"name\":"
    "\"Agent\"}]";

static void
claude_code(void)
{
	char	*h = cc_heads("sess-A"), *r1, *r2, *r3, *r4, *util, *a, *b;
	cJSON	*l, *c, *d, *turns, *tc, *sub;
	const char *main_id;
	char	 main_copy[64];

	gp_xasprintf(&r1, "{\"model\":\"claude-sonnet-4-5\",\"system\":"
	    "\"You are Claude Code, a long system prompt.\",%s,\"messages\":"
	    "[{\"role\":\"user\",\"content\":\"fix the parser\"}]}", tools);
	a = sse_text("Looking.", 5);
	tx("api.anthropic.com", "POST", "/v1/messages?beta=true", h, r1, a,
	    "text/event-stream");
	/* a title request: no tools, the prompt quoted */
	util = "{\"model\":\"claude-haiku-4-5\",\"messages\":[{\"role\":"
	    "\"user\",\"content\":\"Write a title for: fix the parser\"}]}";
	tx("api.anthropic.com", "POST", "/v1/messages", h, util,
	    "{\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":"
	    "\"Parser fix\"}]}", "application/json");
	step(0);
	gp_xasprintf(&r2, "{\"model\":\"claude-sonnet-4-5\",\"system\":"
	    "\"You are Claude Code, a long system prompt.\",%s,\"messages\":"
	    "[{\"role\":\"user\",\"content\":\"fix the parser\"},{\"role\":"
	    "\"assistant\",\"content\":\"Looking.\"},{\"role\":\"user\","
	    "\"content\":[{\"type\":\"text\",\"text\":\"<system-reminder>x"
	    "</system-reminder>\"},{\"type\":\"text\",\"text\":\"use an "
	    "agent\"}]}]}", tools);
	b = "{\"type\":\"message\",\"id\":\"msg_2\",\"content\":[{\"type\":"
	    "\"tool_use\",\"id\":\"toolu_A\",\"name\":\"Agent\",\"input\":"
	    "{\"description\":\"hunt\",\"prompt\":\"Find the bug in parse.c\"}"
	    "}],\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":7,"
	    "\"output_tokens\":9}}";
	tx("api.anthropic.com", "POST", "/v1/messages", h, r2, b,
	    "application/json");
	/* the sub-agent: same session, its own system prompt */
	gp_xasprintf(&r3, "{\"model\":\"claude-sonnet-4-5\",\"system\":"
	    "\"You are a sub-agent.\",\"tools\":[{\"name\":\"Read\"}],"
	    "\"messages\":[{\"role\":\"user\",\"content\":\"Find the bug in "
	    "parse.c\"}]}");
	tx("api.anthropic.com", "POST", "/v1/messages", h, r3,
	    "{\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":"
	    "\"Line 42.\"}],\"usage\":{\"input_tokens\":3,\"output_tokens\":"
	    "2}}", "application/json");
	now += 3 * 3600;	/* hours later, the same thread goes on */
	gp_xasprintf(&r4, "{\"model\":\"claude-sonnet-4-5\",\"system\":"
	    "\"You are Claude Code, a long system prompt.\",%s,\"messages\":"
	    "[{\"role\":\"user\",\"content\":\"fix the parser\"},{\"role\":"
	    "\"assistant\",\"content\":\"Looking.\"},{\"role\":\"user\","
	    "\"content\":\"use an agent\"},{\"role\":\"assistant\","
	    "\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_A\",\"name\":"
	    "\"Agent\",\"input\":{\"prompt\":\"Find the bug in parse.c\"}}]},"
	    "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
	    "\"tool_use_id\":\"toolu_A\",\"content\":\"Line 42.\"}]}]}",
	    tools);
	tx("api.anthropic.com", "POST", "/v1/messages", h, r4,
	    "{\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":"
	    "\"Fixed line 42.\"}],\"usage\":{\"input_tokens\":20,"
	    "\"output_tokens\":4}}", "application/json");
	ok(step(0) >= 2, "claude: conversations updated");

	l = list(0, 0);
	is_int(num(l, "total"), 1, "claude: one top-level conversation "
	    "(utility hidden, sub-agent under it)");
	c = cJSON_GetArrayItem(cJSON_GetObjectItem(l, "items"), 0);
	main_id = s(c, "id");
	snprintf(main_copy, sizeof main_copy, "%s", main_id ? main_id : "");
	is_str(s(c, "client_name"), "claude-code", "claude: client");
	is_str(s(c, "first_prompt"), "fix the parser", "claude: first prompt");
	is_int(num(c, "turn_count"), 2, "claude: two turns (scaffolding is no "
	    "prompt)");
	is_int(num(c, "requests"), 3, "claude: three requests, hours apart");
	is_int(num(cJSON_GetObjectItem(c, "tokens"), "output"), 18,
	    "claude: output tokens summed");
	ok(strncmp(main_copy, "conv_", 5) == 0 && strspn(main_copy + 5,
	    "0123456789abcdef") == 16, "claude: URL-safe id");
	sub = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "linked_subagents"), 0);
	ok(sub != NULL, "claude: the sub-agent is linked");
	d = gp_store_conv_detail(st, main_copy);
	turns = cJSON_GetObjectItem(d, "turns");
	is_str(s(cJSON_GetArrayItem(turns, 1), "user_prompt"), "use an agent",
	    "claude: second turn's prompt");
	tc = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(turns, 1), "steps"), 0),
	    "tool_calls"), 0);
	is_str(s(tc, "tool"), "Agent", "claude: agent call step");
	is_str(s(tc, "result_preview"), "Line 42.", "claude: result paired");
	is_str(s(tc, "linked_conversation_id"), s(sub, "conversation_id"),
	    "claude: the call links its sub-agent");
	is_int(num(cJSON_GetArrayItem(turns, 1), "api_calls_in_turn"), 2,
	    "claude: two requests in turn 2");
	cJSON_Delete(d);
	d = gp_store_conv_detail(st, s(sub, "conversation_id"));
	is_str(s(d, "parent_conversation_id"), main_copy, "claude: sub-agent "
	    "reachable by its id, parent named");
	is_str(s(d, "kind"), "subagent", "claude: kind subagent");
	cJSON_Delete(d);
	cJSON_Delete(l);
	l = list(1, 0);
	is_int(num(l, "total"), 2, "claude: the title request is there when "
	    "asked for");
	cJSON_Delete(l);
	free(h);
	free(r1);
	free(r2);
	free(r3);
	free(r4);
	free(a);
}

static void
two_clients(void)
{
	const char	*body = "{\"model\":\"m\",\"max_tokens\":5,\"messages\":"
	    "[{\"role\":\"user\",\"content\":\"hello twins\"}]}";
	cJSON		*l;
	struct gp_conv_filter f = { 0 };

	tx("api.anthropic.com", "POST", "/v1/messages",
	    "{\"User-Agent\":[\"Anthropic/JS 1.12.0\"]}", body,
	    "{\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":"
	    "\"hi\"}]}", "application/json");
	tx("api.openai.com", "POST", "/v1/chat/completions",
	    "{\"User-Agent\":[\"OpenAI/JS 6.49.0\"]}", body,
	    "{\"choices\":[{\"message\":{\"content\":\"hi\"}}]}",
	    "application/json");
	step(0);
	f.text = "hello twins";
	l = gp_store_conv_list(st, &f);
	is_int(num(l, "total"), 2, "two clients, same words: never merged");
	cJSON_Delete(l);
}

static void
gemini_resume(void)
{
	const char *h = "{\"User-Agent\":[\"GeminiCLI-tui/0.61.0/gemini-2.5-"
	    "pro (linux; x64; terminal)\"]}";
	const char *path = "/v1beta/models/gemini-2.5-pro:"
	    "streamGenerateContent?alt=sse";
	struct gp_conv_filter	 f = { 0 };
	cJSON			*l;

	tx("generativelanguage.googleapis.com", "POST", path, h,
	    "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":"
	    "\"<session_context>a</session_context>\"},{\"text\":\"count the "
	    "gems\"}]}],\"tools\":[{\"functionDeclarations\":[{\"name\":"
	    "\"ls\"}]}]}", "data: {\"candidates\":[{\"content\":{\"parts\":"
	    "[{\"functionCall\":{\"name\":\"ls\",\"args\":{}}," 
	    "\"thoughtSignature\":\"s\"}]}}]}\n\n", "text/event-stream");
	/* resumed: signature gone, id added, response duplicated */
	tx("generativelanguage.googleapis.com", "POST", path, h,
	    "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":"
	    "\"<session_context>b</session_context>\"},{\"text\":\"count the "
	    "gems\"}]},{\"role\":\"model\",\"parts\":[{\"functionCall\":"
	    "{\"id\":\"x1\",\"name\":\"ls\",\"args\":{}}}]},{\"role\":\"user\","
	    "\"parts\":[{\"functionResponse\":{\"id\":\"x1\",\"name\":\"ls\","
	    "\"response\":{\"output\":\"3\"}}},{\"functionResponse\":{\"id\":"
	    "\"x1\",\"name\":\"ls\",\"response\":{\"output\":\"3\"}}}]},"
	    "{\"role\":\"user\",\"parts\":[{\"text\":\"and rubies?\"}]}],"
	    "\"tools\":[{\"functionDeclarations\":[{\"name\":\"ls\"}]}]}",
	    "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":"
	    "\"None.\"}]},\"finishReason\":\"STOP\"}]}\n\n",
	    "text/event-stream");
	step(0);
	f.client = "gemini-cli";
	l = gp_store_conv_list(st, &f);
	is_int(num(l, "total"), 1, "gemini: the resume continues, history "
	    "rewritten or not");
	is_int(num(cJSON_GetArrayItem(cJSON_GetObjectItem(l, "items"), 0),
	    "turn_count"), 2, "gemini: two turns");
	cJSON_Delete(l);
}

static void
codex_ws(void)
{
	const char *h = "{\"originator\":[\"codex_exec\"]}";
	const char *u = "/v1/responses";
	struct gp_conv_filter	 f = { 0 };
	cJSON			*l, *d, *c;
	char			 id[64];

	tx("api.openai.com", "GET", u, h, NULL, NULL, NULL);	/* the 101 */
	tx("api.openai.com", "WS_REQ", u, h, "{\"type\":\"response.create\","
	    "\"model\":\"gpt-5-codex\",\"generate\":false,\"input\":[{\"type\":"
	    "\"message\",\"role\":\"developer\",\"content\":[{\"type\":"
	    "\"input_text\",\"text\":\"rules\"}]}],\"prompt_cache_key\":"
	    "\"cx-1\"}", NULL, NULL);
	tx("api.openai.com", "WS_RESP", u, h, "{\"type\":\"response.completed\","
	    "\"response\":{\"id\":\"r0\",\"output\":[]}}", NULL, NULL);
	tx("api.openai.com", "WS_REQ", u, h, "{\"type\":\"response.create\","
	    "\"model\":\"gpt-5-codex\",\"previous_response_id\":\"r0\","
	    "\"input\":[{\"type\":\"message\",\"role\":\"user\",\"content\":"
	    "[{\"type\":\"input_text\",\"text\":\"run the tests\"}]}],"
	    "\"tools\":[{\"type\":\"function\",\"name\":\"exec_command\"}],"
	    "\"prompt_cache_key\":\"cx-1\"}", NULL, NULL);
	tx("api.openai.com", "WS_RESP", u, h, "{\"type\":"
	    "\"response.output_text.delta\",\"delta\":\"x\"}", NULL, NULL);
	tx("api.openai.com", "WS_RESP", u, h, "{\"type\":\"response.completed\","
	    "\"response\":{\"id\":\"r1\",\"output\":[{\"type\":\"function_call\","
	    "\"call_id\":\"c1\",\"name\":\"exec_command\",\"arguments\":"
	    "\"{\\\"cmd\\\":\\\"make check\\\"}\"}],\"usage\":{\"input_tokens\":"
	    "100,\"output_tokens\":10}}}", NULL, NULL);
	tx("api.openai.com", "WS_REQ", u, h, "{\"type\":\"response.create\","
	    "\"model\":\"gpt-5-codex\",\"previous_response_id\":\"r1\","
	    "\"input\":[{\"type\":\"function_call_output\",\"call_id\":\"c1\","
	    "\"output\":\"all pass\"},{\"type\":\"message\",\"role\":\"user\","
	    "\"content\":[{\"type\":\"input_text\",\"text\":\"now commit\"}]}],"
	    "\"tools\":[{\"type\":\"function\",\"name\":\"exec_command\"}],"
	    "\"prompt_cache_key\":\"cx-1\"}", NULL, NULL);
	tx("api.openai.com", "WS_RESP", u, h, "{\"type\":\"response.completed\","
	    "\"response\":{\"id\":\"r2\",\"output\":[{\"type\":\"message\","
	    "\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\","
	    "\"text\":\"Committed.\"}]}],\"usage\":{\"input_tokens\":50,"
	    "\"output_tokens\":3}}}", NULL, NULL);
	step(0);
	f.client = "codex";
	l = gp_store_conv_list(st, &f);
	is_int(num(l, "total"), 1, "codex ws: one conversation (the warm-up "
	    "hidden)");
	c = cJSON_GetArrayItem(cJSON_GetObjectItem(l, "items"), 0);
	snprintf(id, sizeof id, "%s", s(c, "id") ? s(c, "id") : "");
	is_int(num(c, "turn_count"), 2, "codex ws: two turns by chaining");
	is_int(num(cJSON_GetObjectItem(c, "tokens"), "output"), 13,
	    "codex ws: tokens from the completed events");
	ok(cJSON_IsTrue(cJSON_GetObjectItem(c, "last_turn_has_response")),
	    "codex ws: the last reply is kept");
	cJSON_Delete(l);
	/* resume: a new socket, a warm-up, the whole history at once */
	tx("api.openai.com", "WS_REQ", u, h, "{\"type\":\"response.create\","
	    "\"model\":\"gpt-5-codex\",\"generate\":false,\"input\":[],"
	    "\"prompt_cache_key\":\"cx-1\"}", NULL, NULL);
	tx("api.openai.com", "WS_RESP", u, h, "{\"type\":\"response.completed\","
	    "\"response\":{\"id\":\"r9\",\"output\":[]}}", NULL, NULL);
	tx("api.openai.com", "WS_REQ", u, h, "{\"type\":\"response.create\","
	    "\"model\":\"gpt-5-codex\",\"previous_response_id\":\"r9\","
	    "\"input\":[{\"type\":\"message\",\"role\":\"user\",\"content\":"
	    "[{\"type\":\"input_text\",\"text\":\"run the tests\"}]},"
	    "{\"type\":\"function_call\",\"call_id\":\"c1\",\"name\":"
	    "\"exec_command\",\"arguments\":\"{}\"},{\"type\":"
	    "\"function_call_output\",\"call_id\":\"c1\",\"output\":\"all "
	    "pass\"},{\"type\":\"message\",\"role\":\"user\",\"content\":"
	    "[{\"type\":\"input_text\",\"text\":\"now commit\"}]},{\"type\":"
	    "\"message\",\"role\":\"assistant\",\"content\":[{\"type\":"
	    "\"output_text\",\"text\":\"Committed.\"}]},{\"type\":\"message\","
	    "\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":"
	    "\"and push\"}]}],\"tools\":[{\"type\":\"function\",\"name\":"
	    "\"exec_command\"}],\"prompt_cache_key\":\"cx-1\"}", NULL, NULL);
	step(0);
	l = gp_store_conv_list(st, &f);
	is_int(num(l, "total"), 1, "codex ws: the resume continues it");
	c = cJSON_GetArrayItem(cJSON_GetObjectItem(l, "items"), 0);
	is_str(s(c, "id"), id, "codex ws: the same conversation");
	is_int(num(c, "turn_count"), 3, "codex ws: turn one not counted twice");
	cJSON_Delete(l);
	d = gp_store_conv_detail(st, id);
	is_str(s(cJSON_GetArrayItem(cJSON_GetObjectItem(d, "turns"), 2),
	    "user_prompt"), "and push", "codex ws: the new prompt is turn 3");
	is_str(s(cJSON_GetArrayItem(cJSON_GetObjectItem(d, "turns"), 0),
	    "user_prompt"), "run the tests", "codex ws: turn 1 kept as it was "
	    "(only the last turns are written again)");
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(d, "turns")), 3,
	    "codex ws: no turn twice");
	cJSON_Delete(d);
}

/* Rows handed over in memory are read from there only when nothing
 * stored comes before them. */
static void
fresh_rows(void)
{
	static const char *texts[] = { "fresh one", "fresh two",
	    "fresh three", "fresh four" };
	char		*body[4];
	const char	*reply = "{\"type\":\"message\",\"content\":[{"
	    "\"type\":\"text\",\"text\":\"ok\"}]}";
	cJSON		*l;
	int64_t		 before;
	size_t		 i;

	for (i = 0; i < 4; i++)
		gp_xasprintf(&body[i], "{\"model\":\"m\",\"max_tokens\":5,"
		    "\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}",
		    texts[i]);
	step(0);
	l = list(1, 1);
	before = (int64_t)num(l, "total");
	cJSON_Delete(l);

	/* the first row not handed over: both read from the table */
	tx("api.anthropic.com", "POST", "/v1/messages", NULL, body[0], reply,
	    "application/json");
	tx("api.anthropic.com", "POST", "/v1/messages", NULL, body[1], reply,
	    "application/json");
	pend_drop(0);
	step(0);
	l = list(1, 1);
	is_int(num(l, "total"), before + 2, "a row stored before the fresh "
	    "ones: read from the table, none skipped");
	cJSON_Delete(l);

	/* next in line: read from memory (a ref naming another host is
	 * taken at its word), and nothing left to do */
	tx("api.anthropic.com", "POST", "/v1/messages", NULL, body[2], reply,
	    "application/json");
	tx("api.anthropic.com", "POST", "/v1/messages", NULL, body[3], reply,
	    "application/json");
	free((char *)pend[1].host);
	pend[1].host = gp_xstrdup("static.example.net");
	step(0);
	l = list(1, 1);
	is_int(num(l, "total"), before + 3, "the next rows: read from memory "
	    "(the renamed one is not assembled)");
	cJSON_Delete(l);
	is_int(remaining, 0, "and nothing left");
	for (i = 0; i < 4; i++)
		free(body[i]);
}

static void
suggest_and_rebuild(void)
{
	cJSON	*a, *l;
	int64_t	 before, after;

	tx("llm.corp.example", "POST", "/gateway/v1/messages",
	    "{\"anthropic-version\":[\"2023-06-01\"]}", "{\"model\":\"x\","
	    "\"max_tokens\":3,\"messages\":[{\"role\":\"user\",\"content\":"
	    "\"hi\"}]}", "{}", "application/json");
	step(0);
	a = gp_store_endpoint_suggestions(st);
	is_str(s(cJSON_GetArrayItem(a, 0), "host_pattern"),
	    "llm.corp.example", "suggestion: the unknown host");
	is_str(s(cJSON_GetArrayItem(a, 0), "decoder_name"), "anthropic",
	    "suggestion: by shape and header, not all as Chat");
	cJSON_Delete(a);
	l = list(1, 1);
	before = (int64_t)num(l, "total");
	cJSON_Delete(l);
	step(1);
	while (step(0) > 0)
		;
	l = list(1, 1);
	after = (int64_t)num(l, "total");
	cJSON_Delete(l);
	is_int(after, before, "rebuild: the same conversations (%lld)",
	    (long long)before);
}

int
main(void)
{
	st = tmpstore_open();
	step(0);		/* seeds the endpoint rules */
	claude_code();
	two_clients();
	gemini_resume();
	codex_ws();
	suggest_and_rebuild();
	fresh_rows();		/* last: one row it renames stays unassembled */
	{	/* retention: those that ended before go, with their rows */
		cJSON	*l = list(1, 1);
		int64_t	 all = (int64_t)num(l, "total"), left;

		cJSON_Delete(l);
		is_int(gp_store_conv_prune(st, 1790000000 + 3600, 1000), 2,
		    "retention: the two conversations of the first hour go");
		l = list(1, 1);
		left = (int64_t)num(l, "total");
		cJSON_Delete(l);
		is_int(left, all - 2, "retention: the others stay");
		is_int(gp_store_conv_prune(st, 1790000000 + 3600, 1000), 0,
		    "retention: nothing twice");
	}
	gp_conv_env_free(env);
	tmpstore_close(st);
	return tap_done();
}
