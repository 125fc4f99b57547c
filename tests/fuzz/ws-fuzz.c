/* ws-fuzz.c: WebSocket frames as the capture reads them — split in two
 * reads where the first byte says — with compressed messages inflated
 * through one context, as permessage-deflate keeps it. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "http/http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct ctx {
	struct gp_inflater	*inf;
	struct gp_buf		 out;
};

static void
on_msg(void *arg, const struct gp_ws_msg *m)
{
	struct ctx *c = arg;

	if (m->n > 4096)
		__builtin_trap();		/* the cap */
	if (m->compressed && c->inf != NULL)
		gp_inflater_message(c->inf, m->p, m->n, 4096, &c->out);
	if (c->out.len > 4096)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_wsf	w;
	struct ctx	c = { NULL, { 0 } };
	size_t		cut;

	if (size == 0)
		return 0;
	c.inf = gp_inflater_new();
	cut = (size_t)data[0] % size;
	gp_wsf_init(&w, 4096);
	if (gp_wsf_feed(&w, (const char *)data + 1, cut, on_msg, &c) == 0)
		gp_wsf_feed(&w, (const char *)data + 1 + cut, size - 1 - cut,
		    on_msg, &c);
	gp_wsf_free(&w);
	gp_inflater_free(c.inf);
	gp_buf_free(&c.out);
	return 0;
}
