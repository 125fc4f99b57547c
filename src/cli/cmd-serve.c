/*
 * cmd-serve.c: `greyproxy serve`: the core and the API on one loop,
 * headless; listen.json once every listener is bound; clean exit on
 * SIGINT/SIGTERM; SIGHUP reads settings, rules and the CA again.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "cli/cli.h"
#include "conf/conf.h"
#include "core/core.h"
#include "app/app.h"
#include "ctl/ctl.h"

/*
 * --daemon: fork, new session, stdio to /dev/null, log to
 * DIR/greyproxy.log, pid in DIR/greyproxy.pid.  The parent waits for the
 * child to report that it listens (one byte on a pipe) and exits 0, or 1
 * if the child died first.  Returns the pipe's write end in the child,
 * -1 when not daemonizing; exits in the parent.
 */
static int
daemonize(struct gp_config *cfg, char **pidpath)
{
	char	 abs[PATH_MAX], *logpath, buf[32], c;
	int	 p[2], fd, rc;
	pid_t	 pid;
	FILE	*f;

	if ((rc = gp_data_dir_prepare(cfg->data_dir)) != 0 ||
	    realpath(cfg->data_dir, abs) == NULL) {
		fprintf(stderr, _("greyproxy serve: data directory %s: %s\n"),
		    cfg->data_dir, strerror(rc ? -rc : errno));
		exit(1);
	}
	free(cfg->data_dir);
	cfg->data_dir = gp_xstrdup(abs);
	gp_xasprintf(pidpath, "%s/greyproxy.pid", abs);
	if ((f = fopen(*pidpath, "re")) != NULL) {
		long old = 0;

		if (fgets(buf, sizeof buf, f) != NULL)
			old = strtol(buf, NULL, 10);
		fclose(f);
		if (old > 0 && kill((pid_t)old, 0) == 0) {
			fprintf(stderr, _("greyproxy serve: already running "
			    "(pid %ld, %s)\n"), old, *pidpath);
			exit(1);
		}
	}
	if (pipe(p) != 0 || (pid = fork()) < 0) {
		perror("greyproxy serve: fork");
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &c, 1) == 1) {
			printf(_("greyproxy serving in the background (pid %ld); "
			    "log in %s/greyproxy.log\n"), (long)pid, abs);
			exit(0);
		}
		fprintf(stderr, _("greyproxy serve: the daemon did not start; "
		    "see %s/greyproxy.log\n"), abs);
		exit(1);
	}
	close(p[0]);
	setsid();
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	gp_xasprintf(&logpath, "%s/greyproxy.log", abs);
	gp_log_open_file(logpath);
	free(logpath);
	fd = open(*pidpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
		(void)!write(fd, buf, strlen(buf));
		close(fd);
	}
	return p[1];
}

struct serve {
	uv_loop_t		 loop;
	struct gp_config	 cfg;
	struct gp_app		 app;
	uv_signal_t		 sigint, sigterm, sighup;
	int			 stopping;
};

static void
stop(struct serve *s)
{
	if (s->stopping)
		return;
	s->stopping = 1;
	uv_close((uv_handle_t *)&s->sigint, NULL);
	uv_close((uv_handle_t *)&s->sigterm, NULL);
	uv_close((uv_handle_t *)&s->sighup, NULL);
	gp_app_stop(&s->app);
}

static void
on_signal(uv_signal_t *sig, int signum)
{
	stop(sig->data);
}

/* SIGHUP: settings and rules read again, as POST /api/reload, and
 * the CA, as POST /api/cert/reload. */
static void
on_hangup(uv_signal_t *sig, int signum)
{
	struct serve	*s = sig->data;
	char		*err = NULL;

	gp_log(GP_LOG_INFO, "SIGHUP: reloading settings, rules and the CA");
	if (gp_ctl_settings_reload(&s->app.ctl, &err) != 0) {
		gp_log(GP_LOG_WARN, "reload failed: %s", err);
		free(err);
	}
	gp_ctl_cert_load_async(&s->app.ctl, NULL, NULL);
}

int
gp_cmd_serve(int argc, char **argv)
{
	struct serve	 s;
	char		*err = NULL, *pidpath = NULL;
	int		 rc, status = 1, ready = -1;

	memset(&s, 0, sizeof s);
	if ((rc = gp_config_parse(&s.cfg, "serve", argc, argv)) != 0) {
		gp_config_free(&s.cfg);
		return rc == 1 ? 0 : 2;
	}
	gp_log_level = s.cfg.log_level;
	if (s.cfg.daemon)
		ready = daemonize(&s.cfg, &pidpath);
	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&s.loop);
	if (gp_app_start(&s.app, &s.loop, &s.cfg, &err) != 0) {
		fprintf(stderr, "greyproxy serve: %s\n", err);
		goto out;
	}
	uv_signal_init(&s.loop, &s.sigint);
	s.sigint.data = &s;
	uv_signal_start(&s.sigint, on_signal, SIGINT);
	uv_signal_init(&s.loop, &s.sigterm);
	s.sigterm.data = &s;
	uv_signal_start(&s.sigterm, on_signal, SIGTERM);
	uv_signal_init(&s.loop, &s.sighup);
	s.sighup.data = &s;
	uv_signal_start(&s.sighup, on_hangup, SIGHUP);
	if (ready >= 0) {	/* tell the parent, then detach fully */
		(void)!write(ready, "R", 1);
		close(ready);
		ready = -1;
	}
	uv_run(&s.loop, UV_RUN_DEFAULT);
	status = s.stopping ? 0 : 1;
out:
	uv_run(&s.loop, UV_RUN_DEFAULT);	/* let close callbacks run */
	gp_app_finish(&s.app);
	if (uv_loop_close(&s.loop) != 0)
		gp_log(GP_LOG_WARN, "loop closed with handles still open");
	if (pidpath != NULL)
		unlink(pidpath);
	if (ready >= 0)
		close(ready);
	free(pidpath);
	free(err);
	gp_config_free(&s.cfg);
	return status;
}
