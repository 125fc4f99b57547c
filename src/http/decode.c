/*
 * decode.c: a body's Content-Encoding (RFC 9110 8.4) undone for the
 * stored copy — gzip (RFC 1952, members concatenated), deflate (zlib
 * format as RFC 9110 says, or raw deflate as some servers send), br
 * (RFC 7932), zstd (RFC 8878, window limited to 8 MiB as 8878 3 asks of
 * HTTP).  Pure: bytes in, bytes out, every stage capped at max so a
 * small hostile body never becomes a large allocation.  A capture cut
 * short decodes to the prefix it holds.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>

#include "http/http.h"

#define MAX_CODINGS	4		/* more is an attack, not a server */
#define OUT_STEP	(64 * 1024)

enum coding { C_IDENTITY, C_GZIP, C_DEFLATE, C_BR, C_ZSTD };

/* Room to write into: up to OUT_STEP, never past max. */
static char *
room(struct gp_buf *out, size_t max, size_t *avail)
{
	size_t	 want = max - out->len < OUT_STEP ? max - out->len : OUT_STEP;
	char	*p = gp_buf_tail(out, want, avail);

	if (*avail > want)
		*avail = want;
	return p;
}

/* zlib: gzip (wbits 16+15), zlib (15) or raw (-15). */
static int
inflate_with(int wbits, const unsigned char *in, size_t n, size_t max,
    struct gp_buf *out)
{
	z_stream	z;
	int		zr = Z_OK, rc = GP_DECODE_PARTIAL;
	size_t		avail;

	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, wbits) != Z_OK)
		return GP_DECODE_BAD;
	z.next_in = (unsigned char *)(uintptr_t)in;
	while (out->len < max) {
		size_t chunk = n > UINT_MAX ? UINT_MAX : n;

		z.next_out = (unsigned char *)room(out, max, &avail);
		z.avail_out = (unsigned)avail;
		z.avail_in = (unsigned)chunk;
		zr = inflate(&z, Z_NO_FLUSH);
		out->len += avail - z.avail_out;
		n -= chunk - z.avail_in;
		if (zr == Z_STREAM_END) {
			/* gzip: another member may follow (RFC 1952 2.2). */
			if (wbits > 15 && n >= 2 && z.next_in[0] == 0x1f &&
			    z.next_in[1] == 0x8b && inflateReset(&z) == Z_OK)
				continue;
			rc = GP_DECODE_OK;
			break;
		}
		if (zr == Z_BUF_ERROR && n == 0)
			break;			/* input ended early */
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			rc = GP_DECODE_BAD;
			break;
		}
	}
	inflateEnd(&z);
	return rc;
}

static int
un_deflate(const unsigned char *in, size_t n, size_t max, struct gp_buf *out,
    int gzip)
{
	size_t	start = out->len;
	int	rc;

	if (gzip)
		return inflate_with(16 + MAX_WBITS, in, n, max, out);
	rc = inflate_with(MAX_WBITS, in, n, max, out);
	if (rc == GP_DECODE_BAD && out->len == start)	/* raw deflate */
		rc = inflate_with(-MAX_WBITS, in, n, max, out);
	return rc;
}

static int
un_br(const unsigned char *in, size_t n, size_t max, struct gp_buf *out)
{
	BrotliDecoderState	*s;
	BrotliDecoderResult	 r;
	int			 rc = GP_DECODE_PARTIAL;
	size_t			 avail;

	if ((s = BrotliDecoderCreateInstance(NULL, NULL, NULL)) == NULL)
		return GP_DECODE_BAD;
	while (out->len < max) {
		uint8_t	*p = (uint8_t *)room(out, max, &avail);
		size_t	 left = avail;

		r = BrotliDecoderDecompressStream(s, &n, &in, &left, &p, NULL);
		out->len += avail - left;
		if (r == BROTLI_DECODER_RESULT_SUCCESS) {
			rc = GP_DECODE_OK;
			break;
		}
		if (r == BROTLI_DECODER_RESULT_ERROR) {
			rc = GP_DECODE_BAD;
			break;
		}
		if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT)
			break;			/* input ended early */
	}
	BrotliDecoderDestroyInstance(s);
	return rc;
}

static int
un_zstd(const unsigned char *in, size_t n, size_t max, struct gp_buf *out)
{
	ZSTD_DCtx	*d;
	ZSTD_inBuffer	 ib = { in, n, 0 };
	size_t		 r = 1, avail;
	int		 rc = GP_DECODE_PARTIAL;

	if ((d = ZSTD_createDCtx()) == NULL)
		return GP_DECODE_BAD;
	ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 23);
	while (out->len < max) {
		ZSTD_outBuffer ob;

		ob.dst = room(out, max, &avail);
		ob.size = avail;
		ob.pos = 0;
		r = ZSTD_decompressStream(d, &ob, &ib);
		out->len += ob.pos;
		if (ZSTD_isError(r)) {
			rc = GP_DECODE_BAD;
			break;
		}
		if (r == 0 && ib.pos == ib.size) {	/* every frame ended */
			rc = GP_DECODE_OK;
			break;
		}
		if (ib.pos == ib.size && ob.pos < ob.size)
			break;			/* input ended mid-frame */
	}
	ZSTD_freeDCtx(d);
	return rc;
}

static int
coding_of(const char *p, size_t n, enum coding *c)
{
	static const struct {
		const char	*name;
		enum coding	 c;
	} names[] = {
		{ "identity", C_IDENTITY }, { "gzip", C_GZIP },
		{ "x-gzip", C_GZIP }, { "deflate", C_DEFLATE },
		{ "br", C_BR }, { "zstd", C_ZSTD },
	};
	size_t i;

	for (i = 0; i < GP_ARRAY_LEN(names); i++)
		if (strlen(names[i].name) == n &&
		    strncasecmp(names[i].name, p, n) == 0) {
			*c = names[i].c;
			return 0;
		}
	return -1;
}

/* The list of codings, in the order they were applied; -1 if unknown. */
static int
codings_of(const char *s, enum coding *c, int *nc)
{
	*nc = 0;
	while (*s != '\0') {
		const char *e;

		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		for (e = s; *e != '\0' && *e != ',' && *e != ' ' &&
		    *e != '\t'; e++)
			;
		if (e == s)
			break;
		if (*nc == MAX_CODINGS || coding_of(s, (size_t)(e - s),
		    &c[*nc]) != 0)
			return -1;
		if (c[*nc] != C_IDENTITY)
			(*nc)++;
		s = e;
	}
	return 0;
}

int
gp_http_decode(const char *codings, const void *in, size_t n, size_t max,
    struct gp_buf *out)
{
	enum coding	c[MAX_CODINGS];
	struct gp_buf	stage[2] = { { 0 }, { 0 } };
	const void	*src = in;
	size_t		 srclen = n;
	int		 nc, i, rc = GP_DECODE_OK, r;

	if (codings_of(codings, c, &nc) != 0)
		return GP_DECODE_UNKNOWN;
	if (nc == 0)
		return GP_DECODE_UNKNOWN;	/* nothing to undo */
	for (i = nc - 1; i >= 0; i--) {
		struct gp_buf *dst = &stage[i & 1];

		gp_buf_reset(dst);
		switch (c[i]) {
		case C_GZIP:
			r = un_deflate(src, srclen, max, dst, 1);
			break;
		case C_DEFLATE:
			r = un_deflate(src, srclen, max, dst, 0);
			break;
		case C_BR:
			r = un_br(src, srclen, max, dst);
			break;
		default:
			r = un_zstd(src, srclen, max, dst);
			break;
		}
		if (r == GP_DECODE_BAD) {
			rc = r;
			break;
		}
		if (r == GP_DECODE_PARTIAL || dst->len >= max)
			rc = GP_DECODE_PARTIAL;
		src = dst->data != NULL ? dst->data : "";
		srclen = dst->len;
	}
	if (rc != GP_DECODE_BAD) {
		gp_buf_reset(out);
		gp_buf_add(out, src, srclen);
	}
	gp_buf_free(&stage[0]);
	gp_buf_free(&stage[1]);
	return rc;
}

/* Text or JSON, as the original lists them (interfaces 6). */
int
gp_http_type_is_text(const char *type)
{
	static const char *const exact[] = {
		"application/json", "application/xml",
		"application/javascript", "application/x-javascript",
		"application/ecmascript", "application/x-www-form-urlencoded",
		"application/graphql", "application/soap+xml",
		"application/xhtml+xml", "application/x-ndjson",
	};
	size_t	n, i;

	if (type == NULL)
		return 0;
	while (*type == ' ')
		type++;
	n = strcspn(type, "; \t");
	if (n >= 5 && strncasecmp(type, "text/", 5) == 0)
		return 1;
	for (i = 0; i < GP_ARRAY_LEN(exact); i++)
		if (strlen(exact[i]) == n && strncasecmp(exact[i], type,
		    n) == 0)
			return 1;
	return n > 5 && (strncasecmp(type + n - 5, "+json", 5) == 0 ||
	    strncasecmp(type + n - 4, "+xml", 4) == 0);
}

/*
 * A chunked body (RFC 9112 7.1) as the data it carries: sizes, chunk
 * extensions and trailers dropped.  GP_DECODE_PARTIAL if the bytes end
 * before the last chunk (a capture cut short keeps what it holds).
 */
int
gp_http_dechunk(const void *in, size_t n, struct gp_buf *out)
{
	const char	*p = in, *end = p + n;

	gp_buf_reset(out);
	for (;;) {
		uint64_t	size = 0;
		int		digits = 0;
		const char	*nl;

		for (; p < end; p++, digits++) {
			int v = *p >= '0' && *p <= '9' ? *p - '0' :
			    (*p | 0x20) >= 'a' && (*p | 0x20) <= 'f' ?
			    (*p | 0x20) - 'a' + 10 : -1;

			if (v < 0)
				break;
			if (size >> 60)
				return GP_DECODE_BAD;
			size = size << 4 | (uint64_t)v;
		}
		if (p == end)
			return GP_DECODE_PARTIAL;
		if (digits == 0)
			return GP_DECODE_BAD;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return GP_DECODE_PARTIAL;	/* extensions, CRLF */
		p = nl + 1;
		if (size == 0)
			return GP_DECODE_OK;		/* trailers: dropped */
		if (size > (uint64_t)(end - p)) {
			gp_buf_add(out, p, (size_t)(end - p));
			return GP_DECODE_PARTIAL;
		}
		gp_buf_add(out, p, (size_t)size);
		p += size;
		if (p < end && *p == '\r')
			p++;
		if (p == end)
			return GP_DECODE_PARTIAL;
		if (*p++ != '\n')
			return GP_DECODE_BAD;
	}
}
