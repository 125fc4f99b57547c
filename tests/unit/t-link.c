/*
 * t-link.c: a loop test of the TUI's remote link: every request is
 * answered exactly once — by the server, or with status 0 when nothing
 * answers or the link closed first — and closing leaves no handle open.
 * Many requests at once take a few connections in turn, never one each.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "api/api.h"
#include "core/core.h"
#include "../lib/tap.h"

static int	calls[4], statuses[4], states;
static struct gp_link *link_;

static void
on_reply(void *data, int status, const cJSON *json)
{
	int i = (int)(intptr_t)data;

	calls[i]++;
	statuses[i] = status;
}

static void
on_event(void *data, const char *type, cJSON **payload)
{
}

static void
on_state(void *data, int connected, const char *why)
{
	states++;
}

/* Once the first request has failed, one more and then the close. */
static void
on_timer(uv_timer_t *t)
{
	if (calls[0] == 0 && uv_now(t->loop) < 5000)
		return;
	uv_timer_stop(t);
	gp_link_request(link_, "GET", "/api/status", NULL, on_reply,
	    (void *)(intptr_t)1);
	gp_link_close(link_);
	/* Issued on a closing link: still answered once, with 0. */
	gp_link_request(link_, "GET", "/api/status", NULL, on_reply,
	    (void *)(intptr_t)2);
	uv_close((uv_handle_t *)t, NULL);
}

/* --- a server that counts the connections open at once --- */

#define BURST	40
static int	srv_open, srv_max, srv_served, burst_calls, burst_ok;

struct conn {
	uv_tcp_t	tcp;
	uv_write_t	w;
	char		buf[4096];
	size_t		len;
	int		counted;	/* a request, in srv_open */
};

static void
srv_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	srv_open -= c->counted;
	free(c);
}

static void
srv_written(uv_write_t *w, int status)
{
	uv_close((uv_handle_t *)w->data, srv_closed);
}

static void
srv_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct conn *c = h->data;

	*b = uv_buf_init(c->buf + c->len, (unsigned)(sizeof c->buf - c->len));
}

static void
srv_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	static char	reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	    "Connection: close\r\n\r\n{}";
	struct conn	*c = s->data;
	uv_buf_t	 out = uv_buf_init(reply, sizeof reply - 1);

	if (n < 0) {
		uv_close((uv_handle_t *)s, srv_closed);
		return;
	}
	c->len += (size_t)n;
	if (memmem(c->buf, c->len, "\r\n\r\n", 4) == NULL)
		return;		/* (the bodies are empty) */
	uv_read_stop(s);
	if (memmem(c->buf, c->len, "Upgrade:", 8) != NULL) {
		/* The link's event socket: refused (retried later). */
		uv_close((uv_handle_t *)s, srv_closed);
		return;
	}
	srv_served++;
	c->counted = 1;
	if (++srv_open > srv_max)	/* requests open at once */
		srv_max = srv_open;
	c->w.data = s;
	uv_write(&c->w, s, &out, 1, srv_written);
}

static void
srv_accept(uv_stream_t *server, int status)
{
	struct conn *c = calloc(1, sizeof *c);

	uv_tcp_init(server->loop, &c->tcp);
	c->tcp.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		uv_close((uv_handle_t *)&c->tcp, NULL);
		free(c);
		return;
	}
	uv_read_start((uv_stream_t *)&c->tcp, srv_alloc, srv_read);
}

static void
on_burst(void *data, int status, const cJSON *json)
{
	burst_calls++;
	burst_ok += status == 200;
	if (burst_calls == BURST) {
		gp_link_close(link_);
		uv_close((uv_handle_t *)data, NULL);	/* the server */
	}
}

static void
on_queued(void *data, int status, const cJSON *json)
{
	burst_calls++;
	burst_ok += status == 0;
}

/* BURST requests at once against a server that counts connections;
 * then a burst closed at once: each queued request answered 0, once. */
static void
burst(void)
{
	uv_loop_t		loop;
	uv_tcp_t		server;
	struct sockaddr_in	sin;
	struct sockaddr_storage	ss;
	int			len = sizeof ss, i;
	char			target[64];

	uv_loop_init(&loop);
	uv_tcp_init(&loop, &server);
	uv_ip4_addr("127.0.0.1", 0, &sin);
	uv_tcp_bind(&server, (struct sockaddr *)&sin, 0);
	uv_listen((uv_stream_t *)&server, 128, srv_accept);
	uv_tcp_getsockname(&server, (struct sockaddr *)&ss, &len);
	snprintf(target, sizeof target, "127.0.0.1:%d",
	    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	link_ = gp_link_remote(&loop, target, on_event, on_state, NULL);
	for (i = 0; i < BURST; i++)
		gp_link_request(link_, "POST", "/api/pending/1/allow", NULL,
		    on_burst, &server);
	uv_run(&loop, UV_RUN_DEFAULT);
	is_int(burst_calls, BURST, "a burst of %d requests: each answered "
	    "once", BURST);
	is_int(burst_ok, BURST, "each by the server (200)");
	is_int(srv_served, BURST, "the server saw each once");
	ok(srv_max >= 2 && srv_max <= 8, "a few connections at once (%d), "
	    "never one per request", srv_max);
	is_int(uv_loop_close(&loop), 0, "no handle left open after the burst");

	/* Closed with most of a burst still waiting its turn. */
	burst_calls = burst_ok = 0;
	uv_loop_init(&loop);
	link_ = gp_link_remote(&loop, target, on_event, on_state, NULL);
	for (i = 0; i < BURST; i++)
		gp_link_request(link_, "GET", "/api/status", NULL, on_queued,
		    NULL);
	gp_link_close(link_);
	is_int(burst_calls, 0, "none answered from inside the close");
	uv_run(&loop, UV_RUN_DEFAULT);
	is_int(burst_calls, BURST, "closed mid-burst: each answered once");
	is_int(burst_ok, BURST, "with status 0");
	is_int(uv_loop_close(&loop), 0, "no handle left open after the close");
}

int
main(void)
{
	uv_loop_t	loop;
	uv_timer_t	timer;
	uv_tcp_t	probe;
	struct sockaddr_in sin;
	struct sockaddr_storage ss;
	int		len = sizeof ss;
	char		target[64];

	uv_loop_init(&loop);
	/* A loopback port with nobody listening: bind, note, close. */
	uv_tcp_init(&loop, &probe);
	uv_ip4_addr("127.0.0.1", 0, &sin);
	uv_tcp_bind(&probe, (struct sockaddr *)&sin, 0);
	uv_tcp_getsockname(&probe, (struct sockaddr *)&ss, &len);
	snprintf(target, sizeof target, "127.0.0.1:%d",
	    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	uv_close((uv_handle_t *)&probe, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);

	link_ = gp_link_remote(&loop, target, on_event, on_state, NULL);
	ok(link_ != NULL, "remote link to %s", target);
	gp_link_request(link_, "GET", "/api/status", NULL, on_reply,
	    (void *)(intptr_t)0);
	is_int(calls[0], 0, "never answered from inside the call");
	uv_timer_init(&loop, &timer);
	uv_timer_start(&timer, on_timer, 10, 10);
	uv_run(&loop, UV_RUN_DEFAULT);
	is_int(calls[0], 1, "a request nobody answers: called once");
	is_int(statuses[0], 0, "with status 0");
	is_int(calls[1], 1, "a request in flight at close: called once");
	is_int(calls[2], 1, "a request on a closing link: called once");
	is_int(statuses[2], 0, "with status 0");
	ok(states >= 1, "the link reported it is down");
	is_int(uv_loop_close(&loop), 0, "no handle left open");
	burst();
	return tap_done();
}
