/* t-pending.c: event bus, settings, scopes and durations, pending queue. */
#include "config.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "ctl/ctl.h"
#include "pending/pending.h"
#include "../lib/tap.h"

static struct gp_bus	 bus;
static int		 seen[GP_EV__COUNT];
static int		 late_id, self_id;

static void
count(void *data, enum gp_event ev, const void *obj)
{
	seen[ev]++;
}

static void
late(void *data, enum gp_event ev, const void *obj)
{
	(*(int *)data)++;
}

/* Subscribes a newcomer and unsubscribes itself during a dispatch. */
static void
meddler(void *data, enum gp_event ev, const void *obj)
{
	static int calls;

	calls++;
	if (late_id == 0)
		late_id = gp_bus_subscribe(&bus, late, data);
	gp_bus_unsubscribe(&bus, self_id);
}

static void
test_bus(void)
{
	int	lates = 0, id;

	id = gp_bus_subscribe(&bus, count, NULL);
	self_id = gp_bus_subscribe(&bus, meddler, &lates);
	gp_bus_emit(&bus, GP_EV_RULE_CREATED, NULL);
	is_int(seen[GP_EV_RULE_CREATED], 1, "subscriber called");
	is_int(lates, 0, "a subscriber added during dispatch misses it");
	gp_bus_emit(&bus, GP_EV_RULE_CREATED, NULL);
	is_int(lates, 1, "and gets the next one");
	is_int(seen[GP_EV_RULE_CREATED], 2, "others keep receiving");
	gp_bus_unsubscribe(&bus, id);
	gp_bus_emit(&bus, GP_EV_RULE_CREATED, NULL);
	is_int(seen[GP_EV_RULE_CREATED], 2, "unsubscribed: not called");
	is_str(gp_event_name(GP_EV_PENDING_CREATED), "pending_request.created",
	    "wire name");
	is_int(gp_event_parse("waiters.changed"), GP_EV_WAITERS_CHANGED,
	    "event parse");
	is_int(gp_event_parse("nope"), -1, "unknown event");
	gp_bus_free(&bus);
}

static void
test_settings(void)
{
	struct gp_settings	 s;
	const char		*why;
	cJSON			*p, *out;

	gp_settings_defaults(&s);
	is_int(s.default_action, GP_DEFAULT_PENDING, "default: pending");
	is_int(s.pending_timeout, 60, "default timeout 60 s");
	ok(s.private_protection, "default: local-network protection on");
	p = cJSON_Parse("{\"mode\":\"limited\",\"pendingTimeout\":5}");
	is_int(gp_settings_patch(&s, p, &why), 0, "valid patch");
	is_int(s.mode, GP_MODE_LIMITED, "mode patched");
	is_int(s.pending_timeout, 5, "timeout patched");
	cJSON_Delete(p);
	p = cJSON_Parse("{\"mode\":\"full\",\"pendingTimeout\":0}");
	is_int(gp_settings_patch(&s, p, &why), -1, "out of range refused");
	is_int(s.mode, GP_MODE_LIMITED, "a refused patch changes nothing");
	cJSON_Delete(p);
	/* The fuzzer's find: a double far outside int is refused, not cast. */
	p = cJSON_Parse("{\"pendingTimeout\":-1.5e117}");
	is_int(gp_settings_patch(&s, p, &why), -1, "huge number refused");
	cJSON_Delete(p);
	p = cJSON_Parse("{\"pendingTimeout\":30.5}");
	is_int(gp_settings_patch(&s, p, &why), -1, "fraction refused");
	cJSON_Delete(p);
	p = cJSON_Parse("{\"mitmEnabled\":\"yes\"}");
	is_int(gp_settings_patch(&s, p, &why), -1, "wrong type refused");
	cJSON_Delete(p);
	p = cJSON_Parse("[]");
	is_int(gp_settings_patch(&s, p, &why), -1, "non-object refused");
	cJSON_Delete(p);
	out = gp_settings_json(&s);
	is_str(cJSON_GetObjectItem(out, "mode")->valuestring, "limited",
	    "JSON shows the resolved value");
	ok(cJSON_IsTrue(cJSON_GetObjectItem(out, "mitmEnabled")),
	    "JSON has defaults too");
	cJSON_Delete(out);
}

static void
test_scopes(void)
{
	struct gp_pending_entry	e;
	struct gp_rule		r;
	int64_t			d;

	memset(&e, 0, sizeof e);
	e.container = "agent";
	e.host = "registry.npmjs.org";
	e.port = 443;
	is_int(gp_scope_rule(&e, GP_SCOPE_EXACT, GP_ALLOW, 0, &r), 1,
	    "exact stores a rule");
	ok(strcmp(r.container, "agent") == 0 && strcmp(r.dest,
	    "registry.npmjs.org") == 0 && strcmp(r.ports, "443") == 0,
	    "exact: container, host, port");
	gp_rule_clear(&r);
	gp_scope_rule(&e, GP_SCOPE_ANY_PORT, GP_ALLOW, 0, &r);
	is_str(r.ports, "*", "any_port: port *");
	gp_rule_clear(&r);
	gp_scope_rule(&e, GP_SCOPE_SUBDOMAIN, GP_DENY, 3600, &r);
	is_str(r.dest, "*.npmjs.org", "subdomain: last two labels");
	ok(r.action == GP_DENY && r.expires_at > gp_now(), "deny, expiring");
	gp_rule_clear(&r);
	{	/* whole seconds: now + 1 would be under a second away */
		struct timespec	ts;

		gp_scope_rule(&e, GP_SCOPE_EXACT, GP_ALLOW, 1, &r);
		clock_gettime(CLOCK_REALTIME, &ts);
		ok((r.expires_at - ts.tv_sec) * 1000000000L - ts.tv_nsec >=
		    999000000L, "a 1 s rule expires a whole second away");
		gp_rule_clear(&r);
	}
	e.host = "npmjs.org";
	gp_scope_rule(&e, GP_SCOPE_SUBDOMAIN, GP_ALLOW, 0, &r);
	is_str(r.dest, "**.npmjs.org", "subdomain of a two-label host covers it");
	gp_rule_clear(&r);
	e.host = "10.1.2.3";
	gp_scope_rule(&e, GP_SCOPE_SUBDOMAIN, GP_ALLOW, 0, &r);
	is_str(r.dest, "10.1.2.3", "subdomain of an IP is the IP");
	gp_rule_clear(&r);
	gp_scope_rule(&e, GP_SCOPE_ALL_CONTAINERS, GP_ALLOW, 0, &r);
	is_str(r.container, "*", "all_containers: container *");
	gp_rule_clear(&r);
	e.resolved_hostname = "api.example.com";
	gp_scope_rule(&e, GP_SCOPE_EXACT, GP_ALLOW, 0, &r);
	is_str(r.dest, "api.example.com", "resolved hostname preferred");
	gp_rule_clear(&r);
	is_int(gp_scope_rule(&e, GP_SCOPE_ONCE, GP_ALLOW, 0, &r), 0,
	    "once stores nothing");

	is_int(gp_duration_parse("permanent", &d), 0, "permanent");
	is_int(d, 0, "permanent is 0");
	gp_duration_parse("once", &d);
	is_int(d, 30, "once is 30 s");
	gp_duration_parse("12h", &d);
	is_int(d, 43200, "12h");
	gp_duration_parse("7d", &d);
	is_int(d, 604800, "7d");
	gp_duration_parse("15m", &d);
	is_int(d, 900, "15m");
	is_int(gp_duration_parse("forever", &d), -1, "bad duration");
	is_int(gp_duration_parse("5x", &d), -1, "bad unit");
	is_int(gp_duration_parse("-5", &d), -1, "negative");
	is_int(gp_scope_parse("subdomain_wildcard"), GP_SCOPE_SUBDOMAIN,
	    "scope names");
	is_int(gp_scope_parse(NULL), GP_SCOPE_EXACT, "default scope exact");
	is_int(gp_scope_parse("up"), -1, "bad scope");
}

struct w {
	struct gp_waiter	w;
	int			calls;
	enum gp_verdict		v;
	int64_t			rule;
};

static void
on_verdict(struct gp_waiter *w, enum gp_verdict v, int64_t rule)
{
	struct w *x = (struct w *)w;

	x->calls++;
	x->v = v;
	x->rule = rule;
}

static void
test_queue(void)
{
	struct gp_pending	 pq;
	struct gp_pending_key	 k = { "c1", "a.test", NULL, 443, 0, NULL,
	    NULL, NULL };
	struct w		 w[4];
	struct gp_pending_entry	*e, *e2, **list;
	int			 i;

	memset(w, 0, sizeof w);
	memset(seen, 0, sizeof seen);
	gp_bus_subscribe(&bus, count, NULL);
	gp_pending_init(&pq, NULL, &bus);
	for (i = 0; i < 4; i++)
		w[i].w.cb = on_verdict;
	e = gp_pending_hold(&pq, &k, &w[0].w);
	gp_pending_hold(&pq, &k, &w[1].w);
	is_int(pq.count, 1, "two waiters, one entry");
	is_int(e->nwaiters, 2, "waiting count");
	is_int(e->attempts, 2, "attempts");
	is_int(seen[GP_EV_PENDING_CREATED], 1, "created once");
	is_int(seen[GP_EV_PENDING_UPDATED], 1, "then updated");
	is_int(seen[GP_EV_WAITERS_CHANGED], 2, "waiters changed twice");
	k.container = "c2";
	e2 = gp_pending_hold(&pq, &k, &w[2].w);
	ok(e2 != e, "another container: another entry");
	gp_pending_release(&pq, &w[1].w);
	is_int(e->nwaiters, 1, "release drops one waiter");
	is_int(w[1].calls, 0, "a released waiter gets no verdict");
	is_int(gp_pending_list(&pq, &list), 2, "list has both");
	free(list);
	memset(seen, 0, sizeof seen);
	is_int(gp_pending_resolve(&pq, e->id, GP_VERDICT_ALLOW, NULL, 7), 0,
	    "resolve");
	is_int(seen[GP_EV_PENDING_ALLOWED], 1, "the entry leaving is announced");
	is_int(w[0].calls, 1, "waiter answered once");
	ok(w[0].v == GP_VERDICT_ALLOW && w[0].rule == 7, "with the verdict");
	is_int(w[2].calls, 0, "the other entry's waiter untouched");
	is_int(pq.count, 1, "resolved entry removed");
	is_int(gp_pending_resolve(&pq, 424242, GP_VERDICT_DENY, NULL, 0), -2,
	    "unknown id: -ENOENT");
	gp_pending_free(&pq);
	gp_bus_free(&bus);
}

/* Bounds, eviction, retention, and lookups that do not scan. */
static void
test_bounds(void)
{
	struct gp_pending	 pq;
	struct gp_pending_key	 k = { "c1", NULL, NULL, 443, 0, NULL, NULL,
	    NULL };
	struct w		 w[8];
	struct gp_pending_entry	*e, *first;
	char			 host[64];
	int			 i, found = 0;

	memset(w, 0, sizeof w);
	memset(seen, 0, sizeof seen);
	gp_bus_subscribe(&bus, count, NULL);
	gp_pending_init(&pq, NULL, &bus);
	for (i = 0; i < 8; i++)
		w[i].w.cb = on_verdict;
	/* 50 000 entries: each found again by key and by id. */
	pq.max_entries = 100000;
	for (i = 0; i < 50000; i++) {
		struct gp_waiter tmp = { NULL, NULL, NULL, on_verdict };

		snprintf(host, sizeof host, "h%d.test", i);
		k.host = host;
		e = gp_pending_hold(&pq, &k, &tmp);
		gp_pending_release(&pq, &tmp);
		found += e != NULL && gp_pending_find(&pq, e->id) == e;
	}
	is_int(found, 50000, "50 000 entries, each found by id");
	k.host = "h123.test";
	e = gp_pending_hold(&pq, &k, &w[0].w);
	ok(e != NULL && e->attempts == 2, "an existing key is found, not added");
	is_int(pq.count, 50000, "no duplicate entry");
	gp_pending_release(&pq, &w[0].w);
	gp_pending_free(&pq);

	/* The entry bound evicts the least recently seen unwatched entry. */
	gp_pending_init(&pq, NULL, &bus);
	pq.max_entries = 3;
	pq.max_waiters = 4;
	k.host = "a.test";
	first = gp_pending_hold(&pq, &k, &w[0].w);	/* watched */
	k.host = "b.test";
	e = gp_pending_hold(&pq, &k, &w[1].w);
	gp_pending_release(&pq, &w[1].w);		/* unwatched, oldest */
	k.host = "c.test";
	gp_pending_hold(&pq, &k, &w[2].w);
	gp_pending_release(&pq, &w[2].w);
	memset(seen, 0, sizeof seen);
	k.host = "d.test";
	ok(gp_pending_hold(&pq, &k, &w[3].w) != NULL, "a fourth destination "
	    "is held");
	is_int(pq.count, 3, "the bound holds");
	k.host = "b.test";
	ok(gp_pending_hold(&pq, &k, &w[4].w) != NULL &&
	    pq.count == 3, "b was evicted (it comes back as new)");
	is_int(seen[GP_EV_PENDING_DISMISSED], 2, "evictions are announced");
	ok(gp_pending_find(&pq, first->id) == first, "the watched entry stays");
	/* Every entry watched: a new destination is refused. */
	k.host = "e.test";
	ok(gp_pending_hold(&pq, &k, &w[5].w) == NULL, "all watched: refused");
	is_int(pq.refused, 1, "refusal counted");
	/* The waiter bound. */
	k.host = "a.test";
	ok(gp_pending_hold(&pq, &k, &w[6].w) != NULL, "fourth waiter held");
	is_int(gp_pending_waiting(&pq), 4, "four waiting");
	ok(gp_pending_hold(&pq, &k, &w[7].w) == NULL, "fifth waiter refused");
	is_int(w[7].w.e == NULL, 1, "a refused waiter is not held");
	/* Retention: only entries nobody waits for leave. */
	gp_pending_release(&pq, &w[6].w);
	gp_pending_release(&pq, &w[4].w);
	pq.retention = 60;
	memset(seen, 0, sizeof seen);
	is_int(gp_pending_expire(&pq, gp_now() + 30), 0, "nothing old yet");
	is_int(gp_pending_expire(&pq, gp_now() + 120), 1,
	    "the unwatched entry expires");
	is_int(seen[GP_EV_PENDING_DISMISSED], 1, "expiry announced");
	is_int(pq.count, 2, "watched entries stay past retention");
	gp_pending_free(&pq);
	gp_bus_free(&bus);
}

/* One decision answers an entry's siblings: same container, port and
 * shown name (an IP's entry once its name is known), nothing else. */
static void
test_siblings(void)
{
	struct gp_pending	 pq;
	struct gp_pending_key	 k = { "c1", "a.test", NULL, 443, 0, NULL,
	    NULL, NULL };
	struct w		 w[6];
	struct gp_pending_entry	*name, *ip, *other, *port, *late;
	int			 i;

	memset(w, 0, sizeof w);
	for (i = 0; i < 6; i++)
		w[i].w.cb = on_verdict;
	gp_pending_init(&pq, NULL, &bus);
	name = gp_pending_hold(&pq, &k, &w[0].w);
	k.host = "192.0.2.7";
	k.resolved_hostname = "a.test";
	ip = gp_pending_hold(&pq, &k, &w[1].w);
	k.container = "c2";
	other = gp_pending_hold(&pq, &k, &w[2].w);	/* another sandbox */
	k.container = "c1";
	k.port = 80;
	port = gp_pending_hold(&pq, &k, &w[3].w);	/* another port */
	k.port = 443;
	k.host = "192.0.2.8";
	k.resolved_hostname = NULL;
	late = gp_pending_hold(&pq, &k, &w[4].w);	/* name unknown yet */
	k.resolved_hostname = "a.test";
	gp_pending_hold(&pq, &k, &w[5].w);		/* now it is known */
	ok(name && ip && other && port && late && pq.count == 5,
	    "five entries");
	gp_pending_resolve(&pq, name->id, GP_VERDICT_ALLOW, NULL, 0);
	ok(w[0].calls == 1 && w[1].calls == 1 && w[4].calls == 1 &&
	    w[5].calls == 1, "the entry and its siblings answered (one by "
	    "a name learned later)");
	ok(w[2].calls == 0 && w[3].calls == 0, "another container or port "
	    "is not a sibling");
	is_int(pq.count, 2, "siblings removed");
	gp_pending_free(&pq);
}

/* Rows stored, by host: attempts (0 when absent), and their count. */
struct rows {
	int	n;
	int64_t	id[4], attempts[4];
	char	host[4][16];
};

static void
on_stored(void *data, const struct gp_store_pending *p)
{
	struct rows *r = data;

	if (r->n < 4) {
		r->id[r->n] = p->id;
		r->attempts[r->n] = p->attempts;
		snprintf(r->host[r->n], sizeof r->host[0], "%s", p->host);
	}
	r->n++;
}

static struct rows
stored(struct gp_store *s)
{
	struct rows r;

	memset(&r, 0, sizeof r);
	gp_store_pending_load(s, on_stored, &r);
	return r;
}

static void
flush(struct gp_pending *pq, struct gp_store *s)
{
	gp_store_begin(s);
	gp_pending_flush(pq, 0);
	gp_pending_flushed(pq, gp_store_commit(s) == 0);
}

/* Changes reach the database at the flush, in order, once. */
static void
test_persist(void)
{
	char			 dir[] = "/tmp/t-pending.XXXXXX", path[64];
	struct gp_store		*s;
	struct gp_pending	 pq;
	struct gp_pending_key	 k = { "c1", "a.test", NULL, 443, 0, NULL,
	    NULL, NULL };
	struct w		 w[4];
	struct gp_pending_entry	*a, *b, *c;
	struct rows		 r;
	int64_t			 c_id, b_old;
	char			*err = NULL;
	int			 i;

	memset(w, 0, sizeof w);
	for (i = 0; i < 4; i++)
		w[i].w.cb = on_verdict;
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof path, "%s/greyproxy.db", dir);
	if (gp_store_open(path, &s, &err) != 0) {
		ok(0, "store open: %s", err);
		return;
	}
	gp_pending_init(&pq, s, &bus);
	a = gp_pending_hold(&pq, &k, &w[0].w);
	k.host = "b.test";
	b = gp_pending_hold(&pq, &k, &w[1].w);
	gp_pending_release(&pq, &w[1].w);
	is_int(stored(s).n, 0, "new entries: nothing written before the flush");
	ok(gp_pending_dirty(&pq), "the queue owes them");
	ok(a->id > 0 && b->id == a->id + 1, "ids given in order");
	/* A transaction that does not commit: all is owed again. */
	gp_store_begin(s);
	gp_pending_flush(&pq, 0);
	gp_store_rollback(s);
	gp_pending_flushed(&pq, 0);
	ok(stored(s).n == 0 && gp_pending_dirty(&pq),
	    "rolled back: nothing stored, everything still owed");
	flush(&pq, s);
	r = stored(s);
	ok(r.n == 2 && r.id[0] == a->id && r.id[1] == b->id,
	    "the flush writes both, under their ids");
	ok(!gp_pending_dirty(&pq), "nothing owed after it");

	k.host = "a.test";
	gp_pending_hold(&pq, &k, &w[2].w);
	k.host = "c.test";
	c = gp_pending_hold(&pq, &k, &w[3].w);
	c_id = c->id;
	gp_pending_resolve(&pq, c_id, GP_VERDICT_DENY, NULL, 0);
	flush(&pq, s);
	r = stored(s);
	is_int(r.n, 2, "an entry gone before the flush is never written");
	is_int(r.attempts[0], 2, "a count changed is written");

	/* b dismissed and seen again: a new id, the old row replaced. */
	b_old = b->id;
	gp_pending_resolve(&pq, b_old, GP_VERDICT_DISMISS, NULL, 0);
	k.host = "b.test";
	b = gp_pending_hold(&pq, &k, &w[1].w);
	gp_pending_release(&pq, &w[1].w);
	ok(b->id > c_id, "the key back: a new id");
	gp_pending_resolve(&pq, a->id, GP_VERDICT_ALLOW, NULL, 3);
	gp_store_begin(s);
	gp_pending_flush(&pq, 0);
	gp_store_rollback(s);
	gp_pending_flushed(&pq, 0);
	is_int(stored(s).n, 2, "removals rolled back: rows still there");
	flush(&pq, s);
	r = stored(s);
	ok(r.n == 1 && r.id[0] == b->id && strcmp(r.host[0], "b.test") == 0,
	    "removals first, then the key's new row");
	/* A stored entry, then a flush that does not commit: still
	 * stored, so its row goes when it leaves. */
	k.host = "x.test";
	c = gp_pending_hold(&pq, &k, &w[3].w);
	gp_pending_release(&pq, &w[3].w);
	flush(&pq, s);
	gp_pending_hold(&pq, &k, &w[3].w);
	gp_pending_release(&pq, &w[3].w);
	gp_store_begin(s);
	gp_pending_flush(&pq, 0);
	gp_store_rollback(s);
	gp_pending_flushed(&pq, 0);
	gp_pending_resolve(&pq, c->id, GP_VERDICT_DISMISS, NULL, 0);
	flush(&pq, s);
	r = stored(s);
	ok(r.n == 1 && strcmp(r.host[0], "b.test") == 0,
	    "a stored entry leaving after a failed flush loses its row");
	k.host = "d.test";
	c = gp_pending_hold(&pq, &k, &w[3].w);
	c_id = c->id;
	gp_pending_release(&pq, &w[3].w);
	gp_pending_resolve(&pq, c_id, GP_VERDICT_DISMISS, NULL, 0);
	b_old = b->id;
	gp_pending_free(&pq);		/* flushes what is owed */

	/* A restart: entries back, and no id given twice, not even one
	 * whose entry was never written. */
	gp_pending_init(&pq, s, &bus);
	is_int(pq.count, 1, "restart: the stored entry is back");
	ok(gp_pending_find(&pq, b_old) != NULL, "under its id");
	k.host = "e.test";
	c = gp_pending_hold(&pq, &k, &w[3].w);
	ok(c != NULL && c->id > c_id, "a new entry's id was never given");
	gp_pending_release(&pq, &w[3].w);

	/* A budget per flush: what does not fit waits for the next. */
	{
		char	h[32];
		int	j, rounds = 0, n0 = stored(s).n;

		for (j = 0; j < 10; j++) {
			snprintf(h, sizeof h, "budget%d.test", j);
			k.host = h;
			gp_pending_hold(&pq, &k, &w[3].w);
			gp_pending_release(&pq, &w[3].w);
		}
		gp_store_begin(s);
		gp_pending_flush(&pq, 4);
		gp_pending_flushed(&pq, gp_store_commit(s) == 0);
		/* owed: e.test, held above, and these ten */
		ok(stored(s).n == n0 + 4 && gp_pending_dirty(&pq),
		    "four rows a flush; the rest still owed");
		while (gp_pending_dirty(&pq) && rounds++ < 10) {
			gp_store_begin(s);
			gp_pending_flush(&pq, 4);
			gp_pending_flushed(&pq, gp_store_commit(s) == 0);
		}
		is_int(stored(s).n, n0 + 11, "all of them within a few "
		    "flushes");
	}
	gp_pending_free(&pq);
	gp_store_close(s);
	snprintf(path, sizeof path, "rm -rf %s", dir);
	if (system(path) != 0)
		ok(0, "cleanup");
}

int
main(void)
{
	test_bus();
	test_settings();
	test_scopes();
	test_queue();
	test_bounds();
	test_siblings();
	test_persist();
	return tap_done();
}
