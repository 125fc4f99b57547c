/* t-socks5.c: SOCKS5 greeting, authentication and request parsing. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "proxy/flow.h"
#include "proxy/proxy.h"
#include "../lib/tap.h"

#define B(...) ((const unsigned char[]){ __VA_ARGS__ })
#define N(...) sizeof((const unsigned char[]){ __VA_ARGS__ })
#define GREET(...) gp_socks5_parse_greeting(B(__VA_ARGS__), N(__VA_ARGS__), &m)
#define REQ(...) gp_socks5_parse_request(B(__VA_ARGS__), N(__VA_ARGS__), &r, &rep)

int
main(void)
{
	struct gp_socks5_req	r;
	unsigned char		out[10];
	char			user[64];
	int			m = -1, rep;

	/* Greeting. */
	is_int(GREET(5, 1, 0), 3, "no-auth greeting");
	is_int(m, GP_SOCKS5_NO_AUTH, "no-auth chosen");
	is_int(GREET(5, 2, 0, 2), 4, "both methods offered");
	is_int(m, GP_SOCKS5_USERPASS, "user/pass preferred (identity)");
	is_int(GREET(5, 1, 1), 3, "GSSAPI only");
	is_int(m, GP_SOCKS5_NO_METHOD, "no acceptable method");
	is_int(GREET(5), GP_AGAIN, "greeting needs NMETHODS");
	is_int(GREET(5, 3, 0), GP_AGAIN, "greeting needs its methods");
	is_int(GREET(4, 1, 0), GP_EPROTO, "SOCKS4 refused");
	is_int(GREET(5, 0), GP_EPROTO, "zero methods refused");
	is_int(GREET('G', 'E', 'T'), GP_EPROTO, "HTTP on the SOCKS port");

	/* RFC 1929 sub-negotiation. */
	is_int(gp_socks5_parse_auth(B(1, 3, 'b', 'o', 'b', 2, 'p', 'w'), 8,
	    user, sizeof user), 8, "auth parsed");
	is_str(user, "bob", "user name");
	is_int(gp_socks5_parse_auth(B(1, 0, 0), 3, user, sizeof user), 3,
	    "empty user and password");
	is_str(user, "", "empty user name");
	is_int(gp_socks5_parse_auth(B(1, 3, 'b', 'o'), 4, user, sizeof user),
	    GP_AGAIN, "auth needs the whole name");
	is_int(gp_socks5_parse_auth(B(1, 3, 'b', 'o', 'b'), 5, user,
	    sizeof user), GP_AGAIN, "auth needs the password length");
	is_int(gp_socks5_parse_auth(B(2, 0, 0), 3, user, sizeof user),
	    GP_EPROTO, "auth version 2 refused");
	is_int(gp_socks5_parse_auth(B(1, 2, 'a', '\n', 0), 5, user,
	    sizeof user), GP_EPROTO, "control byte in user refused");

	/* Requests. */
	is_int(REQ(5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90), 10, "IPv4 CONNECT");
	is_str(r.host, "127.0.0.1", "IPv4 host");
	is_int(r.port, 8080, "port");
	is_int(r.cmd, GP_SOCKS5_CONNECT, "CONNECT");
	is_int(REQ(5, 1, 0, 3, 11, 'E', 'x', 'a', 'm', 'p', 'l', 'e', '.',
	    'c', 'o', 'm', 1, 187), 18, "domain CONNECT");
	is_str(r.host, "example.com", "domain normalized");
	is_int(r.port, 443, "domain port");
	is_int(REQ(5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 1, 0, 80), 22, "IPv6 CONNECT");
	is_str(r.host, "2001:db8::1", "IPv6 host");
	is_int(REQ(5, 3, 0, 1, 0, 0, 0, 0, 0, 0), 10, "UDP ASSOCIATE parsed");
	is_int(r.cmd, GP_SOCKS5_UDP, "UDP ASSOCIATE command");
	is_int(REQ(5, 9, 0, 1, 0, 0, 0, 0, 0, 0), GP_EPROTO, "unknown command");
	is_int(rep, 0x07, "unknown command → 0x07");
	is_int(REQ(5, 1, 0, 9, 1, 2, 3, 4, 0, 80), GP_EPROTO, "unknown atyp");
	is_int(rep, 0x08, "unknown address type → 0x08");
	is_int(REQ(5, 1, 0, 3, 0, 0, 80), GP_EPROTO, "empty domain");
	is_int(REQ(5, 1, 0, 3, 3, 'a', ' ', 'b', 0, 80), GP_EPROTO,
	    "space in domain");
	is_int(rep, 0x04, "bad name → 0x04");
	is_int(REQ(5, 1, 0, 3, 10, 'a', 'b'), GP_AGAIN, "domain needs more");
	is_int(REQ(5, 1, 0), GP_AGAIN, "request needs more");
	is_int(REQ(4, 1, 0, 1, 0, 0, 0, 0, 0, 0), GP_EPROTO, "bad version");

	gp_socks5_reply(out, 0x02);
	ok(memcmp(out, B(5, 2, 0, 1, 0, 0, 0, 0, 0, 0), 10) == 0,
	    "reply layout (ruleset refusal)");
	is_int(gp_reason_socks_reply(GP_R_DENYLIST), 0x02, "deny → 0x02");
	is_int(gp_reason_socks_reply(GP_R_ALLOWLIST), 0x02, "no rule → 0x02");
	is_int(gp_reason_socks_reply(GP_R_CONNECT_REFUSED), 0x05,
	    "refused → 0x05");
	is_int(gp_reason_socks_reply(GP_R_DNS_FAILED), 0x04,
	    "no such host → 0x04");
	/* Local destinations, flagged in pending for CONNECT and UDP alike. */
	ok(gp_flow_local_destination("127.0.0.1") &&
	    gp_flow_local_destination("10.2.3.4") &&
	    gp_flow_local_destination("localhost") &&
	    gp_flow_local_destination("api.localhost") &&
	    gp_flow_local_destination("fd00::1"), "local destinations");
	ok(!gp_flow_local_destination("example.com") &&
	    !gp_flow_local_destination("8.8.8.8") &&
	    !gp_flow_local_destination("notlocalhost"), "public destinations");
	return tap_done();
}
