/*
 * txn.c: transactions (http.h): copies of the heads that crossed the
 * proxy, in one arena per transaction.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http.h"

struct gp_txn *
gp_txn_new(uint64_t id)
{
	struct gp_txn *t = gp_xcalloc(1, sizeof *t);

	t->id = id;
	return t;
}

static const char *
dup_iov(struct gp_txn *t, struct gp_iov v)
{
	return gp_arena_strndup(&t->arena, v.p, v.n);
}

static void
copy_head(struct gp_txn *t, struct gp_txn_head *to,
    const struct gp_http_msg *m)
{
	size_t i;

	to->nh = m->nh;
	to->h = gp_arena_alloc(&t->arena, (m->nh ? m->nh : 1) *
	    sizeof *to->h);
	for (i = 0; i < m->nh; i++) {
		to->h[i].name.p = dup_iov(t, m->h[i].name);
		to->h[i].name.n = m->h[i].name.n;
		to->h[i].value.p = dup_iov(t, m->h[i].value);
		to->h[i].value.n = m->h[i].value.n;
	}
}

void
gp_txn_set_request(struct gp_txn *t, const struct gp_http_msg *m)
{
	t->method = dup_iov(t, m->method);
	t->target = dup_iov(t, m->target);
	copy_head(t, &t->req, m);
}

void
gp_txn_set_response(struct gp_txn *t, const struct gp_http_msg *m)
{
	t->status = m->status;
	t->reason = dup_iov(t, m->reason);
	copy_head(t, &t->resp, m);
}

const char *
gp_txn_header(const struct gp_txn_head *h, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < h->nh; i++)
		if (h->h[i].name.n == n &&
		    strncasecmp(h->h[i].name.p, name, n) == 0)
			return h->h[i].value.p;
	return NULL;
}

void
gp_txn_free(struct gp_txn *t)
{
	if (t == NULL)
		return;
	gp_arena_free(&t->arena);
	free(t);
}
