/*
 * capture.c: every HTTP transaction the proxy relays (plain, or inside
 * intercepted TLS) stored in SQLite: both heads with credentials
 * redacted (the stored copy only: what was forwarded is untouched),
 * bodies up to maxBodyBytes each (beyond: truncated and marked), sizes,
 * timings, and whether it completed — a client that hangs up early
 * still leaves its row.  A filter (http.h) collects; the loop only
 * queues; a worker with its own connection writes a batch per tick; then
 * each row is announced (transaction.new, no bodies).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "cred/cred.h"

#include "ctl/ctl.h"

#define QUEUE_BYTES	(64u * 1024 * 1024)	/* held for the writer */
#define PRUNE_STEP	500			/* conversations per step */
#define PRUNE_TX	20000	/* transactions per step, at most: a step a
				 * tick keeps up with 80 000 a second */
#define PRUNE_EVERY_MS	5000
#define ANNOUNCE_STEP	128	/* stored transactions freed per loop turn */

struct cap {
	struct gp_buf	body[2];	/* request, response */
	int		trunc[2];
};

struct gp_ctl_tx {
	struct gp_ctl_tx	*next;
	struct gp_tx_row	 row;
	int64_t			 id;
	char			*strs;		/* the next six, one block */
	char			*container, *host, *method, *url;
	char			*req_type, *resp_type;
	char			*req_headers, *resp_headers;
	char			*subst, *session_id;
	char			*coding[2];	/* Content-Encoding */
	int			 chunked[2];
	/* value, placeholder, ...: secrets that went out in the request,
	 * to be put back as placeholders wherever the answer echoes them */
	char			**secrets;
	size_t			 nsecrets;
	struct gp_buf		 body[2];
};

struct tx_job {
	uv_work_t		 req;
	struct gp_ctl		*c;
	struct gp_store		*st;		/* where the rows go */
	int			 lent;		/* st: the log writer's */
	struct gp_ctl_tx	*list;
	struct gp_ctl_tx	*at;		/* the next to write */
	int			 rc;
	int			 prune;		/* a retention step too */
	int64_t			 before, max_bytes;
	int			 pruned;
	int			 prune_more;	/* the step stopped short */
	size_t			 max_body;
	struct gp_session_count	*counts;	/* substitutions to store */
	size_t			 ncounts;
	struct gp_conv_step_in	 conv_in;
	struct gp_conv_txref	*fresh;		/* conv_in.fresh, owned */
	struct gp_conv_step_out	 conv_out;
	int			 conv_rc;
};

/* Redacted by default: these names, and names holding these words (the
 * globs *api-key* and so on, checked as substrings: every head of every
 * transaction passes here, on the loop). */
static const struct gp_lit builtin_names[] = {
	GP_LIT("authorization"), GP_LIT("proxy-authorization"),
	GP_LIT("cookie"), GP_LIT("set-cookie"),
};
static const struct gp_lit builtin_words[] = {
	GP_LIT("api-key"), GP_LIT("api_key"), GP_LIT("token"), GP_LIT("secret"),
};

/* Is a header redacted: built in, or one of the user's globs?  The name
 * lowered once (ASCII, as strcasecmp), then compared. */
static int
redacted_by(const char *globs, const char *name)
{
	char	lc[256];
	size_t	n, i, k;

	for (n = 0; name[n] != '\0'; n++) {
		if (n == sizeof lc)
			return 1;	/* no real header: kept from the screen */
		lc[n] = name[n] >= 'A' && name[n] <= 'Z' ?
		    (char)(name[n] + 32) : name[n];
	}
	for (k = 0; k < GP_ARRAY_LEN(builtin_names); k++)
		if (n == builtin_names[k].n &&
		    memcmp(lc, builtin_names[k].s, n) == 0)
			return 1;
	for (i = 0; i < n; i++)
		for (k = 0; k < GP_ARRAY_LEN(builtin_words); k++)
			if (lc[i] == builtin_words[k].s[0] &&
			    n - i >= builtin_words[k].n &&
			    memcmp(lc + i, builtin_words[k].s,
			    builtin_words[k].n) == 0)
				return 1;
	return gp_globs_match(globs, name);
}

static int
redacted(const struct gp_ctl *c, const char *name)
{
	return redacted_by(c->settings.redacted_headers, name);
}

/* A JSON string of s, escaped (RFC 8259 7); plain runs added whole. */
static void
json_str(struct gp_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *run;

	gp_buf_add(b, "\"", 1);
	while (*p != '\0') {
		for (run = p; *p != '\0' && *p != '"' && *p != '\\' &&
		    *p >= 0x20 && *p != 0x7f; p++)
			;
		if (p > run)
			gp_buf_add(b, run, (size_t)(p - run));
		if (*p == '\0')
			break;
		if (*p == '"' || *p == '\\') {
			char e[2] = { '\\', (char)*p };

			gp_buf_add(b, e, 2);
		} else {
			char e[6] = { '\\', 'u', '0', '0', hex[*p >> 4],
			    hex[*p & 15] };

			gp_buf_add(b, e, 6);
		}
		p++;
	}
	gp_buf_add(b, "\"", 1);
}

/*
 * {Name:[values]} with redacted values replaced; a name keeps the case
 * it first came in, its values in order.  Built directly (a head is a
 * few dozen headers: the quadratic grouping costs less than objects).
 */
static char *
heads_json(const struct gp_ctl *c, const struct gp_txn_head *h)
{
	struct gp_buf	 b = { 0 };
	size_t		 i, k;
	int		 first, red;

	for (i = 0, k = 2; i < h->nh; i++)	/* one allocation, mostly */
		k += h->h[i].name.n + h->h[i].value.n + 8;
	gp_buf_reserve(&b, k);
	gp_buf_add(&b, "{", 1);
	for (i = 0; i < h->nh; i++) {
		const char *name = h->h[i].name.p;

		for (k = 0; k < i; k++)
			if (h->h[k].name.n == h->h[i].name.n &&
			    strcasecmp(h->h[k].name.p, name) == 0)
				break;
		if (k < i)
			continue;		/* listed with the first */
		if (i > 0)
			gp_buf_add(&b, ",", 1);
		json_str(&b, name);
		gp_buf_add(&b, ":[", 2);
		first = 1;
		red = redacted(c, name);
		for (k = i; k < h->nh; k++) {
			if (k != i && (h->h[k].name.n != h->h[i].name.n ||
			    strcasecmp(h->h[k].name.p, name) != 0))
				continue;
			if (!first)
				gp_buf_add(&b, ",", 1);
			first = 0;
			json_str(&b, red ? "[REDACTED]" : h->h[k].value.p);
		}
		gp_buf_add(&b, "]", 1);
	}
	gp_buf_add(&b, "}", 2);		/* with its NUL */
	return b.data;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? gp_xstrdup(s) : NULL;
}

static void
tx_free(struct gp_ctl_tx *x)
{
	free(x->strs);
	free(x->req_headers);
	free(x->resp_headers);
	free(x->coding[0]);
	free(x->coding[1]);
	free(x->subst);
	free(x->session_id);
	for (size_t i = 0; i < x->nsecrets; i++)
		gp_secret_free(x->secrets[i]);
	free(x->secrets);
	gp_buf_free(&x->body[0]);
	gp_buf_free(&x->body[1]);
	free(x);
}

static void
cap_free(struct cap *k)
{
	if (k == NULL)
		return;
	gp_buf_free(&k->body[0]);
	gp_buf_free(&k->body[1]);
	free(k);
}

/* captureTransactions: all, those inside intercepted TLS, or none. */
static int
wanted(const struct gp_ctl *c, const struct gp_txn *t)
{
	return c->settings.capture == GP_CAPTURE_ALL ||
	    (c->settings.capture == GP_CAPTURE_INTERCEPTED && t->tls);
}

static void
on_body(void *arg, struct gp_txn *t, enum gp_txn_dir dir, const char *p,
    size_t n)
{
	struct gp_ctl	*c = arg;
	struct cap	*k = t->capture;
	size_t		 max = (size_t)c->settings.max_body_bytes, room;
	int		 d = dir == GP_TXN_REQUEST ? 0 : 1;

	if (!wanted(c, t))
		return;
	if (k == NULL)
		k = t->capture = gp_xcalloc(1, sizeof *k);
	room = k->body[d].len < max ? max - k->body[d].len : 0;
	if (n > room)
		k->trunc[d] = 1;
	if (room > 0)
		gp_buf_add(&k->body[d], p, n < room ? n : room);
}

static int
on_body_full(void *arg, struct gp_txn *t, enum gp_txn_dir dir)
{
	struct gp_ctl	*c = arg;
	struct cap	*k = t->capture;
	size_t		 len;

	if (!wanted(c, t))
		return 1;
	len = k != NULL ? k->body[dir == GP_TXN_REQUEST ? 0 : 1].len : 0;
	return len >= (size_t)c->settings.max_body_bytes;
}

/* The URL as the client meant it, into b: the absolute-form as sent
 * without any userinfo, else built from the destination. */
static void
tx_url(const struct gp_txn *t, struct gp_buf *b)
{
	char	target[4096];
	int	v6 = strchr(t->host, ':') != NULL;

	if (t->target[0] != '/') {
		gp_url_redact((struct gp_iov){ t->target, strlen(t->target) },
		    target, sizeof target);
		gp_buf_addstr(b, target);
		return;
	}
	gp_buf_addstr(b, t->tls ? (v6 ? "https://[" : "https://") :
	    (v6 ? "http://[" : "http://"));
	gp_buf_addstr(b, t->host);
	if (v6)
		gp_buf_add(b, "]", 1);
	if (t->port != (t->tls ? 443u : 80u)) {
		gp_buf_add(b, ":", 1);
		gp_buf_add_uint(b, t->port, 1);
	}
	gp_buf_addstr(b, t->target);
}

/* A row's fixed strings, copied into one block (x->strs); a NULL stays
 * NULL.  Every stored transaction passes here, on the loop. */
static void
tx_strings(struct gp_ctl_tx *x, const char *container, const char *host,
    const char *method, const char *url, const char *req_type,
    const char *resp_type)
{
	const char	*in[] = { container, host, method, url, req_type,
			    resp_type };
	char		**out[] = { &x->container, &x->host, &x->method,
			    &x->url, &x->req_type, &x->resp_type };
	size_t		 len[GP_ARRAY_LEN(in)], i, total = 0;
	char		*p;

	for (i = 0; i < GP_ARRAY_LEN(in); i++)
		total += len[i] = in[i] != NULL ? strlen(in[i]) + 1 : 0;
	p = x->strs = gp_xmalloc(total > 0 ? total : 1);
	for (i = 0; i < GP_ARRAY_LEN(in); i++) {
		*out[i] = in[i] != NULL ? memcpy(p, in[i], len[i]) : NULL;
		p += len[i];
	}
}

/* "A\nB" → ["A","B"] */
static char *
labels_json(const char *lines)
{
	cJSON	*a = cJSON_CreateArray();
	char	*copy = gp_xstrdup(lines ? lines : ""), *save, *l, *out;

	for (l = strtok_r(copy, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save))
		cJSON_AddItemToArray(a, cJSON_CreateString(l));
	free(copy);
	out = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	return out;
}

/* The credentials' values, with their placeholders, for unsubstitute(). */
static void
keep_secrets(struct gp_ctl *c, struct gp_ctl_tx *x)
{
	size_t i, n = 0;

	size_t total = c->ncreds, k;

	for (i = 0; i < c->nsessions; i++)
		total += c->sessions[i].nmap;
	x->secrets = gp_xcalloc(2 * total + 1, sizeof *x->secrets);
	for (i = 0; i < c->ncreds; i++) {
		if (c->creds[i].value == NULL)
			continue;
		x->secrets[n++] = gp_xstrdup(c->creds[i].value);
		x->secrets[n++] = gp_xstrdup(c->creds[i].placeholder);
	}
	for (i = 0; i < c->nsessions; i++)
		for (k = 0; k < c->sessions[i].nmap; k++) {
			x->secrets[n++] = gp_xstrdup(
			    c->sessions[i].map[k].value);
			x->secrets[n++] = gp_xstrdup(c->sessions[i].map[k].ph);
		}
	x->nsecrets = n;
}

/* Every occurrence of a secret in b (n bytes, b grown as needed: a
 * gp_buf) put back as its placeholder. */
static void
unsubstitute_buf(struct gp_buf *b, char **secrets, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2) {
		const char	*v = secrets[i], *ph = secrets[i + 1];
		size_t		 vl = strlen(v);
		struct gp_buf	 out = { 0 };
		const char	*p, *hit, *end;

		if (b->data == NULL || vl == 0 ||
		    memmem(b->data, b->len, v, vl) == NULL)
			continue;
		for (p = b->data, end = b->data + b->len;
		    (hit = memmem(p, (size_t)(end - p), v, vl)) != NULL;
		    p = hit + vl) {
			gp_buf_add(&out, p, (size_t)(hit - p));
			gp_buf_addstr(&out, ph);
		}
		gp_buf_add(&out, p, (size_t)(end - p));
		OPENSSL_cleanse(b->data, b->len);
		gp_buf_free(b);
		*b = out;
	}
}

/* A string field the same way (NULL stays NULL). */
static void
unsubstitute_str(char **s, char **secrets, size_t n)
{
	struct gp_buf b = { 0 };

	if (*s == NULL)
		return;
	gp_buf_addstr(&b, *s);
	unsubstitute_buf(&b, secrets, n);
	gp_buf_add(&b, "", 1);
	gp_secret_free(*s);
	*s = b.data;
}

/* What the worker needs to store a body as its data (prepare()). */
static void
framing(struct gp_ctl_tx *x, int d, const struct gp_txn_head *h)
{
	const char *te = gp_txn_header(h, "transfer-encoding");

	x->chunked[d] = te != NULL && gp_http_has_token((struct gp_iov){ te,
	    strlen(te) }, "chunked");
	x->coding[d] = dup_or_null(gp_txn_header(h, "content-encoding"));
}

/* The row's bodies: where they are now. */
static void
body_rows(struct gp_ctl_tx *x)
{
	x->row.req_body = x->body[0].data;
	x->row.req_len = x->body[0].len;
	x->row.resp_body = x->body[1].data;
	x->row.resp_len = x->body[1].len;
}

/* A row for the writer (held: what it weighs in the queue); its
 * fields pointed at the strings x owns. */
static void
enqueue(struct gp_ctl *c, struct gp_ctl_tx *x, size_t held)
{
	x->row.container = x->container;
	x->row.host = x->host;
	x->row.method = x->method;
	x->row.url = x->url;
	x->row.req_headers = x->req_headers;
	x->row.resp_headers = x->resp_headers;
	x->row.req_type = x->req_type;
	x->row.resp_type = x->resp_type;
	x->row.subst = x->subst;
	x->row.session_id = x->session_id;
	body_rows(x);
	c->tx_bytes += held;
	*c->tx_tail = x;
	c->tx_tail = &x->next;
}

static void
on_end(void *arg, struct gp_txn *t)
{
	struct gp_ctl		*c = arg;
	struct cap		*k = t->capture;
	struct gp_ctl_tx	*x;
	struct gp_buf		 url = { 0 };
	size_t			 held;

	t->capture = NULL;
	held = (k != NULL ? k->body[0].len + k->body[1].len : 0) + 4096;
	if (!wanted(c, t)) {
		cap_free(k);
		return;
	}
	if (c->tx_bytes + held > QUEUE_BYTES || t->host == NULL) {
		if (t->host != NULL)
			c->tx_dropped++;	/* the writer is behind */
		cap_free(k);
		return;
	}
	x = gp_xcalloc(1, sizeof *x);
	tx_url(t, &url);
	tx_strings(x, t->identity, t->host, t->method, url.data,
	    gp_txn_header(&t->req, "content-type"),
	    gp_txn_header(&t->resp, "content-type"));
	gp_buf_free(&url);
	x->req_headers = heads_json(c, &t->req);
	x->resp_headers = t->status > 0 && t->resp.nh > 0 ?
	    heads_json(c, &t->resp) : NULL;
	framing(x, 0, &t->req);
	if (t->status > 0)
		framing(x, 1, &t->resp);
	if (t->substituted) {
		keep_secrets(c, x);
		x->subst = labels_json(t->sub_labels);
		x->session_id = dup_or_null(t->session_id);
	}
	if (k != NULL) {
		x->body[0] = k->body[0];
		x->body[1] = k->body[1];
		x->row.req_trunc = k->trunc[0];
		x->row.resp_trunc = k->trunc[1];
		free(k);
	}
	x->row.ts = gp_now() - (int64_t)((t->t_end - t->t_start) / 1000000);
	x->row.port = t->port;
	x->row.req_size = (int64_t)t->req_body;
	x->row.resp_size = (int64_t)t->resp_body;
	x->row.status = t->status;
	x->row.duration_ms = (int64_t)((t->t_end - t->t_start) / 1000);
	x->row.first_byte_ms = t->t_first ? (int64_t)((t->t_first -
	    t->t_start) / 1000) : -1;
	x->row.complete = t->complete;
	x->row.tls = t->tls;
	enqueue(c, x, held);
}

/*
 * WebSocket: after a 101, each message in each direction is a row of its
 * own (method WS_REQ from the client, WS_RESP from the server, status
 * 101, the payload in request_body as the original stores it),
 * reassembled across fragments and, when permessage-deflate was agreed,
 * inflated with one context per direction (the client's offer is not
 * rewritten).  Inflating runs on the loop, at most maxBodyBytes per
 * message; a message cut there loses its direction's context, and later
 * compressed ones are stored as they came.
 */
struct ws_dir {
	struct ws_cap		*w;
	int			 d;
	struct gp_wsf		 f;
	struct gp_inflater	*inf;
	int			 dead;
};

struct ws_cap {
	struct gp_ctl	*c;
	char		*container, *host, *url;
	unsigned	 port;
	int		 tls;
	struct ws_dir	 dir[2];
};

static void
ws_message(void *arg, const struct gp_ws_msg *m)
{
	struct ws_dir		*wd = arg;
	struct ws_cap		*w = wd->w;
	struct gp_ctl		*c = w->c;
	struct gp_ctl_tx	*x;
	size_t			 held = m->n + 1024;
	int			 r;

	if (c->tx_bytes + held > QUEUE_BYTES) {
		c->tx_dropped++;
		return;
	}
	x = gp_xcalloc(1, sizeof *x);
	if (m->compressed && wd->inf != NULL) {
		r = gp_inflater_message(wd->inf, m->p, m->n,
		    (size_t)c->settings.max_body_bytes, &x->body[0]);
		if (r == GP_DECODE_BAD) {
			gp_log(GP_LOG_DEBUG, "websocket %s: a compressed %s "
			    "message does not inflate: stored as it came",
			    w->url, wd->d == 0 ? "client" : "server");
			gp_buf_reset(&x->body[0]);
			gp_buf_add(&x->body[0], m->p, m->n);
		}
		x->row.req_trunc = m->truncated || r == GP_DECODE_PARTIAL;
	} else {
		gp_buf_add(&x->body[0], m->p, m->n);
		x->row.req_trunc = m->truncated;
	}
	tx_strings(x, w->container, w->host, wd->d == 0 ? "WS_REQ" :
	    "WS_RESP", w->url, m->opcode == 1 ? "text/plain; charset=utf-8" :
	    "application/octet-stream", NULL);
	x->row.ts = gp_now();
	x->row.port = w->port;
	x->row.req_size = (int64_t)m->wire;
	x->row.status = 101;
	x->row.duration_ms = 0;
	x->row.first_byte_ms = -1;
	x->row.complete = 1;
	x->row.tls = w->tls;
	enqueue(c, x, held);
}

static void
ws_data(void *tap, enum gp_txn_dir dir, const char *p, size_t n)
{
	struct ws_cap	*w = tap;
	struct ws_dir	*wd = &w->dir[dir == GP_TXN_REQUEST ? 0 : 1];

	if (wd->dead || !w->c->started)
		return;
	if (gp_wsf_feed(&wd->f, p, n, ws_message, wd) != 0) {
		gp_log(GP_LOG_WARN, "websocket %s: %s frames not captured "
		    "from here on: %s", w->url, wd->d == 0 ? "client" :
		    "server", wd->f.error);
		wd->dead = 1;
	}
}

static void
ws_end(void *tap)
{
	struct ws_cap	*w = tap;
	int		 d;

	for (d = 0; d < 2; d++) {
		gp_wsf_free(&w->dir[d].f);
		gp_inflater_free(w->dir[d].inf);
	}
	free(w->container);
	free(w->host);
	free(w->url);
	free(w);
}

static const struct gp_tap_ops ws_tap = {
	.data = ws_data,
	.end = ws_end,
};

static const struct gp_tap_ops *
on_upgraded(void *arg, struct gp_txn *t, void **tap)
{
	struct gp_ctl	*c = arg;
	struct ws_cap	*w;
	const char	*up = gp_txn_header(&t->resp, "upgrade");
	const char	*ext = gp_txn_header(&t->resp,
	    "sec-websocket-extensions");
	struct gp_buf	 url = { 0 };
	int		 d, deflate;

	if (!wanted(c, t) || t->host == NULL || up == NULL ||
	    strcasecmp(up, "websocket") != 0)
		return NULL;
	deflate = ext != NULL && strcasestr(ext, "permessage-deflate") != NULL;
	w = gp_xcalloc(1, sizeof *w);
	w->c = c;
	w->container = gp_xstrdup(t->identity);
	w->host = gp_xstrdup(t->host);
	w->port = t->port;
	w->tls = t->tls;
	tx_url(t, &url);		/* http(s)://… → ws(s)://… */
	gp_xasprintf(&w->url, "ws%s", strncmp(url.data, "http", 4) == 0 ?
	    url.data + 4 : url.data);
	gp_buf_free(&url);
	for (d = 0; d < 2; d++) {
		w->dir[d].w = w;
		w->dir[d].d = d;
		gp_wsf_init(&w->dir[d].f, (size_t)c->settings.max_body_bytes);
		if (deflate && (w->dir[d].inf = gp_inflater_new()) == NULL)
			w->dir[d].dead = 1;
	}
	*tap = w;
	return &ws_tap;
}

static const struct gp_http_filter_ops capture = {
	.name = "capture",
	.body = on_body,
	.body_full = on_body_full,
	.end = on_end,
	.upgraded = on_upgraded,
};

void
gp_ctl_capture_attach(struct gp_ctl *c)
{
	c->tx_tail = &c->tx_head;
	c->conv_version = -1;
	gp_proxy_add_filter(&c->px, &capture, c);
}

/*
 * Worker: a captured body as its data — chunked framing removed, and a
 * text or JSON body's Content-Encoding undone (capped at max; what a
 * cut-short capture holds decodes to its prefix, marked truncated).
 * A body that does not decode is stored as it came.
 */
static void
prepare(struct gp_ctl_tx *x, int d, const char *type, size_t max)
{
	struct gp_buf	 out = { 0 };
	int		*trunc = d == 0 ? &x->row.req_trunc : &x->row.resp_trunc;
	int		 r;

	if (x->body[d].len == 0)
		return;
	if (x->chunked[d]) {
		r = gp_http_dechunk(x->body[d].data, x->body[d].len, &out);
		if (r == GP_DECODE_BAD) {
			gp_log(GP_LOG_DEBUG, "transaction %s: malformed "
			    "chunked %s body kept as relayed", x->url,
			    d == 0 ? "request" : "response");
			gp_buf_free(&out);
		} else {
			gp_buf_free(&x->body[d]);
			x->body[d] = out;
			memset(&out, 0, sizeof out);
		}
	}
	if (x->coding[d] == NULL || !gp_http_type_is_text(type))
		return;
	r = gp_http_decode(x->coding[d], x->body[d].data, x->body[d].len,
	    max, &out);
	if (r == GP_DECODE_OK || r == GP_DECODE_PARTIAL) {
		gp_buf_free(&x->body[d]);
		x->body[d] = out;
		if (r == GP_DECODE_PARTIAL)
			*trunc = 1;
		return;
	}
	if (r == GP_DECODE_BAD)
		gp_log(GP_LOG_DEBUG, "transaction %s: %s body not decodable "
		    "as %s: kept as relayed", x->url, d == 0 ? "request" :
		    "response", x->coding[d]);
	gp_buf_free(&out);
}

/* Decoded, echoed secrets put back as placeholders, rows pointed. */
static void
prepare_one(struct gp_ctl_tx *x, size_t max)
{
	prepare(x, 0, x->req_type, max);
	prepare(x, 1, x->resp_type, max);
	if (x->nsecrets > 0) {	/* echoed back: stored as placeholders */
		unsubstitute_buf(&x->body[0], x->secrets, x->nsecrets);
		unsubstitute_buf(&x->body[1], x->secrets, x->nsecrets);
		unsubstitute_str(&x->resp_headers, x->secrets, x->nsecrets);
		x->row.resp_headers = x->resp_headers;
	}
	/* never substituted in a body: said when one is there */
	x->row.placeholder_in_body = x->body[0].data != NULL &&
	    memmem(x->body[0].data, x->body[0].len,
	    "greyproxy:credential:v1:", 24) != NULL;
	body_rows(x);
}

/*
 * A step: transactions prepared and inserted in one SQLite transaction,
 * until the list ends or a starved lane gives way (then 1: the rest in
 * the next step).  A failure drops what is left (ids 0, counted).
 */
static int
tx_step(void *arg)
{
	struct tx_job		*j = arg;
	struct gp_ctl_tx	*x = j->at, *y;
	int			 rc;

	if (x == NULL)
		return 0;
	if ((rc = gp_store_tx_batch_begin(j->st)) == 0) {
		int64_t	first = 0, last = 0;
		int	end;

		while (x != NULL) {
			prepare_one(x, j->max_body);
			if ((rc = gp_store_tx_insert(j->st, &x->row,
			    &x->id)) != 0)
				break;
			if (first == 0)
				first = x->id;
			last = x->id;
			x = x->next;
			if (gp_lane_yield() || gp_store_urgent())
				break;
		}
		if ((end = gp_store_tx_batch_end(j->st, first, last,
		    rc == 0)) != 0 && rc == 0)
			rc = end;
	}
	if (rc != 0) {
		for (y = j->at; y != NULL; y = y->next)
			y->id = 0;
		j->rc = rc;
		x = NULL;
	}
	j->at = x;
	return x != NULL;
}

/* The conversation step (conv.c), on the same connection. */
static int
conv_step(void *arg)
{
	struct tx_job *j = arg;

	j->conv_rc = gp_conv_step(&j->c->conv_env, j->st, &j->conv_in,
	    &j->conv_out);
	return 0;
}

/* The rows just stored, for the conversation step to read from memory
 * (all of them or none: a failed batch's rows have no id). */
static void
fresh(struct tx_job *j)
{
	struct gp_conv_txref	*r;
	struct gp_ctl_tx	*x;
	size_t			 n = 0;

	if (j->rc != 0 || j->list == NULL)
		return;
	for (x = j->list; x != NULL; x = x->next)
		n++;
	r = gp_xcalloc(n, sizeof *r);
	for (n = 0, x = j->list; x != NULL; x = x->next, n++) {
		r[n].id = x->id;
		r[n].host = x->row.host;
		r[n].method = x->row.method;
		r[n].url = x->row.url;
		r[n].req_type = x->row.req_type;
		/* as length(request_body): NULL when nothing was sent */
		r[n].req_len = x->row.req_size > 0 ? (int64_t)x->row.req_len :
		    0;
	}
	j->fresh = r;
	j->conv_in.fresh = r;
	j->conv_in.nfresh = n;
}

/*
 * Where the rows go: the connection log writer's connection, borrowed
 * between its batches (one writer for the database: see store/writer.c),
 * else a connection of its own.  NULL: none could be opened.
 */
static struct gp_store *
tx_conn(struct tx_job *j)
{
	struct gp_ctl	*c = j->c;
	struct gp_store	*st;
	char		*err = NULL;

	if ((st = gp_store_writer_lend(c->store)) != NULL) {
		j->lent = 1;
		return st;
	}
	if (c->tx_store == NULL &&
	    gp_store_open(c->db_path, &c->tx_store, &err) != 0) {
		gp_log(GP_LOG_ERROR, "transactions: %s", err);
		free(err);
		return NULL;
	}
	gp_store_set_quiet(c->tx_store, 1);
	/* statement journals (conversation upserts) in memory */
	gp_store_set_temp_memory(c->tx_store);
	return c->tx_store;
}

static void
tx_work(uv_work_t *req)
{
	struct tx_job	*j = req->data;

	if ((j->st = tx_conn(j)) == NULL) {
		j->rc = -1;
		return;
	}
	if (!j->c->tx_lane_tried) {	/* one job at a time: no race */
		j->c->tx_lane = gp_lane_start();
		j->c->tx_lane_tried = 1;
	}
	j->at = j->list;
	gp_lane_run(j->c->tx_lane, tx_step, j);
	if (j->prune) {
		j->pruned = gp_store_tx_prune(j->st, j->before, j->max_bytes,
		    PRUNE_TX, &j->prune_more);
		/* conversations go with the age of their transactions */
		if (j->before > 0)
			gp_store_conv_prune(j->st, j->before, PRUNE_STEP);
	}
	if (j->ncounts > 0 && gp_store_begin(j->st) == 0) {
		size_t i;

		for (i = 0; i < j->ncounts; i++)
			gp_store_session_count(j->st, j->counts[i].id,
			    j->counts[i].n);
		gp_store_commit(j->st);
	}
	/* conversations from what is stored (conv.c): same connection */
	fresh(j);
	gp_lane_run(j->c->tx_lane, conv_step, j);
	free(j->fresh);
	j->fresh = NULL;
	j->conv_in.fresh = NULL;
	j->conv_in.nfresh = 0;
	if (j->lent)
		gp_store_writer_back(j->c->store);
}

/* Loop: conversation.updated for each id, rebuild progress, and the
 * next step at once while transactions are left to read. */
static void
conv_after(struct gp_ctl *c, struct tx_job *j)
{
	struct gp_conv_step_out	*o = &j->conv_out;
	size_t			 i;

	if (j->conv_rc != 0) {
		gp_log(GP_LOG_ERROR, "conversations: %s",
		    gp_ctl_strerror(j->conv_rc));
		c->conv_more = 0;
		return;
	}
	if (o->rebuilt) {
		c->conv_rebuilding = 1;
		c->conv_done = 0;
		c->conv_total = o->processed + o->remaining;
	}
	c->conv_version = GP_ASSEMBLER_VERSION;
	c->conv_more = o->remaining > 0;
	for (i = 0; i < o->nids && c->started; i++)
		gp_bus_emit(&c->bus, GP_EV_CONVERSATION_UPDATED, o->ids[i]);
	if (c->conv_rebuilding) {
		struct gp_maint_progress p = { 0 };

		c->conv_done += o->processed;
		p.task = "rebuild_conversations";
		p.processed = c->conv_done;
		p.total = c->conv_done + o->remaining;
		p.changed = (int64_t)o->nids;
		p.done = !c->conv_more;
		if (c->started)
			gp_bus_emit(&c->bus, GP_EV_MAINTENANCE_PROGRESS, &p);
		if (p.done) {
			c->conv_rebuilding = 0;
			gp_log(GP_LOG_INFO, "conversations rebuilt from %lld "
			    "transactions", (long long)c->conv_done);
		}
	}
	gp_conv_step_out_free(o);
}

/*
 * Announces up to n transactions of the batch just stored (all: 0) and
 * frees them; after the last, the next batch may go.  A batch holds a
 * tick's worth (thousands at a high rate): emitting and freeing it at
 * once held the loop for milliseconds four times a second, the tail of
 * every request behind it.
 */
static void
announce(struct gp_ctl *c, size_t n)
{
	struct gp_ctl_tx	*x;
	size_t			 i;

	for (i = 0; c->ann_head != NULL && (n == 0 || i < n); i++) {
		x = c->ann_head;
		c->ann_head = x->next;
		if (x->id > 0 && c->started) {
			struct gp_tx_event ev = { x->id, &x->row };

			gp_bus_emit(&c->bus, GP_EV_TRANSACTION_NEW, &ev);
		} else if (x->id <= 0)
			c->tx_dropped++;
		tx_free(x);
	}
	if (c->ann_head != NULL || !c->started)
		return;
	uv_idle_stop(&c->announce);
	c->tx_writing = 0;
	if (c->conv_more)
		gp_ctl_capture_flush(c);
}

static void
on_announce(uv_idle_t *h)
{
	announce(h->data, ANNOUNCE_STEP);
}

static void
tx_after(uv_work_t *req, int status)
{
	struct tx_job		*j = req->data;
	struct gp_ctl		*c = j->c;

	/* Something to do, or done just now (at the cap, each tick's rows
	 * push it over again): the next step at the next tick. */
	if (j->pruned > 0)
		c->tx_pruned += (uint64_t)j->pruned;
	if (j->pruned > 0 || j->prune_more)
		c->tx_prune_at = 0;
	/* Said once per episode, as the connection log's failures. */
	if (j->rc != 0 && !c->tx_failing)
		gp_log(GP_LOG_ERROR, "transactions cannot be stored (%s): "
		    "they are dropped and counted until writes succeed again",
		    gp_ctl_strerror(j->rc));
	else if (j->rc == 0 && c->tx_failing)
		gp_log(GP_LOG_WARN, "transactions are stored again");
	c->tx_failing = j->rc != 0;
	conv_after(c, j);
	c->ann_head = j->list;
	free(j->counts);
	free(j);
	if (c->started)		/* tx_writing stays until it is done */
		uv_idle_start(&c->announce, on_announce);
	else
		announce(c, 0);
}

/* The loop's tick: the queue to a worker, one batch at a time. */
void
gp_ctl_capture_flush(struct gp_ctl *c)
{
	struct tx_job		*j;
	struct gp_session_count	*counts = NULL;
	size_t			 ncounts;
	uint64_t		 now = uv_now(c->loop);
	int			 prune = now >= c->tx_prune_at;

	if (c->tx_writing)
		return;
	ncounts = gp_ctl_session_counts(c, &counts);
	if (c->tx_head == NULL && !prune && !c->conv_more &&
	    !c->conv_rebuild && ncounts == 0)
		return;
	j = gp_xcalloc(1, sizeof *j);
	j->counts = counts;
	j->ncounts = ncounts;
	j->req.data = j;
	j->c = c;
	j->list = c->tx_head;
	j->max_body = (size_t)c->settings.max_body_bytes;
	j->conv_in.enabled = c->settings.conversations;
	j->conv_in.rebuild = c->conv_rebuild;
	j->conv_in.rules_gen = c->endpoint_gen + 1;	/* 0: never loaded */
	if (prune) {
		j->prune = 1;
		j->before = c->settings.tx_retention_days > 0 ? gp_now() -
		    (int64_t)c->settings.tx_retention_days * 86400 : 0;
		j->max_bytes = (int64_t)c->settings.tx_max_mb << 20;
		c->tx_prune_at = now + PRUNE_EVERY_MS;
	}
	if (uv_queue_work(c->loop, &j->req, tx_work, tx_after) != 0) {
		free(j->counts);
		free(j);
		return;
	}
	c->tx_head = NULL;
	c->tx_tail = &c->tx_head;
	c->tx_bytes = 0;
	c->tx_writing = 1;
	c->conv_rebuild = 0;
}

/* After the loop: what is still queued, written on the main connection. */
void
gp_ctl_capture_free(struct gp_ctl *c)
{
	struct gp_ctl_tx *x, *next;

	gp_lane_stop(c->tx_lane);
	c->tx_lane = NULL;
	if (c->tx_head != NULL && c->store != NULL) {
		struct tx_job j = { .st = c->store, .at = c->tx_head,
		    .max_body = (size_t)c->settings.max_body_bytes };

		while (tx_step(&j))
			;
	}
	for (x = c->tx_head; x != NULL; x = next) {
		next = x->next;
		tx_free(x);
	}
	c->tx_head = NULL;
	c->tx_tail = &c->tx_head;
	for (x = c->ann_head; x != NULL; x = next) {	/* stored, unsaid */
		next = x->next;
		tx_free(x);
	}
	c->ann_head = NULL;
	gp_store_close(c->tx_store);
	c->tx_store = NULL;
	gp_conv_env_free(c->conv_env);
	c->conv_env = NULL;
}

struct txq_job {
	uv_work_t		 w;
	struct gp_ctl		*c;
	struct gp_tx_filter	 f;		/* strings owned */
	struct gp_tx_stored	*rows;
	size_t			 n;
	int64_t			 total;
	int			 rc;
	gp_ctl_tx_fn		 fn;
	void			*arg;
};

static void
txq_free(struct txq_job *j)
{
	free((char *)j->f.container);
	free((char *)j->f.destination);
	free((char *)j->f.method);
	free((char *)j->f.session_id);
	free((char *)j->f.search);
	gp_store_tx_free(j->rows, j->n);
	free(j);
}

/* Worker: through the core's one reader connection. */
static void
txq_run(uv_work_t *w)
{
	struct txq_job	*j = w->data;
	struct gp_ctl	*c = j->c;
	struct gp_store	*r = gp_ctl_reader_lock(c);

	j->rc = r == NULL ? -1 : gp_store_tx_query(r, &j->f, &j->rows, &j->n,
	    &j->total);
	uv_mutex_unlock(&c->reader_mu);
}

static void
txq_done(uv_work_t *w, int status)
{
	struct txq_job *j = w->data;

	j->fn(j->arg, status != 0 ? -1 : j->rc, j->rows, j->n, j->total);
	txq_free(j);
}

int
gp_ctl_tx_query_async(struct gp_ctl *c, const struct gp_tx_filter *f,
    gp_ctl_tx_fn fn, void *arg)
{
	struct txq_job *j;

	if (c->db_path == NULL || !c->reader_mu_ok)
		return -1;
	j = gp_xcalloc(1, sizeof *j);
	j->w.data = j;
	j->c = c;
	j->f = *f;
	j->f.container = dup_or_null(f->container);
	j->f.destination = dup_or_null(f->destination);
	j->f.method = dup_or_null(f->method);
	j->f.session_id = dup_or_null(f->session_id);
	j->f.search = dup_or_null(f->search);
	j->fn = fn;
	j->arg = arg;
	if (uv_queue_work(c->loop, &j->w, txq_run, txq_done) != 0) {
		txq_free(j);
		return -1;
	}
	return 0;
}

/*
 * POST /api/maintenance/redact-headers: today's redaction applied to
 * every stored head (after redactedHeaders changed), in batches of 500
 * rows, one worker job each on its own connection; progress announced
 * after each (maintenance.progress).  The patterns are those of the
 * moment it started.
 */
#define REDACT_BATCH	500

struct redact_job {
	uv_work_t	 w;
	struct gp_ctl	*c;
	struct gp_store	*st;
	char		*globs;
	int64_t		 after, total, processed, changed;
	int		 rc, seen, last;
};

/* A stored head {Name:[values]} with today's redaction, or NULL. */
static char *
reredact(void *arg, const char *json)
{
	const char	*globs = arg;
	cJSON		*o = cJSON_Parse(json), *h, *v;
	char		*out = NULL;
	int		 changed = 0;

	if (o == NULL)
		return NULL;
	cJSON_ArrayForEach(h, o) {
		if (h->string == NULL || !redacted_by(globs, h->string))
			continue;
		cJSON_ArrayForEach(v, h)
			if (cJSON_IsString(v) &&
			    strcmp(v->valuestring, "[REDACTED]") != 0 &&
			    cJSON_SetValuestring(v, "[REDACTED]") != NULL)
				changed = 1;
	}
	if (changed)
		out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

static void
redact_run(uv_work_t *w)
{
	struct redact_job	*j = w->data;
	char			*err = NULL;
	int			 changed = 0;

	if (j->st == NULL) {
		if (gp_store_open(j->c->db_path, &j->st, &err) != 0) {
			gp_log(GP_LOG_ERROR, "redaction: %s", err);
			free(err);
			j->rc = -EIO;
			return;
		}
		gp_store_set_quiet(j->st, 1);
		j->total = gp_store_tx_count(j->st);
	}
	j->seen = gp_store_tx_rewrite_heads(j->st, &j->after, REDACT_BATCH,
	    reredact, j->globs, &changed);
	if (j->seen < 0) {
		j->rc = j->seen;
		j->seen = 0;
	}
	j->processed += j->seen;
	j->changed += changed;
	j->last = j->rc != 0 || j->seen == 0;	/* a batch may end early */
	if (j->last) {
		gp_store_close(j->st);
		j->st = NULL;
	}
}

/* Loop: the batch's progress announced, then the next one queued (j is
 * the worker's again from then on) or the job ended. */
static void
redact_done(uv_work_t *w, int status)
{
	struct redact_job		*j = w->data;
	struct gp_ctl			*c = j->c;
	struct gp_maint_progress	 p;

	if (!j->last && (status != 0 || !c->started)) {
		/* cancelled, or the loop is ending: stop here */
		gp_store_close(j->st);
		j->st = NULL;
		j->last = 1;
		j->rc = -ECANCELED;
	}
	memset(&p, 0, sizeof p);
	p.task = "redact_headers";
	p.processed = j->processed;
	p.total = j->total > j->processed ? j->total : j->processed;
	p.changed = j->changed;
	p.done = j->last;
	p.error = j->rc != 0 ? gp_ctl_strerror(j->rc) : NULL;
	if (c->started)
		gp_bus_emit(&c->bus, GP_EV_MAINTENANCE_PROGRESS, &p);
	if (!j->last &&
	    uv_queue_work(c->loop, &j->w, redact_run, redact_done) == 0)
		return;
	if (!j->last) {
		gp_store_close(j->st);
		j->rc = -EAGAIN;
	}
	if (j->rc != 0)
		gp_log(GP_LOG_ERROR, "redaction stopped after %lld rows: %s",
		    (long long)j->processed, gp_ctl_strerror(j->rc));
	else
		gp_log(GP_LOG_INFO, "redaction: %lld stored transactions "
		    "checked, %lld rewritten", (long long)j->processed,
		    (long long)j->changed);
	c->redacting = 0;
	free(j->globs);
	free(j);
}

int
gp_ctl_tx_redact_start(struct gp_ctl *c)
{
	struct redact_job *j;

	if (c->db_path == NULL)
		return -ENOENT;
	if (c->redacting)
		return -EBUSY;
	j = gp_xcalloc(1, sizeof *j);
	j->w.data = j;
	j->c = c;
	j->globs = gp_xstrdup(c->settings.redacted_headers);
	if (uv_queue_work(c->loop, &j->w, redact_run, redact_done) != 0) {
		free(j->globs);
		free(j);
		return -EAGAIN;
	}
	c->redacting = 1;
	return 0;
}
