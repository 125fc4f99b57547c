/*
 * glob.c: host names and patterns: normalization (case, trailing dot,
 * IPv6 literals, IDN via RFC 3492 punycode), glob and port matching.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "rules/rules.h"

/* RFC 3492 section 5 parameters. */
enum { PB = 36, TMIN = 1, TMAX = 26, SKEW = 38, DAMP = 700,
	INITIAL_BIAS = 72, INITIAL_N = 128 };

static int	 utf8_decode(const char *, size_t, uint32_t *, size_t);
static unsigned	 adapt(unsigned, unsigned, int);

/* Decodes UTF-8 into code points; returns the count or -1 if invalid. */
static int
utf8_decode(const char *s, size_t n, uint32_t *cp, size_t max)
{
	size_t	i = 0, k = 0;

	while (i < n) {
		unsigned char	c = (unsigned char)s[i];
		uint32_t	v;
		size_t		len, j;

		if (c < 0x80) {
			v = c;
			len = 1;
		} else if ((c & 0xe0) == 0xc0) {
			v = c & 0x1f;
			len = 2;
		} else if ((c & 0xf0) == 0xe0) {
			v = c & 0x0f;
			len = 3;
		} else if ((c & 0xf8) == 0xf0) {
			v = c & 0x07;
			len = 4;
		} else
			return -1;
		if (i + len > n || k == max)
			return -1;
		for (j = 1; j < len; j++) {
			unsigned char cc = (unsigned char)s[i + j];

			if ((cc & 0xc0) != 0x80)
				return -1;
			v = (v << 6) | (cc & 0x3f);
		}
		if ((len == 2 && v < 0x80) || (len == 3 && v < 0x800) ||
		    (len == 4 && v < 0x10000) || v > 0x10ffff ||
		    (v >= 0xd800 && v <= 0xdfff))
			return -1;	/* overlong or not a scalar value */
		cp[k++] = v;
		i += len;
	}
	return (int)k;
}

/*
 * Simple lower-casing of the scripts most often seen in host names
 * (Latin-1, Latin Extended-A, Greek, Cyrillic), close to what IDNA
 * mapping (UTS 46) does for them.
 */
static uint32_t
fold(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)
		return c + 32;
	if (c >= 0x100 && c <= 0x17f && c != 0x130 && c != 0x131 &&
	    c != 0x138 && c != 0x149 && c != 0x17f) {
		/* Pairs: even upper/odd lower, shifted in two ranges. */
		if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
			return c % 2 ? c + 1 : c;
		return c % 2 ? c : c + 1;
	}
	if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2)
		return c + 32;
	if (c >= 0x410 && c <= 0x42f)
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	return c;
}

static unsigned
adapt(unsigned delta, unsigned numpoints, int first)
{
	unsigned	k = 0;

	delta = first ? delta / DAMP : delta / 2;
	delta += delta / numpoints;
	while (delta > ((PB - TMIN) * TMAX) / 2) {
		delta /= PB - TMIN;
		k += PB;
	}
	return k + (PB - TMIN + 1) * delta / (delta + SKEW);
}

int
gp_punycode_encode(const char *utf8, size_t n, char *out, size_t outlen)
{
	uint32_t	cp[64];
	unsigned	m, q, k, t, delta, bias, h, b, nn;
	size_t		o = 0;
	int		count, j;

	count = utf8_decode(utf8, n, cp, GP_ARRAY_LEN(cp));
	if (count <= 0)
		return -1;
	for (j = 0; j < count; j++) {
		cp[j] = fold(cp[j]);
		if (cp[j] < 0x80) {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char)cp[j];
		}
	}
	h = b = (unsigned)o;
	if (b > 0) {
		if (o + 1 >= outlen)
			return -1;
		out[o++] = '-';
	}
	nn = INITIAL_N;
	delta = 0;
	bias = INITIAL_BIAS;
	while (h < (unsigned)count) {
		m = 0x110000;
		for (j = 0; j < count; j++)
			if (cp[j] >= nn && cp[j] < m)
				m = cp[j];
		delta += (m - nn) * (h + 1);
		nn = m;
		for (j = 0; j < count; j++) {
			if (cp[j] < nn)
				delta++;
			if (cp[j] != nn)
				continue;
			for (q = delta, k = PB;; k += PB) {
				t = k <= bias ? TMIN :
				    k >= bias + TMAX ? TMAX : k - bias;
				if (q < t)
					break;
				if (o + 1 >= outlen)
					return -1;
				m = t + (q - t) % (PB - t);
				out[o++] = (char)(m < 26 ? 'a' + m : '0' + m - 26);
				q = (q - t) / (PB - t);
			}
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char)(q < 26 ? 'a' + q : '0' + q - 26);
			bias = adapt(delta, h + 1, h == b);
			delta = 0;
			h++;
		}
		delta++;
		nn++;
	}
	out[o] = '\0';
	return (int)o;
}

GP_HOT int
gp_host_ip_family(const char *s)
{
	unsigned char	a[16];

	if (inet_pton(AF_INET, s, a) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, a) == 1)
		return 6;
	return 0;
}

int
gp_host_normalize(const char *in, size_t n, char *out, size_t outlen,
    const char **why)
{
	char		tmp[GP_HOST_MAX];
	unsigned char	a6[16];
	size_t		i, o = 0, start;
	const char	*w = NULL;

	if (outlen < 2 || n == 0) {
		w = "empty host";
		goto fail;
	}
	if (n >= sizeof tmp) {
		w = "host name too long";
		goto fail;
	}
	/* IPv6 literal, bracketed or not: canonical text form. */
	if (in[0] == '[' || memchr(in, ':', n) != NULL) {
		const char *p = in;
		size_t	    len = n;

		if (p[0] == '[') {
			if (len < 3 || p[len - 1] != ']') {
				w = "bad IPv6 literal";
				goto fail;
			}
			p++;
			len -= 2;
		}
		memcpy(tmp, p, len);
		tmp[len] = '\0';
		if (strchr(tmp, '/') != NULL) {
			/* CIDR pattern: normalize the address part. */
			char *slash = strchr(tmp, '/');

			*slash = '\0';
			if (inet_pton(AF_INET6, tmp, a6) != 1 ||
			    inet_ntop(AF_INET6, a6, out, (socklen_t)outlen) ==
			    NULL) {
				w = "bad IPv6 prefix";
				goto fail;
			}
			o = strlen(out);
			if (o + 1 + strlen(slash + 1) + 1 > outlen) {
				w = "host name too long";
				goto fail;
			}
			out[o++] = '/';
			strcpy(out + o, slash + 1);
			return 0;
		}
		if (inet_pton(AF_INET6, tmp, a6) != 1 ||
		    inet_ntop(AF_INET6, a6, out, (socklen_t)outlen) == NULL) {
			w = "bad IPv6 literal";
			goto fail;
		}
		return 0;
	}
	if (in[n - 1] == '.')
		n--;
	if (n == 0) {
		w = "empty host";
		goto fail;
	}
	for (start = 0; start <= n; start = i + 1) {
		int	nonascii = 0;

		for (i = start; i < n && in[i] != '.'; i++)
			if ((unsigned char)in[i] >= 0x80)
				nonascii = 1;
		if (i == start) {
			w = "empty label";
			goto fail;
		}
		if (nonascii) {
			int len;

			if (o + 4 >= sizeof tmp) {
				w = "host name too long";
				goto fail;
			}
			memcpy(tmp + o, "xn--", 4);
			o += 4;
			len = gp_punycode_encode(in + start, i - start,
			    tmp + o, sizeof tmp - o);
			if (len < 0) {
				w = "bad internationalized label";
				goto fail;
			}
			o += (size_t)len;
		} else {
			size_t j;

			for (j = start; j < i; j++) {
				unsigned char c = (unsigned char)in[j];

				if (c <= 0x20 || c == 0x7f || c == '@' ||
				    c == '\\' || c == '"' || c == '#' ||
				    c == '%' || c == '<' || c == '>') {
					w = "bad character in host";
					goto fail;
				}
				if (o + 1 >= sizeof tmp) {
					w = "host name too long";
					goto fail;
				}
				tmp[o++] = (char)tolower(c);
			}
		}
		if (i < n) {
			if (o + 1 >= sizeof tmp) {
				w = "host name too long";
				goto fail;
			}
			tmp[o++] = '.';
		} else
			break;
	}
	if (o + 1 > outlen || o > 253) {
		w = "host name too long";
		goto fail;
	}
	memcpy(out, tmp, o);
	out[o] = '\0';
	return 0;
fail:
	if (why != NULL)
		*why = w;
	if (outlen > 0)
		out[0] = '\0';
	return -1;
}

int
gp_glob_has_magic(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Matches one bracket set at p against c; returns 1/0, advances *pp. */
static int
match_set(const char **pp, char c)
{
	const char	*p = *pp + 1;
	int		 neg = 0, ok = 0;

	if (*p == '!' || *p == '^') {
		neg = 1;
		p++;
	}
	if (*p == ']') {	/* a leading ']' is literal */
		ok = c == ']';
		p++;
	}
	for (; *p != '\0' && *p != ']'; p++) {
		if (p[1] == '-' && p[2] != '\0' && p[2] != ']') {
			if (c >= p[0] && c <= p[2])
				ok = 1;
			p += 2;
		} else if (*p == c)
			ok = 1;
	}
	if (*p != ']')
		return -1;	/* unterminated: treat '[' literally */
	*pp = p + 1;
	return ok != neg;
}

GP_HOT int
gp_glob_match(const char *pat, const char *s)
{
	const char	*star_p = NULL, *star_s = NULL;

	/* Iterative matcher with single-star backtracking: linear-ish. */
	while (*s != '\0') {
		if (*pat == '*') {
			while (*pat == '*')
				pat++;
			if (*pat == '\0')
				return 1;
			star_p = pat;
			star_s = s;
			continue;
		}
		if (*pat == '?') {
			pat++;
			s++;
			continue;
		}
		if (*pat == '[') {
			const char *p = pat;
			int	    r = match_set(&p, *s);

			if (r == 1) {
				pat = p;
				s++;
				continue;
			}
			if (r == -1 && *s == '[') {
				pat++;
				s++;
				continue;
			}
		} else if (*pat != '\0' && *pat == *s) {
			pat++;
			s++;
			continue;
		}
		if (star_p == NULL)
			return 0;
		pat = star_p;
		s = ++star_s;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/* Parses one port element "n" or "lo-hi" of [p, end); -1 if invalid. */
static int
port_elem(const char *p, const char *end, unsigned *lo, unsigned *hi)
{
	unsigned long	v[2] = { 0, 0 };
	int		k = 0, digits = 0;

	for (; p < end; p++) {
		if (*p >= '0' && *p <= '9') {
			v[k] = v[k] * 10 + (unsigned long)(*p - '0');
			if (v[k] > 65535)
				return -1;
			digits++;
		} else if (*p == '-' && k == 0 && digits > 0) {
			k = 1;
			digits = 0;
		} else if (*p != ' ')
			return -1;
	}
	if (digits == 0)
		return -1;
	*lo = (unsigned)v[0];
	*hi = k ? (unsigned)v[1] : (unsigned)v[0];
	if (*lo == 0 || *lo > *hi)
		return -1;
	return 0;
}

int
gp_rules_check_ports(const char *ports, const char **why)
{
	const char	*p = ports, *comma;
	unsigned	 lo, hi;

	if (ports == NULL || *ports == '\0') {
		*why = "empty port pattern";
		return -1;
	}
	if (strcmp(ports, "*") == 0)
		return 0;
	for (;;) {
		comma = strchr(p, ',');
		if (port_elem(p, comma ? comma : p + strlen(p), &lo, &hi)) {
			*why = "port pattern must be *, N, N-M or a comma list";
			return -1;
		}
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

GP_HOT int
gp_rules_port_match(const char *ports, unsigned port)
{
	const char	*p = ports, *comma;
	unsigned	 lo, hi;

	if (ports[0] == '*' && ports[1] == '\0')
		return 1;
	for (;;) {
		comma = strchr(p, ',');
		if (port_elem(p, comma ? comma : p + strlen(p), &lo, &hi) == 0 &&
		    port >= lo && port <= hi)
			return 1;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* Normalizes a destination pattern; "*" and CIDR pass as they are. */
static int
normalize_dest(const char *in, char *out, size_t outlen, const char **why)
{
	const char	*slash = strchr(in, '/');

	if (strcmp(in, "*") == 0) {
		snprintf(out, outlen, "*");
		return 0;
	}
	if (slash != NULL) {
		char		 addr[64], *end;
		unsigned char	 a[16];
		long		 pfx;
		size_t		 alen = (size_t)(slash - in);
		int		 fam;

		if (alen == 0 || alen >= sizeof addr)
			goto bad;
		memcpy(addr, in, alen);
		addr[alen] = '\0';
		pfx = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0')
			goto bad;
		if (inet_pton(AF_INET, addr, a) == 1)
			fam = 4;
		else if (inet_pton(AF_INET6, addr, a) == 1)
			fam = 6;
		else
			goto bad;
		if (pfx < 0 || pfx > (fam == 4 ? 32 : 128))
			goto bad;
		inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, addr, sizeof addr);
		snprintf(out, outlen, "%s/%ld", addr, pfx);
		return 0;
bad:
		*why = "invalid CIDR destination (expected ADDR/PREFIX)";
		return -1;
	}
	return gp_host_normalize(in, strlen(in), out, outlen, why);
}

/* Method: a token, upper-cased, or "*"; path: "*" or a glob from "/"
 * without spaces, controls or a query. */
static int
prepare_request(struct gp_rule *r, const char **why)
{
	char	*p;

	if (r->method == NULL || *r->method == '\0') {
		free(r->method);
		r->method = gp_xstrdup("*");
	}
	if (r->path == NULL || *r->path == '\0') {
		free(r->path);
		r->path = gp_xstrdup("*");
	}
	if (strcmp(r->method, "*") != 0) {
		if (strlen(r->method) > 20) {
			*why = "method too long";
			return -1;
		}
		for (p = r->method; *p != '\0'; p++) {
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
			if (!(*p >= 'A' && *p <= 'Z') && *p != '-' && *p != '_') {
				*why = "method must be a token such as POST, or *";
				return -1;
			}
		}
	}
	if (strcmp(r->path, "*") != 0) {
		if (r->path[0] != '/' || strlen(r->path) > 1024) {
			*why = "path pattern must start with / (or be *)";
			return -1;
		}
		for (p = r->path; *p != '\0'; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '?' ||
			    *p == '#') {
				*why = "path pattern: no spaces, controls, ? "
				    "or #";
				return -1;
			}
	}
	return 0;
}

int
gp_rule_prepare(struct gp_rule *r, const char **why)
{
	char	out[GP_HOST_MAX + 8];

	if (r->container == NULL || *r->container == '\0') {
		free(r->container);
		r->container = gp_xstrdup("*");
	}
	if (r->ports == NULL || *r->ports == '\0') {
		free(r->ports);
		r->ports = gp_xstrdup("*");
	}
	if (strlen(r->container) > 255) {
		*why = "container pattern too long";
		return -1;
	}
	if (r->dest == NULL || *r->dest == '\0') {
		*why = "destination pattern is required";
		return -1;
	}
	if (normalize_dest(r->dest, out, sizeof out, why) != 0)
		return -1;
	free(r->dest);
	r->dest = gp_xstrdup(out);
	if (prepare_request(r, why) != 0)
		return -1;
	return gp_rules_check_ports(r->ports, why);
}

int
gp_rule_is_request(const struct gp_rule *r)
{
	return (r->method != NULL && strcmp(r->method, "*") != 0) ||
	    (r->path != NULL && strcmp(r->path, "*") != 0);
}
