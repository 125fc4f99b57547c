/*
 * proxy.h: the HTTP proxy and SOCKS5 front ends over one flow engine.
 *
 * Life: gp_proxy_init() → listeners call gp_proxy_accept_http/socks5
 * from their connection callbacks → gp_proxy_shutdown() closes every
 * flow.  A flow owns its handles and frees itself in the close callback
 * of its last handle.  The rule set is borrowed: whoever owns it swaps
 * px->rules between loop iterations and frees the old one.
 *
 * Per connection: parse → identity and target → rules decision →
 * resolve → dial → the protocol's "connected" step → gp_flow_tunnel(),
 * the stage where TLS interception and header rewriting will sit.
 */
#ifndef GP_PROXY_H
#define GP_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "conf/conf.h"
#include "dns/dns.h"
#include "http/http.h"
#include "mitm/mitm.h"
#include "net/net.h"
#include "pending/pending.h"
#include "rules/rules.h"
#include "store/store.h"

struct gp_flow;

struct gp_proxy_opts {
	unsigned	connect_timeout_ms;	/* per address attempt */
	unsigned	header_timeout_ms;	/* request head must arrive */
	unsigned	idle_timeout_ms;	/* no bytes either way */
};

struct gp_proxy_stats {
	uint64_t	flows;		/* open now */
	uint64_t	allowed;
	uint64_t	blocked;
	uint64_t	spliced;	/* tunnels relayed by splice(2) */
	uint64_t	body_spliced;	/* HTTP bodies passed by splice(2) */
	uint64_t	intercepted;	/* tunnels whose TLS we terminated */
	uint64_t	plain_http;	/* tunnels whose clear HTTP we read */
	uint64_t	resumed;	/* ... whose origin resumed a session */
	uint64_t	copied;		/* ... through the streams */
};

#define GP_PROXY_FILTERS	8

struct gp_proxy {
	uv_loop_t		*loop;
	struct gp_resolver	*resolver;	/* borrowed */
	struct gp_store		*store;		/* borrowed */
	struct gp_bus		*bus;		/* borrowed */
	struct gp_pending	*pending;	/* borrowed */
	const struct gp_settings *settings;	/* borrowed, live */
	const struct gp_ruleset	*rules;		/* borrowed, swappable */
	struct gp_dns_cache	*dns_cache;	/* borrowed; may be NULL */
	struct gp_mitm		*mitm;		/* borrowed; NULL: no
						 * interception */
	struct gp_proxy_opts	 opts;
	struct gp_proxy_stats	 stats;
	struct gp_flow		*flows;		/* every open flow */
	int			 shutting_down;
	struct sockaddr_storage	 self[8];	/* our own listeners */
	size_t			 nself;
	struct gp_http_filter	 filters[GP_PROXY_FILTERS];
	size_t			 nfilters;
	uint64_t		 txn_seq;	/* last transaction id */
};

void	gp_proxy_init(struct gp_proxy *, uv_loop_t *, struct gp_resolver *,
	    struct gp_store *, struct gp_bus *, struct gp_pending *,
	    const struct gp_settings *);
/* Connection callbacks: the listening handle's data is the gp_proxy. */
void	gp_proxy_accept_http(uv_stream_t *, int status);
void	gp_proxy_accept_socks5(uv_stream_t *, int status);
void	gp_proxy_shutdown(struct gp_proxy *);
/* Adds a filter every HTTP exchange runs (http.h), in the order added;
 * 0, or -ENOSPC beyond GP_PROXY_FILTERS. */
int	gp_proxy_add_filter(struct gp_proxy *, const struct gp_http_filter_ops *,
	    void *arg);

/*
 * self.c: greyproxy's own listeners (API, HTTP, SOCKS5, DNS) are never
 * a destination, whatever the rules say.  Add each bound address; then
 * gp_proxy_is_self() says whether a destination lands on one of them.
 */
void	gp_proxy_add_self(struct gp_proxy *, const struct sockaddr *);
/*
 * The one way a decision becomes a connection-log row: queued for the
 * writer (copied) and announced (request_log.created, or .updated for
 * an update_of); returns the row's id, 0 when dropped.  Every kind of traffic (HTTP, CONNECT,
 * SOCKS5, UDP, DNS) fills a gp_conn_log and hands it here.
 */
int64_t	gp_proxy_log_row(struct gp_proxy *, const struct gp_conn_log *);
int	gp_proxy_self_port(const struct gp_proxy *, unsigned port);
int	gp_proxy_is_self(const struct gp_proxy *, const struct sockaddr *);
/* How many of the n addresses are greyproxy itself. */
size_t	gp_proxy_count_self(const struct gp_proxy *,
	    const struct sockaddr_storage *, size_t n);
/*
 * Does an allow rule that matched host open it for identity?  Not a
 * local-network destination known without a query (an address literal,
 * localhost) that no rule names: the guard would drop each of its
 * addresses at connect, so it waits for a person instead (pending,
 * flagged local), and a new wildcard rule does not release it from
 * there to be refused.  A name is judged on its addresses at connect.
 */
int	gp_proxy_rule_opens(struct gp_proxy *, const char *identity,
	    const char *host, unsigned port);
/* Marks the rows of tunnels still open (their bytes come at the end). */
struct gp_log_row;
void	gp_proxy_mark_open(const struct gp_proxy *, struct gp_log_row *,
	    size_t n);

/*
 * SOCKS5 wire format (RFC 1928, RFC 1929); pure, no I/O.  Each parser
 * returns bytes consumed (> 0), GP_AGAIN or GP_EPROTO.
 */
#define GP_SOCKS5_NO_AUTH	0x00
#define GP_SOCKS5_USERPASS	0x02
#define GP_SOCKS5_NO_METHOD	0xff
#define GP_SOCKS5_CONNECT	0x01
#define GP_SOCKS5_BIND		0x02
#define GP_SOCKS5_UDP		0x03

struct gp_socks5_req {
	int		cmd;
	int		atyp;		/* 1 IPv4, 3 domain, 4 IPv6 */
	char		host[GP_HOST_MAX];	/* normalized */
	unsigned	port;
};
/* Chooses username/password when offered (identity), else no-auth. */
int	gp_socks5_parse_greeting(const unsigned char *, size_t, int *method);
int	gp_socks5_parse_auth(const unsigned char *, size_t, char *user,
	    size_t userlen);
/* On GP_EPROTO *rep holds the reply code to send before closing. */
int	gp_socks5_parse_request(const unsigned char *, size_t,
	    struct gp_socks5_req *, int *rep);
/* A reply with an empty (0.0.0.0:0) bound address, as the original. */
void	gp_socks5_reply(unsigned char out[10], int rep);
/*
 * UDP ASSOCIATE datagram header (RFC 1928 7): RSV RSV FRAG ATYP ADDR
 * PORT.  Returns the header length (the data follows) or GP_EPROTO,
 * fragments (FRAG != 0) included.
 */
int	gp_socks5_parse_udp(const unsigned char *, size_t,
	    struct gp_socks5_req *);
/* ATYP ADDR PORT of sa into out (at most 19 bytes); returns the length. */
size_t	gp_socks5_addr(unsigned char *out, const struct sockaddr *);

#endif
