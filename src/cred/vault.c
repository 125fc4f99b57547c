/*
 * vault.c: session.key and AES-256-GCM for stored secrets (cred.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/core.h"
#include "cred/cred.h"

/* Reads exactly n bytes of path; -errno. */
static int
read_key(const char *path, unsigned char *key, size_t n, char **err)
{
	unsigned char	extra;
	ssize_t		got;
	int		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	got = read(fd, key, n);
	if (got == (ssize_t)n && read(fd, &extra, 1) == 0) {
		close(fd);
		return 0;
	}
	close(fd);
	OPENSSL_cleanse(key, n);
	gp_xasprintf(err, "%s: not a %zu-byte key (left as it is: greyproxy "
	    "never replaces a key its secrets may be sealed with)", path, n);
	return -EINVAL;
}

int
gp_vault_key_load(const char *dir, int create, unsigned char key[GP_VAULT_KEY],
    char **err)
{
	char	path[4096];
	int	rc, fd;

	*err = NULL;
	snprintf(path, sizeof path, "%s/%s", dir, GP_VAULT_FILE);
	rc = read_key(path, key, GP_VAULT_KEY, err);
	if (rc == 0 || *err != NULL)
		return rc;
	if (rc != -ENOENT) {
		gp_xasprintf(err, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (!create)
		return -ENOENT;
	if (RAND_bytes(key, GP_VAULT_KEY) != 1) {
		gp_xasprintf(err, "no randomness for %s", path);
		return -EIO;
	}
	/* O_EXCL: never over a key another process just made. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		OPENSSL_cleanse(key, GP_VAULT_KEY);
		if (rc == -EEXIST)
			return gp_vault_key_load(dir, 0, key, err);
		gp_xasprintf(err, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (write(fd, key, GP_VAULT_KEY) != GP_VAULT_KEY || fsync(fd) != 0) {
		rc = -errno;
		close(fd);
		unlink(path);
		OPENSSL_cleanse(key, GP_VAULT_KEY);
		gp_xasprintf(err, "%s: %s", path, strerror(-rc));
		return rc;
	}
	close(fd);
	return 0;
}

int
gp_vault_seal(const unsigned char key[GP_VAULT_KEY], const void *plain,
    size_t n, unsigned char **out, size_t *outlen)
{
	EVP_CIPHER_CTX	*c = EVP_CIPHER_CTX_new();
	unsigned char	*b = gp_xmalloc(GP_VAULT_NONCE + n + GP_VAULT_TAG);
	int		 len, ok;

	ok = c != NULL && n < (size_t)INT32_MAX &&
	    RAND_bytes(b, GP_VAULT_NONCE) == 1 &&
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, GP_VAULT_NONCE,
	    NULL) == 1 &&
	    EVP_EncryptInit_ex(c, NULL, NULL, key, b) == 1 &&
	    EVP_EncryptUpdate(c, b + GP_VAULT_NONCE, &len, plain, (int)n) ==
	    1 && (size_t)len == n &&
	    EVP_EncryptFinal_ex(c, b + GP_VAULT_NONCE + n, &len) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GP_VAULT_TAG,
	    b + GP_VAULT_NONCE + n) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok) {
		free(b);
		return -EIO;
	}
	*out = b;
	*outlen = GP_VAULT_NONCE + n + GP_VAULT_TAG;
	return 0;
}

int
gp_vault_open(const unsigned char key[GP_VAULT_KEY], const unsigned char *b,
    size_t n, char **plain, size_t *plen)
{
	EVP_CIPHER_CTX	*c;
	size_t		 ct;
	char		*p;
	int		 len, ok;

	if (n < GP_VAULT_NONCE + GP_VAULT_TAG || n > (size_t)INT32_MAX)
		return -EBADMSG;
	ct = n - GP_VAULT_NONCE - GP_VAULT_TAG;
	p = gp_xmalloc(ct + 1);
	c = EVP_CIPHER_CTX_new();
	ok = c != NULL &&
	    EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, GP_VAULT_NONCE,
	    NULL) == 1 &&
	    EVP_DecryptInit_ex(c, NULL, NULL, key, b) == 1 &&
	    EVP_DecryptUpdate(c, (unsigned char *)p, &len, b + GP_VAULT_NONCE,
	    (int)ct) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GP_VAULT_TAG,
	    (void *)(uintptr_t)(b + GP_VAULT_NONCE + ct)) == 1 &&
	    EVP_DecryptFinal_ex(c, (unsigned char *)p + len, &len) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok) {
		OPENSSL_cleanse(p, ct + 1);
		free(p);
		return -EBADMSG;
	}
	p[ct] = '\0';
	*plain = p;
	if (plen != NULL)
		*plen = ct;
	return 0;
}

void
gp_secret_free(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void
gp_placeholder_global(char out[GP_PLACEHOLDER_MAX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	r[16];
	char		h[33];
	size_t		i;

	if (RAND_bytes(r, sizeof r) != 1)
		gp_panic("no randomness for a placeholder");
	for (i = 0; i < sizeof r; i++) {
		h[2 * i] = hex[r[i] >> 4];
		h[2 * i + 1] = hex[r[i] & 15];
	}
	h[32] = '\0';
	snprintf(out, GP_PLACEHOLDER_MAX, "greyproxy:credential:v1:global:%s",
	    h);
}

/*
 * What the screen and the API show of a secret.  The original shows
 * the first 6 and the last 3 characters from 9 on: all of a 9-character
 * secret, and the last 2 of a shorter one.  Here at most 9 of 24 or
 * more (a key's public prefix, "sk-ant", "ghp_xy", and enough to tell
 * two apart), 6 of 16 to 23, and nothing of a shorter one.
 */
void
gp_secret_preview(const char *v, char *out, size_t outlen)
{
	size_t n = strlen(v);

	if (n >= 24)
		snprintf(out, outlen, "%.6s***%s", v, v + n - 3);
	else if (n >= 16)
		snprintf(out, outlen, "%.4s***%s", v, v + n - 2);
	else
		snprintf(out, outlen, "***");
}

const char *
gp_cred_default_hosts(const char *label)
{
	static const struct {
		const char *label, *hosts;
	} known[] = {
		{ "ANTHROPIC_API_KEY", "api.anthropic.com" },
		{ "CLAUDE_API_KEY", "api.anthropic.com" },
		{ "OPENAI_API_KEY", "api.openai.com" },
		{ "GEMINI_API_KEY", "generativelanguage.googleapis.com" },
		{ "GOOGLE_API_KEY", "generativelanguage.googleapis.com" },
		{ "GITHUB_TOKEN", "api.github.com\ngithub.com" },
		{ "GH_TOKEN", "api.github.com\ngithub.com" },
		{ "OPENROUTER_API_KEY", "openrouter.ai" },
		{ "MISTRAL_API_KEY", "api.mistral.ai" },
		{ "GROQ_API_KEY", "api.groq.com" },
		{ "HF_TOKEN", "huggingface.co\n*.huggingface.co" },
		{ "NPM_TOKEN", "registry.npmjs.org" },
	};
	size_t i;

	for (i = 0; i < GP_ARRAY_LEN(known); i++)
		if (strcasecmp(known[i].label, label) == 0)
			return known[i].hosts;
	return "";
}
