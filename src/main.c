/*
 * main.c: the composition root: locale, then the command table.
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/core.h"
#include "tui/tui.h"

const struct gp_cmd gp_cmds[] = {
	{ "tui", gp_cmd_tui, N_("the terminal interface (runs or attaches to "
	    "the proxy)") },
	{ "serve", gp_cmd_serve, N_("run the proxy headless") },
	{ "rule", gp_cmd_rule, N_("add, list or remove rules") },
	{ "dns", gp_cmd_dns, N_("flush or show the DNS cache") },
	{ "logs", gp_cmd_logs, N_("prune the connection log") },
	{ "conversations", gp_cmd_conv, N_("list, show, export or rebuild "
	    "LLM conversations") },
	{ "cert", gp_cmd_cert, N_("the CA for HTTPS interception: generate, "
	    "show, reload, install") },
	{ "version", gp_cmd_version, N_("print the version") },
	{ NULL, NULL, NULL }
};

static void
usage(FILE *out)
{
	const struct gp_cmd *c;
	int w = 0;

	for (c = gp_cmds; c->name != NULL; c++)
		if ((int)strlen(c->name) > w)
			w = (int)strlen(c->name);
	fprintf(out, _("Usage: greyproxy COMMAND [options]\n\nCommands:\n"));
	for (c = gp_cmds; c->name != NULL; c++)
		fprintf(out, "  %-*s  %s\n", w, c->name, _(c->help));
	fprintf(out, _("\nRun 'greyproxy COMMAND --help' for a command's "
	    "options.\n"));
}

int
gp_cmd_version(int argc, char **argv)
{
	printf("greyproxy %s\n", PACKAGE_VERSION);
	return 0;
}

int
main(int argc, char **argv)
{
	const struct gp_cmd *c;

	setlocale(LC_ALL, "");
#ifdef ENABLE_NLS
	{
		/* GREYPROXY_LOCALEDIR: catalogues from a build tree (tests). */
		const char *dir = getenv("GREYPROXY_LOCALEDIR");

		bindtextdomain(PACKAGE, dir && *dir ? dir : LOCALEDIR);
		textdomain(PACKAGE);
	}
#endif
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return gp_cmd_version(0, NULL);
	for (c = gp_cmds; c->name != NULL; c++)
		if (strcmp(argv[1], c->name) == 0)
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, _("greyproxy: unknown command '%s'\n"), argv[1]);
	usage(stderr);
	return 2;
}
