/*
 * app.h: one application lifecycle shared by `serve`, `tui` (in-process
 * core) and later the service CLI: the core, its API, listen.json and
 * the data directory's lock (held by the core).
 *
 * Life: gp_app_start() (core, API, listen.json; on failure everything is
 * undone and *err says why) → the loop runs → gp_app_stop() (closes
 * listeners and connections; waiting clients are answered) → the loop
 * drains → gp_app_finish() (removes listen.json, frees the core).
 */
#ifndef GP_APP_H
#define GP_APP_H

#include <uv.h>

#include "api/api.h"
#include "conf/conf.h"
#include "ctl/ctl.h"

struct gp_app {
	uv_loop_t		*loop;		/* borrowed */
	const struct gp_config	*cfg;		/* borrowed */
	struct gp_ctl		 ctl;
	struct gp_api		*api;
	struct sockaddr_storage	 api_bound;
	char			*listen_path;
	int			 started;	/* ctl started */
	int			 stopping;
};

/* 0, or -1 with *err (caller frees). */
int	gp_app_start(struct gp_app *, uv_loop_t *, const struct gp_config *,
	    char **err);
void	gp_app_stop(struct gp_app *);
void	gp_app_finish(struct gp_app *);
/* Writes DIR/listen.json (0600) naming every bound listener; 0 or -errno. */
int	gp_listen_file_write(const char *dir, struct gp_ctl *,
	    const struct sockaddr_storage *api, char **pathp);

#endif
