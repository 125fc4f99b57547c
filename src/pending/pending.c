/* pending.c: the queue of destinations waiting for a decision. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pending/pending.h"

static struct gp_pending_entry *
entry_new(struct gp_pending *pq, const struct gp_store_pending *row)
{
	struct gp_pending_entry	*e = gp_xcalloc(1, sizeof *e);

	e->id = row->id;
	e->container = gp_xstrdup(row->container);
	e->host = gp_xstrdup(row->host);
	if (row->resolved_hostname != NULL)
		e->resolved_hostname = gp_xstrdup(row->resolved_hostname);
	e->port = row->port;
	e->local = row->local;
	e->first_seen = row->first_seen;
	e->last_seen = row->last_seen;
	e->attempts = row->attempts;
	e->next = pq->head;
	if (pq->head != NULL)
		pq->head->prev = e;
	pq->head = e;
	pq->count++;
	return e;
}

static void
entry_free(struct gp_pending *pq, struct gp_pending_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		pq->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	pq->count--;
	free(e->container);
	free(e->host);
	free(e->resolved_hostname);
	free(e->request);
	free(e->protocol);
	free(e->addresses);
	free(e);
}

static void
on_row(void *data, const struct gp_store_pending *row)
{
	entry_new(data, row);
}

void
gp_pending_init(struct gp_pending *pq, struct gp_store *store,
    struct gp_bus *bus)
{
	memset(pq, 0, sizeof *pq);
	pq->store = store;
	pq->bus = bus;
	if (store != NULL)
		gp_store_pending_load(store, on_row, pq);
}

void
gp_pending_free(struct gp_pending *pq)
{
	gp_pending_flush(pq);
	while (pq->head != NULL) {
		struct gp_waiter *w;

		for (w = pq->head->waiters; w != NULL; w = w->next)
			w->e = NULL;
		entry_free(pq, pq->head);
	}
}

static void
waiters_changed(struct gp_pending *pq, struct gp_pending_entry *e,
    size_t previous)
{
	struct gp_waiters_change c = { e, previous, e->nwaiters };

	gp_bus_emit(pq->bus, GP_EV_WAITERS_CHANGED, &c);
}

struct gp_pending_entry *
gp_pending_hold(struct gp_pending *pq, const struct gp_pending_key *k,
    struct gp_waiter *w)
{
	struct gp_pending_entry	*e;
	int64_t			 now = gp_now();
	int			 created = 0;

	for (e = pq->head; e != NULL; e = e->next)
		if (e->port == k->port && strcmp(e->host, k->host) == 0 &&
		    strcmp(e->container, k->container) == 0)
			break;
	if (e == NULL) {
		struct gp_store_pending row = { 0, k->container, k->host,
		    k->resolved_hostname, k->port, k->local, now, now, 1 };
		static int64_t	 mem_id;

		/* Without a database row the entry still works, unsaved. */
		if (pq->store == NULL ||
		    gp_store_pending_insert(pq->store, &row) != 0)
			row.id = (int64_t)1 << 40 | ++mem_id;
		e = entry_new(pq, &row);
		created = 1;
	} else {
		e->attempts++;
		e->last_seen = now;
		e->dirty = 1;
		if (k->resolved_hostname != NULL && e->resolved_hostname ==
		    NULL)
			e->resolved_hostname = gp_xstrdup(k->resolved_hostname);
	}
	/* Details for the person deciding; the first request is kept. */
	if (e->request == NULL && k->request != NULL)
		e->request = gp_xstrdup(k->request);
	if (e->protocol == NULL && k->protocol != NULL)
		e->protocol = gp_xstrdup(k->protocol);
	if (e->addresses == NULL && k->addresses != NULL)
		e->addresses = gp_xstrdup(k->addresses);
	w->e = e;
	w->prev = NULL;
	w->next = e->waiters;
	if (e->waiters != NULL)
		e->waiters->prev = w;
	e->waiters = w;
	e->nwaiters++;
	gp_bus_emit(pq->bus, created ? GP_EV_PENDING_CREATED :
	    GP_EV_PENDING_UPDATED, e);
	waiters_changed(pq, e, e->nwaiters - 1);
	return e;
}

static void
unlink_waiter(struct gp_waiter *w)
{
	struct gp_pending_entry	*e = w->e;

	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		e->waiters = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	e->nwaiters--;
	w->e = NULL;
	w->next = w->prev = NULL;
}

void
gp_pending_release(struct gp_pending *pq, struct gp_waiter *w)
{
	struct gp_pending_entry	*e = w->e;

	if (e == NULL)
		return;
	unlink_waiter(w);
	waiters_changed(pq, e, e->nwaiters + 1);
}

struct gp_pending_entry *
gp_pending_find(struct gp_pending *pq, int64_t id)
{
	struct gp_pending_entry	*e;

	for (e = pq->head; e != NULL; e = e->next)
		if (e->id == id)
			return e;
	return NULL;
}

static const char *
display_host(const struct gp_pending_entry *e)
{
	return e->resolved_hostname != NULL ? e->resolved_hostname : e->host;
}

/* Answers and frees one entry. */
static void
finish(struct gp_pending *pq, struct gp_pending_entry *e, enum gp_verdict v,
    int64_t rule_id)
{
	struct gp_waiter	*w;

	if (pq->store != NULL && e->id < (int64_t)1 << 40)
		gp_store_pending_delete(pq->store, e->id);
	/* Callbacks may not touch the entry: unlink each waiter first. */
	while ((w = e->waiters) != NULL) {
		unlink_waiter(w);
		w->cb(w, v, rule_id);
	}
	entry_free(pq, e);
}

int
gp_pending_resolve(struct gp_pending *pq, int64_t id, enum gp_verdict v,
    int64_t rule_id)
{
	struct gp_pending_entry	*e = gp_pending_find(pq, id), *s, *next;
	char			*container, *host;
	unsigned		 port;

	if (e == NULL)
		return -ENOENT;
	container = gp_xstrdup(e->container);
	host = gp_xstrdup(display_host(e));
	port = e->port;
	finish(pq, e, v, rule_id);
	for (s = pq->head; s != NULL; s = next) {
		next = s->next;
		if (s->port == port && strcmp(s->container, container) == 0 &&
		    strcmp(display_host(s), host) == 0)
			finish(pq, s, v, rule_id);
	}
	free(container);
	free(host);
	return 0;
}

void
gp_pending_flush(struct gp_pending *pq)
{
	struct gp_pending_entry	*e;

	for (e = pq->head; e != NULL; e = e->next) {
		if (!e->dirty)
			continue;
		e->dirty = 0;
		if (pq->store != NULL && e->id < (int64_t)1 << 40)
			gp_store_pending_touch(pq->store, e->id, e->attempts,
			    e->last_seen);
	}
}

static int
by_last_seen(const void *a, const void *b)
{
	const struct gp_pending_entry *x = *(struct gp_pending_entry *const *)a;
	const struct gp_pending_entry *y = *(struct gp_pending_entry *const *)b;

	if (x->last_seen != y->last_seen)
		return x->last_seen < y->last_seen ? 1 : -1;
	return x->id < y->id ? 1 : x->id > y->id ? -1 : 0;
}

size_t
gp_pending_list(struct gp_pending *pq, struct gp_pending_entry ***out)
{
	struct gp_pending_entry	**v, *e;
	size_t			  n = 0;

	v = gp_xcalloc(pq->count ? pq->count : 1, sizeof *v);
	for (e = pq->head; e != NULL; e = e->next)
		v[n++] = e;
	qsort(v, n, sizeof *v, by_last_seen);
	*out = v;
	return n;
}

size_t
gp_pending_waiting(const struct gp_pending *pq)
{
	const struct gp_pending_entry	*e;
	size_t				 n = 0;

	for (e = pq->head; e != NULL; e = e->next)
		n += e->nwaiters;
	return n;
}
