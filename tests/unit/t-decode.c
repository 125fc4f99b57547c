/* t-decode.c: stored bodies — Content-Encoding undone, chunked framing
 * removed, text types told apart.  Inputs are made with the encoders. */
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
	free(text);
	free(enc);
	return tap_done();
}
