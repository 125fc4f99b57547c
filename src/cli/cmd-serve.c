/*
 * cmd-serve.c: `greyproxy serve`: composes the store, resolver, proxy
 * and listeners on one loop; writes listen.json once every listener is
 * bound; flushes the connection log on a timer; reloads rules changed by
 * another process; exits cleanly on SIGINT/SIGTERM.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "conf/config.h"
#include "core/core.h"
#include "ctl/ctl.h"
#include "net/net.h"
#include "proxy/proxy.h"
#include "store/store.h"

#define FLUSH_MS	250
#define WATCH_MS	1000

struct serve {
	uv_loop_t		 loop;
	struct gp_config	 cfg;
	struct gp_store		*store;
	struct gp_resolver	*res;
	struct gp_proxy		 px;
	struct gp_ctl		 ctl;
	uv_tcp_t		 http, socks;
	struct sockaddr_storage	 http_bound, socks_bound;
	uv_timer_t		 flush, watch;
	uv_signal_t		 sigint, sigterm;
	char			*listen_path;
	int			 stopping;
};

static void
on_flush(uv_timer_t *t)
{
	struct serve *s = t->data;

	gp_store_log_flush(s->store);
}

static void
on_watch(uv_timer_t *t)
{
	struct serve *s = t->data;

	gp_ctl_poll_changes(&s->ctl);
}

static void
stop(struct serve *s)
{
	if (s->stopping)
		return;
	s->stopping = 1;
	gp_log(GP_LOG_INFO, "shutting down");
	uv_close((uv_handle_t *)&s->http, NULL);
	uv_close((uv_handle_t *)&s->socks, NULL);
	uv_close((uv_handle_t *)&s->flush, NULL);
	uv_close((uv_handle_t *)&s->watch, NULL);
	uv_close((uv_handle_t *)&s->sigint, NULL);
	uv_close((uv_handle_t *)&s->sigterm, NULL);
	gp_proxy_shutdown(&s->px);
	gp_resolver_close(s->res);
	s->res = NULL;
}

static void
on_signal(uv_signal_t *sig, int signum)
{
	stop(sig->data);
}

/* Writes listen.json atomically (tmp + rename). */
static int
write_listen_file(struct serve *s)
{
	char	http[GP_ADDR_STRLEN], socks[GP_ADDR_STRLEN], *tmp;
	FILE	*f;
	int	 fd, rc = 0;

	gp_addr_format((struct sockaddr *)&s->http_bound, http, sizeof http);
	gp_addr_format((struct sockaddr *)&s->socks_bound, socks,
	    sizeof socks);
	gp_xasprintf(&s->listen_path, "%s/listen.json", s->cfg.data_dir);
	gp_xasprintf(&tmp, "%s.tmp", s->listen_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			close(fd);
		free(tmp);
		return -errno;
	}
	fprintf(f, "{\"pid\":%ld,\"http\":\"%s\",\"socks5\":\"%s\"}\n",
	    (long)getpid(), http, socks);
	if (fclose(f) != 0 || rename(tmp, s->listen_path) != 0)
		rc = -errno;
	free(tmp);
	return rc;
}

/* Binds one listener; logs the bound address. */
static int
listen_one(struct serve *s, uv_tcp_t *tcp, const char *what,
    const char *addr, uv_connection_cb cb, struct sockaddr_storage *bound)
{
	struct sockaddr_storage	 ss;
	const char		*why;
	char			 buf[GP_ADDR_STRLEN];
	int			 rc;

	if (gp_addr_parse(addr, &ss, &why) != 0) {
		fprintf(stderr, "greyproxy serve: %s %s: %s\n", what, addr, why);
		return -1;
	}
	rc = gp_listen_tcp(&s->loop, tcp, (struct sockaddr *)&ss, cb, bound);
	if (rc != 0) {
		fprintf(stderr, _("greyproxy serve: cannot listen on %s for "
		    "%s: %s\n"), addr, what, uv_strerror(rc));
		return -1;
	}
	tcp->data = &s->px;
	gp_addr_format((struct sockaddr *)bound, buf, sizeof buf);
	gp_log(GP_LOG_INFO, "%s listening on %s", what, buf);
	return 0;
}

int
gp_cmd_serve(int argc, char **argv)
{
	struct serve	 s;
	char		*dbpath = NULL, *err = NULL;
	const char	*why;
	int		 rc, status = 1;

	memset(&s, 0, sizeof s);
	if ((rc = gp_config_parse(&s.cfg, "serve", argc, argv)) != 0) {
		gp_config_free(&s.cfg);
		return rc == 1 ? 0 : 2;
	}
	gp_log_level = s.cfg.log_level;
	if ((rc = gp_data_dir_prepare(s.cfg.data_dir)) != 0) {
		fprintf(stderr, _("greyproxy serve: data directory %s: %s\n"),
		    s.cfg.data_dir, strerror(-rc));
		goto out;
	}
	gp_xasprintf(&dbpath, "%s/greyproxy.db", s.cfg.data_dir);
	if (gp_store_open(dbpath, &s.store, &err) != 0) {
		fprintf(stderr, "greyproxy serve: %s\n", err);
		goto out;
	}
	uv_loop_init(&s.loop);
	if (gp_resolver_new(&s.loop, s.cfg.dns_upstream, 2, &s.res, &why)) {
		fprintf(stderr, "greyproxy serve: %s\n", why);
		goto out_loop;
	}
	gp_proxy_init(&s.px, &s.loop, s.res, s.store);
	s.px.opts.connect_timeout_ms = s.cfg.connect_timeout_ms;
	s.px.opts.idle_timeout_ms = s.cfg.idle_timeout_ms;
	if (gp_ctl_init(&s.ctl, s.store, &s.px) != 0) {
		fprintf(stderr, _("greyproxy serve: cannot load rules\n"));
		gp_resolver_close(s.res);
		goto out_loop;
	}
	if (listen_one(&s, &s.http, "http-proxy", s.cfg.http_addr,
	    gp_proxy_accept_http, &s.http_bound) != 0) {
		gp_resolver_close(s.res);
		goto out_loop;
	}
	if (listen_one(&s, &s.socks, "socks5-proxy", s.cfg.socks_addr,
	    gp_proxy_accept_socks5, &s.socks_bound) != 0) {
		uv_close((uv_handle_t *)&s.http, NULL);
		gp_resolver_close(s.res);
		goto out_loop;
	}
	uv_timer_init(&s.loop, &s.flush);
	s.flush.data = &s;
	uv_timer_start(&s.flush, on_flush, FLUSH_MS, FLUSH_MS);
	uv_timer_init(&s.loop, &s.watch);
	s.watch.data = &s;
	uv_timer_start(&s.watch, on_watch, WATCH_MS, WATCH_MS);
	uv_signal_init(&s.loop, &s.sigint);
	s.sigint.data = &s;
	uv_signal_start(&s.sigint, on_signal, SIGINT);
	uv_signal_init(&s.loop, &s.sigterm);
	s.sigterm.data = &s;
	uv_signal_start(&s.sigterm, on_signal, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = write_listen_file(&s)) != 0) {
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
out_loop:
	uv_run(&s.loop, UV_RUN_DEFAULT);	/* let close callbacks run */
	gp_ctl_free(&s.ctl);
	if (uv_loop_close(&s.loop) != 0)
		gp_log(GP_LOG_WARN, "loop closed with handles still open");
out:
	gp_store_close(s.store);
	free(s.listen_path);
	free(dbpath);
	free(err);
	gp_config_free(&s.cfg);
	return status;
}
