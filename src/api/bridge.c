/*
 * bridge.c: a link between two threads of this process.  `greyproxy tui`
 * runs its core on a thread and a loop of its own (a terminal that stops
 * reading must not stop the proxy); the core's half is a local link on
 * the core's loop, the interface's half a struct gp_link on the
 * interface's loop, and between them two queues of objects under one
 * mutex, each woken by a uv_async.  Events cross as the objects the
 * local link built (over the API's WebSocket they were printed, then
 * parsed again on the other side: a fifth of the rate at 50 connections
 * with Activity shown).
 *
 * Ownership: a request (struct breq) belongs to the interface until it
 * is queued, then to the core until its reply is queued back, then to
 * the interface again, which frees it after the callback.  Once the
 * interface has closed (ui_gone), the core frees what it answers.  Each
 * side's uv_async is woken only under the mutex and only while it is
 * open (core_gone, ui_ready and ui_gone say so).
 *
 * Events wait for the interface in memory, so they are bounded: past
 * MAX_EVENTS queued (a terminal frozen under heavy traffic), they are
 * dropped, and once the interface has taken what was queued it is told
 * "connected" again, which makes it fetch every list afresh.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "api/api-int.h"
#include "api/link-int.h"

enum { M_REQ, M_CLOSE, M_REPLY, M_EVENT, M_STATE };

#define MAX_EVENTS	20000	/* queued for the interface, at most */

struct breq {
	LIST_ENTRY(breq)	 link;		/* the interface's, unanswered */
	struct gp_bridge	*b;
	gp_link_reply_fn	 fn;
	void			*data;
	char			*method, *path;
};

struct bmsg {
	STAILQ_ENTRY(bmsg) link;
	int		 kind;
	struct breq	*req;		/* M_REQ, M_REPLY */
	int		 status;	/* M_REPLY; M_STATE: connected */
	char		*text;		/* M_EVENT: type; M_STATE: why */
	cJSON		*json;		/* M_REQ: body; M_REPLY, M_EVENT */
};

STAILQ_HEAD(bqueue, bmsg);

struct gp_bridge {
	uv_mutex_t		 mu;
	struct bqueue		 to_core, to_ui;
	/* the core's half, on its thread */
	struct gp_link		*local;
	uv_async_t		 core_async;
	int			 core_gone;	/* mu: core_async closing */
	/* the interface's half, on its thread */
	struct gp_link		*ui;
	uv_async_t		 ui_async;
	int			 ui_ready;	/* mu: ui_async open */
	int			 ui_gone;	/* mu: closed */
	size_t			 nevents;	/* mu: M_EVENTs in to_ui */
	size_t			 max_events;	/* MAX_EVENTS but in tests */
	size_t			 nreplies;	/* mu: M_REPLYs in to_ui */
	int			 lagged;	/* mu: some were dropped */
	LIST_HEAD(, breq)	 unanswered;
};

/* Moves everything queued on from to the empty queue to. */
static void
take(struct bqueue *to, struct bqueue *from)
{
	STAILQ_INIT(to);
	STAILQ_CONCAT(to, from);
}

static struct bmsg *
msg(int kind)
{
	struct bmsg *m = gp_xcalloc(1, sizeof *m);

	m->kind = kind;
	return m;
}

static void
req_free(struct breq *r)
{
	if (r == NULL)
		return;
	free(r->method);
	free(r->path);
	free(r);
}

static void
msg_free(struct bmsg *m)
{
	req_free(m->req);
	cJSON_Delete(m->json);
	free(m->text);
	free(m);
}

static void
free_all(struct bqueue *q)
{
	struct bmsg *m;

	while ((m = STAILQ_FIRST(q)) != NULL) {
		STAILQ_REMOVE_HEAD(q, link);
		msg_free(m);
	}
}

/* --- the core's half ------------------------------------------------ */

/* Core: m to the interface, or freed when it has gone. */
static void
to_ui(struct gp_bridge *b, struct bmsg *m)
{
	int	kept = 0;

	uv_mutex_lock(&b->mu);
	if (m->kind == M_EVENT && b->nevents >= b->max_events)
		b->lagged = 1;
	else if (!b->ui_gone) {
		STAILQ_INSERT_TAIL(&b->to_ui, m, link);
		b->nevents += m->kind == M_EVENT;
		b->nreplies += m->kind == M_REPLY;
		if (b->ui_ready)
			uv_async_send(&b->ui_async);
		kept = 1;
	}
	uv_mutex_unlock(&b->mu);
	if (!kept)
		msg_free(m);
}

static void
core_reply(void *data, int status, const cJSON *json)
{
	struct breq	*r = data;
	struct bmsg	*m = msg(M_REPLY);

	m->req = r;
	m->status = status;
	m->json = json != NULL ? cJSON_Duplicate(json, 1) : NULL;
	to_ui(r->b, m);
}

static void
core_event(void *data, const char *type, cJSON **payload)
{
	struct bmsg *m = msg(M_EVENT);

	m->text = gp_xstrdup(type);
	m->json = *payload;		/* taken: no copy */
	*payload = NULL;
	to_ui(data, m);
}

static void
core_state(void *data, int connected, const char *why)
{
	struct bmsg *m = msg(M_STATE);

	m->status = connected;
	m->text = why != NULL ? gp_xstrdup(why) : NULL;
	to_ui(data, m);
}

/*
 * Core: runs the requests of q (answered 0 once the core's half has
 * closed); 1 when the interface asked to close.
 */
static int
core_run(struct gp_bridge *b, struct bqueue *q)
{
	struct bmsg	*m;
	int		 close = 0;

	while ((m = STAILQ_FIRST(q)) != NULL) {
		STAILQ_REMOVE_HEAD(q, link);
		if (m->kind == M_REQ && b->local != NULL)
			gp_link_request(b->local, m->req->method,
			    m->req->path, m->json, core_reply, m->req);
		else if (m->kind == M_REQ)
			core_reply(m->req, 0, NULL);
		else if (m->kind == M_CLOSE)
			close = 1;
		if (m->kind == M_REQ)
			m->req = NULL;		/* the core's until answered */
		msg_free(m);
	}
	return close;
}

/* Core: closes its half once; what is still queued for it is answered
 * (status 0).  The interface sends nothing more after core_gone. */
static void
core_close(struct gp_bridge *b)
{
	struct bqueue	q;
	int		close_async;

	if (b->local != NULL) {
		gp_link_close(b->local);	/* its own queue answered 0 */
		b->local = NULL;
	}
	uv_mutex_lock(&b->mu);
	close_async = !b->core_gone;
	b->core_gone = 1;
	take(&q, &b->to_core);
	uv_mutex_unlock(&b->mu);
	core_run(b, &q);
	if (close_async)
		uv_close((uv_handle_t *)&b->core_async, NULL);
}

static void
core_on_async(uv_async_t *h)
{
	struct gp_bridge	*b = h->data;
	struct bqueue		 q;

	uv_mutex_lock(&b->mu);
	take(&q, &b->to_core);
	uv_mutex_unlock(&b->mu);
	if (core_run(b, &q))
		core_close(b);
}

struct gp_bridge *
gp_link_bridge_new(struct gp_ctl *ctl)
{
	struct gp_bridge *b = gp_xcalloc(1, sizeof *b);

	uv_mutex_init(&b->mu);
	STAILQ_INIT(&b->to_core);
	STAILQ_INIT(&b->to_ui);
	LIST_INIT(&b->unanswered);
	b->max_events = MAX_EVENTS;
	uv_async_init(gp_ctl_loop(ctl), &b->core_async, core_on_async);
	b->core_async.data = b;
	b->local = gp_link_local(ctl, core_event, core_state, b);
	return b;
}

void
gp_link_bridge_stop(struct gp_bridge *b)
{
	if (b != NULL)
		core_close(b);
}

/* --- the interface's half ------------------------------------------- */

static void
ui_on_async(uv_async_t *h)
{
	struct gp_bridge	*b = h->data;
	struct bqueue		 q;
	struct bmsg		*m;

	uv_mutex_lock(&b->mu);
	if (b->lagged) {		/* after what was kept: fetch afresh */
		struct bmsg *st = msg(M_STATE);

		b->lagged = 0;
		st->status = 1;
		STAILQ_INSERT_TAIL(&b->to_ui, st, link);
	}
	take(&q, &b->to_ui);
	b->nevents = b->nreplies = 0;
	uv_mutex_unlock(&b->mu);
	while ((m = STAILQ_FIRST(&q)) != NULL) {
		struct gp_link *l = b->ui;

		STAILQ_REMOVE_HEAD(&q, link);
		if (l == NULL) {		/* closed by a callback */
			msg_free(m);
			continue;
		}
		if (m->kind == M_REPLY) {
			LIST_REMOVE(m->req, link);
			if (m->req->fn != NULL)
				m->req->fn(m->req->data, m->status, m->json);
		} else if (m->kind == M_EVENT)
			l->on_event(l->data, m->text, &m->json);
		else if (m->kind == M_STATE)
			l->on_state(l->data, m->status, m->text);
		msg_free(m);
	}
}

struct gp_link *
gp_link_bridge_attach(struct gp_bridge *b, uv_loop_t *loop,
    gp_link_event_fn ev, gp_link_state_fn st, void *data)
{
	struct gp_link *l = gp_xcalloc(1, sizeof *l);

	l->loop = loop;
	l->on_event = ev;
	l->on_state = st;
	l->data = data;
	l->bridge = b;
	snprintf(l->target, sizeof l->target, "local");
	uv_timer_init(loop, &l->timer);
	l->timer.data = l;
	uv_async_init(loop, &b->ui_async, ui_on_async);
	b->ui_async.data = b;
	b->ui = l;
	uv_mutex_lock(&b->mu);
	b->ui_ready = 1;
	if (!STAILQ_EMPTY(&b->to_ui))	/* "connected", queued meanwhile */
		uv_async_send(&b->ui_async);
	uv_mutex_unlock(&b->mu);
	return l;
}

void
gp_link_bridge_request(struct gp_link *l, const char *method,
    const char *path, const cJSON *body, gp_link_reply_fn fn, void *data)
{
	struct gp_bridge	*b = l->bridge;
	struct breq		*r = gp_xcalloc(1, sizeof *r);
	struct bmsg		*m = msg(M_REQ);
	int			 sent = 0;

	r->b = b;
	r->fn = fn;
	r->data = data;
	r->method = gp_xstrdup(method);
	r->path = gp_xstrdup(path);
	m->req = r;
	m->json = body != NULL ? cJSON_Duplicate(body, 1) : NULL;
	uv_mutex_lock(&b->mu);
	if (!b->core_gone) {
		LIST_INSERT_HEAD(&b->unanswered, r, link);
		STAILQ_INSERT_TAIL(&b->to_core, m, link);
		uv_async_send(&b->core_async);
		sent = 1;
	}
	uv_mutex_unlock(&b->mu);
	if (!sent) {			/* the core has stopped */
		gp_link_queue_reply(l, fn, data, 0, NULL);
		msg_free(m);
	}
}

/* Interface: every unanswered request is answered 0 (by the link's
 * close), the core is told, nothing is delivered from now on. */
void
gp_link_bridge_close_ui(struct gp_link *l)
{
	struct gp_bridge	*b = l->bridge;
	struct breq		*r;
	struct bqueue		 q;

	uv_mutex_lock(&b->mu);
	b->ui_gone = 1;
	take(&q, &b->to_ui);
	b->nevents = b->nreplies = 0;
	while ((r = LIST_FIRST(&b->unanswered)) != NULL) {
		LIST_REMOVE(r, link);	/* the core frees it from now on */
		gp_link_queue_reply(l, r->fn, r->data, 0, NULL);
	}
	if (!b->core_gone) {
		struct bmsg *m = msg(M_CLOSE);	/* (the macro names it thrice) */

		STAILQ_INSERT_TAIL(&b->to_core, m, link);
		uv_async_send(&b->core_async);
	}
	uv_mutex_unlock(&b->mu);
	b->ui = NULL;
	uv_close((uv_handle_t *)&b->ui_async, NULL);
	free_all(&q);	/* replies here were unanswered: answered above */
}

void
gp_link_bridge_limit(struct gp_bridge *b, size_t max_events)
{
	uv_mutex_lock(&b->mu);
	b->max_events = max_events;
	uv_mutex_unlock(&b->mu);
}

size_t
gp_link_bridge_waiting(struct gp_bridge *b, size_t *events, int *lagged)
{
	size_t n;

	uv_mutex_lock(&b->mu);
	n = b->nreplies;
	*events = b->nevents;
	*lagged = b->lagged;
	uv_mutex_unlock(&b->mu);
	return n;
}

/* Both threads done (the core's joined, the interface's loop ended). */
void
gp_link_bridge_free(struct gp_bridge *b)
{
	if (b == NULL)
		return;
	free_all(&b->to_core);
	free_all(&b->to_ui);
	uv_mutex_destroy(&b->mu);
	free(b);
}
