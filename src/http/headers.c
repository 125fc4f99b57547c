/* headers.c: hop-by-hop handling (RFC 9110 7.6.1) and reply heads. */
#include "config.h"

#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

#include "http/http.h"

static const struct gp_lit hop_fixed[] = {
	GP_LIT("connection"), GP_LIT("keep-alive"),
	GP_LIT("proxy-connection"), GP_LIT("proxy-authorization"),
	GP_LIT("proxy-authenticate"), GP_LIT("te"), GP_LIT("trailer"),
	GP_LIT("upgrade"),
};

/*
 * Fields a Connection option may not remove (as haproxy and nginx): the
 * framing the next hop needs to read the same message we read, and the
 * Host it is addressed to.  RFC 9110 7.6.1 lets a proxy refuse them.
 */
static const struct gp_lit hop_protected[] = {
	GP_LIT("content-length"), GP_LIT("transfer-encoding"),
	GP_LIT("host"),
};

static int
lit_in(struct gp_iov name, const struct gp_lit *l, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (name.n == l[i].n && strncasecmp(name.p, l[i].s, name.n) == 0)
			return 1;
	return 0;
}

/* Does m have a Connection field? */
static int
has_connection(const struct gp_http_msg *m)
{
	size_t	i;

	for (i = 0; i < m->nh; i++)
		if (gp_iov_eq(m->h[i].name, "connection"))
			return 1;
	return 0;
}

/* Is name hop-by-hop in m (has_conn: has_connection(m), once per
 * message)? */
static int
is_hop(const struct gp_http_msg *m, struct gp_iov name, int has_conn)
{
	char	tok[64];
	size_t	i;

	if (lit_in(name, hop_fixed, GP_ARRAY_LEN(hop_fixed)))
		return 1;
	if (!has_conn || name.n >= sizeof tok ||
	    lit_in(name, hop_protected, GP_ARRAY_LEN(hop_protected)))
		return 0;
	/* Fields named by Connection are hop-by-hop too. */
	memcpy(tok, name.p, name.n);
	tok[name.n] = '\0';
	for (i = 0; i < m->nh; i++)
		if (gp_iov_eq(m->h[i].name, "connection") &&
		    gp_http_has_token(m->h[i].value, tok))
			return 1;
	return 0;
}

int
gp_http_is_hop(const struct gp_http_msg *m, struct gp_iov name)
{
	return is_hop(m, name, has_connection(m));
}

/* Is this hop-by-hop field one keep (GP_KEEP_*) names? */
static int
kept(struct gp_iov name, int keep)
{
	return ((keep & GP_KEEP_UPGRADE) && gp_iov_eq(name, "upgrade")) ||
	    ((keep & GP_KEEP_PROXY_AUTH) &&
	    (gp_iov_eq(name, "proxy-authorization") ||
	    gp_iov_eq(name, "proxy-authenticate")));
}

/* Copies end-to-end fields of m into b, and the hop-by-hop ones keep
 * names. */
static void
copy_fields(struct gp_buf *b, const struct gp_http_msg *m, int keep,
    int skip_host)
{
	size_t	i;
	int	has_conn = has_connection(m);

	for (i = 0; i < m->nh; i++) {
		const struct gp_http_header *h = &m->h[i];

		if (skip_host && gp_iov_eq(h->name, "host"))
			continue;
		if (gp_iov_eq(h->name, "via"))
			continue;	/* rewritten below with ours appended */
		if (is_hop(m, h->name, has_conn) && !kept(h->name, keep))
			continue;
		gp_buf_add(b, h->name.p, h->name.n);
		gp_buf_add(b, ": ", 2);
		gp_buf_add(b, h->value.p, h->value.n);
		gp_buf_add(b, "\r\n", 2);
	}
}

/* Appends a Via field: the received one plus ours (RFC 9110 7.6.3). */
static void
add_via(struct gp_buf *b, const struct gp_http_msg *m)
{
	const struct gp_http_header *via = gp_http_find(m, "via");

	gp_buf_addstr(b, "Via: ");
	if (via != NULL && via->value.n > 0 && via->value.n < 1024) {
		gp_buf_add(b, via->value.p, via->value.n);
		gp_buf_addstr(b, ", ");
	}
	gp_buf_add(b, "1.", 2);
	gp_buf_add_uint(b, (unsigned)m->minor, 1);
	gp_buf_add(b, " greyproxy\r\n", 12);
}

void
gp_http_build_request(struct gp_buf *b, const struct gp_http_msg *m,
    const struct gp_url *u, int close, int keep)
{
	int	keep_upgrade = keep & GP_KEEP_UPGRADE;
	int	v6 = strchr(u->host, ':') != NULL;
	int	defport = u->port == (u->https ? 443u : 80u);

	gp_buf_add(b, m->method.p, m->method.n);
	gp_buf_add(b, " ", 1);
	gp_buf_add(b, u->path.p, u->path.n);
	gp_buf_add(b, " HTTP/1.", 8);
	gp_buf_add_uint(b, (unsigned)m->minor, 1);
	/* RFC 9112 3.2.2: Host is replaced by the target URI's authority. */
	gp_buf_add(b, v6 ? "\r\nHost: [" : "\r\nHost: ", v6 ? 9 : 8);
	gp_buf_addstr(b, u->host);
	if (v6)
		gp_buf_add(b, "]", 1);
	if (!defport) {
		gp_buf_add(b, ":", 1);
		gp_buf_add_uint(b, u->port, 1);
	}
	gp_buf_add(b, "\r\n", 2);
	copy_fields(b, m, keep, 1);
	add_via(b, m);
	if (keep_upgrade)
		gp_buf_addstr(b, "Connection: Upgrade\r\n");
	else if (close)
		gp_buf_addstr(b, "Connection: close\r\n");
	else if (m->minor == 0)
		gp_buf_addstr(b, "Connection: keep-alive\r\n");
	gp_buf_add(b, "\r\n", 2);
}

void
gp_http_build_response(struct gp_buf *b, const struct gp_http_msg *m,
    int close, int keep)
{
	int	keep_upgrade = keep & GP_KEEP_UPGRADE;

	gp_buf_add(b, "HTTP/1.", 7);
	gp_buf_add_uint(b, (unsigned)m->minor, 1);
	gp_buf_add(b, " ", 1);
	gp_buf_add_uint(b, (unsigned)m->status, 3);
	gp_buf_add(b, " ", 1);
	gp_buf_add(b, m->reason.p, m->reason.n);
	gp_buf_add(b, "\r\n", 2);
	copy_fields(b, m, keep, 0);
	add_via(b, m);
	if (keep_upgrade)
		gp_buf_addstr(b, "Connection: Upgrade\r\n");
	else if (close)
		gp_buf_addstr(b, "Connection: close\r\n");
	gp_buf_add(b, "\r\n", 2);
}

const char *
gp_http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

void
gp_http_build_error(struct gp_buf *b, int status, const char *token,
    const char *line, int close)
{
	gp_buf_printf(b, "HTTP/1.1 %d %s\r\n", status,
	    gp_http_status_text(status));
	if (token != NULL && *token != '\0')
		gp_buf_printf(b, "X-Proxy-Error: %s\r\n", token);
	gp_buf_printf(b, "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n%s\r\n%s\n",
	    strlen(line) + 1, close ? "Connection: close\r\n" : "", line);
}

int
gp_http_basic_user(struct gp_iov v, char *user, size_t userlen)
{
	unsigned char	out[512];
	const char	*p = v.p;
	size_t		 n = v.n, i;
	int		 len;

	if (n < 6 || strncasecmp(p, "basic ", 6) != 0)
		return -1;
	p += 6;
	n -= 6;
	while (n > 0 && *p == ' ') {
		p++;
		n--;
	}
	if (n == 0 || n > 680 || n % 4 != 0)
		return -1;
	len = EVP_DecodeBlock(out, (const unsigned char *)p, (int)n);
	if (len < 0)
		return -1;
	/* EVP_DecodeBlock counts padding bytes as output: drop them. */
	if (p[n - 1] == '=')
		len--;
	if (p[n - 2] == '=')
		len--;
	for (i = 0; i < (size_t)len && out[i] != ':'; i++)
		if (out[i] < 0x21 || out[i] == 0x7f)
			return -1;
	if (i >= userlen)
		return -1;
	memcpy(user, out, i);
	user[i] = '\0';
	return 0;
}
