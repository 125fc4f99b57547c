/*
 * tls-load.c: HTTPS through an intercepting proxy, for bench/run.sh.
 *
 *   tls-load --proxy HOST:PORT --target NAME:PORT --cafile CA
 *            [--keepalive] [-c N] [-d SECONDS] [--path /p]
 *
 * N threads, each with blocking sockets: CONNECT through the proxy, a
 * TLS handshake that verifies the certificate against CA for NAME, then
 * GET path and read the whole response (Content-Length).  Fresh: one GET
 * per connection (handshake included in each timing).  --keepalive: one
 * connection per thread, GETs on it.  Prints one line:
 *   rate <ops/s> p50_us <µs> p99_us <µs> ops <n> errors <n>
 * Figures, not assertions: the harness compares them within one run.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAXLAT	(4 * 1024 * 1024)

static struct sockaddr_in	 proxy;
static char			 name[256], path[256] = "/hello";
static int			 port, conns = 4, keepalive;
static double			 secs = 5;
static SSL_CTX			*ctx;
static volatile int		 stop;
static pthread_mutex_t		 mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t			*lat;
static size_t			 nlat;
static unsigned long		 errors;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
record(uint64_t ns, int ok)
{
	pthread_mutex_lock(&mu);
	if (!ok)
		errors++;
	else if (nlat < MAXLAT)
		lat[nlat++] = ns;
	pthread_mutex_unlock(&mu);
}

/* A socket through the proxy's tunnel to name:port; -1 on failure. */
static int
tunnel(void)
{
	char	buf[1024];
	int	fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, n, len = 0;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&proxy, sizeof proxy) != 0)
		goto fail;
	n = snprintf(buf, sizeof buf, "CONNECT %s:%d HTTP/1.1\r\nHost: "
	    "%s:%d\r\n\r\n", name, port, name, port);
	if (write(fd, buf, (size_t)n) != n)
		goto fail;
	while (len < (int)sizeof buf - 1) {
		if ((n = (int)read(fd, buf + len, 1)) <= 0)
			goto fail;
		len += n;
		buf[len] = '\0';
		if (len >= 4 && strcmp(buf + len - 4, "\r\n\r\n") == 0)
			break;
	}
	if (strncmp(buf, "HTTP/1.1 200", 12) != 0 &&
	    strncmp(buf, "HTTP/1.0 200", 12) != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* One GET on ssl, the whole response read; 0 or -1. */
static int
get(SSL *ssl)
{
	char	req[512], buf[16384], *h;
	int	n, len = 0, body = -1, hl = 0;

	n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n",
	    path, name);
	if (SSL_write(ssl, req, n) != n)
		return -1;
	for (;;) {
		if ((n = SSL_read(ssl, buf + (len < (int)sizeof buf - 1 ? len :
		    0), (int)sizeof buf - 1 - (len < (int)sizeof buf - 1 ?
		    len : 0))) <= 0)
			return -1;
		if (body < 0) {
			len += n;
			buf[len] = '\0';
			if ((h = strstr(buf, "\r\n\r\n")) == NULL)
				continue;
			hl = (int)(h + 4 - buf);
			h = strcasestr(buf, "\r\nContent-Length:");
			body = h != NULL && h < buf + hl ? atoi(h + 17) : 0;
			if (len - hl >= body)
				return 0;
			body -= len - hl;
			len = sizeof buf;	/* the rest: counted only */
		} else {
			body -= n;
			if (body <= 0)
				return 0;
		}
	}
}

static SSL *
handshake(int fd)
{
	SSL *ssl = SSL_new(ctx);

	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, name);
	SSL_set1_host(ssl, name);
	if (SSL_connect(ssl) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

static void *
worker(void *arg)
{
	SSL		*ssl = NULL;
	int		 fd = -1, ok;
	uint64_t	 t0;

	while (!stop) {
		t0 = now_ns();
		if (ssl == NULL) {
			if ((fd = tunnel()) < 0 || (ssl = handshake(fd)) ==
			    NULL) {
				if (fd >= 0)
					close(fd);
				fd = -1;
				record(0, 0);
				continue;
			}
		}
		ok = get(ssl) == 0;
		if (!ok || !keepalive) {
			SSL_free(ssl);
			close(fd);
			ssl = NULL;
			fd = -1;
		}
		record(now_ns() - t0, ok);
	}
	if (ssl != NULL) {
		SSL_free(ssl);
		close(fd);
	}
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	const char	*cafile = NULL, *p;
	char		 host[64];
	pthread_t	*th;
	uint64_t	 t0;
	double		 el;
	int		 i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--proxy") == 0 && i + 1 < argc) {
			p = strrchr(argv[++i], ':');
			snprintf(host, sizeof host, "%.*s", (int)(p - argv[i]),
			    argv[i]);
			proxy.sin_family = AF_INET;
			proxy.sin_port = htons((uint16_t)atoi(p + 1));
			inet_pton(AF_INET, host, &proxy.sin_addr);
		} else if (strcmp(argv[i], "--target") == 0 && i + 1 < argc) {
			p = strrchr(argv[++i], ':');
			snprintf(name, sizeof name, "%.*s", (int)(p - argv[i]),
			    argv[i]);
			port = atoi(p + 1);
		} else if (strcmp(argv[i], "--cafile") == 0 && i + 1 < argc)
			cafile = argv[++i];
		else if (strcmp(argv[i], "--path") == 0 && i + 1 < argc)
			snprintf(path, sizeof path, "%s", argv[++i]);
		else if (strcmp(argv[i], "--keepalive") == 0)
			keepalive = 1;
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conns = atoi(argv[++i]);
		else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
			secs = atof(argv[++i]);
		else {
			fprintf(stderr, "usage: tls-load --proxy H:P --target "
			    "NAME:PORT --cafile CA [--keepalive] [-c N] [-d S] "
			    "[--path P]\n");
			return 2;
		}
	}
	if (cafile == NULL || port == 0 || proxy.sin_port == 0)
		return 2;
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
		fprintf(stderr, "tls-load: cannot read %s\n", cafile);
		return 1;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	lat = malloc(MAXLAT * sizeof *lat);
	th = calloc((size_t)conns, sizeof *th);
	t0 = now_ns();
	for (i = 0; i < conns; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	usleep((useconds_t)(secs * 1e6));
	stop = 1;
	for (i = 0; i < conns; i++)
		pthread_join(th[i], NULL);
	el = (double)(now_ns() - t0) / 1e9;
	qsort(lat, nlat, sizeof *lat, cmp);
	printf("rate %.0f p50_us %llu p99_us %llu ops %zu errors %lu\n",
	    (double)nlat / el, nlat ? (unsigned long long)(lat[nlat / 2] /
	    1000) : 0ULL, nlat ? (unsigned long long)(lat[nlat * 99 / 100] /
	    1000) : 0ULL, nlat, errors);
	free(lat);
	free(th);
	SSL_CTX_free(ctx);
	return 0;
}
