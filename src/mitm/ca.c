/*
 * ca.c: greyproxy's certificate authority (mitm.h): generated with
 * OpenSSL 3 (ECDSA P-256), written whole and renamed into place, loaded
 * and checked (the key must match the certificate), and described.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/core.h"
#include "mitm/mitm.h"

#define CA_DAYS		3650

struct gp_ca {
	X509			*cert;
	EVP_PKEY		*key;
	struct gp_ca_info	 info;
};

static void
paths(const char *dir, struct gp_ca_info *i)
{
	snprintf(i->cert_path, sizeof i->cert_path, "%s/%s", dir, GP_CA_CERT);
	snprintf(i->key_path, sizeof i->key_path, "%s/%s", dir, GP_CA_KEY);
}

/* The OpenSSL error queue's last entry, or what. */
static void
ssl_error(char **err, const char *what)
{
	unsigned long	e = ERR_get_error();
	char		buf[256];

	ERR_error_string_n(e, buf, sizeof buf);
	gp_xasprintf(err, "%s%s%s", what, e ? ": " : "", e ? buf : "");
	ERR_clear_error();
}

int
gp_x509_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ex;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	if ((ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return 0;
}

/* A random positive 128-bit serial (RFC 5280 4.1.2.2: at most 20 octets). */
static int
set_serial(X509 *x)
{
	unsigned char	 b[16];
	BIGNUM		*bn;
	ASN1_INTEGER	*ai;
	int		 rc = -1;

	if (RAND_bytes(b, sizeof b) != 1)
		return -1;
	b[0] &= 0x7f;
	b[0] |= 0x01;	/* never zero, never negative */
	if ((bn = BN_bin2bn(b, sizeof b, NULL)) != NULL &&
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) != NULL) {
		rc = X509_set_serialNumber(x, ai) == 1 ? 0 : -1;
		ASN1_INTEGER_free(ai);
	}
	BN_free(bn);
	return rc;
}

static X509 *
make_cert(EVP_PKEY *key)
{
	X509		*x = X509_new();
	X509_NAME	*name;
	char		 host[128], cn[200];

	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	snprintf(cn, sizeof cn, "Greyproxy CA (%s)", host);
	if (x == NULL || X509_set_version(x, 2) != 1 || set_serial(x) != 0)
		goto fail;
	/* An hour back: a clock a little behind still accepts it. */
	if (X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), CA_DAYS, 0, NULL) == NULL)
		goto fail;
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	    (const unsigned char *)"greyproxy", -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    X509_set_pubkey(x, key) != 1)
		goto fail;
	if (gp_x509_add_ext(x, x, NID_basic_constraints,
	    "critical,CA:TRUE,pathlen:0") ||
	    gp_x509_add_ext(x, x, NID_key_usage,
	    "critical,keyCertSign,cRLSign") ||
	    gp_x509_add_ext(x, x, NID_subject_key_identifier, "hash") ||
	    gp_x509_add_ext(x, x, NID_authority_key_identifier,
	    "keyid:always"))
		goto fail;
	if (X509_sign(x, key, EVP_sha256()) == 0)
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

/* Writes a memory BIO's bytes to path, whole, through path.tmp. */
static int
write_file(const char *path, BIO *b, mode_t mode, char **err)
{
	char	*tmp, *data;
	long	 n = BIO_get_mem_data(b, &data);
	int	 fd, rc = 0;

	gp_xasprintf(&tmp, "%s.tmp", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, data, (size_t)n) != n || fchmod(fd, mode) != 0 ||
	    fsync(fd) != 0) {
		rc = -errno;
		gp_xasprintf(err, "%s: %s", tmp, strerror(errno));
	}
	if (fd >= 0 && close(fd) != 0 && rc == 0) {
		rc = -errno;
		gp_xasprintf(err, "%s: %s", tmp, strerror(errno));
	}
	if (rc == 0 && rename(tmp, path) != 0) {
		rc = -errno;
		gp_xasprintf(err, "%s: %s", path, strerror(errno));
	}
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

int
gp_ca_generate(const char *dir, int force, char **err)
{
	struct gp_ca_info	 i;
	EVP_PKEY		*key = NULL;
	X509			*cert = NULL;
	BIO			*kb = NULL, *cb = NULL;
	int			 rc = -EIO;

	*err = NULL;
	paths(dir, &i);
	if (!force && (access(i.cert_path, F_OK) == 0 ||
	    access(i.key_path, F_OK) == 0)) {
		gp_xasprintf(err, "a CA already exists in %s (--force "
		    "replaces it; everything that trusts it must trust the "
		    "new one)", dir);
		return -EEXIST;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		gp_xasprintf(err, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL) {
		ssl_error(err, "cannot generate the CA key");
		goto out;
	}
	if ((cert = make_cert(key)) == NULL) {
		ssl_error(err, "cannot make the CA certificate");
		goto out;
	}
	kb = BIO_new(BIO_s_mem());
	cb = BIO_new(BIO_s_mem());
	if (kb == NULL || cb == NULL ||
	    PEM_write_bio_PrivateKey_traditional(kb, key, NULL, NULL, 0, NULL,
	    NULL) != 1 || PEM_write_bio_X509(cb, cert) != 1) {
		ssl_error(err, "cannot encode the CA");
		goto out;
	}
	/* The key first: a certificate never names a key not yet there. */
	if ((rc = write_file(i.key_path, kb, 0600, err)) == 0)
		rc = write_file(i.cert_path, cb, 0644, err);
out:
	BIO_free(kb);
	BIO_free(cb);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

static void
describe(struct gp_ca *ca)
{
	struct gp_ca_info	*i = &ca->info;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 n = 0, k;
	struct tm		 tm;
	BIO			*b;
	char			*p;
	long			 len;

	i->present = i->valid = 1;
	if ((b = BIO_new(BIO_s_mem())) != NULL) {
		X509_NAME_print_ex(b, X509_get_subject_name(ca->cert), 0,
		    XN_FLAG_RFC2253);
		len = BIO_get_mem_data(b, &p);
		snprintf(i->subject, sizeof i->subject, "%.*s", (int)len, p);
		BIO_free(b);
	}
	/* "AB:CD:…": 32 bytes take 95 characters. */
	if (X509_digest(ca->cert, EVP_sha256(), md, &n) == 1)
		for (k = 0; k < n && 3 * k + 2 < sizeof i->sha256; k++)
			snprintf(i->sha256 + (k ? 3 * k - 1 : 0),
			    sizeof i->sha256 - (k ? 3 * k - 1 : 0), "%s%02X",
			    k ? ":" : "", md[k]);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(ca->cert), &tm) == 1)
		i->not_after = (int64_t)timegm(&tm);
	if (ASN1_TIME_to_tm(X509_get0_notBefore(ca->cert), &tm) == 1)
		i->not_before = (int64_t)timegm(&tm);
}

/* A certificate (key 0) or a private key (1) from a PEM file. */
static int
read_pem(const char *path, int key, void **out, char **err)
{
	FILE	*fp = fopen(path, "re");
	int	 e = errno;

	if (fp == NULL) {
		gp_xasprintf(err, "%s: %s", path, strerror(e));
		return -e;
	}
	*out = key ? (void *)PEM_read_PrivateKey(fp, NULL, NULL, NULL) :
	    (void *)PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (*out != NULL)
		return 0;
	ssl_error(err, key ? "ca-key.pem is not a PEM private key" :
	    "ca-cert.pem is not a PEM certificate");
	return -EINVAL;
}

int
gp_ca_load(const char *dir, struct gp_ca **out, char **err)
{
	struct gp_ca	*ca = gp_xcalloc(1, sizeof *ca);
	int		 rc;

	*out = NULL;
	*err = NULL;
	paths(dir, &ca->info);
	if (access(ca->info.cert_path, F_OK) != 0 &&
	    access(ca->info.key_path, F_OK) != 0) {
		free(ca);
		return -ENOENT;
	}
	if ((rc = read_pem(ca->info.cert_path, 0, (void **)&ca->cert,
	    err)) != 0 || (rc = read_pem(ca->info.key_path, 1,
	    (void **)&ca->key, err)) != 0)
		goto fail;
	rc = -EINVAL;
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		ERR_clear_error();
		gp_xasprintf(err, "ca-key.pem does not belong to ca-cert.pem");
		goto fail;
	}
	describe(ca);
	*out = ca;
	return 0;
fail:
	gp_ca_free(ca);
	return rc;
}

void
gp_ca_free(struct gp_ca *ca)
{
	if (ca == NULL)
		return;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	free(ca);
}

void
gp_ca_describe(const struct gp_ca *ca, struct gp_ca_info *i)
{
	*i = ca->info;
}

void
gp_ca_inspect(const char *dir, struct gp_ca_info *i)
{
	struct gp_ca	*ca;
	char		*err = NULL;
	int		 rc = gp_ca_load(dir, &ca, &err);

	if (rc == 0) {
		*i = ca->info;
		gp_ca_free(ca);
		return;
	}
	memset(i, 0, sizeof *i);
	paths(dir, i);
	i->present = rc != -ENOENT;
	if (err != NULL)
		snprintf(i->error, sizeof i->error, "%s", err);
	free(err);
}

const char *
gp_ca_trust_dir(void)
{
	const char *d = getenv("GREYPROXY_CA_TRUST_DIR");

	return d != NULL && *d != '\0' ? d :
	    "/usr/local/share/ca-certificates";
}

const char *
gp_ca_trust_update(void)
{
	const char *c = getenv("GREYPROXY_CA_UPDATE");

	return c != NULL && *c != '\0' ? c : "update-ca-certificates";
}

/* Same bytes in the trust store as in the data directory. */
int
gp_ca_installed(const struct gp_ca_info *i)
{
	char	*path, a[8192], b[8192];
	FILE	*fa, *fb = NULL;
	size_t	 na = 0, nb = 0;

	gp_xasprintf(&path, "%s/%s", gp_ca_trust_dir(), GP_CA_TRUST_NAME);
	if ((fa = fopen(i->cert_path, "re")) != NULL &&
	    (fb = fopen(path, "re")) != NULL) {
		na = fread(a, 1, sizeof a, fa);
		nb = fread(b, 1, sizeof b, fb);
	}
	if (fa != NULL)
		fclose(fa);
	if (fb != NULL)
		fclose(fb);
	free(path);
	return na > 0 && na == nb && memcmp(a, b, na) == 0;
}

X509 *
gp_ca_x509(const struct gp_ca *ca)
{
	return ca->cert;
}

EVP_PKEY *
gp_ca_pkey(const struct gp_ca *ca)
{
	return ca->key;
}

char *
gp_ca_cert_pem(const struct gp_ca *ca)
{
	BIO	*b;
	char	*p, *out = NULL;
	long	 n;

	if (ca == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (PEM_write_bio_X509(b, ca->cert) == 1) {
		n = BIO_get_mem_data(b, &p);
		out = gp_xstrndup(p, (size_t)n);
	}
	BIO_free(b);
	return out;
}
