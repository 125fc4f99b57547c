/* addr.c: socket address parsing and formatting. */
#include "config.h"

#include <sys/resource.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "net/net.h"

int
gp_addr_parse(const char *s, struct sockaddr_storage *ss, const char **why)
{
	char		 host[64];
	const char	*colon, *hp = s;
	size_t		 hn;
	char		*end;
	long		 port;

	memset(ss, 0, sizeof *ss);
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':') {
			*why = "expected [IPv6]:PORT";
			return -1;
		}
		hp = s + 1;
		hn = (size_t)(rb - hp);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s))) {
			*why = "expected HOST:PORT";
			return -1;
		}
		hn = (size_t)(colon - s);
	}
	if (colon[1] == '\0') {
		*why = "missing port";
		return -1;
	}
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 0 || port > 65535) {
		*why = "invalid port";
		return -1;
	}
	if (hn >= sizeof host) {
		*why = "invalid address";
		return -1;
	}
	memcpy(host, hp, hn);
	host[hn] = '\0';
	if (hn == 0 || strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr)
	    == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host,
	    &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	*why = "listen address must be an IP literal";
	return -1;
}

void
gp_addr_ip(const struct sockaddr *sa, char *out, size_t n)
{
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    out, (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
		    (socklen_t)n);
	else
		snprintf(out, n, "?");
}

unsigned
gp_addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

void
gp_addr_format(const struct sockaddr *sa, char *out, size_t n)
{
	char	ip[INET6_ADDRSTRLEN];

	gp_addr_ip(sa, ip, sizeof ip);
	snprintf(out, n, sa->sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
	    gp_addr_port(sa));
}

int
gp_addr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			return 1;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			return sin6->sin6_addr.s6_addr[12] == 127;
	}
	return 0;
}

int
gp_listen_tcp(uv_loop_t *loop, uv_tcp_t *tcp, const struct sockaddr *sa,
    uv_connection_cb cb, struct sockaddr_storage *bound)
{
	int	rc, len = sizeof *bound;

	if ((rc = uv_tcp_init(loop, tcp)) != 0)
		return rc;
	if ((rc = uv_tcp_bind(tcp, sa, 0)) != 0 ||
	    (rc = uv_listen((uv_stream_t *)tcp, 511, cb)) != 0 ||
	    (rc = uv_tcp_getsockname(tcp, (struct sockaddr *)bound, &len))
	    != 0)
		return rc;	/* the caller closes the handle */
	return 0;
}

/*
 * Descriptor exhaustion episodes: one process, one loop thread.  libuv
 * answers EMFILE on accept by accepting and closing the waiting
 * connections itself (its "EMFILE trick") without telling us, so an
 * episode is also seen from our side: an accepted descriptor within
 * FD_MARGIN of the limit means the next connections are being refused.
 */
#define FD_MARGIN	8
#define FD_RESERVE	65536	/* a table of 512 KiB of kernel memory */

static uint64_t	accept_total, accept_episode;
static uint64_t	accept_reported_ms;
static long	fd_limit;

static void
episode(const char *listener, const char *why)
{
	uint64_t now = gp_now_ms();

	accept_total++;
	if (accept_episode++ == 0) {
		gp_log(GP_LOG_ERROR, "%s: cannot accept connections: %s",
		    listener, why);
		accept_reported_ms = now;
	} else if (now - accept_reported_ms >= 10000) {
		gp_log(GP_LOG_ERROR, "%s: still cannot accept (%s): %llu "
		    "times so far", listener, why,
		    (unsigned long long)accept_episode);
		accept_reported_ms = now;
	}
}

void
gp_net_accept_failed(const char *listener, int status)
{
	char	why[160];

	snprintf(why, sizeof why, "%s%s", uv_strerror(status),
	    status == UV_EMFILE || status == UV_ENFILE ? " (out of file "
	    "descriptors; raise ulimit -n)" : "");
	episode(listener, why);
}

void
gp_net_accepted(const char *listener, uv_stream_t *client)
{
	uv_os_fd_t	fd;

	if (fd_limit == 0) {
		struct rlimit rl;

		fd_limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 1L << 30 ?
		    (long)rl.rlim_cur : 1L << 30;
	}
	if (uv_fileno((uv_handle_t *)client, &fd) != 0)
		return;
	if (fd >= fd_limit - FD_MARGIN) {
		char why[160];

		snprintf(why, sizeof why, "out of file descriptors (%ld of "
		    "%ld in use); new connections are refused; raise ulimit "
		    "-n", (long)fd + 1, fd_limit);
		episode(listener, why);
		return;
	}
	if (accept_episode == 0 || fd >= fd_limit - 4 * FD_MARGIN)
		return;
	gp_log(GP_LOG_WARN, "accepting connections again after %llu "
	    "failures", (unsigned long long)accept_episode);
	accept_episode = 0;
}

long
gp_net_reserve_fds(void)
{
	struct rlimit	rl;
	rlim_t		n;
	int		fd = -1, std;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t cur = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			rl.rlim_cur = cur;
	}
	fd_limit = rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 1L << 30 ?
	    (long)rl.rlim_cur : 1L << 30;
	n = (rlim_t)fd_limit < FD_RESERVE ? (rlim_t)fd_limit : FD_RESERVE;
	/* The table grows to hold the highest descriptor asked for. */
	for (std = 0; n > 1 && std <= 2 && fd < 0; std++)
		fd = fcntl(std, F_DUPFD_CLOEXEC, (int)n - 1);
	if (fd >= 0)
		close(fd);
	return fd_limit;
}

uint64_t
gp_net_accept_failures(void)
{
	return accept_total;
}
