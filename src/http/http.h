/*
 * http.h: HTTP/1.1 message heads (RFC 9112), stateless and zero-copy:
 * the caller buffers the head, the parser returns slices into that buffer
 * (valid until the buffer changes).  Body framing is streamed: the
 * chunked scanner only finds where a chunked body ends, so bytes are
 * relayed exactly as received.
 */
#ifndef GP_HTTP_H
#define GP_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "core/core.h"

#define GP_HTTP_MAX_HEAD	(64 * 1024)	/* request/response head */
#define GP_HTTP_MAX_LINE	(8 * 1024)	/* request line */
#define GP_HTTP_MAX_HEADERS	100

struct gp_iov {
	const char	*p;
	size_t		 n;
};

struct gp_http_header {
	struct gp_iov	name;
	struct gp_iov	value;	/* leading/trailing whitespace trimmed */
};

/* Parse error: the status to answer (400, 414, 431, 501) and why. */
struct gp_http_err {
	int		 status;
	const char	*why;
};

struct gp_http_msg {
	/* request */
	struct gp_iov		method;
	struct gp_iov		target;
	/* response */
	int			status;
	struct gp_iov		reason;
	/* both */
	int			minor;		/* HTTP/1.x */
	struct gp_http_header	h[GP_HTTP_MAX_HEADERS];
	size_t			nh;
	size_t			head_len;
	/* derived from the headers */
	int64_t			content_length;	/* -1: absent */
	int			chunked;
	int			keep_alive;	/* persistence per RFC 9112 9.3 */
	int			upgrade;	/* Upgrade header + token */
	int			expect_continue;
};

/*
 * The first bytes of a tunnel: the start of an HTTP/1.x request line
 * (method, spaces, a target from '/', '*' or "http(s)://"), something
 * else, or not enough to say.  Pure; it reads at most GP_HTTP_MAX_LINE
 * bytes.
 */
enum gp_http_sniff { GP_HSNIFF_MORE, GP_HSNIFF_HTTP, GP_HSNIFF_OTHER };
enum gp_http_sniff gp_http_sniff(const char *, size_t);

/* Each returns the head length (> 0), GP_AGAIN or GP_EPROTO (err set). */
int	gp_http_parse_request(const char *, size_t, struct gp_http_msg *,
	    struct gp_http_err *);
int	gp_http_parse_response(const char *, size_t, struct gp_http_msg *,
	    struct gp_http_err *);

/*
 * Incremental end-of-head search: zero it when a head starts, call it
 * with the whole buffered input after every read; each byte is looked
 * at once.  Returns the head length (> 0, then parse exactly once),
 * GP_AGAIN, or GP_EPROTO with err (414, 431, 502 for a response).
 */
struct gp_http_scan {
	size_t		off;		/* bytes examined */
	size_t		line;		/* length of the current line */
	unsigned	nlines;		/* complete lines so far */
	int		started;	/* past leading empty lines */
};
int	gp_http_scan_head(struct gp_http_scan *, const char *, size_t,
	    int request, struct gp_http_err *);

/* Case-insensitive helpers over slices; inline, so that the length of
 * a literal is known when compiled. */
static inline int
gp_iov_eq(struct gp_iov v, const char *s)
{
	size_t	n = strlen(s);

	return v.n == n && strncasecmp(v.p, s, n) == 0;
}
const struct gp_http_header *gp_http_find(const struct gp_http_msg *,
	    const char *name);
/* Does a comma-separated header value list contain token? */
int	gp_http_has_token(struct gp_iov, const char *token);

/* Chunked body scanner; zero it before the body starts. */
struct gp_chunked {
	int		state;
	uint64_t	remaining;
	size_t		linelen;
	size_t		trailer;
	int		colon;		/* in a trailer line's value */
};
/*
 * Consumes bytes of a chunked body from p; returns how many belong to
 * the body (<= n) and sets *done once the last chunk and trailers are
 * complete, or GP_EPROTO on a framing error.
 */
ssize_t	gp_chunked_scan(struct gp_chunked *, const char *p, size_t n,
	    int *done);

/* url.c: request targets. */
struct gp_url {
	char		host[256];
	unsigned	port;
	struct gp_iov	path;		/* origin-form: "/..." incl. query */
	int		https;
};
/* absolute-form "http://host[:port]/path"; returns 0 or -1 (why set). */
int	gp_url_parse_absolute(struct gp_iov, struct gp_url *, const char **);
/* authority-form "host:port" or "[v6]:port"; returns 0 or -1. */
int	gp_url_parse_authority(struct gp_iov, char *host, size_t hostlen,
	    unsigned *port, const char **why);
/* A Host header's "host[:port]" (port 80 when absent); 0 or -1. */
int	gp_url_parse_host(struct gp_iov, struct gp_url *, const char **);

/*
 * Copies a request target without its userinfo ("http://user:pw@h/" →
 * "http://h/", "user@h:443" → "h:443"), NUL-terminated, truncated to
 * outlen; the only form of a target that may reach a log, the
 * database, an event or the screen.  Returns the length written.
 */
size_t	gp_url_redact(struct gp_iov, char *out, size_t outlen);
/* s as a query value: all but A-Z a-z 0-9 - . _ ~ as %XX (RFC 3986),
 * NUL-terminated; -1 (out "") when it does not fit in outlen. */
int	gp_url_escape(const char *s, char *out, size_t outlen);

/* headers.c: forwarding. */
/* Is this header hop-by-hop for msg (fixed list + Connection tokens)? */
int	gp_http_is_hop(const struct gp_http_msg *, struct gp_iov name);
/*
 * Appends the upstream request head: the URL's path as the target, Host
 * from the URL, hop-by-hop headers removed but those keep names
 * (GP_KEEP_UPGRADE; GP_KEEP_PROXY_AUTH: Proxy-Authorization and
 * Proxy-Authenticate, for a proxy beyond a tunnel), Via added.
 */
#define GP_KEEP_UPGRADE		0x1
#define GP_KEEP_PROXY_AUTH	0x2
void	gp_http_build_request(struct gp_buf *, const struct gp_http_msg *,
	    const struct gp_url *, int close, int keep);
/* Appends the client-facing response head (keep as above). */
void	gp_http_build_response(struct gp_buf *, const struct gp_http_msg *,
	    int close, int keep);
/* Appends a complete error response with X-Proxy-Error and a one-line body. */
void	gp_http_build_error(struct gp_buf *, int status, const char *token,
	    const char *line, int close);
const char *gp_http_status_text(int);
/* Decodes "Basic base64(user:pass)" → user (NUL-terminated); 0 or -1. */
int	gp_http_basic_user(struct gp_iov, char *user, size_t userlen);

/*
 * txn.c: a transaction — one request and its response as they crossed
 * the proxy — and the filters that watch it.  The proxy's exchange
 * creates it when a request head has been parsed, fills it as the
 * exchange runs, and frees it (its arena with it) after the filters'
 * end(); everything in it is a copy the transaction owns.  Filters see
 * transactions and bytes, never connections (haproxy's flt_ops).
 */
enum gp_txn_dir { GP_TXN_REQUEST, GP_TXN_RESPONSE };

struct gp_txn_head {
	struct gp_http_header	*h;	/* arena copies */
	size_t			 nh;
};

struct gp_txn {
	struct gp_arena		 arena;
	uint64_t		 id;		/* per process, from 1 */
	const char		*identity;
	const char		*client_addr;
	const char		*host;		/* the destination decided on */
	unsigned		 port;
	int			 tls;		/* carried inside TLS */
	const char		*method;
	const char		*target;	/* as the client sent it */
	struct gp_txn_head	 req;
	int			 status;	/* 0 until a response head */
	const char		*reason;
	struct gp_txn_head	 resp;
	uint64_t		 req_body, resp_body;	/* bytes relayed */
	/* monotonic µs: start (head parsed), sent (head upstream), first
	 * (first response byte), end; 0 when it did not happen */
	uint64_t		 t_start, t_sent, t_first, t_end;
	unsigned		 complete:1;	/* both bodies ended */
	unsigned		 refused:1;	/* answered by the proxy */
	unsigned		 substituted:1;	/* a secret went out in it */
	const char		*sub_labels;	/* their labels, a line each */
	const char		*session_id;	/* the first session's */
	void			*capture;	/* the capture filter's */
};

struct gp_tap_ops;

struct gp_http_filter_ops {
	const char	*name;
	/* The request head is about to go upstream: GP_R_NONE, or the
	 * reason to refuse it (its status and X-Proxy-Error token answer;
	 * *why, if set, is the body's line). */
	enum gp_reason	(*request_head)(void *arg, struct gp_txn *,
			    const char **why);
	void		(*response_head)(void *arg, struct gp_txn *);
	/* Body bytes as relayed (after framing is checked, before any
	 * decoding); p is valid only during the call. */
	void		(*body)(void *arg, struct gp_txn *, enum gp_txn_dir,
			    const char *p, size_t n);
	/* With body: 1 once the filter takes nothing more of this body
	 * (the rest may then pass unseen, counted in the transaction);
	 * a filter with body and without this sees every byte. */
	int		(*body_full)(void *arg, struct gp_txn *,
			    enum gp_txn_dir);
	/* The transaction ended; complete says whether both bodies did. */
	void		(*end)(void *arg, struct gp_txn *);
	/* The head about to go upstream, after every filter allowed it:
	 * a filter may rewrite those bytes (the transaction keeps what the
	 * client sent). */
	void		(*rewrite_head)(void *arg, struct gp_txn *,
			    struct gp_buf *head);
	/* A 101 switched the connection (before end): a filter may watch
	 * what crosses it from now on by returning tap ops and *tap. */
	const struct gp_tap_ops *(*upgraded)(void *arg, struct gp_txn *,
			    void **tap);
};

/* The bytes of an upgraded connection, in order per direction, as they
 * are relayed (valid only during the call); end once, when it closes. */
struct gp_tap_ops {
	void	(*data)(void *tap, enum gp_txn_dir, const char *p, size_t n);
	void	(*end)(void *tap);
};

struct gp_http_filter {
	const struct gp_http_filter_ops	*ops;
	void				*arg;
};

struct gp_txn *gp_txn_new(uint64_t id);
/* Copies a parsed head's fields into the transaction. */
void	gp_txn_set_request(struct gp_txn *, const struct gp_http_msg *);
void	gp_txn_set_response(struct gp_txn *, const struct gp_http_msg *);
/* A header of a stored head (name case-insensitive), or NULL. */
const char *gp_txn_header(const struct gp_txn_head *, const char *name);
void	gp_txn_free(struct gp_txn *);

/*
 * decode.c: stored bodies.  gp_http_decode undoes a Content-Encoding
 * list (gzip, x-gzip, deflate, br, zstd, identity) into out, at most max
 * bytes at every stage; gp_http_dechunk removes chunked framing.  Both
 * return GP_DECODE_OK, _PARTIAL (input cut short or output capped: out
 * holds the prefix), _BAD (out unchanged for decode) or _UNKNOWN (a
 * coding not listed: nothing done).
 */
#define GP_DECODE_OK		0
#define GP_DECODE_PARTIAL	1
#define GP_DECODE_BAD		(-1)
#define GP_DECODE_UNKNOWN	(-2)
int	gp_http_decode(const char *codings, const void *, size_t, size_t max,
	    struct gp_buf *out);
int	gp_http_dechunk(const void *, size_t, struct gp_buf *out);
/* Is a Content-Type text or JSON (worth decoding and showing)? */
int	gp_http_type_is_text(const char *);

/*
 * wsframe.c: WebSocket frames seen in one direction (RFC 6455 5).  Feed
 * every byte in order; each data message, reassembled and unmasked, is
 * handed to fn with at most max bytes kept (truncated set beyond; wire
 * is the payload's full length).  Control frames are checked, not
 * handed on.  A protocol error stops the parser (-1, error says why);
 * the caller keeps relaying.
 */
struct gp_ws_msg {
	int		 opcode;	/* 1 text, 2 binary */
	int		 compressed;	/* RSV1: permessage-deflate */
	const char	*p;
	size_t		 n;
	uint64_t	 wire;
	int		 truncated;
};
typedef void (*gp_wsf_fn)(void *arg, const struct gp_ws_msg *);
struct gp_wsf {
	unsigned char	 hdr[14];
	size_t		 hlen;
	int		 have_hdr, fin, masked, control;
	unsigned char	 mask[4];
	size_t		 mpos;
	uint64_t	 left;		/* payload bytes of this frame */
	int		 in_msg, msg_op, msg_rsv1, msg_trunc;
	uint64_t	 msg_wire;
	struct gp_buf	 msg;
	size_t		 max;
	uint64_t	 messages;
	const char	*error;
};
void	gp_wsf_init(struct gp_wsf *, size_t max);
int	gp_wsf_feed(struct gp_wsf *, const char *, size_t, gp_wsf_fn, void *);
void	gp_wsf_free(struct gp_wsf *);
/* permessage-deflate, one context per direction: a message's payload
 * inflated into out (at most max): GP_DECODE_OK, _PARTIAL (capped: the
 * context is lost, later messages are _BAD) or _BAD. */
struct gp_inflater;
struct gp_inflater *gp_inflater_new(void);
int	gp_inflater_message(struct gp_inflater *, const void *, size_t,
	    size_t max, struct gp_buf *out);
void	gp_inflater_free(struct gp_inflater *);

#endif
