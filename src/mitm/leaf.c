/*
 * leaf.c: what interception needs to speak TLS both ways (mitm.h): the
 * CA, one leaf key per process (never the CA's), leaves per name signed
 * on first use and kept in a bounded LRU, the server context offered to
 * clients (ALPN http/1.1, session resumption) and the client context
 * that verifies origins against the system store.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/core.h"
#include "mitm/mitm.h"

#define LEAF_PAST	(24 * 3600)		/* a clock behind still works */
#define LEAF_FUTURE	(3 * 24 * 3600)
#define LEAF_REISSUE	(12 * 3600)		/* before expiry: a new one */
#define SESSIONS	256			/* origins resumed, by name */
#define BUCKETS		2048			/* leaves by name */

struct leaf {
	char			 name[GP_SNI_MAX];
	X509			*cert;
	time_t			 not_after;
	TAILQ_ENTRY(leaf)	 lru;		/* newest first */
	struct leaf		*hnext;		/* same bucket */
};

struct gp_mitm {
	X509		*cacert;		/* references held */
	EVP_PKEY	*cakey;
	EVP_PKEY	*key;			/* the leaves' key */
	SSL_CTX		*server, *client;
	TAILQ_HEAD(leaves_head, leaf) leaves;
	struct leaf	*bucket[BUCKETS];
	size_t		 n, max;
	uint64_t	 issued, hits;
	/* The last session of each origin (by the name verified), so the
	 * next tunnel to it resumes instead of a full handshake. */
	struct {
		char		 name[GP_SNI_MAX];
		SSL_SESSION	*sess;
	} sessions[SESSIONS];
};

/* FNV-1a over the name, any case (names compare without case). */
static uint32_t
name_hash(const char *name)
{
	uint32_t	h = 2166136261u;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)(*name | 0x20)) * 16777619u;
	return h;
}

static size_t
slot(const char *name)
{
	return name_hash(name) % SESSIONS;
}

/* Each client SSL carries the name it verifies (freed with it). */
static int	name_idx = -1;

static void
free_name(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	free(ptr);
}

/* A new session from an origin: kept under the name it was verified
 * for (a session is only ever offered to that same name again). */
static int
new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct gp_mitm	*m = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	const char	*name = SSL_get_ex_data(ssl, name_idx);
	size_t		 i;

	if (m == NULL || name == NULL)
		return 0;
	i = slot(name);
	SSL_SESSION_free(m->sessions[i].sess);
	snprintf(m->sessions[i].name, sizeof m->sessions[i].name, "%s", name);
	m->sessions[i].sess = sess;
	return 1;		/* the reference is ours */
}

/* ALPN: http/1.1 when offered; otherwise no ALPN (the client falls back
 * or gives up, as with any server that does not speak h2). */
static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned i = 0;

	while (i < inlen) {
		unsigned n = in[i];

		if (n == 8 && i + 1 + n <= inlen &&
		    memcmp(in + i + 1, "http/1.1", 8) == 0) {
			*out = in + i + 1;
			*outlen = 8;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + n;
	}
	return SSL_TLSEXT_ERR_NOACK;
}

EVP_PKEY *
gp_mitm_keygen(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

struct gp_mitm *
gp_mitm_new(X509 *cacert, EVP_PKEY *cakey, EVP_PKEY *leaf_key,
    size_t max_leaves, char **err)
{
	struct gp_mitm		*m = gp_xcalloc(1, sizeof *m);
	static const unsigned char alpn[] = "\x08http/1.1";

	*err = NULL;
	m->cacert = cacert;
	m->cakey = cakey;
	m->key = leaf_key;
	X509_up_ref(m->cacert);
	EVP_PKEY_up_ref(m->cakey);
	EVP_PKEY_up_ref(m->key);
	m->max = max_leaves;
	TAILQ_INIT(&m->leaves);
	m->server = SSL_CTX_new(TLS_server_method());
	m->client = SSL_CTX_new(TLS_client_method());
	if (m->server == NULL || m->client == NULL) {
		gp_xasprintf(err, "cannot make TLS contexts");
		gp_mitm_free(m);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(m->server, TLS1_2_VERSION);
	SSL_CTX_set_alpn_select_cb(m->server, alpn_select, NULL);
	SSL_CTX_set_session_cache_mode(m->server, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(m->server,
	    (const unsigned char *)"greyproxy", 9);
	SSL_CTX_set_min_proto_version(m->client, TLS1_2_VERSION);
	SSL_CTX_set_verify(m->client, SSL_VERIFY_PEER, NULL);
	/* The system store; SSL_CERT_FILE and SSL_CERT_DIR are honoured. */
	SSL_CTX_set_default_verify_paths(m->client);
	SSL_CTX_set_alpn_protos(m->client, alpn, sizeof alpn - 1);
	SSL_CTX_set_session_cache_mode(m->client, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(m->client, new_session);
	if (name_idx < 0)
		name_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    free_name);
	SSL_CTX_set_app_data(m->client, m);
	return m;
}

static void
leaf_free(struct leaf *l)
{
	X509_free(l->cert);
	free(l);
}

void
gp_mitm_free(struct gp_mitm *m)
{
	struct leaf *l;

	if (m == NULL)
		return;
	while ((l = TAILQ_FIRST(&m->leaves)) != NULL) {
		TAILQ_REMOVE(&m->leaves, l, lru);
		leaf_free(l);
	}
	for (size_t i = 0; i < SESSIONS; i++)
		SSL_SESSION_free(m->sessions[i].sess);
	SSL_CTX_set_app_data(m->client, NULL);	/* SSLs may outlive us */
	SSL_CTX_free(m->server);
	SSL_CTX_free(m->client);
	EVP_PKEY_free(m->key);
	EVP_PKEY_free(m->cakey);
	X509_free(m->cacert);
	free(m);
}

/* A leaf for name (a DNS name or an IP literal) signed by the CA. */
static X509 *
issue(struct gp_mitm *m, const char *name, time_t *not_after)
{
	X509		*x = X509_new(), *cacert = m->cacert;
	X509_NAME	*sn;
	unsigned char	 serial[16], ip[16];
	BIGNUM		*bn = NULL;
	char		 san[GP_SNI_MAX + 8];
	time_t		 now = time(NULL);
	int		 isip = inet_pton(AF_INET, name, ip) == 1 ||
			    inet_pton(AF_INET6, name, ip) == 1;

	if (x == NULL || RAND_bytes(serial, sizeof serial) != 1)
		goto fail;
	serial[0] = (serial[0] & 0x7f) | 0x01;
	if ((bn = BN_bin2bn(serial, sizeof serial, NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto fail;
	X509_set_version(x, 2);
	X509_time_adj_ex(X509_getm_notBefore(x), 0, -LEAF_PAST, &now);
	X509_time_adj_ex(X509_getm_notAfter(x), 0, LEAF_FUTURE, &now);
	*not_after = now + LEAF_FUTURE;
	sn = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(sn, "CN", MBSTRING_UTF8,
	    (const unsigned char *)name, -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(sn, "O", MBSTRING_UTF8,
	    (const unsigned char *)"greyproxy interception", -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(cacert)) != 1 ||
	    X509_set_pubkey(x, m->key) != 1)
		goto fail;
	snprintf(san, sizeof san, "%s:%s", isip ? "IP" : "DNS", name);
	if (gp_x509_add_ext(x, cacert, NID_basic_constraints, "critical,CA:FALSE") ||
	    gp_x509_add_ext(x, cacert, NID_key_usage, "critical,digitalSignature") ||
	    gp_x509_add_ext(x, cacert, NID_ext_key_usage, "serverAuth") ||
	    gp_x509_add_ext(x, cacert, NID_subject_alt_name, san) ||
	    gp_x509_add_ext(x, cacert, NID_authority_key_identifier, "keyid:always"))
		goto fail;
	if (X509_sign(x, m->cakey, EVP_sha256()) == 0)
		goto fail;
	BN_free(bn);
	return x;
fail:
	ERR_clear_error();
	BN_free(bn);
	X509_free(x);
	return NULL;
}

/* The bucket a name's leaf hangs from. */
static struct leaf **
bucket_of(struct gp_mitm *m, const char *name)
{
	return &m->bucket[name_hash(name) % BUCKETS];
}

/* Out of the cache (the use order and its bucket), freed. */
static void
leaf_drop(struct gp_mitm *m, struct leaf *l)
{
	struct leaf **pp;

	for (pp = bucket_of(m, l->name); *pp != l; pp = &(*pp)->hnext)
		;
	*pp = l->hnext;
	TAILQ_REMOVE(&m->leaves, l, lru);
	leaf_free(l);
	m->n--;
}

/*
 * The leaf for name, from the cache or signed now (an ECDSA signature,
 * tens of microseconds: no key is made here).  The cache is bounded, in
 * use order, and found by a hash of the name.
 */
X509 *
gp_mitm_leaf(struct gp_mitm *m, const char *name)
{
	struct leaf	*l, **b = bucket_of(m, name);
	time_t		 now = time(NULL);

	for (l = *b; l != NULL; l = l->hnext)
		if (strcasecmp(l->name, name) == 0)
			break;
	if (l != NULL) {
		if (l->not_after - now > LEAF_REISSUE) {
			m->hits++;
			TAILQ_REMOVE(&m->leaves, l, lru);
			TAILQ_INSERT_HEAD(&m->leaves, l, lru);
			return l->cert;
		}
		leaf_drop(m, l);	/* near its end: a new one */
	}
	if (strlen(name) >= sizeof l->name)
		return NULL;		/* no DNS name is this long */
	l = gp_xcalloc(1, sizeof *l);
	snprintf(l->name, sizeof l->name, "%s", name);
	if ((l->cert = issue(m, name, &l->not_after)) == NULL) {
		free(l);
		return NULL;
	}
	m->issued++;
	TAILQ_INSERT_HEAD(&m->leaves, l, lru);
	l->hnext = *b;
	*b = l;
	if (++m->n > m->max)
		leaf_drop(m, TAILQ_LAST(&m->leaves, leaves_head));
	return l->cert;
}

SSL *
gp_mitm_server_ssl(struct gp_mitm *m, const char *name)
{
	X509	*leaf = gp_mitm_leaf(m, name);
	SSL	*ssl;

	if (leaf == NULL || (ssl = SSL_new(m->server)) == NULL)
		return NULL;
	if (SSL_use_certificate(ssl, leaf) != 1 ||
	    SSL_use_PrivateKey(ssl, m->key) != 1 ||
	    SSL_add1_chain_cert(ssl, m->cacert) != 1) {
		ERR_clear_error();
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

SSL *
gp_mitm_client_ssl(struct gp_mitm *m, const char *sni, const char *verify)
{
	SSL		*ssl = SSL_new(m->client);
	X509_VERIFY_PARAM *vp;
	unsigned char	 ip[16];
	size_t		 i;

	if (ssl == NULL)
		return NULL;
	if (sni != NULL && *sni != '\0')
		SSL_set_tlsext_host_name(ssl, sni);
	vp = SSL_get0_param(ssl);
	if (inet_pton(AF_INET, verify, ip) == 1 ||
	    inet_pton(AF_INET6, verify, ip) == 1)
		X509_VERIFY_PARAM_set1_ip_asc(vp, verify);
	else
		SSL_set1_host(ssl, verify);
	i = slot(verify);
	if (m->sessions[i].sess != NULL &&
	    strcasecmp(m->sessions[i].name, verify) == 0 &&
	    SSL_SESSION_is_resumable(m->sessions[i].sess))
		SSL_set_session(ssl, m->sessions[i].sess);
	SSL_set_ex_data(ssl, name_idx, gp_xstrdup(verify));
	return ssl;
}

void
gp_mitm_stats(const struct gp_mitm *m, uint64_t *issued, uint64_t *hits,
    size_t *cached)
{
	*issued = m->issued;
	*hits = m->hits;
	*cached = m->n;
}
