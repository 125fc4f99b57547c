/*
 * cmd-serve.c: `greyproxy serve`: the core and the API on one loop,
 * headless; listen.json once every listener is bound; clean exit on
 * SIGINT/SIGTERM.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "cli/cli.h"
#include "conf/config.h"
#include "core/core.h"
#include "ctl/ctl.h"

struct serve {
	uv_loop_t		 loop;
	struct gp_config	 cfg;
	struct gp_ctl		 ctl;
	struct gp_api		*api;
	struct sockaddr_storage	 api_bound;
	uv_signal_t		 sigint, sigterm;
	char			*listen_path;
	int			 stopping;
};

static void
stop(struct serve *s)
{
	if (s->stopping)
		return;
	s->stopping = 1;
	gp_log(GP_LOG_INFO, "shutting down");
	uv_close((uv_handle_t *)&s->sigint, NULL);
	uv_close((uv_handle_t *)&s->sigterm, NULL);
	gp_api_stop(s->api);
	gp_ctl_stop(&s->ctl);
}

static void
on_signal(uv_signal_t *sig, int signum)
{
	stop(sig->data);
}

int
gp_listen_file_write(const char *dir, const struct gp_ctl *c,
    const struct sockaddr_storage *api, char **pathp)
{
	char	http[GP_ADDR_STRLEN], socks[GP_ADDR_STRLEN];
	char	apis[GP_ADDR_STRLEN], *tmp;
	FILE	*f;
	int	 fd, rc = 0;

	gp_addr_format((const struct sockaddr *)&c->http_bound, http,
	    sizeof http);
	gp_addr_format((const struct sockaddr *)&c->socks_bound, socks,
	    sizeof socks);
	gp_addr_format((const struct sockaddr *)api, apis, sizeof apis);
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
	    "\"api\":\"%s\"}\n", (long)getpid(), http, socks, apis);
	if (fclose(f) != 0 || rename(tmp, *pathp) != 0)
		rc = -errno;
	free(tmp);
	return rc;
}

int
gp_cmd_serve(int argc, char **argv)
{
	struct serve	 s;
	char		*err = NULL;
	int		 rc, status = 1;

	memset(&s, 0, sizeof s);
	if ((rc = gp_config_parse(&s.cfg, "serve", argc, argv)) != 0) {
		gp_config_free(&s.cfg);
		return rc == 1 ? 0 : 2;
	}
	gp_log_level = s.cfg.log_level;
	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&s.loop);
	if (gp_ctl_start(&s.ctl, &s.loop, &s.cfg, &err) != 0) {
		fprintf(stderr, "greyproxy serve: %s\n", err);
		goto out;
	}
	if (gp_api_start(&s.api, &s.ctl, s.cfg.api_addr, &s.api_bound,
	    &err) != 0) {
		fprintf(stderr, "greyproxy serve: %s\n", err);
		s.api = NULL;
		gp_ctl_stop(&s.ctl);
		goto out;
	}
	uv_signal_init(&s.loop, &s.sigint);
	s.sigint.data = &s;
	uv_signal_start(&s.sigint, on_signal, SIGINT);
	uv_signal_init(&s.loop, &s.sigterm);
	s.sigterm.data = &s;
	uv_signal_start(&s.sigterm, on_signal, SIGTERM);
	if ((rc = gp_listen_file_write(s.cfg.data_dir, &s.ctl, &s.api_bound,
	    &s.listen_path)) != 0) {
		fprintf(stderr, _("greyproxy serve: cannot write listen.json: "
		    "%s\n"), strerror(-rc));
		stop(&s);
	} else
		gp_log(GP_LOG_INFO, "greyproxy %s ready (data in %s)",
		    PACKAGE_VERSION, s.cfg.data_dir);
	uv_run(&s.loop, UV_RUN_DEFAULT);
	status = s.stopping && rc == 0 ? 0 : 1;
	if (s.listen_path != NULL)
		unlink(s.listen_path);
out:
	uv_run(&s.loop, UV_RUN_DEFAULT);	/* let close callbacks run */
	gp_ctl_free(&s.ctl);
	if (uv_loop_close(&s.loop) != 0)
		gp_log(GP_LOG_WARN, "loop closed with handles still open");
	free(s.listen_path);
	free(err);
	gp_config_free(&s.cfg);
	return status;
}
