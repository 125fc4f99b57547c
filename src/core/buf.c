/* buf.c: growable byte buffers. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

void
gp_buf_reserve(struct gp_buf *b, size_t extra)
{
	size_t	need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 256;
	while (b->cap < need)
		b->cap *= 2;
	b->data = gp_xrealloc(b->data, b->cap);
}

void
gp_buf_add(struct gp_buf *b, const void *p, size_t n)
{
	gp_buf_reserve(b, n);
	if (n != 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
gp_buf_addstr(struct gp_buf *b, const char *s)
{
	gp_buf_add(b, s, strlen(s));
}

void
gp_buf_add_uint(struct gp_buf *b, unsigned v, int width)
{
	char	d[12], *p = d + sizeof d;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while ((v > 0 || d + sizeof d - p < width) && p > d);
	gp_buf_add(b, p, (size_t)(d + sizeof d - p));
}

void
gp_buf_printf(struct gp_buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	size_t	avail;

	/* Formatted in place when it fits (the usual case): one pass. */
	gp_buf_reserve(b, 0);
	avail = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, avail, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->data[b->len] = '\0';
		return;
	}
	if ((size_t)n >= avail) {
		gp_buf_reserve(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

char *
gp_buf_tail(struct gp_buf *b, size_t min, size_t *avail)
{
	gp_buf_reserve(b, min);
	*avail = b->cap - b->len - 1;	/* keep room for the NUL */
	return b->data + b->len;
}

void
gp_buf_consume(struct gp_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data != NULL)
		b->data[b->len] = '\0';
}

void
gp_buf_reset(struct gp_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
gp_buf_free(struct gp_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
