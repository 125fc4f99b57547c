/*
 * cmd-dns.c: `greyproxy dns flush|stats`: asks the running instance
 * over its API (a short blocking exchange; there is no loop here), or,
 * with nothing running, empties the persisted cache directly.
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/cli.h"
#include "conf/conf.h"
#include "core/core.h"
#include "net/net.h"
#include "store/store.h"

/* One HTTP exchange with the API; returns the status and the body. */
static int
api_call(const char *addr, const char *method, const char *path,
    struct gp_buf *body)
{
	struct sockaddr_storage	 ss;
	const char		*why;
	char			 req[512], buf[4096], *p;
	int			 fd, status = -1;
	ssize_t			 n;
	struct pollfd		 pfd;

	if (gp_addr_parse(addr, &ss, &why) != 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss,
	    ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n", method, path,
	    addr);
	if (write(fd, req, (size_t)n) != n)
		goto out;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, 5000) > 0 && (n = read(fd, buf, sizeof buf)) >
	    0)
		gp_buf_add(body, buf, (size_t)n);
	if (body->len > 12 && strncmp(body->data, "HTTP/1.1 ", 9) == 0)
		status = atoi(body->data + 9);
	if ((p = strstr(body->data ? body->data : "", "\r\n\r\n")) != NULL)
		gp_buf_consume(body, (size_t)(p + 4 - body->data));
out:
	close(fd);
	return status;
}

int
gp_cmd_dns(int argc, char **argv)
{
	struct gp_config	 cfg;
	struct gp_buf		 body = { 0 };
	const char		*sub;
	int			 rc, status;

	if (argc < 2 || (strcmp(argv[1], "flush") != 0 &&
	    strcmp(argv[1], "stats") != 0)) {
		fprintf(stderr, "%s", _("Usage: greyproxy dns flush|stats "
		    "[--api ADDR] [--data-dir DIR]\n"));
		return 2;
	}
	sub = argv[1];
	gp_log_level = GP_LOG_WARN;
	if ((rc = gp_config_parse(&cfg, "dns", argc - 1, argv + 1)) != 0) {
		gp_config_free(&cfg);
		return rc == 1 ? 0 : 2;
	}
	status = api_call(cfg.api_addr, strcmp(sub, "flush") == 0 ? "POST" :
	    "GET", strcmp(sub, "flush") == 0 ? "/api/dns/flush" : "/api/dns",
	    &body);
	if (status == 200) {
		cJSON *o = cJSON_Parse(body.data ? body.data : "");

		printf(_("%s: %.0f answers, %.0f addresses cached, hit rate "
		    "%.0f%%\n"), strcmp(sub, "flush") == 0 ?
		    _("flushed") : _("dns cache"),
		    cJSON_GetNumberValue(cJSON_GetObjectItem(o, "entries")),
		    cJSON_GetNumberValue(cJSON_GetObjectItem(o, "hosts")),
		    100 * cJSON_GetNumberValue(cJSON_GetObjectItem(o,
		    "hit_rate")));
		cJSON_Delete(o);
		rc = 0;
	} else if (status < 0 && strcmp(sub, "flush") == 0) {
		/* Nothing running: empty the persisted cache. */
		struct gp_store	*st;
		char		*path, *err = NULL;

		gp_xasprintf(&path, "%s/greyproxy.db", cfg.data_dir);
		if (access(path, F_OK) != 0) {
			printf("%s", _("nothing to flush\n"));
			rc = 0;
		} else if (gp_store_open(path, &st, &err) == 0) {
			rc = gp_store_dns_prune(st, gp_now(), 1) ? 1 : 0;
			gp_store_close(st);
			printf("%s", _("flushed the saved DNS cache (no "
			    "greyproxy running)\n"));
		} else {
			fprintf(stderr, "greyproxy dns: %s\n", err);
			rc = 1;
		}
		free(err);
		free(path);
	} else {
		fprintf(stderr, _("greyproxy dns: no greyproxy answers on %s\n"),
		    cfg.api_addr);
		rc = 1;
	}
	gp_buf_free(&body);
	gp_config_free(&cfg);
	return rc;
}
