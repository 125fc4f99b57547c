/*
 * gp-load.c: the benchmark harness's own client and origin, one libuv
 * loop, so every proxy is driven and timed the same way and the smoke
 * mode needs nothing beyond what the tests already install.
 *
 *   gp-load origin [--port-file F]
 *	HTTP/1.1 origin on 127.0.0.1:0: GET /big?N answers N zero bytes,
 *	anything else "hello\n"; keep-alive.
 *   gp-load http --url http://H:P/PATH [--proxy H:P] [-c N] [-d SECS]
 *	       [-r RATE] [--every SECS]
 *	keep-alive GETs (absolute URI when proxied) on N connections; -r
 *	paces them to RATE requests/s in all (latency counted from the
 *	send); --every prints a line per interval.
 *   gp-load setup --via connect|socks --proxy H:P --target H:P
 *	      [--user U] [-c N] [-d SECS]
 *	each round: connect to the proxy, open a tunnel, GET /hello
 *	through it, read the answer, close; N rounds in flight.
 *   gp-load idle --via connect|socks --proxy H:P --target H:P
 *	     [--user U] -n N
 *	opens N tunnels (checked with one GET each), prints "ready N
 *	errors E" once all are up or failed (those not up after -d SECS
 *	count as failed), holds them until stdin closes.
 *
 * Results are one line of "key value" pairs: requests, rate (per
 * second), p50_us, p99_us, max_us, errors.  Figures, never assertions.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include <uv.h>

enum mode { M_HTTP, M_SETUP, M_IDLE };
enum via { V_DIRECT, V_CONNECT, V_SOCKS };
enum st {
	S_CONNECTING, S_SOCKS_HELLO, S_SOCKS_AUTH, S_SOCKS_REQ, S_CONNECT_REPLY,
	S_RESPONSE, S_HELD
};

struct conn {
	uv_tcp_t tcp;
	uv_connect_t creq;
	enum st st;
	char buf[16384];
	size_t have;
	long body_left;		/* -1 while the head is incomplete */
	uint64_t t0;		/* request (or round) start */
	int closing;
	int reopen;		/* the server closes after this answer */
};

static uv_loop_t *loop;
static enum mode mode;
static enum via via;
static struct sockaddr_in proxy_sa, target_sa;
static char target_host[256];
static int target_port;
static char path[1024] = "/hello";
static const char *user;
static int conns = 8, idle_n = 100;
static double secs = 3;
static double rate_limit;		/* http: requests/s in all, 0 none */
static double every;			/* http: seconds between reports */
static struct conn **parked;		/* http -r: waiting for their turn */
static size_t nparked;
static uint64_t sent;
static uv_timer_t pace_timer, report_timer;
static size_t reported;			/* lat[] already in a report */
static uint64_t deadline;
static int stopping;
static uint64_t *lat;
static size_t nlat, caplat;
static unsigned long errors, ready, live;
static char req[2048];
static char user_b64[700];	/* base64 of "user:x" */
static size_t reqlen;

static void start_conn(struct conn *c);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);
static void on_alloc(uv_handle_t *h, size_t want, uv_buf_t *b);

static void
record(uint64_t ns)
{
	if (nlat == caplat) {
		caplat = caplat ? caplat * 2 : 65536;
		lat = realloc(lat, caplat * sizeof *lat);
		if (lat == NULL) {
			perror("gp-load");
			exit(1);
		}
	}
	lat[nlat++] = ns;
}

static int
parse_hostport(const char *s, char *host, size_t hostsz, int *port)
{
	const char *colon = strrchr(s, ':');
	size_t n;

	if (colon == NULL || (n = (size_t)(colon - s)) == 0 || n >= hostsz)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	*port = atoi(colon + 1);
	return *port > 0 && *port < 65536 ? 0 : -1;
}

static int
resolve(const char *s, struct sockaddr_in *sa)
{
	char host[256];
	int port;

	if (parse_hostport(s, host, sizeof host, &port) < 0)
		return -1;
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	return uv_ip4_addr(host, port, sa);
}

static void
on_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	live--;
	if (!stopping && (mode == M_SETUP || c->reopen) &&
	    uv_hrtime() < deadline) {
		memset(c, 0, sizeof *c);
		start_conn(c);
		return;
	}
	free(c);
}

static int said;

/* idle: says so once every tunnel is up or has failed. */
static void
idle_check(void)
{
	if (mode == M_IDLE && !said && ready + errors >= (unsigned long)idle_n) {
		said = 1;
		printf("ready %lu errors %lu\n", ready, errors);
		fflush(stdout);
	}
}

static void
drop(struct conn *c, int failed)
{
	if (c->closing)
		return;
	c->closing = 1;
	if (failed) {
		errors++;
		idle_check();
	}
	uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void
on_written(uv_write_t *w, int status)
{
	struct conn *c = w->data;

	free(w);
	if (status < 0)
		drop(c, 1);
}

/*
 * A request of its own per write: the answer to one can be read before
 * its callback has run (libuv polls again in the same turn when a
 * batch of events fills its array, as thousands of tunnels opening at
 * once do), and the next write must not reuse a request still queued.
 */
static void
send_bytes(struct conn *c, const void *p, size_t n)
{
	uv_buf_t	 b = uv_buf_init((char *)p, (unsigned)n);
	uv_write_t	*w = malloc(sizeof *w);

	if (w == NULL) {
		drop(c, 1);
		return;
	}
	w->data = c;
	if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) {
		free(w);
		drop(c, 1);
	}
}

static void
send_request(struct conn *c)
{
	c->st = S_RESPONSE;
	c->have = 0;
	c->body_left = -1;
	if (mode == M_HTTP)
		c->t0 = uv_hrtime();
	sent++;
	send_bytes(c, req, reqlen);
}

/* http -r: the next request waits for the pace timer. */
static void
next_request(struct conn *c)
{
	if (rate_limit > 0)
		parked[nparked++] = c;
	else
		send_request(c);
}

static void
on_pace(uv_timer_t *t)
{
	double	due;

	(void)t;
	if (stopping)
		return;
	due = rate_limit * (double)(uv_hrtime() - (deadline -
	    (uint64_t)(secs * 1e9))) / 1e9;
	while (nparked > 0 && (double)sent < due)
		send_request(parked[--nparked]);
}

static void
socks_request(struct conn *c)
{
	static unsigned char m[300];
	size_t hl = strlen(target_host), n = 0;

	m[n++] = 5;
	m[n++] = 1;
	m[n++] = 0;
	m[n++] = 3;
	m[n++] = (unsigned char)hl;
	memcpy(m + n, target_host, hl);
	n += hl;
	m[n++] = (unsigned char)(target_port >> 8);
	m[n++] = (unsigned char)target_port;
	c->st = S_SOCKS_REQ;
	c->have = 0;
	send_bytes(c, m, n);
}

static void
on_connected(uv_connect_t *r, int status)
{
	struct conn *c = r->data;
	static char head[600];
	static unsigned char hello[4];

	if (status < 0) {
		drop(c, 1);
		return;
	}
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	if (via == V_DIRECT) {
		next_request(c);
	} else if (via == V_CONNECT) {
		int n = snprintf(head, sizeof head,
		    "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n%s%s%s\r\n",
		    target_host, target_port, target_host, target_port,
		    user ? "Proxy-Authorization: Basic " : "",
		    user ? user_b64 : "", user ? "\r\n" : "");
		c->st = S_CONNECT_REPLY;
		c->have = 0;
		send_bytes(c, head, (size_t)n);
	} else {
		hello[0] = 5;
		hello[1] = 1;
		hello[2] = user ? 2 : 0;
		c->st = S_SOCKS_HELLO;
		c->have = 0;
		send_bytes(c, hello, 3);
	}
}

static void
on_alloc(uv_handle_t *h, size_t want, uv_buf_t *b)
{
	struct conn *c = h->data;

	(void)want;
	if (c->st == S_RESPONSE && c->body_left >= 0)
		c->have = 0;	/* body bytes are only counted */
	*b = uv_buf_init(c->buf + c->have, (unsigned)(sizeof c->buf - c->have));
}

static void
start_conn(struct conn *c)
{
	c->tcp.data = c;
	c->creq.data = c;
	c->body_left = -1;
	if (mode == M_SETUP)
		c->t0 = uv_hrtime();
	if (uv_tcp_init(loop, &c->tcp) < 0) {
		errors++;
		free(c);
		return;
	}
	live++;
	uv_tcp_nodelay(&c->tcp, 1);
	if (uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)
	    (via == V_DIRECT ? &target_sa : &proxy_sa), on_connected) < 0)
		drop(c, 1);
}

/* Content-Length of a complete head, 0 if none; -1 for chunked. */
static long
head_length(const char *h, size_t n)
{
	const char *p = h, *end = h + n;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (eol == NULL)
			break;
		if ((size_t)(eol - p) > 15 &&
		    strncasecmp(p, "content-length:", 15) == 0)
			return strtol(p + 15, NULL, 10);
		if ((size_t)(eol - p) > 18 &&
		    strncasecmp(p, "transfer-encoding:", 18) == 0)
			return -1;
		p = eol + 1;
	}
	return 0;
}

static void
response_done(struct conn *c)
{
	if (mode == M_HTTP) {
		record(uv_hrtime() - c->t0);
		if (stopping || uv_hrtime() >= deadline || c->reopen)
			drop(c, 0);	/* reopen: a fresh connection follows */
		else
			next_request(c);
	} else if (mode == M_SETUP) {
		record(uv_hrtime() - c->t0);
		/* A reset, not a FIN: no TIME_WAIT left on our side, or tens
		 * of thousands of rounds would use up the ephemeral ports. */
		c->closing = 1;
		if (uv_tcp_close_reset(&c->tcp, on_closed) != 0)
			uv_close((uv_handle_t *)&c->tcp, on_closed);
	} else {
		c->st = S_HELD;
		ready++;
		idle_check();
	}
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn *c = s->data;
	char *e;

	(void)b;
	if (n < 0) {
		drop(c, c->st != S_HELD || !stopping);
		return;
	}
	if (n == 0)
		return;
	c->have += (size_t)n;
	switch (c->st) {
	case S_SOCKS_HELLO:
		if (c->have < 2)
			return;
		if (c->buf[0] != 5 || (c->buf[1] != 0 && c->buf[1] != 2)) {
			drop(c, 1);
			return;
		}
		if (c->buf[1] == 2 && user) {
			static unsigned char a[520];
			size_t ul = strlen(user), k = 0;

			a[k++] = 1;
			a[k++] = (unsigned char)ul;
			memcpy(a + k, user, ul);
			k += ul;
			a[k++] = 1;
			a[k++] = 'x';
			c->st = S_SOCKS_AUTH;
			c->have = 0;
			send_bytes(c, a, k);
			return;
		}
		socks_request(c);
		return;
	case S_SOCKS_AUTH:
		if (c->have < 2)
			return;
		if (c->buf[1] != 0) {
			drop(c, 1);
			return;
		}
		socks_request(c);
		return;
	case S_SOCKS_REQ: {
		size_t need = 10;

		if (c->have < 5)
			return;
		if (c->buf[3] == 3)
			need = 7 + (unsigned char)c->buf[4];
		else if (c->buf[3] == 4)
			need = 22;
		if (c->have < need)
			return;
		if (c->buf[1] != 0) {
			drop(c, 1);
			return;
		}
		send_request(c);
		return;
	}
	case S_CONNECT_REPLY:
		e = memmem(c->buf, c->have, "\r\n\r\n", 4);
		if (e == NULL) {
			if (c->have == sizeof c->buf)
				drop(c, 1);
			return;
		}
		if (c->have < 12 || memcmp(c->buf + 9, "200", 3) != 0) {
			drop(c, 1);
			return;
		}
		send_request(c);
		return;
	case S_RESPONSE:
		if (c->body_left < 0) {
			long len;

			e = memmem(c->buf, c->have, "\r\n\r\n", 4);
			if (e == NULL) {
				if (c->have == sizeof c->buf)
					drop(c, 1);
				return;
			}
			if (c->have < 12 || c->buf[9] != '2') {
				drop(c, 1);
				return;
			}
			len = head_length(c->buf, (size_t)(e - c->buf));
			/* HTTP/1.0, or Connection: close (tinyproxy does). */
			c->reopen = c->buf[7] == '0' || memmem(c->buf,
			    (size_t)(e - c->buf), "onnection: close", 16) != NULL;
			if (len < 0) {
				drop(c, 1);
				return;
			}
			c->body_left = len - (long)(c->have -
			    (size_t)(e + 4 - c->buf));
		} else {
			c->body_left -= n;
		}
		if (c->body_left <= 0)
			response_done(c);
		return;
	default:
		drop(c, 1);
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* --every: the requests answered since the last report. */
static void
on_report(uv_timer_t *t)
{
	size_t	 n = nlat - reported;
	uint64_t *v;

	(void)t;
	if (n == 0) {
		printf("t %.0f requests 0\n", (double)(uv_hrtime() - (deadline -
		    (uint64_t)(secs * 1e9))) / 1e9);
		fflush(stdout);
		return;
	}
	v = malloc(n * sizeof *v);
	if (v == NULL)
		return;
	memcpy(v, lat + reported, n * sizeof *v);
	qsort(v, n, sizeof *v, cmp_u64);
	printf("t %.0f requests %zu rate %.0f p50_us %.0f p99_us %.0f "
	    "max_us %.0f errors %lu\n", (double)(uv_hrtime() - (deadline -
	    (uint64_t)(secs * 1e9))) / 1e9, n, (double)n / every,
	    (double)v[n / 2] / 1e3, (double)v[n * 99 / 100] / 1e3,
	    (double)v[n - 1] / 1e3, errors);
	fflush(stdout);
	free(v);
	reported = nlat;
}

static void
report(double elapsed_s)
{
	double p50 = 0, p99 = 0, mx = 0;

	if (nlat > 0) {
		qsort(lat, nlat, sizeof *lat, cmp_u64);
		p50 = (double)lat[nlat / 2] / 1e3;
		p99 = (double)lat[(nlat * 99) / 100] / 1e3;
		mx = (double)lat[nlat - 1] / 1e3;
	}
	printf("requests %zu rate %.0f p50_us %.0f p99_us %.0f max_us %.0f "
	    "errors %lu\n", nlat, elapsed_s > 0 ? (double)nlat / elapsed_s : 0,
	    p50, p99, mx, errors);
}

/* ---- idle: hold until stdin closes ---- */

static uv_pipe_t in;

static void
close_all(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (h->type == UV_TCP && !uv_is_closing(h))
		drop(h->data, 0);
	else if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void
in_alloc(uv_handle_t *h, size_t want, uv_buf_t *b)
{
	static char sink[64];

	(void)h;
	(void)want;
	*b = uv_buf_init(sink, sizeof sink);
}

static void
on_stdin(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	(void)s;
	(void)b;
	if (n < 0) {
		stopping = 1;
		uv_walk(loop, close_all, NULL);
	}
}

static uv_timer_t stop_timer;

/* idle: tunnels still not up after the time allowed count as failed. */
static void
on_idle_timeout(uv_timer_t *t)
{
	(void)t;
	if (!said) {
		errors = (unsigned long)idle_n - ready;
		idle_check();
	}
}

static void
on_deadline(uv_timer_t *t)
{
	(void)t;
	stopping = 1;
	uv_walk(loop, close_all, NULL);
}

/* ---- origin ---- */

static char zeros[262144];

struct oconn {
	uv_tcp_t tcp;
	uv_write_t wreq;
	char buf[8192];
	size_t have;
	uint64_t big_left;
	char head[128];
	int writing;
};

static void o_next(struct oconn *o);

static void
o_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
o_written(uv_write_t *w, int status)
{
	struct oconn *o = w->data;

	o->writing = 0;
	if (status < 0) {
		if (!uv_is_closing((uv_handle_t *)&o->tcp))
			uv_close((uv_handle_t *)&o->tcp, o_closed);
		return;
	}
	o_next(o);
}

static void
o_send(struct oconn *o, const char *p, size_t n)
{
	uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);

	o->writing = 1;
	o->wreq.data = o;
	if (uv_write(&o->wreq, (uv_stream_t *)&o->tcp, &b, 1, o_written) < 0)
		uv_close((uv_handle_t *)&o->tcp, o_closed);
}

/* Streams a pending big body, else answers the next complete request. */
static void
o_next(struct oconn *o)
{
	char *e;
	size_t used;
	int n;

	if (o->writing || uv_is_closing((uv_handle_t *)&o->tcp))
		return;
	if (o->big_left > 0) {
		size_t k = o->big_left < sizeof zeros ? (size_t)o->big_left :
		    sizeof zeros;

		o->big_left -= k;
		o_send(o, zeros, k);
		return;
	}
	e = memmem(o->buf, o->have, "\r\n\r\n", 4);
	if (e == NULL)
		return;
	used = (size_t)(e + 4 - o->buf);
	if (o->have > 9 && memcmp(o->buf, "GET ", 4) == 0 &&
	    memmem(o->buf, used, "/big?", 5) != NULL) {
		const char *q = memmem(o->buf, used, "/big?", 5);

		o->big_left = strtoull(q + 5, NULL, 10);
		n = snprintf(o->head, sizeof o->head, "HTTP/1.1 200 OK\r\n"
		    "Content-Length: %llu\r\n\r\n",
		    (unsigned long long)o->big_left);
	} else {
		n = snprintf(o->head, sizeof o->head, "HTTP/1.1 200 OK\r\n"
		    "Content-Length: 6\r\nContent-Type: text/plain\r\n\r\n"
		    "hello\n");
	}
	memmove(o->buf, o->buf + used, o->have - used);
	o->have -= used;
	o_send(o, o->head, (size_t)n);
}

static void
o_alloc(uv_handle_t *h, size_t want, uv_buf_t *b)
{
	struct oconn *o = h->data;

	(void)want;
	*b = uv_buf_init(o->buf + o->have, (unsigned)(sizeof o->buf - o->have));
}

static void
o_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct oconn *o = s->data;

	(void)b;
	if (n < 0 || (n == 0 && o->have == sizeof o->buf)) {
		if (!uv_is_closing((uv_handle_t *)s))
			uv_close((uv_handle_t *)s, o_closed);
		return;
	}
	o->have += (size_t)n;
	o_next(o);
}

static void
o_accept(uv_stream_t *srv, int status)
{
	struct oconn *o;

	if (status < 0 || (o = calloc(1, sizeof *o)) == NULL)
		return;
	o->tcp.data = o;
	uv_tcp_init(loop, &o->tcp);
	if (uv_accept(srv, (uv_stream_t *)&o->tcp) < 0) {
		uv_close((uv_handle_t *)&o->tcp, o_closed);
		return;
	}
	uv_tcp_nodelay(&o->tcp, 1);
	uv_read_start((uv_stream_t *)&o->tcp, o_alloc, o_read);
}

static int
origin(const char *port_file)
{
	static uv_tcp_t srv;
	struct sockaddr_in sa;
	struct sockaddr_storage got;
	int len = sizeof got;
	FILE *f;

	uv_ip4_addr("127.0.0.1", 0, &sa);
	uv_tcp_init(loop, &srv);
	if (uv_tcp_bind(&srv, (const struct sockaddr *)&sa, 0) < 0 ||
	    uv_listen((uv_stream_t *)&srv, 1024, o_accept) < 0) {
		fprintf(stderr, "gp-load: origin cannot listen\n");
		return 1;
	}
	uv_tcp_getsockname(&srv, (struct sockaddr *)&got, &len);
	if (port_file) {
		char tmp[4096];

		snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
		if ((f = fopen(tmp, "w")) == NULL)
			return 1;
		fprintf(f, "%d\n", ntohs(((struct sockaddr_in *)&got)->sin_port));
		fclose(f);
		rename(tmp, port_file);
	} else {
		printf("%d\n", ntohs(((struct sockaddr_in *)&got)->sin_port));
		fflush(stdout);
	}
	return uv_run(loop, UV_RUN_DEFAULT);
}

static void
usage(void)
{
	fprintf(stderr, "usage: gp-load origin [--port-file F]\n"
	    "       gp-load http --url URL [--proxy H:P] [-c N] [-d SECS] "
	    "[-r RATE] [--every SECS]\n"
	    "       gp-load setup|idle --via connect|socks --proxy H:P "
	    "--target H:P [--user U] [-c N] [-d SECS] [-n N]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *url = NULL, *proxy = NULL, *target = NULL, *port_file = NULL;
	uint64_t t_start;
	int i;

	if (argc < 2)
		usage();
	loop = uv_default_loop();
	for (i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			usage();
		if (strcmp(a, "--url") == 0)
			url = v;
		else if (strcmp(a, "--proxy") == 0)
			proxy = v;
		else if (strcmp(a, "--target") == 0)
			target = v;
		else if (strcmp(a, "--user") == 0)
			user = v;
		else if (strcmp(a, "--port-file") == 0)
			port_file = v;
		else if (strcmp(a, "--via") == 0)
			via = strcmp(v, "socks") == 0 ? V_SOCKS : V_CONNECT;
		else if (strcmp(a, "-c") == 0)
			conns = atoi(v);
		else if (strcmp(a, "-d") == 0)
			secs = atof(v);
		else if (strcmp(a, "-n") == 0)
			idle_n = atoi(v);
		else if (strcmp(a, "-r") == 0)
			rate_limit = atof(v);
		else if (strcmp(a, "--every") == 0)
			every = atof(v);
		else
			usage();
		i++;
	}
	if (user) {
		static const char tab[] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		char plain[520];
		size_t n = (size_t)snprintf(plain, sizeof plain, "%.255s:x", user);
		size_t k, o = 0;

		for (k = 0; k < n; k += 3) {
			unsigned v = (unsigned char)plain[k] << 16;

			v |= k + 1 < n ? (unsigned char)plain[k + 1] << 8 : 0;
			v |= k + 2 < n ? (unsigned char)plain[k + 2] : 0;
			user_b64[o++] = tab[v >> 18 & 63];
			user_b64[o++] = tab[v >> 12 & 63];
			user_b64[o++] = k + 1 < n ? tab[v >> 6 & 63] : '=';
			user_b64[o++] = k + 2 < n ? tab[v & 63] : '=';
		}
		user_b64[o] = '\0';
	}
	if (strcmp(argv[1], "origin") == 0)
		return origin(port_file);
	if (strcmp(argv[1], "http") == 0) {
		const char *hp, *sl;
		char hostport[300];

		mode = M_HTTP;
		if (url == NULL || strncmp(url, "http://", 7) != 0)
			usage();
		hp = url + 7;
		sl = strchr(hp, '/');
		snprintf(hostport, sizeof hostport, "%.*s",
		    (int)(sl ? sl - hp : (long)strlen(hp)), hp);
		if (sl)
			snprintf(path, sizeof path, "%s", sl);
		if (resolve(hostport, &target_sa) < 0)
			usage();
		via = V_DIRECT;
		if (proxy) {
			if (resolve(proxy, &proxy_sa) < 0)
				usage();
			via = V_CONNECT;	/* connect to the proxy ... */
		}
		reqlen = (size_t)snprintf(req, sizeof req,
		    "GET %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gp-load\r\n\r\n",
		    proxy ? url : path, "", hostport);
		if (proxy) {
			/* ... but speak plain HTTP to it: no tunnel. */
			target_sa = proxy_sa;
			via = V_DIRECT;
		}
	} else if (strcmp(argv[1], "setup") == 0 ||
	    strcmp(argv[1], "idle") == 0) {
		mode = argv[1][0] == 's' ? M_SETUP : M_IDLE;
		if (proxy == NULL || target == NULL || via == V_DIRECT ||
		    resolve(proxy, &proxy_sa) < 0 ||
		    parse_hostport(target, target_host, sizeof target_host,
		    &target_port) < 0)
			usage();
		reqlen = (size_t)snprintf(req, sizeof req,
		    "GET /hello HTTP/1.1\r\nHost: %s\r\nUser-Agent: gp-load\r\n\r\n",
		    target);
	} else {
		usage();
	}
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	t_start = uv_hrtime();
	deadline = t_start + (uint64_t)(secs * 1e9);
	if (mode == M_IDLE) {
		int k;

		uv_timer_init(loop, &stop_timer);
		uv_timer_start(&stop_timer, on_idle_timeout,
		    (uint64_t)(secs * 1000), 0);
		uv_unref((uv_handle_t *)&stop_timer);
		uv_pipe_init(loop, &in, 0);
		uv_pipe_open(&in, 0);
		uv_read_start((uv_stream_t *)&in, in_alloc, on_stdin);
		for (k = 0; k < idle_n; k++) {
			struct conn *c = calloc(1, sizeof *c);

			if (c == NULL)
				return 1;
			start_conn(c);
			if (k % 200 == 199)	/* let the accept queue drain */
				uv_run(loop, UV_RUN_NOWAIT);
		}
	} else {
		int k;

		uv_timer_init(loop, &stop_timer);
		uv_timer_start(&stop_timer, on_deadline,
		    (uint64_t)(secs * 1000) + 2000, 0);
		uv_unref((uv_handle_t *)&stop_timer);
		if (mode == M_HTTP && rate_limit > 0) {
			parked = calloc((size_t)conns, sizeof *parked);
			if (parked == NULL)
				return 1;
			uv_timer_init(loop, &pace_timer);
			uv_timer_start(&pace_timer, on_pace, 1, 1);
			uv_unref((uv_handle_t *)&pace_timer);
		}
		if (mode == M_HTTP && every > 0) {
			uv_timer_init(loop, &report_timer);
			uv_timer_start(&report_timer, on_report,
			    (uint64_t)(every * 1000), (uint64_t)(every * 1000));
			uv_unref((uv_handle_t *)&report_timer);
		}
		for (k = 0; k < conns; k++) {
			struct conn *c = calloc(1, sizeof *c);

			if (c == NULL)
				return 1;
			start_conn(c);
		}
	}
	uv_run(loop, UV_RUN_DEFAULT);
	if (mode == M_IDLE) {
		printf("held %lu errors %lu\n", ready, errors);
	} else {
		double el = (double)(deadline - t_start) / 1e9;

		report(el);
	}
	uv_loop_close(loop);
	free(parked);
	free(lat);
	return 0;
}
