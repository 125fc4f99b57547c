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

/* json.c: the wire shapes (caller deletes the returned object). */
cJSON	*gp_json_rule(const struct gp_rule *);
cJSON	*gp_json_pending(const struct gp_pending_entry *);
cJSON	*gp_json_log_row(const struct gp_log_row *);
cJSON	*gp_json_conn_log(const struct gp_conn_log *);
/* The "data" of a WebSocket event. */
cJSON	*gp_json_event(enum gp_event, const void *obj);
void	 gp_json_time(cJSON *, const char *key, int64_t epoch);	/* or null */

#endif
