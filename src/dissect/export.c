/*
 * export.c: a conversation (the JSON GET /api/conversations/:id serves)
 * as Markdown — what `greyproxy conversations export` and the TUI's E
 * write.  Pure.  Text from the wire goes into fenced blocks whose fence
 * is longer than any run of backticks inside, so nothing it holds can
 * close them or turn into markup.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "dissect/dissect.h"

static const char *
jstr(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, k));

	return s != NULL ? s : "";
}

static double
jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* A fenced block of s, its fence longer than any backtick run in s. */
static void
fenced(struct gp_buf *b, const char *lang, const char *s)
{
	size_t	run = 0, longest = 0, i;
	char	fence[64];
	const char *p;

	for (p = s; *p != '\0'; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	if (longest >= sizeof fence - 1)
		longest = sizeof fence - 2;
	for (i = 0; i < (longest < 3 ? 3 : longest + 1); i++)
		fence[i] = '`';
	fence[i] = '\0';
	gp_buf_printf(b, "%s%s\n%s%s%s\n\n", fence, lang, s,
	    *s != '\0' && s[strlen(s) - 1] != '\n' ? "\n" : "", fence);
}

char *
gp_json_pretty(const char *s)
{
	cJSON		*j = s != NULL ? cJSON_Parse(s) : NULL;
	char		*p = j != NULL ? cJSON_Print(j) : NULL;
	struct gp_buf	 b = { 0 };
	const char	*q;

	cJSON_Delete(j);
	if (p == NULL)
		return NULL;
	/* cJSON indents with tabs and puts one after ':'; strings hold
	 * no raw tab (JSON escapes it) */
	for (q = p; *q != '\0'; q++) {
		if (*q != '\t')
			gp_buf_add(&b, q, 1);
		else if (q > p && q[-1] == ':')
			gp_buf_add(&b, " ", 1);
		else
			gp_buf_add(&b, "  ", 2);
	}
	gp_buf_add(&b, "", 1);
	cJSON_free(p);
	return b.data;
}

/* Pretty JSON when it is JSON, else the text. */
static void
fenced_json(struct gp_buf *b, const char *s)
{
	char *p = gp_json_pretty(s);

	fenced(b, p != NULL ? "json" : "", p != NULL ? p : s);
	free(p);
}

void
gp_conv_markdown(const cJSON *c, struct gp_buf *b)
{
	const cJSON	*t, *st, *tc, *tok = cJSON_GetObjectItem(c, "tokens");

	gp_buf_printf(b, "# Conversation %s\n\n", jstr(c, "id"));
	gp_buf_printf(b, "- client: %s\n- model: %s\n- provider: %s\n"
	    "- identity: %s\n- started: %s\n- ended: %s\n- turns: %d\n"
	    "- requests: %d\n", jstr(c, "client_name"), jstr(c, "model"),
	    jstr(c, "provider"), jstr(c, "container_name"),
	    jstr(c, "started_at"), jstr(c, "ended_at"),
	    (int)jnum(c, "turn_count"), (int)jnum(c, "requests"));
	if (tok != NULL)
		gp_buf_printf(b, "- tokens: %.0f in, %.0f out, %.0f cache "
		    "read, %.0f cache write\n", jnum(tok, "input"),
		    jnum(tok, "output"), jnum(tok, "cache_read"),
		    jnum(tok, "cache_write"));
	if (*jstr(c, "parent_conversation_id") != '\0')
		gp_buf_printf(b, "- parent: %s\n",
		    jstr(c, "parent_conversation_id"));
	gp_buf_addstr(b, "\n");
	if (*jstr(c, "system_prompt") != '\0') {
		gp_buf_addstr(b, "## System prompt\n\n");
		fenced(b, "", jstr(c, "system_prompt"));
	}
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(c, "turns")) {
		gp_buf_printf(b, "## Turn %d\n\n### User\n\n",
		    (int)jnum(t, "turn_number"));
		fenced(b, "", jstr(t, "user_prompt"));
		cJSON_ArrayForEach(st, cJSON_GetObjectItem(t, "steps")) {
			gp_buf_addstr(b, "### Assistant\n\n");
			if (*jstr(st, "thinking_preview") != '\0') {
				gp_buf_addstr(b, "Thinking:\n\n");
				fenced(b, "", jstr(st, "thinking_preview"));
			}
			if (*jstr(st, "text") != '\0')
				fenced(b, "", jstr(st, "text"));
			cJSON_ArrayForEach(tc, cJSON_GetObjectItem(st,
			    "tool_calls")) {
				gp_buf_printf(b, "Tool call `%s`%s%s:\n\n",
				    jstr(tc, "tool"), *jstr(tc,
				    "linked_conversation_id") ? " → sub-agent "
				    : "", jstr(tc, "linked_conversation_id"));
				fenced_json(b, jstr(tc, "input_preview"));
				if (cJSON_GetObjectItem(tc, "result_preview")) {
					gp_buf_addstr(b, cJSON_IsTrue(
					    cJSON_GetObjectItem(tc, "is_error")) ?
					    "Result (error):\n\n" :
					    "Result:\n\n");
					fenced(b, "", jstr(tc,
					    "result_preview"));
				}
			}
		}
	}
}
