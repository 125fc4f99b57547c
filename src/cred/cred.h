/*
 * cred.h: secrets greyproxy substitutes for placeholders.
 *
 * vault.c: the key and the cipher.  session.key holds 32 random bytes
 * (0600, in the 0700 data directory), created on first use and never
 * overwritten; a file of another size is an error, never replaced.
 * Values are sealed with AES-256-GCM: a fresh 12-byte nonce, then the
 * ciphertext, then the 16-byte tag (the original's layout).  Plaintext
 * secrets live in memory only, wiped when dropped (gp_secret_free).
 */
#ifndef GP_CRED_H
#define GP_CRED_H

#include <stddef.h>
#include <stdint.h>

#define GP_VAULT_KEY	32
#define GP_VAULT_NONCE	12
#define GP_VAULT_TAG	16
#define GP_VAULT_FILE	"session.key"
#define GP_PLACEHOLDER_MAX	96

/* Loads dir's key; with create, makes one when there is none.  0, or
 * -ENOENT (none, create unset), or another -errno with *err. */
int	gp_vault_key_load(const char *dir, int create,
	    unsigned char key[GP_VAULT_KEY], char **err);
/* Seals n bytes: *out (malloc'd) is nonce ‖ ciphertext ‖ tag. */
int	gp_vault_seal(const unsigned char key[GP_VAULT_KEY], const void *,
	    size_t n, unsigned char **out, size_t *outlen);
/* Opens a sealed blob: *plain (malloc'd, NUL-terminated; free it with
 * gp_secret_free); -EBADMSG when the key or the bytes are wrong. */
int	gp_vault_open(const unsigned char key[GP_VAULT_KEY],
	    const unsigned char *, size_t n, char **plain, size_t *plen);
/* Wipes then frees a secret (NULL allowed). */
void	gp_secret_free(char *);

/* "greyproxy:credential:v1:global:<32 hex>", random. */
void	gp_placeholder_global(char out[GP_PLACEHOLDER_MAX]);
/* A preview that does not give the value away, as the original's:
 * 9 characters or more: the first 6, "***", the last 3; 2 or fewer:
 * "***"; else "***" and the last 2. */
void	gp_secret_preview(const char *value, char *out, size_t outlen);
/* The destinations a well-known label is meant for ("" if none known):
 * suggested at registration, confirmed by a person. */
const char *gp_cred_default_hosts(const char *label);

#endif
