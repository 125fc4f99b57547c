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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"
#include "rules/rules.h"

enum dkind { D_ANY, D_EXACT, D_SUB_STRICT, D_SUB_INCL, D_CIDR, D_GLOB };

struct crule {
	int64_t		 id;
	int		 dead;		/* removed: never matches */
	enum gp_action	 action;
	enum gp_layer	 layer;
	int		 score;
	int64_t		 expires_at;
	enum dkind	 kind;
	int		 family;	/* CIDR: 4 or 6 */
	int		 prefix;
	unsigned char	 net[16];
	char		*container;	/* NULL: any */
	char		*dest;		/* exact name, suffix, or glob */
	char		*ports;		/* NULL: any */
};

struct hent {
	uint64_t	 h;		/* hash_str(key) */
	size_t		*idx;		/* &one until a second rule */
	size_t		 n, cap;
	size_t		 one;		/* most keys have one rule: no miss */
	struct hent	*next;
	char		 key[];		/* one allocation with the entry */
};

struct htab {
	struct hent	**b;
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
	size_t		 n;
	struct htab	 exact;
	struct htab	 suffix;
	struct htab	 gprefix;	/* globs by literal prefix */
	struct htab	 gsuffix;	/* globs by literal suffix */
	struct htab	 cidr;		/* "4/24/0a000100" → rules */
	unsigned char	 plen4[33], plen6[129];	/* prefix lengths in use */
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
static const struct hent *htab_get(const struct htab *, const char *);
static void	 htab_free(struct htab *);
static int	 compile_one(struct crule *, const struct gp_rule *);
static int	 cidr_match(const struct crule *, const char *);
static void	 consider(const struct gp_ruleset *, size_t,
		    const struct gp_query *, const char *, struct gp_match *);
static int	 dest_matches(const struct crule *, const char *);
static void	 cidr_key(int, int, const unsigned char *, char *, size_t);
static int	 glob_index(struct gp_ruleset *, const struct crule *, size_t);
static void	 cidr_candidates(const struct gp_ruleset *,
		    const struct gp_query *, const char *, struct gp_match *);
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
htab_size(struct htab *t, size_t n)
{
	t->nb = 16;
	t->shift = 60;
	while (t->nb < 2 * n) {
		t->nb *= 2;
		t->shift--;
	}
}

/* Doubles the buckets, keeping chains short as the set grows. */
static void
htab_grow(struct htab *t)
{
	struct hent	**b = gp_xcalloc(t->nb * 2, sizeof *b), *e, *next;
	struct htab	  bigger = *t;
	size_t		  i, k;

	bigger.shift--;
	for (i = 0; i < t->nb; i++) {
		for (e = t->b[i]; e != NULL; e = next) {
			next = e->next;
			k = SLOT(&bigger, e->h);
			e->next = b[k];
			b[k] = e;
		}
	}
	free(t->b);
	t->b = b;
	t->nb *= 2;
	t->shift--;
}

static void
htab_add(struct htab *t, const char *key, size_t idx)
{
	struct hent	*e;
	uint64_t	 h = hash_str(key);
	size_t		 b = SLOT(t, h), len;

	for (e = t->b[b]; e != NULL; e = e->next)
		if (e->h == h && strcmp(e->key, key) == 0)
			break;
	if (e == NULL) {
		len = strlen(key) + 1;
		t->lens |= 1ULL << (len - 1 < 63 ? len - 1 : 63);
		e = gp_xmalloc(sizeof *e + len);
		memset(e, 0, sizeof *e);
		memcpy(e->key, key, len);
		e->h = h;
		e->next = t->b[b];
		t->b[b] = e;
		if (++t->nkeys > t->nb * 2)
			htab_grow(t);	/* rules added one by one */
	}
	if (e->cap == 0) {
		e->idx = &e->one;
		e->cap = 1;
	} else if (e->n == e->cap) {
		size_t *v = gp_xmalloc(e->cap * 2 * sizeof *v);

		memcpy(v, e->idx, e->n * sizeof *v);
		if (e->idx != &e->one)
			free(e->idx);
		e->idx = v;
		e->cap *= 2;
	}
	e->idx[e->n++] = idx;
}

static const struct hent *
htab_get(const struct htab *t, const char *key)
{
	const struct hent	*e;
	uint64_t		 h = hash_str(key);

	for (e = t->b[SLOT(t, h)]; e != NULL; e = e->next)
		if (e->h == h && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void
htab_free(struct htab *t)
{
	struct hent	*e, *next;
	size_t		 i;

	for (i = 0; i < t->nb; i++) {
		for (e = t->b[i]; e != NULL; e = next) {
			next = e->next;
			if (e->idx != &e->one)
				free(e->idx);
			free(e);
		}
	}
	free(t->b);
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

/* Fills c from r; returns -1 if the row cannot be used. */
static int
compile_one(struct crule *c, const struct gp_rule *r)
{
	char		 norm[GP_HOST_MAX + 8];
	const char	*why, *d;
	char		*slash;

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
		c->prefix = (int)pfx;
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
		c->dest = gp_xstrdup(d);
	}
	if (strcmp(r->container, "*") != 0)
		c->container = gp_xstrdup(r->container);
	if (strcmp(r->ports, "*") != 0)
		c->ports = gp_xstrdup(r->ports);
	return 0;
}

/* "4/24/0a000100": family, prefix length, the masked network bytes. */
static void
cidr_key(int family, int prefix, const unsigned char *net, char *out,
    size_t n)
{
	int	bytes = family == 4 ? 4 : 16, i, bits = prefix;
	size_t	o;

	o = (size_t)snprintf(out, n, "%d/%d/", family, prefix);
	for (i = 0; i < bytes && o + 3 <= n; i++, bits -= 8) {
		unsigned char mask = bits >= 8 ? 0xff : bits <= 0 ? 0 :
		    (unsigned char)(0xff << (8 - bits));

		o += (size_t)snprintf(out + o, n - o, "%02x",
		    (unsigned)(net[i] & mask));
	}
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
	size_t			 i, bad = 0;

	set->r = gp_xcalloc(n ? n : 1, sizeof *set->r);
	set->scan = gp_xcalloc(n ? n : 1, sizeof *set->scan);
	htab_size(&set->exact, n);
	htab_size(&set->suffix, n);
	htab_size(&set->gprefix, n);
	htab_size(&set->gsuffix, n);
	htab_size(&set->cidr, n);
	set->exact.b = gp_xcalloc(set->exact.nb, sizeof *set->exact.b);
	set->suffix.b = gp_xcalloc(set->suffix.nb, sizeof *set->suffix.b);
	set->gprefix.b = gp_xcalloc(set->gprefix.nb, sizeof *set->gprefix.b);
	set->gsuffix.b = gp_xcalloc(set->gsuffix.nb, sizeof *set->gsuffix.b);
	set->cidr.b = gp_xcalloc(set->cidr.nb, sizeof *set->cidr.b);

	set->cap = n ? n : 1;
	htab_size(&set->byid, n);
	set->byid.b = gp_xcalloc(set->byid.nb, sizeof *set->byid.b);
	for (i = 0; i < n; i++) {
		struct crule *c = &set->r[set->n];

		if (gp_rule_is_request(&rules[i])) {
			if (add_request(set, &rules[i]) != 0)
				bad++;
			continue;
		}
		if (compile_one(c, &rules[i]) != 0) {
			bad++;
			continue;
		}
		index_one(set, c, set->n);
		set->n++;
	}
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
				set->plen4[c->prefix] = 1;
			else
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

	if (gp_rule_is_request(r))
		return add_request(set, r);
	if (compile_one(&c, r) != 0)
		return -1;
	if (set->n == set->cap) {
		set->cap *= 2;
		set->r = gp_xrealloc(set->r, set->cap * sizeof *set->r);
		set->scan = gp_xrealloc(set->scan, set->cap *
		    sizeof *set->scan);
	}
	set->r[set->n] = c;
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
	for (i = 0; i < set->n; i++) {
		free(set->r[i].container);
		free(set->r[i].dest);
		free(set->r[i].ports);
	}
	for (i = 0; i < set->nrq; i++) {
		free(set->rq[i].c.container);
		free(set->rq[i].c.dest);
		free(set->rq[i].c.ports);
		free(set->rq[i].method);
		free(set->rq[i].path);
	}
	free(set->rq);
	free(set->r);
	free(set->scan);
	htab_free(&set->exact);
	htab_free(&set->suffix);
	htab_free(&set->gprefix);
	htab_free(&set->gsuffix);
	htab_free(&set->cidr);
	htab_free(&set->byid);
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
enum { P_EXACT, P_SELF, P_PARENT, P_PREFIX, P_SUFFIX };

struct probe {
	const struct htab	*t;
	const char		*key;
	size_t			 len;
	uint64_t		 h;
	int			 what;
	const struct hent	*e;
};

/* A host under GP_HOST_MAX has at most GP_HOST_MAX / 2 labels. */
#define PROBES	(2 + GP_HOST_MAX / 2 + 2 * GLOB_KEY)

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
plan(struct probe *p, size_t *np, const struct htab *t, const char *key,
    size_t len, int what)
{
	if (*np == PROBES || t->nb == 0)
		return;
	p[*np].t = t;
	p[*np].key = key;
	p[*np].len = len;
	p[*np].h = hash_mem(key, len);
	p[*np].what = what;
	p[*np].e = NULL;
	__builtin_prefetch(&t->b[SLOT(t, p[*np].h)]);
	(*np)++;
}

static size_t
plan_all(const struct gp_ruleset *set, const char *host, struct probe *p)
{
	size_t		 len = strlen(host), np = 0, i, k;
	const char	*dot;

	plan(p, &np, &set->exact, host, len, P_EXACT);
	if (!gp_host_ip_family(host)) {
		if (set->suffix.nkeys > 0) {
			p[np] = p[np - 1];	/* same key, same hash */
			p[np].t = &set->suffix;
			p[np].what = P_SELF;
			__builtin_prefetch(&set->suffix.b[SLOT(&set->suffix,
			    p[np].h)]);
			np++;
			for (dot = strchr(host, '.'); dot != NULL;
			    dot = strchr(dot + 1, '.'))
				plan(p, &np, &set->suffix, dot + 1,
				    len - (size_t)(dot + 1 - host), P_PARENT);
		}
	}
	for (k = 1; k <= GLOB_KEY && k <= len; k++) {
		if (set->nprefix > 0 && (set->gprefix.lens & 1ULL << k))
			plan(p, &np, &set->gprefix, host, k, P_PREFIX);
		if (set->nsuffix > 0 && (set->gsuffix.lens & 1ULL << k))
			plan(p, &np, &set->gsuffix, host + len - k, k,
			    P_SUFFIX);
	}
	/* Bucket heads are on their way: fetch the first entries. */
	for (i = 0; i < np; i++) {
		const struct hent *e = p[i].t->b[SLOT(p[i].t, p[i].h)];

		if (e != NULL)
			__builtin_prefetch(e);
	}
	for (i = 0; i < np; i++) {
		const struct hent *e;

		for (e = p[i].t->b[SLOT(p[i].t, p[i].h)]; e != NULL;
		    e = e->next)
			if (e->h == p[i].h && memcmp(e->key, p[i].key,
			    p[i].len) == 0 && e->key[p[i].len] == '\0')
				break;
		p[i].e = e;
		if (e != NULL)
			__builtin_prefetch(&set->r[e->idx[0]]);
	}
	/* Rules are on their way: what their checks read next. */
	for (i = 0; i < np; i++) {
		const struct crule *c;

		if (p[i].e == NULL)
			continue;
		c = &set->r[p[i].e->idx[0]];
		if (c->container != NULL)
			__builtin_prefetch(c->container);
		if (c->ports != NULL)
			__builtin_prefetch(c->ports);
	}
	return np;
}

int
gp_rules_match(const struct gp_ruleset *set, const struct gp_query *q,
    struct gp_match *m)
{
	const char		*hosts[2] = { q->host, q->alt_host };
	struct probe		 p[PROBES];
	size_t			 h, i, k, np;

	memset(m, 0, sizeof *m);
	if (set == NULL)
		return 0;
	for (h = 0; h < 2; h++) {
		const char *host = hosts[h];

		if (host == NULL || *host == '\0')
			continue;
		if (h == 1 && q->host != NULL && strcmp(host, q->host) == 0)
			continue;
		if (strlen(host) >= GP_HOST_MAX) {	/* never from a parser */
			for (i = 0; i < set->n; i++)	/* the reference's way */
				if (dest_matches(&set->r[i], host))
					consider(set, i, q, NULL, m);
			continue;
		}
		np = plan_all(set, host, p);
		for (k = 0; k < np; k++) {
			const struct hent *e = p[k].e;

			if (e == NULL)
				continue;
			for (i = 0; i < e->n; i++) {
				/* The host itself: only "**.d" covers d. */
				if (p[k].what == P_SELF &&
				    set->r[e->idx[i]].kind != D_SUB_INCL)
					continue;
				/* Indexed globs are checked in full. */
				consider(set, e->idx[i], q, p[k].what ==
				    P_PREFIX || p[k].what == P_SUFFIX ? host :
				    NULL, m);
			}
		}
		cidr_candidates(set, q, host, m);
		for (i = 0; i < set->nscan; i++)
			consider(set, set->scan[i], q, host, m);
	}
	return m->matched;
}

/* CIDRs by masked network, one probe per prefix length in use; each
 * candidate is then checked in full by consider(). */
static void
cidr_candidates(const struct gp_ruleset *set, const struct gp_query *q,
    const char *host, struct gp_match *m)
{
	const struct hent	*e;
	size_t			 i;
	unsigned char		 a[16];
	int			 fam = gp_host_ip_family(host), p;

	if (fam == 0 || set->ncidr == 0 || inet_pton(fam == 4 ? AF_INET :
	    AF_INET6, host, a) != 1)
		return;
	for (p = 0; p <= (fam == 4 ? 32 : 128); p++) {
		char ck[64];

		if (!(fam == 4 ? set->plen4[p] : set->plen6[p]))
			continue;
		cidr_key(fam, p, a, ck, sizeof ck);
		if ((e = htab_get(&set->cidr, ck)) != NULL)
			for (i = 0; i < e->n; i++)
				consider(set, e->idx[i], q, host, m);
	}
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
		set->caprq = set->caprq ? set->caprq * 2 : 8;
		set->rq = gp_xrealloc(set->rq, set->caprq * sizeof *set->rq);
	}
	q = &set->rq[set->nrq];
	if (compile_one(&q->c, r) != 0)
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
