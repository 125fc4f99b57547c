/*
 * api.h: the REST API and WebSocket on the loop, compatible with the
 * original greyproxy's routes (doc/api.md).  Binds loopback by default,
 * refuses non-loopback Host headers and cross-site browser requests.
 *
 * Life: gp_api_start() → serving → gp_api_stop() closes the listener and
 * every connection (the loop then runs the close callbacks, and the
 * last one frees the api).
 */
#ifndef GP_API_H
#define GP_API_H

#include <cjson/cJSON.h>

#include "ctl/ctl.h"

struct gp_api;

/* 0, or -1 with *err (caller frees). */
int	gp_api_start(struct gp_api **, struct gp_ctl *, const char *addr,
	    struct sockaddr_storage *bound, char **err);
void	gp_api_stop(struct gp_api *);

/*
 * A link to a core, for the TUI: requests in the API's terms and events
 * as the WebSocket's JSON, whether the core is in this process
 * (gp_link_local: the route handlers are called directly) or another one
 * (gp_link_remote: HTTP and WebSocket over loopback), so a view cannot
 * tell the two apart.  Replies and events are delivered from the loop,
 * never from inside gp_link_request(); json is borrowed for the call.
 */
struct gp_link;
/*
 * Called exactly once per request, never from inside gp_link_request():
 * with the HTTP status and body, or with status 0 and NULL when there is
 * no answer (connection failed, link closed first).
 */
typedef void (*gp_link_reply_fn)(void *data, int status, const cJSON *json);
/* An event: its type and payload, which the handler may keep by taking
 * *payload and leaving NULL there (a live list keeps thousands a second:
 * no copy); what is left, the link frees. */
typedef void (*gp_link_event_fn)(void *data, const char *type,
	    cJSON **payload);
/* connected: 1 up, 0 down (why says what failed). */
typedef void (*gp_link_state_fn)(void *data, int connected, const char *why);

struct gp_link	*gp_link_local(struct gp_ctl *, gp_link_event_fn,
		    gp_link_state_fn, void *data);
/*
 * A local link across two threads of this process: the core's loop on
 * one, the interface's on the other (a terminal that stops reading
 * must not stop the proxy).  gp_link_bridge_new on the core's thread,
 * before or while its loop runs; gp_link_bridge_attach once, on the
 * interface's thread; gp_link_close there ends both halves, and
 * gp_link_bridge_stop on the core's thread ends the core's half if the
 * interface has not (the core's loop can then end).  Freed by
 * gp_link_bridge_free once the core's thread has been joined and the
 * interface's loop has ended.
 */
struct gp_bridge;
struct gp_bridge *gp_link_bridge_new(struct gp_ctl *);
void		 gp_link_bridge_stop(struct gp_bridge *);
struct gp_link	*gp_link_bridge_attach(struct gp_bridge *, uv_loop_t *,
		    gp_link_event_fn, gp_link_state_fn, void *data);
void		 gp_link_bridge_free(struct gp_bridge *);
/* Tests: the bound on events waiting for the interface (past it they
 * are dropped, and the interface is then told to fetch afresh), and
 * what waits: replies returned, events and whether some were dropped. */
void		 gp_link_bridge_limit(struct gp_bridge *, size_t max_events);
size_t		 gp_link_bridge_waiting(struct gp_bridge *, size_t *events,
		    int *lagged);
/* target: "host:port" of an API. */
struct gp_link	*gp_link_remote(uv_loop_t *, const char *target,
		    gp_link_event_fn, gp_link_state_fn, void *data);
/* body may be NULL; reply may be NULL (fire and forget). */
void		 gp_link_request(struct gp_link *, const char *method,
		    const char *path, const cJSON *body, gp_link_reply_fn,
		    void *data);
int		 gp_link_is_remote(const struct gp_link *);
const char	*gp_link_target(const struct gp_link *);
void		 gp_link_close(struct gp_link *);

/* json.c: the wire shapes (caller deletes the returned object). */
cJSON	*gp_json_rule(const struct gp_rule *);
cJSON	*gp_json_pending(const struct gp_pending_entry *);
cJSON	*gp_json_log_row(const struct gp_log_row *);
cJSON	*gp_json_conn_log(const struct gp_conn_log *);
cJSON	*gp_json_tx(int64_t id, const struct gp_tx_row *);
/* The "data" of a WebSocket event. */
cJSON	*gp_json_event(enum gp_event, const void *obj);
void	 gp_json_time(cJSON *, const char *key, int64_t epoch);	/* or null */
/* A list's filter: text in a string value (case-insensitive) or in a
 * number's digits; "" matches all.  The TUI's and the API's search. */
int	 gp_json_has_text(const cJSON *, const char *text);

#endif
