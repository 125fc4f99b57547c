/*
 * routes-tx.c: /api/transactions, as the original: a page of stored
 * transactions (filters container, destination, method, from_date,
 * to_date; limit, offset; {items, total, page, pages}, no bodies), and
 * one with its bodies — as text when they are UTF-8, else marked binary
 * and given in base64.  Read on a worker; the reply follows.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "api/api-int.h"
#include "ctl/ctl.h"

struct txq {
	struct api_later	*later;
	int			 one;		/* /:id */
	int			 limit, offset;
};

static int
utf8_text(const unsigned char *p, size_t n)
{
	size_t	i = 0, k, len;

	while (i < n) {
		if (p[i] == 0)
			return 0;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		len = p[i] >= 0xf0 && p[i] < 0xf5 ? 4 : p[i] >= 0xe0 ? 3 :
		    p[i] >= 0xc2 && p[i] < 0xe0 ? 2 : 0;
		if (len == 0 || (p[i] >= 0xf0 && len != 4) || i + len > n)
			return 0;
		for (k = 1; k < len; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
		i += len;
	}
	return 1;
}

static void
add_body(cJSON *o, const char *key, const void *p, size_t n, int64_t size)
{
	char	name[48], *b64;

	if (size <= 0 || p == NULL) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	if (utf8_text(p, n)) {
		cJSON_AddStringToObject(o, key, p);
		return;
	}
	cJSON_AddNullToObject(o, key);
	snprintf(name, sizeof name, "%s_binary", key);
	cJSON_AddBoolToObject(o, name, 1);
	b64 = gp_xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, p, (int)n);
	snprintf(name, sizeof name, "%s_base64", key);
	cJSON_AddStringToObject(o, name, b64);
	free(b64);
}

static void
answered(void *arg, int rc, struct gp_tx_stored *v, size_t n, int64_t total)
{
	struct txq	*q = arg;
	struct api_resp	 resp = { .status = 0 };
	cJSON		*o, *items, *one;
	size_t		 i;

	if (rc != 0)
		api_error(&resp, 500, "database error");
	else if (q->one) {
		if (n == 0)
			api_error(&resp, 404, "not found");
		else {
			one = gp_json_tx(v[0].id, &v[0].row);
			add_body(one, "request_body", v[0].row.req_body,
			    v[0].row.req_len, v[0].row.req_size);
			add_body(one, "response_body", v[0].row.resp_body,
			    v[0].row.resp_len, v[0].row.resp_size);
			ok_json(&resp, one);
		}
	} else {
		o = cJSON_CreateObject();
		items = cJSON_AddArrayToObject(o, "items");
		for (i = 0; i < n; i++)
			cJSON_AddItemToArray(items, gp_json_tx(v[i].id,
			    &v[i].row));
		cJSON_AddNumberToObject(o, "total", (double)total);
		cJSON_AddNumberToObject(o, "page",
		    (double)(q->offset / q->limit + 1));
		cJSON_AddNumberToObject(o, "pages",
		    (double)((total + q->limit - 1) / q->limit));
		ok_json(&resp, o);
	}
	api_later_reply(q->later, resp.status, resp.json);
	free(q);
}

static void
run(struct api_req *r, struct api_resp *resp, struct gp_tx_filter *f,
    int one)
{
	struct txq *q;

	if (!api_can_defer(r)) {
		api_error(resp, 503, "no worker for the query");
		return;
	}
	q = gp_xcalloc(1, sizeof *q);
	q->one = one;
	q->limit = f->limit;
	q->offset = f->offset;
	q->later = api_defer(r, resp);
	if (gp_ctl_tx_query_async(r->ctl, f, answered, q) != 0) {
		api_undefer(r, resp);
		free(q);
		api_error(resp, 503, "no worker for the query");
	}
}

void
api_tx_list(struct api_req *r, struct api_resp *resp)
{
	struct gp_tx_filter	f;
	char			cont[256], dest[256], method[32], sid[96];
	char			q[256];

	memset(&f, 0, sizeof f);
	if (qpage(r, resp, &f.limit, &f.offset) != 0)
		return;
	f.session_id = qstr(r, "session_id", sid, sizeof sid);
	f.container = qstr(r, "container", cont, sizeof cont);
	f.destination = qstr(r, "destination", dest, sizeof dest);
	f.method = qstr(r, "method", method, sizeof method);
	f.search = qstr(r, "search", q, sizeof q);
	if (qtimes(r, resp, &f.from, &f.to) != 0)
		return;
	run(r, resp, &f, 0);
}

void
api_tx_get(struct api_req *r, struct api_resp *resp)
{
	struct gp_tx_filter f;

	memset(&f, 0, sizeof f);
	if (param_id(r, resp, &f.id) != 0)
		return;
	f.limit = 1;
	run(r, resp, &f, 1);
}

/* POST /api/maintenance/redact-headers: started, progress by events. */
void
api_tx_redact(struct api_req *r, struct api_resp *resp)
{
	int rc = gp_ctl_tx_redact_start(r->ctl);
	cJSON *o;

	if (rc == -EBUSY) {
		api_error(resp, 409, "redaction already running");
		return;
	}
	if (rc != 0) {
		api_errno(resp, rc, "redaction could not start");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "status", "redaction started");
	ok_json(resp, o);
}
