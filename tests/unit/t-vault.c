/* t-vault.c: session.key (made once, 0600, never replaced) and
 * AES-256-GCM sealing; placeholders, previews, default bindings. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cred/cred.h"
#include "../lib/tap.h"

int
main(void)
{
	char		 dir[] = "/tmp/t-vault.XXXXXX", path[256], *err = NULL;
	char		*plain = NULL, ph[GP_PLACEHOLDER_MAX], pv[32];
	unsigned char	 k1[GP_VAULT_KEY], k2[GP_VAULT_KEY], *b1, *b2;
	size_t		 n1, n2, pl;
	struct stat	 st;
	FILE		*f;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof path, "%s/%s", dir, GP_VAULT_FILE);
	is_int(gp_vault_key_load(dir, 0, k1, &err), -ENOENT,
	    "no key, not asked to make one: -ENOENT");
	ok(gp_vault_key_load(dir, 1, k1, &err) == 0, "a key made");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 &&
	    st.st_size == GP_VAULT_KEY, "session.key: 32 bytes, 0600");
	ok(gp_vault_key_load(dir, 1, k2, &err) == 0 &&
	    memcmp(k1, k2, sizeof k1) == 0, "loaded again: the same key");

	ok(gp_vault_seal(k1, "sk-ant-secret-value", 19, &b1, &n1) == 0 &&
	    n1 == 12 + 19 + 16, "sealed: nonce, ciphertext, tag");
	ok(memmem(b1, n1, "secret", 6) == NULL, "no plaintext in the blob");
	ok(gp_vault_seal(k1, "sk-ant-secret-value", 19, &b2, &n2) == 0 &&
	    memcmp(b1, b2, 12) != 0 && memcmp(b1 + 12, b2 + 12, 19) != 0,
	    "a fresh nonce each time: two seals differ");
	ok(gp_vault_open(k1, b1, n1, &plain, &pl) == 0 && pl == 19 &&
	    strcmp(plain, "sk-ant-secret-value") == 0, "opened");
	gp_secret_free(plain);
	memset(k2, 7, sizeof k2);
	is_int(gp_vault_open(k2, b1, n1, &plain, &pl), -EBADMSG,
	    "another key: -EBADMSG");
	b1[15] ^= 1;
	is_int(gp_vault_open(k1, b1, n1, &plain, &pl), -EBADMSG,
	    "a changed byte: -EBADMSG");
	is_int(gp_vault_open(k1, b1, 20, &plain, &pl), -EBADMSG,
	    "too short: -EBADMSG");
	free(b1);
	free(b2);

	/* A key file of another size is an error, and stays. */
	f = fopen(path, "w");
	fputs("short", f);
	fclose(f);
	ok(gp_vault_key_load(dir, 1, k2, &err) == -EINVAL && err != NULL &&
	    strstr(err, "32-byte") != NULL, "a 5-byte key: refused, said why");
	free(err);
	err = NULL;
	ok(stat(path, &st) == 0 && st.st_size == 5, "and never replaced");
	unlink(path);
	ok(symlink("/etc/passwd", path) == 0 &&
	    gp_vault_key_load(dir, 1, k2, &err) != 0, "a symlink is not "
	    "followed");
	free(err);
	unlink(path);
	rmdir(dir);

	gp_placeholder_global(ph);
	ok(strncmp(ph, "greyproxy:credential:v1:global:", 31) == 0 &&
	    strlen(ph) == 31 + 32 && strspn(ph + 31, "0123456789abcdef") == 32,
	    "placeholder: %s", ph);
	gp_secret_preview("sk-ant-api03-abcdefghiXYZ", pv, sizeof pv);
	is_str(pv, "sk-ant***XYZ", "preview of a long value: 9 of 25");
	gp_secret_preview("ghp_0123456789abcdef", pv, sizeof pv);
	is_str(pv, "ghp_***ef", "20 characters: 6 shown");
	gp_secret_preview("abcdefghijklmno", pv, sizeof pv);
	is_str(pv, "***", "15 characters: none shown");
	/* The original showed all of a 9-character secret: "abcdef***ghi". */
	gp_secret_preview("abcdefghi", pv, sizeof pv);
	is_str(pv, "***", "9 characters: none shown");
	gp_secret_preview("ab", pv, sizeof pv);
	is_str(pv, "***", "preview of two characters");
	{
		/* At most three eighths of any value, whatever its length. */
		char	v[64];
		size_t	n, shown;
		int	fine = 1;

		for (n = 1; n < sizeof v; n++) {
			memset(v, 'x', n);
			v[n] = '\0';
			gp_secret_preview(v, pv, sizeof pv);
			shown = strlen(pv) - 3;
			if (8 * shown > 3 * n)
				fine = 0;
		}
		ok(fine, "no preview shows more than 3/8 of its value");
	}
	is_str(gp_cred_default_hosts("anthropic_api_key"), "api.anthropic.com",
	    "ANTHROPIC_API_KEY: api.anthropic.com");
	is_str(gp_cred_default_hosts("GH_TOKEN"), "api.github.com\ngithub.com",
	    "GH_TOKEN: the API and github.com");
	is_str(gp_cred_default_hosts("MY_OWN"), "", "an unknown label: none");
	return tap_done();
}
