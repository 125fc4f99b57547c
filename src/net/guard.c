/* guard.c: which addresses are on the local network. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "net/net.h"

static int
v4_private(uint32_t a)
{
	return (a >> 24) == 127 ||		/* loopback */
	    (a >> 24) == 10 ||			/* RFC 1918 */
	    (a >> 20) == 0xac1 ||		/* 172.16/12 */
	    (a >> 16) == 0xc0a8 ||		/* 192.168/16 */
	    (a >> 16) == 0xa9fe ||		/* 169.254/16 link-local */
	    (a >> 22) == (100u << 2 | 1) ||	/* 100.64/10 CGNAT */
	    (a >> 24) == 0;			/* 0/8 */
}

int
gp_addr_is_private(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return v4_private(ntohl(
		    ((const struct sockaddr_in *)sa)->sin_addr.s_addr));
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)sa)->sin6_addr;
		uint32_t v4;

		if (IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a) ||
		    IN6_IS_ADDR_LINKLOCAL(a) || (a->s6_addr[0] & 0xfe) == 0xfc)
			return 1;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(&v4, &a->s6_addr[12], 4);
			return v4_private(ntohl(v4));
		}
	}
	return 0;
}

int
gp_ip_is_private(const char *s)
{
	union {
		struct sockaddr		sa;
		struct sockaddr_in	sin;
		struct sockaddr_in6	sin6;
	} u;

	memset(&u, 0, sizeof u);
	if (inet_pton(AF_INET, s, &u.sin.sin_addr) == 1)
		u.sin.sin_family = AF_INET;
	else if (inet_pton(AF_INET6, s, &u.sin6.sin6_addr) == 1)
		u.sin6.sin6_family = AF_INET6;
	else
		return 0;
	return gp_addr_is_private(&u.sa);
}
