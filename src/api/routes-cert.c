/*
 * routes-cert.c: the /api/cert routes, as the original: status, generate
 * (?force=true; the key is made on a worker, the reply follows),
 * download (the certificate, never the key), reload.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api-int.h"
#include "ctl/ctl.h"

/* certStatus: the files on disk (read on a worker), and what the
 * running core uses. */
static cJSON *
cert_status(struct gp_ctl *c, const struct gp_ca_disk *d)
{
	const struct gp_ca_info	*disk = &d->info;
	struct gp_ca_info	 used;
	int			 loaded;
	char			 when[21], cmd[9000];
	cJSON			*o = cJSON_CreateObject(), *ic;

	gp_ctl_cert_info(c, &used, &loaded);
	cJSON_AddBoolToObject(o, "generated", disk->present);
	cJSON_AddStringToObject(o, "certPath", disk->cert_path);
	cJSON_AddStringToObject(o, "keyPath", disk->key_path);
	if (disk->valid) {
		cJSON_AddStringToObject(o, "subject", disk->subject);
		gp_time_format_rfc3339(disk->not_after, when);
		cJSON_AddStringToObject(o, "expiresAt", when);
		cJSON_AddStringToObject(o, "fingerprint", disk->sha256);
	} else if (disk->present)
		cJSON_AddStringToObject(o, "error", disk->error);
	cJSON_AddBoolToObject(o, "installed", d->installed);
	cJSON_AddBoolToObject(o, "loaded", loaded);
	cJSON_AddBoolToObject(o, "loadedIsCurrent", loaded && disk->valid &&
	    strcmp(used.sha256, disk->sha256) == 0);
	cJSON_AddStringToObject(o, "interception", gp_ctl_mitm_state(c));
	ic = cJSON_AddObjectToObject(o, "installCommands");
	snprintf(cmd, sizeof cmd, "sudo install -m 0644 %s %s/%s && sudo %s",
	    disk->cert_path, gp_ca_trust_dir(), GP_CA_TRUST_NAME,
	    gp_ca_trust_update());
	cJSON_AddStringToObject(ic, "linux", cmd);
	snprintf(cmd, sizeof cmd, "sudo security add-trusted-cert -d -r "
	    "trustRoot -k /Library/Keychains/System.keychain %s",
	    disk->cert_path);
	cJSON_AddStringToObject(ic, "macos", cmd);
	return o;
}

/* A deferred reply that needs the files on disk first. */
struct disk_later {
	struct gp_ctl		*c;
	struct api_later	*later;
	const char		*message;	/* {message, certStatus} */
	int			 download;
};

static void
disk_ready(void *arg, const struct gp_ca_disk *d)
{
	struct disk_later	*g = arg;
	struct api_resp		 resp = { .status = 0 };
	cJSON			*o;

	if (g->download) {
		if (d->pem == NULL) {
			api_error(&resp, 404, "no CA: greyproxy cert generate");
			api_later_reply(g->later, resp.status, resp.json);
		} else {
			resp.status = 200;
			resp.raw = gp_xstrndup(d->pem, d->pem_len);
			resp.raw_len = d->pem_len;
			resp.content_type = "application/x-pem-file";
			resp.filename = "greyproxy-ca.pem";
			api_later_send(g->later, &resp);
		}
	} else if (g->message != NULL) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "message", g->message);
		cJSON_AddItemToObject(o, "certStatus", cert_status(g->c, d));
		ok_json(&resp, o);
		api_later_reply(g->later, resp.status, resp.json);
	} else {
		ok_json(&resp, cert_status(g->c, d));
		api_later_reply(g->later, resp.status, resp.json);
	}
	free(g);
}

/* Defers r's reply until the files are read; 0, or -1 answered. */
static int
after_disk(struct api_req *r, struct api_resp *resp, int download)
{
	struct disk_later *g;

	if (!api_can_defer(r)) {
		api_error(resp, 503, "cannot read the CA here");
		return -1;
	}
	g = gp_xcalloc(1, sizeof *g);
	g->c = r->ctl;
	g->download = download;
	g->later = api_defer(r, resp);
	if (gp_ctl_cert_disk_async(r->ctl, download, disk_ready, g) != 0) {
		api_undefer(r, resp);
		free(g);
		api_error(resp, 503, "no worker to read the CA");
		return -1;
	}
	return 0;
}

void
api_cert_status(struct api_req *r, struct api_resp *resp)
{
	after_disk(r, resp, 0);
}

struct gen_later {
	struct gp_ctl		*c;
	struct api_later	*later;
};

/* The reply goes on once the files are read: {message, certStatus}. */
static int
with_status(struct gen_later *g, const char *text)
{
	struct disk_later *d = gp_xcalloc(1, sizeof *d);

	d->c = g->c;
	d->later = g->later;
	d->message = text;
	if (gp_ctl_cert_disk_async(g->c, 0, disk_ready, d) != 0) {
		free(d);
		return -1;
	}
	free(g);
	return 0;
}

static void
generated(void *arg, int rc, const char *why)
{
	struct gen_later	*g = arg;
	struct api_resp		 resp = { .status = 0 };

	if (rc == 0 && with_status(g, "CA generated") == 0)
		return;
	if (rc == 0)
		api_error(&resp, 503, "no worker to read the CA");
	else
		api_errno(&resp, rc == -EBUSY ? -EBUSY : rc, why);
	api_later_reply(g->later, resp.status, resp.json);
	free(g);
}

void
api_cert_generate(struct api_req *r, struct api_resp *resp)
{
	struct gen_later	*g;
	char			 force[8] = "";
	int			 rc;

	if (!api_can_defer(r)) {
		api_error(resp, 503, "cannot generate a key here");
		return;
	}
	api_query(r, "force", force, sizeof force);
	g = gp_xcalloc(1, sizeof *g);
	g->c = r->ctl;
	rc = gp_ctl_cert_generate_async(r->ctl, strcmp(force, "true") == 0 ||
	    strcmp(force, "1") == 0, generated, g);
	if (rc != 0) {
		free(g);
		api_errno(resp, rc, rc == -EBUSY ? "a CA is being generated" :
		    NULL);
		return;
	}
	g->later = api_defer(r, resp);
}

/* The certificate, never the key; read on a worker. */
void
api_cert_download(struct api_req *r, struct api_resp *resp)
{
	after_disk(r, resp, 1);
}

static void
reloaded(void *arg, int rc, const char *why)
{
	struct gen_later	*g = arg;
	struct api_resp		 resp = { .status = 0 };

	if (rc == 0 && with_status(g, "CA reloaded") == 0)
		return;
	if (rc == 0)
		api_error(&resp, 503, "no worker to read the CA");
	else if (rc == -ENOENT)
		api_error(&resp, 503, "no CA to load: greyproxy cert generate");
	else
		api_error(&resp, 500, why != NULL && why[0] ? why :
		    "cannot load the CA");
	api_later_reply(g->later, resp.status, resp.json);
	free(g);
}

/* The files are read and checked on a worker; the reply follows. */
void
api_cert_reload(struct api_req *r, struct api_resp *resp)
{
	struct gen_later *g;

	if (!api_can_defer(r)) {
		api_error(resp, 503, "cannot load the CA here");
		return;
	}
	g = gp_xcalloc(1, sizeof *g);
	g->c = r->ctl;
	g->later = api_defer(r, resp);
	if (gp_ctl_cert_load_async(r->ctl, reloaded, g) != 0) {
		api_undefer(r, resp);
		free(g);
		api_error(resp, 503, "no worker to load the CA");
	}
}
