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

int
gp_cmd_dns(int argc, char **argv)
{
	struct gp_config	 cfg;
	struct gp_buf		 body = { 0 };
	const char		*sub;
	char			 api[GP_ADDR_STRLEN];
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
	status = gp_cli_api_call(gp_cli_api_addr(&cfg, api, sizeof api), strcmp(sub, "flush") == 0 ? "POST" :
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
		    api);
		rc = 1;
	}
	gp_buf_free(&body);
	gp_config_free(&cfg);
	return rc;
}
