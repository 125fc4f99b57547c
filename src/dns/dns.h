/*
 * dns.h: the DNS proxy.  wire.c reads and writes DNS messages (RFC 1035;
 * names through udns, which refuses compression loops); cache.c keeps
 * answers by (name, type, class) with TTLs, negative answers (RFC 2308)
 * and an IP → hostname map for enrichment; server.c answers on UDP and
 * TCP and forwards to the upstream resolver.
 *
 * Life: gp_dns_cache_new() (owned by the core) → gp_dns_start() binds the
 * listeners → gp_dns_stop() closes them (in-flight queries dropped).
 */
#ifndef GP_DNS_H
#define GP_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define GP_DNS_HDR	12
#define GP_DNS_MAXMSG	65535
#define GP_DNS_UDP	512		/* without EDNS */

enum { GP_DNS_NOERROR = 0, GP_DNS_FORMERR = 1, GP_DNS_SERVFAIL = 2,
	GP_DNS_NXDOMAIN = 3, GP_DNS_NOTIMP = 4, GP_DNS_REFUSED = 5 };
enum { GP_DNS_A = 1, GP_DNS_SOA = 6, GP_DNS_AAAA = 28, GP_DNS_OPT = 41 };

/* wire.c: pure. */
struct gp_dns_msg {
	uint16_t	id;
	int		qr, opcode, tc, rd, rcode;
	uint16_t	qdcount, ancount, nscount, arcount;
	char		name[256];	/* question, lower-case, no final dot */
	uint16_t	qtype, qclass;
	size_t		qend;		/* offset after the question */
	uint16_t	udp_size;	/* EDNS payload size, 512 without */
};
/*
 * Parses a header and its single question.  0 on success; -1 when the
 * message cannot even be answered (shorter than a header); otherwise a
 * DNS rcode to answer with (FORMERR, NOTIMP).
 */
int	gp_dns_parse(const uint8_t *, size_t, struct gp_dns_msg *);
/*
 * For an answer: the TTL to cache it for (the smallest answer TTL, or
 * for NXDOMAIN/NODATA the SOA minimum per RFC 2308; -1 when not
 * cacheable), and each A/AAAA address through fn.  -1 if malformed.
 */
typedef void (*gp_dns_addr_fn)(void *, const char *ip, uint32_t ttl);
int	gp_dns_scan_answer(const uint8_t *, size_t, const struct gp_dns_msg *,
	    int64_t *ttl, gp_dns_addr_fn, void *);
/* Lowers every TTL (not OPT's) by elapsed seconds, in place. */
void	gp_dns_age(uint8_t *, size_t, uint32_t elapsed);
/* An answer with only the header and question: rcode, flags kept. */
size_t	gp_dns_error(const uint8_t *query, const struct gp_dns_msg *,
	    int rcode, int tc, uint8_t *out, size_t outlen);
void	gp_dns_set_id(uint8_t *, uint16_t);
/* Do the questions of a query and an answer name the same thing? */
int	gp_dns_same_question(const struct gp_dns_msg *,
	    const struct gp_dns_msg *);

/* cache.c: pure (no loop); times in epoch seconds. */
struct gp_dns_cache;
struct gp_dns_cache_stats {
	size_t		entries;
	size_t		hosts;
	uint64_t	hits, misses;
};
struct gp_dns_cache *gp_dns_cache_new(size_t max_entries, uint32_t ttl_min,
	    uint32_t ttl_max);
void	gp_dns_cache_free(struct gp_dns_cache *);
void	gp_dns_cache_limits(struct gp_dns_cache *, uint32_t ttl_min,
	    uint32_t ttl_max);
/* A copy of the answer aged to now (caller frees), or NULL. */
uint8_t	*gp_dns_cache_get(struct gp_dns_cache *, const char *name,
	    uint16_t type, uint16_t cls, int64_t now, size_t *len);
/* Keeps the answer for ttl seconds (clamped); 0 or -1 if not kept. */
int	gp_dns_cache_put(struct gp_dns_cache *, const char *name,
	    uint16_t type, uint16_t cls, const uint8_t *, size_t,
	    int64_t ttl, int negative, int64_t now);
/* IP → hostname enrichment. */
void	gp_dns_cache_note_host(struct gp_dns_cache *, const char *ip,
	    const char *host, int64_t expires);
/* The name an IP was last resolved from, or NULL; borrowed. */
const char *gp_dns_cache_host(struct gp_dns_cache *, const char *ip,
	    int64_t now);
void	gp_dns_cache_flush(struct gp_dns_cache *);
void	gp_dns_cache_stats(const struct gp_dns_cache *,
	    struct gp_dns_cache_stats *);
/*
 * Persistence: entries changed since the last call are handed to the
 * functions (answers, hosts), at most max of them (0: all), and
 * forgotten as changed; cleared says a flush emptied everything.
 * Returns how many were handed; gp_dns_cache_dirty, how many are owed
 * (a flush counts as one).
 */
struct gp_dns_dirty {
	void	(*answer)(void *, const char *key, const uint8_t *, size_t,
		    int64_t stored, int64_t expires, int negative);
	void	(*host)(void *, const char *ip, const char *host,
		    int64_t expires);
	void	(*cleared)(void *);
	void	 *data;
};
size_t	gp_dns_cache_drain(struct gp_dns_cache *, const struct gp_dns_dirty *,
	    size_t max);
size_t	gp_dns_cache_dirty(const struct gp_dns_cache *);
/* Loading back: an answer by its key ("name|type|class"). */
void	gp_dns_cache_load(struct gp_dns_cache *, const char *key,
	    const uint8_t *, size_t, int64_t stored, int64_t expires,
	    int negative, int64_t now);

/* server.c */
struct gp_dns_server;
struct gp_dns_query_info {	/* for the connection log */
	const char	*client_ip;
	const char	*name;
	uint16_t	 qtype;
	int		 rcode;
	int		 blocked;
	int		 cached;
	const char	*first_ip;	/* may be NULL */
	uint64_t	 duration_ms;
	int		 tcp;
};
struct gp_dns_hooks {
	/* 1 when a deny rule covers name for this client. */
	int	(*denied)(void *, const char *client_ip, const char *name);
	void	(*logged)(void *, const struct gp_dns_query_info *);
	void	 *data;
};
int	gp_dns_start(struct gp_dns_server **, uv_loop_t *,
	    struct gp_dns_cache *, const char *listen_addr,
	    const struct sockaddr *upstream, const struct gp_dns_hooks *,
	    struct sockaddr_storage *bound, char **err);
void	gp_dns_stop(struct gp_dns_server *);
/* The whole time a DNS-over-TCP message may take to arrive. */
void	gp_dns_set_deadline(struct gp_dns_server *, unsigned ms);
size_t	gp_dns_inflight(const struct gp_dns_server *);
/* The upstream from /etc/resolv.conf (first usable), else 1.1.1.1:53. */
void	gp_dns_default_upstream(struct sockaddr_storage *);
const char *gp_dns_type_name(uint16_t);

#endif
