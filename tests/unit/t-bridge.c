/*
 * t-bridge.c: a loop test of the link between two threads that
 * `greyproxy tui` uses for its in-process core.  A real core runs on a
 * thread and a loop of its own; this thread's loop gets its replies and
 * events through the bridge.  Every request is answered exactly once (by
 * the core, or 0 once the link has closed), an event arrives whole,
 * events waiting for an interface that does not take them are bounded
 * (past the bound they are dropped, and the interface is told to fetch
 * afresh), and both loops close with nothing left open.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "api/api.h"
#include "app/app.h"
#include "conf/conf.h"
#include "core/core.h"
#include "../lib/tap.h"

static struct core {
	uv_thread_t		 thread;
	uv_loop_t		 loop;
	struct gp_app		 app;
	struct gp_config	 cfg;
	uv_async_t		 stop;
	uv_sem_t		 ready;
	int			 rc, closed;
	char			*err;
	struct gp_bridge	*bridge;
} core;

static struct gp_link	*lk;
static uv_loop_t	 loop;
#define N2	100	/* phase 2: changes while the interface is away */
#define LIMIT	20
static int		 calls[5], statuses[5], states, events;
static int		 calls2[N2], events2, phase, lag_replies, lag_lagged;
static size_t		 lag_events;
static char		 status_body[64];

static void
core_stop(uv_async_t *h)
{
	gp_link_bridge_stop(core.bridge);
	gp_app_stop(&core.app);
	uv_close((uv_handle_t *)h, NULL);
}

static void
core_run(void *arg)
{
	(void)arg;
	uv_loop_init(&core.loop);
	uv_async_init(&core.loop, &core.stop, core_stop);
	if ((core.rc = gp_app_start(&core.app, &core.loop, &core.cfg,
	    &core.err)) == 0)
		core.bridge = gp_link_bridge_new(&core.app.ctl);
	else
		uv_close((uv_handle_t *)&core.stop, NULL);
	uv_sem_post(&core.ready);
	uv_run(&core.loop, UV_RUN_DEFAULT);
	uv_run(&core.loop, UV_RUN_DEFAULT);
	if (core.rc == 0)
		gp_app_finish(&core.app);
	core.closed = uv_loop_close(&core.loop);
}

static void	on_reply(void *, int, const cJSON *);
static void	maybe_close(void);

static void
on_reply2(void *data, int status, const cJSON *json)
{
	(void)json;
	if (status == 200)
		calls2[(intptr_t)data]++;
	maybe_close();
}

/*
 * Phase 2: N2 changes while this thread does not run its loop, with
 * room for LIMIT events: once every reply waits, some events were
 * dropped and at most LIMIT wait.
 */
static void
away(void)
{
	struct timespec	ms = { 0, 1000000 };
	cJSON		*body;
	int		 i;
	size_t		 ev = 0;
	int		 lagged = 0;

	phase = 2;
	gp_link_bridge_limit(core.bridge, LIMIT);
	for (i = 0; i < N2; i++) {
		body = cJSON_CreateObject();
		cJSON_AddNumberToObject(body, "pendingTimeout", 62 + i % 2);
		gp_link_request(lk, "PUT", "/api/settings", body, on_reply2,
		    (void *)(intptr_t)i);
		cJSON_Delete(body);
	}
	for (i = 0; i < 20000 && (lag_replies = (int)gp_link_bridge_waiting(
	    core.bridge, &ev, &lagged)) < N2; i++)
		nanosleep(&ms, NULL);
	lag_events = ev;
	lag_lagged = lagged;
}

/* Once the change is answered and its event has arrived: phase 2;
 * after it, one more request, then the close (both answered 0, once
 * each). */
static void
maybe_close(void)
{
	int i;

	if (phase == 0) {
		if (events == 1 && calls[1] == 1)
			away();
		return;
	}
	if ((lag_lagged && states != 2) || calls[2] != 0)
		return;
	for (i = 0; i < N2; i++)
		if (calls2[i] != 1)
			return;
	gp_link_request(lk, "GET", "/api/status", NULL, on_reply,
	    (void *)(intptr_t)2);
	gp_link_close(lk);
	gp_link_request(lk, "GET", "/api/status", NULL, on_reply,
	    (void *)(intptr_t)3);
	uv_async_send(&core.stop);
}

static void
on_reply(void *data, int status, const cJSON *json)
{
	int i = (int)(intptr_t)data;

	calls[i]++;
	statuses[i] = status;
	if (i == 0 && json != NULL)
		snprintf(status_body, sizeof status_body, "%s",
		    cJSON_GetObjectItemCaseSensitive(json, "listeners") ?
		    "listeners" : "?");
	if (i == 1)
		maybe_close();
}

static void
on_event(void *data, const char *type, cJSON **payload)
{
	(void)data;
	if (strcmp(type, "settings.changed") != 0 || *payload == NULL)
		return;
	if (phase == 2)
		events2++;
	else
		events++;
	maybe_close();
}

static void
on_state(void *data, int connected, const char *why)
{
	cJSON *body;

	(void)data;
	(void)why;
	if (!connected)
		return;
	if (states++ > 0) {	/* told to fetch afresh */
		maybe_close();
		return;
	}
	gp_link_request(lk, "GET", "/api/status", NULL, on_reply,
	    (void *)(intptr_t)0);
	body = cJSON_Parse("{\"pendingTimeout\": 61}");
	gp_link_request(lk, "PUT", "/api/settings", body, on_reply,
	    (void *)(intptr_t)1);
	cJSON_Delete(body);
}

int
main(void)
{
	char	 dir[] = "/tmp/gp-bridge.XXXXXX", rm[64];
	char	*argv[] = { "serve", "--http", "127.0.0.1:0", "--socks",
	    "127.0.0.1:0",
	    "--dns", "127.0.0.1:0", "--api", "127.0.0.1:0", "--dns-upstream",
	    "127.0.0.1:9", "--data-dir", dir, "--log-level", "error", NULL };

	if (mkdtemp(dir) == NULL ||
	    gp_config_parse(&core.cfg, "serve", 15, argv) != 0) {
		printf("Bail out! set-up\n");
		return 1;
	}
	gp_log_level = core.cfg.log_level;
	uv_loop_init(&loop);
	uv_sem_init(&core.ready, 0);
	uv_thread_create(&core.thread, core_run, NULL);
	uv_sem_wait(&core.ready);
	if (core.rc != 0) {
		printf("Bail out! core: %s\n", core.err);
		return 1;
	}
	lk = gp_link_bridge_attach(core.bridge, &loop, on_event, on_state,
	    NULL);
	ok(!gp_link_is_remote(lk) && strcmp(gp_link_target(lk), "local") == 0,
	    "the bridge is a local link");
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_thread_join(&core.thread);
	gp_link_bridge_free(core.bridge);

	is_int(calls[0], 1, "a request answered once");
	is_int(statuses[0], 200, "by the core");
	is_str(status_body, "listeners", "with the route's body");
	is_int(calls[1], 1, "a change answered once");
	is_int(statuses[1], 200, "accepted");
	is_int(events, 1, "its event arrived, with its payload");
	is_int(lag_replies, N2, "phase 2: every reply waits for this thread");
	ok(lag_lagged && lag_events <= LIMIT, "events beyond the bound were"
	    " dropped (%zu wait)", lag_events);
	ok(events2 >= 1 && events2 <= LIMIT, "at most the bound arrive (%d)",
	    events2);
	is_int(states, 2, "then the interface is told to fetch afresh");
	ok(calls[2] == 1 && calls[3] == 1, "requests made as the link closes"
	    " are answered once each");
	ok(statuses[2] == 0 && statuses[3] == 0, "with status 0");
	is_int(uv_loop_close(&loop), 0, "this loop closes with nothing open");
	is_int(core.closed, 0, "and so does the core's");
	uv_sem_destroy(&core.ready);
	gp_config_free(&core.cfg);
	snprintf(rm, sizeof rm, "rm -rf %s", dir);
	if (system(rm) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
