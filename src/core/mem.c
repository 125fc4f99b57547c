/* mem.c: allocation wrappers that abort when memory runs out. */
#include "config.h"

#include <sys/mman.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

void
gp_panic(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fputs("greyproxy: fatal: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

void *
gp_xmalloc(size_t n)
{
	void	*p = malloc(n ? n : 1);

	if (p == NULL)
		gp_panic("out of memory (%zu bytes)", n);
	return p;
}

void *
gp_xcalloc(size_t nmemb, size_t size)
{
	void	*p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		gp_panic("out of memory (%zu x %zu bytes)", nmemb, size);
	return p;
}

void *
gp_xrealloc(void *old, size_t n)
{
	void	*p = realloc(old, n ? n : 1);

	if (p == NULL)
		gp_panic("out of memory (%zu bytes)", n);
	return p;
}

char *
gp_xstrdup(const char *s)
{
	return gp_xstrndup(s, strlen(s));
}

char *
gp_xstrndup(const char *s, size_t n)
{
	char	*p = gp_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int
gp_xasprintf(char **out, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n < 0)
		gp_panic("out of memory (asprintf)");
	return n;
}

const char *
gp_reason_token(enum gp_reason r)
{
	static const char *tok[] = {
#define X(sym, t, http, socks, label) t,
		GP_REASONS(X)
#undef X
	};

	return (unsigned)r < GP_R__COUNT ? tok[r] : "";
}

const char *
gp_reason_label(enum gp_reason r)
{
	static const char *label[] = {
#define X(sym, t, http, socks, l) l,
		GP_REASONS(X)
#undef X
	};

	if ((unsigned)r >= GP_R__COUNT)
		return "";
	return label[r] != NULL ? label[r] : gp_reason_token(r);
}

int
gp_reason_http_status(enum gp_reason r)
{
	static const int st[] = {
#define X(sym, t, http, socks, label) http,
		GP_REASONS(X)
#undef X
	};

	return (unsigned)r < GP_R__COUNT ? st[r] : 500;
}

int
gp_reason_socks_reply(enum gp_reason r)
{
	static const unsigned char rep[] = {
#define X(sym, t, http, socks, label) socks,
		GP_REASONS(X)
#undef X
	};

	return (unsigned)r < GP_R__COUNT ? rep[r] : 0x01;
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int
gp_glob(const char *p, const char *s, int icase)
{
	const char *star = NULL, *resume = NULL;

	while (*s != '\0') {
		if (*p == '*') {
			star = ++p;
			resume = s;
		} else if (*p != '\0' && (*p == '?' || *p == *s || (icase &&
		    lower((unsigned char)*p) == lower((unsigned char)*s)))) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star;
			s = ++resume;
		} else
			return 0;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

int
gp_glob_icase(const char *p, const char *s)
{
	return gp_glob(p, s, 1);
}

int
gp_globs_match(const char *globs, const char *s)
{
	const char	*p = globs, *e;
	char		 pat[256];

	while (p != NULL && *p != '\0') {
		e = strchr(p, '\n');
		snprintf(pat, sizeof pat, "%.*s", (int)(e != NULL ?
		    (size_t)(e - p) : strlen(p)), p);
		if (gp_glob_icase(pat, s))
			return 1;
		p = e != NULL ? e + 1 : NULL;
	}
	return 0;
}

#define HUGE	((size_t)2 << 20)

static size_t
huge_round(size_t n)
{
	return (n + HUGE - 1) & ~(HUGE - 1);
}

void *
gp_xmap(size_t size)
{
	size_t	 map = huge_round(size), lead;
	char	*p;

	if (size < GP_MAP_MIN)
		return gp_xcalloc(1, size);
	p = mmap(NULL, map + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		gp_panic("out of memory (%zu bytes)", size);
	lead = huge_round((uintptr_t)p) - (uintptr_t)p;
	if (lead > 0)
		munmap(p, lead);
	munmap(p + lead + map, HUGE - lead);
	p += lead;
	(void)madvise(p, map, MADV_HUGEPAGE);	/* advice: may be refused */
	return p;
}

void
gp_xunmap(void *p, size_t size)
{
	if (size < GP_MAP_MIN)
		free(p);
	else if (p != NULL)
		munmap(p, huge_round(size));
}

void *
gp_xremap(void *p, size_t old, size_t size)
{
	char	*q = gp_xmap(size);

	if (old < GP_MAP_MIN) {
		memcpy(q, p, old);
		free(p);
	} else if (mremap(p, huge_round(old), huge_round(old),
	    MREMAP_MAYMOVE | MREMAP_FIXED, q) == MAP_FAILED)
		gp_panic("cannot move %zu bytes: %s", old, strerror(errno));
	return q;
}
