/*
 * socks5.c: SOCKS5 (RFC 1928) with username/password authentication
 * (RFC 1929).  The user name is the source's identity, as greywall
 * sends it; any password is accepted.  CONNECT is proxied; BIND and
 * UDP ASSOCIATE are answered 0x07 (command not supported).
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/flow.h"

enum sstate { S_GREET, S_AUTH, S_REQ, S_WAIT, S_DONE };

struct socks {
	enum sstate	state;
	char		user[256];
};

static void	socks_data(struct gp_flow *, struct gp_side *);
static void	socks_eof(struct gp_flow *, struct gp_side *);
static void	socks_refuse(struct gp_flow *, enum gp_reason);
static void	socks_connected(struct gp_flow *);
static void	socks_free(struct gp_flow *);

static void	socks_closing(struct gp_flow *);

static const struct gp_flow_ops socks_ops = {
	.method = "SOCKS5",
	.data = socks_data,
	.eof = socks_eof,
	.refuse = socks_refuse,
	.connected = socks_connected,
	.free = socks_free,
	.closing = socks_closing,
};

int
gp_socks5_parse_greeting(const unsigned char *p, size_t n, int *method)
{
	size_t	i, nm;
	int	noauth = 0, userpass = 0;

	if (n < 1)
		return GP_AGAIN;
	if (p[0] != 5)
		return GP_EPROTO;
	if (n < 2)
		return GP_AGAIN;
	nm = p[1];
	if (nm == 0)
		return GP_EPROTO;
	if (n < 2 + nm)
		return GP_AGAIN;
	for (i = 0; i < nm; i++) {
		if (p[2 + i] == GP_SOCKS5_NO_AUTH)
			noauth = 1;
		else if (p[2 + i] == GP_SOCKS5_USERPASS)
			userpass = 1;
	}
	*method = userpass ? GP_SOCKS5_USERPASS : noauth ? GP_SOCKS5_NO_AUTH :
	    GP_SOCKS5_NO_METHOD;
	return (int)(2 + nm);
}

int
gp_socks5_parse_auth(const unsigned char *p, size_t n, char *user,
    size_t userlen)
{
	size_t	ulen, plen;

	if (n < 1)
		return GP_AGAIN;
	if (p[0] != 1)
		return GP_EPROTO;
	if (n < 2)
		return GP_AGAIN;
	ulen = p[1];
	if (n < 3 + ulen)
		return GP_AGAIN;
	plen = p[2 + ulen];
	if (n < 3 + ulen + plen)
		return GP_AGAIN;
	if (ulen >= userlen)
		return GP_EPROTO;
	for (size_t i = 0; i < ulen; i++)
		if (p[2 + i] < 0x20 || p[2 + i] == 0x7f)
			return GP_EPROTO;
	memcpy(user, p + 2, ulen);
	user[ulen] = '\0';
	return (int)(3 + ulen + plen);
}

/*
 * ATYP, DST.ADDR and DST.PORT at p (shared by requests and UDP datagram
 * headers).  Returns bytes used, GP_AGAIN, or GP_EPROTO with *rep.
 */
static int
parse_addr(const unsigned char *p, size_t n, struct gp_socks5_req *r,
    int *rep)
{
	size_t		 need;
	const char	*why;
	char		 ip[INET6_ADDRSTRLEN];

	if (n < 2)
		return GP_AGAIN;
	r->atyp = p[0];
	switch (r->atyp) {
	case 1:
		need = 1 + 4 + 2;
		break;
	case 3:
		if (p[1] == 0) {
			*rep = 0x01;
			return GP_EPROTO;
		}
		need = 1 + 1 + p[1] + 2;
		break;
	case 4:
		need = 1 + 16 + 2;
		break;
	default:
		*rep = 0x08;	/* address type not supported */
		return GP_EPROTO;
	}
	if (n < need)
		return GP_AGAIN;
	r->port = (unsigned)p[need - 2] << 8 | p[need - 1];
	if (r->atyp == 1) {
		inet_ntop(AF_INET, p + 1, r->host, sizeof r->host);
	} else if (r->atyp == 4) {
		inet_ntop(AF_INET6, p + 1, ip, sizeof ip);
		snprintf(r->host, sizeof r->host, "%s", ip);
	} else if (gp_host_normalize((const char *)p + 2, p[1], r->host,
	    sizeof r->host, &why) != 0) {
		*rep = 0x04;	/* an unusable name cannot be reached */
		return GP_EPROTO;
	}
	return (int)need;
}

int
gp_socks5_parse_request(const unsigned char *p, size_t n,
    struct gp_socks5_req *r, int *rep)
{
	int	used;

	*rep = 0x01;
	if (n < 1)
		return GP_AGAIN;
	if (p[0] != 5)
		return GP_EPROTO;
	if (n < 5)
		return GP_AGAIN;
	r->cmd = p[1];
	if ((used = parse_addr(p + 3, n - 3, r, rep)) < 0)
		return used;
	if (r->cmd != GP_SOCKS5_CONNECT && r->cmd != GP_SOCKS5_BIND &&
	    r->cmd != GP_SOCKS5_UDP) {
		*rep = 0x07;
		return GP_EPROTO;
	}
	return 3 + used;
}

int
gp_socks5_parse_udp(const unsigned char *p, size_t n,
    struct gp_socks5_req *r)
{
	int	rep, used;

	/* RSV RSV FRAG: fragments are not supported (RFC 1928 7: drop). */
	if (n < 4 || p[0] != 0 || p[1] != 0 || p[2] != 0)
		return GP_EPROTO;
	r->cmd = GP_SOCKS5_UDP;
	used = parse_addr(p + 3, n - 3, r, &rep);
	return used < 0 ? GP_EPROTO : 3 + used;
}

size_t
gp_socks5_addr(unsigned char *out, const struct sockaddr *sa)
{
	unsigned port = gp_addr_port(sa);

	if (sa->sa_family == AF_INET6) {
		out[0] = 4;
		memcpy(out + 1, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		    16);
		out[17] = (unsigned char)(port >> 8);
		out[18] = (unsigned char)port;
		return 19;
	}
	out[0] = 1;
	memcpy(out + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	out[5] = (unsigned char)(port >> 8);
	out[6] = (unsigned char)port;
	return 7;
}

void
gp_socks5_reply(unsigned char out[10], int rep)
{
	memset(out, 0, 10);
	out[0] = 5;
	out[1] = (unsigned char)rep;
	out[3] = 1;	/* IPv4 0.0.0.0:0 */
}

void
gp_proxy_accept_socks5(uv_stream_t *server, int status)
{
	struct gp_flow	*f;

	if (status != 0) {
		gp_net_accept_failed("socks5", status);
		return;
	}
	f = gp_flow_new(server->data, server, &socks_ops);
	if (f != NULL)
		f->proto = gp_xcalloc(1, sizeof(struct socks));
}

static void
socks_free(struct gp_flow *f)
{
	free(f->proto);
	free(f->udp);
}

static void
socks_closing(struct gp_flow *f)
{
	if (f->udp != NULL)
		gp_socks5_udp_close(f);
}

/* Sends a reply code and, unless it is success, closes afterwards. */
static void
reply(struct gp_flow *f, int rep)
{
	unsigned char	b[10];

	gp_socks5_reply(b, rep);
	gp_flow_write(&f->c, b, sizeof b);
	if (rep != 0)
		gp_flow_finish(f);
}

static void
socks_data(struct gp_flow *f, struct gp_side *s)
{
	struct socks		*st = f->proto;
	const unsigned char	*p;
	struct gp_socks5_req	 r;
	int			 n, method, rep;
	unsigned char		 out[2];

	if (s != &f->c || f->finishing)
		return;
	while (!f->closing && !f->finishing && f->c.in.len > 0) {
		p = (const unsigned char *)f->c.in.data;
		switch (st->state) {
		case S_GREET:
			n = gp_socks5_parse_greeting(p, f->c.in.len, &method);
			if (n == GP_AGAIN)
				return;
			if (n < 0) {
				gp_log(GP_LOG_WARN, "socks5 %s: bad greeting",
				    f->client_addr);
				gp_flow_close(f);
				return;
			}
			gp_flow_consume(&f->c, (size_t)n);
			out[0] = 5;
			out[1] = (unsigned char)method;
			gp_flow_write(&f->c, out, 2);
			if (method == GP_SOCKS5_NO_METHOD) {
				gp_flow_finish(f);
				return;
			}
			st->state = method == GP_SOCKS5_USERPASS ? S_AUTH :
			    S_REQ;
			break;
		case S_AUTH:
			n = gp_socks5_parse_auth(p, f->c.in.len, st->user,
			    sizeof st->user);
			if (n == GP_AGAIN)
				return;
			out[0] = 1;
			out[1] = n < 0 ? 1 : 0;
			gp_flow_write(&f->c, out, 2);
			if (n < 0) {
				gp_log(GP_LOG_WARN, "socks5 %s: bad auth",
				    f->client_addr);
				gp_flow_finish(f);
				return;
			}
			gp_flow_consume(&f->c, (size_t)n);
			gp_flow_set_identity(f, st->user);
			st->state = S_REQ;
			break;
		case S_REQ:
			n = gp_socks5_parse_request(p, f->c.in.len, &r, &rep);
			if (n == GP_AGAIN)
				return;
			if (n < 0) {
				gp_log(GP_LOG_WARN, "socks5 %s: bad request "
				    "(reply %d)", f->client_addr, rep);
				reply(f, rep);
				return;
			}
			gp_flow_consume(&f->c, (size_t)n);
			snprintf(f->host, sizeof f->host, "%s", r.host);
			f->port = r.port;
			if (r.cmd == GP_SOCKS5_UDP) {
				st->state = S_DONE;
				f->port = r.port;	/* the client's, or 0 */
				gp_socks5_udp_start(f);
				return;
			}
			if (r.cmd != GP_SOCKS5_CONNECT) {
				gp_log(GP_LOG_INFO, "socks5 %s: command %d "
				    "not supported", f->client_addr, r.cmd);
				reply(f, 0x07);
				return;
			}
			snprintf(f->request, sizeof f->request,
			    "CONNECT %s:%u", f->host, f->port);
			snprintf(f->method, sizeof f->method, "CONNECT");
			st->state = S_WAIT;
			/* Early data stays buffered for the tunnel; reading
			 * on notices a client that leaves while held. */
			gp_flow_decide(f);
			return;
		default:
			return;
		}
	}
}

static void
socks_eof(struct gp_flow *f, struct gp_side *s)
{
	struct socks *st = f->proto;

	/*
	 * While resolving or dialing, a half-closed client still wants its
	 * answer: the tunnel passes the EOF on.  Held for a person, or
	 * before the request, EOF means the client gave up.
	 */
	if (st->state == S_WAIT && !f->held && s == &f->c)
		return;
	gp_flow_close(f);
}

static void
socks_refuse(struct gp_flow *f, enum gp_reason r)
{
	gp_flow_log(f);
	reply(f, gp_reason_socks_reply(r));
}

static void
socks_connected(struct gp_flow *f)
{
	struct socks *st = f->proto;

	st->state = S_DONE;
	reply(f, 0x00);
	gp_flow_tunnel(f);
}
