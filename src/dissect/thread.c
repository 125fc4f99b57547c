/*
 * thread.c: a conversation's messages compared and read as turns.
 * Clients rewrite history (ids added, signatures dropped, results
 * repeated on resume), so messages compare by what a person could read
 * of them — role and non-scaffolding text, whitespace folded — never by
 * bytes.  Turns start at each real prompt; an assistant message is a
 * step; tool results join the call they answer.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "dissect/dissect.h"

#define INPUT_PREVIEW	2000
#define RESULT_PREVIEW	2000
#define THINK_PREVIEW	1000

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n-- > 0) {
		h ^= *s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Hashes t with runs of white space as one space, ends trimmed. */
static uint64_t
fnv_folded(uint64_t h, const char *t, int *any)
{
	int space = 0;

	while (isspace((unsigned char)*t))
		t++;
	for (; *t != '\0'; t++) {
		if (isspace((unsigned char)*t)) {
			space = 1;
			continue;
		}
		if (space)
			h = fnv(h, " ", 1);
		space = 0;
		h = fnv(h, t, 1);
		*any = 1;
	}
	return h;
}

uint64_t
gp_llm_text_fp(const char *t)
{
	int		any = 0;
	uint64_t	h = fnv_folded(0xcbf29ce484222325ULL, t, &any);

	return any ? h : 0;
}

uint64_t
gp_llm_msg_fp(const struct gp_llm_msg *m)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	const char	*role = strcmp(m->role, "assistant") == 0 ||
	    strcmp(m->role, "model") == 0 ? "a" : "u";
	size_t		i;
	int		any = 0;

	h = fnv(h, role, 1);
	for (i = 0; i < m->n; i++)
		if (m->b[i].kind == GP_LLM_TEXT &&
		    !gp_llm_scaffolding(m->b[i].text)) {
			h = fnv(h, "\n", 1);
			h = fnv_folded(h, m->b[i].text, &any);
		}
	return any ? (h == 0 ? 1 : h) : 0;
}

char *
gp_llm_fps(const struct gp_llm_msg *m, size_t n)
{
	struct gp_buf	b = { 0 };
	size_t		i;

	gp_buf_add(&b, "", 1);
	b.len = 0;
	for (i = 0; i < n; i++) {
		uint64_t fp = gp_llm_msg_fp(&m[i]);

		if (fp != 0)
			gp_buf_printf(&b, "%016llx", (unsigned long long)fp);
	}
	return b.data;
}

int
gp_llm_fps_prefix(const char *fps, const char *of)
{
	size_t n = strlen(fps);

	return n > 0 && n <= strlen(of) && strncmp(fps, of, n) == 0;
}

const char *
gp_llm_prompt(struct gp_llm_call *c, const struct gp_llm_msg *m)
{
	struct gp_llm_block	out = { 0 };
	size_t			i;

	if (strcmp(m->role, "user") != 0)
		return NULL;
	for (i = 0; i < m->n; i++) {
		if (m->b[i].kind != GP_LLM_TEXT ||
		    gp_llm_scaffolding(m->b[i].text))
			continue;
		if (out.text != NULL)
			gp_llm_text_cat(c, &out, "\n", 1);
		gp_llm_text_cat(c, &out, m->b[i].text, strlen(m->b[i].text));
	}
	return out.text;
}

static int
is_prompt(const struct gp_llm_msg *m)
{
	size_t i;

	if (strcmp(m->role, "user") != 0)
		return 0;
	for (i = 0; i < m->n; i++)
		if (m->b[i].kind == GP_LLM_TEXT &&
		    !gp_llm_scaffolding(m->b[i].text))
			return 1;
	return 0;
}

int
gp_llm_prompts(const struct gp_llm_msg *m, size_t n)
{
	size_t	i;
	int	k = 0;

	for (i = 0; i < n; i++)
		k += is_prompt(&m[i]);
	return k;
}

static const char *const kinds[] = { "text", "thinking", "tool_use",
	"tool_result" };

/*
 * What a conversation keeps of its messages: text whole (prompts and
 * answers, which continuation compares), but thinking, tool inputs and
 * results only as far as any preview shows them — a file a tool read is
 * in the transaction already, and rewriting it with every request of a
 * long session would write the history again and again.
 */
#define STORED_MAX	4096

/* s cut at max bytes, whole UTF-8 characters, "…" after (malloc'd). */
static char *
cut_copy(const char *s, size_t max)
{
	size_t	 n = max;
	char	*t;

	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	t = gp_xmalloc(n + 4);
	memcpy(t, s, n);
	memcpy(t + n, "\xe2\x80\xa6", 4);
	return t;
}

cJSON *
gp_llm_msgs_json(const struct gp_llm_msg *m, size_t n)
{
	cJSON	*a = cJSON_CreateArray(), *o, *bs, *b;
	size_t	 i, k;

	for (i = 0; i < n; i++) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "role", m[i].role);
		bs = cJSON_AddArrayToObject(o, "blocks");
		for (k = 0; k < m[i].n; k++) {
			const struct gp_llm_block *x = &m[i].b[k];

			b = cJSON_CreateObject();
			cJSON_AddStringToObject(b, "type", kinds[x->kind]);
			if (x->text != NULL && x->kind != GP_LLM_TEXT &&
			    strlen(x->text) > STORED_MAX) {
				char *cut = cut_copy(x->text, STORED_MAX);

				cJSON_AddStringToObject(b, "text", cut);
				free(cut);
			} else if (x->text != NULL)
				cJSON_AddStringToObject(b, "text", x->text);
			if (x->name != NULL)
				cJSON_AddStringToObject(b, "name", x->name);
			if (x->id != NULL)
				cJSON_AddStringToObject(b, "id", x->id);
			if (x->is_error)
				cJSON_AddTrueToObject(b, "is_error");
			cJSON_AddItemToArray(bs, b);
		}
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

void
gp_llm_msgs_load(struct gp_llm_call *c, const cJSON *a)
{
	const cJSON	*o, *b;
	size_t		 k;

	cJSON_ArrayForEach(o, a) {
		const char		*role = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(o, "role"));
		struct gp_llm_msg	*m = gp_llm_msg_add(c, role != NULL ?
		    role : "user");

		cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(o,
		    "blocks")) {
			const char		*t = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(b, "type"));
			struct gp_llm_block	*x;

			for (k = 0; k < GP_ARRAY_LEN(kinds); k++)
				if (t != NULL && strcmp(t, kinds[k]) == 0)
					break;
			if (k == GP_ARRAY_LEN(kinds))
				continue;
			x = gp_llm_block_add(c, m, (enum gp_llm_kind)k);
			x->text = gp_llm_strdup(c, cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(b, "text")));
			x->name = gp_llm_strdup(c, cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(b, "name")));
			x->id = gp_llm_strdup(c, cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(b, "id")));
			x->is_error = cJSON_IsTrue(
			    cJSON_GetObjectItemCaseSensitive(b, "is_error"));
		}
	}
}

const char *
gp_llm_cut(struct gp_llm_call *c, const char *s, size_t max)
{
	size_t	 n;
	char	*t;

	if (s == NULL)
		return NULL;
	if ((n = strlen(s)) <= max)
		return s;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;		/* not inside a UTF-8 sequence */
	t = gp_arena_alloc(&c->a, n + 4);
	memcpy(t, s, n);
	memcpy(t + n, "\xe2\x80\xa6", 4);
	return t;
}

/* One line saying what a tool call does: its command, file or query. */
static char *
summary(const char *input)
{
	static const char *const keys[] = { "command", "cmd", "file_path",
	    "path", "pattern", "url", "query", "description" };
	cJSON	*j;
	char	*s = NULL;
	size_t	 i;

	if (input == NULL || *input != '{' || (j = cJSON_Parse(input)) ==
	    NULL)
		return NULL;
	for (i = 0; s == NULL && i < GP_ARRAY_LEN(keys); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[i]);

		if (cJSON_IsString(v))
			s = gp_xstrdup(v->valuestring);
		else if (cJSON_IsArray(v) && cJSON_IsString(v->child))
			s = gp_xstrdup(v->child->valuestring);
	}
	cJSON_Delete(j);
	return s;
}

/* The tool call a result answers: by id, else the first unanswered
 * call of that name (Gemini), else the first unanswered one. */
static cJSON *
answered(cJSON *calls, const struct gp_llm_block *r)
{
	cJSON *tc, *first = NULL;

	cJSON_ArrayForEach(tc, calls) {
		const char *id = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(tc, "tool_use_id"));
		const char *tool = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(tc, "tool"));
		int done = cJSON_GetObjectItemCaseSensitive(tc,
		    "result_preview") != NULL;

		if (r->id != NULL && id != NULL) {
			if (strcmp(r->id, id) == 0)
				return tc;
			continue;
		}
		if (done)
			continue;
		if (r->name != NULL && tool != NULL &&
		    strcmp(r->name, tool) == 0)
			return tc;
		if (first == NULL && r->name == NULL)
			first = tc;
	}
	return first;
}

cJSON *
gp_llm_turns(struct gp_llm_call *c, const struct gp_llm_msg *m, size_t n)
{
	cJSON	*turns = cJSON_CreateArray(), *turn = NULL, *steps = NULL;
	cJSON	*calls = cJSON_CreateArray();	/* every call, for results */
	size_t	 i, k;
	int	 num = 0;

	for (i = 0; i < n; i++) {
		if (is_prompt(&m[i]) || turn == NULL) {
			turn = cJSON_CreateObject();
			cJSON_AddNumberToObject(turn, "turn_number", ++num);
			cJSON_AddStringToObject(turn, "user_prompt",
			    is_prompt(&m[i]) ? gp_llm_prompt(c, &m[i]) : "");
			steps = cJSON_AddArrayToObject(turn, "steps");
			cJSON_AddItemToArray(turns, turn);
		}
		if (strcmp(m[i].role, "assistant") == 0) {
			cJSON			*st = cJSON_CreateObject();
			cJSON			*tcs = NULL;
			struct gp_llm_block	 text = { 0 }, think = { 0 };

			cJSON_AddStringToObject(st, "type", "assistant");
			for (k = 0; k < m[i].n; k++) {
				const struct gp_llm_block	*b = &m[i].b[k];
				struct gp_llm_block		*into;
				cJSON				*tc;
				char				*sum;

				if (b->kind == GP_LLM_TOOL_USE) {
					if (tcs == NULL)
						tcs = cJSON_CreateArray();
					tc = cJSON_CreateObject();
					cJSON_AddStringToObject(tc, "tool",
					    b->name != NULL ? b->name : "");
					cJSON_AddStringToObject(tc,
					    "input_preview", gp_llm_cut(c,
					    b->text != NULL ? b->text : "",
					    INPUT_PREVIEW));
					if ((sum = summary(b->text)) != NULL) {
						cJSON_AddStringToObject(tc,
						    "tool_summary", gp_llm_cut(c,
						    sum, 200));
						free(sum);
					}
					if (b->id != NULL)
						cJSON_AddStringToObject(tc,
						    "tool_use_id", b->id);
					cJSON_AddItemToArray(tcs, tc);
					cJSON_AddItemReferenceToArray(calls,
					    tc);
					continue;
				}
				if (b->kind != GP_LLM_TEXT &&
				    b->kind != GP_LLM_THINKING)
					continue;
				if (b->text == NULL || *b->text == '\0')
					continue;
				into = b->kind == GP_LLM_TEXT ? &text : &think;
				if (into->text != NULL)
					gp_llm_text_cat(c, into, "\n\n", 2);
				gp_llm_text_cat(c, into, b->text,
				    strlen(b->text));
			}
			if (text.text != NULL)
				cJSON_AddStringToObject(st, "text", text.text);
			if (think.text != NULL)
				cJSON_AddStringToObject(st, "thinking_preview",
				    gp_llm_cut(c, think.text, THINK_PREVIEW));
			if (tcs != NULL)
				cJSON_AddItemToObject(st, "tool_calls", tcs);
			cJSON_AddItemToArray(steps, st);
			continue;
		}
		for (k = 0; k < m[i].n; k++) {	/* results answer calls */
			const struct gp_llm_block	*b = &m[i].b[k];
			cJSON				*tc;

			if (b->kind != GP_LLM_TOOL_RESULT ||
			    (tc = answered(calls, b)) == NULL ||
			    cJSON_GetObjectItemCaseSensitive(tc,
			    "result_preview") != NULL)
				continue;
			cJSON_AddStringToObject(tc, "result_preview",
			    gp_llm_cut(c, b->text != NULL ? b->text : "",
			    RESULT_PREVIEW));
			if (b->is_error)
				cJSON_AddTrueToObject(tc, "is_error");
		}
	}
	cJSON_Delete(calls);
	return turns;
}
