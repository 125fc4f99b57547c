/*
 * relay.c: the tunnel once a flow is decided and connected: bytes both
 * ways untouched, half-close passed on, the flow closed when both
 * directions have ended and everything queued is written.
 *
 * Two ways to move the bytes:
 *  - splice(2) through a pipe, when both sides are plain TCP with
 *    nothing queued: the sockets leave libuv's streams (their
 *    descriptors are duplicated, the streams closed) and are driven by
 *    uv_poll; the data never enters user space.  Pipes come from a small
 *    pool and are held only while bytes are in one, so an idle tunnel
 *    costs two descriptors, as before.
 *  - copy, through the streams (any stream: TLS next): a read lands in a
 *    pooled block that is handed to the other side's write, and comes
 *    back to the pool once written.
 * GREYPROXY_RELAY=copy in the environment forces the copy path (tests,
 * benchmarks).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/flow.h"

#define PIPE_POOL	32		/* idle pipes kept */
#define SPLICE_ROUNDS	8		/* reads per readiness event */
#define PIPE_SIZE	(1024 * 1024)	/* pages only while bytes are in it */

struct dir {
	int		 pipe[2];	/* -1 when none */
	size_t		 inpipe;	/* bytes in the pipe */
	unsigned	 eof:1;		/* source ended */
	unsigned	 shut:1;	/* EOF passed to the destination */
};

/* d[0] is client → upstream, d[1] upstream → client; fd[k] is the
 * source of d[k].  A body (gp_relay_body) is d[1] alone, on duplicates
 * of the streams' descriptors, for left bytes (-1: until EOF). */
struct gp_relay {
	struct gp_flow			*f;
	uv_poll_t			 poll[2];
	int				 fd[2];
	int				 events[2];
	struct dir			 d[2];
	int				 open;	/* polls not yet closed */
	int64_t				 left;
	const struct gp_bsplice_cbs	*body;	/* NULL: a tunnel */
};

static _Thread_local struct {
	int	p[PIPE_POOL][2];
	int	n;
} pipes;

static int	copy_read(struct gp_stream *, char *, ssize_t);

static const struct gp_stream_cbs copy_cbs = {
	.read = copy_read,
	.written = gp_flow_written,
};

/* Copy. */

static void
on_shut(struct gp_stream *st, int status)
{
	struct gp_side	*s = st->data;
	struct gp_flow	*f = s->f;

	if (f->c.eof && f->u.eof)
		gp_flow_close(f);
}

/* The source s ended: pass EOF on after what is queued; once both have
 * ended, the last shutdown closes the flow. */
static void
copy_eof(struct gp_flow *f, struct gp_side *s)
{
	struct gp_side	*o = gp_flow_other(s);

	if (o->st == NULL) {
		gp_flow_close(f);
		return;
	}
	if (!o->shut) {
		o->shut = 1;
		gp_flow_uncork(o);
		if (f->closing)
			return;
		if (gp_stream_shutdown(o->st, on_shut) != 0 && o->eof)
			gp_flow_close(f);
	}
}

static int
copy_read(struct gp_stream *st, char *block, ssize_t n)
{
	struct gp_side	*s = st->data;
	struct gp_flow	*f = s->f;

	if (n > 0) {
		s->nread += (uint64_t)n;
		f->last_active = uv_now(f->px->loop);
		if (f->tap_ops != NULL)
			f->tap_ops->data(f->tap, s == &f->c ? GP_TXN_REQUEST :
			    GP_TXN_RESPONSE, block, (size_t)n);
		gp_flow_write_block(gp_flow_other(s), block, block, (size_t)n);
		return 1;
	}
	if (n != UV_EOF) {
		gp_log(GP_LOG_DEBUG, "tunnel %s: read: %s", f->client_addr,
		    uv_strerror((int)n));
		gp_flow_close(f);
		return 0;
	}
	s->eof = 1;
	copy_eof(f, s);
	return 0;
}

static void
copy_start(struct gp_flow *f)
{
	struct gp_side	*s[2] = { &f->c, &f->u };
	int		 i;

	for (i = 0; i < 2; i++) {
		if (s[i]->st != NULL)
			s[i]->st->cbs = &copy_cbs;
		s[i]->paused = 0;
	}
	gp_flow_pace(&f->c);
	gp_flow_pace(&f->u);
	gp_flow_read(&f->c, 1);
	gp_flow_read(&f->u, 1);
	if (f->c.eof)
		copy_eof(f, &f->c);
	if (!f->closing && f->u.eof)
		copy_eof(f, &f->u);
}

/* Splice. */

static int
pipe_get(int p[2])
{
	if (pipes.n > 0) {
		pipes.n--;
		p[0] = pipes.p[pipes.n][0];
		p[1] = pipes.p[pipes.n][1];
		return 0;
	}
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0)
		return -1;
	(void)fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE);	/* else 64 KiB */
	return 0;
}

/* An empty pipe goes back to the pool; one with bytes in it is closed. */
static void
pipe_put(struct dir *d)
{
	if (d->pipe[0] < 0)
		return;
	if (d->inpipe == 0 && pipes.n < PIPE_POOL) {
		pipes.p[pipes.n][0] = d->pipe[0];
		pipes.p[pipes.n][1] = d->pipe[1];
		pipes.n++;
	} else {
		close(d->pipe[0]);
		close(d->pipe[1]);
	}
	d->pipe[0] = d->pipe[1] = -1;
	d->inpipe = 0;
}

static void
fail(struct gp_relay *r, const char *what, int err)
{
	gp_log(GP_LOG_DEBUG, "tunnel %s: %s: %s", r->f->client_addr, what,
	    strerror(err));
	gp_flow_close(r->f);
}

/* d's pipe into fd until it is empty or fd is full; *moved says how
 * much went.  0, or the errno of a failed write. */
static int
pipe_out(struct dir *d, int fd, size_t *moved)
{
	ssize_t	n;

	*moved = 0;
	while (d->inpipe > 0) {
		n = splice(d->pipe[0], NULL, fd, NULL, d->inpipe,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			return n < 0 ? errno : EPIPE;
		d->inpipe -= (size_t)n;
		*moved += (size_t)n;
	}
	return 0;
}

static void	body_end(struct gp_relay *, int);

/* The pipe of d[k] to its destination; EOF follows once it is empty (a
 * body's end hands the flow back).  0, or -1 when the relay ended. */
static int
pump_out(struct gp_relay *r, int k)
{
	struct dir	*d = &r->d[k];
	size_t		 n;
	int		 e;

	if ((e = pipe_out(d, r->fd[1 - k], &n)) != 0) {
		fail(r, "write", e);
		return -1;
	}
	if (n > 0 && r->body != NULL) {
		r->f->last_active = uv_now(r->f->px->loop); /* a slow reader */
		r->body->moved(r->f, n);
	}
	if (d->inpipe > 0)
		return 0;
	pipe_put(d);
	if (r->body != NULL) {
		if (r->left != 0 && !d->eof)
			return 0;
		body_end(r, r->left == 0 ? 0 : UV_EOF);
		return -1;
	}
	if (d->eof && !d->shut) {
		d->shut = 1;
		shutdown(r->fd[1 - k], SHUT_WR);
	}
	if (r->d[0].shut && r->d[1].shut) {
		gp_flow_close(r->f);
		return -1;
	}
	return 0;
}

/* Reads d[k]'s source into its pipe and on, while both keep up. */
static int
pump_in(struct gp_relay *r, int k)
{
	struct dir	*d = &r->d[k];
	struct gp_flow	*f = r->f;
	size_t		 want;
	ssize_t		 n;
	int		 i;

	for (i = 0; i < SPLICE_ROUNDS && d->inpipe == 0 && !d->eof; i++) {
		if (d->pipe[0] < 0 && pipe_get(d->pipe) != 0) {
			fail(r, "pipe", errno);
			return -1;
		}
		want = r->left >= 0 && r->left < PIPE_SIZE ? (size_t)r->left :
		    PIPE_SIZE;
		n = splice(r->fd[k], NULL, d->pipe[1], NULL, want,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			if (r->body == NULL) {
				fail(r, "read", errno);
				return -1;
			}
			n = 0;	/* an origin's reset ends a body as EOF */
		}
		if (n == 0)
			d->eof = 1;
		d->inpipe = (size_t)n;
		if (r->left > 0)
			r->left -= n;
		if (k == 0)
			f->c.nread += (uint64_t)n;
		else
			f->u.nread += (uint64_t)n;
		f->last_active = uv_now(f->px->loop);
		if (pump_out(r, k) != 0)
			return -1;
	}
	if (d->inpipe == 0)
		pipe_put(d);
	return 0;
}

static void	on_poll(uv_poll_t *, int, int);

/* What each socket waits for: readable while its pipe is empty,
 * writable while the other direction's pipe holds bytes for it. */
static void
arm(struct gp_relay *r)
{
	int	k, ev;

	for (k = 0; k < 2; k++) {
		ev = 0;
		if (r->d[k].inpipe == 0 && !r->d[k].eof)
			ev |= UV_READABLE;
		if (r->d[1 - k].inpipe > 0)
			ev |= UV_WRITABLE;
		if (ev == r->events[k])
			continue;
		r->events[k] = ev;
		if (ev == 0)
			uv_poll_stop(&r->poll[k]);
		else
			uv_poll_start(&r->poll[k], ev, on_poll);
	}
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
	struct gp_relay	*r = h->data;
	int		 k = h == &r->poll[0] ? 0 : 1;

	if (status < 0) {
		fail(r, "poll", -status);
		return;
	}
	if ((events & UV_WRITABLE) && pump_out(r, 1 - k) != 0)
		return;
	if ((events & UV_READABLE) && pump_in(r, k) != 0)
		return;
	arm(r);
}

static void
poll_closed(uv_handle_t *h)
{
	struct gp_relay	*r = h->data;
	struct gp_flow	*f = r->f;

	close(r->fd[h == (uv_handle_t *)&r->poll[0] ? 0 : 1]);
	if (--r->open == 0) {
		pipe_put(&r->d[0]);
		pipe_put(&r->d[1]);
		free(r);
	}
	gp_flow_release_handle(f);
}

void
gp_relay_close(struct gp_flow *f)
{
	struct gp_relay	*r = f->relay;
	int		 k;

	if (r == NULL)
		return;
	f->relay = NULL;
	for (k = 0; k < 2; k++)
		uv_close((uv_handle_t *)&r->poll[k], poll_closed);
}

static int
copy_forced(void)
{
	const char *m = getenv("GREYPROXY_RELAY");

	return m != NULL && strcmp(m, "copy") == 0;
}

static int
splice_wanted(struct gp_flow *f)
{
	if (copy_forced())
		return 0;
	if (f->tap_ops != NULL)
		return 0;		/* watched: the bytes pass through us */
	return f->c.st != NULL && f->u.st != NULL &&
	    gp_stream_tcp(f->c.st) != NULL && gp_stream_tcp(f->u.st) != NULL &&
	    gp_stream_queued(f->c.st) == 0 && gp_stream_queued(f->u.st) == 0 &&
	    !f->c.eof && !f->u.eof;
}

static void
side_gone(struct gp_stream *st)
{
	gp_flow_release_handle(((struct gp_side *)st->data)->f);
}

/* A relay polling fc (the client's socket) and fu (the origin's), which
 * it closes when it ends. */
static struct gp_relay *
relay_new(struct gp_flow *f, int fc, int fu)
{
	struct gp_relay	*r = gp_xcalloc(1, sizeof *r);
	int		 k;

	r->f = f;
	r->fd[0] = fc;
	r->fd[1] = fu;
	r->left = -1;
	for (k = 0; k < 2; k++) {
		r->d[k].pipe[0] = r->d[k].pipe[1] = -1;
		uv_poll_init_socket(f->px->loop, &r->poll[k], r->fd[k]);
		r->poll[k].data = r;
		gp_flow_hold_handle(f);
		r->open++;
	}
	f->relay = r;
	return r;
}

/* 0; -1 when nothing changed (copy instead); -2 when the flow must
 * close (the client's socket was handed over, the upstream's was not). */
static int
splice_start(struct gp_flow *f)
{
	int	fc, fu;

	if ((fc = gp_stream_detach_fd(f->c.st, side_gone)) < 0)
		return -1;
	f->c.st = NULL;
	if ((fu = gp_stream_detach_fd(f->u.st, side_gone)) < 0) {
		close(fc);
		return -2;
	}
	f->u.st = NULL;
	relay_new(f, fc, fu);
	f->px->stats.spliced++;
	arm(f->relay);
	return 0;
}

void
gp_relay_start(struct gp_flow *f)
{
	f->c.paused = f->u.paused = 0;
	switch (splice_wanted(f) ? splice_start(f) : -1) {
	case 0:
		return;
	case -1:
		f->px->stats.copied++;
		copy_start(f);
		return;
	default:
		gp_flow_close(f);
	}
}


/*
 * A body by splice: the relay polls duplicates of the two streams'
 * descriptors for d[1] alone (the client is not read: d[0] has ended),
 * while the streams themselves are held (gp_flow_read); the body's end
 * closes the duplicates and hands the sockets back as they were.
 */
static void
body_end(struct gp_relay *r, int status)
{
	struct gp_flow			*f = r->f;
	const struct gp_bsplice_cbs	*cbs = r->body;

	gp_relay_close(f);
	if (status == UV_EOF)
		f->u.eof = 1;
	gp_flow_read(&f->c, f->c.reading);
	gp_flow_read(&f->u, f->u.reading);
	cbs->done(f, status);
}

int
gp_relay_body(struct gp_flow *f, int64_t len, const struct gp_bsplice_cbs *cbs)
{
	struct gp_relay	*r;
	uv_tcp_t	*tc, *tu;
	uv_os_fd_t	 fc, fu;
	int		 dc, du;

	if (copy_forced() || f->relay != NULL || f->c.st == NULL ||
	    f->u.st == NULL || (tc = gp_stream_tcp(f->c.st)) == NULL ||
	    (tu = gp_stream_tcp(f->u.st)) == NULL ||
	    gp_stream_queued(f->c.st) != 0 ||
	    uv_fileno((uv_handle_t *)tc, &fc) != 0 ||
	    uv_fileno((uv_handle_t *)tu, &fu) != 0)
		return -1;
	if ((dc = fcntl(fc, F_DUPFD_CLOEXEC, 0)) < 0)
		return -1;
	if ((du = fcntl(fu, F_DUPFD_CLOEXEC, 0)) < 0) {
		close(dc);
		return -1;
	}
	gp_stream_read_stop(f->c.st);
	gp_stream_read_stop(f->u.st);
	r = relay_new(f, dc, du);
	r->left = len;
	r->body = cbs;
	r->d[0].eof = r->d[0].shut = 1;
	f->px->stats.body_spliced++;
	arm(r);
	return 0;
}
