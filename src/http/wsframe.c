/*
 * wsframe.c: WebSocket frames (RFC 6455 5) read as they cross the proxy,
 * one direction per parser: headers across reads, payloads unmasked,
 * data messages reassembled across fragments (control frames may come
 * between them) and handed on whole, at most max bytes of each kept.
 * Pure and incremental; the bytes themselves are relayed elsewhere,
 * untouched.  The inflater undoes permessage-deflate (RFC 7692 7.2.2)
 * with one context per direction, as the extension keeps it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "http/http.h"

void
gp_wsf_init(struct gp_wsf *w, size_t max)
{
	memset(w, 0, sizeof *w);
	w->max = max;
}

void
gp_wsf_free(struct gp_wsf *w)
{
	gp_buf_free(&w->msg);
}

static int
fail(struct gp_wsf *w, const char *why)
{
	w->error = why;
	gp_buf_free(&w->msg);
	return -1;
}

/* A header is complete: check it, start or continue the message. */
static int
header(struct gp_wsf *w)
{
	const unsigned char	*h = w->hdr;
	uint64_t		 len = h[1] & 0x7f;
	int			 op = h[0] & 0x0f, i;

	w->fin = h[0] >> 7;
	w->masked = h[1] >> 7;
	if (len == 126)
		len = (uint64_t)h[2] << 8 | h[3];
	else if (len == 127) {
		if (h[2] & 0x80)
			return fail(w, "frame length over 2^63");
		for (len = 0, i = 2; i < 10; i++)
			len = len << 8 | h[i];
	}
	if (w->masked)
		memcpy(w->mask, h + w->hlen - 4, 4);
	w->left = len;
	w->mpos = 0;
	w->control = op >= 8;
	if (op >= 8) {
		if (op > 10)
			return fail(w, "reserved control opcode");
		if (!w->fin || len > 125)
			return fail(w, "fragmented or long control frame");
		if (h[0] & 0x70)
			return fail(w, "RSV bits on a control frame");
		return 0;
	}
	if (op > 2)
		return fail(w, "reserved data opcode");
	if ((h[0] & 0x30) != 0)
		return fail(w, "RSV2 or RSV3 set");
	if (op == 0) {
		if (!w->in_msg)
			return fail(w, "continuation without a message");
		if (h[0] & 0x40)
			return fail(w, "RSV1 on a continuation");
	} else {
		if (w->in_msg)
			return fail(w, "new message inside a fragmented one");
		w->in_msg = 1;
		w->msg_op = op;
		w->msg_rsv1 = (h[0] & 0x40) != 0;
		w->msg_wire = 0;
		w->msg_trunc = 0;
		gp_buf_reset(&w->msg);
	}
	return 0;
}

/* The header length a frame announces by its first two bytes. */
static size_t
header_len(const unsigned char *h)
{
	size_t n = 2 + ((h[1] & 0x7f) == 126 ? 2 : (h[1] & 0x7f) == 127 ?
	    8 : 0);

	return n + (h[1] & 0x80 ? 4 : 0);
}

static void
end_frame(struct gp_wsf *w, gp_wsf_fn fn, void *arg)
{
	struct gp_ws_msg m;

	w->have_hdr = 0;
	w->hlen = 0;
	if (w->control) {
		w->control = 0;
		return;
	}
	if (!w->fin)
		return;
	memset(&m, 0, sizeof m);
	m.opcode = w->msg_op;
	m.compressed = w->msg_rsv1;
	m.p = w->msg.data != NULL ? w->msg.data : "";
	m.n = w->msg.len;
	m.wire = w->msg_wire;
	m.truncated = w->msg_trunc;
	w->in_msg = 0;
	w->messages++;
	fn(arg, &m);
	gp_buf_reset(&w->msg);
}

int
gp_wsf_feed(struct gp_wsf *w, const char *p, size_t n, gp_wsf_fn fn,
    void *arg)
{
	const unsigned char *u = (const unsigned char *)p;

	if (w->error != NULL)
		return -1;
	while (n > 0) {
		size_t take;

		if (!w->have_hdr) {
			w->hdr[w->hlen++] = *u++;
			n--;
			if (w->hlen < 2 || w->hlen < header_len(w->hdr))
				continue;
			w->have_hdr = 1;
			if (header(w) != 0)
				return -1;
			if (w->left == 0)
				end_frame(w, fn, arg);
			continue;
		}
		take = n < w->left ? n : (size_t)w->left;
		if (!w->control) {
			size_t	keep = w->msg.len < w->max ? w->max -
			    w->msg.len : 0, i;
			char	*d;

			if (keep > take)
				keep = take;
			if (keep < take)
				w->msg_trunc = 1;
			if (keep > 0) {
				gp_buf_reserve(&w->msg, keep);
				d = w->msg.data + w->msg.len;
				for (i = 0; i < keep; i++)
					d[i] = (char)(u[i] ^ (w->masked ?
					    w->mask[(w->mpos + i) & 3] : 0));
				w->msg.len += keep;
			}
			w->msg_wire += take;
		}
		w->mpos += take;
		w->left -= take;
		u += take;
		n -= take;
		if (w->left == 0)
			end_frame(w, fn, arg);
	}
	return 0;
}

/* permessage-deflate */

struct gp_inflater {
	z_stream	z;
	int		lost;		/* a message was cut: context gone */
};

struct gp_inflater *
gp_inflater_new(void)
{
	struct gp_inflater *f = gp_xcalloc(1, sizeof *f);

	if (inflateInit2(&f->z, -MAX_WBITS) != Z_OK) {
		free(f);
		return NULL;
	}
	return f;
}

void
gp_inflater_free(struct gp_inflater *f)
{
	if (f == NULL)
		return;
	inflateEnd(&f->z);
	free(f);
}

/* Feeds n bytes; 0, 1 when out reached max, -1 on an error. */
static int
inflate_some(struct gp_inflater *f, const void *p, size_t n, size_t max,
    struct gp_buf *out)
{
	f->z.next_in = (unsigned char *)(uintptr_t)p;
	f->z.avail_in = (unsigned)n;
	for (;;) {
		size_t	avail;
		char	*d;
		int	zr;

		if (out->len >= max)
			return 1;
		d = gp_buf_tail(out, max - out->len < 65536 ? max - out->len :
		    65536, &avail);
		if (avail > max - out->len)
			avail = max - out->len;
		f->z.next_out = (unsigned char *)d;
		f->z.avail_out = (unsigned)avail;
		zr = inflate(&f->z, Z_SYNC_FLUSH);
		out->len += avail - f->z.avail_out;
		if (zr == Z_STREAM_END) {
			/* a final block: the sender's next message starts
			 * a new stream (no context takeover) */
			if (inflateReset(&f->z) != Z_OK)
				return -1;
		} else if (zr != Z_OK && zr != Z_BUF_ERROR)
			return -1;
		if (f->z.avail_in == 0 && f->z.avail_out > 0)
			return 0;		/* all read, all written */
		if (zr == Z_BUF_ERROR && f->z.avail_out > 0)
			return -1;
	}
}

int
gp_inflater_message(struct gp_inflater *f, const void *p, size_t n,
    size_t max, struct gp_buf *out)
{
	static const unsigned char tail[4] = { 0x00, 0x00, 0xff, 0xff };
	int r;

	gp_buf_reset(out);
	if (f->lost)
		return GP_DECODE_BAD;
	if (n > UINT_MAX)
		r = 1;
	else if ((r = inflate_some(f, p, n, max, out)) == 0)
		r = inflate_some(f, tail, sizeof tail, max, out);
	if (r == 0)
		return GP_DECODE_OK;
	f->lost = 1;	/* later messages may refer to what was not read */
	return r > 0 ? GP_DECODE_PARTIAL : GP_DECODE_BAD;
}
