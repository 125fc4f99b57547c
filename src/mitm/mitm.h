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

#include <stdint.h>

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
/* The certificate as PEM (malloc'd, NUL-terminated); NULL if none. */
char	*gp_ca_cert_pem(const struct gp_ca *);

#endif
