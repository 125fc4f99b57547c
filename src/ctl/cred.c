/*
 * cred.c: global credentials and their substitution.
 *
 * Credentials live in memory (the value in plaintext, wiped when
 * dropped) and in SQLite sealed with session.key (cred/vault.c); a row
 * that cannot be opened (no key, another key) stays stored, is listed
 * as unreadable and named in the log, never dropped silently.
 *
 * A filter on the outgoing request head: the capture filter has kept the
 * head as the client sent it (placeholders, then redaction); here every
 * placeholder in a header value or in the query of the target becomes
 * its value, in the bytes that go upstream only.  Beyond the original, a
 * credential is bound: only inside intercepted TLS (never sent in clear
 * to a hop that could read it) and, when it names destinations, only to
 * those hosts.  A placeholder sent elsewhere is not substituted; the
 * request is refused (403 blocked-credential-destination or
 * -plaintext), logged and announced (credential.blocked) as a possible
 * exfiltration.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cred/cred.h"
#include "ctl/ctl.h"

#define PH_PREFIX	"greyproxy:credential:v1:"
#define VALUE_MAX	8192

static void
cred_clear(struct gp_cred *k)
{
	gp_secret_free(k->value);
	free(k->hosts);
	memset(k, 0, sizeof *k);
}

static void
key_forget(struct gp_ctl *c)
{
	OPENSSL_cleanse(c->vkey, sizeof c->vkey);
	c->vkey_ok = 0;
}

/* The key, made on first use when asked; 0 or -errno (logged). */
int
gp_ctl_vault_key(struct gp_ctl *c, int create)
{
	char	*err = NULL;
	int	 rc;

	if (c->vkey_ok)
		return 0;
	rc = gp_vault_key_load(c->cfg->data_dir, create, c->vkey, &err);
	if (rc == 0)
		c->vkey_ok = 1;
	else if (err != NULL)
		gp_log(GP_LOG_ERROR, "credentials: %s", err);
	free(err);
	return rc;
}

void
gp_ctl_creds_load(struct gp_ctl *c)
{
	struct gp_cred_row	*v;
	struct gp_buf		 bad = { 0 };
	size_t			 n, i, nbad = 0;
	int			 keyrc;

	if (gp_store_creds_load(c->store, &v, &n) != 0 || n == 0) {
		if (n == 0)
			gp_store_creds_free(v, n);
		return;
	}
	keyrc = gp_ctl_vault_key(c, 0);
	c->creds = gp_xcalloc(n, sizeof *c->creds);
	c->ncreds = c->capcreds = n;
	for (i = 0; i < n; i++) {
		struct gp_cred *k = &c->creds[i];

		memcpy(k->id, v[i].id, sizeof k->id);
		memcpy(k->label, v[i].label, sizeof k->label);
		memcpy(k->placeholder, v[i].placeholder, sizeof k->placeholder);
		memcpy(k->preview, v[i].preview, sizeof k->preview);
		k->hosts = v[i].hosts;
		v[i].hosts = NULL;
		k->created_at = v[i].created_at;
		if (keyrc != 0 || gp_vault_open(c->vkey, v[i].value_enc,
		    v[i].value_len, &k->value, NULL) != 0) {
			gp_buf_printf(&bad, "%s%s", nbad ? ", " : "",
			    k->label);
			nbad++;
		} else {
			/* A preview stored by an older rule (or the
			 * original's) may show most of the secret, or all. */
			char pv[sizeof k->preview];

			gp_secret_preview(k->value, pv, sizeof pv);
			if (strcmp(pv, k->preview) != 0) {
				memcpy(k->preview, pv, sizeof pv);
				(void)gp_store_cred_set_preview(c->store,
				    k->id, pv);
			}
		}
	}
	gp_store_creds_free(v, n);
	if (nbad > 0) {
		gp_log(GP_LOG_ERROR, "credentials: %zu of %zu stored cannot "
		    "be read (%s): %s; they are kept and not substituted",
		    nbad, n, keyrc == -ENOENT ? "session.key is missing" :
		    keyrc != 0 ? "session.key cannot be read" :
		    "session.key is not the one they were sealed with",
		    bad.data);
		gp_buf_free(&bad);
	}
}

void
gp_ctl_creds_free(struct gp_ctl *c)
{
	size_t i;

	for (i = 0; i < c->ncreds; i++)
		cred_clear(&c->creds[i]);
	free(c->creds);
	c->creds = NULL;
	c->ncreds = c->capcreds = 0;
	key_forget(c);
}

const struct gp_cred *
gp_ctl_creds(struct gp_ctl *c, size_t *n)
{
	*n = c->ncreds;
	return c->creds;
}

static int
label_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < sizeof(((struct gp_cred *)0)->label) &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-") == n;
}

/* Host globs, one a line: each a host pattern (letters, digits, dots,
 * dashes, '*'). */
static int
hosts_ok(const char *h)
{
	return strspn(h, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789.-*:[]\n") == strlen(h);
}

int
gp_ctl_cred_add(struct gp_ctl *c, const char *label, const char *value,
    const char *hosts, const struct gp_cred **out, const char **why)
{
	struct gp_cred_row	 r;
	struct gp_cred		*k;
	unsigned char		 rnd[8];
	size_t			 i, vlen = value ? strlen(value) : 0;
	int			 rc;

	*why = NULL;
	if (label == NULL || !label_ok(label)) {
		*why = "label is required: letters, digits, '_', '.', '-'";
		return -EINVAL;
	}
	if (vlen == 0 || vlen > VALUE_MAX ||
	    strpbrk(value, "\r\n") != NULL) {
		*why = "value is required: one line, at most 8192 bytes";
		return -EINVAL;
	}
	if (hosts == NULL)
		hosts = gp_cred_default_hosts(label);
	if (!hosts_ok(hosts)) {
		*why = "hosts: host names or globs, one a line";
		return -EINVAL;
	}
	for (i = 0; i < c->ncreds; i++)
		if (strcmp(c->creds[i].label, label) == 0) {
			*why = "a credential with this label exists";
			return -EEXIST;
		}
	if ((rc = gp_ctl_vault_key(c, 1)) != 0) {
		*why = "session.key cannot be made or read (see the log)";
		return rc;
	}
	memset(&r, 0, sizeof r);
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		return -EIO;
	snprintf(r.id, sizeof r.id, "cred_");
	for (i = 0; i < sizeof rnd; i++)
		snprintf(r.id + 5 + 2 * i, 3, "%02x", rnd[i]);
	snprintf(r.label, sizeof r.label, "%s", label);
	gp_placeholder_global(r.placeholder);
	gp_secret_preview(value, r.preview, sizeof r.preview);
	r.hosts = (char *)hosts;
	r.created_at = gp_now();
	if ((rc = gp_vault_seal(c->vkey, value, vlen, &r.value_enc,
	    &r.value_len)) != 0)
		return rc;
	rc = gp_store_cred_insert(c->store, &r);
	free(r.value_enc);
	if (rc != 0) {
		*why = rc == -EEXIST ? "a credential with this label exists" :
		    NULL;
		return rc;
	}
	if (c->ncreds == c->capcreds) {
		c->capcreds = c->capcreds ? 2 * c->capcreds : 8;
		c->creds = gp_xrealloc(c->creds, c->capcreds *
		    sizeof *c->creds);
	}
	/* newest first, as listed */
	memmove(&c->creds[1], &c->creds[0], c->ncreds * sizeof *c->creds);
	c->ncreds++;
	k = &c->creds[0];
	memset(k, 0, sizeof *k);
	memcpy(k->id, r.id, sizeof k->id);
	memcpy(k->label, r.label, sizeof k->label);
	memcpy(k->placeholder, r.placeholder, sizeof k->placeholder);
	memcpy(k->preview, r.preview, sizeof k->preview);
	k->value = gp_xstrdup(value);
	k->hosts = gp_xstrdup(hosts);
	k->created_at = r.created_at;
	gp_log(GP_LOG_INFO, "credential %s added (%s)", k->label,
	    k->hosts[0] ? "bound to its hosts" : "any host");
	*out = k;
	return 0;
}

/* The credential with this id (its index), or ncreds. */
static size_t
index_of(struct gp_ctl *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->ncreds; i++)
		if (strcmp(c->creds[i].id, id) == 0)
			break;
	return i;
}

int
gp_ctl_cred_set_hosts(struct gp_ctl *c, const char *id, const char *hosts,
    const struct gp_cred **out, const char **why)
{
	size_t	i;
	int	rc;

	*why = NULL;
	if ((i = index_of(c, id)) == c->ncreds)
		return -ENOENT;
	if (!hosts_ok(hosts)) {
		*why = "hosts: host names or globs, one a line";
		return -EINVAL;
	}
	if ((rc = gp_store_cred_set_hosts(c->store, id, hosts)) != 0)
		return rc;
	free(c->creds[i].hosts);
	c->creds[i].hosts = gp_xstrdup(hosts);
	gp_log(GP_LOG_INFO, "credential %s now %s", c->creds[i].label,
	    hosts[0] ? "bound to its hosts" : "sent to any host");
	*out = &c->creds[i];
	return 0;
}

int
gp_ctl_cred_delete(struct gp_ctl *c, const char *id)
{
	size_t	i;
	int	rc;

	if ((i = index_of(c, id)) == c->ncreds)
		return -ENOENT;
	if ((rc = gp_store_cred_delete(c->store, id)) != 0 && rc != -ENOENT)
		return rc;
	gp_log(GP_LOG_INFO, "credential %s deleted", c->creds[i].label);
	cred_clear(&c->creds[i]);
	memmove(&c->creds[i], &c->creds[i + 1], (c->ncreds - i - 1) *
	    sizeof *c->creds);
	c->ncreds--;
	return 0;
}

/* The credential a placeholder names (its bytes at p), or NULL. */
static const struct gp_cred *
lookup(struct gp_ctl *c, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < c->ncreds; i++)
		if (strlen(c->creds[i].placeholder) == n &&
		    memcmp(c->creds[i].placeholder, p, n) == 0)
			return &c->creds[i];
	return NULL;
}

/* A placeholder's length at p (its prefix found there), or 0. */
static size_t
ph_len(const char *p, const char *end)
{
	const char *q = p + sizeof PH_PREFIX - 1;

	if ((size_t)(end - p) < sizeof PH_PREFIX - 1 ||
	    memcmp(p, PH_PREFIX, sizeof PH_PREFIX - 1) != 0)
		return 0;
	while (q < end && (strchr("abcdefghijklmnopqrstuvwxyz0123456789:_-",
	    *q) != NULL && *q != '\0'))
		q++;
	return (size_t)(q - p);
}

/* What a placeholder stands for: a global credential's or a session's
 * value, its label, the hosts it may go to, its session. */
struct secret {
	const char		*value, *label, *hosts;
	struct gp_session	*s;
};

static int
find_secret(struct gp_ctl *c, const char *p, size_t n, struct secret *out)
{
	const struct gp_cred		*k;
	const struct gp_session_map	*m;

	memset(out, 0, sizeof *out);
	if ((k = lookup(c, p, n)) != NULL && k->value != NULL) {
		out->value = k->value;
		out->label = k->label;
		out->hosts = k->hosts;
		return 1;
	}
	if ((m = gp_ctl_session_find(c, p, n, &out->s)) != NULL) {
		out->value = m->value;
		out->label = m->label;
		out->hosts = gp_session_map_hosts(m);
		return 1;
	}
	return 0;
}

/* Whether a host is one of the secret's destinations. */
static int
bound_to(const struct secret *k, const char *host)
{
	return k->hosts == NULL || k->hosts[0] == '\0' ||
	    gp_globs_match(k->hosts, host);
}

/* Each placeholder in [p, end): checked; 0, or the reason to refuse. */
static enum gp_reason
scan(struct gp_ctl *c, const struct gp_txn *t, const char *p,
    const char *end, const char **bad)
{
	struct secret	k;
	size_t		n;

	while ((p = memmem(p, (size_t)(end - p), PH_PREFIX,
	    sizeof PH_PREFIX - 1)) != NULL) {
		n = ph_len(p, end);
		if (find_secret(c, p, n, &k)) {
			*bad = k.label;
			if (!t->tls)
				return GP_R_CRED_PLAINTEXT;
			if (k.s != NULL && strcmp(t->identity,
			    k.s->container) != 0)
				return GP_R_CRED_IDENTITY;
			if (!bound_to(&k, t->host))
				return GP_R_CRED_DESTINATION;
		}
		p += n > 0 ? n : 1;
	}
	return GP_R_NONE;
}

static enum gp_reason
on_request(void *arg, struct gp_txn *t, const char **why)
{
	struct gp_ctl		*c = arg;
	const char		*bad = NULL;
	enum gp_reason		 r = GP_R_NONE;
	const char		*q;
	size_t			 i;

	if (c->ncreds == 0 && c->nsessions == 0)
		return GP_R_NONE;
	if ((q = strchr(t->target, '?')) != NULL)
		r = scan(c, t, q, q + strlen(q), &bad);
	for (i = 0; r == GP_R_NONE && i < t->req.nh; i++)
		r = scan(c, t, t->req.h[i].value.p, t->req.h[i].value.p +
		    t->req.h[i].value.n, &bad);
	if (r == GP_R_NONE)
		return r;
	{
		struct gp_cred_block ev = { bad, t->identity, t->host,
		    t->port, gp_reason_token(r) };

		gp_log(GP_LOG_WARN, "POSSIBLE EXFILTRATION: %s sent the "
		    "placeholder of credential %s to %s:%u%s: refused",
		    t->identity, bad, t->host, t->port,
		    r == GP_R_CRED_PLAINTEXT ? " in clear" :
		    r == GP_R_CRED_IDENTITY ? ", from another sandbox than "
		    "its own" : ", not one of its hosts");
		gp_bus_emit(&c->bus, GP_EV_CREDENTIAL_BLOCKED, &ev);
	}
	*why = r == GP_R_CRED_PLAINTEXT ? "greyproxy: a credential "
	    "placeholder is only substituted inside HTTPS" :
	    r == GP_R_CRED_IDENTITY ? "greyproxy: this credential belongs "
	    "to another sandbox" : "greyproxy: this credential may not be "
	    "sent to this host";
	return r;
}

/* A substitution noted: its label once, its session (the first), its
 * session's count. */
static void
note(struct gp_buf *labels, char sid[80], const struct secret *k)
{
	size_t	n = strlen(k->label);
	char	*p = labels->data;

	/* the id copied: a later lookup may expire and move sessions */
	if (k->s != NULL) {
		k->s->substitutions++;
		if (sid[0] == '\0')
			snprintf(sid, 80, "%s", k->s->id);
	}
	while (p != NULL && p < labels->data + labels->len) {
		char *e = memchr(p, '\n', (size_t)(labels->data +
		    labels->len - p));

		if (e == NULL)
			e = labels->data + labels->len;
		if ((size_t)(e - p) == n && memcmp(p, k->label, n) == 0)
			return;
		p = e + 1;
	}
	if (labels->len > 0)
		gp_buf_add(labels, "\n", 1);
	gp_buf_add(labels, k->label, n);
}

/* Appends p[0..n) percent-encoded (RFC 3986 unreserved kept). */
static void
pct(struct gp_buf *b, const char *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch) != NULL)
			gp_buf_add(b, &p[i], 1);
		else {
			char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };

			gp_buf_add(b, e, 3);
		}
	}
}

/*
 * The head going upstream with every known placeholder replaced: in
 * the target's query (the value percent-encoded where it sits; a
 * placeholder written with %3A for ':' is found too) and in header
 * values; the path and everything else byte for byte.
 */
static void
on_rewrite(void *arg, struct gp_txn *t, struct gp_buf *head)
{
	struct gp_ctl	*c = arg;
	struct gp_buf	 out = { 0 };
	const char	*p = head->data, *end = head->data + head->len;
	const char	*line_end = memchr(p, '\n', head->len);
	const char	*q = NULL, *sp;
	int		 n_sub = 0;
	struct gp_buf	 labels = { 0 };
	char		 sid[80] = "";

	if ((c->ncreds == 0 && c->nsessions == 0) || line_end == NULL)
		return;
	/* the request line: "METHOD SP target SP version" */
	sp = memchr(p, ' ', (size_t)(line_end - p));
	if (sp != NULL)
		q = memchr(sp + 1, '?', (size_t)(line_end - sp - 1));
	while (p < end) {
		const char *hit = memmem(p, (size_t)(end - p), "greyproxy",
		    9);
		struct secret k;
		int in_query, in_value, found;
		size_t n;

		if (hit == NULL) {
			gp_buf_add(&out, p, (size_t)(end - p));
			break;
		}
		in_query = q != NULL && hit > q && hit < line_end;
		in_value = hit > line_end;
		n = ph_len(hit, end);
		if (n == 0 && in_query) {
			/* "greyproxy%3Acredential%3Av1%3Aglobal%3A…" */
			char		 dec[GP_PLACEHOLDER_MAX];
			size_t		 dn = 0;
			const char	*s = hit;

			while (s < line_end && dn < sizeof dec - 1) {
				if (s[0] == '%' && line_end - s >= 3 &&
				    strncasecmp(s, "%3A", 3) == 0) {
					dec[dn++] = ':';
					s += 3;
				} else if (strchr("abcdefghijklmnopqrstuvwxyz"
				    "0123456789_-", *s) != NULL && *s != '\0')
					dec[dn++] = *s++;
				else
					break;
			}
			dec[dn] = '\0';
			if (ph_len(dec, dec + dn) == dn &&
			    find_secret(c, dec, dn, &k)) {
				gp_buf_add(&out, p, (size_t)(hit - p));
				pct(&out, k.value, strlen(k.value));
				p = s;
				n_sub++;
				note(&labels, sid, &k);
				continue;
			}
		}
		found = n > 0 && (in_query || in_value) &&
		    find_secret(c, hit, n, &k);
		if (!found) {
			gp_buf_add(&out, p, (size_t)(hit - p) + 1);
			p = hit + 1;
			continue;
		}
		gp_buf_add(&out, p, (size_t)(hit - p));
		if (in_query)
			pct(&out, k.value, strlen(k.value));
		else
			gp_buf_addstr(&out, k.value);
		p = hit + n;
		n_sub++;
		note(&labels, sid, &k);
	}
	if (n_sub > 0) {
		OPENSSL_cleanse(head->data, head->len);
		gp_buf_free(head);
		*head = out;
		t->substituted = 1;
		t->sub_labels = gp_arena_strndup(&t->arena, labels.data,
		    labels.len);
		if (sid[0] != '\0')
			t->session_id = gp_arena_strndup(&t->arena, sid,
			    strlen(sid));
		{
			struct gp_subst_event ev = { t->session_id,
			    t->sub_labels, t->identity, t->host, 0 };
			struct gp_session *s = NULL;
			size_t i;

			for (i = 0; sid[0] != '\0' && i < c->nsessions; i++)
				if (strcmp(c->sessions[i].id, sid) == 0)
					s = &c->sessions[i];
			ev.count = s != NULL ? s->substitutions : 0;
			gp_bus_emit(&c->bus, GP_EV_SESSION_SUBSTITUTION, &ev);
		}
	} else {
		OPENSSL_cleanse(out.data, out.len);
		gp_buf_free(&out);
	}
	gp_buf_free(&labels);
}

static const struct gp_http_filter_ops subst = {
	.name = "credentials",
	.request_head = on_request,
	.rewrite_head = on_rewrite,
};

void
gp_ctl_creds_attach(struct gp_ctl *c)
{
	gp_proxy_add_filter(&c->px, &subst, c);
}
