/*
 * guard.c: which addresses are on the local network.  IPv4 ranges come
 * from one table; an IPv6 address that carries an IPv4 one (mapped,
 * compatible, NAT64, 6to4, Teredo) is judged by the IPv4 address it
 * carries, so no form of 127.0.0.1 or 10.0.0.1 passes for a public
 * address.
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "core/core.h"
#include "net/net.h"

/* IPv4 ranges that are not the public internet (RFC 6890 and friends). */
static const struct {
	uint32_t	net;
	unsigned	len;
} v4_local[] = {
	{ 0x00000000, 8 },	/* 0/8 "this network" */
	{ 0x0a000000, 8 },	/* 10/8 RFC 1918 */
	{ 0x64400000, 10 },	/* 100.64/10 CGNAT */
	{ 0x7f000000, 8 },	/* 127/8 loopback */
	{ 0xa9fe0000, 16 },	/* 169.254/16 link-local */
	{ 0xac100000, 12 },	/* 172.16/12 RFC 1918 */
	{ 0xc0000000, 24 },	/* 192.0.0/24 IETF protocol assignments */
	{ 0xc0a80000, 16 },	/* 192.168/16 RFC 1918 */
	{ 0xc6120000, 15 },	/* 198.18/15 benchmarking */
	{ 0xe0000000, 4 },	/* 224/4 multicast */
	{ 0xf0000000, 4 },	/* 240/4 reserved, 255.255.255.255 broadcast */
};

static int
v4_private(uint32_t a)
{
	size_t	i;

	for (i = 0; i < GP_ARRAY_LEN(v4_local); i++)
		if ((a ^ v4_local[i].net) >> (32 - v4_local[i].len) == 0)
			return 1;
	return 0;
}

static uint32_t
v4_at(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Does the IPv6 address a begin with the n-byte prefix p? */
static int
has_prefix(const unsigned char *a, const unsigned char *p, size_t n)
{
	return memcmp(a, p, n) == 0;
}

static int
v6_private(const struct in6_addr *in)
{
	static const unsigned char zero[12], nat64[12] = { 0x00, 0x64, 0xff,
	    0x9b }, nat64_local[6] = { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 },
	    teredo[4] = { 0x20, 0x01, 0x00, 0x00 };
	const unsigned char *a = in->s6_addr;
	unsigned char	 v4[4];
	size_t		 i;

	if (IN6_IS_ADDR_LOOPBACK(in) || IN6_IS_ADDR_UNSPECIFIED(in))
		return 1;
	if ((a[0] & 0xfe) == 0xfc ||			/* fc00::/7 ULA */
	    (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||	/* fe80::/10 */
	    (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) ||	/* fec0::/10 */
	    a[0] == 0xff)				/* ff00::/8 multicast */
		return 1;
	/* ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible). */
	if (IN6_IS_ADDR_V4MAPPED(in) || has_prefix(a, zero, 12))
		return v4_private(v4_at(a + 12));
	/* NAT64 well-known prefix 64:ff9b::/96 (RFC 6052). */
	if (has_prefix(a, nat64, 12))
		return v4_private(v4_at(a + 12));
	/*
	 * Local-use NAT64 64:ff9b:1::/48 (RFC 8215): the IPv4 address sits
	 * where the prefix length puts it (RFC 6052 2.2: /48, /56, /64,
	 * /96, skipping bits 64-71); judged private if any reading is.
	 */
	if (has_prefix(a, nat64_local, 6)) {
		const unsigned char reads[4][4] = {
			{ a[6], a[7], a[9], a[10] },	/* /48 */
			{ a[7], a[9], a[10], a[11] },	/* /56 */
			{ a[9], a[10], a[11], a[12] },	/* /64 */
			{ a[12], a[13], a[14], a[15] },	/* /96 */
		};

		for (i = 0; i < 4; i++)
			if (v4_private(v4_at(reads[i])))
				return 1;
		return 0;
	}
	/* 6to4 2002:a.b.c.d::/48 (RFC 3056). */
	if (a[0] == 0x20 && a[1] == 0x02)
		return v4_private(v4_at(a + 2));
	/* Teredo 2001::/32 (RFC 4380): server at 4-7, client inverted. */
	if (has_prefix(a, teredo, 4)) {
		for (i = 0; i < 4; i++)
			v4[i] = (unsigned char)~a[12 + i];
		return v4_private(v4_at(a + 4)) || v4_private(v4_at(v4));
	}
	return 0;
}

int
gp_addr_is_private(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return v4_private(ntohl(
		    ((const struct sockaddr_in *)sa)->sin_addr.s_addr));
	if (sa->sa_family == AF_INET6)
		return v6_private(&((const struct sockaddr_in6 *)sa)->sin6_addr);
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
