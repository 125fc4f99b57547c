/* bus.c: synchronous publish/subscribe (see core.h for the rules). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"

struct gp_bus_sub {
	int		 id;
	int		 dead;
	int		 born;		/* added during this dispatch */
	gp_bus_fn	 fn;
	void		*data;
};

static const char *event_names[] = {
#define X(sym, name) name,
	GP_EVENTS(X)
#undef X
};

const char *
gp_event_name(enum gp_event ev)
{
	return (unsigned)ev < GP_EV__COUNT ? event_names[ev] : "unknown";
}

int
gp_event_parse(const char *s)
{
	int	i;

	for (i = 0; i < GP_EV__COUNT; i++)
		if (strcmp(s, event_names[i]) == 0)
			return i;
	return -1;
}

int
gp_bus_subscribe(struct gp_bus *b, gp_bus_fn fn, void *data)
{
	static int	next_id;
	struct gp_bus_sub *s;

	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 8;
		b->subs = gp_xrealloc(b->subs, b->cap * sizeof *b->subs);
	}
	s = &b->subs[b->n++];
	memset(s, 0, sizeof *s);
	s->id = ++next_id;
	s->fn = fn;
	s->data = data;
	s->born = b->depth > 0;
	return s->id;
}

static void
sweep(struct gp_bus *b)
{
	size_t	i, o = 0;

	for (i = 0; i < b->n; i++) {
		b->subs[i].born = 0;
		if (!b->subs[i].dead)
			b->subs[o++] = b->subs[i];
	}
	b->n = o;
	b->dead = 0;
}

void
gp_bus_unsubscribe(struct gp_bus *b, int id)
{
	size_t	i;

	for (i = 0; i < b->n; i++) {
		if (b->subs[i].id == id) {
			b->subs[i].dead = 1;
			b->dead = 1;
		}
	}
	if (b->depth == 0)
		sweep(b);
}

void
gp_bus_emit(struct gp_bus *b, enum gp_event ev, const void *obj)
{
	size_t	i, n = b->n;

	b->depth++;
	/* Index, not pointer: a subscribe during dispatch may realloc. */
	for (i = 0; i < n; i++) {
		struct gp_bus_sub s = b->subs[i];

		if (!s.dead && !s.born)
			s.fn(s.data, ev, obj);
	}
	if (--b->depth == 0)
		sweep(b);
}

void
gp_bus_free(struct gp_bus *b)
{
	free(b->subs);
	memset(b, 0, sizeof *b);
}
