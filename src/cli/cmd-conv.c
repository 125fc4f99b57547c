/*
 * cmd-conv.c: `greyproxy conversations list|show|export|rebuild`, on the
 * database through a connection of its own (beside a running server or
 * without one).  rebuild assembles every conversation again from the
 * stored transactions, as POST /api/maintenance/rebuild-conversations
 * does on the server's worker.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "conf/conf.h"
#include "core/core.h"
#include "ctl/ctl.h"
#include "dissect/dissect.h"
#include "store/store.h"

static void
usage(FILE *f)
{
	fprintf(f, "%s", _("Usage: greyproxy conversations list [--all] "
	    "[--data-dir DIR]\n"
	    "       greyproxy conversations show ID [--data-dir DIR]\n"
	    "       greyproxy conversations export ID [--format md|json] "
	    "[--data-dir DIR]\n"
	    "       greyproxy conversations rebuild [--data-dir DIR]\n"
	    "LLM conversations rebuilt from intercepted traffic: list them "
	    "(--all: with\nsub-agents and utility requests), show one as "
	    "JSON, export one as Markdown\n(the default) or JSON on standard "
	    "output, or rebuild them all from the\nstored transactions.\n"));
}

/* A string field, or "-". */
static const char *
field(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));

	return s != NULL ? s : "-";
}

/* Markdown for a terminal: each line made safe (gp_text_fit), tabs as
 * spaces.  To a file or a pipe it goes out as written (an export). */
static void
put_safe(const char *s, size_t n)
{
	struct gp_buf	 line = { 0 };
	char		*out, *p;
	size_t		 i, j;

	for (i = 0; i < n; i = j + 1) {
		for (j = i; j < n && s[j] != '\n'; j++)
			;
		line.len = 0;
		gp_buf_add(&line, s + i, j - i);
		gp_buf_add(&line, "", 1);
		for (p = line.data; *p != '\0'; p++)
			if (*p == '\t')
				*p = ' ';
		out = gp_xmalloc((j - i) * 8 + 16);
		gp_text_fit(out, (j - i) * 8 + 16, line.data, -1, 0);
		printf("%s%s", out, j < n ? "\n" : "");
		free(out);
	}
	gp_buf_free(&line);
}

static int
list(struct gp_store *st, int all)
{
	struct gp_conv_filter	 f = { 0 };
	cJSON			*o, *it;

	f.limit = 1000;
	f.utility = f.children = all;
	if ((o = gp_store_conv_list(st, &f)) == NULL)
		return 1;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(o, "items")) {
		char	cli[128], model[256], prompt[512];

		/* One line each, in columns; the model and the prompt are
		 * the client's text: shown, never obeyed by the terminal. */
		gp_text_fit(cli, sizeof cli, field(it, "client_name"), 12, 1);
		gp_text_fit(model, sizeof model, field(it, "model"), 24, 1);
		gp_text_fit(prompt, sizeof prompt, field(it, "first_prompt"), 60,
		    0);
		printf("%s  %s %s %3d  %s\n", field(it, "id"), cli, model,
		    cJSON_GetObjectItem(it, "turn_count") != NULL ?
		    cJSON_GetObjectItem(it, "turn_count")->valueint : 0, prompt);
	}
	cJSON_Delete(o);
	return 0;
}

static int
one(struct gp_store *st, const char *id, int markdown)
{
	cJSON		*o = gp_store_conv_detail(st, id);
	struct gp_buf	 b = { 0 };
	char		*s;

	if (o == NULL) {
		fprintf(stderr, _("greyproxy conversations: no conversation "
		    "%s\n"), id);
		return 1;
	}
	if (markdown) {
		gp_conv_markdown(o, &b);
		if (isatty(STDOUT_FILENO))
			put_safe(b.data, b.len);
		else
			fwrite(b.data, 1, b.len, stdout);
		gp_buf_free(&b);
	} else {
		s = cJSON_Print(o);
		printf("%s\n", s);
		cJSON_free(s);
	}
	cJSON_Delete(o);
	return 0;
}

static int
rebuild(struct gp_store *st)
{
	struct gp_conv_env	*env = NULL;
	struct gp_conv_step_in	 in = { .enabled = 1, .rebuild = 1,
	    .rules_gen = 1 };
	struct gp_conv_step_out	 out;
	int64_t			 done = 0, left;
	int			 rc;

	do {
		if ((rc = gp_conv_step(&env, st, &in, &out)) != 0) {
			fprintf(stderr, _("greyproxy conversations: rebuild "
			    "failed after %lld transactions\n"),
			    (long long)done);
			gp_conv_env_free(env);
			return 1;
		}
		in.rebuild = 0;
		done += out.processed;
		left = out.remaining;
		gp_conv_step_out_free(&out);
	} while (left > 0);
	gp_conv_env_free(env);
	printf(_("conversations rebuilt from %lld transactions\n"),
	    (long long)done);
	return 0;
}

int
gp_cmd_conv(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct gp_store	*st = NULL;
	char		*dir = NULL;
	const char	*cmd, *format = "md";
	int		 ch, rc = 2, all = 0, need_id;

	gp_log_level = GP_LOG_WARN;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': free(dir); dir = gp_xstrdup(optarg); break;
		case 'f': format = optarg; break;
		case 'a': all = 1; break;
		case 'h': usage(stdout); rc = 0; goto out;
		default:
			fprintf(stderr, _("greyproxy conversations: option "
			    "'%s' is unknown or needs a value\n"),
			    argv[optind - 1]);
			goto out;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		goto out;
	}
	cmd = argv[optind];
	need_id = strcmp(cmd, "show") == 0 || strcmp(cmd, "export") == 0;
	if ((need_id ? optind + 2 : optind + 1) != argc ||
	    (!need_id && strcmp(cmd, "list") != 0 &&
	    strcmp(cmd, "rebuild") != 0) ||
	    (strcmp(format, "md") != 0 && strcmp(format, "json") != 0)) {
		usage(stderr);
		goto out;
	}
	if (dir == NULL)
		dir = gp_data_dir_default();
	if (gp_cli_open_store("conversations", dir, &st) != 0) {
		rc = 1;
		goto out;
	}
	if (strcmp(cmd, "list") == 0)
		rc = list(st, all);
	else if (strcmp(cmd, "rebuild") == 0)
		rc = rebuild(st);
	else
		rc = one(st, argv[optind + 1], strcmp(cmd, "export") == 0 &&
		    strcmp(format, "md") == 0);
out:
	gp_store_close(st);
	free(dir);
	return rc;
}
