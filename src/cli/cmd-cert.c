/*
 * cmd-cert.c: `greyproxy cert generate|show|reload|install|uninstall`:
 * the CA in the data directory, the running instance asked to load it
 * again, and the Debian trust store (update-ca-certificates).
 *
 * The trust store: gp_ca_gp_ca_trust_dir() (mitm.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "conf/conf.h"
#include "core/core.h"
#include "mitm/mitm.h"
#include "net/net.h"


static void
usage(void)
{
	fprintf(stderr, "%s", _("Usage: greyproxy cert generate [--force] "
	    "[--data-dir DIR]\n"
	    "       greyproxy cert show|reload|install|uninstall "
	    "[--data-dir DIR]\n"));
}

static void
print_info(const struct gp_ca_info *i)
{
	char		when[32];
	time_t		t = (time_t)i->not_after;
	struct tm	tm;

	if (!i->present) {
		printf(_("no CA in %s\n  create one: greyproxy cert generate\n"),
		    i->cert_path);
		return;
	}
	if (!i->valid) {
		printf(_("CA in %s cannot be used: %s\n  replace it: greyproxy "
		    "cert generate --force\n"), i->cert_path, i->error);
		return;
	}
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC",
	    gmtime_r(&t, &tm));
	printf(_("certificate: %s\nkey:         %s\nsubject:     %s\n"
	    "sha256:      %s\nexpires:     %s\ntrusted:     %s\n"),
	    i->cert_path, i->key_path, i->subject, i->sha256, when,
	    gp_ca_installed(i) ? _("yes, by the system store") :
	    _("not by the system store (greyproxy cert install)"));
}

/* Asks a running instance to load the CA again; 0 when it did or
 * nothing runs (nothing to do), 1 when it refused. */
static int
reload_running(const struct gp_config *cfg, int quiet)
{
	char		api[GP_ADDR_STRLEN];
	struct gp_buf	body = { 0 };
	int		status;

	status = gp_cli_api_call(gp_cli_api_addr(cfg, api, sizeof api),
	    "POST", "/api/cert/reload", &body);
	if (status == 200 && !quiet)
		printf(_("greyproxy on %s loaded it\n"), api);
	else if (status < 0 && !quiet)
		printf(_("no greyproxy answers on %s: it loads the CA when it "
		    "starts\n"), api);
	else if (status >= 300)
		fprintf(stderr, _("greyproxy cert: the running instance "
		    "refused it (%d): %.*s\n"), status, (int)body.len,
		    body.data ? body.data : "");
	gp_buf_free(&body);
	return status >= 300 ? 1 : 0;
}

static int
run(const char *argv0, const char *cmd)
{
	pid_t	pid;
	int	st;

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		execlp("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
copy_file(const char *from, const char *to, char **err)
{
	FILE	*in = fopen(from, "re"), *out = NULL;
	char	 buf[8192], *tmp;
	size_t	 n;
	int	 rc = 0;

	gp_xasprintf(&tmp, "%s.tmp", to);
	if (in == NULL || (out = fopen(tmp, "we")) == NULL)
		rc = -errno;
	while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -errno;
	if (out != NULL && fclose(out) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && (chmod(tmp, 0644) != 0 || rename(tmp, to) != 0))
		rc = -errno;
	if (rc != 0) {
		gp_xasprintf(err, "%s: %s", to, strerror(-rc));
		unlink(tmp);
	}
	if (in != NULL)
		fclose(in);
	free(tmp);
	return rc;
}

static int
install(const struct gp_ca_info *i, int on)
{
	char	*dest, *err = NULL;
	int	 rc;

	gp_xasprintf(&dest, "%s/%s", gp_ca_trust_dir(), GP_CA_TRUST_NAME);
	if (access(gp_ca_trust_dir(), W_OK) != 0) {
		fprintf(stderr, _("greyproxy cert: cannot write %s (%s).\n"
		    "Run it with the rights it needs:\n"), gp_ca_trust_dir(),
		    strerror(errno));
		if (on)
			fprintf(stderr, "  sudo install -m 0644 %s %s && sudo "
			    "%s\n", i->cert_path, dest, gp_ca_trust_update());
		else
			fprintf(stderr, "  sudo rm -f %s && sudo %s --fresh\n",
			    dest, gp_ca_trust_update());
		fprintf(stderr, "%s", _("Or trust it for one tool only: "
		    "NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, REQUESTS_CA_BUNDLE "
		    "or CODEX_CA_CERTIFICATE naming ca-cert.pem.\n"));
		free(dest);
		return 1;
	}
	if (on)
		rc = copy_file(i->cert_path, dest, &err);
	else
		rc = unlink(dest) == 0 || errno == ENOENT ? 0 : -errno;
	if (rc != 0) {
		fprintf(stderr, "greyproxy cert: %s\n", err ? err :
		    strerror(-rc));
		free(err);
		free(dest);
		return 1;
	}
	rc = run("greyproxy", gp_ca_trust_update());
	if (rc != 0)
		fprintf(stderr, _("greyproxy cert: %s failed (%d)\n"),
		    gp_ca_trust_update(), rc);
	else
		printf(on ? _("installed %s\n") : _("removed %s\n"), dest);
	free(dest);
	return rc != 0;
}

int
gp_cmd_cert(int argc, char **argv)
{
	struct gp_config	 cfg;
	struct gp_ca_info	 info;
	const char		*sub;
	char			*err = NULL, **args;
	int			 i, n = 0, force = 0, rc;

	if (argc < 2) {
		usage();
		return 2;
	}
	sub = argv[1];
	/* --force is ours; the rest are the shared flags. */
	args = gp_xcalloc((size_t)argc + 1, sizeof *args);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0 ||
		    strcmp(argv[i], "-f") == 0)
			force = 1;
		else
			args[n++] = argv[i];
	}
	gp_log_level = GP_LOG_WARN;
	rc = gp_config_parse(&cfg, "cert", n, args);
	free(args);
	if (rc != 0) {
		gp_config_free(&cfg);
		return rc == 1 ? 0 : 2;
	}
	if (strcmp(sub, "generate") == 0) {
		if ((rc = gp_ca_generate(cfg.data_dir, force, &err)) != 0) {
			fprintf(stderr, "greyproxy cert: %s\n", err);
			rc = 1;
		} else {
			gp_ca_inspect(cfg.data_dir, &info);
			printf("%s", _("generated a new CA\n"));
			print_info(&info);
			printf(_("trust it: greyproxy cert install, or "
			    "NODE_EXTRA_CA_CERTS=%s for one tool\n"),
			    info.cert_path);
			rc = reload_running(&cfg, 0);
		}
	} else if (strcmp(sub, "show") == 0) {
		gp_ca_inspect(cfg.data_dir, &info);
		print_info(&info);
		rc = info.valid ? 0 : 1;
	} else if (strcmp(sub, "reload") == 0) {
		rc = reload_running(&cfg, 0);
	} else if (strcmp(sub, "install") == 0 ||
	    strcmp(sub, "uninstall") == 0) {
		gp_ca_inspect(cfg.data_dir, &info);
		if (strcmp(sub, "install") == 0 && !info.valid) {
			print_info(&info);
			rc = 1;
		} else
			rc = install(&info, strcmp(sub, "install") == 0);
	} else {
		usage();
		rc = 2;
	}
	free(err);
	gp_config_free(&cfg);
	return rc;
}
