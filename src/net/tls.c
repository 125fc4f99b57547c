/*
 * tls.c: TLS over another stream (net.h), with OpenSSL memory BIOs: the
 * inner stream's bytes go into the SSL's read BIO, whatever the SSL
 * writes is taken from its write BIO as pooled blocks and written to the
 * inner stream.  The caller makes the SSL (server or client side, name,
 * verification); this file only moves bytes and reports.
 *
 * Plain bytes written before the handshake ends are held and sent once
 * it has.  A reader stopped for backpressure stops the inner reader too;
 * records already received wait in the read BIO and are delivered when
 * reading resumes (from a zero timer, never from inside read_start()).
 */
#include "config.h"

#include <errno.h>
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
	gp_tls_done_cb		 done_cb;
	unsigned		 done:1, failed:1, reading:1;
};

static const struct gp_stream_ops tls_ops;

static void	pump(struct tls_stream *);

/* What the SSL wrote, to the inner stream. */
static int
flush(struct tls_stream *t)
{
	BIO	*w = SSL_get_wbio(t->ssl);
	char	*block;
	int	 n, rc;

	while (BIO_ctrl_pending(w) > 0) {
		block = gp_block_get();
		if ((n = BIO_read(w, block, GP_BLOCK)) <= 0) {
			gp_block_put(block);
			break;
		}
		if ((rc = gp_stream_write_block(t->inner, block, block,
		    (size_t)n)) != 0)
			return rc;
	}
	return 0;
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
		BIO_write(SSL_get_rbio(t->ssl), block, (int)n);
		pump(t);
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
	if (SSL_pending(t->ssl) > 0 ||
	    BIO_ctrl_pending(SSL_get_rbio(t->ssl)) > 0)
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
	struct tls_stream *t = gp_xcalloc(1, sizeof *t);

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
	SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
	BIO_set_mem_eof_return(SSL_get_rbio(ssl), -1);
	if (server)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	if (early_len > 0)
		BIO_write(SSL_get_rbio(ssl), early_in, (int)early_len);
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
