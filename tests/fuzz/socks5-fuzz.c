/* socks5-fuzz.c: the SOCKS5 greeting, auth, request and UDP parsers. */
#include "config.h"

#include <stdint.h>

#include "proxy/proxy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_socks5_req	r;
	char			user[256];
	int			method, rep, n;
	size_t			off = 0;

	/* As a client sends them: greeting, auth, request, in turn. */
	n = gp_socks5_parse_greeting(data, size, &method);
	if (n > 0) {
		off = (size_t)n;
		if (method == GP_SOCKS5_USERPASS) {
			n = gp_socks5_parse_auth(data + off, size - off, user,
			    sizeof user);
			if (n > 0)
				off += (size_t)n;
		}
		gp_socks5_parse_request(data + off, size - off, &r, &rep);
	}
	gp_socks5_parse_request(data, size, &r, &rep);
	gp_socks5_parse_udp(data, size, &r);
	return 0;
}
