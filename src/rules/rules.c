/*
 * rules.c: compiled rule sets.  Every kind of destination is indexed, so
 * a decision costs a bounded number of hash lookups whatever the number
 * of rules: exact names (one lookup), "*.d"/"**.d" (one per label of the
 * host), free globs by their longest literal prefix or suffix (one per
 * length up to GLOB_KEY), CIDRs by their masked network (one per prefix
 * length in use).  Only "*" and globs without a literal end are
 * scanned.  gp_rules_match_reference() checks every rule one by one:
 * the differential test holds the index to it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"
#include "rules/rules.h"

enum dkind { D_ANY, D_EXACT, D_SUB_STRICT, D_SUB_INCL, D_CIDR, D_GLOB };

/*
 * A compiled rule: two cache lines, its strings inside when they fit, so
 * that checking it costs the one miss that fetches it.
 */
#define CRULE_INL	56

struct crule {
	int64_t		 id;
	int64_t		 expires_at;
	int		 score;
	unsigned char	 dead;		/* removed: never matches */
	unsigned char	 action;	/* enum gp_action */
	unsigned char	 layer;		/* enum gp_layer */
	unsigned char	 kind;		/* enum dkind */
	unsigned char	 family;	/* CIDR: 4 or 6 */
	unsigned char	 prefix;
	unsigned char	 net[16];
	char		*container;	/* NULL: any */
	char		*dest;		/* exact name, suffix, or glob */
	char		*ports;		/* NULL: any */
	char		 s[CRULE_INL];	/* the strings above, where they fit */
};

/* Hash entries, their overflow index arrays and long strings live in
 * the set's arena, in huge pages when the set is big (gp_xmap). */
#define INL	4	/* rule indexes an entry holds in itself */

struct hent {
	uint64_t	 h;		/* hash_str(key) */
	struct hent	*next;
	uint32_t	*idx;		/* inl until more than INL rules */
	uint32_t	 n, cap;
	uint32_t	 inl[INL];	/* most keys have few rules: no miss */
	char		 key[];		/* one allocation with the entry */
};

/* A bucket also holds a tag of its head entry's hash and its first
 * rule, so that a lookup fetches the rule beside the entry instead of
 * after it, and one bit per other entry of its chain, so that a key that
 * is not there almost always costs the bucket alone (a walk down the
 * chain is one more miss after the bucket's: at half a key per bucket,
 * a decision's dozen probes met one in most cold decisions). */
struct bkt {
	uint32_t	 fp;		/* TAG(head), BIT() of the others */
	uint32_t	 idx0;		/* head's first rule (NOIDX: none) */
	struct hent	*e;
};

#define TAG(h)	((uint32_t)((h) >> 48) << 16)
#define BIT(h)	(1u << ((h) >> 32 & 15))

#define NOIDX	0xffffffffu

_Static_assert(sizeof(struct crule) == 128, "a rule is two cache lines");

struct htab {
	struct bkt	 *b;
	struct gp_arena	 *pool;		/* the set's: entries live there */
	size_t		  nb;		/* a power of two */
	unsigned	  shift;	/* 64 - log2(nb) */
	size_t		  nkeys;
	uint64_t	  lens;		/* bit n: a key of length n (63: longer) */
};

#define GLOB_KEY	8	/* literal characters a glob is keyed by */

/* A hash's bucket: Fibonacci hashing (the top bits of h times 2^64/phi)
 * spreads FNV's weak low bits, and costs a multiply where a modulo is a
 * division — a decision plans a dozen of them. */
#define SLOT(t, h)	((size_t)(((h) * 0x9E3779B97F4A7C15ULL) >> (t)->shift))

struct gp_ruleset {
	struct crule	*r;
	struct gp_arena	 pool;
	size_t		 n;
	struct htab	 exact;
	struct htab	 suffix;
	struct htab	 gprefix;	/* globs by literal prefix */
	struct htab	 gsuffix;	/* globs by literal suffix */
	struct htab	 cidr;		/* "4/24/0a000100" → rules */
	unsigned char	 plen4[33], plen6[129];	/* prefix lengths in use */
	size_t		 nplen4, nplen6;	/* how many */
	size_t		 nprefix, nsuffix, ncidr;	/* skip empty indexes */
	size_t		 cap, dead;	/* r's room; rules removed */
	struct htab	 byid;		/* "id" → index, for removal */
	size_t		*scan;		/* rules that cannot be indexed */
	size_t		 nscan;
	/* Request rules: few, judged per HTTP request by a scan. */
	struct reqrule	*rq;
	size_t		 nrq, caprq, deadrq;
};

struct reqrule {
	struct crule	 c;
	char		*method;	/* NULL: any */
	char		*path;		/* NULL: any */
};

static uint64_t	 hash_str(const char *);
static void	 htab_add(struct htab *, const char *, size_t);
static void	 htab_init(struct htab *, struct gp_arena *, size_t);
static const struct hent *htab_get(const struct htab *, const char *);
static void	 htab_free(struct htab *);
static int	 compile_one(struct gp_ruleset *, struct crule *,
		    const struct gp_rule *);
static int	 cidr_match(const struct crule *, const char *);
static void	 consider(const struct gp_ruleset *, size_t,
		    const struct gp_query *, const char *, struct gp_match *);
static int	 dest_matches(const struct crule *, const char *);
static void	 cidr_key(int, int, const unsigned char *, char *, size_t);
static int	 glob_index(struct gp_ruleset *, const struct crule *, size_t);
static void	 index_one(struct gp_ruleset *, const struct crule *, size_t);
static int	 add_request(struct gp_ruleset *, const struct gp_rule *);

void
gp_rule_clear(struct gp_rule *r)
{
	free(r->container);
	free(r->dest);
	free(r->ports);
	free(r->rule_type);
	free(r->created_by);
	free(r->notes);
	free(r->session_id);
	free(r->method);
	free(r->path);
	memset(r, 0, sizeof *r);
}

/* FNV-1a. */
static uint64_t
hash_str(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

/* Buckets for n keys: the power of two at or above 2n, at least 16. */
static void
htab_init(struct htab *t, struct gp_arena *pool, size_t n)
{
	memset(t, 0, sizeof *t);
	t->pool = pool;
	t->nb = 16;
	t->shift = 60;
	while (t->nb < 2 * n) {
		t->nb *= 2;
		t->shift--;
	}
	t->b = gp_xmap(t->nb * sizeof *t->b);
}

/* The bucket's summary of its chain. */
static void
bkt_set(struct bkt *b)
{
	const struct hent *o;

	b->fp = 0;
	b->idx0 = NOIDX;
	if (b->e == NULL)
		return;
	b->fp = TAG(b->e->h);
	for (o = b->e->next; o != NULL; o = o->next)
		b->fp |= BIT(o->h);
	if (b->e->n > 0)
		b->idx0 = b->e->idx[0];
}

/* Makes e the head of its bucket's chain. */
static void
bkt_push(struct htab *t, struct hent *e)
{
	struct bkt	*b = &t->b[SLOT(t, e->h)];

	e->next = b->e;
	b->e = e;
	bkt_set(b);
}

/* Doubles the buckets, keeping chains short as the set grows. */
static void
htab_grow(struct htab *t)
{
	struct bkt	*b = gp_xmap(t->nb * 2 * sizeof *b);
	struct hent	*e, *next;
	struct htab	 bigger = *t;
	size_t		 i;

	bigger.shift--;
	bigger.nb *= 2;
	bigger.b = b;
	for (i = 0; i < t->nb; i++) {
		for (e = t->b[i].e; e != NULL; e = next) {
			next = e->next;
			bkt_push(&bigger, e);
		}
	}
	gp_xunmap(t->b, t->nb * sizeof *t->b);
	*t = bigger;
}

static void
htab_add(struct htab *t, const char *key, size_t idx)
{
	struct hent	*e;
	uint64_t	 h = hash_str(key);
	size_t		 len;

	for (e = t->b[SLOT(t, h)].e; e != NULL; e = e->next)
		if (e->h == h && strcmp(e->key, key) == 0)
			break;
	if (e == NULL) {
		len = strlen(key) + 1;
		t->lens |= 1ULL << (len - 1 < 63 ? len - 1 : 63);
		e = gp_arena_alloc(t->pool, sizeof *e + len);
		memset(e, 0, sizeof *e);
		memcpy(e->key, key, len);
		e->h = h;
		e->idx = e->inl;
		e->cap = INL;
		bkt_push(t, e);
		if (++t->nkeys > t->nb * 2)
			htab_grow(t);	/* rules added one by one */
	}
	if (e->n == e->cap) {	/* the old array stays in the pool */
		uint32_t *v = gp_arena_alloc(t->pool, e->cap * 2 * sizeof *v);

		memcpy(v, e->idx, e->n * sizeof *v);
		e->idx = v;
		e->cap *= 2;
	}
	e->idx[e->n++] = (uint32_t)idx;
	if (e->n == 1)
		bkt_set(&t->b[SLOT(t, h)]);
}

static const struct hent *
htab_get(const struct htab *t, const char *key)
{
	const struct hent	*e;
	uint64_t		 h = hash_str(key);

	for (e = t->b[SLOT(t, h)].e; e != NULL; e = e->next)
		if (e->h == h && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void
htab_free(struct htab *t)
{
	gp_xunmap(t->b, t->nb * sizeof *t->b);	/* entries: the pool's */
	t->b = NULL;
}

int
gp_rules_score(const char *container, const char *dest, const char *ports)
{
	int	score = 0;

	if (strcmp(container, "*") != 0)
		score += gp_glob_has_magic(container) ? 100 : 200;
	if (strcmp(dest, "*") != 0)
		score += gp_glob_has_magic(dest) ? 10 : 20;
	if (strcmp(ports, "*") != 0)
		score += 1;
	return score;
}

/* A copy of str for rule c: inside it if there is room, else pooled. */
static char *
crule_str(struct gp_ruleset *set, struct crule *c, size_t *used,
    const char *str)
{
	size_t	n = strlen(str) + 1;
	char	*p;

	if (*used + n > CRULE_INL)
		return gp_arena_strndup(&set->pool, str, n - 1);
	p = memcpy(c->s + *used, str, n);
	*used += n;
	return p;
}

/* Rule c now lives at c, having been built at address from: its inner
 * strings follow it. */
static void
crule_moved(struct crule *c, uintptr_t from)
{
	char		**f[3] = { &c->container, &c->dest, &c->ports };
	uintptr_t	  s0 = from + offsetof(struct crule, s);
	size_t		  i;

	for (i = 0; i < 3; i++)
		if (*f[i] != NULL && (uintptr_t)*f[i] - s0 < CRULE_INL)
			*f[i] = c->s + ((uintptr_t)*f[i] - s0);
}

/* Fills c from r; returns -1 if the row cannot be used. */
static int
compile_one(struct gp_ruleset *set, struct crule *c, const struct gp_rule *r)
{
	char		 norm[GP_HOST_MAX + 8];
	const char	*why, *d = NULL;
	char		*slash;
	size_t		 used = 0;

	if (r->dest == NULL || r->container == NULL || r->ports == NULL)
		return -1;
	if (gp_rules_check_ports(r->ports, &why) != 0)
		return -1;
	memset(c, 0, sizeof *c);
	c->id = r->id;
	c->action = r->action;
	c->layer = r->layer;
	c->expires_at = r->expires_at;
	c->score = gp_rules_score(r->container, r->dest, r->ports);

	if (strcmp(r->dest, "*") == 0) {
		c->kind = D_ANY;
	} else if ((slash = strchr(r->dest, '/')) != NULL) {
		char	addr[64];
		char	*end;
		long	pfx;
		size_t	alen = (size_t)(slash - r->dest);

		if (alen >= sizeof addr)
			return -1;
		memcpy(addr, r->dest, alen);
		addr[alen] = '\0';
		pfx = strtol(slash + 1, &end, 10);
		if (*end != '\0' || slash[1] == '\0')
			return -1;
		if (inet_pton(AF_INET, addr, c->net) == 1 && pfx >= 0 &&
		    pfx <= 32)
			c->family = 4;
		else if (inet_pton(AF_INET6, addr, c->net) == 1 && pfx >= 0 &&
		    pfx <= 128)
			c->family = 6;
		else
			return -1;
		c->prefix = (unsigned char)pfx;
		c->kind = D_CIDR;
	} else {
		if (gp_host_normalize(r->dest, strlen(r->dest), norm,
		    sizeof norm, &why) != 0)
			return -1;
		d = norm;
		if (strncmp(d, "**.", 3) == 0 && !gp_glob_has_magic(d + 3)) {
			c->kind = D_SUB_INCL;
			d += 3;
		} else if (strncmp(d, "*.", 2) == 0 &&
		    !gp_glob_has_magic(d + 2)) {
			c->kind = D_SUB_STRICT;
			d += 2;
		} else if (gp_glob_has_magic(d))
			c->kind = D_GLOB;
		else
			c->kind = D_EXACT;
	}
	/* What every check reads first; an indexed name is not re-read. */
	if (strcmp(r->container, "*") != 0)
		c->container = crule_str(set, c, &used, r->container);
	if (strcmp(r->ports, "*") != 0)
		c->ports = crule_str(set, c, &used, r->ports);
	if (d != NULL)
		c->dest = crule_str(set, c, &used, d);
	return 0;
}

/* "4/24/0a000100": family, prefix length, the masked network bytes.
 * Formatted by hand: a decision on an address makes one per prefix
 * length in use. */
static void
cidr_key(int family, int prefix, const unsigned char *net, char *out,
    size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int	bytes = family == 4 ? 4 : 16, i, bits = prefix;
	size_t	o = 0;

	if (n < 8 + 2 * 16)	/* "6/128/" and 32 digits */
		gp_panic("cidr_key: buffer too small");
	out[o++] = family == 4 ? '4' : '6';
	out[o++] = '/';
	if (prefix >= 100)
		out[o++] = (char)('0' + prefix / 100);
	if (prefix >= 10)
		out[o++] = (char)('0' + prefix / 10 % 10);
	out[o++] = (char)('0' + prefix % 10);
	out[o++] = '/';
	for (i = 0; i < bytes; i++, bits -= 8) {
		unsigned char mask = bits >= 8 ? 0xff : bits <= 0 ? 0 :
		    (unsigned char)(0xff << (8 - bits));

		out[o++] = hex[(net[i] & mask) >> 4];
		out[o++] = hex[net[i] & mask & 0xf];
	}
	out[o] = '\0';
}

/*
 * Keys a glob by its longest literal end (at most GLOB_KEY characters):
 * the prefix before its first wildcard, or the suffix after its last
 * (patterns with a [set] use the prefix only).  -1: no literal end.
 */
static int
glob_index(struct gp_ruleset *set, const struct crule *c, size_t idx)
{
	const char	*d = c->dest, *m = strpbrk(d, "*?[");
	size_t		 plen = (size_t)(m - d), slen = 0, len = strlen(d);
	char		 key[GLOB_KEY + 1];

	if (strchr(d, '[') == NULL) {
		const char *last = d + len;

		while (last > d && strchr("*?", last[-1]) == NULL)
			last--;
		slen = (size_t)(d + len - last);
	}
	if (plen == 0 && slen == 0)
		return -1;
	if (plen >= slen) {
		if (plen > GLOB_KEY)
			plen = GLOB_KEY;
		memcpy(key, d, plen);
		key[plen] = '\0';
		htab_add(&set->gprefix, key, idx);
		set->nprefix++;
	} else {
		if (slen > GLOB_KEY)
			slen = GLOB_KEY;
		memcpy(key, d + len - slen, slen);
		key[slen] = '\0';
		htab_add(&set->gsuffix, key, idx);
		set->nsuffix++;
	}
	return 0;
}

struct gp_ruleset *
gp_rules_compile(const struct gp_rule *rules, size_t n, size_t *skipped)
{
	struct gp_ruleset	*set = gp_xcalloc(1, sizeof *set);
	size_t			 i, bad = 0, nk[D_GLOB + 1] = { 0 };

	set->cap = n ? n : 1;
	set->r = gp_xmap(set->cap * sizeof *set->r);
	/* Chunks for about a hash entry per rule, at most a huge page. */
	set->pool.chunk = n < ((size_t)2 << 20) / 64 ? n * 64 :
	    ((size_t)2 << 20) - 64;
	set->scan = gp_xcalloc(set->cap, sizeof *set->scan);
	for (i = 0; i < n; i++) {
		if (gp_rule_is_request(&rules[i])) {
			if (add_request(set, &rules[i]) != 0)
				bad++;
		} else if (compile_one(set, &set->r[set->n], &rules[i]) != 0)
			bad++;
		else
			nk[set->r[set->n++].kind]++;
	}
	/* Each index sized for its own keys: fewer pages to miss in. */
	htab_init(&set->exact, &set->pool, nk[D_EXACT]);
	htab_init(&set->suffix, &set->pool, nk[D_SUB_STRICT] +
	    nk[D_SUB_INCL]);
	htab_init(&set->gprefix, &set->pool, nk[D_GLOB]);
	htab_init(&set->gsuffix, &set->pool, nk[D_GLOB]);
	htab_init(&set->cidr, &set->pool, nk[D_CIDR]);
	htab_init(&set->byid, &set->pool, set->n);
	for (i = 0; i < set->n; i++)
		index_one(set, &set->r[i], i);
	if (skipped != NULL)
		*skipped = bad;
	return set;
}

/* Puts rule idx into the index its destination kind uses. */
static void
index_one(struct gp_ruleset *set, const struct crule *c, size_t idx)
{
	char	idkey[32];

	snprintf(idkey, sizeof idkey, "%lld", (long long)c->id);
	htab_add(&set->byid, idkey, idx);
	{
		switch (c->kind) {
		case D_EXACT:
			htab_add(&set->exact, c->dest, idx);
			break;
		case D_SUB_STRICT:
		case D_SUB_INCL:
			htab_add(&set->suffix, c->dest, idx);
			break;
		case D_GLOB:
			if (glob_index(set, c, idx) != 0)
				set->scan[set->nscan++] = idx;
			break;
		case D_CIDR: {
			char key[64];

			cidr_key(c->family, c->prefix, c->net, key, sizeof key);
			htab_add(&set->cidr, key, idx);
			set->ncidr++;
			if (c->family == 4)
				set->nplen4 += !set->plen4[c->prefix],
				set->plen4[c->prefix] = 1;
			else
				set->nplen6 += !set->plen6[c->prefix],
				set->plen6[c->prefix] = 1;
			break;
		}
		default:
			set->scan[set->nscan++] = idx;
			break;
		}
	}
}

int
gp_rules_add(struct gp_ruleset *set, const struct gp_rule *r)
{
	struct crule	c;
	size_t		i;

	if (gp_rule_is_request(r))
		return add_request(set, r);
	if (set->n >= NOIDX || compile_one(set, &c, r) != 0)
		return -1;
	if (set->n == set->cap) {
		uintptr_t	old = (uintptr_t)set->r;

		set->r = gp_xremap(set->r, set->cap * sizeof *set->r,
		    set->cap * 2 * sizeof *set->r);
		for (i = 0; i < set->n && (uintptr_t)set->r != old; i++)
			crule_moved(&set->r[i], old + i * sizeof *set->r);
		set->cap *= 2;
		set->scan = gp_xrealloc(set->scan, set->cap *
		    sizeof *set->scan);
	}
	set->r[set->n] = c;
	crule_moved(&set->r[set->n], (uintptr_t)&c);
	index_one(set, &set->r[set->n], set->n);
	set->n++;
	return 0;
}

int
gp_rules_remove(struct gp_ruleset *set, int64_t id)
{
	const struct hent	*e;
	char			 idkey[32];
	size_t			 i;
	int			 n = 0;

	for (i = 0; i < set->nrq; i++)
		if (set->rq[i].c.id == id && !set->rq[i].c.dead) {
			set->rq[i].c.dead = 1;
			set->deadrq++;
			n++;
		}
	snprintf(idkey, sizeof idkey, "%lld", (long long)id);
	if ((e = htab_get(&set->byid, idkey)) == NULL)
		return n > 0;
	for (i = 0; i < e->n; i++) {
		struct crule *c = &set->r[e->idx[i]];

		if (!c->dead) {
			c->dead = 1;	/* its index entries stay, inert */
			set->dead++;
			n++;
		}
	}
	return n > 0;
}

void
gp_rules_free(struct gp_ruleset *set)
{
	size_t	i;

	if (set == NULL)
		return;
	for (i = 0; i < set->nrq; i++) {
		free(set->rq[i].method);
		free(set->rq[i].path);
	}
	free(set->rq);
	gp_xunmap(set->r, set->cap * sizeof *set->r);
	free(set->scan);
	htab_free(&set->exact);
	htab_free(&set->suffix);
	htab_free(&set->gprefix);
	htab_free(&set->gsuffix);
	htab_free(&set->cidr);
	htab_free(&set->byid);
	gp_arena_free(&set->pool);
	free(set);
}

size_t
gp_rules_count(const struct gp_ruleset *set)
{
	return set != NULL ? set->n - set->dead + set->nrq - set->deadrq : 0;
}

size_t
gp_rules_request_count(const struct gp_ruleset *set)
{
	return set != NULL ? set->nrq - set->deadrq : 0;
}

size_t
gp_rules_dead(const struct gp_ruleset *set)
{
	return set != NULL ? set->dead : 0;
}

static int
cidr_match(const struct crule *c, const char *host)
{
	unsigned char	a[16];
	int		bits = c->prefix, i;

	if (c->family == 4 ? inet_pton(AF_INET, host, a) != 1 :
	    inet_pton(AF_INET6, host, a) != 1)
		return 0;
	for (i = 0; bits > 0; i++, bits -= 8) {
		unsigned char mask = bits >= 8 ? 0xff :
		    (unsigned char)(0xff << (8 - bits));

		if ((a[i] & mask) != (c->net[i] & mask))
			return 0;
	}
	return 1;
}

/* Precedence: layer, then specificity, then deny, then the older rule. */
static int
better(const struct gp_match *c, const struct gp_match *best)
{
	if (!best->matched)
		return 1;
	if (c->layer != best->layer)
		return c->layer > best->layer;
	if (c->score != best->score)
		return c->score > best->score;
	if (c->action != best->action)
		return c->action == GP_DENY;
	return c->rule_id < best->rule_id;
}

/* A rule whose destination matched: its expiry, identity and ports,
 * then the ranking. */
static void
offer(const struct crule *c, const struct gp_query *q, struct gp_match *best)
{
	struct gp_match	cand;

	if (c->expires_at != 0 && c->expires_at <= q->now)
		return;
	if (c->container != NULL &&
	    !gp_glob_match(c->container, q->container ? q->container : ""))
		return;
	if (c->ports != NULL && !gp_rules_port_match(c->ports, q->port))
		return;
	cand.matched = 1;
	cand.action = c->action;
	cand.rule_id = c->id;
	cand.score = c->score;
	cand.layer = c->layer;
	cand.names_host = c->kind == D_EXACT || c->kind == D_CIDR;
	if (better(&cand, best))
		*best = cand;
}

/* Checks rule i against the query (destination already matched). */
static void
consider(const struct gp_ruleset *set, size_t i, const struct gp_query *q,
    const char *host, struct gp_match *best)
{
	const struct crule	*c = &set->r[i];

	if (c->dead)
		return;
	if (host != NULL) {	/* not pre-matched by an index */
		switch (c->kind) {
		case D_ANY:
			break;
		case D_CIDR:
			if (!cidr_match(c, host))
				return;
			break;
		case D_GLOB:
			if (!gp_glob_match(c->dest, host))
				return;
			break;
		default:
			return;
		}
	}
	offer(c, q, best);
}

/*
 * The hash lookups one decision makes: the host, each parent domain, the
 * glob keys of the lengths some glob has.  Planned first, so that their
 * cache misses (bucket, entry, rule) overlap instead of following one
 * another: a decision with a cold cache costs a few misses, not twenty.
 */
enum { P_EXACT, P_SELF, P_PARENT, P_PREFIX, P_SUFFIX, P_CIDR };

struct probe {
	const struct htab	*t;
	const char		*key;
	uint64_t		 h;
	const struct hent	*e;
	unsigned short		 len;
	unsigned char		 what;
};

/*
 * The probes of one host.  An everyday host needs a dozen, kept in a
 * small frame: the stack pages right under the caller's are the ones a
 * cold decision finds in the TLB.  Long names and addresses with many
 * prefix lengths in use get theirs from the heap.
 */
#define SMALL	24
#define CKEY	48	/* "6/128/" and 32 hex digits */

struct plan {
	struct probe	*p;
	size_t		 n, cap;
	char		*ckey;		/* the CIDR probes' keys, CKEY each */
	struct probe	 small[SMALL];
	char		 ckey_small[4 * CKEY];
};

static uint64_t
hash_mem(const char *s, size_t n)
{
	uint64_t	h = 1469598103934665603ULL;

	while (n-- > 0) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

static void
plan(struct plan *pl, const struct htab *t, const char *key, size_t len,
    int what)
{
	struct probe	*p;

	if (pl->n == pl->cap || t->nb == 0)
		return;
	p = &pl->p[pl->n];
	p->t = t;
	p->key = key;
	p->len = (unsigned short)len;
	p->h = hash_mem(key, len);
	p->what = what;
	p->e = NULL;
	__builtin_prefetch(&t->b[SLOT(t, p->h)]);
	pl->n++;
}

/* A rule spans two cache lines. */
static void
prefetch_rule(const struct gp_ruleset *set, size_t i)
{
	__builtin_prefetch(&set->r[i]);
	__builtin_prefetch((const char *)&set->r[i] + sizeof set->r[i] - 1);
}

/* The CIDR probes: the masked address for each prefix length in use. */
static void
plan_cidr(struct plan *pl, const struct gp_ruleset *set, const char *host,
    int fam)
{
	unsigned char	a[16];
	size_t		k = 0;
	int		p;

	if (set->ncidr == 0 || inet_pton(fam == 4 ? AF_INET : AF_INET6, host,
	    a) != 1)
		return;
	for (p = 0; p <= (fam == 4 ? 32 : 128); p++) {
		if (!(fam == 4 ? set->plen4[p] : set->plen6[p]))
			continue;
		cidr_key(fam, p, a, pl->ckey + k * CKEY, CKEY);
		plan(pl, &set->cidr, pl->ckey + k * CKEY, strlen(pl->ckey +
		    k * CKEY), P_CIDR);
		k++;
	}
}

/* Equal keys, without a call into the C library: its code is pages
 * away, and a cold decision pays for every page it touches. */
static int
key_eq(const char *a, const char *b, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return a[n] == '\0';
}

/* Plans the lookups for host; -1 when it is too long for an index
 * (never from a parser: the caller checks it rule by rule). */
static int
plan_all(const struct gp_ruleset *set, const char *host, struct plan *pl)
{
	size_t		 len, i, k, ndot = 0, nck;
	unsigned char	 dots[GP_HOST_MAX];
	int		 fam = 0, name = 0;

	/* One pass: length, dots, and whether it can be an address. */
	for (len = 0; host[len] != '\0'; len++) {
		if (len == GP_HOST_MAX - 1)
			return -1;
		if (host[len] == '.')
			dots[ndot++] = (unsigned char)len;
		else if (host[len] == ':')
			fam = -1;
		else if (host[len] < '0' || host[len] > '9')
			name = 1;
	}
	fam = fam != 0 || !name ? gp_host_ip_family(host) : 0;
	nck = fam == 4 ? set->nplen4 : fam == 6 ? set->nplen6 : 0;
	pl->n = 0;
	pl->cap = 2 + ndot + 2 * GLOB_KEY + nck;
	pl->p = pl->cap <= SMALL ? pl->small :
	    gp_xcalloc(pl->cap, sizeof *pl->p);
	pl->ckey = nck <= 4 ? pl->ckey_small : gp_xmalloc(nck * CKEY);
	plan(pl, &set->exact, host, len, P_EXACT);
	if (fam == 0 && set->suffix.nkeys > 0) {
		pl->p[pl->n] = pl->p[pl->n - 1];	/* same key and hash */
		pl->p[pl->n].t = &set->suffix;
		pl->p[pl->n].what = P_SELF;
		__builtin_prefetch(&set->suffix.b[SLOT(&set->suffix,
		    pl->p[pl->n].h)]);
		pl->n++;
		for (i = 0; i < ndot; i++)
			plan(pl, &set->suffix, host + dots[i] + 1,
			    len - dots[i] - 1, P_PARENT);
	}
	for (k = 1; k <= GLOB_KEY && k <= len; k++) {
		if (set->nprefix > 0 && (set->gprefix.lens & 1ULL << k))
			plan(pl, &set->gprefix, host, k, P_PREFIX);
		if (set->nsuffix > 0 && (set->gsuffix.lens & 1ULL << k))
			plan(pl, &set->gsuffix, host + len - k, k, P_SUFFIX);
	}
	if (fam != 0)
		plan_cidr(pl, set, host, fam);
	/* Buckets are on their way: fetch the entries that may hold the
	 * key, and with a head whose hash agrees, its first rule. */
	for (i = 0; i < pl->n; i++) {
		const struct probe	*p = &pl->p[i];
		const struct bkt	*b = &p->t->b[SLOT(p->t, p->h)];
		int			 head = (b->fp & 0xffff0000u) ==
		    TAG(p->h);

		if (b->e == NULL || (!head && !(b->fp & BIT(p->h))))
			continue;
		__builtin_prefetch(b->e);	/* its key runs on */
		__builtin_prefetch((const char *)b->e + 64);
		if (head && b->idx0 != NOIDX)
			prefetch_rule(set, b->idx0);
	}
	for (i = 0; i < pl->n; i++) {
		struct probe		*p = &pl->p[i];
		const struct bkt	*b = &p->t->b[SLOT(p->t, p->h)];
		const struct hent	*e = b->e;

		if (e != NULL && (b->fp & 0xffff0000u) != TAG(p->h))
			/* not the head: one of the others, perhaps */
			e = b->fp & BIT(p->h) ? e->next : NULL;
		for (; e != NULL; e = e->next)
			if (e->h == p->h && key_eq(e->key, p->key, p->len))
				break;
		p->e = e;
		for (k = 1; e != NULL && k < e->n && k < INL; k++)
			prefetch_rule(set, e->idx[k]);
	}
	/* Rules are on their way: what their checks read next. */
	for (i = 0; i < pl->n; i++) {
		const struct probe	*p = &pl->p[i];

		for (k = 0; p->e != NULL && k < p->e->n && k < INL; k++) {
			const struct crule *c = &set->r[p->e->idx[k]];

			if (c->container != NULL)
				__builtin_prefetch(c->container);
			if (c->ports != NULL)
				__builtin_prefetch(c->ports);
			if (c->kind == D_GLOB)
				__builtin_prefetch(c->dest);
		}
	}
	return 0;
}

static void
plan_done(struct plan *pl)
{
	if (pl->p != pl->small)
		free(pl->p);
	if (pl->ckey != pl->ckey_small)
		free(pl->ckey);
}

GP_HOT int
gp_rules_match(const struct gp_ruleset *set, const struct gp_query *q,
    struct gp_match *m)
{
	const char		*hosts[2] = { q->host, q->alt_host };
	struct plan		 pl;
	size_t			 h, i, k;

	memset(m, 0, sizeof *m);
	if (set == NULL)
		return 0;
	for (h = 0; h < 2; h++) {
		const char *host = hosts[h];

		if (host == NULL || *host == '\0')
			continue;
		if (h == 1 && q->host != NULL && strcmp(host, q->host) == 0)
			continue;
		if (plan_all(set, host, &pl) != 0) {	/* too long */
			for (i = 0; i < set->n; i++)	/* the reference's way */
				if (dest_matches(&set->r[i], host))
					consider(set, i, q, NULL, m);
			continue;
		}
		for (k = 0; k < pl.n; k++) {
			const struct hent	*e = pl.p[k].e;
			int			 what = pl.p[k].what;

			if (e == NULL)
				continue;
			for (i = 0; i < e->n; i++) {
				/* The host itself: only "**.d" covers d. */
				if (what == P_SELF &&
				    set->r[e->idx[i]].kind != D_SUB_INCL)
					continue;
				/* Globs and CIDRs are checked in full. */
				consider(set, e->idx[i], q, what == P_PREFIX ||
				    what == P_SUFFIX || what == P_CIDR ? host :
				    NULL, m);
			}
		}
		plan_done(&pl);
		for (i = 0; i < set->nscan; i++)
			consider(set, set->scan[i], q, host, m);
	}
	return m->matched;
}

/* Does rule c's destination cover host?  (The reference's test.) */
static int
dest_matches(const struct crule *c, const char *host)
{
	size_t	hl = strlen(host), dl;

	switch (c->kind) {
	case D_ANY:
		return 1;
	case D_EXACT:
		return strcmp(c->dest, host) == 0;
	case D_SUB_INCL:
	case D_SUB_STRICT:
		if (gp_host_ip_family(host))
			return 0;
		dl = strlen(c->dest);
		if (c->kind == D_SUB_INCL && strcmp(c->dest, host) == 0)
			return 1;
		return hl > dl + 1 && host[hl - dl - 1] == '.' &&
		    strcmp(host + hl - dl, c->dest) == 0;
	case D_CIDR:
		return cidr_match(c, host);
	case D_GLOB:
		return gp_glob_match(c->dest, host);
	}
	return 0;
}

int
gp_rules_match_reference(const struct gp_ruleset *set,
    const struct gp_query *q, struct gp_match *m)
{
	const char	*hosts[2] = { q->host, q->alt_host };
	size_t		 h, i;

	memset(m, 0, sizeof *m);
	if (set == NULL)
		return 0;
	for (h = 0; h < 2; h++) {
		if (hosts[h] == NULL || *hosts[h] == '\0')
			continue;
		if (h == 1 && q->host != NULL && strcmp(hosts[h], q->host) == 0)
			continue;
		for (i = 0; i < set->n; i++)
			if (dest_matches(&set->r[i], hosts[h]))
				consider(set, i, q, NULL, m);
	}
	return m->matched;
}

int
gp_rules_names_ip(const struct gp_ruleset *set, const char *container,
    const char *ip, int loopback, unsigned port, int64_t now)
{
	struct gp_query	q = { container, ip, NULL, port, now };
	struct gp_match	m;

	if (gp_rules_match(set, &q, &m) && m.action == GP_ALLOW &&
	    m.names_host)
		return 1;
	if (!loopback)
		return 0;
	q.host = "localhost";
	return gp_rules_match(set, &q, &m) && m.action == GP_ALLOW &&
	    m.names_host;
}

/* Request rules: compiled like any rule, kept apart, scanned. */
static int
add_request(struct gp_ruleset *set, const struct gp_rule *r)
{
	struct reqrule	*q;

	if (set->nrq == set->caprq) {
		uintptr_t	old = (uintptr_t)set->rq;
		size_t		i;

		set->caprq = set->caprq ? set->caprq * 2 : 8;
		set->rq = gp_xrealloc(set->rq, set->caprq * sizeof *set->rq);
		for (i = 0; i < set->nrq && (uintptr_t)set->rq != old; i++)
			crule_moved(&set->rq[i].c, old + i * sizeof *set->rq +
			    offsetof(struct reqrule, c));
	}
	q = &set->rq[set->nrq];
	if (compile_one(set, &q->c, r) != 0)
		return -1;
	q->method = r->method != NULL && strcmp(r->method, "*") != 0 ?
	    gp_xstrdup(r->method) : NULL;
	q->path = r->path != NULL && strcmp(r->path, "*") != 0 ?
	    gp_xstrdup(r->path) : NULL;
	/* Naming a method or a path is more specific than not. */
	q->c.score += (q->method != NULL ? 1 : 0) + (q->path != NULL ?
	    2 + (int)strcspn(q->path, "*?[") : 0);
	set->nrq++;
	return 0;
}

int
gp_rules_match_request(const struct gp_ruleset *set,
    const struct gp_query *q, const char *method, const char *path,
    struct gp_match *m)
{
	const char	*hosts[2] = { q->host, q->alt_host };
	size_t		 i, h;

	memset(m, 0, sizeof *m);
	if (set == NULL)
		return 0;
	for (i = 0; i < set->nrq; i++) {
		const struct reqrule	*r = &set->rq[i];
		const struct crule	*c = &r->c;

		if (c->dead)
			continue;
		for (h = 0; h < 2; h++)
			if (hosts[h] != NULL && *hosts[h] != '\0' &&
			    dest_matches(c, hosts[h]))
				break;
		if (h == 2 || (r->method != NULL &&
		    strcasecmp(r->method, method) != 0) || (r->path != NULL &&
		    !gp_glob_match(r->path, path)))
			continue;
		offer(c, q, m);
	}
	return m->matched;
}
