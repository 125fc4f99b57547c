/*
 * cache.c: DNS answers by (name, type, class), least recently used
 * evicted past max entries, TTLs clamped to [ttl_min, ttl_max]; and the
 * IP → hostname map that lets a connection to a bare IP be judged by the
 * name it was resolved from.  Changes are drained in batches for the
 * database, from lists of the changed entries: walking the whole cache
 * every tick was a tenth of the loop's time in a flood of new names.
 * Pure: no loop, no SQL.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "core/core.h"
#include "dns/dns.h"

struct aent {
	char		*key;
	uint8_t		*pkt;
	size_t		 len;
	int64_t		 stored, expires;
	int		 negative, dirty;
	struct aent	*hnext, *prev, *next;	/* bucket; LRU */
	LIST_ENTRY(aent) dlink;			/* changed, not drained */
};

struct hent {
	char		*ip;
	char		*host;
	int64_t		 expires;
	int		 dirty;
	struct hent	*hnext;
	SLIST_ENTRY(hent) dlink;		/* changed, not drained */
};

struct gp_dns_cache {
	struct aent	**ab;
	size_t		  anb, an;
	struct aent	 *head, *tail;	/* most / least recently used */
	struct hent	**hb;
	size_t		  hnb, hn;
	size_t		  max;
	uint32_t	  ttl_min, ttl_max;
	uint64_t	  hits, misses;
	int		  cleared;
	LIST_HEAD(, aent) adirty;	/* changed answers, newest first */
	SLIST_HEAD(, hent) hdirty;	/* changed hosts */
	size_t		  ndirty;
};

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

struct gp_dns_cache *
gp_dns_cache_new(size_t max, uint32_t ttl_min, uint32_t ttl_max)
{
	struct gp_dns_cache *c = gp_xcalloc(1, sizeof *c);

	c->max = max ? max : 10000;
	c->anb = c->hnb = 1024;
	LIST_INIT(&c->adirty);
	SLIST_INIT(&c->hdirty);
	c->ab = gp_xcalloc(c->anb, sizeof *c->ab);
	c->hb = gp_xcalloc(c->hnb, sizeof *c->hb);
	gp_dns_cache_limits(c, ttl_min, ttl_max);
	return c;
}

void
gp_dns_cache_limits(struct gp_dns_cache *c, uint32_t ttl_min,
    uint32_t ttl_max)
{
	c->ttl_min = ttl_min;
	c->ttl_max = ttl_max ? ttl_max : 86400;
}

static void
lru_unlink(struct gp_dns_cache *c, struct aent *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_front(struct gp_dns_cache *c, struct aent *e)
{
	e->next = c->head;
	if (c->head != NULL)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

static void
adirty_unlink(struct gp_dns_cache *c, struct aent *e)
{
	if (!e->dirty)
		return;
	LIST_REMOVE(e, dlink);
	e->dirty = 0;
	c->ndirty--;
}

static struct aent **
aslot(struct gp_dns_cache *c, const char *key)
{
	struct aent **pp = &c->ab[hash(key) & (c->anb - 1)];

	while (*pp != NULL && strcmp((*pp)->key, key) != 0)
		pp = &(*pp)->hnext;
	return pp;
}

static void
aremove(struct gp_dns_cache *c, struct aent **pp)
{
	struct aent *e = *pp;

	*pp = e->hnext;
	lru_unlink(c, e);
	adirty_unlink(c, e);
	free(e->key);
	free(e->pkt);
	free(e);
	c->an--;
}

static void
agrow(struct gp_dns_cache *c)
{
	struct aent	**nb;
	size_t		  i, nnb = c->anb * 2;

	nb = gp_xcalloc(nnb, sizeof *nb);
	for (i = 0; i < c->anb; i++) {
		struct aent *e, *next;

		for (e = c->ab[i]; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = nb[hash(e->key) & (nnb - 1)];
			nb[hash(e->key) & (nnb - 1)] = e;
		}
	}
	free(c->ab);
	c->ab = nb;
	c->anb = nnb;
}

static void
make_key(char *key, size_t n, const char *name, uint16_t type, uint16_t cls)
{
	snprintf(key, n, "%s|%u|%u", name, type, cls);
}

/* Stores an answer under key; the packet is copied. */
static void
store(struct gp_dns_cache *c, const char *key, const uint8_t *p, size_t len,
    int64_t stored, int64_t expires, int negative, int dirty)
{
	struct aent	**pp = aslot(c, key), *e;

	if (*pp != NULL)
		aremove(c, pp);
	while (c->an >= c->max && c->tail != NULL)
		aremove(c, aslot(c, c->tail->key));	/* evict the LRU */
	if (c->an >= c->anb)
		agrow(c);
	e = gp_xcalloc(1, sizeof *e);
	e->key = gp_xstrdup(key);
	e->pkt = gp_xmalloc(len);
	memcpy(e->pkt, p, len);
	e->len = len;
	e->stored = stored;
	e->expires = expires;
	e->negative = negative;
	if (dirty) {
		e->dirty = 1;
		LIST_INSERT_HEAD(&c->adirty, e, dlink);
		c->ndirty++;
	}
	pp = &c->ab[hash(key) & (c->anb - 1)];
	e->hnext = *pp;
	*pp = e;
	lru_front(c, e);
	c->an++;
}

int
gp_dns_cache_put(struct gp_dns_cache *c, const char *name, uint16_t type,
    uint16_t cls, const uint8_t *p, size_t len, int64_t ttl, int negative,
    int64_t now)
{
	char	key[300];

	if (ttl < 0 || len < GP_DNS_HDR)
		return -1;
	if (ttl < c->ttl_min)
		ttl = c->ttl_min;
	if (ttl > c->ttl_max)
		ttl = c->ttl_max;
	if (ttl == 0)
		return -1;
	make_key(key, sizeof key, name, type, cls);
	store(c, key, p, len, now, now + ttl, negative, 1);
	return 0;
}

void
gp_dns_cache_load(struct gp_dns_cache *c, const char *key, const uint8_t *p,
    size_t len, int64_t stored, int64_t expires, int negative, int64_t now)
{
	/* The copy is as it came: it keeps ageing from when it was stored. */
	if (expires > now && len >= GP_DNS_HDR && stored <= now)
		store(c, key, p, len, stored, expires, negative, 0);
}

uint8_t *
gp_dns_cache_get(struct gp_dns_cache *c, const char *name, uint16_t type,
    uint16_t cls, int64_t now, size_t *len)
{
	struct aent	**pp, *e;
	char		  key[300];
	uint8_t		 *out;

	make_key(key, sizeof key, name, type, cls);
	pp = aslot(c, key);
	if ((e = *pp) == NULL || e->expires <= now) {
		if (e != NULL)
			aremove(c, pp);	/* expired entries are not served */
		c->misses++;
		return NULL;
	}
	lru_unlink(c, e);
	lru_front(c, e);
	c->hits++;
	out = gp_xmalloc(e->len);
	memcpy(out, e->pkt, e->len);
	*len = e->len;
	gp_dns_age(out, e->len, (uint32_t)(now - e->stored));
	return out;
}

static struct hent **
hslot(struct gp_dns_cache *c, const char *ip)
{
	struct hent **pp = &c->hb[hash(ip) & (c->hnb - 1)];

	while (*pp != NULL && strcmp((*pp)->ip, ip) != 0)
		pp = &(*pp)->hnext;
	return pp;
}

static void
hgrow(struct gp_dns_cache *c)
{
	struct hent	**nb;
	size_t		  i, nnb = c->hnb * 2;

	nb = gp_xcalloc(nnb, sizeof *nb);
	for (i = 0; i < c->hnb; i++) {
		struct hent *e, *next;

		for (e = c->hb[i]; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = nb[hash(e->ip) & (nnb - 1)];
			nb[hash(e->ip) & (nnb - 1)] = e;
		}
	}
	free(c->hb);
	c->hb = nb;
	c->hnb = nnb;
}

void
gp_dns_cache_note_host(struct gp_dns_cache *c, const char *ip,
    const char *host, int64_t expires)
{
	struct hent **pp = hslot(c, ip), *e = *pp;

	if (e == NULL) {
		if (c->hn >= 4 * c->max)
			return;		/* bounded like the answers */
		if (c->hn >= c->hnb) {
			hgrow(c);
			pp = hslot(c, ip);
		}
		e = gp_xcalloc(1, sizeof *e);
		e->ip = gp_xstrdup(ip);
		*pp = e;
		c->hn++;
	} else if (strcmp(e->host, host) == 0 && e->expires >= expires)
		return;
	free(e->host);
	e->host = gp_xstrdup(host);
	e->expires = expires;
	if (!e->dirty) {
		e->dirty = 1;
		SLIST_INSERT_HEAD(&c->hdirty, e, dlink);
		c->ndirty++;
	}
}

const char *
gp_dns_cache_host(struct gp_dns_cache *c, const char *ip, int64_t now)
{
	struct hent *e = *hslot(c, ip);

	return e != NULL && e->expires > now ? e->host : NULL;
}

static void
clear_all(struct gp_dns_cache *c)
{
	size_t	i;

	while (c->head != NULL)
		aremove(c, aslot(c, c->head->key));
	for (i = 0; i < c->hnb; i++) {
		struct hent *e, *next;

		for (e = c->hb[i]; e != NULL; e = next) {
			next = e->hnext;
			free(e->ip);
			free(e->host);
			free(e);
		}
		c->hb[i] = NULL;
	}
	c->hn = 0;
	SLIST_INIT(&c->hdirty);
	c->ndirty = 0;		/* the answers' went with them */
}

void
gp_dns_cache_flush(struct gp_dns_cache *c)
{
	clear_all(c);
	c->cleared = 1;
	c->hits = c->misses = 0;
}

void
gp_dns_cache_free(struct gp_dns_cache *c)
{
	if (c == NULL)
		return;
	clear_all(c);
	free(c->ab);
	free(c->hb);
	free(c);
}

void
gp_dns_cache_stats(const struct gp_dns_cache *c, struct gp_dns_cache_stats *s)
{
	s->entries = c->an;
	s->hosts = c->hn;
	s->hits = c->hits;
	s->misses = c->misses;
}

size_t
gp_dns_cache_dirty(const struct gp_dns_cache *c)
{
	return c->ndirty + (size_t)c->cleared;
}

size_t
gp_dns_cache_drain(struct gp_dns_cache *c, const struct gp_dns_dirty *d,
    size_t max)
{
	size_t	n = 0;

	if (c->cleared) {
		c->cleared = 0;
		d->cleared(d->data);
	}
	while (!LIST_EMPTY(&c->adirty) && (max == 0 || n < max)) {
		struct aent *e = LIST_FIRST(&c->adirty);

		adirty_unlink(c, e);
		d->answer(d->data, e->key, e->pkt, e->len, e->stored,
		    e->expires, e->negative);
		n++;
	}
	while (!SLIST_EMPTY(&c->hdirty) && (max == 0 || n < max)) {
		struct hent *h = SLIST_FIRST(&c->hdirty);

		SLIST_REMOVE_HEAD(&c->hdirty, dlink);
		h->dirty = 0;
		c->ndirty--;
		d->host(d->data, h->ip, h->host, h->expires);
		n++;
	}
	return n;
}
