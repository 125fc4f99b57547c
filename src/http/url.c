/* url.c: absolute-form and authority-form request targets (RFC 9112 3.2). */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "http/http.h"
#include "rules/rules.h"

/* Parses a decimal port of [p, p+n); returns it or 0 if invalid. */
static unsigned
parse_port(const char *p, size_t n)
{
	unsigned long	v = 0;
	size_t		i;

	if (n == 0 || n > 5)
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v > 0 && v <= 65535 ? (unsigned)v : 0;
}

/* Splits "host[:port]" / "[v6][:port]"; port 0 when absent. */
static int
split_hostport(const char *p, size_t n, char *host, size_t hostlen,
    unsigned *port, const char **why)
{
	const char	*hp = p, *colon = NULL;
	size_t		 hn = n;

	*port = 0;
	if (n > 0 && p[0] == '[') {
		const char *rb = memchr(p, ']', n);

		if (rb == NULL) {
			*why = "unterminated IPv6 literal";
			return -1;
		}
		hn = (size_t)(rb - p) + 1;
		if (hn < n) {
			if (p[hn] != ':') {
				*why = "junk after IPv6 literal";
				return -1;
			}
			colon = p + hn;
		}
	} else {
		colon = memchr(p, ':', n);
		if (colon != NULL)
			hn = (size_t)(colon - p);
	}
	if (colon != NULL) {
		*port = parse_port(colon + 1, n - (size_t)(colon - p) - 1);
		if (*port == 0) {
			*why = "invalid port";
			return -1;
		}
	}
	if (hn == 0) {
		*why = "empty host";
		return -1;
	}
	return gp_host_normalize(hp, hn, host, hostlen, why);
}

int
gp_url_parse_absolute(struct gp_iov t, struct gp_url *u, const char **why)
{
	const char	*p = t.p, *end = t.p + t.n, *auth, *aend, *at;
	size_t		 skip;

	memset(u, 0, sizeof *u);
	if (t.n > 7 && strncasecmp(p, "http://", 7) == 0) {
		skip = 7;
	} else if (t.n > 8 && strncasecmp(p, "https://", 8) == 0) {
		skip = 8;
		u->https = 1;
	} else {
		*why = "request target is not an absolute http:// URL";
		return -1;
	}
	auth = p + skip;
	for (aend = auth; aend < end && *aend != '/' && *aend != '?' &&
	    *aend != '#'; aend++)
		;
	/* Drop userinfo (RFC 9110 4.2.4 deprecates it). */
	at = memchr(auth, '@', (size_t)(aend - auth));
	if (at != NULL)
		auth = at + 1;
	if (split_hostport(auth, (size_t)(aend - auth), u->host,
	    sizeof u->host, &u->port, why) != 0)
		return -1;
	if (u->port == 0)
		u->port = u->https ? 443 : 80;
	if (aend == end || *aend != '/') {
		u->path.p = "/";
		u->path.n = 1;
		if (aend < end && *aend == '?') {	/* "http://h?q" */
			u->path.p = aend;
			u->path.n = (size_t)(end - aend);
		}
	} else {
		u->path.p = aend;
		u->path.n = (size_t)(end - aend);
	}
	/* A fragment is never sent (RFC 9110 4.2.1). */
	{
		const char *hash = memchr(u->path.p, '#', u->path.n);

		if (hash != NULL)
			u->path.n = (size_t)(hash - u->path.p);
	}
	return 0;
}

int
gp_url_parse_authority(struct gp_iov t, char *host, size_t hostlen,
    unsigned *port, const char **why)
{
	if (memchr(t.p, '/', t.n) != NULL || memchr(t.p, '@', t.n) != NULL) {
		*why = "CONNECT target must be host:port";
		return -1;
	}
	if (split_hostport(t.p, t.n, host, hostlen, port, why) != 0)
		return -1;
	if (*port == 0) {
		*why = "CONNECT target needs a port";
		return -1;
	}
	return 0;
}

int
gp_url_parse_host(struct gp_iov v, struct gp_url *u, const char **why)
{
	if (memchr(v.p, '/', v.n) != NULL || memchr(v.p, '@', v.n) != NULL) {
		*why = "Host must be host[:port]";
		return -1;
	}
	if (split_hostport(v.p, v.n, u->host, sizeof u->host, &u->port,
	    why) != 0)
		return -1;
	if (u->port == 0)
		u->port = 80;
	return 0;
}

size_t
gp_url_redact(struct gp_iov t, char *out, size_t outlen)
{
	const char	*p = t.p, *end = t.p + t.n, *auth, *aend, *at;
	size_t		 o = 0;

	if (outlen == 0)
		return 0;
	/* The authority: after "scheme://" (absolute-form), else all of
	 * it (authority-form, as CONNECT sends). */
	auth = p;
	for (const char *q = p; q + 2 < end; q++) {
		if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
			auth = q + 3;
			break;
		}
		if (q[0] == '/' || q[0] == '?' || q[0] == '@')
			break;
	}
	for (aend = auth; aend < end && *aend != '/' && *aend != '?' &&
	    *aend != '#'; aend++)
		;
	at = NULL;
	for (const char *q = auth; q < aend; q++)
		if (*q == '@')
			at = q;
	while (p < end && o + 1 < outlen) {
		if (at != NULL && p == auth) {
			p = at + 1;	/* user:password@ never kept */
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
	return o;
}

int
gp_url_escape(const char *s, char *out, size_t outlen)
{
	static const char	hex[] = "0123456789ABCDEF";
	size_t			o = 0;

	if (outlen == 0)
		return -1;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			if (o + 1 >= outlen)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= outlen)
				break;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (*s != '\0') {
		out[0] = '\0';
		return -1;
	}
	out[o] = '\0';
	return 0;
}
