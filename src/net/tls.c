/*
 * tls.c: TLS over another stream (net.h), through two BIOs of our own:
 * the SSL reads the inner stream's block in place while it is being
 * delivered (only bytes left over when the reader stops are kept, in
 * rin), and writes its records straight into pooled blocks that go to
 * the inner stream when full or flushed.  Memory BIOs cost two more
 * copies of every byte.  The caller makes the SSL (server or client
 * side, name, verification); this file only moves bytes and reports.
 *
 * Plain bytes written before the handshake ends are held and sent once
 * it has.  A reader stopped for backpressure stops the inner reader too;
 * records already received wait in the read BIO and are delivered when
 * reading resumes (from a zero timer, never from inside read_start()).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/core.h"
#include "net/net.h"

struct tls_stream {
	struct gp_stream	 s;
	struct gp_stream	*inner;
	SSL			*ssl;
	uv_timer_t		 kick;		/* deferred delivery */
	int			 open;		/* inner and kick */
	struct gp_buf		 early;		/* plain, before the handshake */
	struct gp_buf		 rin;		/* received, not read yet */
	const char		*cur;		/* the block being delivered */
	size_t			 curlen;
	char			*out;		/* records not yet written */
	size_t			 outlen;
	int			 werr;		/* the inner stream's, sticky */
	gp_tls_done_cb		 done_cb;
	unsigned		 done:1, failed:1, reading:1;
};

static const struct gp_stream_ops tls_ops;

static void	pump(struct tls_stream *);

/* The BIOs. */

#define MIN_SZ(a, b)	((a) < (b) ? (a) : (b))

static BIO_METHOD	*in_meth, *out_meth;
static pthread_once_t	 meth_once = PTHREAD_ONCE_INIT;

static int
in_read(BIO *b, char *p, int len)
{
	struct tls_stream	*t = BIO_get_data(b);
	size_t			 n;

	BIO_clear_retry_flags(b);
	if (t->rin.len > 0) {
		n = MIN_SZ((size_t)len, t->rin.len);
		memcpy(p, t->rin.data, n);
		gp_buf_consume(&t->rin, n);
	} else if (t->curlen > 0) {
		n = MIN_SZ((size_t)len, t->curlen);
		memcpy(p, t->cur, n);
		t->cur += n;
		t->curlen -= n;
	} else {
		BIO_set_retry_read(b);
		return -1;
	}
	return (int)n;
}

/* Bytes that came before the SSL could read them (a sniffed start). */
static int
in_write(BIO *b, const char *p, int len)
{
	struct tls_stream *t = BIO_get_data(b);

	gp_buf_add(&t->rin, p, (size_t)len);
	return len;
}

static void
push(struct tls_stream *t)
{
	char	*block = t->out;
	int	 rc;

	t->out = NULL;
	rc = gp_stream_write_block(t->inner, block, block, t->outlen);
	if (rc != 0 && t->werr == 0)
		t->werr = rc;
}

static int
out_write(BIO *b, const char *p, int len)
{
	struct tls_stream	*t = BIO_get_data(b);
	size_t			 left = (size_t)len, n;

	BIO_clear_retry_flags(b);
	while (left > 0) {
		if (t->out == NULL) {
			t->out = gp_block_get();
			t->outlen = 0;
		}
		n = MIN_SZ(left, (size_t)GP_BLOCK - t->outlen);
		memcpy(t->out + t->outlen, p, n);
		t->outlen += n;
		p += n;
		left -= n;
		if (t->outlen == GP_BLOCK)
			push(t);
	}
	return len;
}

static size_t
in_pending(const struct tls_stream *t)
{
	return t->rin.len + t->curlen;
}

static long
in_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)num;
	(void)ptr;
	if (cmd == BIO_CTRL_PENDING)
		return (long)in_pending(BIO_get_data(b));
	return cmd == BIO_CTRL_FLUSH;
}

/* Flushing is ours (flush()), after each call into the SSL. */
static long
out_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH;
}

static int
bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void
meth_init(void)
{
	in_meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	    "greyproxy in");
	BIO_meth_set_read(in_meth, in_read);
	BIO_meth_set_write(in_meth, in_write);
	BIO_meth_set_ctrl(in_meth, in_ctrl);
	BIO_meth_set_create(in_meth, bio_create);
	out_meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	    "greyproxy out");
	BIO_meth_set_write(out_meth, out_write);
	BIO_meth_set_ctrl(out_meth, out_ctrl);
	BIO_meth_set_create(out_meth, bio_create);
}

/* What the SSL wrote, to the inner stream. */
static int
flush(struct tls_stream *t)
{
	if (t->out != NULL && t->outlen > 0)
		push(t);
	return t->werr;
}

static void
fail(struct tls_stream *t, const char *why)
{
	char	buf[256];
	long	v = SSL_get_verify_result(t->ssl);

	if (why == NULL && v != X509_V_OK)
		snprintf(buf, sizeof buf, "certificate verify failed: %s",
		    X509_verify_cert_error_string(v));
	else if (why == NULL) {
		unsigned long e = ERR_peek_last_error();

		snprintf(buf, sizeof buf, "%s", e != 0 ?
		    ERR_reason_error_string(e) : "handshake failed");
	} else
		snprintf(buf, sizeof buf, "%s", why);
	ERR_clear_error();
	t->failed = 1;
	t->done_cb(&t->s, -EPROTO, buf);
}

static void
handshake(struct tls_stream *t)
{
	int	r = SSL_do_handshake(t->ssl), e;

	if (flush(t) != 0) {
		fail(t, "cannot write to the peer");
		return;
	}
	if (r != 1) {
		e = SSL_get_error(t->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return;
		fail(t, NULL);
		return;
	}
	t->done = 1;
	if (t->early.len > 0) {
		SSL_write(t->ssl, t->early.data, (int)t->early.len);
		gp_buf_free(&t->early);
		flush(t);
	}
	if (!t->reading)
		gp_stream_read_stop(t->inner);
	t->done_cb(&t->s, 0, NULL);
}

/* Drives the handshake, then delivers what can be decrypted. */
static void
pump(struct tls_stream *t)
{
	char	*block;
	int	 n, e;

	if (!t->done && !t->failed)
		handshake(t);
	while (t->done && t->reading && !t->s.closing) {
		block = gp_block_get();
		n = SSL_read(t->ssl, block, GP_BLOCK);
		if (n > 0) {
			if (t->s.cbs->read(&t->s, block, n) == 0)
				gp_block_put(block);
			continue;
		}
		gp_block_put(block);
		e = SSL_get_error(t->ssl, n);
		flush(t);		/* tickets, key updates */
		if (e == SSL_ERROR_WANT_READ)
			break;
		ERR_clear_error();
		t->s.cbs->read(&t->s, NULL, e == SSL_ERROR_ZERO_RETURN ?
		    UV_EOF : UV_EPROTO);
		break;
	}
}

static int
inner_read(struct gp_stream *in, char *block, ssize_t n)
{
	struct tls_stream *t = in->data;

	if (t->s.closing)
		return 0;
	if (n > 0) {
		t->cur = block;
		t->curlen = (size_t)n;
		pump(t);
		if (t->curlen > 0)	/* the reader stopped: kept */
			gp_buf_add(&t->rin, t->cur, t->curlen);
		t->cur = NULL;
		t->curlen = 0;
		return 0;
	}
	if (!t->done) {
		if (!t->failed)
			fail(t, n == UV_EOF ? "the peer closed during the "
			    "handshake" : uv_strerror((int)n));
		return 0;
	}
	/* The transport ended: without close_notify it is a truncation,
	 * which HTTP's own framing tells apart. */
	t->s.cbs->read(&t->s, NULL, n);
	return 0;
}

static void
inner_written(struct gp_stream *in, int status)
{
	struct tls_stream *t = in->data;

	if (!t->s.closing && t->s.cbs->written != NULL)
		t->s.cbs->written(&t->s, status);
}

static const struct gp_stream_cbs inner_cbs = {
	.read = inner_read,
	.written = inner_written,
};

static void
on_kick(uv_timer_t *h)
{
	pump(h->data);
}

static int
tls_read_start(struct gp_stream *s)
{
	struct tls_stream *t = (struct tls_stream *)s;

	t->reading = 1;
	if (SSL_pending(t->ssl) > 0 || in_pending(t) > 0)
		uv_timer_start(&t->kick, on_kick, 0, 0);
	return gp_stream_read_start(t->inner);
}

static void
tls_read_stop(struct gp_stream *s)
{
	struct tls_stream *t = (struct tls_stream *)s;

	t->reading = 0;
	uv_timer_stop(&t->kick);
	if (t->done)
		gp_stream_read_stop(t->inner);
}

static int
tls_write(struct gp_stream *s, char *block, const char *p, size_t n)
{
	struct tls_stream	*t = (struct tls_stream *)s;
	int			 rc = 0;

	if (t->failed)
		rc = UV_EPROTO;
	else if (!t->done)
		gp_buf_add(&t->early, p, n);
	else if (SSL_write(t->ssl, p, (int)n) != (int)n) {
		ERR_clear_error();
		rc = UV_EPROTO;
	} else
		rc = flush(t);
	gp_block_put(block);
	return rc;
}

static size_t
tls_queued(const struct gp_stream *s)
{
	const struct tls_stream *t = (const struct tls_stream *)s;

	return gp_stream_queued(t->inner) + t->early.len;
}

static void
inner_shut(struct gp_stream *in, int status)
{
	struct tls_stream *t = in->data;

	if (!t->s.closing && t->s.on_shut != NULL)
		t->s.on_shut(&t->s, status);
}

static int
tls_shutdown(struct gp_stream *s, void (*cb)(struct gp_stream *, int))
{
	struct tls_stream *t = (struct tls_stream *)s;

	s->on_shut = cb;
	if (t->done && !t->failed) {
		SSL_shutdown(t->ssl);	/* close_notify */
		ERR_clear_error();
		flush(t);
	}
	return gp_stream_shutdown(t->inner, inner_shut);
}

static void
part_closed(struct tls_stream *t)
{
	if (--t->open > 0)
		return;
	SSL_free(t->ssl);
	gp_buf_free(&t->early);
	gp_buf_free(&t->rin);
	if (t->out != NULL)
		gp_block_put(t->out);
	if (t->s.on_close != NULL)
		t->s.on_close(&t->s);
	free(t);
}

static void
inner_closed(struct gp_stream *in)
{
	part_closed(in->data);
}

static void
kick_closed(uv_handle_t *h)
{
	part_closed(h->data);
}

static void
tls_close(struct gp_stream *s)
{
	struct tls_stream *t = (struct tls_stream *)s;

	/* A connection that worked keeps its session resumable (OpenSSL
	 * drops a session freed without close_notify sent). */
	if (t->done && !t->failed)
		SSL_set_shutdown(t->ssl, SSL_get_shutdown(t->ssl) |
		    SSL_SENT_SHUTDOWN);
	gp_stream_close(t->inner, inner_closed);
	uv_close((uv_handle_t *)&t->kick, kick_closed);
}

static const struct gp_stream_ops tls_ops = {
	.name = "tls",
	.read_start = tls_read_start,
	.read_stop = tls_read_stop,
	.write = tls_write,
	.queued = tls_queued,
	.shutdown = tls_shutdown,
	.close = tls_close,
};

struct gp_stream *
gp_stream_tls_new(uv_loop_t *loop, struct gp_stream *inner, SSL *ssl,
    int server, const void *early_in, size_t early_len,
    const struct gp_stream_cbs *cbs, void *data, gp_tls_done_cb done)
{
	struct tls_stream	*t = gp_xcalloc(1, sizeof *t);
	BIO			*rb, *wb;

	t->s.ops = &tls_ops;
	t->s.cbs = cbs;
	t->s.data = data;
	t->inner = inner;
	t->ssl = ssl;
	t->done_cb = done;
	t->open = 2;
	uv_timer_init(loop, &t->kick);
	t->kick.data = t;
	inner->cbs = &inner_cbs;
	inner->data = t;
	pthread_once(&meth_once, meth_init);
	rb = BIO_new(in_meth);
	wb = BIO_new(out_meth);
	if (rb == NULL || wb == NULL)
		gp_panic("cannot make BIOs");
	BIO_set_data(rb, t);
	BIO_set_data(wb, t);
	SSL_set_bio(ssl, rb, wb);
	if (server)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	if (early_len > 0)
		gp_buf_add(&t->rin, early_in, early_len);
	gp_stream_read_start(inner);	/* the handshake reads regardless */
	uv_timer_start(&t->kick, on_kick, 0, 0);	/* starts it */
	return &t->s;
}

SSL *
gp_stream_tls_ssl(struct gp_stream *s)
{
	return s->ops == &tls_ops ? ((struct tls_stream *)s)->ssl : NULL;
}

struct gp_stream *
gp_stream_tls_inner(struct gp_stream *s)
{
	return s->ops == &tls_ops ? ((struct tls_stream *)s)->inner : NULL;
}
