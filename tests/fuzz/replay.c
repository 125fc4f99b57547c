/*
 * replay.c: runs a fuzz harness over its seed corpus without libFuzzer,
 * so `make check` replays every seed (and every crash saved there) on
 * any compiler.  One TAP line per file.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
	struct dirent	*de;
	DIR		*d;
	char		*names[4096], path[4096];
	size_t		 n = 0, i;

	if (argc != 2 || (d = opendir(argv[1])) == NULL) {
		printf("Bail out! usage: %s CORPUS-DIR\n", argv[0]);
		return 1;
	}
	while ((de = readdir(d)) != NULL && n < 4096)
		if (de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof *names, cmp);
	for (i = 0; i < n; i++) {
		FILE		*f;
		unsigned char	*buf = malloc(1 << 20);
		size_t		 len;

		snprintf(path, sizeof path, "%s/%s", argv[1], names[i]);
		if ((f = fopen(path, "rb")) == NULL) {
			printf("not ok %zu - %s: cannot open\n", i + 1, names[i]);
			free(buf);
			continue;
		}
		len = fread(buf, 1, 1 << 20, f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, len);
		printf("ok %zu - %s\n", i + 1, names[i]);
		free(buf);
		free(names[i]);
	}
	printf("1..%zu\n", n);
	return n == 0;
}
