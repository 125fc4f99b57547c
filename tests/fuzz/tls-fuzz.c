/* tls-fuzz.c: the TLS ClientHello sniffer, whole and cut short. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "mitm/mitm.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_tls_hello	h;
	size_t			cut;

	if (gp_tls_sniff(data, size, &h) == GP_SNIFF_TLS &&
	    strlen(h.sni) >= GP_SNI_MAX)
		__builtin_trap();
	for (cut = 0; cut < size && cut < 64; cut += 7)
		gp_tls_sniff(data, cut, &h);
	return 0;
}
