/*
 * t-stream.c: the stream layer and the flow engine's lifetimes, on a real
 * loop over loopback sockets:
 *  - the block pool hands back what it was given;
 *  - bytes written to a stream arrive whole, the rest queued, queued()
 *    counting them; reads arrive in blocks a reader may keep;
 *  - a stream closed with writes still queued runs no callback but its
 *    close callback (its cancelled writes are not a failed peer);
 *  - a detached stream hands over a socket that still carries bytes;
 *  - gp_flow_new() on a listener with nothing to accept frees the flow
 *    it made, and unlinks only what it linked;
 * each ending with uv_loop_close() == 0.
 */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "core/core.h"
#include "net/net.h"
#include "proxy/flow.h"
#include "../lib/tap.h"

#define BIG	(8 * 1024 * 1024)

static uv_loop_t	 loop;
static uv_tcp_t	 server;
static struct gp_stream	*srv_side;	/* the accepted end, as a stream */
static uv_tcp_t		*cli;		/* the dialing end, plain */
static int		 reads, written_calls, closes, kept;
static size_t		 got;
static char		*kept_block;

static int
on_read(struct gp_stream *s, char *block, ssize_t n)
{
	reads++;
	if (n > 0) {
		got += (size_t)n;
		if (kept_block == NULL) {	/* keep the first block */
			kept_block = block;
			kept++;
			return 1;
		}
	}
	return 0;
}

static void
on_written(struct gp_stream *s, int status)
{
	written_calls++;
}

static const struct gp_stream_cbs cbs = {
	.read = on_read,
	.written = on_written,
};

static void
on_closed(struct gp_stream *s)
{
	closes++;
}

static void
on_accept(uv_stream_t *srv, int status)
{
	uv_tcp_t *t = gp_xmalloc(sizeof *t);

	uv_tcp_init(&loop, t);
	if (uv_accept(srv, (uv_stream_t *)t) != 0) {
		free(t);
		return;
	}
	srv_side = gp_stream_tcp_new(t, &cbs, NULL);
}

static void
on_connect(uv_connect_t *req, int status)
{
}

static void
cli_closed(uv_handle_t *h)
{
	free(h);
}

/* A connected pair: srv_side (stream) and cli (plain handle). */
static void
pair(void)
{
	struct sockaddr_storage	ss;
	int			len = sizeof ss;
	struct sockaddr_in	sin;
	uv_connect_t		req;

	srv_side = NULL;
	uv_ip4_addr("127.0.0.1", 0, &sin);
	uv_tcp_init(&loop, &server);
	uv_tcp_bind(&server, (struct sockaddr *)&sin, 0);
	uv_listen((uv_stream_t *)&server, 8, on_accept);
	uv_tcp_getsockname(&server, (struct sockaddr *)&ss, &len);
	cli = gp_xmalloc(sizeof *cli);
	uv_tcp_init(&loop, cli);
	uv_tcp_connect(&req, cli, (struct sockaddr *)&ss, on_connect);
	while (srv_side == NULL || !uv_is_writable((uv_stream_t *)cli))
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&server, NULL);
}

static void
test_pool(void)
{
	char *a = gp_block_get(), *b;

	gp_block_put(a);
	b = gp_block_get();
	ok(a == b, "the pool hands back the block it was given");
	gp_block_put(b);
}

/* Reads through a stream: blocks, one kept by the reader. */
static void
test_read(void)
{
	char	buf[100000];
	uv_buf_t b = uv_buf_init(buf, sizeof buf);
	int	k;

	pair();
	memset(buf, 'x', sizeof buf);
	got = 0;
	gp_stream_read_start(srv_side);
	k = uv_try_write((uv_stream_t *)cli, &b, 1);
	ok(k > 0, "the peer wrote %d bytes", k);
	while (got < (size_t)k)
		uv_run(&loop, UV_RUN_ONCE);
	is_int(got, k, "every byte arrived through the stream");
	ok(kept == 1 && kept_block != NULL && kept_block[0] == 'x',
	    "a block the reader kept is its own, with the bytes in it");
	gp_block_put(kept_block);
	gp_stream_close(srv_side, on_closed);
	uv_close((uv_handle_t *)cli, cli_closed);
	uv_run(&loop, UV_RUN_DEFAULT);
	is_int(closes, 1, "closed once");
}

/* Writes queue when the peer does not read; closing drops them quietly. */
static void
test_close_with_queued_writes(void)
{
	char	*data = gp_xmalloc(BIG);
	int	 rc;

	closes = written_calls = 0;
	pair();
	memset(data, 'y', BIG);
	rc = gp_stream_write(srv_side, data, BIG);
	is_int(rc, 0, "an 8 MiB write is accepted");
	ok(gp_stream_queued(srv_side) > 0,
	    "the part the socket did not take is queued (%zu bytes)",
	    gp_stream_queued(srv_side));
	memset(data, 'z', BIG);		/* the queue holds its own copy */
	rc = gp_stream_write_block(srv_side, gp_block_get(), data, 1000);
	is_int(rc, 0, "a block queues behind it");
	free(data);
	gp_stream_close(srv_side, on_closed);
	is_int(gp_stream_write(srv_side, "late", 4), UV_EPIPE,
	    "a write after close is refused");
	uv_close((uv_handle_t *)cli, cli_closed);
	uv_run(&loop, UV_RUN_DEFAULT);
	is_int(written_calls, 0, "the cancelled writes ran no callback");
	is_int(closes, 1, "only the close callback ran, once");
}

static void
test_detach(void)
{
	char	 buf[16];
	uv_buf_t b = uv_buf_init("ping", 4);
	int	 fd;
	ssize_t	 n = -1;

	closes = 0;
	pair();
	fd = gp_stream_detach_fd(srv_side, on_closed);
	ok(fd >= 0, "a plain TCP stream with nothing queued detaches");
	uv_try_write((uv_stream_t *)cli, &b, 1);
	uv_run(&loop, UV_RUN_NOWAIT);
	if (poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, 5000) == 1)
		n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
	is_int(n, 4, "the handed-over socket still carries the peer's bytes");
	close(fd);
	uv_close((uv_handle_t *)cli, cli_closed);
	uv_run(&loop, UV_RUN_DEFAULT);
	is_int(closes, 1, "the stream itself closed");
}

static const struct gp_flow_ops nop_ops = {
	.method = "TEST",
};

static void
test_flow_accept_fails(void)
{
	struct gp_proxy		px;
	struct sockaddr_in	sin;
	struct gp_flow		*f;

	gp_proxy_init(&px, &loop, NULL, NULL, NULL, NULL, NULL);
	uv_ip4_addr("127.0.0.1", 0, &sin);
	uv_tcp_init(&loop, &server);
	uv_tcp_bind(&server, (struct sockaddr *)&sin, 0);
	uv_listen((uv_stream_t *)&server, 8, on_accept);	/* never runs */
	f = gp_flow_new(&px, (uv_stream_t *)&server, &nop_ops);
	ok(f == NULL, "nothing to accept: no flow");
	is_int(px.stats.flows, 1, "counted until its handle closes");
	uv_close((uv_handle_t *)&server, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	ok(px.flows == NULL, "then unlinked");
	is_int(px.stats.flows, 0, "and uncounted");
}

int
main(void)
{
	uv_loop_init(&loop);
	test_pool();
	test_read();
	test_close_with_queued_writes();
	test_detach();
	test_flow_accept_fails();
	is_int(uv_loop_close(&loop), 0, "no handle left open");
	return tap_done();
}
