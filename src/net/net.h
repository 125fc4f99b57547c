/*
 * net.h: addresses, listeners, asynchronous name resolution (udns driven
 * by the libuv loop, never getaddrinfo) and dialing.
 */
#ifndef GP_NET_H
#define GP_NET_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <uv.h>

#define GP_ADDR_STRLEN 64	/* "[v6]:port" */
#define GP_RESOLVE_MAX 16	/* addresses kept per name */

/* "host:port", "[v6]:port" or ":port" (→ 127.0.0.1); 0 or -1 (why). */
int	gp_addr_parse(const char *, struct sockaddr_storage *,
	    const char **why);
/* "1.2.3.4:80" / "[::1]:80" */
void	gp_addr_format(const struct sockaddr *, char *, size_t);
/* Address only, no port. */
void	gp_addr_ip(const struct sockaddr *, char *, size_t);
unsigned gp_addr_port(const struct sockaddr *);
int	gp_addr_is_loopback(const struct sockaddr *);
/*
 * guard.c: local-network addresses: loopback, RFC 1918, link-local,
 * CGNAT (100.64/10), "this network" (0/8), 192.0.0/24, benchmarking
 * (198.18/15), multicast, reserved and broadcast (224/3); unique-local,
 * link-local, site-local and multicast IPv6; and every IPv6 form that
 * carries an IPv4 address (mapped, compatible, NAT64 64:ff9b::/96 and
 * 64:ff9b:1::/48, 6to4, Teredo), judged by that IPv4 address.
 */
int	gp_addr_is_private(const struct sockaddr *);
/* Same for an address literal ("10.0.0.1", "::1"); 0 if not a literal. */
int	gp_ip_is_private(const char *);

/*
 * Binds and listens a TCP server (handle embedded in the caller); fills
 * bound with the address actually bound (port 0 resolved).  0 or -errno;
 * on error the handle is initialized and the caller must uv_close() it.
 */
int	gp_listen_tcp(uv_loop_t *, uv_tcp_t *, const struct sockaddr *,
	    uv_connection_cb, struct sockaddr_storage *bound);

/*
 * Accept failures (EMFILE, ENFILE, ENOMEM) come in bursts: the first of
 * an episode is logged with its cause and remedy, then a count every
 * 10 s, and one line when connections are accepted again.  Every
 * listener's connection callback calls gp_net_accept_failed() on an
 * error status and gp_net_accepted() with each accepted connection
 * (which notices the descriptor limit being reached, since libuv then
 * drops connections without a callback).
 */
void	gp_net_accept_failed(const char *listener, int status);
void	gp_net_accepted(const char *listener, uv_stream_t *client);
/* Failures counted since start (for status). */
uint64_t gp_net_accept_failures(void);
/*
 * Called once before serving: raises the soft descriptor limit to the
 * hard one (as the original, a Go program, gets from its runtime), and
 * grows the kernel's descriptor table to its size up to FD_RESERVE at
 * once.  Growing it later, with threads sharing the table, waits for an
 * RCU grace period inside accept(2) or socket(2): the loop stalled for
 * 9-25 ms at the 256th, 512th and 1024th descriptor.  Returns the limit.
 */
long	gp_net_reserve_fds(void);

/*
 * Resolver.  Life: gp_resolver_new() → gp_resolve() per name →
 * gp_resolver_close() (queries still running are cancelled without a
 * callback).  /etc/hosts (read at start) and RFC 6761 localhost names
 * are answered without a query.
 */
struct gp_resolver;
struct gp_resolve;
typedef void (*gp_resolve_cb)(void *data, int status,
	    const struct sockaddr_storage *addrs, size_t naddrs);

/* upstream: "ip[:port]" or NULL for /etc/resolv.conf. 0 or -1 (err). */
int	gp_resolver_new(uv_loop_t *, const char *upstream, unsigned timeout_s,
	    struct gp_resolver **, const char **err);
void	gp_resolver_close(struct gp_resolver *);
/*
 * Answers from literals, localhost and /etc/hosts at once: returns the
 * address count (> 0) or 0 when a DNS query is needed.
 */
size_t	gp_resolve_static(struct gp_resolver *, const char *host,
	    unsigned port, struct sockaddr_storage *, size_t max);
/*
 * Queries A and AAAA; cb is called exactly once later (never from
 * inside this call) unless gp_resolve_cancel() is called first.
 * status: 0 or a negative errno (-ENOENT no such name, -ETIMEDOUT,
 * -EAGAIN temporary failure).
 */
struct gp_resolve *gp_resolve(struct gp_resolver *, const char *host,
	    unsigned port, gp_resolve_cb, void *data);
void	gp_resolve_cancel(struct gp_resolve *);

/*
 * Dialer: tries each address in turn, each with timeout_ms.  On success
 * cb gets a connected, heap-allocated uv_tcp_t that the callee now owns
 * (close it with gp_tcp_close_free()); on failure, NULL and the last
 * error.  Cancel with gp_dial_cancel(): no callback afterwards.
 */
struct gp_dial;
typedef void (*gp_dial_cb)(void *data, uv_tcp_t *, int status,
	    const struct sockaddr *peer);
struct gp_dial *gp_dial_start(uv_loop_t *, const struct sockaddr_storage *,
	    size_t n, unsigned timeout_ms, gp_dial_cb, void *data);
void	gp_dial_cancel(struct gp_dial *);
/* uv_close + free of a heap uv_tcp_t. */
void	gp_tcp_close_free(uv_tcp_t *);

/*
 * stream.c: a byte stream the proxy reads and writes without knowing
 * what carries it — TCP now, TLS over a TCP stream next (one ops table
 * each, after redis's connection.h).
 *
 * Reads arrive in pooled blocks of GP_BLOCK bytes: cbs->read(s, block,
 * n) with n > 0 bytes at the block's start, UV_EOF, or an error (then
 * block is NULL).  The callback copies what it keeps and returns 0 (the
 * block goes back to the pool), or returns 1 and owns the block (hand
 * it on with gp_stream_write_block(), or gp_block_put() it).  An idle
 * stream holds no block: one is taken just before each read.
 *
 * Writes go to the socket at once when nothing is queued; the rest is
 * queued (a copy for gp_stream_write(), the block itself for
 * gp_stream_write_block()).  queued() counts bytes accepted but not yet
 * on the wire — including any a TLS layer holds — and is what
 * backpressure reads.  cbs->written(s, status) follows each queued
 * write (status < 0: it failed).
 *
 * Life: gp_stream_close() closes the transport and frees the stream
 * after cb; from that call on no other callback runs, so the cancelled
 * writes of a closed stream are never mistaken for a failed peer.
 */
#define GP_BLOCK	(64 * 1024)

char	*gp_block_get(void);
void	 gp_block_put(char *);
/* Frees the calling thread's idle blocks (a loop thread that ends). */
void	 gp_block_pool_drain(void);

struct gp_stream;
struct gp_stream_cbs {
	int	(*read)(struct gp_stream *, char *block, ssize_t n);
	void	(*written)(struct gp_stream *, int status);
};
struct gp_stream_ops {
	const char	*name;			/* "tcp" */
	int		(*read_start)(struct gp_stream *);
	void		(*read_stop)(struct gp_stream *);
	/* block NULL: p is copied if it cannot be written at once. */
	int		(*write)(struct gp_stream *, char *block,
			    const char *p, size_t n);
	size_t		(*queued)(const struct gp_stream *);
	/* Sends EOF after what is queued; cb (may be NULL) once sent. */
	int		(*shutdown)(struct gp_stream *,
			    void (*cb)(struct gp_stream *, int));
	void		(*close)(struct gp_stream *);
};
struct gp_stream {
	const struct gp_stream_ops	*ops;
	const struct gp_stream_cbs	*cbs;
	void				*data;		/* the user's */
	void				(*on_close)(struct gp_stream *);
	void				(*on_shut)(struct gp_stream *, int);
	unsigned			 closing:1;
};

/* Takes a connected, heap-allocated uv_tcp_t (dialed or accepted). */
struct gp_stream *gp_stream_tcp_new(uv_tcp_t *, const struct gp_stream_cbs *,
	    void *data);
/* The TCP handle under a stream (NULL if none): addresses, options. */
uv_tcp_t *gp_stream_tcp(struct gp_stream *);
/*
 * Ends a plain TCP stream with nothing queued and hands over its socket:
 * returns a duplicate descriptor the caller owns (for splice(2)), or -1
 * (not TCP, bytes queued, or dup failed).  The stream is closed as by
 * gp_stream_close().
 */
int	gp_stream_detach_fd(struct gp_stream *, void (*cb)(struct gp_stream *));

/*
 * tls.c: TLS over another stream.  Takes inner (its callbacks become
 * the TLS layer's) and ssl (made by the caller: certificate, name,
 * verification), both owned from here.  early_in: bytes already read
 * from the peer (a sniffed ClientHello), processed first.  The handshake
 * starts on the next loop turn; done(s, 0, NULL) when it succeeded, or
 * done(s, -EPROTO, why) — why names the verification error when there
 * is one.  Plain bytes written before it ends are held and sent after.
 */
typedef void (*gp_tls_done_cb)(struct gp_stream *, int status,
	    const char *why);
struct ssl_st;
struct gp_stream *gp_stream_tls_new(uv_loop_t *, struct gp_stream *inner,
	    struct ssl_st *ssl, int server, const void *early_in,
	    size_t early_len, const struct gp_stream_cbs *, void *data,
	    gp_tls_done_cb);
/* The SSL of a TLS stream (NULL for another kind); its inner stream. */
struct ssl_st *gp_stream_tls_ssl(struct gp_stream *);
struct gp_stream *gp_stream_tls_inner(struct gp_stream *);

int	gp_stream_read_start(struct gp_stream *);
void	gp_stream_read_stop(struct gp_stream *);
int	gp_stream_write(struct gp_stream *, const void *, size_t);
int	gp_stream_write_block(struct gp_stream *, char *block, const char *p,
	    size_t n);
size_t	gp_stream_queued(const struct gp_stream *);
int	gp_stream_shutdown(struct gp_stream *,
	    void (*cb)(struct gp_stream *, int));
void	gp_stream_close(struct gp_stream *, void (*cb)(struct gp_stream *));

#endif
