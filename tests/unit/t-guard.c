/* t-guard.c: the local-network guard over a table of addresses (never
 * by sending traffic to them). */
#include "config.h"

#include <stdio.h>

#include "net/net.h"
#include "core/core.h"
#include "../lib/tap.h"

static const struct {
	const char	*ip;
	int		 local;
} cases[] = {
	/* IPv4 */
	{ "127.0.0.1", 1 }, { "127.255.255.254", 1 }, { "10.1.2.3", 1 },
	{ "172.16.0.1", 1 }, { "172.31.255.255", 1 }, { "172.32.0.1", 0 },
	{ "172.15.255.255", 0 }, { "192.168.1.1", 1 }, { "169.254.169.254", 1 },
	{ "100.64.0.1", 1 }, { "100.127.255.255", 1 }, { "100.128.0.0", 0 },
	{ "100.63.255.255", 0 }, { "0.0.0.0", 1 }, { "0.1.2.3", 1 },
	{ "198.18.0.1", 1 }, { "198.19.255.255", 1 }, { "198.20.0.0", 0 },
	{ "198.17.255.255", 0 }, { "224.0.0.1", 1 }, { "239.255.255.250", 1 },
	{ "255.255.255.255", 1 }, { "240.0.0.1", 1 }, { "192.0.0.8", 1 },
	{ "8.8.8.8", 0 }, { "1.1.1.1", 0 }, { "93.184.216.34", 0 },
	{ "223.255.255.255", 0 }, { "11.0.0.1", 0 },
	/* IPv6 */
	{ "::1", 1 }, { "::", 1 }, { "fe80::1", 1 }, { "fc00::1", 1 },
	{ "fd12:3456::1", 1 }, { "fec0::1", 1 }, { "ff02::1", 1 },
	{ "ff05::2", 1 }, { "2606:4700::1111", 0 }, { "2001:4860:4860::8888", 0 },
	/* IPv4-mapped and IPv4-compatible */
	{ "::ffff:127.0.0.1", 1 }, { "::ffff:10.0.0.1", 1 },
	{ "::ffff:8.8.8.8", 0 }, { "::127.0.0.1", 1 }, { "::10.0.0.1", 1 },
	{ "::192.168.0.1", 1 }, { "::8.8.8.8", 0 },
	/* NAT64 well-known prefix */
	{ "64:ff9b::127.0.0.1", 1 }, { "64:ff9b::7f00:1", 1 },
	{ "64:ff9b::10.0.0.1", 1 }, { "64:ff9b::169.254.169.254", 1 },
	{ "64:ff9b::8.8.8.8", 0 },
	/* NAT64 local-use prefix, embedded at /96 and at /48 */
	{ "64:ff9b:1::127.0.0.1", 1 }, { "64:ff9b:1:7f00:1::", 1 },
	{ "64:ff9b:1:a00:1::", 1 },
	/* 6to4 */
	{ "2002:7f00:1::1", 1 }, { "2002:a00:1::", 1 }, { "2002:c0a8:101::1", 1 },
	{ "2002:808:808::1", 0 },
	/* Teredo: server 4-7, client inverted in 12-15 */
	{ "2001:0:7f00:1::", 1 }, { "2001:0:808:808::80ff:fffe", 1 },
	{ "2001:0:808:808::f7f7:f7f7", 0 },
};

int
main(void)
{
	size_t	i;

	for (i = 0; i < GP_ARRAY_LEN(cases); i++)
		is_int(gp_ip_is_private(cases[i].ip), cases[i].local,
		    "%s is %s", cases[i].ip, cases[i].local ? "local" :
		    "public");
	is_int(gp_ip_is_private("example.com"), 0, "a name is not a literal");
	is_int(gp_ip_is_private("127.1"), 0, "short forms are not literals");
	return tap_done();
}
