/*
 * t-dissect.c: the LLM dissectors on tests/fixtures/llm (JSON and
 * streamed replies, string and block forms, errors, streams cut short,
 * WebSocket frames), the SSE parser on the spec's cases, the endpoint
 * registry, client detection and the thread helpers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "dissect/dissect.h"
#include "../lib/tap.h"

static char *
slurp(const char *name, size_t *n)
{
	char	 path[1024];
	FILE	*f;
	char	*p;
	long	 len;

	snprintf(path, sizeof path, "%s/tests/fixtures/llm/%s",
	    getenv("TOP_SRCDIR") ? getenv("TOP_SRCDIR") : ".", name);
	if ((f = fopen(path, "rb")) == NULL) {
		printf("Bail out! %s missing\n", path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	p = malloc((size_t)len + 1);
	*n = fread(p, 1, (size_t)len, f);
	p[*n] = '\0';
	fclose(f);
	return p;
}

/* Runs a dissector on req/resp fixtures. */
static void
run(const char *dissector, const char *req, const char *resp,
    const char *resp_type, const char *path, struct gp_llm_call *c)
{
	struct gp_llm_input	in = { 0 };
	char			*rq = NULL, *rs = NULL;

	if (req != NULL)
		rq = slurp(req, &in.req_len);
	if (resp != NULL)
		rs = slurp(resp, &in.resp_len);
	in.method = "POST";
	in.host = "api.example.com";
	in.path = path;
	in.req = rq;
	in.resp = rs;
	in.resp_type = resp_type;
	in.status = 200;
	gp_llm_init(c);
	gp_dissector_find(dissector)->parse(&in, c);
	free(rq);
	free(rs);		/* the call holds copies */
}

static const struct gp_llm_block *
blk(const struct gp_llm_msg *m, size_t i)
{
	static const struct gp_llm_block none;

	return i < m->n ? &m->b[i] : &none;
}

static void
anthropic(void)
{
	struct gp_llm_call c;

	run("anthropic", "anthropic-sse.req.json", "anthropic-sse.resp",
	    "text/event-stream; charset=utf-8", "/v1/messages", &c);
	is_str(c.model, "claude-sonnet-4-5", "anthropic: model of the request");
	is_str(c.system, "You are Claude Code, Anthropic's official CLI for "
	    "Claude.\n\nBe brief.", "anthropic: system blocks joined");
	is_int(c.nmsgs, 3, "anthropic: three messages");
	is_int(c.ntools, 3, "anthropic: three tools");
	is_str(c.session_id, "5e0c2f57-8f8c-4a55-b0d4-0d8b9d1c2e11",
	    "anthropic: session id from metadata.user_id's JSON");
	is_int(blk(&c.msgs[1], 1)->kind, GP_LLM_TOOL_USE, "anthropic: "
	    "tool_use block");
	is_str(blk(&c.msgs[1], 1)->text, "{\"command\":\"ls\","
	    "\"description\":\"List files\"}", "anthropic: tool input as JSON");
	is_str(blk(&c.msgs[2], 0)->id, "toolu_01", "anthropic: result "
	    "names its call");
	ok(c.stream && c.has_reply, "anthropic: streamed reply read");
	is_int(c.reply.n, 3, "anthropic: reply has thinking, text, tool");
	is_str(blk(&c.reply, 0)->text, "Two files; read one.",
	    "anthropic: thinking deltas joined");
	is_str(blk(&c.reply, 1)->text, "There are two files.",
	    "anthropic: text deltas joined");
	is_str(blk(&c.reply, 2)->text, "{\"file_path\": \"a.c\"}",
	    "anthropic: partial_json joined");
	is_str(blk(&c.reply, 2)->name, "Read", "anthropic: tool name");
	is_str(c.stop_reason, "tool_use", "anthropic: stop reason");
	is_int(c.usage.input, 12, "anthropic: input tokens");
	is_int(c.usage.output, 57, "anthropic: output tokens (final)");
	is_int(c.usage.cache_read, 2000, "anthropic: cache read");
	is_int(c.usage.cache_write, 100, "anthropic: cache write");
	ok(c.why == NULL && !c.reply_truncated, "anthropic: nothing lost");
	is_str(gp_llm_prompt(&c, &c.msgs[0]), "List the files here",
	    "prompt: scaffolding left out");
	is_int(gp_llm_prompts(c.msgs, c.nmsgs), 1, "prompt: a tool result "
	    "is not a prompt");
	gp_llm_free(&c);

	run("anthropic", "anthropic-json.req.json", "anthropic-json.resp",
	    "application/json", "/v1/messages", &c);
	is_str(c.system, "You answer in one word.", "anthropic: string "
	    "system");
	is_str(blk(&c.msgs[0], 0)->text, "Capital of France?",
	    "anthropic: string content");
	ok(!c.stream && c.has_reply, "anthropic: JSON reply read");
	is_str(blk(&c.reply, 0)->text, "Paris.", "anthropic: JSON reply text");
	is_str(c.stop_reason, "end_turn", "anthropic: JSON stop reason");
	is_int(c.usage.output, 3, "anthropic: JSON usage");
	is_str(c.response_id, "msg_02", "anthropic: reply id");
	gp_llm_free(&c);

	run("anthropic", "anthropic-error.req.json", "anthropic-error.resp",
	    "application/json", "/v1/messages", &c);
	is_str(c.error, "overloaded_error: Overloaded", "anthropic: error "
	    "object");
	gp_llm_free(&c);

	run("anthropic", "anthropic-cut.req.json", "anthropic-cut.resp",
	    "text/event-stream", "/v1/messages", &c);
	ok(c.reply_truncated, "anthropic: a cut stream is marked");
	is_str(blk(&c.reply, 0)->text, "Once upon", "anthropic: a cut "
	    "stream keeps what was complete");
	gp_llm_free(&c);

	run("anthropic", NULL, "anthropic-json.resp", "application/json",
	    "/v1/messages", &c);
	ok(c.why != NULL && c.has_reply, "anthropic: no request body: why, "
	    "and the reply still read");
	gp_llm_free(&c);
}

static void
openai(void)
{
	struct gp_llm_call		c;
	struct gp_llm_input		in = { 0 };
	char				*frame;

	run("openai", "responses-sse.req.json", "responses-sse.resp",
	    "text/event-stream", "/v1/responses", &c);
	is_str(c.system, "You are a coding agent.", "responses: instructions "
	    "are the system prompt");
	is_int(c.nmsgs, 1, "responses: a string input is one message");
	is_str(blk(&c.msgs[0], 0)->text, "What is in README?",
	    "responses: string input");
	is_str(c.session_id, "0199aa", "responses: prompt_cache_key");
	is_int(c.reply.n, 3, "responses: reasoning, text, call");
	is_str(blk(&c.reply, 1)->text, "Let me check.", "responses: text");
	is_str(blk(&c.reply, 2)->name, "exec_command", "responses: call");
	is_str(blk(&c.reply, 2)->id, "call_1", "responses: call id");
	is_int(c.usage.input, 200, "responses: uncached input");
	is_int(c.usage.cache_read, 1000, "responses: cached input");
	is_str(c.response_id, "resp_1", "responses: response id");
	ok(!c.reply_truncated, "responses: completed");
	gp_llm_free(&c);

	run("openai", "responses-json.req.json", "responses-json.resp",
	    "application/json", "/v1/responses", &c);
	ok(c.system != NULL && strstr(c.system, "sandboxed") != NULL,
	    "responses: developer message joins the system prompt");
	is_int(c.nmsgs, 4, "responses: user, user, assistant call, tool");
	is_str(c.msgs[2].role, "assistant", "responses: function_call is "
	    "the assistant's");
	is_str(blk(&c.msgs[3], 0)->text, "FAIL: 1", "responses: output");
	is_str(blk(&c.reply, 0)->text, "One test fails.", "responses: JSON "
	    "reply");
	is_int(gp_llm_prompts(c.msgs, c.nmsgs), 1, "responses: "
	    "environment_context is scaffolding");
	gp_llm_free(&c);

	in.method = "WS_REQ";
	in.host = "api.openai.com";
	in.path = "/v1/responses";
	frame = slurp("ws-warmup.frame", &in.req_len);
	in.req = frame;
	gp_llm_init(&c);
	gp_dissect_openai_ws(&in, &c);
	ok(c.warmup && c.ws, "ws: generate:false is a warm-up");
	is_str(c.hint, "codex", "ws: Codex's turn metadata names it");
	is_str(gp_llm_utility("codex", &c), "warm-up", "ws: warm-up is "
	    "utility");
	gp_llm_free(&c);
	free(frame);
	frame = slurp("ws-chained.frame", &in.req_len);
	in.req = frame;
	gp_llm_init(&c);
	gp_dissect_openai_ws(&in, &c);
	is_str(c.prev_response_id, "resp_w1", "ws: chained request");
	is_int(c.nmsgs, 2, "ws: only the new items");
	ok(gp_llm_utility("codex", &c) == NULL, "ws: a chained request is "
	    "not utility");
	gp_llm_free(&c);
	free(frame);
	in.method = "WS_RESP";
	frame = slurp("ws-completed.frame", &in.req_len);
	in.req = frame;
	gp_llm_init(&c);
	gp_dissect_openai_ws(&in, &c);
	ok(c.ws_reply_only && c.has_reply, "ws: completed event is a reply");
	is_str(blk(&c.reply, 0)->text, "Committed.", "ws: reply text");
	is_str(c.response_id, "resp_w2", "ws: reply id");
	gp_llm_free(&c);
	free(frame);
	frame = slurp("ws-delta.frame", &in.req_len);
	in.req = frame;
	gp_llm_init(&c);
	gp_dissect_openai_ws(&in, &c);
	ok(!c.has_reply && c.why == NULL, "ws: a delta frame is nothing "
	    "(and no failure)");
	gp_llm_free(&c);
	free(frame);
}

static void
chat(void)
{
	struct gp_llm_call c;

	run("openai-chat", "chat-sse.req.json", "chat-sse.resp",
	    "text/event-stream", "/v1/chat/completions", &c);
	is_str(c.system, "Be terse.", "chat: system message");
	is_int(c.nmsgs, 1, "chat: user message");
	is_str(blk(&c.msgs[0], 0)->text, "list files", "chat: content parts");
	is_str(blk(&c.reply, 0)->text, "Sure, running.", "chat: deltas "
	    "joined, a multi-line data event read");
	is_str(blk(&c.reply, 1)->name, "shell", "chat: tool call by index");
	is_str(blk(&c.reply, 1)->text, "{\"cmd\":\"ls\"}", "chat: arguments "
	    "joined");
	is_str(c.stop_reason, "tool_calls", "chat: finish reason");
	is_int(c.usage.input, 16, "chat: uncached prompt tokens");
	is_int(c.usage.output, 12, "chat: completion tokens");
	ok(c.why == NULL, "chat: [DONE] and retry fields are not failures");
	gp_llm_free(&c);

	run("openai-chat", "chat-json.req.json", "chat-json.resp",
	    "application/json", "/api/v1/chat/completions", &c);
	is_str(c.system, "dev rules", "chat: developer role is system");
	is_int(c.nmsgs, 4, "chat: user, assistant, tool, user");
	is_str(blk(&c.msgs[1], 0)->name, "date", "chat: history tool call");
	is_str(blk(&c.msgs[2], 0)->id, "t1", "chat: tool message answers");
	is_str(blk(&c.reply, 0)->text, "Tuesday.", "chat: JSON reply");
	is_int(gp_llm_prompts(c.msgs, c.nmsgs), 2, "chat: two prompts");
	gp_llm_free(&c);

	run("openai-chat", "chat-json.req.json", "chat-error.resp",
	    "application/json", "/v1/chat/completions", &c);
	is_str(c.error, "requests: Rate limit reached", "chat: error object");
	gp_llm_free(&c);
}

static void
gemini(void)
{
	struct gp_llm_call c;

	run("google-ai", "gemini-sse.req.json", "gemini-sse.resp",
	    "text/event-stream",
	    "/v1beta/models/gemini-2.5-pro:streamGenerateContent", &c);
	is_str(c.model, "gemini-2.5-pro", "gemini: model from the path");
	is_str(c.system, "You are Gemini CLI.", "gemini: systemInstruction");
	is_int(c.nmsgs, 3, "gemini: three contents");
	is_str(c.msgs[1].role, "assistant", "gemini: model is the assistant");
	is_str(blk(&c.msgs[1], 0)->name, "run_shell_command", "gemini: "
	    "functionCall");
	is_str(blk(&c.msgs[2], 0)->text, "2", "gemini: functionResponse "
	    "output");
	is_int(c.ntools, 2, "gemini: function declarations");
	is_str(blk(&c.reply, 0)->text, "Counting", "gemini: thought part");
	is_int(blk(&c.reply, 0)->kind, GP_LLM_THINKING, "gemini: thought "
	    "is thinking");
	is_str(blk(&c.reply, 1)->text, "There are 2 files.", "gemini: text "
	    "chunks joined");
	is_str(c.stop_reason, "STOP", "gemini: finish reason");
	is_int(c.usage.input, 400, "gemini: uncached prompt tokens");
	is_int(c.usage.output, 10, "gemini: candidates and thoughts");
	is_str(gp_llm_prompt(&c, &c.msgs[0]), "how many files?",
	    "gemini: session_context is scaffolding");
	gp_llm_free(&c);

	run("google-ai", "gemini-sse.req.json", "gemini-array.resp",
	    "application/json", "/v1beta/models/gemini-2.5-flash:"
	    "streamGenerateContent", &c);
	is_str(blk(&c.reply, 0)->text, "Hello", "gemini: a JSON array of "
	    "chunks");
	gp_llm_free(&c);
	run("google-ai", "gemini-sse.req.json", "gemini-error.resp",
	    "application/json", "/v1beta/models/x:generateContent", &c);
	is_str(c.error, "INVALID_ARGUMENT: API key not valid.",
	    "gemini: error object");
	gp_llm_free(&c);
}

static void
sse(void)
{
	static const char s[] = ": comment\r\nevent: a\ndata: one\ndata:two"
	    "\rid: 7\n\nretry: 10\n\ndata\n\nevent: b\ndata: cut";
	struct gp_buf		 scratch = { 0 };
	struct gp_sse_event	 ev;
	const char		*p = s, *end = s + sizeof s - 1;
	int			 partial;

	ok(gp_sse_next(&p, end, &scratch, &ev, &partial) == 1, "sse: event");
	is_str(ev.event, "a", "sse: event name");
	is_str(ev.data, "one\ntwo", "sse: data lines joined, one space "
	    "dropped, CR, LF and CRLF ends");
	is_str(ev.id, "7", "sse: id");
	ok(gp_sse_next(&p, end, &scratch, &ev, &partial) == 1, "sse: a data "
	    "line without colon");
	is_str(ev.data, "", "sse: ... has empty data (retry-only skipped)");
	ok(gp_sse_next(&p, end, &scratch, &ev, &partial) == 0 && partial,
	    "sse: unterminated event is not dispatched, but noticed");
	gp_buf_free(&scratch);
	ok(gp_sse_looks("data: x", 7) && !gp_sse_looks("{\"a\":1}", 7),
	    "sse: looks");
}

static void
registry(void)
{
	struct gp_endpoint_rule	 r[16];
	const struct gp_endpoint_rule *m;
	size_t			 n = gp_endpoint_nbuiltin;
	char			*body;
	size_t			 len;

	memcpy(r, gp_endpoint_builtin, n * sizeof *r);
	m = gp_endpoint_match(r, n, "POST", "API.Anthropic.com",
	    "/v1/messages");
	is_str(m ? m->decoder : NULL, "anthropic", "registry: built-in, "
	    "host case-insensitive");
	m = gp_endpoint_match(r, n, "POST", "generativelanguage.googleapis."
	    "com", "/v1beta/models/gemini-2.5-pro:streamGenerateContent");
	is_str(m ? m->decoder : NULL, "google-ai", "registry: path glob");
	m = gp_endpoint_match(r, n, "WS_RESP", "api.openai.com",
	    "/v1/responses");
	is_str(m ? m->decoder : NULL, "openai-ws", "registry: WebSocket rows");
	ok(gp_endpoint_match(r, n, "GET", "api.anthropic.com",
	    "/v1/messages") == NULL, "registry: method must match");
	r[n] = (struct gp_endpoint_rule){ 9, "*.corp.example", "/llm/*", "*",
	    "anthropic", 10, 1, 1 };
	m = gp_endpoint_match(&r[n], 1, "PUT", "gw.corp.example",
	    "/llm/v1/messages");
	is_str(m ? m->decoder : NULL, "anthropic", "registry: user rule, "
	    "any method");
	ok(gp_endpoint_check("h", "/p", "POST", "nope") != NULL &&
	    gp_endpoint_check("h", "p", "POST", "openai") != NULL &&
	    gp_endpoint_check("*", "/p", "POST", "openai") != NULL &&
	    gp_endpoint_check("h", "/p", "BREW", "openai") != NULL &&
	    gp_endpoint_check("h", "/p", "post", "openai") == NULL,
	    "registry: user rules checked as the original");
	body = NULL;
	len = 0;
#define SHAPE(file, want) do {						\
	body = slurp(file, &len);					\
	is_str(gp_endpoint_shape(body, len), want, "shape: " file);	\
	free(body);							\
} while (0)
	SHAPE("anthropic-sse.req.json", "anthropic");
	SHAPE("chat-json.req.json", "openai-chat");
	SHAPE("responses-json.req.json", "openai");
	SHAPE("gemini-sse.req.json", "google-ai");
	SHAPE("anthropic-json.req.json", "anthropic");
	ok(gp_endpoint_shape("{\"a\":1}", 7) == NULL &&
	    gp_endpoint_shape("nope", 4) == NULL, "shape: not an LLM request");
	is_str(gp_dissector_at(0)->name, "anthropic", "dissectors listed");
}

static void
clients(void)
{
	static const struct {
		const char *heads, *want;
	} t[] = {
		{ "{\"User-Agent\":[\"claude-cli/2.1.197 (external, "
		    "sdk-cli)\"]}", "claude-code" },
		{ "{\"originator\":[\"codex_exec\"]}", "codex" },
		{ "{\"User-Agent\":[\"GeminiCLI-tui/0.61.0/gemini-2.5-pro "
		    "(linux; x64; terminal)\"]}", "gemini-cli" },
		{ "{\"User-Agent\":[\"GeminiCLI/0.1.0\"]}", "gemini-cli" },
		{ "{\"X-Title\":[\"opencode\"]}", "opencode" },
		{ "{\"HTTP-Referer\":[\"https://aider.chat\"]}", "aider" },
		{ "{\"User-Agent\":[\"Anthropic/JS 1.12.0\"]}",
		    "anthropic-sdk" },
		{ "{\"User-Agent\":[\"OpenAI/JS 6.49.0\"]}", "openai-sdk" },
		{ "{\"x-goog-api-client\":[\"google-genai-sdk/2.32.0 "
		    "gl-node/v20\"]}", "google-genai-sdk" },
		{ "{\"User-Agent\":[\"curl/8\"]}", "generic" },
	};
	struct gp_llm_call	 c;
	cJSON			*h;
	size_t			 i;

	gp_llm_init(&c);
	for (i = 0; i < GP_ARRAY_LEN(t); i++) {
		h = gp_llm_heads(t[i].heads);
		is_str(gp_llm_client(h, &c), t[i].want, "client: %s",
		    t[i].want);
		cJSON_Delete(h);
	}
	h = gp_llm_heads("{\"X-Claude-Code-Session-Id\":[\"s-1\"]}");
	c.session_id = "from-body";
	is_str(gp_llm_session("claude-code", h, &c), "s-1", "session: "
	    "header first");
	cJSON_Delete(h);
	is_str(gp_llm_session("generic", NULL, &c), "from-body",
	    "session: else the body's");
	c.system = "Act as an expert software developer. Be diligent and "
	    "tireless!";
	is_str(gp_llm_client(NULL, &c), "aider", "client: aider's system "
	    "prompt");
	gp_llm_free(&c);
	ok(gp_llm_scaffolding("  <system-reminder>x") &&
	    gp_llm_scaffolding("") && !gp_llm_scaffolding("fix the bug"),
	    "scaffolding");
	ok(gp_llm_agent_tool("Agent") && gp_llm_agent_tool("spawn_agent") &&
	    !gp_llm_agent_tool("Bash"), "agent tools");
	{
		char *p = gp_llm_agent_prompt("{\"description\":\"d\","
		    "\"prompt\":\"find the bug\"}");

		is_str(p, "find the bug", "agent prompt");
		free(p);
	}
}

static void
threads(void)
{
	struct gp_llm_call	 c, d;
	char			*a, *b;
	cJSON			*turns, *j;
	char			*s;

	/* Two requests of one Gemini conversation: the second rewrote the
	 * first's history (signature dropped, ids added, a duplicated
	 * response), yet compares as its extension. */
	gp_llm_init(&c);
	gp_llm_init(&d);
	gp_llm_block_add(&c, gp_llm_msg_add(&c, "user"), GP_LLM_TEXT)->text =
	    "how  many\nfiles?";
	gp_llm_block_add(&c, gp_llm_msg_add(&c, "assistant"),
	    GP_LLM_TOOL_USE)->name = "ls";
	gp_llm_block_add(&d, gp_llm_msg_add(&d, "user"), GP_LLM_TEXT)->text =
	    "<session_context>new</session_context>";
	gp_llm_block_add(&d, &d.msgs[0], GP_LLM_TEXT)->text =
	    "how many files? ";
	gp_llm_block_add(&d, gp_llm_msg_add(&d, "assistant"),
	    GP_LLM_TOOL_USE)->id = "id-added";
	gp_llm_block_add(&d, gp_llm_msg_add(&d, "user"),
	    GP_LLM_TOOL_RESULT)->text = "2";
	gp_llm_block_add(&d, &d.msgs[2], GP_LLM_TOOL_RESULT)->text = "2";
	gp_llm_block_add(&d, gp_llm_msg_add(&d, "user"), GP_LLM_TEXT)->text =
	    "and now?";
	a = gp_llm_fps(c.msgs, c.nmsgs);
	b = gp_llm_fps(d.msgs, d.nmsgs);
	ok(gp_llm_fps_prefix(a, b), "thread: rewritten history still "
	    "extends");
	ok(!gp_llm_fps_prefix(b, a), "thread: not the other way");
	ok(!gp_llm_fps_prefix("", b), "thread: nothing is no prefix");
	free(a);
	free(b);

	turns = gp_llm_turns(&d, d.msgs, d.nmsgs);
	is_int(cJSON_GetArraySize(turns), 2, "turns: one per prompt");
	j = cJSON_GetArrayItem(turns, 0);
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(j, "user_prompt")),
	    "how many files? ", "turns: prompt without scaffolding");
	s = cJSON_PrintUnformatted(j);
	ok(strstr(s, "\"result_preview\":\"2\"") != NULL, "turns: the result "
	    "joined its call (%s)", s);
	free(s);
	cJSON_Delete(turns);

	j = gp_llm_msgs_json(d.msgs, d.nmsgs);
	gp_llm_free(&c);
	gp_llm_init(&c);
	gp_llm_msgs_load(&c, j);
	cJSON_Delete(j);
	a = gp_llm_fps(c.msgs, c.nmsgs);
	b = gp_llm_fps(d.msgs, d.nmsgs);
	is_str(a, b, "messages: stored and loaded compare equal");
	is_int(c.msgs[1].b[0].kind, GP_LLM_TOOL_USE, "messages: kinds kept");
	free(a);
	free(b);
	is_str(gp_llm_cut(&c, "h\xc3\xa9llo", 2), "h\xe2\x80\xa6", "cut: "
	    "never inside a UTF-8 sequence");
	{	/* a tool's big result is kept only as far as shown */
		struct gp_llm_call	 e;
		char			*big = malloc(20000), *js;
		cJSON			*j;

		memset(big, 'x', 19999);
		big[19999] = '\0';
		gp_llm_init(&e);
		gp_llm_block_add(&e, gp_llm_msg_add(&e, "user"),
		    GP_LLM_TOOL_RESULT)->text = big;
		gp_llm_block_add(&e, &e.msgs[0], GP_LLM_TEXT)->text = big;
		j = gp_llm_msgs_json(e.msgs, e.nmsgs);
		js = cJSON_PrintUnformatted(j);
		ok(strlen(js) < 20000 + 4096 + 200, "stored: a tool result cut "
		    "at 4 KiB, text whole (%zu bytes)", strlen(js));
		free(js);
		cJSON_Delete(j);
		gp_llm_free(&e);
		free(big);
	}
	gp_llm_free(&c);
	gp_llm_free(&d);
}

/* Recorded from @anthropic-ai/sdk 1.12.0 through greyproxy
 * (tests/e2e/llm-sdk.sh): what the SDK really sends. */
static void
sdk(void)
{
	struct gp_llm_call	 c;
	size_t			 n;
	char			*h = slurp("sdk-anthropic-stream.heads.json", &n);
	cJSON			*heads = gp_llm_heads(h);

	run("anthropic", "sdk-anthropic-stream.req.json",
	    "sdk-anthropic-stream.resp", "text/event-stream; charset=utf-8",
	    "/v1/messages", &c);
	is_str(gp_llm_client(heads, &c), "anthropic-sdk", "sdk: the client "
	    "from its user agent");
	is_str(c.system, "You are a terse assistant.", "sdk: system blocks");
	is_int(c.ntools, 1, "sdk: its tool");
	ok(c.stream, "sdk: stream:true");
	is_str(blk(&c.reply, 0)->text, "You said: what is the weather in "
	    "Paris", "sdk: the streamed reply");
	ok(gp_llm_utility("anthropic-sdk", &c) == NULL, "sdk: not utility");
	gp_llm_free(&c);
	run("anthropic", "sdk-anthropic-json.req.json",
	    "sdk-anthropic-json.resp", "application/json", "/v1/messages", &c);
	is_int(gp_llm_prompts(c.msgs, c.nmsgs), 2, "sdk: turn 2 carries "
	    "both prompts");
	is_str(blk(&c.reply, 0)->text, "You said: and in Lyon", "sdk: the "
	    "JSON reply");
	gp_llm_free(&c);
	cJSON_Delete(heads);
	free(h);

	/* openai 6.49.0 and @google/genai 2.32.0, the same way */
	h = slurp("sdk-openai-chat.heads.json", &n);
	heads = gp_llm_heads(h);
	run("openai-chat", "sdk-openai-chat.req.json", "sdk-openai-chat.resp",
	    "application/json", "/v1/chat/completions", &c);
	is_str(gp_llm_client(heads, &c), "openai-sdk", "sdk: OpenAI's");
	is_str(c.system, "Be brief.", "sdk: chat system message");
	is_int(gp_llm_prompts(c.msgs, c.nmsgs), 2, "sdk: chat turn 2");
	is_str(blk(&c.reply, 0)->text, "You said: another one", "sdk: chat "
	    "reply");
	is_int(c.usage.output, 6, "sdk: chat usage");
	gp_llm_free(&c);
	cJSON_Delete(heads);
	free(h);
	run("openai", "sdk-openai-responses-stream.req.json",
	    "sdk-openai-responses-stream.resp", "text/event-stream",
	    "/v1/responses", &c);
	is_str(c.system, "Answer in one word.", "sdk: responses instructions");
	is_str(blk(&c.msgs[0], 0)->text, "capital of Italy", "sdk: string "
	    "input");
	is_str(blk(&c.reply, 0)->text, "You said: capital of Italy",
	    "sdk: responses stream");
	ok(!c.reply_truncated && c.why == NULL, "sdk: responses complete");
	gp_llm_free(&c);
	h = slurp("sdk-genai-stream.heads.json", &n);
	heads = gp_llm_heads(h);
	run("google-ai", "sdk-genai-stream.req.json", "sdk-genai-stream.resp",
	    "text/event-stream",
	    "/v1beta/models/gemini-2.5-flash:streamGenerateContent", &c);
	is_str(gp_llm_client(heads, &c), "google-genai-sdk", "sdk: Google's");
	is_str(c.system, "Be exact.", "sdk: systemInstruction");
	is_str(blk(&c.reply, 0)->text, "You said: count to three", "sdk: "
	    "Gemini chunks joined");
	is_int(c.usage.output, 4, "sdk: Gemini usage");
	gp_llm_free(&c);
	cJSON_Delete(heads);
	free(h);
}

int
main(void)
{
	sse();
	anthropic();
	openai();
	chat();
	gemini();
	registry();
	clients();
	threads();
	sdk();
	return tap_done();
}
