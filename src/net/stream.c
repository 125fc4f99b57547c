/*
 * stream.c: the stream interface (net.h) and its TCP implementation, and
 * the pool of read blocks every stream shares.
 *
 * The pool keeps a few free blocks per thread: a busy relay takes and
 * returns the same ones, so a read costs no allocation and touches no
 * fresh page (a fresh 64 KiB malloc per read was about 30 % of tunnel
 * CPU in page faults), while an idle connection holds none.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "net/net.h"

#define POOL_MAX	64		/* free blocks kept: 4 MiB */

static _Thread_local struct {
	char	*free[POOL_MAX];
	int	 n;
} pool;

char *
gp_block_get(void)
{
	return pool.n > 0 ? pool.free[--pool.n] : gp_xmalloc(GP_BLOCK);
}

void
gp_block_put(char *b)
{
	if (b == NULL)
		return;
	if (pool.n < POOL_MAX)
		pool.free[pool.n++] = b;
	else
		free(b);
}

void
gp_block_pool_drain(void)
{
	while (pool.n > 0)
		free(pool.free[--pool.n]);
}

/* The interface: thin calls through the ops, refused once closing. */

int
gp_stream_read_start(struct gp_stream *s)
{
	return s->closing ? UV_EINVAL : s->ops->read_start(s);
}

void
gp_stream_read_stop(struct gp_stream *s)
{
	if (!s->closing)
		s->ops->read_stop(s);
}

int
gp_stream_write(struct gp_stream *s, const void *p, size_t n)
{
	if (s->closing)
		return UV_EPIPE;
	return n == 0 ? 0 : s->ops->write(s, NULL, p, n);
}

int
gp_stream_write_block(struct gp_stream *s, char *block, const char *p,
    size_t n)
{
	if (s->closing || n == 0) {
		gp_block_put(block);
		return s->closing ? UV_EPIPE : 0;
	}
	return s->ops->write(s, block, p, n);
}

size_t
gp_stream_queued(const struct gp_stream *s)
{
	return s->ops->queued(s);
}

int
gp_stream_shutdown(struct gp_stream *s, void (*cb)(struct gp_stream *, int))
{
	return s->closing ? UV_EPIPE : s->ops->shutdown(s, cb);
}

void
gp_stream_close(struct gp_stream *s, void (*cb)(struct gp_stream *))
{
	if (s->closing)
		return;
	s->closing = 1;
	s->on_close = cb;
	s->ops->close(s);
}

/* TCP. */

struct tcp_stream {
	struct gp_stream	 s;
	uv_tcp_t		*tcp;
};

struct twrite {
	uv_write_t		 req;
	struct tcp_stream	*t;
	char			*base;
	unsigned		 block:1;	/* base is a pool block */
};

static const struct gp_stream_ops tcp_ops;

static void
tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	buf->base = gp_block_get();
	buf->len = GP_BLOCK;
}

static void
tcp_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf)
{
	struct tcp_stream	*t = h->data;

	if (nread > 0 && !t->s.closing) {
		if (t->s.cbs->read(&t->s, buf->base, nread) == 0)
			gp_block_put(buf->base);
		return;
	}
	gp_block_put(buf->base);
	if (nread == 0 || t->s.closing)
		return;
	t->s.cbs->read(&t->s, NULL, nread);
}

static int
tcp_read_start(struct gp_stream *s)
{
	struct tcp_stream *t = (struct tcp_stream *)s;

	return uv_read_start((uv_stream_t *)t->tcp, tcp_alloc, tcp_read);
}

static void
tcp_read_stop(struct gp_stream *s)
{
	uv_read_stop((uv_stream_t *)((struct tcp_stream *)s)->tcp);
}

static void
tcp_written(uv_write_t *req, int status)
{
	struct twrite		*w = (struct twrite *)req;
	struct tcp_stream	*t = w->t;

	if (w->block)
		gp_block_put(w->base);
	else
		free(w->base);
	free(w);
	if (!t->s.closing && t->s.cbs->written != NULL)
		t->s.cbs->written(&t->s, status);
}

static int
tcp_write(struct gp_stream *s, char *block, const char *p, size_t n)
{
	struct tcp_stream	*t = (struct tcp_stream *)s;
	struct twrite		*w;
	uv_buf_t		 b;
	int			 k, rc;

	if (t->tcp->write_queue_size == 0) {
		/* Nothing queued: straight to the socket, no request. */
		b = uv_buf_init((char *)p, (unsigned)n);
		k = uv_try_write((uv_stream_t *)t->tcp, &b, 1);
		if (k == (int)n) {
			gp_block_put(block);
			return 0;
		}
		if (k < 0 && k != UV_EAGAIN) {
			gp_block_put(block);
			return k;
		}
		if (k > 0) {
			p += k;
			n -= (size_t)k;
		}
	}
	w = gp_xmalloc(sizeof *w);
	w->t = t;
	if (block != NULL) {
		w->base = block;
		w->block = 1;
		b = uv_buf_init((char *)p, (unsigned)n);
	} else {
		w->base = gp_xmalloc(n);
		w->block = 0;
		memcpy(w->base, p, n);
		b = uv_buf_init(w->base, (unsigned)n);
	}
	if ((rc = uv_write(&w->req, (uv_stream_t *)t->tcp, &b, 1,
	    tcp_written)) != 0) {
		if (w->block)
			gp_block_put(w->base);
		else
			free(w->base);
		free(w);
	}
	return rc;
}

static size_t
tcp_queued(const struct gp_stream *s)
{
	return ((const struct tcp_stream *)s)->tcp->write_queue_size;
}

static void
tcp_shut(uv_shutdown_t *req, int status)
{
	struct tcp_stream	*t = req->data;

	free(req);
	if (!t->s.closing && t->s.on_shut != NULL)
		t->s.on_shut(&t->s, status);
}

static int
tcp_shutdown(struct gp_stream *s, void (*cb)(struct gp_stream *, int))
{
	struct tcp_stream	*t = (struct tcp_stream *)s;
	uv_shutdown_t		*req = gp_xmalloc(sizeof *req);
	int			 rc;

	req->data = t;
	s->on_shut = cb;
	if ((rc = uv_shutdown(req, (uv_stream_t *)t->tcp, tcp_shut)) != 0)
		free(req);
	return rc;
}

/* After the cancelled writes and shutdown have run (libuv's order). */
static void
tcp_closed(uv_handle_t *h)
{
	struct tcp_stream	*t = h->data;

	free(h);
	if (t->s.on_close != NULL)
		t->s.on_close(&t->s);
	free(t);
}

static void
tcp_close(struct gp_stream *s)
{
	struct tcp_stream *t = (struct tcp_stream *)s;

	uv_close((uv_handle_t *)t->tcp, tcp_closed);
}

static const struct gp_stream_ops tcp_ops = {
	.name = "tcp",
	.read_start = tcp_read_start,
	.read_stop = tcp_read_stop,
	.write = tcp_write,
	.queued = tcp_queued,
	.shutdown = tcp_shutdown,
	.close = tcp_close,
};

struct gp_stream *
gp_stream_tcp_new(uv_tcp_t *tcp, const struct gp_stream_cbs *cbs, void *data)
{
	struct tcp_stream *t = gp_xcalloc(1, sizeof *t);

	t->s.ops = &tcp_ops;
	t->s.cbs = cbs;
	t->s.data = data;
	t->tcp = tcp;
	tcp->data = t;
	return &t->s;
}

uv_tcp_t *
gp_stream_tcp(struct gp_stream *s)
{
	return s->ops == &tcp_ops ? ((struct tcp_stream *)s)->tcp : NULL;
}

int
gp_stream_detach_fd(struct gp_stream *s, void (*cb)(struct gp_stream *))
{
	uv_os_fd_t	fd;
	int		dup_fd;

	if (s->ops != &tcp_ops || s->closing || tcp_queued(s) != 0 ||
	    uv_fileno((uv_handle_t *)((struct tcp_stream *)s)->tcp, &fd) != 0 ||
	    (dup_fd = dup(fd)) < 0)
		return -1;
	gp_stream_close(s, cb);
	return dup_fd;
}
