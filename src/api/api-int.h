/* api-int.h: shared by the API's files only. */
#ifndef GP_API_INT_H
#define GP_API_INT_H

#include <wslay/wslay.h>

#include "api/api.h"
#include "http/http.h"

#define API_MAX_BODY	(1024 * 1024)
#define API_MAX_INGEST	(32 * 1024 * 1024)	/* POST /api/rules/ingest */
#define API_WS_QUEUE	128		/* messages queued per client */
#define API_MAX_CONNS	256		/* open connections at once */
#define API_MAX_BUFFERED (48 * 1024 * 1024)	/* request bytes, all conns */
#define API_REQUEST_MS	30000		/* a whole request must arrive */
#define API_IDLE_MS	60000		/* kept-alive, nothing sent */

struct ws;

struct api_conn {
	struct gp_api		*api;
	struct gp_stream	*st;		/* NULL until accepted */
	uv_timer_t		 timer;		/* request deadline, idle */
	int			 handles;	/* stream + timer */
	int			 in_request;	/* bytes of one arrived */
	struct gp_buf		 in;
	struct gp_http_scan	 scan;		/* the head arriving */
	size_t			 head_len;	/* once complete */
	int			 closing;
	int			 close_after;	/* after the reply is written */
	struct ws		*ws;		/* set once upgraded */
	struct api_later	*later;		/* a reply owed */
	struct api_conn		*next, *prev;
};

struct gp_api {
	struct gp_ctl		*ctl;
	uv_tcp_t		 tcp;
	int			 bus_sub;
	int			 stopping;
	int			 handles;	/* listener + connections */
	struct api_conn		*conns;
	size_t			 nconns;
	size_t			 buffered;	/* request bytes held */
	uint64_t		 refused;	/* over API_MAX_CONNS, episode */
	unsigned		 request_ms;	/* a whole request, at most */
	unsigned		 idle_ms;	/* between requests */
	unsigned		 port;		/* bound: our own origin's */
};

struct api_req {
	struct gp_ctl			*ctl;
	struct api_conn			*c;		/* NULL in-process */
	struct gp_link			*link;		/* in-process: the caller */
	gp_link_reply_fn		 link_fn;
	void				*link_data;
	const struct gp_http_msg	*m;
	char				 method[16];
	char				 path[1024];
	char				 query[2048];
	const char			*param;		/* ":id" segment */
	const char			*body;
	size_t				 body_len;
};

struct api_resp {
	int			 status;
	cJSON			*json;
	struct api_later	*later;		/* set by api_defer */
	/* A file instead of JSON (connections only): raw is taken. */
	char			*raw;
	size_t			 raw_len;
	const char		*content_type;
	const char		*filename;	/* Content-Disposition */
};

/*
 * A reply owed after slow work (a worker thread): the connection reads
 * no further request until api_later_reply sends it.  If the client
 * leaves first the reply is dropped.  Only for requests from a
 * connection (r->c != NULL).
 */
struct api_later {
	struct api_conn	*c;		/* NULL once the client left */
	size_t		 total;		/* the request's bytes */
	int		 close;		/* Connection: close */
	struct gp_link	*link;		/* in-process: answered through it */
	gp_link_reply_fn fn;
	void		*data;
};
/* Whether the caller can take a deferred reply (a connection, a link). */
int			 api_can_defer(const struct api_req *);
struct api_later	*api_defer(struct api_req *, struct api_resp *);
void			 api_undefer(struct api_req *, struct api_resp *);
/* Sends status and json (taken), frees the token. */
void			 api_later_reply(struct api_later *, int status,
			    cJSON *json);
/* The same for any reply (a file too); resp's json and raw are taken. */
void			 api_later_send(struct api_later *, struct api_resp *);

/* link.c: a deferred reply to an in-process request (json taken); the
 * link is held from api_defer until then. */
void	gp_link_hold(struct gp_link *);
void	gp_link_unref(struct gp_link *);
void	gp_link_later(struct gp_link *, gp_link_reply_fn, void *, int status,
	    cJSON *json);

/* server.c */
void	api_write(struct api_conn *, const void *, size_t);
/* Bytes written but not yet sent (backpressure). */
size_t	api_queued(const struct api_conn *);
void	api_conn_close(struct api_conn *);
void	api_conn_consume(struct api_conn *, size_t);
/* routes.c: fills resp; returns 0, or -1 when no route matched. */
int	api_route(struct api_req *, struct api_resp *);
void	api_error(struct api_resp *, int status, const char *msg);
/* The status a ctl errno means, with why or its wording. */
void	api_errno(struct api_resp *, int rc, const char *why);
void	ok_json(struct api_resp *, cJSON *);
/* routes.c helpers for the route families: an integer query parameter
 * in bounds, the ":id" segment, a time (RFC 3339 or YYYY-MM-DDTHH:MM);
 * -1 after a 400 (parse_time: -1 if invalid, nothing answered). */
int	qint(struct api_req *, struct api_resp *, const char *key, int def,
	    int min, int max, int *out);
int	param_id(struct api_req *, struct api_resp *, int64_t *);
int	qpage(struct api_req *, struct api_resp *, int *limit, int *offset);
const char *qstr(struct api_req *, const char *key, char *, size_t);
int	qbool(struct api_req *, const char *key);
int	qtimes(struct api_req *, struct api_resp *, int64_t *from,
	    int64_t *to);
int64_t	parse_time(const char *);
/* The request body as JSON ({} when empty); NULL after a 400. */
cJSON	*body_json(struct api_req *, struct api_resp *);
/* routes-cred.c */
void	api_creds_list(struct api_req *, struct api_resp *);
void	api_creds_create(struct api_req *, struct api_resp *);
void	api_creds_delete(struct api_req *, struct api_resp *);
void	api_creds_update(struct api_req *, struct api_resp *);
void	api_sessions_create(struct api_req *, struct api_resp *);
void	api_sessions_heartbeat(struct api_req *, struct api_resp *);
void	api_sessions_delete(struct api_req *, struct api_resp *);
void	api_sessions_list(struct api_req *, struct api_resp *);
void	api_sessions_bind(struct api_req *, struct api_resp *);
/* routes-tx.c */
void	api_tx_list(struct api_req *, struct api_resp *);
void	api_tx_get(struct api_req *, struct api_resp *);
void	api_tx_redact(struct api_req *, struct api_resp *);
/* routes-conv.c */
void	api_conv_list(struct api_req *, struct api_resp *);
void	api_conv_get(struct api_req *, struct api_resp *);
void	api_conv_subagents(struct api_req *, struct api_resp *);
void	api_dissectors(struct api_req *, struct api_resp *);
void	api_endpoints_list(struct api_req *, struct api_resp *);
void	api_endpoints_create(struct api_req *, struct api_resp *);
void	api_endpoints_update(struct api_req *, struct api_resp *);
void	api_endpoints_delete(struct api_req *, struct api_resp *);
void	api_conv_rebuild(struct api_req *, struct api_resp *);
void	api_maintenance_status(struct api_req *, struct api_resp *);
/* routes-cert.c */
void	api_cert_status(struct api_req *, struct api_resp *);
void	api_cert_generate(struct api_req *, struct api_resp *);
void	api_cert_download(struct api_req *, struct api_resp *);
void	api_cert_reload(struct api_req *, struct api_resp *);
/* ws.c */
int	api_ws_upgrade(struct api_conn *, struct api_req *);
void	api_ws_data(struct api_conn *);
void	api_ws_written(struct api_conn *);
void	api_ws_event(void *api, enum gp_event, const void *);
void	api_ws_free(struct api_conn *);
/* Query parameter, percent-decoded into out; 1 if present. */
int	api_query(const struct api_req *, const char *key, char *out,
	    size_t outlen);

#endif
