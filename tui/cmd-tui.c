/*
 * cmd-tui.c: `greyproxy tui`.  Takes every flag of serve.  With --attach,
 * or when a greyproxy already answers on the --api address, it attaches
 * over the API; otherwise (or with --standalone) it runs the core and the
 * API in this process, on a thread and a loop of their own, linked to
 * the interface's loop by a bridge (queues of objects between the two
 * threads).  (On one shared loop, a terminal that stopped reading — a
 * stalled ssh session, a tmux pane held in copy mode — blocked ncurses'
 * writes, and with them every proxied connection.)  While the interface owns the
 * terminal, the log goes to DIR/greyproxy.log.
 */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "app/app.h"
#include "cli/cli.h"
#include "conf/conf.h"
#include "core/core.h"
#include "ctl/ctl.h"
#include "tui/tui-int.h"
#include "tui/tui.h"

/* The in-process core: its thread, its loop. */
struct core {
	uv_thread_t		 thread;
	uv_loop_t		 loop;
	struct gp_app		 app;
	const struct gp_config	*cfg;
	uv_async_t		 stop;		/* the interface's: stop now */
	int			 stop_sent;
	uv_sem_t		 ready;		/* started, or failed */
	int			 rc;
	char			*err;
	struct gp_bridge	*bridge;	/* to the interface */
};

struct app {
	uv_loop_t		 loop;
	struct gp_config	 cfg;
	struct tui		 tui;
	struct core		 core;		/* in-process, when local */
	int			 local;
	struct gp_link		*probe;		/* attach attempt */
	uv_signal_t		 sigint, sigterm, sighup;
	int			 exit_status;
	char			 fatal[512];
};

/* Stops everything; the loop then drains. */
static void
shutdown_app(struct app *a)
{
	if (a->tui.link != NULL) {
		gp_link_close(a->tui.link);
		a->tui.link = NULL;
	}
	if (a->probe != NULL) {
		gp_link_close(a->probe);
		a->probe = NULL;
	}
	if (a->local && !a->core.stop_sent) {
		a->core.stop_sent = 1;
		uv_async_send(&a->core.stop);
	}
	if (!uv_is_closing((uv_handle_t *)&a->sigint)) {
		uv_close((uv_handle_t *)&a->sigint, NULL);
		uv_close((uv_handle_t *)&a->sigterm, NULL);
		uv_close((uv_handle_t *)&a->sighup, NULL);
	}
	tui_stop(&a->tui);
}

static void
on_quit(struct tui *t)
{
	shutdown_app(t->owner);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct app *a = s->data;

	if (!a->tui.quit) {
		a->tui.quit = 1;
		shutdown_app(a);
	}
}

static void
fail(struct app *a, const char *what, const char *err)
{
	snprintf(a->fatal, sizeof a->fatal, "greyproxy tui: %s%s%s", what,
	    err ? ": " : "", err ? err : "");
	a->exit_status = 1;
	a->tui.quit = 1;
	shutdown_app(a);
}

/* The core's thread: starts it, says so, runs its loop until stopped. */
static void
core_on_stop(uv_async_t *h)
{
	struct core	*c = h->data;

	gp_link_bridge_stop(c->bridge);
	gp_app_stop(&c->app);
	uv_close((uv_handle_t *)h, NULL);
}

static void
core_run(void *arg)
{
	struct core	*c = arg;

	uv_loop_init(&c->loop);
	uv_async_init(&c->loop, &c->stop, core_on_stop);
	c->stop.data = c;
	if ((c->rc = gp_app_start(&c->app, &c->loop, c->cfg, &c->err)) == 0)
		c->bridge = gp_link_bridge_new(&c->app.ctl);
	else
		uv_close((uv_handle_t *)&c->stop, NULL);
	uv_sem_post(&c->ready);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	if (c->rc == 0)
		gp_app_finish(&c->app);
	if (uv_loop_close(&c->loop) != 0)
		gp_log(GP_LOG_WARN, "core loop closed with handles still open");
}

/* Runs the core and the API here, and links the interface to them. */
static void
start_local(struct app *a)
{
	struct core	*c = &a->core;

	c->cfg = &a->cfg;
	uv_sem_init(&c->ready, 0);
	if (uv_thread_create(&c->thread, core_run, c) != 0) {
		uv_sem_destroy(&c->ready);
		fail(a, _("cannot start the proxy's thread"), NULL);
		return;
	}
	uv_sem_wait(&c->ready);		/* start-up: 0.1 s at 100k rules */
	uv_sem_destroy(&c->ready);
	if (c->rc != 0) {
		uv_thread_join(&c->thread);
		fail(a, c->err, NULL);
		free(c->err);
		return;
	}
	a->local = 1;
	gp_log(GP_LOG_INFO, "greyproxy %s ready in the terminal interface",
	    PACKAGE_VERSION);
	tui_attach_link(&a->tui, gp_link_bridge_attach(c->bridge, &a->loop,
	    tui_on_event, tui_on_state, &a->tui), 0);
}

/* The first answer of the attach attempt decides the mode. */
static void
on_probe_state(void *data, int connected, const char *why)
{
	struct app *a = data;

	if (a->tui.link != NULL) {		/* already attached */
		tui_on_state(&a->tui, connected, why);
		return;
	}
	if (connected) {
		gp_log(GP_LOG_INFO, "attached to %s", gp_link_target(a->probe));
		tui_attach_link(&a->tui, a->probe, 1);
		a->probe = NULL;
		tui_on_state(&a->tui, 1, NULL);
		return;
	}
	if (a->cfg.attach != NULL) {		/* forced: keep retrying */
		tui_attach_link(&a->tui, a->probe, 1);
		a->probe = NULL;
		tui_on_state(&a->tui, 0, why);
		return;
	}
	gp_link_close(a->probe);
	a->probe = NULL;
	start_local(a);
}

static void
on_probe_event(void *data, const char *type, cJSON **payload)
{
	tui_on_event(&((struct app *)data)->tui, type, payload);
}

/*
 * The API address in DIR/listen.json of the instance holding the data
 * directory; 0, or -1 when there is none to read.
 */
static int
listen_api(const char *dir, char *out, size_t outlen)
{
	char	*path, buf[1024];
	FILE	*f;
	size_t	 n;
	cJSON	*o, *api;
	int	 rc = -1;

	gp_xasprintf(&path, "%s/listen.json", dir);
	f = fopen(path, "re");
	free(path);
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((o = cJSON_Parse(buf)) == NULL)
		return -1;
	api = cJSON_GetObjectItemCaseSensitive(o, "api");
	if (cJSON_IsString(api) && strlen(api->valuestring) < outlen) {
		snprintf(out, outlen, "%s", api->valuestring);
		rc = 0;
	}
	cJSON_Delete(o);
	return rc;
}

/* "http://127.0.0.1:43080/" → "127.0.0.1:43080". */
static void
strip_url(char *s)
{
	char	*p = strstr(s, "://"), *slash;

	if (p != NULL)
		memmove(s, p + 3, strlen(p + 3) + 1);
	if ((slash = strchr(s, '/')) != NULL)
		*slash = '\0';
}

/*
 * tui --daemon: 'greyproxy serve' with the same options, run as this
 * very binary; it returns once the daemon listens (or has failed, and
 * said why on stderr).  0 when it listens.
 */
static int
start_daemon(int argc, char **argv)
{
	char	  self[PATH_MAX], **args;
	ssize_t	  n = readlink("/proc/self/exe", self, sizeof self - 1);
	pid_t	  pid;
	int	  i, st = 0;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	args = gp_xcalloc((size_t)argc + 2, sizeof *args);
	args[0] = self;
	args[1] = (char *)"serve";
	for (i = 1; i < argc; i++)	/* argv[0]: the command's name */
		args[i + 1] = argv[i];
	fflush(NULL);
	if ((pid = fork()) == 0) {
		execv(self, args);
		_exit(127);
	}
	free(args);
	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int
gp_cmd_tui(int argc, char **argv)
{
	struct app	*a = gp_xcalloc(1, sizeof *a);
	char		*logpath = NULL, target[GP_ADDR_STRLEN + 8];
	long		 holder = 0;
	int		 rc, status;

	if ((rc = gp_config_parse(&a->cfg, "tui", argc, argv)) != 0) {
		gp_config_free(&a->cfg);
		free(a);
		return rc == 1 ? 0 : 2;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "%s", _("greyproxy tui: needs a terminal "
		    "(use 'greyproxy serve' to run headless)\n"));
		gp_config_free(&a->cfg);
		free(a);
		return 2;
	}
	{
		char why[160];

		if (!tui_term_usable(why, sizeof why)) {
			fprintf(stderr, _("greyproxy tui: %s; run it in a "
			    "terminal such as xterm or tmux, or use 'greyproxy "
			    "serve'\n"), why);
			gp_config_free(&a->cfg);
			free(a);
			return 2;
		}
	}
	gp_log_level = a->cfg.log_level;
	if ((rc = gp_data_dir_prepare(a->cfg.data_dir)) != 0) {
		fprintf(stderr, _("greyproxy tui: data directory %s: %s\n"),
		    a->cfg.data_dir, strerror(-rc));
		gp_config_free(&a->cfg);
		free(a);
		return 1;
	}
	/* --daemon: the proxy apart, unless one holds the directory; the
	 * interface then attaches to it below, and leaves it running. */
	if (a->cfg.daemon && !gp_data_dir_in_use(a->cfg.data_dir, &holder) &&
	    start_daemon(argc, argv) != 0) {
		fprintf(stderr, "%s", _("greyproxy tui: the daemon did not "
		    "start\n"));
		gp_config_free(&a->cfg);
		free(a);
		return 1;
	}
	/* Never print to the terminal while the interface owns it. */
	gp_xasprintf(&logpath, "%s/greyproxy.log", a->cfg.data_dir);
	if (gp_log_open_file(logpath) != 0) {
		fprintf(stderr, _("greyproxy tui: cannot open %s\n"), logpath);
		free(logpath);
		gp_config_free(&a->cfg);
		free(a);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&a->loop);
	a->tui.owner = a;
	a->tui.on_quit = on_quit;
	if (tui_start(&a->tui, &a->loop) != 0) {
		fprintf(stderr, "%s", _("greyproxy tui: cannot start the "
		    "terminal\n"));
		uv_loop_close(&a->loop);
		free(logpath);
		gp_config_free(&a->cfg);
		free(a);
		return 1;
	}
	uv_signal_init(&a->loop, &a->sigint);
	uv_signal_init(&a->loop, &a->sigterm);
	uv_signal_init(&a->loop, &a->sighup);
	a->sigint.data = a->sigterm.data = a->sighup.data = a;
	uv_signal_start(&a->sigint, on_signal, SIGINT);
	uv_signal_start(&a->sigterm, on_signal, SIGTERM);
	uv_signal_start(&a->sighup, on_signal, SIGHUP);

	snprintf(target, sizeof target, "%s", a->cfg.attach ?
	    a->cfg.attach : a->cfg.api_addr);
	strip_url(target);
	if (!a->cfg.standalone && a->cfg.attach == NULL &&
	    gp_data_dir_in_use(a->cfg.data_dir, &holder)) {
		/* One greyproxy per data directory: attach to the one that
		 * holds it, whatever --api says. */
		if (listen_api(a->cfg.data_dir, target, sizeof target) != 0) {
			snprintf(target, sizeof target, "%ld", holder);
			fail(a, _("the data directory is in use by a greyproxy "
			    "that has not said where it listens (pid)"),
			    target);
		} else {
			gp_log(GP_LOG_INFO, "data directory in use by pid %ld; "
			    "attaching to %s", holder, target);
			a->cfg.attach = gp_xstrdup(target);
			if ((a->probe = gp_link_remote(&a->loop, target,
			    on_probe_event, on_probe_state, a)) == NULL)
				fail(a, _("invalid API address"), target);
		}
	} else if (a->cfg.standalone || (a->cfg.attach == NULL &&
	    strstr(target, ":0") == target + strlen(target) - 2))
		start_local(a);		/* port 0 cannot be attached to */
	else if ((a->probe = gp_link_remote(&a->loop, target, on_probe_event,
	    on_probe_state, a)) == NULL)
		fail(a, _("invalid API address"), target);
	uv_run(&a->loop, UV_RUN_DEFAULT);
	uv_run(&a->loop, UV_RUN_DEFAULT);
	if (a->local) {
		uv_thread_join(&a->core.thread);
		gp_link_bridge_free(a->core.bridge);
	}
	if (uv_loop_close(&a->loop) != 0)
		gp_log(GP_LOG_WARN, "loop closed with handles still open");
	if (a->fatal[0] != '\0')
		fprintf(stderr, "%s\n", a->fatal);
	status = a->exit_status;
	free(logpath);
	gp_config_free(&a->cfg);
	free(a);
	return status;
}
