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

/* The interception material from the CA and the leaf key, when both. */
static void
rebuild(struct gp_ctl *c)
{
	char *err = NULL;

	gp_mitm_free(c->mitm);
	c->mitm = NULL;
	if (c->ca != NULL && c->leaf_key != NULL &&
	    (c->mitm = gp_mitm_new(c->ca, c->leaf_key, 1024, &err)) == NULL) {
		gp_log(GP_LOG_WARN, "interception off: %s", err);
		free(err);
	}
	gp_ctl_mitm_apply(c);
}

void
gp_ctl_mitm_apply(struct gp_ctl *c)
{
	c->px.mitm = c->settings.mitm_enabled ? c->mitm : NULL;
}

struct key_job {
	uv_work_t	 req;
	struct gp_ctl	*c;
	EVP_PKEY	*key;
};

static void
key_work(uv_work_t *req)
{
	struct key_job *j = req->data;

	j->key = gp_mitm_keygen();
}

static void
key_after(uv_work_t *req, int status)
{
	struct key_job	*j = req->data;
	struct gp_ctl	*c = j->c;

	if (c->started && j->key != NULL) {
		c->leaf_key = j->key;
		rebuild(c);
	} else
		EVP_PKEY_free(j->key);
	free(j);
}

void
gp_ctl_mitm_start(struct gp_ctl *c)
{
	struct key_job *j = gp_xcalloc(1, sizeof *j);

	j->req.data = j;
	j->c = c;
	if (uv_queue_work(c->loop, &j->req, key_work, key_after) != 0) {
		gp_log(GP_LOG_WARN, "interception off: no worker thread for "
		    "its key");
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

int
gp_ctl_cert_load(struct gp_ctl *c)
{
	struct gp_ca	*ca;
	char		*err = NULL;
	int		 rc = gp_ca_load(c->cfg->data_dir, &ca, &err);

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

struct gen_job {
	uv_work_t	 req;
	struct gp_ctl	*c;
	char		*dir;
	int		 force, rc;
	char		*err;
	void		(*done)(void *, int, const char *);
	void		*arg;
};

static void
gen_work(uv_work_t *req)
{
	struct gen_job *j = req->data;

	j->rc = gp_ca_generate(j->dir, j->force, &j->err);
}

static void
gen_after(uv_work_t *req, int status)
{
	struct gen_job	*j = req->data;
	struct gp_ctl	*c = j->c;

	c->ca_generating = 0;
	if (status != 0 && j->rc == 0)
		j->rc = -ECANCELED;
	if (j->rc == 0 && c->started) {
		gp_log(GP_LOG_INFO, "a new CA was generated");
		if (gp_ctl_cert_load(c) != 0)
			j->rc = -EIO;
	}
	j->done(j->arg, j->rc, j->err != NULL ? j->err : c->ca_error);
	free(j->err);
	free(j->dir);
	free(j);
}

int
gp_ctl_cert_generate_async(struct gp_ctl *c, int force,
    void (*done)(void *, int, const char *), void *arg)
{
	struct gen_job	*j;
	int		 rc;

	if (c->ca_generating)
		return -EBUSY;
	j = gp_xcalloc(1, sizeof *j);
	j->req.data = j;
	j->c = c;
	j->dir = gp_xstrdup(c->cfg->data_dir);
	j->force = force;
	j->done = done;
	j->arg = arg;
	if ((rc = uv_queue_work(c->loop, &j->req, gen_work, gen_after)) != 0) {
		free(j->dir);
		free(j);
		return rc;
	}
	c->ca_generating = 1;
	return 0;
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
