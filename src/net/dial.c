/* dial.c: connect to the first address that answers, one at a time. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "net/net.h"

struct gp_dial {
	uv_loop_t		*loop;
	struct sockaddr_storage	 addrs[GP_RESOLVE_MAX];
	size_t			 n, next;
	unsigned		 timeout_ms;
	uv_tcp_t		*tcp;		/* attempt in progress */
	uv_connect_t		 req;
	uv_timer_t		 timer;
	int			 refs;		/* timer + connect in flight */
	int			 cancelled;
	int			 last_err;
	gp_dial_cb		 cb;
	void			*data;
};

static void	try_next(struct gp_dial *);

static void
free_tcp(uv_handle_t *h)
{
	free(h);
}

void
gp_tcp_close_free(uv_tcp_t *tcp)
{
	if (tcp != NULL && !uv_is_closing((uv_handle_t *)tcp))
		uv_close((uv_handle_t *)tcp, free_tcp);
}

static void
unref(struct gp_dial *d)
{
	if (--d->refs == 0)
		free(d);
}

static void
on_timer_closed(uv_handle_t *h)
{
	unref(h->data);
}

/* Reports once and starts tearing the dialer down. */
static void
done(struct gp_dial *d, uv_tcp_t *tcp, int status, const struct sockaddr *sa)
{
	if (!d->cancelled)
		d->cb(d->data, tcp, status, sa);
	d->cancelled = 1;
	uv_close((uv_handle_t *)&d->timer, on_timer_closed);
}

static void
on_connect(uv_connect_t *req, int status)
{
	struct gp_dial	*d = req->data;
	uv_tcp_t	*tcp = d->tcp;

	uv_timer_stop(&d->timer);
	d->tcp = NULL;
	if (d->cancelled) {
		gp_tcp_close_free(tcp);
		unref(d);
		return;
	}
	if (status == 0) {
		uv_tcp_nodelay(tcp, 1);
		done(d, tcp, 0, (struct sockaddr *)&d->addrs[d->next - 1]);
		unref(d);
		return;
	}
	if (status != UV_ECANCELED)
		d->last_err = status;
	gp_tcp_close_free(tcp);
	unref(d);
	try_next(d);
}

static void
on_timeout(uv_timer_t *t)
{
	struct gp_dial *d = t->data;

	/* Closing the handle makes on_connect run with UV_ECANCELED. */
	d->last_err = UV_ETIMEDOUT;
	if (d->tcp != NULL)
		gp_tcp_close_free(d->tcp);
}

static void
try_next(struct gp_dial *d)
{
	int	rc;

	if (d->cancelled)
		return;
	while (d->next < d->n) {
		const struct sockaddr *sa =
		    (const struct sockaddr *)&d->addrs[d->next++];

		d->tcp = gp_xmalloc(sizeof *d->tcp);
		uv_tcp_init(d->loop, d->tcp);
		d->req.data = d;
		rc = uv_tcp_connect(&d->req, d->tcp, sa, on_connect);
		if (rc == 0) {
			d->refs++;
			uv_timer_start(&d->timer, on_timeout, d->timeout_ms,
			    0);
			return;
		}
		d->last_err = rc;
		gp_tcp_close_free(d->tcp);
		d->tcp = NULL;
	}
	done(d, NULL, d->last_err ? d->last_err : UV_EHOSTUNREACH, NULL);
}

/* Deferred start so the callback never runs inside gp_dial_start(). */
static void
on_start(uv_timer_t *t)
{
	try_next(t->data);
}

struct gp_dial *
gp_dial_start(uv_loop_t *loop, const struct sockaddr_storage *addrs,
    size_t n, unsigned timeout_ms, gp_dial_cb cb, void *data)
{
	struct gp_dial	*d = gp_xcalloc(1, sizeof *d);

	d->loop = loop;
	d->n = n < GP_RESOLVE_MAX ? n : GP_RESOLVE_MAX;
	memcpy(d->addrs, addrs, d->n * sizeof *addrs);
	d->timeout_ms = timeout_ms;
	d->cb = cb;
	d->data = data;
	d->refs = 1;		/* the timer */
	uv_timer_init(loop, &d->timer);
	d->timer.data = d;
	uv_timer_start(&d->timer, on_start, 0, 0);
	return d;
}

void
gp_dial_cancel(struct gp_dial *d)
{
	if (d->cancelled)
		return;
	d->cancelled = 1;
	if (d->tcp != NULL)
		gp_tcp_close_free(d->tcp);
	uv_close((uv_handle_t *)&d->timer, on_timer_closed);
}
