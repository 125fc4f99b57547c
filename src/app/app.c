/*
 * app.c: the application lifecycle `serve` and `tui` share: core, API,
 * listen.json; stopping answers what waits; finishing frees.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "core/core.h"
#include "net/net.h"

int
gp_app_start(struct gp_app *a, uv_loop_t *loop, const struct gp_config *cfg,
    char **err)
{
	int	rc;

	memset(a, 0, sizeof *a);
	a->loop = loop;
	a->cfg = cfg;
	*err = NULL;
	if (gp_ctl_start(&a->ctl, loop, cfg, err) != 0)
		return -1;
	a->started = 1;
	if (gp_api_start(&a->api, &a->ctl, cfg->api_addr, &a->api_bound,
	    err) != 0) {
		a->api = NULL;
		gp_app_stop(a);
		return -1;
	}
	if ((rc = gp_listen_file_write(cfg->data_dir, &a->ctl, &a->api_bound,
	    &a->listen_path)) != 0) {
		gp_xasprintf(err, _("cannot write listen.json: %s"),
		    strerror(-rc));
		gp_app_stop(a);
		return -1;
	}
	gp_log(GP_LOG_INFO, "greyproxy %s ready (data in %s)",
	    PACKAGE_VERSION, cfg->data_dir);
	return 0;
}

void
gp_app_stop(struct gp_app *a)
{
	if (a->stopping)
		return;
	a->stopping = 1;
	gp_log(GP_LOG_INFO, "shutting down");
	gp_api_stop(a->api);
	a->api = NULL;
	if (a->started)
		gp_ctl_stop(&a->ctl);
}

void
gp_app_finish(struct gp_app *a)
{
	if (a->listen_path != NULL)
		unlink(a->listen_path);
	free(a->listen_path);
	a->listen_path = NULL;
	if (a->started)
		gp_ctl_free(&a->ctl);
	a->started = 0;
	gp_block_pool_drain();
}

int
gp_listen_file_write(const char *dir, struct gp_ctl *c,
    const struct sockaddr_storage *api, char **pathp)
{
	struct gp_ctl_status st;
	char	http[GP_ADDR_STRLEN], socks[GP_ADDR_STRLEN];
	char	apis[GP_ADDR_STRLEN], dns[GP_ADDR_STRLEN], *tmp;
	FILE	*f;
	int	 fd, rc = 0;

	gp_ctl_status(c, &st);
	gp_addr_format((const struct sockaddr *)&st.http, http, sizeof http);
	gp_addr_format((const struct sockaddr *)&st.socks, socks,
	    sizeof socks);
	gp_addr_format((const struct sockaddr *)api, apis, sizeof apis);
	gp_addr_format((const struct sockaddr *)&st.dns, dns, sizeof dns);
	gp_xasprintf(pathp, "%s/listen.json", dir);
	gp_xasprintf(&tmp, "%s.tmp", *pathp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		rc = -errno;
		if (fd != -1)
			close(fd);
		free(tmp);
		return rc;
	}
	fprintf(f, "{\"pid\":%ld,\"http\":\"%s\",\"socks5\":\"%s\","
	    "\"dns\":\"%s\",\"api\":\"%s\"}\n", (long)getpid(), http, socks,
	    dns, apis);
	if (fclose(f) != 0 || rename(tmp, *pathp) != 0)
		rc = -errno;
	free(tmp);
	return rc;
}

