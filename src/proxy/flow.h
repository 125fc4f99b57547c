/*
 * flow.h: one proxied client connection and its upstream, shared by
 * the proxy's front ends only.
 */
#ifndef GP_FLOW_H
#define GP_FLOW_H

#include <netinet/in.h>

#include "core/core.h"
#include "http/http.h"
#include "proxy/proxy.h"

#define GP_ID_MAX	128
#define GP_REQ_MAX	320
#define GP_WQ_HIGH	(256 * 1024)	/* pause the reader above this */
#define GP_WQ_LOW	(64 * 1024)	/* resume it below this */
#define GP_INBUF_MAX	(GP_HTTP_MAX_HEAD + 64 * 1024)

struct gp_udp_assoc;
struct gp_relay;
struct gp_exchange;
struct gp_side;
struct gp_flow;

/*
 * exchange.c: HTTP/1.1 exchanges between the two sides of a flow —
 * request and response heads, bodies streamed (Content-Length, chunked,
 * until close), keep-alive both ways, 1xx, 101 handed to the tunnel, the
 * stale keep-alive retry — one struct gp_txn per request/response pair,
 * run past the proxy's filters.  A front end (the forward proxy today,
 * interception next) owns how a request is judged and where it goes.
 *
 * The front end's f->proto starts with a struct gp_exchange.  Its
 * flow ops delegate data, eof, timeout, closing and free to the
 * gp_exchange_* functions below.
 */
enum gp_ex_next {
	GP_EX_WAIT,	/* a decision or connection follows: then
			 * gp_exchange_send() or the flow's refuse() */
	GP_EX_DONE,	/* the front end answered (gp_exchange_error()) */
};
struct gp_exchange_ops {
	/*
	 * A request head, n bytes at the front of f->c.in, parsed into m;
	 * x->txn holds its copy.  The front end consumes it, sets the
	 * destination, writes the head to send into x->head, and starts
	 * whatever comes next.
	 */
	enum gp_ex_next	(*request)(struct gp_flow *, struct gp_exchange *,
			    const struct gp_http_msg *, size_t n);
};
struct gp_exchange {
	const struct gp_exchange_ops *ops;
	int			 r, p;		/* request, response states */
	int			 connect;	/* a CONNECT request */
	int			 client_keep;	/* client connection persists */
	int			 up_keep;	/* upstream connection persists */
	int			 is_head;	/* HEAD: no response body */
	int			 upgrade;	/* request asked for Upgrade */
	int			 got_resp;	/* any response byte forwarded */
	int			 reused;	/* on a kept-alive upstream */
	int			 retried;	/* replayed once already */
	int			 busy;		/* inside client_data() */
	int			 req_body, resp_body;	/* framing */
	int64_t			 req_left, resp_left;
	struct gp_chunked	 req_ck, resp_ck;
	struct gp_http_scan	 req_scan, resp_scan;	/* heads arriving */
	char			 uphost[GP_HOST_MAX];	/* f->u's target */
	unsigned		 upport;
	struct gp_buf		 head;		/* the request head to send */
	int			 head_secret;	/* a credential is in it */
	int			 keep;		/* GP_KEEP_PROXY_AUTH: a
						 * proxy may be beyond */
	struct gp_txn		*txn;		/* the exchange in flight */
};
void	gp_exchange_init(struct gp_exchange *, const struct gp_exchange_ops *);
/* The request m (still in f->c.in) starts a transaction (a CONNECT
 * does not: it is a tunnel). */
void	gp_exchange_begin(struct gp_flow *, const struct gp_http_msg *);
void	gp_exchange_data(struct gp_flow *, struct gp_side *);
int	gp_exchange_data_block(struct gp_flow *, struct gp_side *, char *,
	    size_t);
void	gp_exchange_eof(struct gp_flow *, struct gp_side *);
void	gp_exchange_timeout(struct gp_flow *);
/* The flow is closing: a transaction in flight ends incomplete. */
void	gp_exchange_closing(struct gp_flow *);
void	gp_exchange_free(struct gp_exchange *);
/* Drops f->u unless it is a kept-alive connection to host:port. */
void	gp_exchange_upstream_for(struct gp_flow *, const char *host,
	    unsigned port);
/* f->u is connected to the destination: the filters see the request,
 * then the head goes out and the bodies flow. */
void	gp_exchange_send(struct gp_flow *);
/* Empties (or frees) the head to send, wiping a secret written in it. */
void	gp_exchange_head_reset(struct gp_exchange *, int free_it);
/* Answers the current request with an error; the connection persists
 * when the client's side allows it, else closes once it is written. */
void	gp_exchange_refuse(struct gp_flow *, int status, const char *token,
	    const char *line);
/* Answers with an error and, when asked, closes after it is written. */
void	gp_exchange_error(struct gp_flow *, int status, const char *token,
	    const char *line, int close);

struct gp_side {
	struct gp_stream *st;		/* NULL when not open */
	struct gp_flow	*f;
	struct gp_buf	 in;		/* buffered input (not in tunnel) */
	struct gp_buf	 cork;		/* output held while corked */
	unsigned	 corked:1;
	unsigned	 reading:1;	/* wants data */
	unsigned	 paused:1;	/* stopped by backpressure */
	unsigned	 eof:1;
	unsigned	 shut:1;
	uint64_t	 nread;
};

struct gp_flow_ops {
	const char	*method;	/* "HTTP" | "SOCKS5" for the log */
	/* New bytes in side->in (not called in tunnel mode). */
	void		(*data)(struct gp_flow *, struct gp_side *);
	/* Optional, tried before data() while side->in is empty: 1 when
	 * it took the whole block (its owner now), 0 to buffer it. */
	int		(*data_block)(struct gp_flow *, struct gp_side *,
			    char *, size_t);
	/* The peer of side sent EOF (not called in tunnel mode). */
	void		(*eof)(struct gp_flow *, struct gp_side *);
	/* The decision or the connection failed: answer and finish. */
	void		(*refuse)(struct gp_flow *, enum gp_reason);
	/* f->u is connected to the target. */
	void		(*connected)(struct gp_flow *);
	/* The idle or header timer ran out. */
	void		(*timeout)(struct gp_flow *);
	void		(*free)(struct gp_flow *);
	/* The flow is closing: close any handles of the front end's own. */
	void		(*closing)(struct gp_flow *);
};

struct gp_flow {
	struct gp_proxy			*px;
	const struct gp_flow_ops	*ops;
	void				*proto;	/* front end state */
	struct gp_side			 c, u;
	uv_timer_t			 timer;
	int				 handles;
	unsigned			 closing:1;
	unsigned			 finishing:1;
	unsigned			 tunnel:1;	/* relay.c has it */
	unsigned			 need_log:1;
	unsigned			 held:1;	/* waiting in pending */
	unsigned			 approved:1;	/* by a person */
	unsigned			 deadline:1;	/* timer is total */
	unsigned			 sniffing:1;	/* tunnel: TLS or not? */
	unsigned			 intercepted:1;	/* an exchange reads the
							 * tunnel (TLS or clear) */
	unsigned			 upgraded:1;	/* tunnel after a 101 */
	int64_t				 log_id;	/* its row, written at the
							 * tunnel's opening */
	struct gp_waiter		 w;
	uint64_t			 last_active;
	unsigned			 timeout_ms;
	/* the current decision */
	char				 identity[GP_ID_MAX];
	char				 client_ip[INET6_ADDRSTRLEN];
	char				 client_addr[GP_ADDR_STRLEN];
	char				 host[GP_HOST_MAX];
	char				 hostname[GP_HOST_MAX]; /* of an IP */
	unsigned			 port;
	char				 resolved_ip[INET6_ADDRSTRLEN];
	char				 request[GP_REQ_MAX];
	char				 method[16];	/* "GET", "CONNECT" */
	struct gp_match			 match;
	enum gp_reason			 reason;
	int				 allowed;
	int64_t				 t0;		/* epoch s */
	uint64_t			 t0_ms;
	uint64_t			 up0, down0;	/* byte marks */
	struct gp_resolve		*rq;
	struct gp_dial			*dial;
	struct gp_udp_assoc		*udp;	/* SOCKS5 UDP ASSOCIATE */
	struct gp_relay			*relay;	/* while it splices */
	const struct gp_tap_ops		*tap_ops;	/* after a 101 */
	void				*tap;
	struct gp_flow			*next, *prev;
};

struct gp_flow	*gp_flow_new(struct gp_proxy *, uv_stream_t *server,
		    const struct gp_flow_ops *);
void		 gp_flow_close(struct gp_flow *);
/* Closes once everything queued to the client is written. */
void		 gp_flow_finish(struct gp_flow *);
void		 gp_flow_read(struct gp_side *, int on);
/* Queues bytes to side (copied); applies backpressure to the other. */
void		 gp_flow_write(struct gp_side *, const void *, size_t);
/* Writes to a corked side gather into one write (a head and the body
 * bytes that came with it) until it is uncorked. */
void		 gp_flow_cork(struct gp_side *);
void		 gp_flow_uncork(struct gp_side *);
void		 gp_flow_close_side(struct gp_side *);
/* Drops n bytes of side->in and resumes a reader held for a full buffer. */
void		 gp_flow_consume(struct gp_side *, size_t);
/* Sets identity from a proxy user name ("proxy"/"" → unknown-<ip>). */
void		 gp_flow_set_identity(struct gp_flow *, const char *user);
/* Starts a decision for f->host:f->port (new log record). */
void		 gp_flow_decide(struct gp_flow *);
/* Dials f->host:f->port again without a new decision (a stale
 * keep-alive upstream); the front end's connected() runs again. */
void		 gp_flow_reconnect(struct gp_flow *);
/* Raw relay both ways; any buffered input is forwarded first. */
void		 gp_flow_tunnel(struct gp_flow *);
/* Queues a pooled block to side (net.h); backpressure as
 * gp_flow_write(). */
void		 gp_flow_write_block(struct gp_side *, char *block,
		    const char *, size_t);
/* Stops or resumes a side's reader for backpressure: paused while the
 * other side has more than GP_WQ_HIGH queued. */
void		 gp_flow_pace(struct gp_side *from);
/* A side stream's cbs->written: a failed write closes the flow, a
 * finished one may let the other side read again. */
void		 gp_flow_written(struct gp_stream *, int status);
/* Idle timeout: ms without a byte either way. */
void		 gp_flow_set_timeout(struct gp_flow *, unsigned ms);
/* Deadline: ms from now whatever arrives (heads, handshakes), so a
 * client trickling bytes cannot hold the connection. */
void		 gp_flow_set_deadline(struct gp_flow *, unsigned ms);
/* Counts the current request refused for r (its log record says so);
 * the caller answers. */
void		 gp_flow_refused(struct gp_flow *, enum gp_reason);
/* Writes the pending log record, if any. */
void		 gp_flow_log(struct gp_flow *);
struct gp_side	*gp_flow_other(struct gp_side *);
/* A front end's own handle: count it open, and release it when closed
 * (the flow is freed after its last handle). */
void		 gp_flow_hold_handle(struct gp_flow *);
void		 gp_flow_release_handle(struct gp_flow *);
/* Refuses greyproxy's own listeners, drops local-network addresses no
 * rule names for this flow and port (see flow.c); returns how many
 * remain, and when none does, why (GP_R_SELF or GP_R_POLICY). */
size_t		 gp_flow_guard(struct gp_flow *, unsigned port,
		    struct sockaddr_storage *, size_t, enum gp_reason *why);
/* The rules decision for host:port on this flow's identity (with DNS
 * enrichment); fills m and the enriched name (may be empty). */
void		 gp_flow_match(struct gp_flow *, const char *host,
		    unsigned port, struct gp_match *m, char *hostname,
		    size_t hostlen);
/* Is host known to be on the local network before DNS (a private or
 * loopback literal, localhost, *.localhost)? */
int		 gp_flow_local_destination(const char *host);
/* The callbacks of a side's stream (a TLS layer wraps it with them). */
const struct gp_stream_cbs *gp_flow_side_cbs(void);
/* intercept.c: start() when a tunnel is ready (sniffs when interception
 * is on); sniff() for bytes that arrive meanwhile; pass() relays. */
void		 gp_intercept_start(struct gp_flow *);
void		 gp_intercept_sniff(struct gp_flow *, struct gp_side *);
void		 gp_intercept_pass(struct gp_flow *);
/* relay.c: the tunnel (copy through pooled blocks, or splice(2) when
 * both sides are plain TCP); closing the flow ends it. */
void		 gp_relay_start(struct gp_flow *);
void		 gp_relay_close(struct gp_flow *);
/*
 * The next len bytes from the origin (len -1: until its EOF) go to the
 * client by splice(2), both streams plain TCP with nothing queued; the
 * streams stay the flow's and neither is read meanwhile (f->relay is
 * set).  moved() counts as bytes pass; done() once the streams are back:
 * 0 (len passed) or UV_EOF (the origin ended first).  A failed write to
 * the client closes the flow.  0 when started, -1 when not.
 */
struct gp_bsplice_cbs {
	void	(*moved)(struct gp_flow *, size_t);
	void	(*done)(struct gp_flow *, int status);
};
int		 gp_relay_body(struct gp_flow *, int64_t len,
		    const struct gp_bsplice_cbs *);
/* socks5-udp.c */
void		 gp_socks5_udp_start(struct gp_flow *);
void		 gp_socks5_udp_close(struct gp_flow *);

#endif
