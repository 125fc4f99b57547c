/*
 * self.c: greyproxy's own listeners are never a destination.  A proxied
 * client that reached the API could give itself an allow-all rule, so
 * no rule, approval or setting lets a connection through to an address
 * that lands on one of our sockets: any loopback or unspecified address
 * (0.0.0.0, ::, 127.0.0.0/8, ::1 and their mapped forms) on one of our
 * ports, the exact address a listener is bound to, and, for a listener
 * bound to every address, any address of this machine.
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "proxy/flow.h"

void
gp_proxy_add_self(struct gp_proxy *px, const struct sockaddr *sa)
{
	if (px->nself == GP_ARRAY_LEN(px->self))
		gp_panic("too many listeners");
	memset(&px->self[px->nself], 0, sizeof px->self[0]);
	memcpy(&px->self[px->nself], sa, sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	px->nself++;
}

int
gp_proxy_self_port(const struct gp_proxy *px, unsigned port)
{
	size_t	i;

	for (i = 0; i < px->nself; i++)
		if (gp_addr_port((const struct sockaddr *)&px->self[i]) ==
		    port)
			return 1;
	return 0;
}

static int
unspecified(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_addr.s_addr ==
		    INADDR_ANY;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)sa)->sin6_addr;
		uint32_t v4;

		if (IN6_IS_ADDR_UNSPECIFIED(a))
			return 1;
		memcpy(&v4, &a->s6_addr[12], 4);
		return IN6_IS_ADDR_V4MAPPED(a) && v4 == INADDR_ANY;
	}
	return 0;
}

/* The same IP (v4-mapped IPv6 equal to its IPv4). */
static int
same_ip(const struct sockaddr *a, const struct sockaddr *b)
{
	char	x[INET6_ADDRSTRLEN], y[INET6_ADDRSTRLEN];

	gp_addr_ip(a, x, sizeof x);
	gp_addr_ip(b, y, sizeof y);
	if (strncmp(x, "::ffff:", 7) == 0 && strchr(x + 7, '.') != NULL)
		memmove(x, x + 7, strlen(x + 7) + 1);
	if (strncmp(y, "::ffff:", 7) == 0 && strchr(y + 7, '.') != NULL)
		memmove(y, y + 7, strlen(y + 7) + 1);
	return strcmp(x, y) == 0;
}

/* Is sa one of this machine's interface addresses? */
static int
local_interface(const struct sockaddr *sa)
{
	uv_interface_address_t	*ifs;
	int			 n, i, found = 0;

	if (uv_interface_addresses(&ifs, &n) != 0)
		return 1;	/* cannot tell: assume it is */
	for (i = 0; i < n && !found; i++)
		found = same_ip(sa, (const struct sockaddr *)
		    &ifs[i].address);
	uv_free_interface_addresses(ifs, n);
	return found;
}

int
gp_proxy_is_self(const struct gp_proxy *px, const struct sockaddr *sa)
{
	unsigned	port = gp_addr_port(sa);
	size_t		i;

	for (i = 0; i < px->nself; i++) {
		const struct sockaddr *l =
		    (const struct sockaddr *)&px->self[i];

		if (gp_addr_port(l) != port)
			continue;
		if (gp_addr_is_loopback(sa) || unspecified(sa) ||
		    same_ip(sa, l))
			return 1;
		if (unspecified(l) && local_interface(sa))
			return 1;
	}
	return 0;
}

size_t
gp_proxy_count_self(const struct gp_proxy *px,
    const struct sockaddr_storage *a, size_t n)
{
	size_t	i, k = 0;

	for (i = 0; i < n; i++)
		k += gp_proxy_is_self(px, (const struct sockaddr *)&a[i]);
	return k;
}
