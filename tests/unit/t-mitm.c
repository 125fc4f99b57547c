/* t-mitm.c: the leaf cache — one leaf per name (any case), signed by
 * the CA, found by hash, least recently used out, bounded. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "mitm/mitm.h"
#include "../lib/tap.h"

int
main(void)
{
	char		 dir[] = "/tmp/t-mitm.XXXXXX", name[64], *err = NULL;
	struct gp_ca	*ca = NULL;
	struct gp_mitm	*m;
	EVP_PKEY	*key;
	X509		*a, *b, *first;
	uint64_t	 issued, hits;
	size_t		 cached;
	int		 i, hit_all = 1;

	if (mkdtemp(dir) == NULL)
		return 1;
	ok(gp_ca_generate(dir, 0, &err) == 0 && gp_ca_load(dir, &ca, &err) ==
	    0, "a CA made and loaded (%s)", err ? err : "ok");
	key = gp_mitm_keygen();
	m = gp_mitm_new(gp_ca_x509(ca), gp_ca_pkey(ca), key, 8, &err);
	ok(m != NULL, "interception material with 8 leaves at most");
	EVP_PKEY_free(key);

	first = gp_mitm_leaf(m, "api.example.com");
	ok(first != NULL && X509_check_issued(gp_ca_x509(ca), first) ==
	    X509_V_OK, "a leaf, issued by the CA");
	ok(X509_check_host(first, "api.example.com", 0, 0, NULL) == 1,
	    "for its name");
	ok(gp_mitm_leaf(m, "API.Example.COM") == first,
	    "the same leaf for the name in another case");

	/* Eight more names push the first one out. */
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof name, "h%d.example", i);
		a = gp_mitm_leaf(m, name);
		hit_all &= a != NULL && X509_check_host(a, name, 0, 0, NULL) ==
		    1;
	}
	ok(hit_all, "eight names, each its own leaf");
	gp_mitm_stats(m, &issued, &hits, &cached);
	is_int(cached, 8, "bounded at 8");
	is_int(issued, 9, "nine signed");
	is_int(hits, 1, "one found in the cache");
	b = gp_mitm_leaf(m, "h7.example");
	ok(b != NULL, "a recent one found");
	gp_mitm_stats(m, &issued, &hits, &cached);
	ok(issued == 9 && hits == 2, "without signing again");
	a = gp_mitm_leaf(m, "api.example.com");
	gp_mitm_stats(m, &issued, &hits, &cached);
	ok(a != NULL && issued == 10, "the oldest was dropped: signed again");
	is_int(cached, 8, "still 8");
	/* api.example.com came back in place of h0, the least recently
	 * used: h1 is still there, h0 is not. */
	gp_mitm_leaf(m, "h1.example");
	gp_mitm_stats(m, &issued, &hits, &cached);
	is_int(issued, 10, "h1 still cached");
	gp_mitm_leaf(m, "h0.example");
	gp_mitm_stats(m, &issued, &hits, &cached);
	is_int(issued, 11, "h0 went out: signed again");

	{
		char longname[300];

		memset(longname, 'a', sizeof longname - 1);
		longname[sizeof longname - 1] = '\0';
		ok(gp_mitm_leaf(m, longname) == NULL,
		    "a name longer than any DNS name: no leaf");
	}
	gp_mitm_free(m);
	gp_ca_free(ca);
	snprintf(name, sizeof name, "%s/%s", dir, GP_CA_CERT);
	unlink(name);
	snprintf(name, sizeof name, "%s/%s", dir, GP_CA_KEY);
	unlink(name);
	rmdir(dir);
	return tap_done();
}
