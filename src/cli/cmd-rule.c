/*
 * cmd-rule.c: `greyproxy rule add|list|rm`, working on the database
 * directly; a running `serve` notices the change (PRAGMA data_version).
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
usage(FILE *out)
{
	fprintf(out, _("Usage: greyproxy rule add allow|deny PATTERN "
	    "[--port PORTS] [--container GLOB]\n"
	    "                          [--expires SECONDS] [--notes TEXT]\n"
	    "                          [--method METHOD] [--path GLOB]\n"
	    "       greyproxy rule list\n"
	    "       greyproxy rule rm ID\n"
	    "Every form takes --data-dir DIR.\n"
	    "PATTERN: host, *.domain (subdomains), **.domain (domain and "
	    "subdomains),\n"
	    "         a glob, ADDR/PREFIX, or * for any host.  PORTS: *, N, "
	    "N-M or a list.\n"
	    "--method and --path make a request rule: it judges each HTTP "
	    "request\n"
	    "(plain or intercepted), never a connection.\n"));
}

/* Opens DIR's database for a command run beside (or without) the
 * server; 0, or -1 after a message naming cmd. */
int
gp_cli_open_store(const char *cmd, const char *dir, struct gp_store **st)
{
	char	*path, *err = NULL;
	int	 rc;

	if ((rc = gp_data_dir_prepare(dir)) != 0) {
		fprintf(stderr, _("greyproxy %s: data directory %s: %s\n"),
		    cmd, dir, strerror(-rc));
		return -1;
	}
	gp_xasprintf(&path, "%s/greyproxy.db", dir);
	rc = gp_store_open(path, st, &err);
	if (rc != 0)
		fprintf(stderr, "greyproxy %s: %s\n", cmd, err);
	free(err);
	free(path);
	return rc;
}

static int
rule_list(struct gp_store *st)
{
	struct gp_rule	*v;
	size_t		 n, i;
	char		 exp[21], *who, *dest, *ports, *path;
	int		 req;

	if (gp_store_rules_load(st, &v, &n) != 0)
		return 1;
	printf("%-6s %-6s %-12s %-32s %-12s %-20s %s\n", "ID", "ACTION",
	    "CONTAINER", "DESTINATION", "PORTS", "EXPIRES", "REQUEST");
	for (i = 0; i < n; i++) {
		if (v[i].expires_at)
			gp_time_format_rfc3339(v[i].expires_at, exp);
		req = gp_rule_is_request(&v[i]);
		who = gp_text_padded(v[i].container, 12);
		dest = gp_text_padded(v[i].dest, 32);
		ports = gp_text_padded(v[i].ports, 12);
		path = gp_text_padded(req ? v[i].path : "", 0);
		printf("%-6lld %-6s %s %s %s %-20s %s%s%s\n",
		    (long long)v[i].id, v[i].action == GP_DENY ? "deny" :
		    "allow", who, dest, ports, v[i].expires_at ? exp : "never",
		    req ? v[i].method : "-", req ? " " : "", path);
		free(who);
		free(dest);
		free(ports);
		free(path);
	}
	gp_store_rules_free(v, n);
	return 0;
}

int
gp_cmd_rule(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "container", required_argument, NULL, 'c' },
		{ "expires", required_argument, NULL, 'e' },
		{ "notes", required_argument, NULL, 'n' },
		{ "method", required_argument, NULL, 'm' },
		{ "path", required_argument, NULL, 'P' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct gp_rule	 r;
	struct gp_store	*st = NULL;
	char		*dir = NULL, *end;
	const char	*sub, *why;
	long long	 expires = 0, id;
	int		 ch, rc = 2, existed;

	memset(&r, 0, sizeof r);
	gp_log_level = GP_LOG_WARN;	/* a CLI prints results, not progress */
	opterr = 0;
	optind = 1;
	/* Permute so flags may follow the positional words. */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': free(r.ports); r.ports = gp_xstrdup(optarg); break;
		case 'c':
			free(r.container);
			r.container = gp_xstrdup(optarg);
			break;
		case 'n': free(r.notes); r.notes = gp_xstrdup(optarg); break;
		case 'm': free(r.method); r.method = gp_xstrdup(optarg); break;
		case 'P': free(r.path); r.path = gp_xstrdup(optarg); break;
		case 'd': free(dir); dir = gp_xstrdup(optarg); break;
		case 'e':
			expires = strtoll(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || expires <= 0) {
				fprintf(stderr, _("greyproxy rule: --expires "
				    "needs a positive number of seconds\n"));
				goto out;
			}
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		default:
			fprintf(stderr, _("greyproxy rule: option '%s' is "
			    "unknown or needs a value\n"), argv[optind - 1]);
			goto out;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		goto out;
	}
	sub = argv[optind++];
	if (dir == NULL)
		dir = gp_data_dir_default();

	if (strcmp(sub, "list") == 0 && optind == argc) {
		if (gp_cli_open_store("rule", dir, &st) != 0) {
			rc = 1;
			goto out;
		}
		rc = rule_list(st);
	} else if (strcmp(sub, "add") == 0 && optind + 2 == argc) {
		const char *action = argv[optind];

		if (strcmp(action, "allow") != 0 && strcmp(action, "deny")) {
			fprintf(stderr, _("greyproxy rule add: action must be "
			    "allow or deny, not '%s'\n"), action);
			goto out;
		}
		r.action = strcmp(action, "deny") == 0 ? GP_DENY : GP_ALLOW;
		r.dest = gp_xstrdup(argv[optind + 1]);
		r.created_by = gp_xstrdup("cli");
		if (expires > 0)
			r.expires_at = gp_later(expires);
		if (gp_rule_prepare(&r, &why) != 0) {
			fprintf(stderr, "greyproxy rule add: %s\n", why);
			goto out;
		}
		if (gp_cli_open_store("rule", dir, &st) != 0 ||
		    gp_store_rule_add(st, &r, &existed) != 0) {
			rc = 1;
			goto out;
		}
		printf(existed ? _("rule %lld already exists: %s %s port %s\n")
		    : _("rule %lld added: %s %s port %s\n"), (long long)r.id,
		    r.action == GP_DENY ? "deny" : "allow", r.dest, r.ports);
		rc = 0;
	} else if ((strcmp(sub, "rm") == 0 || strcmp(sub, "delete") == 0) &&
	    optind + 1 == argc) {
		id = strtoll(argv[optind], &end, 10);
		if (*argv[optind] == '\0' || *end != '\0' || id <= 0) {
			fprintf(stderr, _("greyproxy rule rm: '%s' is not a "
			    "rule id\n"), argv[optind]);
			goto out;
		}
		if (gp_cli_open_store("rule", dir, &st) != 0) {
			rc = 1;
			goto out;
		}
		rc = gp_store_rule_delete(st, id);
		if (rc == 0)
			fprintf(stderr, _("greyproxy rule rm: no rule %lld\n"),
			    id);
		else if (rc > 0)
			printf(_("rule %lld deleted\n"), id);
		rc = rc > 0 ? 0 : 1;
	} else {
		usage(stderr);
	}
out:
	gp_store_close(st);
	gp_rule_clear(&r);
	free(dir);
	return rc;
}
