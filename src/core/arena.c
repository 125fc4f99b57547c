/*
 * arena.c: a bump allocator for objects that die together (a
 * transaction's copies of its heads, after h2o's per-request pool): no
 * individual frees, one gp_arena_free() for all.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define CHUNK_MIN	4096

struct gp_arena_chunk {
	struct gp_arena_chunk	*next;
	size_t			 used, cap;
	max_align_t		 data[];
};

void *
gp_arena_alloc(struct gp_arena *a, size_t n)
{
	struct gp_arena_chunk	*c = a->head;
	size_t			 al = _Alignof(max_align_t);
	size_t			 need = (n + al - 1) / al * al, cap;
	char			*p;

	if (c == NULL || c->cap - c->used < need) {
		cap = a->chunk > CHUNK_MIN ? a->chunk : CHUNK_MIN;
		if (cap < need)
			cap = need;
		c = sizeof *c + cap < GP_MAP_MIN ? gp_xmalloc(sizeof *c + cap) :
		    gp_xmap(sizeof *c + cap);
		c->used = 0;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
	}
	p = (char *)c->data + c->used;
	c->used += need;
	a->total += need;
	return p;
}

char *
gp_arena_strndup(struct gp_arena *a, const char *s, size_t n)
{
	char *p = gp_arena_alloc(a, n + 1);

	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
gp_arena_free(struct gp_arena *a)
{
	struct gp_arena_chunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		gp_xunmap(c, sizeof *c + c->cap);
	}
	a->head = NULL;
	a->total = 0;
}
