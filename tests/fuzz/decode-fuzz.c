/* decode-fuzz.c: the stored-body decoders as capture calls them.  The
 * first byte picks the Content-Encoding list; the rest is the body,
 * also read as a chunked one. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "http/http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const codings[] = {
		"gzip", "deflate", "br", "zstd", "gzip, br", "br, zstd",
		"deflate,gzip", "identity, zstd",
	};
	struct gp_buf	out = { 0 };
	int		r;

	if (size == 0)
		return 0;
	r = gp_http_decode(codings[data[0] % 8], data + 1, size - 1,
	    256 * 1024, &out);
	if ((r == GP_DECODE_OK || r == GP_DECODE_PARTIAL) &&
	    out.len > 256 * 1024)
		__builtin_trap();
	r = gp_http_dechunk(data + 1, size - 1, &out);
	if (r != GP_DECODE_BAD && out.len > size)
		__builtin_trap();
	gp_buf_free(&out);
	return 0;
}
