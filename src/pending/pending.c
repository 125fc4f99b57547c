/*
 * pending.c: the queue of destinations waiting for a decision.  Entries
 * sit in a list ordered by when they were last seen (newest first) and
 * in two chained hashes, by key (container, host, port) and by id.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pending/pending.h"

#define DEF_MAX_ENTRIES	10000
#define DEF_MAX_WAITERS	4096
#define DEF_RETENTION	(7 * 86400)

/* FNV-1a over the key's parts. */
static uint64_t
key_hash(const char *container, const char *host, unsigned port)
{
	uint64_t	 h = 1469598103934665603ULL;
	const char	*parts[2] = { container, host };
	size_t		 i;

	for (i = 0; i < 2; i++) {
		for (const unsigned char *p = (const unsigned char *)parts[i];
		    *p != '\0'; p++)
			h = (h ^ *p) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;
	}
	return (h ^ port) * 1099511628211ULL;
}

static const char *
display_host(const struct gp_pending_entry *e)
{
	return e->resolved_hostname != NULL ? e->resolved_hostname : e->host;
}

/* Siblings share container, port and the name shown (an IP's entry and
 * a name's, once both resolve to it): one decision answers them all. */
static uint64_t
sib_hash(const struct gp_pending_entry *e)
{
	return key_hash(e->container, display_host(e), e->port);
}

static size_t
id_bucket(const struct gp_pending *pq, int64_t id)
{
	return (size_t)((uint64_t)id * 11400714819323198485ULL >> 20) &
	    (pq->nbuckets - 1);
}

static void
hash_insert(struct gp_pending *pq, struct gp_pending_entry *e)
{
	size_t	b = e->keyhash & (pq->nbuckets - 1);

	e->hkey = pq->bykey[b];
	pq->bykey[b] = e;
	b = id_bucket(pq, e->id);
	e->hid = pq->byid[b];
	pq->byid[b] = e;
	e->sibhash = sib_hash(e);
	b = e->sibhash & (pq->nbuckets - 1);
	e->hsib = pq->bysib[b];
	pq->bysib[b] = e;
}

static void
hash_remove(struct gp_pending *pq, struct gp_pending_entry *e)
{
	struct gp_pending_entry	**pp;

	for (pp = &pq->bykey[e->keyhash & (pq->nbuckets - 1)]; *pp != e;
	    pp = &(*pp)->hkey)
		;
	*pp = e->hkey;
	for (pp = &pq->byid[id_bucket(pq, e->id)]; *pp != e;
	    pp = &(*pp)->hid)
		;
	*pp = e->hid;
	for (pp = &pq->bysib[e->sibhash & (pq->nbuckets - 1)]; *pp != e;
	    pp = &(*pp)->hsib)
		;
	*pp = e->hsib;
}

/* Keeps the load factor at most 1. */
static void
hash_grow(struct gp_pending *pq)
{
	struct gp_pending_entry	*e;

	if (pq->count < pq->nbuckets)
		return;
	free(pq->bykey);
	free(pq->byid);
	free(pq->bysib);
	pq->nbuckets *= 2;
	pq->bykey = gp_xcalloc(pq->nbuckets, sizeof *pq->bykey);
	pq->byid = gp_xcalloc(pq->nbuckets, sizeof *pq->byid);
	pq->bysib = gp_xcalloc(pq->nbuckets, sizeof *pq->bysib);
	for (e = pq->head; e != NULL; e = e->next)
		hash_insert(pq, e);
}

static void
list_unlink(struct gp_pending *pq, struct gp_pending_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		pq->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		pq->tail = e->prev;
	e->next = e->prev = NULL;
}

static void
list_push(struct gp_pending *pq, struct gp_pending_entry *e)
{
	e->prev = NULL;
	e->next = pq->head;
	if (pq->head != NULL)
		pq->head->prev = e;
	else
		pq->tail = e;
	pq->head = e;
}

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
	e->keyhash = key_hash(e->container, e->host, e->port);
	pq->count++;
	hash_grow(pq);
	hash_insert(pq, e);
	/* Loaded rows may come in any order: keep the list by last_seen. */
	if (pq->tail != NULL && pq->tail->last_seen > e->last_seen) {
		e->prev = pq->tail;
		pq->tail->next = e;
		pq->tail = e;
	} else if (pq->head == NULL || pq->head->last_seen <= e->last_seen) {
		list_push(pq, e);
	} else {
		struct gp_pending_entry *at = pq->head;

		while (at->next != NULL && at->next->last_seen > e->last_seen)
			at = at->next;
		e->prev = at;
		e->next = at->next;
		if (at->next != NULL)
			at->next->prev = e;
		else
			pq->tail = e;
		at->next = e;
	}
	return e;
}

static void
entry_free(struct gp_pending *pq, struct gp_pending_entry *e)
{
	hash_remove(pq, e);
	list_unlink(pq, e);
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
	pq->max_entries = DEF_MAX_ENTRIES;
	pq->max_waiters = DEF_MAX_WAITERS;
	pq->retention = DEF_RETENTION;
	pq->nbuckets = 64;
	pq->bykey = gp_xcalloc(pq->nbuckets, sizeof *pq->bykey);
	pq->byid = gp_xcalloc(pq->nbuckets, sizeof *pq->byid);
	pq->bysib = gp_xcalloc(pq->nbuckets, sizeof *pq->bysib);
	pq->next_id = 1;
	if (store != NULL) {
		gp_store_pending_load(store, on_row, pq);
		pq->next_id = gp_store_pending_next_id(store);
		pq->given = pq->next_id - 1;
	}
}

void
gp_pending_free(struct gp_pending *pq)
{
	/* What is owed, in one transaction (or one statement each when
	 * none can begin). */
	if (pq->store != NULL && gp_pending_dirty(pq)) {
		int tx = gp_store_begin(pq->store) == 0;

		gp_pending_flush(pq, 0);
		gp_pending_flushed(pq, !tx || gp_store_commit(pq->store) == 0);
	}
	while (pq->head != NULL) {
		struct gp_waiter *w;

		for (w = pq->head->waiters; w != NULL; w = w->next)
			w->e = NULL;
		entry_free(pq, pq->head);
	}
	free(pq->bykey);
	free(pq->byid);
	free(pq->bysib);
	pq->bykey = pq->byid = pq->bysib = NULL;
	free(pq->gone);
	pq->gone = NULL;
	pq->ngone = pq->gone_cap = 0;
}

/* An entry leaves: its row goes at the next flush, if it has one. */
static void
forget(struct gp_pending *pq, const struct gp_pending_entry *e)
{
	if (pq->store == NULL || e->dirty == GP_PENDING_NEW)
		return;
	if (pq->ngone == pq->gone_cap) {
		pq->gone_cap = pq->gone_cap ? 2 * pq->gone_cap : 64;
		pq->gone = gp_xrealloc(pq->gone,
		    pq->gone_cap * sizeof *pq->gone);
	}
	pq->gone[pq->ngone++] = e->id;
}

static void
waiters_changed(struct gp_pending *pq, struct gp_pending_entry *e,
    size_t previous)
{
	struct gp_waiters_change c = { e, previous, e->nwaiters };

	gp_bus_emit(pq->bus, GP_EV_WAITERS_CHANGED, &c);
}

static struct gp_pending_entry *
find_key(struct gp_pending *pq, const struct gp_pending_key *k)
{
	uint64_t		 h = key_hash(k->container, k->host, k->port);
	struct gp_pending_entry	*e;

	for (e = pq->bykey[h & (pq->nbuckets - 1)]; e != NULL; e = e->hkey)
		if (e->keyhash == h && e->port == k->port &&
		    strcmp(e->host, k->host) == 0 &&
		    strcmp(e->container, k->container) == 0)
			return e;
	return NULL;
}

/* Removes an entry nobody waits for, announcing it. */
static void
drop_unwatched(struct gp_pending *pq, struct gp_pending_entry *e)
{
	struct gp_decision d = { e->id, GP_DENY, NULL, 0, GP_VERDICT_DISMISS };

	forget(pq, e);
	entry_free(pq, e);
	gp_bus_emit(pq->bus, GP_EV_PENDING_DISMISSED, &d);
}

/*
 * Room for one more entry: evicts the least recently seen entry without
 * waiters.  Entries with waiters are at most max_waiters, so the walk
 * from the tail is bounded by that, not by the number of entries.
 */
static int
make_room(struct gp_pending *pq)
{
	struct gp_pending_entry	*e;

	if (pq->count < pq->max_entries)
		return 0;
	for (e = pq->tail; e != NULL && e->nwaiters > 0; e = e->prev)
		;
	if (e == NULL)
		return -1;
	pq->evicted++;
	drop_unwatched(pq, e);
	return 0;
}

static void
refused(struct gp_pending *pq, const struct gp_pending_key *k,
    const char *why)
{
	if (pq->refused++ % 1000 == 0)
		gp_log(GP_LOG_WARN, "pending queue full (%s): refusing new "
		    "waits (%llu so far)", why,
		    (unsigned long long)pq->refused);
}

struct gp_pending_entry *
gp_pending_hold(struct gp_pending *pq, const struct gp_pending_key *k,
    struct gp_waiter *w)
{
	struct gp_pending_entry	*e;
	int64_t			 now = gp_now();
	int			 created = 0;

	if (pq->waiting >= pq->max_waiters) {
		refused(pq, k, "connections waiting");
		return NULL;
	}
	e = find_key(pq, k);
	if (e == NULL) {
		struct gp_store_pending row = { 0, k->container, k->host,
		    k->resolved_hostname, k->port, k->local, now, now, 1 };

		if (make_room(pq) != 0) {
			refused(pq, k, "entries");
			return NULL;
		}
		row.id = pq->next_id++;
		e = entry_new(pq, &row);
		e->dirty = GP_PENDING_NEW;
		pq->ndirty++;
		created = 1;
	} else {
		e->attempts++;
		e->last_seen = now;
		if (e->dirty == GP_PENDING_CLEAN) {
			e->dirty = GP_PENDING_TOUCHED;
			pq->ndirty++;
		}
		list_unlink(pq, e);
		list_push(pq, e);
		if (k->resolved_hostname != NULL && e->resolved_hostname ==
		    NULL) {
			hash_remove(pq, e);	/* its siblings change */
			e->resolved_hostname = gp_xstrdup(k->resolved_hostname);
			hash_insert(pq, e);
		}
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
	pq->waiting++;
	gp_bus_emit(pq->bus, created ? GP_EV_PENDING_CREATED :
	    GP_EV_PENDING_UPDATED, e);
	waiters_changed(pq, e, e->nwaiters - 1);
	return e;
}

static void
unlink_waiter(struct gp_pending *pq, struct gp_waiter *w)
{
	struct gp_pending_entry	*e = w->e;

	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		e->waiters = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	e->nwaiters--;
	pq->waiting--;
	w->e = NULL;
	w->next = w->prev = NULL;
}

void
gp_pending_release(struct gp_pending *pq, struct gp_waiter *w)
{
	struct gp_pending_entry	*e = w->e;

	if (e == NULL)
		return;
	unlink_waiter(pq, w);
	waiters_changed(pq, e, e->nwaiters + 1);
}

struct gp_pending_entry *
gp_pending_find(struct gp_pending *pq, int64_t id)
{
	struct gp_pending_entry	*e;

	for (e = pq->byid[id_bucket(pq, id)]; e != NULL; e = e->hid)
		if (e->id == id)
			return e;
	return NULL;
}

/* Answers, announces and frees one entry. */
static void
finish(struct gp_pending *pq, struct gp_pending_entry *e, enum gp_verdict v,
    const struct gp_rule *rule, int64_t rule_id)
{
	struct gp_waiter	*w;
	struct gp_decision	 d = { e->id, v == GP_VERDICT_ALLOW ||
	    v == GP_VERDICT_RULE ? GP_ALLOW : GP_DENY, rule, rule_id, v };

	forget(pq, e);
	/* Callbacks may not touch the entry: unlink each waiter first. */
	while ((w = e->waiters) != NULL) {
		unlink_waiter(pq, w);
		w->cb(w, v, rule_id);
	}
	entry_free(pq, e);
	gp_bus_emit(pq->bus, d.action == GP_ALLOW ? GP_EV_PENDING_ALLOWED :
	    GP_EV_PENDING_DISMISSED, &d);
}

int
gp_pending_resolve(struct gp_pending *pq, int64_t id, enum gp_verdict v,
    const struct gp_rule *rule, int64_t rule_id)
{
	struct gp_pending_entry	*e = gp_pending_find(pq, id), *s;
	int64_t			 few[16], *sib = few;
	size_t			 n = 0, cap = 16, i;

	if (e == NULL)
		return -ENOENT;
	/* Its siblings, by ids: answering one may change the chains. */
	for (s = pq->bysib[e->sibhash & (pq->nbuckets - 1)]; s != NULL;
	    s = s->hsib) {
		if (s == e || s->sibhash != e->sibhash || s->port != e->port ||
		    strcmp(s->container, e->container) != 0 ||
		    strcmp(display_host(s), display_host(e)) != 0)
			continue;
		if (n == cap) {
			cap *= 2;
			sib = sib == few ? memcpy(gp_xmalloc(cap * sizeof *sib),
			    few, sizeof few) : gp_xrealloc(sib, cap *
			    sizeof *sib);
		}
		sib[n++] = s->id;
	}
	finish(pq, e, v, rule, rule_id);
	for (i = 0; i < n; i++)
		if ((s = gp_pending_find(pq, sib[i])) != NULL)
			finish(pq, s, v, rule, rule_id);
	if (sib != few)
		free(sib);
	return 0;
}

/*
 * Writes what changed since the last flush, at most max statements (0:
 * all), the rest at the next: rows of entries gone first (a key evicted
 * and seen again comes back under a new id), then new entries and
 * changed counts.  The caller's transaction may still fail to commit:
 * gp_pending_flushed() says how it ended.
 */
void
gp_pending_flush(struct gp_pending *pq, size_t max)
{
	struct gp_pending_entry	*e;
	size_t			 i, kept = 0, done = 0;

	pq->sent_gone = 0;
	pq->sent_given = pq->given;
	if (pq->store == NULL) {
		for (e = pq->head; e != NULL; e = e->next)
			e->dirty = GP_PENDING_CLEAN;
		pq->ndirty = 0;
		return;
	}
	/* Written ids move to the front, kept there until the commit. */
	for (i = 0; i < pq->ngone && (max == 0 || done < max); i++, done++)
		if (gp_store_pending_delete(pq->store, pq->gone[i]) == 0) {
			int64_t t = pq->gone[kept];

			pq->gone[kept++] = pq->gone[i];
			pq->gone[i] = t;
		}
	pq->sent_gone = kept;
	if (pq->next_id - 1 > pq->given &&
	    gp_store_pending_given(pq->store, pq->next_id - 1) == 0)
		pq->given = pq->next_id - 1;
	pq->ndirty = 0;
	for (e = pq->head; e != NULL; e = e->next) {
		struct gp_store_pending row = { e->id, e->container, e->host,
		    e->resolved_hostname, e->port, e->local, e->first_seen,
		    e->last_seen, e->attempts };
		int rc;

		if (e->dirty == GP_PENDING_CLEAN)
			continue;
		if (max != 0 && done++ >= max) {
			pq->ndirty++;		/* owed to the next flush */
			break;
		}
		rc = e->dirty == GP_PENDING_TOUCHED ?
		    gp_store_pending_touch(pq->store, e->id, e->attempts,
		    e->last_seen) : gp_store_pending_insert(pq->store, &row);
		if (rc == 0)
			e->dirty = GP_PENDING_CLEAN;
		else
			pq->ndirty++;
	}
}

/*
 * After the flush's transaction: committed, the removals written are
 * done; rolled back, everything is owed again (each entry is written
 * whole, replacing its row: a few milliseconds at the entry bound, and
 * only after a failure).
 */
void
gp_pending_flushed(struct gp_pending *pq, int committed)
{
	struct gp_pending_entry	*e;

	if (committed && pq->sent_gone > 0) {
		memmove(pq->gone, pq->gone + pq->sent_gone,
		    (pq->ngone - pq->sent_gone) * sizeof *pq->gone);
		pq->ngone -= pq->sent_gone;
	} else if (!committed) {
		pq->given = pq->sent_given;
		pq->ndirty = 0;
		for (e = pq->head; e != NULL; e = e->next) {
			if (pq->store == NULL)
				break;
			/* A row never written stays so: no delete owed. */
			if (e->dirty != GP_PENDING_NEW)
				e->dirty = GP_PENDING_REWRITE;
			pq->ndirty++;
		}
	}
	pq->sent_gone = 0;
}

/* Something is owed to the database (may count entries that have left
 * since). */
int
gp_pending_dirty(const struct gp_pending *pq)
{
	return pq->ndirty > 0 || pq->ngone > 0 ||
	    (pq->store != NULL && pq->next_id - 1 > pq->given);
}

size_t
gp_pending_expire(struct gp_pending *pq, int64_t now)
{
	struct gp_pending_entry	*e, *prev;
	size_t			 n = 0;

	/* The tail is the least recently seen; stop at the first entry
	 * still within retention (entries with waiters are skipped). */
	for (e = pq->tail; e != NULL && e->last_seen + pq->retention < now;
	    e = prev) {
		prev = e->prev;
		if (e->nwaiters > 0)
			continue;
		drop_unwatched(pq, e);
		n++;
	}
	return n;
}

size_t
gp_pending_list(struct gp_pending *pq, struct gp_pending_entry ***out)
{
	struct gp_pending_entry	**v, *e;
	size_t			  n = 0;

	/* The list is kept newest first already. */
	v = gp_xcalloc(pq->count ? pq->count : 1, sizeof *v);
	for (e = pq->head; e != NULL; e = e->next)
		v[n++] = e;
	*out = v;
	return n;
}

size_t
gp_pending_waiting(const struct gp_pending *pq)
{
	return pq->waiting;
}
