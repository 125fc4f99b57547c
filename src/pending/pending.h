/*
 * pending.h: destinations waiting for a person's decision.
 *
 * An entry is keyed by (container, host, port); every connection to it
 * holds a waiter (embedded in the connection, borrowed here) until a
 * decision, its own deadline, or its client going away.
 * Life: gp_pending_hold() → events PENDING_CREATED/UPDATED and
 * WAITERS_CHANGED → gp_pending_resolve() calls every waiter's cb exactly
 * once, announces the entry's leaving (PENDING_ALLOWED for ALLOW and
 * RULE, PENDING_DISMISSED otherwise; one event per entry, siblings
 * included) and frees it, or gp_pending_release() drops one waiter.
 * Entries are persisted so the list survives a restart, without waiters:
 * the queue gives ids itself and gp_pending_flush() writes what changed
 * since the last call (new entries, attempt counts, entries gone) inside
 * the caller's transaction, so a burst of new destinations costs the
 * loop one commit a tick, not one each.  An entry that comes and goes
 * between two flushes never reaches the database.
 *
 * Bounds: at most max_entries entries and max_waiters connections.  A new
 * destination past max_entries evicts the least recently seen entry no
 * connection waits for; when every entry has waiters, or max_waiters
 * connections wait already, gp_pending_hold() refuses (NULL) and the
 * caller answers 503.  Entries no connection waits for leave after
 * retention seconds without an attempt (gp_pending_expire()).  Holding,
 * finding and releasing are O(1) in the number of entries, and resolving
 * is O(its siblings): hashes by key, by id, and by sibling key
 * (container, shown name, port).
 */
#ifndef GP_PENDING_H
#define GP_PENDING_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "store/store.h"

/*
 * ALLOW: a person allowed it (local-network addresses included); RULE: a
 * rule added or changed since allows it (judged like any allowed
 * connection, the local-network guard included); DENY; DISMISS.
 */
enum gp_verdict { GP_VERDICT_ALLOW, GP_VERDICT_DENY, GP_VERDICT_DISMISS,
	GP_VERDICT_RULE };

struct gp_pending_entry;
struct gp_waiter;
typedef void (*gp_waiter_cb)(struct gp_waiter *, enum gp_verdict,
	    int64_t rule_id);

struct gp_waiter {
	struct gp_waiter	*next, *prev;
	struct gp_pending_entry	*e;		/* NULL when not waiting */
	gp_waiter_cb		 cb;
};

struct gp_pending_entry {
	int64_t			 id;
	char			*container;
	char			*host;
	char			*resolved_hostname;	/* may be NULL */
	unsigned		 port;
	int			 local;		/* local-network destination */
	char			*request;	/* first request line seen */
	char			*protocol;	/* "HTTP" | "SOCKS5" */
	char			*addresses;	/* known IPs, "a, b"; may be NULL */
	int64_t			 first_seen, last_seen;
	int64_t			 attempts;
	size_t			 nwaiters;
	struct gp_waiter	*waiters;
	int			 dirty;		/* GP_PENDING_* */
	struct gp_pending_entry	*next, *prev;	/* most recently seen first */
	struct gp_pending_entry	*hkey, *hid, *hsib;	/* hash chains */
	uint64_t		 keyhash, sibhash;
};

/* PENDING_ALLOWED / PENDING_DISMISSED payload. */
struct gp_decision {
	int64_t			 pending_id;
	enum gp_action		 action;
	const struct gp_rule	*rule;		/* the rule stored; may be NULL */
	int64_t			 rule_id;	/* the rule that decided, or 0 */
	enum gp_verdict		 verdict;
};

/* WAITERS_CHANGED payload. */
struct gp_waiters_change {
	const struct gp_pending_entry	*e;
	size_t				 previous, current;
};

/* What gp_pending_flush() owes the database for an entry: nothing, its
 * counts, its row (never written), or its row after a flush that did not
 * commit (it may or may not be stored: written whole, deleted if it
 * leaves). */
enum { GP_PENDING_CLEAN, GP_PENDING_TOUCHED, GP_PENDING_NEW,
	GP_PENDING_REWRITE };

struct gp_pending {
	struct gp_store		*store;		/* borrowed; may be NULL */
	struct gp_bus		*bus;		/* borrowed */
	struct gp_pending_entry	*head, *tail;
	size_t			 count;
	size_t			 ndirty;	/* touched since the flush */
	int64_t			*gone;		/* stored ids to delete */
	size_t			 ngone, gone_cap, sent_gone;
	int64_t			 next_id, given;	/* given: stored mark */
	int64_t			 sent_given;
	size_t			 waiting;	/* connections, all entries */
	struct gp_pending_entry	**bykey, **byid, **bysib;	/* nbuckets each */
	size_t			 nbuckets;
	/* bounds (see above); set by the owner from the settings */
	size_t			 max_entries, max_waiters;
	int64_t			 retention;	/* seconds */
	uint64_t		 refused, evicted;	/* since start */
};

struct gp_pending_key {
	const char	*container;
	const char	*host;
	const char	*resolved_hostname;
	unsigned	 port;
	int		 local;
	const char	*request;	/* may be NULL */
	const char	*protocol;	/* may be NULL */
	const char	*addresses;	/* may be NULL */
};

/* Loads persisted entries. */
void	gp_pending_init(struct gp_pending *, struct gp_store *,
	    struct gp_bus *);
/* Frees entries; waiters still held get no callback. */
void	gp_pending_free(struct gp_pending *);
/* Holds w on the entry for k (created if new); NULL when a bound
 * refuses it (w is then not held). */
struct gp_pending_entry *gp_pending_hold(struct gp_pending *,
	    const struct gp_pending_key *, struct gp_waiter *);
void	gp_pending_release(struct gp_pending *, struct gp_waiter *);
struct gp_pending_entry *gp_pending_find(struct gp_pending *, int64_t id);
/*
 * Answers every waiter of the entry and of its siblings (same container,
 * host or resolved hostname, and port), announces and removes them; rule
 * (may be NULL) is what decided.  0 or -ENOENT.
 */
int	gp_pending_resolve(struct gp_pending *, int64_t id, enum gp_verdict,
	    const struct gp_rule *rule, int64_t rule_id);
/* At most max statements a call (0: all): a tick stays short on the
 * loop after 10 000 entries leave at once. */
void	gp_pending_flush(struct gp_pending *, size_t max);
void	gp_pending_flushed(struct gp_pending *, int committed);
int	gp_pending_dirty(const struct gp_pending *);
/* Drops entries without waiters unseen for retention seconds (each with
 * a PENDING_DISMISSED event); returns how many. O(expired). */
size_t	gp_pending_expire(struct gp_pending *, int64_t now);
/* Entries in display order (newest last_seen first); caller frees array. */
size_t	gp_pending_list(struct gp_pending *, struct gp_pending_entry ***);
/* Total connections waiting. */
size_t	gp_pending_waiting(const struct gp_pending *);

#endif
