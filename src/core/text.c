/*
 * text.c: client text made safe for a terminal and fitted to screen
 * columns, for the TUI's cells and the CLI's tables.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "core/core.h"

/*
 * Characters that change how the text around them reads without showing
 * themselves: bidirectional overrides and isolates (an identity or a
 * name "evil\u202ecom.google" would read backwards), zero-width spaces,
 * line separators, and tag characters (text hidden from the eye inside
 * a prompt).  Shown as their code point.
 */
static int
hides(wchar_t c)
{
	return c == 0x061c || c == 0x180e || c == 0xfeff ||
	    (c >= 0x200b && c <= 0x200f && c != 0x200c && c != 0x200d) ||
	    (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x206f) ||
	    (c >= 0xfff9 && c <= 0xfffb) || (c >= 0xe0000 && c <= 0xe007f);
}

struct fit {
	char	*out;
	size_t	 n, len;	/* room, and bytes written */
	int	 w, used;	/* columns: the limit, and used */
};

/* Appends bytes that take cols columns; 0 when they do not fit. */
static int
fit_add(struct fit *f, const char *b, size_t n, int cols)
{
	if ((f->w >= 0 && f->used + cols > f->w) || f->len + n >= f->n)
		return 0;
	memcpy(f->out + f->len, b, n);
	f->len += n;
	f->used += cols;
	return 1;
}

/* ASCII, one column a byte, as much as fits; 0 when not all of it. */
static int
fit_ascii(struct fit *f, const char *s)
{
	for (; *s != '\0'; s++)
		if (!fit_add(f, s, 1, 1))
			return 0;
	return 1;
}

/*
 * s made safe to show, cut to w columns (w < 0: no limit) and, with pad,
 * padded with spaces to w, into out (always terminated); returns the
 * columns it takes.  Whatever a client sent may reach the screen, so
 * nothing passes that the terminal would act on or that would hide what
 * the text says: control characters become '?', bytes that are not
 * UTF-8 "\xNN", the characters hides() names "<U+NNNN>".  Columns, not
 * bytes: "%-16.16s" would cut "Réglages" inside its 'é' and misalign
 * every column after a wide or a zero-width character.
 */
int
gp_text_fit(char *out, size_t n, const char *s, int w, int pad)
{
	struct fit	 f = { out, n, 0, w, 0 };
	mbstate_t	 st;
	size_t		 len = strlen(s), off = 0, k;
	wchar_t		 wc;
	char		 mb[MB_LEN_MAX], esc[16];
	int		 cw, ok;

	if (n == 0)
		return 0;
	memset(&st, 0, sizeof st);
	while (off < len) {
		k = mbrtowc(&wc, s + off, len - off, &st);
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			snprintf(esc, sizeof esc, "\\x%02x",
			    (unsigned char)s[off]);
			memset(&st, 0, sizeof st);
			k = 1;
			ok = fit_ascii(&f, esc);
		} else if (hides(wc)) {
			snprintf(esc, sizeof esc, "<U+%04X>", (unsigned)wc);
			ok = fit_ascii(&f, esc);
		} else {
			mbstate_t	 ws;
			size_t		 m;

			cw = wcwidth(wc);
			if (cw < 0)
				cw = 1, wc = L'?';
			memset(&ws, 0, sizeof ws);
			m = wcrtomb(mb, wc, &ws);
			ok = m != (size_t)-1 && fit_add(&f, mb, m, cw);
		}
		if (!ok)
			break;
		off += k;
	}
	while (pad && f.w >= 0 && f.used < f.w && fit_add(&f, " ", 1, 1))
		;
	out[f.len] = '\0';
	return f.used;
}

/* s made safe, never cut, padded with spaces to at least w columns (a
 * table's cell whose text may be longer than its heading). */
const char *
gp_text_pad(char *out, size_t n, const char *s, int w)
{
	int	cols = gp_text_fit(out, n, s, -1, 0);
	size_t	len = strlen(out);

	for (; cols < w && len + 1 < n; cols++)
		out[len++] = ' ';
	out[len] = '\0';
	return out;
}

/* One input byte becomes at most four ("\\xNN"; a hidden character's
 * "<U+NNNNN>" is under four per byte of its UTF-8), so the whole text
 * always fits: a table's cell is never cut by its buffer. */
char *
gp_text_padded(const char *s, int w)
{
	size_t	 n = strlen(s) * 4 + (w > 0 ? (size_t)w : 0) + 1;
	char	*out = gp_xmalloc(n);

	gp_text_pad(out, n, s, w);
	return out;
}
