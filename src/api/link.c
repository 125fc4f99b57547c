/*
 * link.c: the common face of local and remote links, and the local one:
 * requests run the API's route handlers in-process; bus events become
 * the WebSocket's JSON and are delivered on the next loop turn, outside
 * the bus dispatch, so a handler may issue requests freely.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api/api-int.h"
#include "api/link-int.h"

struct lreply {
	struct lreply		*next;
	gp_link_reply_fn	 fn;
	void			*data;
	int			 status;
	cJSON			*json;		/* reply or event payload */
	char			*type;		/* set for an event */
};

/* At the tail, in O(1): a burst queues thousands of events a turn. */
static void
queue(struct gp_link *l, struct lreply *q)
{
	if (l->tail == NULL || l->queue == NULL)
		l->tail = &l->queue;
	*l->tail = q;
	l->tail = &q->next;
	/* Closing: gp_link_unref() answers what is queued (status 0). */
	if (!l->closing && !uv_is_active((uv_handle_t *)&l->timer))
		uv_timer_start(&l->timer, gp_link_deliver, 0, 0);
}

void
gp_link_deliver(uv_timer_t *t)
{
	struct gp_link	*l = t->data;
	struct lreply	*q;

	while ((q = l->queue) != NULL && !l->closing) {
		l->queue = q->next;
		if (l->queue == NULL)
			l->tail = &l->queue;
		if (q->type != NULL)
			l->on_event(l->data, q->type, &q->json);
		else if (q->fn != NULL)
			q->fn(q->data, q->status, q->json);
		cJSON_Delete(q->json);
		free(q->type);
		free(q);
	}
}

void
gp_link_hold(struct gp_link *l)
{
	l->handles++;
}

void
gp_link_queue_reply(struct gp_link *l, gp_link_reply_fn fn, void *data,
    int status, cJSON *json)
{
	struct lreply *q = gp_xcalloc(1, sizeof *q);

	q->fn = fn;
	q->data = data;
	q->status = status;
	q->json = json;
	queue(l, q);
}

void
gp_link_later(struct gp_link *l, gp_link_reply_fn fn, void *data, int status,
    cJSON *json)
{
	gp_link_queue_reply(l, fn, data, status, json);
	gp_link_unref(l);	/* api_defer's hold; closing: answered 0 */
}

static void
on_bus(void *data, enum gp_event ev, const void *obj)
{
	struct gp_link	*l = data;
	struct lreply	*q = gp_xcalloc(1, sizeof *q);

	q->type = gp_xstrdup(gp_event_name(ev));
	q->json = gp_json_event(ev, obj);
	queue(l, q);
}

static void
on_connected(uv_timer_t *t)
{
	struct gp_link *l = t->data;

	uv_timer_stop(t);
	l->on_state(l->data, 1, NULL);
	gp_link_deliver(t);
}

struct gp_link *
gp_link_local(struct gp_ctl *ctl, gp_link_event_fn ev, gp_link_state_fn st,
    void *data)
{
	struct gp_link	*l = gp_xcalloc(1, sizeof *l);

	l->ctl = ctl;
	l->loop = gp_ctl_loop(ctl);
	l->on_event = ev;
	l->on_state = st;
	l->data = data;
	snprintf(l->target, sizeof l->target, "local");
	uv_timer_init(l->loop, &l->timer);
	l->timer.data = l;
	l->bus_sub = gp_bus_subscribe(gp_ctl_bus(ctl), on_bus, l);
	uv_timer_start(&l->timer, on_connected, 0, 0);
	return l;
}

/* Runs one request against the route table. */
static void
local_request(struct gp_link *l, const char *method, const char *path,
    const cJSON *body, gp_link_reply_fn fn, void *data)
{
	struct api_req	 r;
	struct api_resp	 resp;
	struct lreply	*q = gp_xcalloc(1, sizeof *q);
	const char	*qm = strchr(path, '?');
	char		*text = body ? cJSON_PrintUnformatted(body) : NULL;

	memset(&r, 0, sizeof r);
	memset(&resp, 0, sizeof resp);
	r.ctl = l->ctl;
	snprintf(r.method, sizeof r.method, "%s", method);
	snprintf(r.path, sizeof r.path, "%.*s", (int)(qm ? (size_t)(qm -
	    path) : strlen(path)), path);
	snprintf(r.query, sizeof r.query, "%s", qm ? qm + 1 : "");
	r.body = text;
	r.body_len = text ? strlen(text) : 0;
	r.link = l;
	r.link_fn = fn;
	r.link_data = data;
	if (api_route(&r, &resp) != 0)
		api_error(&resp, 404, "not found");
	free(text);
	if (resp.later != NULL) {	/* answered by gp_link_later */
		free(q);
		return;
	}
	q->fn = fn;
	q->data = data;
	q->status = resp.status;
	q->json = resp.json;
	if (resp.raw != NULL) {		/* a file: its text, as JSON */
		if (q->json == NULL)
			q->json = cJSON_CreateObject();
		cJSON_AddItemToObject(q->json, "content", cJSON_CreateString(
		    resp.raw));
		free(resp.raw);
	}
	queue(l, q);
}

void
gp_link_request(struct gp_link *l, const char *method, const char *path,
    const cJSON *body, gp_link_reply_fn fn, void *data)
{
	if (l->closing)	/* still answered exactly once: 0, from the close */
		gp_link_queue_reply(l, fn, data, 0, NULL);
	else if (l->ctl != NULL)
		local_request(l, method, path, body, fn, data);
	else if (l->bridge != NULL)
		gp_link_bridge_request(l, method, path, body, fn, data);
	else
		gp_link_remote_request(l, method, path, body, fn, data);
}

int
gp_link_is_remote(const struct gp_link *l)
{
	return l->ctl == NULL && l->bridge == NULL;
}

const char *
gp_link_target(const struct gp_link *l)
{
	return l->target;
}

void
gp_link_unref(struct gp_link *l)
{
	struct lreply	*q;

	if (--l->handles > 0 || !l->closing)
		return;
	while ((q = l->queue) != NULL) {
		l->queue = q->next;
		if (q->type == NULL && q->fn != NULL)
			q->fn(q->data, 0, NULL);	/* never left hanging */
		cJSON_Delete(q->json);
		free(q->type);
		free(q);
	}
	free(l);
}

static void
on_timer_closed(uv_handle_t *h)
{
	gp_link_unref(h->data);
}

void
gp_link_close(struct gp_link *l)
{
	if (l == NULL || l->closing)
		return;
	l->closing = 1;
	l->handles++;		/* the timer's: held before anything closes */
	if (l->ctl != NULL)
		gp_bus_unsubscribe(gp_ctl_bus(l->ctl), l->bus_sub);
	else if (l->bridge != NULL)
		gp_link_bridge_close_ui(l);
	else
		gp_link_remote_close(l);
	uv_close((uv_handle_t *)&l->timer, on_timer_closed);
}
