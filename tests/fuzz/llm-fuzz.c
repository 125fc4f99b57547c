/*
 * llm-fuzz.c: one LLM dissector (DISSECTOR, set per binary) on a request
 * and a reply split where the first two bytes say, the reply read as a
 * stream or as JSON by the third; then everything the assembler does
 * with a call: turns, fingerprints, the stored form and back, client,
 * session and utility.  Without DISSECTOR: the SSE parser, the shape
 * of a request and the Markdown export.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "dissect/dissect.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#ifdef DISSECTOR
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct gp_dissector	*d = gp_dissector_find(DISSECTOR);
	struct gp_llm_input		 in = { 0 };
	struct gp_llm_call		 c, back;
	size_t				 cut;
	char				*req, *resp, *fps;
	cJSON				*j;

	if (size < 3 || d == NULL)
		return 0;
	cut = ((size_t)data[0] << 8 | data[1]) % (size - 2);
	/* NUL-terminated copies: the capture stores bodies as blobs, the
	 * dissectors must not read past their length either */
	req = malloc(cut + 1);
	memcpy(req, data + 3, cut);
	resp = malloc(size - 3 - cut + 1);
	memcpy(resp, data + 3 + cut, size - 3 - cut);
	in.method = strcmp(DISSECTOR, "openai-ws") == 0 ? (data[2] & 1 ?
	    "WS_RESP" : "WS_REQ") : "POST";
	in.host = "api.example.com";
	in.path = "/v1beta/models/m:streamGenerateContent";
	in.req = req;
	in.req_len = cut;
	in.resp = resp;
	in.resp_len = size - 3 - cut;
	in.resp_type = data[2] & 2 ? "text/event-stream" : "application/json";
	in.resp_truncated = data[2] & 4;
	gp_llm_init(&c);
	d->parse(&in, &c);
	j = gp_llm_turns(&c, c.msgs, c.nmsgs);
	cJSON_Delete(j);
	fps = gp_llm_fps(c.msgs, c.nmsgs);
	j = gp_llm_msgs_json(c.msgs, c.nmsgs);
	gp_llm_init(&back);
	gp_llm_msgs_load(&back, j);
	cJSON_Delete(j);
	{
		char *again = gp_llm_fps(back.msgs, back.nmsgs);

		if (strcmp(fps, again) != 0)	/* stored form loses nothing */
			__builtin_trap();
		free(again);
	}
	(void)gp_llm_utility(gp_llm_client(NULL, &c), &c);
	(void)gp_llm_session("generic", NULL, &c);
	(void)gp_llm_prompts(c.msgs, c.nmsgs);
	free(fps);
	gp_llm_free(&back);
	gp_llm_free(&c);
	free(req);
	free(resp);
	return 0;
}
#else
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_buf		 scratch = { 0 }, md = { 0 };
	struct gp_sse_event	 ev;
	const char		*p = (const char *)data, *end = p + size;
	char			*s, *pretty;
	cJSON			*j;
	int			 partial;

	while (gp_sse_next(&p, end, &scratch, &ev, &partial))
		if (strlen(ev.data) > ev.len)
			__builtin_trap();
	gp_buf_free(&scratch);
	(void)gp_endpoint_shape((const char *)data, size);
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	pretty = gp_json_pretty(s);
	free(pretty);
	if ((j = cJSON_Parse(s)) != NULL) {
		gp_conv_markdown(j, &md);
		gp_buf_free(&md);
		cJSON_Delete(j);
	}
	(void)gp_llm_scaffolding(s);
	free(gp_llm_agent_prompt(s));
	free(s);
	return 0;
}
#endif
