/*
 * rules.h: the rule engine.  Pure: no libuv, no SQL, so it is tested
 * without a loop.
 *
 * Life: the store loads rows into struct gp_rule; gp_rules_compile()
 * copies what it needs into an immutable, indexed gp_ruleset (the caller
 * keeps ownership of its rows).  A new set replaces the old one on every
 * change; gp_rules_free() frees a set.  gp_rules_match() never allocates.
 *
 * Precedence (the original greyproxy's): among unexpired matching rules
 * the layer decides first (global > session > builtin), then the
 * specificity score (container non-"*" +100, +100 more without glob
 * characters; destination non-"*" +10, +10 more without glob characters;
 * port non-"*" +1), then deny before allow, then the lowest id.
 */
#ifndef GP_RULES_H
#define GP_RULES_H

#include <stddef.h>
#include <stdint.h>

enum gp_action { GP_ALLOW = 0, GP_DENY = 1 };
enum gp_layer { GP_LAYER_BUILTIN = 0, GP_LAYER_SESSION = 1,
	GP_LAYER_GLOBAL = 2 };

/* One stored rule; strings owned by whoever filled it (gp_rule_clear). */
struct gp_rule {
	int64_t		 id;
	char		*container;	/* "*" or shell glob (case-sensitive) */
	char		*dest;		/* normalized pattern, see below */
	char		*ports;		/* "*", "443", "80,443", "8000-8100" */
	/* A request rule names a method or a path glob (NULL or "*": any);
	 * it judges HTTP requests, never a connection. */
	char		*method;	/* "POST" (upper case) */
	char		*path;		/* "/v1/files*": glob, no query */
	enum gp_action	 action;
	enum gp_layer	 layer;
	char		*rule_type;	/* "permanent" | "temporary" */
	char		*created_by;
	char		*notes;		/* may be NULL */
	char		*session_id;	/* may be NULL */
	int64_t		 created_at;	/* epoch seconds */
	int64_t		 expires_at;	/* 0: never */
	int64_t		 last_used_at;	/* 0: never */
	int64_t		 hit_count;
};
void	gp_rule_clear(struct gp_rule *);

/*
 * Destination patterns (lower-cased, IDN labels in punycode):
 *   "*"            any host
 *   "a.b/24"       CIDR: the host must be an IP inside (v4 or v6)
 *   "**.d"         d itself or any subdomain
 *   "*.d"          strict subdomains of d only
 *   "exact.name"   that name or IP literal
 *   anything else with * ? [..]: glob over the whole name
 */
#define GP_HOST_MAX 256

/*
 * Normalizes a host or destination pattern into out: ASCII lower-case,
 * one trailing dot removed, IPv6 brackets removed and the address
 * canonicalized, non-ASCII labels encoded as punycode ("xn--").
 * Returns 0, or -1 with *why set for an unusable name.
 */
int	gp_host_normalize(const char *in, size_t n, char *out, size_t outlen,
	    const char **why);
/* 4 or 6 when s is an IP literal (after normalization), else 0. */
int	gp_host_ip_family(const char *s);
/* RFC 3492 punycode of a UTF-8 label, without the "xn--" prefix. */
int	gp_punycode_encode(const char *utf8, size_t n, char *out,
	    size_t outlen);
/* Shell-style glob: * ? [set] [!set]; no path semantics. */
int	gp_glob_match(const char *pat, const char *s);
int	gp_glob_has_magic(const char *);

/*
 * Validation used by the CLI and the API before a rule is stored:
 * checks and normalizes container, destination and ports in place
 * (strings reallocated); 0 or -1 with *why.
 */
int	gp_rule_prepare(struct gp_rule *, const char **why);
int	gp_rules_check_ports(const char *, const char **why);
/* Port list membership ("*", lists, ranges). */
int	gp_rules_port_match(const char *ports, unsigned port);

struct gp_ruleset;

/* Compiles n rules; invalid rows are skipped with a log-free count. */
struct gp_ruleset	*gp_rules_compile(const struct gp_rule *, size_t n,
			    size_t *skipped);
void			 gp_rules_free(struct gp_ruleset *);
/*
 * Changes in place, without a recompile: add one rule (0, or -1 for an
 * invalid row) or remove every rule with this id (1 removed, 0 none).
 * Both cost a few hash operations whatever the size of the set.
 */
int			 gp_rules_add(struct gp_ruleset *, const struct gp_rule *);
int			 gp_rules_remove(struct gp_ruleset *, int64_t id);
size_t			 gp_rules_dead(const struct gp_ruleset *);
size_t			 gp_rules_count(const struct gp_ruleset *);

/* Does r name a method or a path (a request rule)? */
int	gp_rule_is_request(const struct gp_rule *);
/*
 * The request rules' decision for one HTTP request: method, and path
 * without its query; m as gp_rules_match() (most specific wins: layer,
 * then the host/identity/port score plus what the method and path name,
 * then deny).  Returns 1 when one matched.
 */
struct gp_query;
struct gp_match;
int	gp_rules_match_request(const struct gp_ruleset *,
	    const struct gp_query *, const char *method, const char *path,
	    struct gp_match *);
size_t	gp_rules_request_count(const struct gp_ruleset *);

struct gp_query {
	const char	*container;	/* identity of the source */
	const char	*host;		/* normalized destination host */
	const char	*alt_host;	/* enriched hostname, or NULL */
	unsigned	 port;
	int64_t		 now;		/* epoch seconds, for expiry */
};

struct gp_match {
	int		 matched;
	enum gp_action	 action;
	int64_t		 rule_id;
	int		 score;
	enum gp_layer	 layer;
	int		 names_host;	/* winner is an exact host or CIDR */
};

/* Fills m with the winning rule; returns 1 when one matched, else 0. */
int	gp_rules_match(const struct gp_ruleset *, const struct gp_query *,
	    struct gp_match *m);
/* The same decision by checking every rule in turn: the reference the
 * indexed matcher is tested against (tests only; O(rules)). */
int	gp_rules_match_reference(const struct gp_ruleset *,
	    const struct gp_query *, struct gp_match *m);
/*
 * DNS-rebinding guard: may a connection for container:port reach the
 * local-network address ip?  Only when the best rule for the IP itself is
 * an allow that names it (exact or CIDR), or, for loopback, when the best
 * rule for "localhost" is an exact allow.
 */
int	gp_rules_names_ip(const struct gp_ruleset *, const char *container,
	    const char *ip, int loopback, unsigned port, int64_t now);
/* Specificity score of a rule's three patterns (see above). */
int	gp_rules_score(const char *container, const char *dest,
	    const char *ports);

#endif
