/* config.c: flags shared by serve and tui; the data directory. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "core/core.h"
#include "net/net.h"

enum { O_HTTP = 256, O_SOCKS, O_DNS, O_API, O_DATA, O_NONLOOP, O_LOG,
	O_DNSUP, O_CONNTO, O_IDLETO, O_HEADTO, O_HELP, O_ATTACH, O_STANDALONE, O_DAEMON };

static const struct option options[] = {
	{ "http", required_argument, NULL, O_HTTP },
	{ "socks", required_argument, NULL, O_SOCKS },
	{ "dns", required_argument, NULL, O_DNS },
	{ "api", required_argument, NULL, O_API },
	{ "data-dir", required_argument, NULL, O_DATA },
	{ "allow-non-loopback", no_argument, NULL, O_NONLOOP },
	{ "log-level", required_argument, NULL, O_LOG },
	{ "dns-upstream", required_argument, NULL, O_DNSUP },
	{ "connect-timeout", required_argument, NULL, O_CONNTO },
	{ "idle-timeout", required_argument, NULL, O_IDLETO },
	{ "header-timeout", required_argument, NULL, O_HEADTO },
	{ "help", no_argument, NULL, O_HELP },
	{ "attach", required_argument, NULL, O_ATTACH },
	{ "standalone", no_argument, NULL, O_STANDALONE },
	{ "daemon", no_argument, NULL, O_DAEMON },
	{ NULL, 0, NULL, 0 }
};

void
gp_config_usage(const char *cmd)
{
	printf(_("Usage: greyproxy %s [options]\n"
	    "\n"
	    "  --http ADDR            HTTP proxy listener (127.0.0.1:43051)\n"
	    "  --socks ADDR           SOCKS5 listener (127.0.0.1:43052)\n"
	    "  --dns ADDR             DNS listener (127.0.0.1:43053)\n"
	    "  --api ADDR             REST API listener (127.0.0.1:43080)\n"
	    "  --data-dir DIR         state directory "
	    "(~/.local/share/greyproxy)\n"
	    "  --allow-non-loopback   permit listeners on non-loopback "
	    "addresses\n"
	    "  --dns-upstream ADDR    resolver to use instead of "
	    "/etc/resolv.conf\n"
	    "  --connect-timeout SEC  per-address connect timeout (10)\n"
	    "  --idle-timeout SEC     close connections idle this long "
	    "(300)\n"
	    "  --header-timeout SEC   whole time a request head or "
	    "handshake may take (30)\n"
	    "  --log-level LEVEL      error, warn, info or debug (info)\n"
	    "  --help                 show this help\n"), cmd);
	if (strcmp(cmd, "tui") == 0)
		printf("%s", _("  --attach URL           attach to a running "
		    "greyproxy's API\n"
		    "  --standalone           run the proxy in this process, "
		    "never attach\n"
		    "  --daemon               start the proxy as 'serve --daemon' "
		    "would (unless one\n"
		    "                         holds the data directory) and "
		    "attach to it; it keeps\n"
		    "                         running when the interface quits\n"
		    "\nWithout these, tui attaches when a greyproxy answers on "
		    "the --api address\nand otherwise runs the proxy itself.\n"));
	else
		printf("%s", _("  --daemon               detach: log to "
		    "DIR/greyproxy.log, pid in DIR/greyproxy.pid\n"));
	printf("%s", _("\nADDR is IP:PORT or [IPv6]:PORT; port 0 picks a free "
	    "port.\n"));
}

char *
gp_data_dir_default(void)
{
	const char	*v;
	char		*out;

	if ((v = getenv("GREYPROXY_DATA_HOME")) != NULL && *v != '\0')
		return gp_xstrdup(v);
	if ((v = getenv("XDG_DATA_HOME")) != NULL && *v == '/') {
		gp_xasprintf(&out, "%s/greyproxy", v);
		return out;
	}
	if ((v = getenv("HOME")) != NULL && *v != '\0') {
		gp_xasprintf(&out, "%s/.local/share/greyproxy", v);
		return out;
	}
	return gp_xstrdup(".");
}

int
gp_data_dir_prepare(const char *dir)
{
	char	path[PATH_MAX];
	size_t	i, n = strlen(dir);

	if (n == 0 || n >= sizeof path)
		return -ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, i == n ? 0700 : 0755) != 0 && errno != EEXIST)
			return -errno;
		path[i] = dir[i];
	}
	return 0;
}

/* The pid a lock holder wrote into the lock file, or 0. */
static long
lock_holder(int fd)
{
	char	buf[32];
	ssize_t	n = pread(fd, buf, sizeof buf - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

int
gp_data_dir_lock(const char *dir, int *fdp, long *holder)
{
	char	*path, buf[32];
	int	 fd;

	*fdp = -1;
	*holder = 0;
	gp_xasprintf(&path, "%s/greyproxy.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		*holder = lock_holder(fd);
		close(fd);
		return e == EWOULDBLOCK ? -EWOULDBLOCK : -e;
	}
	snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 ||
	    pwrite(fd, buf, strlen(buf), 0) != (ssize_t)strlen(buf))
		gp_log(GP_LOG_WARN, "cannot write the lock file's pid");
	*fdp = fd;
	return 0;
}

int
gp_data_dir_in_use(const char *dir, long *holder)
{
	int	fd, rc = gp_data_dir_lock(dir, &fd, holder);

	if (rc == 0)
		close(fd);
	return rc == -EWOULDBLOCK;
}

static void
set(char **dst, const char *v)
{
	free(*dst);
	*dst = gp_xstrdup(v);
}

static int
seconds(const char *cmd, const char *opt, const char *v, unsigned *out)
{
	char	*end;
	long	 n = strtol(v, &end, 10);

	if (*v == '\0' || *end != '\0' || n <= 0 || n > 86400) {
		fprintf(stderr, _("greyproxy %s: %s needs a number of seconds "
		    "(1-86400), not '%s'\n"), cmd, opt, v);
		return -1;
	}
	*out = (unsigned)n * 1000;
	return 0;
}

/* Checks one listener address: syntax, and the loopback clamp. */
static int
check_addr(const struct gp_config *c, const char *cmd, const char *flag,
    const char *v)
{
	struct sockaddr_storage	 ss;
	const char		*why;

	if (gp_addr_parse(v, &ss, &why) != 0) {
		fprintf(stderr, _("greyproxy %s: --%s %s: %s\n"), cmd, flag, v,
		    why);
		return -1;
	}
	if (!c->allow_non_loopback &&
	    !gp_addr_is_loopback((struct sockaddr *)&ss)) {
		fprintf(stderr, _("greyproxy %s: --%s %s is not a loopback "
		    "address; add --allow-non-loopback to expose it\n"), cmd,
		    flag, v);
		return -1;
	}
	return 0;
}

int
gp_config_parse(struct gp_config *c, const char *cmd, int argc, char **argv)
{
	int	ch, lvl;

	memset(c, 0, sizeof *c);
	c->http_addr = gp_xstrdup("127.0.0.1:43051");
	c->socks_addr = gp_xstrdup("127.0.0.1:43052");
	c->dns_addr = gp_xstrdup("127.0.0.1:43053");
	c->api_addr = gp_xstrdup("127.0.0.1:43080");
	c->log_level = GP_LOG_INFO;
	c->connect_timeout_ms = 10000;
	c->idle_timeout_ms = 300000;
	c->header_timeout_ms = 30000;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		switch (ch) {
		case O_HTTP: set(&c->http_addr, optarg); break;
		case O_SOCKS: set(&c->socks_addr, optarg); break;
		case O_DNS: set(&c->dns_addr, optarg); break;
		case O_API: set(&c->api_addr, optarg); break;
		case O_DATA: set(&c->data_dir, optarg); break;
		case O_DNSUP: set(&c->dns_upstream, optarg); break;
		case O_NONLOOP: c->allow_non_loopback = 1; break;
		case O_LOG:
			if ((lvl = gp_log_parse_level(optarg)) < 0) {
				fprintf(stderr, _("greyproxy %s: unknown log "
				    "level '%s'\n"), cmd, optarg);
				return 2;
			}
			c->log_level = lvl;
			break;
		case O_CONNTO:
			if (seconds(cmd, "--connect-timeout", optarg,
			    &c->connect_timeout_ms) != 0)
				return 2;
			break;
		case O_IDLETO:
			if (seconds(cmd, "--idle-timeout", optarg,
			    &c->idle_timeout_ms) != 0)
				return 2;
			break;
		case O_HEADTO:
			if (seconds(cmd, "--header-timeout", optarg,
			    &c->header_timeout_ms) != 0)
				return 2;
			break;
		case O_HELP:
			gp_config_usage(cmd);
			return 1;
		case O_ATTACH:
		case O_STANDALONE:
			if (strcmp(cmd, "tui") != 0)
				goto only;
			if (ch == O_ATTACH)
				set(&c->attach, optarg);
			else
				c->standalone = 1;
			break;
		case O_DAEMON:		/* tui: starts one, attaches */
			if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "tui") != 0)
				goto only;
			c->daemon = 1;
			break;
		only:
			fprintf(stderr, _("greyproxy %s: option '%s' is not "
			    "for this command\n"), cmd, argv[optind - 1]);
			return 2;
		default:
			if (optopt != 0)
				fprintf(stderr, _("greyproxy %s: option '-%c' "
				    "is unknown or needs a value\n"), cmd,
				    optopt);
			else
				fprintf(stderr, _("greyproxy %s: option '%s' "
				    "is unknown or needs a value\n"), cmd,
				    argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, _("greyproxy %s: unexpected argument '%s'\n"),
		    cmd, argv[optind]);
		return 2;
	}
	if (check_addr(c, cmd, "http", c->http_addr) != 0 ||
	    check_addr(c, cmd, "socks", c->socks_addr) != 0 ||
	    check_addr(c, cmd, "dns", c->dns_addr) != 0 ||
	    check_addr(c, cmd, "api", c->api_addr) != 0)
		return 2;
	if ((c->attach != NULL) + c->standalone + c->daemon > 1) {
		fprintf(stderr, _("greyproxy %s: --attach, --standalone and "
		    "--daemon exclude each other\n"), cmd);
		return 2;
	}
	if (c->data_dir == NULL)
		c->data_dir = gp_data_dir_default();
	return 0;
}

void
gp_config_free(struct gp_config *c)
{
	free(c->data_dir);
	free(c->http_addr);
	free(c->socks_addr);
	free(c->dns_addr);
	free(c->api_addr);
	free(c->dns_upstream);
	free(c->attach);
	memset(c, 0, sizeof *c);
}
