/*
 * cmd-logs.c: `greyproxy logs prune`: applies the connection log's
 * retention now, to completion, through its own connection (beside a
 * running server or without one).  The server does the same in small
 * steps on its writer thread.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "conf/conf.h"
#include "core/core.h"
#include "store/store.h"

static void
usage(FILE *f)
{
	fprintf(f, "%s", _("Usage: greyproxy logs prune [--older-than DAYS] "
	    "[--max-mb MIB] [--data-dir DIR]\n"
	    "Deletes connection log rows older than DAYS and, while the "
	    "database uses\nmore than MIB, the oldest rows.  Both default "
	    "to the settings\n(logRetentionDays, logMaxMB); 0 turns either "
	    "off.\n"));
}

/* 0..max, as the settings allow (larger would overflow the arithmetic). */
static int
number(const char *s, long max, long *out)
{
	char	*end;

	*out = strtol(s, &end, 10);
	return *s != '\0' && *end == '\0' && *out >= 0 && *out <= max ?
	    0 : -1;
}

int
gp_cmd_logs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ "max-mb", required_argument, NULL, 'm' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct gp_settings	 set;
	struct gp_store		*st = NULL;
	char			*dir = NULL, *err = NULL;
	long			 days = -1, mb = -1;
	int			 ch, rc = 2, n;
	uint64_t		 total = 0;

	gp_log_level = GP_LOG_WARN;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
		case 'm':
			if (number(optarg, ch == 'o' ? 36500 : 1048576,
			    ch == 'o' ? &days : &mb) != 0) {
				fprintf(stderr, _("greyproxy logs: %s needs a "
				    "number from 0 to %ld\n"), argv[optind - 1],
				    ch == 'o' ? 36500L : 1048576L);
				goto out;
			}
			break;
		case 'd': free(dir); dir = gp_xstrdup(optarg); break;
		case 'h': usage(stdout); rc = 0; goto out;
		default:
			fprintf(stderr, _("greyproxy logs: option '%s' is "
			    "unknown or needs a value\n"), argv[optind - 1]);
			goto out;
		}
	}
	if (optind + 1 != argc || strcmp(argv[optind], "prune") != 0) {
		usage(stderr);
		goto out;
	}
	if (dir == NULL)
		dir = gp_data_dir_default();
	if (gp_settings_load(&set, dir, &err) != 0) {
		fprintf(stderr, "greyproxy logs: %s\n", err);
		rc = 1;
		goto out;
	}
	if (days < 0)
		days = set.log_retention_days;
	if (mb < 0)
		mb = set.log_max_mb;
	if (gp_cli_open_store("logs", dir, &st) != 0) {
		rc = 1;
		goto out;
	}
	while ((n = gp_store_log_prune_step(st, days > 0 ? gp_now() -
	    (int64_t)days * 86400 : 0, (int64_t)mb << 20, 5000)) > 0)
		total += (uint64_t)n;
	if (n < 0) {
		fprintf(stderr, _("greyproxy logs: pruning failed after %llu "
		    "rows\n"), (unsigned long long)total);
		rc = 1;
		goto out;
	}
	printf(_("%llu rows deleted; the database uses %lld KiB\n"),
	    (unsigned long long)total,
	    (long long)(gp_store_used_bytes(st) >> 10));
	rc = 0;
out:
	gp_store_close(st);
	free(err);
	free(dir);
	return rc;
}
