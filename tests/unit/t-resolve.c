/*
 * t-resolve.c: what the resolver knows without a query.  A hosts file
 * of 20 000 names (as blocklists are) is sorted once; a name still
 * gives its addresses in the file's order, a name in another case or
 * absent gives none, literals and localhost names need no file.  A loop
 * test: the resolver is closed and the loop ends empty.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "core/core.h"
#include "net/net.h"
#include "../lib/tap.h"

#define N	20000

static const char *
ip_of(const struct sockaddr_storage *a, char *buf, size_t n)
{
	gp_addr_ip((const struct sockaddr *)a, buf, n);
	return buf;
}

int
main(void)
{
	uv_loop_t		 loop;
	struct gp_resolver	*r;
	struct sockaddr_storage	 a[8];
	char			 path[] = "/tmp/t-resolve.XXXXXX", ip[64];
	const char		*err;
	FILE			*f;
	int			 fd, i;
	size_t			 n;

	if ((fd = mkstemp(path)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		printf("Bail out! no temporary file\n");
		return 1;
	}
	/* Written in reverse order: the sort has work to do. */
	for (i = N - 1; i >= 0; i--)
		fprintf(f, "10.%d.%d.%d blocked-%05d.example\n", i / 65536,
		    (i / 256) % 256, i % 256, i);
	fprintf(f, "# a comment\n192.0.2.2 twice.example # second\n");
	fprintf(f, "192.0.2.1 Twice.Example other.example\n");
	fprintf(f, "2001:db8::1 twice.example\n");
	fclose(f);
	setenv("GREYPROXY_HOSTS", path, 1);

	uv_loop_init(&loop);
	ok(gp_resolver_new(&loop, "127.0.0.1:1", 1, &r, &err) == 0,
	    "a resolver, with the hosts file read");
	n = gp_resolve_static(r, "blocked-00000.example", 80, a, 8);
	is_int((int)n, 1, "the first name of the sorted file");
	is_str(ip_of(&a[0], ip, sizeof ip), "10.0.0.0", "its address");
	n = gp_resolve_static(r, "blocked-19999.example", 80, a, 8);
	is_int((int)n, 1, "the last");
	is_str(ip_of(&a[0], ip, sizeof ip), "10.0.78.31", "its address");
	n = gp_resolve_static(r, "blocked-12345.example", 443, a, 8);
	is_str(ip_of(&a[0], ip, sizeof ip), "10.0.48.57", "one between");
	is_int((int)gp_addr_port((struct sockaddr *)&a[0]), 443,
	    "with the port asked for");
	n = gp_resolve_static(r, "twice.example", 80, a, 8);
	is_int((int)n, 3, "a name on three lines: three addresses");
	ok(n == 3 && strcmp(ip_of(&a[0], ip, sizeof ip), "192.0.2.2") == 0 &&
	    strcmp(ip_of(&a[1], ip, sizeof ip), "192.0.2.1") == 0 &&
	    strcmp(ip_of(&a[2], ip, sizeof ip), "2001:db8::1") == 0,
	    "in the file's order");
	is_int((int)gp_resolve_static(r, "twice.example", 80, a, 2), 2,
	    "no more than asked for");
	is_int((int)gp_resolve_static(r, "other.example", 80, a, 8), 1,
	    "a second name on a line");
	is_int((int)gp_resolve_static(r, "blocked-20000.example", 80, a, 8),
	    0, "a name past the last: none");
	is_int((int)gp_resolve_static(r, "aaa.example", 80, a, 8), 0,
	    "a name before the first: none");
	is_int((int)gp_resolve_static(r, "blocked-0000.example", 80, a, 8),
	    0, "a prefix of a name: none");
	is_int((int)gp_resolve_static(r, "192.0.2.9", 80, a, 8), 1,
	    "a literal needs no file");
	is_int((int)gp_resolve_static(r, "app.localhost", 80, a, 8), 2,
	    "a localhost name: loopback, both families");
	gp_resolver_close(r);
	uv_run(&loop, UV_RUN_DEFAULT);
	is_int(uv_loop_close(&loop), 0, "no handle left open");
	unlink(path);
	return tap_done();
}
