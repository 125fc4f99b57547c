/* text-fuzz.c: client text made safe for a terminal (gp_text_fit), at
 * the width and buffer size the first two bytes choose: the output is
 * terminated, within its buffer, holds no control character and no
 * character that hides text, and takes no more columns than asked.
 * gp_text_padded holds the whole text, never cut by its own size. */
#include "config.h"

#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "core/core.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 init;
	char		*in, *out;
	size_t		 n, i;
	int		 w, cols;

	if (!init) {
		setlocale(LC_CTYPE, "C.UTF-8");
		init = 1;
	}
	if (size < 2)
		return 0;
	w = data[0] == 255 ? -1 : data[0];	/* 255: no limit */
	n = (size_t)data[1] + 1;
	in = malloc(size - 1);
	memcpy(in, data + 2, size - 2);
	in[size - 2] = '\0';
	out = malloc(n);
	memset(out, 'Z', n);
	cols = gp_text_fit(out, n, in, w, data[1] & 1);
	if (memchr(out, '\0', n) == NULL)
		__builtin_trap();		/* not terminated */
	if (w >= 0 && cols > w)
		__builtin_trap();		/* wider than asked */
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			__builtin_trap();	/* a control let through */
	{
		mbstate_t	st;
		wchar_t		wc;
		size_t		k, off = 0, len = strlen(out);

		memset(&st, 0, sizeof st);
		while (off < len) {
			k = mbrtowc(&wc, out + off, len - off, &st);
			if (k == (size_t)-1 || k == (size_t)-2)
				__builtin_trap();	/* not UTF-8 */
			if (wc == 0x202e || wc == 0x200b || wc == 0xfeff ||
			    (wc >= 0xe0000 && wc <= 0xe007f) ||
			    (wc >= 0x80 && wc < 0xa0))
				__builtin_trap();	/* hides, or C1 */
			off += k;
		}
	}
	{
		size_t	 room = strlen(in) * 8 + 1;
		char	*whole = malloc(room), *p;

		(void)gp_text_fit(whole, room, in, -1, 0);
		p = gp_text_padded(in, w);
		if (strncmp(p, whole, strlen(whole)) != 0)
			__builtin_trap();	/* cut by its buffer */
		free(whole);
		free(p);
	}
	free(in);
	free(out);
	return 0;
}
