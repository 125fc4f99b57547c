/*
 * dissect.h: LLM API traffic read back from captured transactions.
 * Pure: bytes in, structs out; nothing here touches the loop, the store
 * or the network, so every piece has a unit test and a fuzz harness.
 *
 * sse.c: text/event-stream (WHATWG HTML 9.2) split into events.
 * llm.c: the call every dissector fills (one arena per call).
 * anthropic.c, openai.c (Responses over HTTP and WebSocket, Chat
 * Completions), gemini.c: request and reply, JSON or streamed.
 * registry.c: endpoint rules (host, path, method -> dissector) and the
 * shape of an unknown LLM request.
 * client.c: which coding client sent a call, its session id, whether it
 * is a utility request, the scaffolding a client wraps prompts in.
 * thread.c: normalized message fingerprints, turns and steps.
 */
#ifndef GP_DISSECT_H
#define GP_DISSECT_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* --- sse.c --- */
struct gp_sse_event {
	const char	*event;		/* "" when none was named */
	const char	*data;		/* data lines joined with \n */
	size_t		 len;
	const char	*id;
};
/*
 * Next complete event from *p (moved past it); its strings live in *scratch
 * until the next call.  Comments, retry fields and events without data are
 * skipped as the spec does.  Returns 1 with an event, 0 at the end (what
 * is left is an unterminated event: *partial says whether one had data).
 */
int	gp_sse_next(const char **p, const char *end, struct gp_buf *scratch,
	    struct gp_sse_event *, int *partial);
/* Does a body look like an event stream (first field line is one)? */
int	gp_sse_looks(const char *, size_t);

/* --- llm.c --- */
enum gp_llm_kind { GP_LLM_TEXT, GP_LLM_THINKING, GP_LLM_TOOL_USE,
	GP_LLM_TOOL_RESULT };

struct gp_llm_block {
	enum gp_llm_kind	 kind;
	const char		*text;	/* text, thinking, result, tool input */
	const char		*name;	/* tool */
	const char		*id;	/* tool_use id it is, or answers */
	int			 is_error;
	size_t			 len, cap;	/* text's, for _cat */
};

struct gp_llm_msg {
	const char		*role;	/* user, assistant, tool: "user" */
	struct gp_llm_block	*b;
	size_t			 n, cap;
};

struct gp_llm_usage {
	int64_t	input, output, cache_read, cache_write;
};

struct gp_llm_call {
	struct gp_arena		 a;
	const char		*dissector, *provider;
	const char		*model;
	const char		*system;	/* parts joined, or NULL */
	struct gp_llm_msg	*msgs;		/* the request's history */
	size_t			 nmsgs, capmsgs;
	const char		**tools;	/* tool names offered */
	size_t			 ntools, captools;
	struct gp_llm_msg	 reply;		/* role assistant */
	int			 has_reply;
	const char		*stop_reason;
	struct gp_llm_usage	 usage;
	int			 stream;
	int			 status;	/* HTTP, 0 unknown */
	const char		*error;		/* "type: message" */
	const char		*session_id;	/* from the body */
	const char		*response_id, *prev_response_id;
	int			 warmup;	/* generate:false */
	int			 ws;		/* a WebSocket frame */
	int			 ws_reply_only;	/* a WS_RESP row */
	int			 reply_truncated;
	const char		*why;		/* could not parse: why */
	const char		*hint;		/* client named by the body */
};

void	gp_llm_init(struct gp_llm_call *);
void	gp_llm_free(struct gp_llm_call *);
const char *gp_llm_strdup(struct gp_llm_call *, const char *);
const char *gp_llm_strndup(struct gp_llm_call *, const char *, size_t);
struct gp_llm_msg *gp_llm_msg_add(struct gp_llm_call *, const char *role);
struct gp_llm_block *gp_llm_block_add(struct gp_llm_call *,
	    struct gp_llm_msg *, enum gp_llm_kind);
void	gp_llm_tool_add(struct gp_llm_call *, const char *name);
/* Appends text to a block's text (arena copy). */
void	gp_llm_text_cat(struct gp_llm_call *, struct gp_llm_block *,
	    const char *, size_t);
/* The last block of m of that kind, or a new one. */
struct gp_llm_block *gp_llm_block_last(struct gp_llm_call *,
	    struct gp_llm_msg *, enum gp_llm_kind);
void	gp_llm_fail(struct gp_llm_call *, const char *why);

/* What a dissector reads: one captured transaction. */
struct gp_llm_input {
	const char	*method, *host, *path;		/* path without query */
	const char	*req_type, *resp_type;
	const char	*req, *resp;			/* bodies */
	size_t		 req_len, resp_len;
	int		 status, resp_truncated;
};

/* A dissector fills call from in; it never fails outright: what it could
 * not read is in call->why and the rest is kept. */
struct gp_dissector {
	const char	*name, *provider, *description;
	void		(*parse)(const struct gp_llm_input *,
			    struct gp_llm_call *);
};
const struct gp_dissector *gp_dissector_find(const char *name);
const struct gp_dissector *gp_dissector_at(size_t i);	/* NULL: end */

void	gp_dissect_anthropic(const struct gp_llm_input *,
	    struct gp_llm_call *);
void	gp_dissect_openai(const struct gp_llm_input *, struct gp_llm_call *);
void	gp_dissect_openai_ws(const struct gp_llm_input *,
	    struct gp_llm_call *);
void	gp_dissect_chat(const struct gp_llm_input *, struct gp_llm_call *);
void	gp_dissect_gemini(const struct gp_llm_input *, struct gp_llm_call *);

/* --- registry.c --- */
struct gp_endpoint_rule {
	int64_t		 id;
	const char	*host, *path, *method, *decoder;
	int		 priority, enabled, user_defined;
};
extern const struct gp_endpoint_rule gp_endpoint_builtin[];
extern const size_t gp_endpoint_nbuiltin;
/* The first rule (in the order given: priority DESC, id ASC) that takes
 * method host path, or NULL. */
const struct gp_endpoint_rule *gp_endpoint_match(
	    const struct gp_endpoint_rule *, size_t n, const char *method,
	    const char *host, const char *path);
/* An LLM request body's shape: "anthropic", "openai", "openai-chat",
 * "google-ai", or NULL when it does not look like one. */
const char *gp_endpoint_shape(const char *body, size_t len);
/* Checks a user rule: NULL, or what is wrong with it. */
const char *gp_endpoint_check(const char *host, const char *path,
	    const char *method, const char *decoder);

/* --- client.c --- */
/* Heads as stored ({Name:[values]}) read once: cJSON_Delete it. */
struct cJSON;
struct cJSON *gp_llm_heads(const char *json);
/* The first value of a header (case-insensitive), or NULL. */
const char *gp_llm_header(const struct cJSON *heads, const char *name);
/* Client name: claude-code, codex, gemini-cli, opencode, aider,
 * anthropic-sdk, openai-sdk, google-genai-sdk, generic. */
const char *gp_llm_client(const struct cJSON *heads,
	    const struct gp_llm_call *);
/* The client's own session id (headers, then body), or NULL: in the
 * call's arena. */
const char *gp_llm_session(const char *client, const struct cJSON *heads,
	    struct gp_llm_call *);
/* A utility request (title, quota probe, warm-up, scorer): why, or NULL. */
const char *gp_llm_utility(const char *client, const struct gp_llm_call *);
/* Is a text block client scaffolding rather than what a person typed? */
int	gp_llm_scaffolding(const char *text);
/* Tools that start a sub-agent, and the prompt field of their input. */
int	gp_llm_agent_tool(const char *name);
char	*gp_llm_agent_prompt(const char *input_json);

/* --- thread.c --- */
/* A message's fingerprint: its role and what a person could read of it
 * (non-scaffolding text, whitespace folded); 0 when it has none. */
uint64_t gp_llm_msg_fp(const struct gp_llm_msg *);
uint64_t gp_llm_text_fp(const char *);
/* The fingerprints of msgs, as 16 hex digits each (malloc'd). */
char	*gp_llm_fps(const struct gp_llm_msg *, size_t n);
/* Is fps a prefix (whole fingerprints) of of? */
int	gp_llm_fps_prefix(const char *fps, const char *of);
/* A user message with a real prompt: its text (arena), else NULL. */
const char *gp_llm_prompt(struct gp_llm_call *, const struct gp_llm_msg *);
/* Real prompts in msgs. */
int	gp_llm_prompts(const struct gp_llm_msg *, size_t n);
/* Messages as stored: [{role, blocks:[{type, text?, name?, id?,
 * is_error?}]}], thinking and tool texts cut at 4 KiB (text whole);
 * loading appends to call->msgs. */
struct cJSON *gp_llm_msgs_json(const struct gp_llm_msg *, size_t n);
void	gp_llm_msgs_load(struct gp_llm_call *, const struct cJSON *);
/* Turns of a thread: [{turn_number, user_prompt, steps:[{type,
 * text?, thinking_preview?, tool_calls?[{tool, input_preview,
 * tool_summary?, tool_use_id?, result_preview?, is_error?}]}]}], a turn
 * per real prompt, tool results paired with their calls by id (by name
 * in order where the API has no ids). */
struct cJSON *gp_llm_turns(struct gp_llm_call *, const struct gp_llm_msg *,
	    size_t n);
/* A UTF-8 safe cut of s at most max bytes (arena), "…" marked. */
const char *gp_llm_cut(struct gp_llm_call *, const char *s, size_t max);

/* --- export.c --- */
/* A conversation's detail JSON as Markdown, appended to b. */
void	gp_conv_markdown(const struct cJSON *, struct gp_buf *);
/* JSON text indented by two spaces, "key": value; NULL if not JSON. */
char	*gp_json_pretty(const char *);

#endif
