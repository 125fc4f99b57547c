/* t-decode.c: stored bodies — Content-Encoding undone, chunked framing
 * removed, text types told apart — and WebSocket messages: frames
 * reassembled, permessage-deflate inflated.  Inputs are made with the
 * encoders. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include "http/http.h"
#include "../lib/tap.h"

/* Text that compresses, but not to nothing: numbered JSON lines. */
static size_t
sample(char *p, size_t n)
{
	size_t	len = 0;
	int	i = 0;

	while (len + 64 < n)
		len += (size_t)snprintf(p + len, n - len,
		    "{\"line\":%d,\"text\":\"the quick brown fox %x\"}\n",
		    i, (unsigned)(i * 2654435761u)), i++;
	return len;
}

/* wbits: 16+15 gzip, 15 zlib, -15 raw. */
static size_t
z_encode(int wbits, const char *in, size_t n, char *out, size_t cap)
{
	z_stream z;

	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, wbits, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (unsigned)n;
	z.next_out = (unsigned char *)out;
	z.avail_out = (unsigned)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	deflateEnd(&z);
	return cap - z.avail_out;
}

static size_t
br_encode(const char *in, size_t n, char *out, size_t cap)
{
	size_t len = cap;

	if (!BrotliEncoderCompress(5, 22, BROTLI_MODE_TEXT, n,
	    (const uint8_t *)in, &len, (uint8_t *)out))
		abort();
	return len;
}

static size_t
zstd_encode(const char *in, size_t n, char *out, size_t cap)
{
	size_t len = ZSTD_compress(out, cap, in, n, 3);

	if (ZSTD_isError(len))
		abort();
	return len;
}

/* A streamed frame declaring a 16 MiB window (more than HTTP's 8). */
static size_t
zstd_wide(const char *in, size_t n, char *out, size_t cap)
{
	ZSTD_CCtx	*c = ZSTD_createCCtx();
	ZSTD_inBuffer	 ib = { in, n, 0 };
	ZSTD_outBuffer	 ob = { out, cap, 0 };

	ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 24);
	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
	ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_continue);
	while (ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_end) != 0)
		;
	ZSTD_freeCCtx(c);
	return ob.pos;
}

static int
same(const struct gp_buf *b, const char *p, size_t n)
{
	return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

static void
roundtrips(const char *text, size_t n, char *enc, size_t cap)
{
	struct gp_buf	out = { 0 };
	char		*two = malloc(2 * cap);
	size_t		 len, len2;
	int		 r;

	len = z_encode(16 + 15, text, n, enc, cap);
	r = gp_http_decode("gzip", enc, len, 8u << 20, &out);
	ok(r == GP_DECODE_OK && same(&out, text, n), "gzip");
	r = gp_http_decode("X-GZIP", enc, len, 8u << 20, &out);
	ok(r == GP_DECODE_OK && same(&out, text, n), "x-gzip, any case");

	/* Two members, one after the other (RFC 1952 2.2). */
	memcpy(two, enc, len);
	memcpy(two + len, enc, len);
	r = gp_http_decode("gzip", two, 2 * len, 8u << 20, &out);
	ok(r == GP_DECODE_OK && out.len == 2 * n &&
	    memcmp(out.data + n, text, n) == 0, "gzip: two members");

	/* Cut short: the prefix it holds, marked partial. */
	r = gp_http_decode("gzip", enc, len / 2, 8u << 20, &out);
	ok(r == GP_DECODE_PARTIAL && out.len > 0 && out.len < n &&
	    memcmp(out.data, text, out.len) == 0, "gzip cut short: prefix "
	    "(%zu of %zu bytes)", out.len, n);

	len = z_encode(15, text, n, enc, cap);
	r = gp_http_decode("deflate", enc, len, 8u << 20, &out);
	ok(r == GP_DECODE_OK && same(&out, text, n), "deflate (zlib)");
	len = z_encode(-15, text, n, enc, cap);
	r = gp_http_decode("deflate", enc, len, 8u << 20, &out);
	ok(r == GP_DECODE_OK && same(&out, text, n), "deflate (raw)");

	len = br_encode(text, n, enc, cap);
	r = gp_http_decode("br", enc, len, 8u << 20, &out);
	ok(r == GP_DECODE_OK && same(&out, text, n), "br");
	r = gp_http_decode("br", enc, len * 2 / 3, 8u << 20, &out);
	ok(r == GP_DECODE_PARTIAL && out.len < n &&
	    memcmp(out.data, text, out.len) == 0, "br cut short: prefix");

	len = zstd_encode(text, n, enc, cap);
	r = gp_http_decode("zstd", enc, len, 8u << 20, &out);
	ok(r == GP_DECODE_OK && same(&out, text, n), "zstd");
	memcpy(two, enc, len);
	memcpy(two + len, enc, len);
	r = gp_http_decode("zstd", two, 2 * len, 8u << 20, &out);
	ok(r == GP_DECODE_OK && out.len == 2 * n, "zstd: two frames");
	r = gp_http_decode("zstd", enc, len / 2, 8u << 20, &out);
	ok(r == GP_DECODE_PARTIAL && out.len < n &&
	    memcmp(out.data, text, out.len) == 0, "zstd cut short: prefix");
	len = zstd_wide(text, n, enc, cap);
	gp_buf_reset(&out);
	r = gp_http_decode("zstd", enc, len, 8u << 20, &out);
	ok(r == GP_DECODE_BAD && out.len == 0,
	    "zstd: a window over 8 MiB is refused");

	/* Applied in the order listed: gzip first, then br. */
	len = z_encode(16 + 15, text, n, two, 2 * cap);
	len2 = br_encode(two, len, enc, cap);
	r = gp_http_decode("gzip, br", enc, len2, 8u << 20, &out);
	ok(r == GP_DECODE_OK && same(&out, text, n), "gzip, br: both undone");
	r = gp_http_decode("identity,gzip , br", enc, len2, 8u << 20, &out);
	ok(r == GP_DECODE_OK && same(&out, text, n), "identity skipped");
	r = gp_http_decode("br, gzip", enc, len2, 8u << 20, &out);
	ok(r == GP_DECODE_BAD, "the wrong order does not decode");
	gp_buf_free(&out);
	free(two);
}

static void
limits(char *enc, size_t cap)
{
	struct gp_buf	 out = { 0 };
	char		*zeros = calloc(1, 4u << 20);
	size_t		 len;
	int		 r;

	/* A bomb: 4 MiB of zeros in a few KiB, capped at 64 KiB. */
	len = z_encode(16 + 15, zeros, 4u << 20, enc, cap);
	r = gp_http_decode("gzip", enc, len, 65536, &out);
	ok(r == GP_DECODE_PARTIAL && out.len == 65536,
	    "gzip bomb (%zu bytes): capped at the limit", len);
	len = br_encode(zeros, 4u << 20, enc, cap);
	r = gp_http_decode("br", enc, len, 65536, &out);
	ok(r == GP_DECODE_PARTIAL && out.len == 65536, "br bomb: capped");
	len = zstd_encode(zeros, 4u << 20, enc, cap);
	r = gp_http_decode("zstd", enc, len, 65536, &out);
	ok(r == GP_DECODE_PARTIAL && out.len == 65536, "zstd bomb: capped");

	gp_buf_reset(&out);
	gp_buf_add(&out, "kept", 4);
	r = gp_http_decode("gzip", "not gzip at all", 15, 65536, &out);
	ok(r == GP_DECODE_BAD && same(&out, "kept", 4),
	    "garbage: BAD, out untouched");
	is_int(gp_http_decode("br", "\xff\xff\xff\xff", 4, 65536, &out),
	    GP_DECODE_BAD, "br garbage");
	is_int(gp_http_decode("zstd", "\x28\xb5\x2f\xfe\0\0\0\0", 8,
	    65536, &out), GP_DECODE_BAD, "zstd garbage");
	is_int(gp_http_decode("compress", "x", 1, 65536, &out),
	    GP_DECODE_UNKNOWN, "compress: unknown");
	is_int(gp_http_decode("identity", "x", 1, 65536, &out),
	    GP_DECODE_UNKNOWN, "identity: nothing to undo");
	is_int(gp_http_decode("gzip,gzip,gzip,gzip,gzip", "x", 1, 65536,
	    &out), GP_DECODE_UNKNOWN, "five codings: refused");
	is_int(gp_http_decode("gzip", "", 0, 65536, &out), GP_DECODE_PARTIAL,
	    "empty gzip: partial");
	gp_buf_free(&out);
	free(zeros);
}

static void
dechunk(void)
{
	static const char body[] = "5\r\nhello\r\n6;ext=1\r\n world\r\n"
	    "0\r\nX-Trailer: 1\r\n\r\n";
	struct gp_buf	out = { 0 };
	int		r;

	r = gp_http_dechunk(body, sizeof body - 1, &out);
	ok(r == GP_DECODE_OK && same(&out, "hello world", 11),
	    "dechunk: data only, extensions and trailers dropped");
	r = gp_http_dechunk(body, 23, &out);
	ok(r == GP_DECODE_PARTIAL && same(&out, "hello wor", 9),
	    "dechunk cut short: the prefix");
	r = gp_http_dechunk("A\n0123456789\n0\n\n", 16, &out);
	ok(r == GP_DECODE_OK && same(&out, "0123456789", 10),
	    "dechunk: bare LF, upper-case hex");
	is_int(gp_http_dechunk("zz\r\n", 4, &out), GP_DECODE_BAD,
	    "dechunk: no size");
	is_int(gp_http_dechunk("2\r\nabX\r\n", 8, &out), GP_DECODE_BAD,
	    "dechunk: no CRLF after the data");
	is_int(gp_http_dechunk("fffffffffffffffff\r\n", 19, &out),
	    GP_DECODE_BAD, "dechunk: size overflow");
	gp_buf_free(&out);
}

static void
types(void)
{
	ok(gp_http_type_is_text("text/plain; charset=utf-8"), "text/plain");
	ok(gp_http_type_is_text("Application/JSON"), "application/json");
	ok(gp_http_type_is_text("application/vnd.api+json"), "+json");
	ok(gp_http_type_is_text("image/svg+xml"), "+xml");
	ok(gp_http_type_is_text("application/x-ndjson"), "ndjson");
	ok(gp_http_type_is_text("text/event-stream"), "event-stream");
	ok(!gp_http_type_is_text("application/jsonx"), "not jsonx");
	ok(!gp_http_type_is_text("image/png"), "not image/png");
	ok(!gp_http_type_is_text("application/octet-stream"), "not octets");
	ok(!gp_http_type_is_text(NULL), "no type");
	ok(!gp_http_type_is_text("+json"), "a bare suffix");
}

/* A frame: FIN, RSV1, opcode, masked or not. */
static size_t
ws_frame(char *out, int fin, int rsv1, int op, int masked, const char *p,
    size_t n)
{
	static const unsigned char key[4] = { 0x12, 0x34, 0x56, 0x78 };
	unsigned char	*o = (unsigned char *)out;
	size_t		 h = 2, i;

	o[0] = (unsigned char)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | op);
	if (n < 126)
		o[1] = (unsigned char)n;
	else if (n < 65536) {
		o[1] = 126;
		o[2] = (unsigned char)(n >> 8);
		o[3] = (unsigned char)n;
		h = 4;
	} else {
		o[1] = 127;
		for (i = 0; i < 8; i++)
			o[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
		h = 10;
	}
	if (masked) {
		o[1] |= 0x80;
		memcpy(o + h, key, 4);
		h += 4;
	}
	for (i = 0; i < n; i++)
		o[h + i] = (unsigned char)p[i] ^ (masked ? key[i & 3] : 0);
	return h + n;
}

struct got {
	int		count, opcode, compressed, truncated;
	struct gp_buf	last;
	uint64_t	wire;
};

static void
on_msg(void *arg, const struct gp_ws_msg *m)
{
	struct got *g = arg;

	g->count++;
	g->opcode = m->opcode;
	g->compressed = m->compressed;
	g->truncated = m->truncated;
	g->wire = m->wire;
	gp_buf_reset(&g->last);
	gp_buf_add(&g->last, m->p, m->n);
}

static void
ws(void)
{
	char		*buf = malloc(200000), *big = malloc(70000);
	struct gp_wsf	 w;
	struct got	 g;
	size_t		 n, i;

	memset(&g, 0, sizeof g);
	memset(big, 'b', 70000);
	gp_wsf_init(&w, 1000);
	n = ws_frame(buf, 1, 0, 1, 1, "hello", 5);
	for (i = 0; i < n; i++)
		gp_wsf_feed(&w, buf + i, 1, on_msg, &g);
	ok(g.count == 1 && g.opcode == 1 && same(&g.last, "hello", 5),
	    "ws: a masked text frame, fed byte by byte, unmasked");

	n = ws_frame(buf, 0, 0, 1, 1, "hel", 3);
	n += ws_frame(buf + n, 1, 0, 9, 1, "ping", 4);
	n += ws_frame(buf + n, 1, 0, 0, 1, "lo", 2);
	is_int(gp_wsf_feed(&w, buf, n, on_msg, &g), 0, "ws: fragments fed");
	ok(g.count == 2 && same(&g.last, "hello", 5),
	    "ws: reassembled across fragments, a ping between them skipped");

	n = ws_frame(buf, 1, 1, 2, 0, big, 300);
	n += ws_frame(buf + n, 1, 0, 2, 0, big, 70000);
	gp_wsf_feed(&w, buf, n, on_msg, &g);
	ok(g.count == 4 && g.opcode == 2 && g.last.len == 1000 &&
	    g.truncated && g.wire == 70000,
	    "ws: 64-bit length, kept up to the cap, wire length whole");
	gp_wsf_free(&w);

	{
		static const struct {
			const char *why;
			int fin, rsv1, op;
			size_t n;
			int pre;	/* an unfinished text first */
		} bad[] = {
			{ "continuation without a message", 1, 0, 0, 2, 0 },
			{ "reserved opcode", 1, 0, 3, 2, 0 },
			{ "long control frame", 1, 0, 9, 126, 0 },
			{ "fragmented control frame", 0, 0, 10, 2, 0 },
			{ "a new message inside a fragmented one", 1, 0, 1,
			    2, 1 },
			{ "RSV1 on a continuation", 1, 1, 0, 2, 1 },
		};
		size_t k;

		for (k = 0; k < GP_ARRAY_LEN(bad); k++) {
			gp_wsf_init(&w, 1000);
			n = bad[k].pre ? ws_frame(buf, 0, 0, 1, 1, "x", 1) : 0;
			n += ws_frame(buf + n, bad[k].fin, bad[k].rsv1,
			    bad[k].op, 1, big, bad[k].n);
			ok(gp_wsf_feed(&w, buf, n, on_msg, &g) == -1 &&
			    w.error != NULL && gp_wsf_feed(&w, "x", 1, on_msg,
			    &g) == -1, "ws: %s refused (%s)", bad[k].why,
			    w.error ? w.error : "none");
			gp_wsf_free(&w);
		}
	}
	free(buf);
	free(big);
	gp_buf_free(&g.last);
}

/* permessage-deflate as a sender with context takeover makes it. */
static size_t
pmd(z_stream *z, const char *in, size_t n, char *out, size_t cap)
{
	z->next_in = (unsigned char *)(uintptr_t)in;
	z->avail_in = (unsigned)n;
	z->next_out = (unsigned char *)out;
	z->avail_out = (unsigned)cap;
	if (deflate(z, Z_SYNC_FLUSH) != Z_OK)
		abort();
	return cap - z->avail_out - 4;	/* without 00 00 ff ff */
}

static void
inflater(void)
{
	static const char m1[] = "the same words, said twice: the same words";
	z_stream		 z;
	struct gp_inflater	*f = gp_inflater_new();
	struct gp_buf		 out = { 0 };
	char			 enc[4096], *big = calloc(1, 200000);
	size_t			 n, n2;

	memset(&z, 0, sizeof z);
	deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
	n = pmd(&z, m1, sizeof m1 - 1, enc, sizeof enc);
	ok(gp_inflater_message(f, enc, n, 65536, &out) == GP_DECODE_OK &&
	    same(&out, m1, sizeof m1 - 1), "pmd: a message inflated");
	n2 = pmd(&z, m1, sizeof m1 - 1, enc, sizeof enc);
	ok(n2 < n, "pmd: the second refers to the first (%zu < %zu bytes)",
	    n2, n);
	ok(gp_inflater_message(f, enc, n2, 65536, &out) == GP_DECODE_OK &&
	    same(&out, m1, sizeof m1 - 1), "pmd: inflated with the context");
	n = pmd(&z, big, 200000, enc, sizeof enc);
	is_int(gp_inflater_message(f, enc, n, 1000, &out), GP_DECODE_PARTIAL,
	    "pmd: over the cap: partial");
	is_int(out.len, 1000, "pmd: the cap kept");
	n = pmd(&z, m1, sizeof m1 - 1, enc, sizeof enc);
	is_int(gp_inflater_message(f, enc, n, 65536, &out), GP_DECODE_BAD,
	    "pmd: after a cut message the context is lost: not guessed");
	gp_inflater_free(f);
	f = gp_inflater_new();
	is_int(gp_inflater_message(f, "\xff\xff\xff", 3, 65536, &out),
	    GP_DECODE_BAD, "pmd: garbage");
	gp_inflater_free(f);
	deflateEnd(&z);
	gp_buf_free(&out);
	free(big);
}

int
main(void)
{
	size_t	 cap = 4u << 20;
	char	*text = malloc(cap), *enc = malloc(cap);
	size_t	 n = sample(text, 300 * 1024);

	roundtrips(text, n, enc, cap);
	limits(enc, cap);
	dechunk();
	types();
	ws();
	inflater();
	free(text);
	free(enc);
	return tap_done();
}
