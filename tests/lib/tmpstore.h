/*
 * tmpstore.h: a store in a fresh temporary directory for the unit tests
 * that need a real database; removed again, with its WAL, at the end.
 */
#ifndef GP_TMPSTORE_H
#define GP_TMPSTORE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/store.h"

static char tmpstore_dir[] = "/tmp/gp-unit.XXXXXX";

/* The store, or the test bails out. */
static struct gp_store *
tmpstore_open(void)
{
	struct gp_store	*s;
	char		 path[64], *err = NULL;

	if (mkdtemp(tmpstore_dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		exit(1);
	}
	snprintf(path, sizeof path, "%s/db", tmpstore_dir);
	if (gp_store_open(path, &s, &err) != 0) {
		printf("Bail out! %s\n", err);
		exit(1);
	}
	return s;
}

static void
tmpstore_close(struct gp_store *s)
{
	static const char	*sfx[] = { "", "-wal", "-shm" };
	char			 f[80];
	size_t			 i;

	gp_store_close(s);
	for (i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
		snprintf(f, sizeof f, "%s/db%s", tmpstore_dir, sfx[i]);
		unlink(f);
	}
	rmdir(tmpstore_dir);
}

#endif
