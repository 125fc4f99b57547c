/*
 * mitm.h: TLS interception: greyproxy's own certificate authority (ca.c)
 * and, next, the per-name leaves it signs and the interception of
 * tunnels.
 *
 * The CA lives in the data directory: ca-cert.pem (0644) and ca-key.pem
 * (SEC1 "EC PRIVATE KEY", 0600, directory 0700).  Generating it costs a
 * key generation: CLI, or a worker thread, never the loop.  A loaded CA
 * is immutable; a reload loads a new one and swaps it in.
 */
#ifndef GP_MITM_H
#define GP_MITM_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#define GP_CA_CERT	"ca-cert.pem"
#define GP_CA_KEY	"ca-key.pem"

struct gp_ca;

/* What a CA is, for the CLI, the API and the TUI. */
struct gp_ca_info {
	int	present;		/* both files exist */
	int	valid;			/* they load and belong together */
	char	cert_path[4096];
	char	key_path[4096];
	char	subject[256];
	char	sha256[96];		/* "AB:CD:…" of the DER certificate */
	int64_t	not_before, not_after;	/* epoch seconds */
	char	error[256];		/* why not valid, when present */
};

/*
 * Creates a new CA in dir (ECDSA P-256, CA:TRUE pathlen 0,
 * keyCertSign|cRLSign, ten years, subject naming greyproxy and this
 * host).  Refuses (-EEXIST) when either file exists unless force.  The
 * files are written whole and renamed into place.  0, or -errno with
 * *err (caller frees).  Blocking: never on the loop.
 */
int	gp_ca_generate(const char *dir, int force, char **err);
/* Loads dir's CA: 0 and *out; -ENOENT when there is none; another
 * -errno with *err when it cannot be used (unreadable, mismatched). */
int	gp_ca_load(const char *dir, struct gp_ca **out, char **err);
void	gp_ca_free(struct gp_ca *);
void	gp_ca_describe(const struct gp_ca *, struct gp_ca_info *);
/* The state of dir's files, loading them to check (for `cert show`). */
void	gp_ca_inspect(const char *dir, struct gp_ca_info *);
/*
 * The system trust store (Debian): the directory the certificate is
 * copied into as greyproxy-ca.crt and the command that rebuilds the
 * bundle; GREYPROXY_CA_TRUST_DIR and GREYPROXY_CA_UPDATE replace them.
 * gp_ca_installed(): is this certificate the one there?
 */
#define GP_CA_TRUST_NAME	"greyproxy-ca.crt"
const char *gp_ca_trust_dir(void);
const char *gp_ca_trust_update(void);
int	gp_ca_installed(const struct gp_ca_info *);
/* Adds an extension in openssl.cnf syntax ("critical,CA:FALSE"). */
int	gp_x509_add_ext(X509 *cert, X509 *issuer, int nid, const char *value);
/* The loaded certificate and key (borrowed). */
X509	*gp_ca_x509(const struct gp_ca *);
EVP_PKEY *gp_ca_pkey(const struct gp_ca *);
/* The certificate as PEM (malloc'd, NUL-terminated); NULL if none. */
char	*gp_ca_cert_pem(const struct gp_ca *);

/*
 * leaf.c: interception's TLS material.  gp_mitm_new() takes references
 * to the CA's certificate and key and to a leaf key (gp_mitm_keygen()).
 * Both read files (the system's CA bundle: ~17 ms) or make a key: a
 * worker's job, never the loop's.  SSLs made from it outlive it safely.  Leaves
 * are signed per name on first use and cached (max, least recently
 * used out, re-signed half a day before they expire).  server_ssl(): an
 * SSL for a client of ours, presenting the leaf for name and the CA;
 * client_ssl(): an SSL to an origin sending sni (may be empty) and
 * verifying the certificate against the system store for verify (a
 * name, or an IP literal).
 */
struct gp_mitm;
EVP_PKEY	*gp_mitm_keygen(void);
struct gp_mitm	*gp_mitm_new(X509 *cacert, EVP_PKEY *cakey,
		    EVP_PKEY *leaf_key, size_t max_leaves, char **err);
void		 gp_mitm_free(struct gp_mitm *);
X509		*gp_mitm_leaf(struct gp_mitm *, const char *name);
SSL		*gp_mitm_server_ssl(struct gp_mitm *, const char *name);
SSL		*gp_mitm_client_ssl(struct gp_mitm *, const char *sni,
		    const char *verify);
void		 gp_mitm_stats(const struct gp_mitm *, uint64_t *issued,
		    uint64_t *hits, size_t *cached);

/*
 * sniff.c: the first bytes of a tunnel: a TLS ClientHello (with its SNI
 * and ALPN offer), something else, or not enough yet.  Pure.
 */
#define GP_SNI_MAX	256
#define GP_SNIFF_MAX	(16384 + 5)	/* more than one record: decide */
enum gp_tls_sniff { GP_SNIFF_MORE, GP_SNIFF_TLS, GP_SNIFF_OTHER };
struct gp_tls_hello {
	int	tls;
	char	sni[GP_SNI_MAX];	/* "" when none (or not a name) */
	int	alpn_any, alpn_http11, alpn_h2;
};
enum gp_tls_sniff gp_tls_sniff(const void *, size_t, struct gp_tls_hello *);

#endif
