/*
 * mitm.c: interception's CA in the core (ctl.h): loaded at start and on
 * request, generated on a worker (a key generation never runs on the
 * loop), described for the status routes and the TUI.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

void
gp_ctl_mitm_apply(struct gp_ctl *c)
{
	c->px.mitm = c->settings.mitm_enabled ? c->mitm : NULL;
}

/*
 * The interception material for the CA now loaded, made on a worker:
 * the leaf key the first time, then the TLS contexts (they read the
 * system's CA bundle, ~17 ms).  The job holds its own references; a
 * newer CA meanwhile makes its result stale (mitm_gen), and it is
 * dropped.  Until it is in, tunnels are relayed ("starting").
 */
struct mitm_job {
	uv_work_t	 req;
	struct gp_ctl	*c;
	uint64_t	 gen;
	X509		*cacert;
	EVP_PKEY	*cakey, *leaf;
	int		 made_leaf;
	struct gp_mitm	*m;
	char		*err;
};

static void
mitm_work(uv_work_t *req)
{
	struct mitm_job *j = req->data;

	if (j->leaf == NULL) {
		if ((j->leaf = gp_mitm_keygen()) == NULL) {
			j->err = gp_xstrdup("cannot make the leaf key");
			return;
		}
		j->made_leaf = 1;
	}
	j->m = gp_mitm_new(j->cacert, j->cakey, j->leaf, 1024, &j->err);
}

static void
mitm_after(uv_work_t *req, int status)
{
	struct mitm_job	*j = req->data;
	struct gp_ctl	*c = j->c;

	if (c->started && j->made_leaf && c->leaf_key == NULL) {
		c->leaf_key = j->leaf;		/* kept for the next CA */
		EVP_PKEY_up_ref(c->leaf_key);
	}
	if (c->started && j->gen == c->mitm_gen && j->m != NULL) {
		gp_mitm_free(c->mitm);
		c->mitm = j->m;
		j->m = NULL;
		gp_ctl_mitm_apply(c);
	} else if (j->err != NULL)
		gp_log(GP_LOG_WARN, "interception off: %s", j->err);
	gp_mitm_free(j->m);
	X509_free(j->cacert);
	EVP_PKEY_free(j->cakey);
	EVP_PKEY_free(j->leaf);
	free(j->err);
	free(j);
}

/* The CA changed (or the core starts): the old material goes, the new
 * one follows from a worker. */
static void
rebuild(struct gp_ctl *c)
{
	struct mitm_job *j;

	c->mitm_gen++;
	gp_mitm_free(c->mitm);
	c->mitm = NULL;
	gp_ctl_mitm_apply(c);
	if (c->ca == NULL)
		return;
	j = gp_xcalloc(1, sizeof *j);
	j->req.data = j;
	j->c = c;
	j->gen = c->mitm_gen;
	j->cacert = gp_ca_x509(c->ca);
	j->cakey = gp_ca_pkey(c->ca);
	X509_up_ref(j->cacert);
	EVP_PKEY_up_ref(j->cakey);
	if ((j->leaf = c->leaf_key) != NULL)
		EVP_PKEY_up_ref(j->leaf);
	if (uv_queue_work(c->loop, &j->req, mitm_work, mitm_after) != 0) {
		gp_log(GP_LOG_WARN, "interception off: no worker thread");
		X509_free(j->cacert);
		EVP_PKEY_free(j->cakey);
		EVP_PKEY_free(j->leaf);
		free(j);
	}
}

void
gp_ctl_mitm_free(struct gp_ctl *c)
{
	c->px.mitm = NULL;
	gp_mitm_free(c->mitm);
	c->mitm = NULL;
	EVP_PKEY_free(c->leaf_key);
	c->leaf_key = NULL;
	gp_ca_free(c->ca);
	c->ca = NULL;
}

/* A load's outcome applied on the loop; takes ca and err. */
static int
loaded(struct gp_ctl *c, int rc, struct gp_ca *ca, char *err)
{
	if (rc == 0) {
		gp_ca_free(c->ca);
		c->ca = ca;
		c->ca_error[0] = '\0';
		gp_log(GP_LOG_INFO, "CA loaded");
		rebuild(c);
	} else if (rc == -ENOENT) {
		gp_ca_free(c->ca);
		c->ca = NULL;
		c->ca_error[0] = '\0';
		rebuild(c);
		gp_log(GP_LOG_INFO, "no CA in %s: HTTPS is tunnelled, not "
		    "intercepted (greyproxy cert generate)", c->cfg->data_dir);
	} else {
		/* The one in use, if any, stays. */
		snprintf(c->ca_error, sizeof c->ca_error, "%s", err);
		gp_log(GP_LOG_WARN, "CA in %s not loaded: %s", c->cfg->data_dir,
		    err);
		rc = -EINVAL;
	}
	free(err);
	return rc;
}

int
gp_ctl_cert_load(struct gp_ctl *c)
{
	struct gp_ca	*ca = NULL;
	char		*err = NULL;
	int		 rc = gp_ca_load(c->cfg->data_dir, &ca, &err);

	return loaded(c, rc, ca, err);
}

/* Generating (a key) and loading (files, a key check: milliseconds) run
 * on a worker; the outcome is applied on the loop. */
struct ca_job {
	uv_work_t	 req;
	struct gp_ctl	*c;
	char		*dir;
	int		 generate, force, rc;
	char		*err;
	struct gp_ca	*ca;
	int		 lrc;
	char		*lerr;
	void		(*done)(void *, int, const char *);
	void		*arg;
};

static void
ca_work(uv_work_t *req)
{
	struct ca_job *j = req->data;

	if (j->generate && (j->rc = gp_ca_generate(j->dir, j->force,
	    &j->err)) != 0)
		return;
	j->lrc = gp_ca_load(j->dir, &j->ca, &j->lerr);
}

static void
ca_after(uv_work_t *req, int status)
{
	struct ca_job	*j = req->data;
	struct gp_ctl	*c = j->c;

	if (j->generate)
		c->ca_generating = 0;
	if (status != 0 && j->rc == 0)
		j->rc = -ECANCELED;
	if (j->rc == 0 && c->started) {
		if (j->generate)
			gp_log(GP_LOG_INFO, "a new CA was generated");
		j->rc = loaded(c, j->lrc, j->ca, j->lerr);
		if (j->generate && j->rc != 0)
			j->rc = -EIO;
	} else {
		gp_ca_free(j->ca);
		free(j->lerr);
	}
	if (j->done != NULL)
		j->done(j->arg, j->rc, j->err != NULL ? j->err : c->ca_error);
	free(j->err);
	free(j->dir);
	free(j);
}

static int
queue_ca_job(struct gp_ctl *c, int generate, int force,
    void (*done)(void *, int, const char *), void *arg)
{
	struct ca_job	*j = gp_xcalloc(1, sizeof *j);
	int		 rc;

	j->req.data = j;
	j->c = c;
	j->dir = gp_xstrdup(c->cfg->data_dir);
	j->generate = generate;
	j->force = force;
	j->done = done;
	j->arg = arg;
	if ((rc = uv_queue_work(c->loop, &j->req, ca_work, ca_after)) != 0) {
		free(j->dir);
		free(j);
	}
	return rc;
}

int
gp_ctl_cert_load_async(struct gp_ctl *c,
    void (*done)(void *, int, const char *), void *arg)
{
	return queue_ca_job(c, 0, 0, done, arg);
}

int
gp_ctl_cert_generate_async(struct gp_ctl *c, int force,
    void (*done)(void *, int, const char *), void *arg)
{
	int rc;

	if (c->ca_generating)
		return -EBUSY;
	if ((rc = queue_ca_job(c, 1, force, done, arg)) == 0)
		c->ca_generating = 1;
	return rc;
}

void
gp_ctl_cert_info(struct gp_ctl *c, struct gp_ca_info *i, int *loaded)
{
	*loaded = c->ca != NULL;
	if (c->ca != NULL) {
		gp_ca_describe(c->ca, i);
		return;
	}
	memset(i, 0, sizeof *i);
	snprintf(i->cert_path, sizeof i->cert_path, "%s/%s",
	    c->cfg->data_dir, GP_CA_CERT);
	snprintf(i->key_path, sizeof i->key_path, "%s/%s", c->cfg->data_dir,
	    GP_CA_KEY);
	i->present = c->ca_error[0] != '\0';
	snprintf(i->error, sizeof i->error, "%s", c->ca_error);
}

char *
gp_ctl_cert_pem(struct gp_ctl *c)
{
	return gp_ca_cert_pem(c->ca);
}

const char *
gp_ctl_mitm_state(struct gp_ctl *c)
{
	if (!c->settings.mitm_enabled)
		return "off";
	if (c->px.mitm != NULL)
		return "on";
	if (c->ca != NULL)
		return "starting";
	return c->ca_error[0] != '\0' ? "invalid-ca" : "no-ca";
}

struct disk_job {
	uv_work_t		 req;
	char			*dir;
	int			 with_pem;
	struct gp_ca_disk	 d;
	gp_ctl_disk_fn		 fn;
	void			*arg;
};

static void
disk_work(uv_work_t *req)
{
	struct disk_job	*j = req->data;
	FILE		*fp;
	char		 buf[16384];

	gp_ca_inspect(j->dir, &j->d.info);
	j->d.installed = j->d.info.valid && gp_ca_installed(&j->d.info);
	if (j->with_pem && j->d.info.valid &&
	    (fp = fopen(j->d.info.cert_path, "re")) != NULL) {
		j->d.pem_len = fread(buf, 1, sizeof buf, fp);
		j->d.pem = gp_xstrndup(buf, j->d.pem_len);
		fclose(fp);
	}
}

static void
disk_after(uv_work_t *req, int status)
{
	struct disk_job *j = req->data;

	(void)status;
	j->fn(j->arg, &j->d);
	free(j->d.pem);
	free(j->dir);
	free(j);
}

int
gp_ctl_cert_disk_async(struct gp_ctl *c, int with_pem, gp_ctl_disk_fn fn,
    void *arg)
{
	struct disk_job	*j = gp_xcalloc(1, sizeof *j);
	int		 rc;

	j->req.data = j;
	j->dir = gp_xstrdup(c->cfg->data_dir);
	j->with_pem = with_pem;
	j->fn = fn;
	j->arg = arg;
	if ((rc = uv_queue_work(c->loop, &j->req, disk_work, disk_after)) !=
	    0) {
		free(j->dir);
		free(j);
	}
	return rc;
}
