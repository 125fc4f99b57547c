/*
 * t-link.c: a loop test of the TUI's remote link: every request is
 * answered exactly once — by the server, or with status 0 when nothing
 * answers or the link closed first — and closing leaves no handle open.
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
	return tap_done();
}
