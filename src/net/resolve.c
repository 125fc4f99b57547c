/*
 * resolve.c: name resolution on the loop.  udns owns the DNS protocol;
 * its socket is watched with uv_poll and its timer requests become a
 * uv_timer.  Literals, RFC 6761 localhost names and /etc/hosts are
 * answered without a query.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <udns.h>

#include "core/core.h"
#include "net/net.h"

struct hosts_ent {
	char			*name;
	struct sockaddr_storage	 addr;
	size_t			 seq;		/* its place in the file */
};

struct gp_resolver {
	uv_loop_t		*loop;
	struct dns_ctx		*ctx;
	uv_poll_t		 poll;
	uv_timer_t		 timer;
	int			 closing;
	struct hosts_ent	*hosts;
	size_t			 nhosts;
};

struct gp_resolve {
	struct gp_resolver	*res;
	struct dns_query	*q4, *q6;
	int			 st4, st6;
	unsigned		 port;
	struct sockaddr_storage	 a4[GP_RESOLVE_MAX], a6[GP_RESOLVE_MAX];
	size_t			 n4, n6;
	gp_resolve_cb		 cb;
	void			*data;
};

static void	on_poll(uv_poll_t *, int, int);
static void	on_timer(uv_timer_t *);
static void	utm(struct dns_ctx *, int, void *);
static void	load_hosts(struct gp_resolver *);
static void	finish(struct gp_resolve *);

static void
set_addr(struct sockaddr_storage *ss, int family, const void *a,
    unsigned port)
{
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
		sin->sin_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a, 16);
		sin6->sin6_port = htons((uint16_t)port);
	}
}

/* By name, then in the file's order (a name's addresses, as listed). */
static int
hosts_cmp(const void *a, const void *b)
{
	const struct hosts_ent	*x = a, *y = b;
	int			 c = strcmp(x->name, y->name);

	return c != 0 ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Reads /etc/hosts once at start (a blocking read is fine then), sorted
 * by name: every decision looks a name up (a blocklist's hosts file
 * holds 100 000 names; a scan of it was a millisecond on the loop).
 */
static void
load_hosts(struct gp_resolver *r)
{
	const char *path = getenv("GREYPROXY_HOSTS");	/* (tests) */
	FILE	*f = fopen(path != NULL && *path ? path : "/etc/hosts", "re");
	char	 line[1024];
	size_t	 cap = 0;

	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		unsigned char	 a[16];
		char		*save, *ip, *name, *hash;
		int		 fam;

		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		if ((ip = strtok_r(line, " \t\r\n", &save)) == NULL)
			continue;
		if (inet_pton(AF_INET, ip, a) == 1)
			fam = AF_INET;
		else if (inet_pton(AF_INET6, ip, a) == 1)
			fam = AF_INET6;
		else
			continue;
		while ((name = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
			if (r->nhosts == cap) {
				cap = cap ? cap * 2 : 16;
				r->hosts = gp_xrealloc(r->hosts,
				    cap * sizeof *r->hosts);
			}
			for (char *c = name; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c + 32);
			r->hosts[r->nhosts].name = gp_xstrdup(name);
			set_addr(&r->hosts[r->nhosts].addr, fam, a, 0);
			r->hosts[r->nhosts].seq = r->nhosts;
			r->nhosts++;
		}
	}
	fclose(f);
	if (r->nhosts > 1)
		qsort(r->hosts, r->nhosts, sizeof *r->hosts, hosts_cmp);
}

int
gp_resolver_new(uv_loop_t *loop, const char *upstream, unsigned timeout_s,
    struct gp_resolver **out, const char **err)
{
	struct gp_resolver	*r = gp_xcalloc(1, sizeof *r);
	int			 fd;

	r->loop = loop;
	if (dns_init(NULL, 0) < 0 || (r->ctx = dns_new(NULL)) == NULL) {
		*err = "cannot initialize the DNS resolver";
		goto fail;
	}
	if (upstream != NULL) {
		struct sockaddr_storage ss;
		const char *why;

		if (gp_addr_parse(upstream, &ss, &why) != 0) {
			char tmp[GP_ADDR_STRLEN + 8];

			/* Bare IP: default port 53. */
			snprintf(tmp, sizeof tmp, strchr(upstream, ':') ?
			    "[%s]:53" : "%s:53", upstream);
			if (gp_addr_parse(tmp, &ss, &why) != 0) {
				*err = "invalid DNS upstream address";
				goto fail;
			}
		}
		if (gp_addr_port((struct sockaddr *)&ss) == 0)
			((struct sockaddr_in *)&ss)->sin_port = htons(53);
		dns_add_serv(r->ctx, NULL);
		if (dns_add_serv_s(r->ctx, (struct sockaddr *)&ss) < 0) {
			*err = "cannot use the DNS upstream address";
			goto fail;
		}
	}
	dns_set_opt(r->ctx, DNS_OPT_TIMEOUT, (int)(timeout_s ? timeout_s : 2));
	dns_set_opt(r->ctx, DNS_OPT_NTRIES, 2);
	if ((fd = dns_open(r->ctx)) < 0) {
		*err = "cannot open the DNS resolver socket";
		goto fail;
	}
	uv_poll_init(loop, &r->poll, fd);
	r->poll.data = r;
	uv_poll_start(&r->poll, UV_READABLE, on_poll);
	uv_timer_init(loop, &r->timer);
	r->timer.data = r;
	dns_set_tmcbck(r->ctx, utm, r);
	load_hosts(r);
	*out = r;
	return 0;
fail:
	if (r->ctx != NULL)
		dns_free(r->ctx);
	free(r);
	return -1;
}

static void
on_resolver_closed(uv_handle_t *h)
{
	struct gp_resolver	*r = h->data;
	size_t			 i;

	if (--r->closing > 0)
		return;
	for (i = 0; i < r->nhosts; i++)
		free(r->hosts[i].name);
	free(r->hosts);
	free(r);
}

void
gp_resolver_close(struct gp_resolver *r)
{
	if (r == NULL)
		return;
	dns_set_tmcbck(r->ctx, NULL, NULL);
	dns_free(r->ctx);	/* drops queries without callbacks */
	r->ctx = NULL;
	r->closing = 2;
	uv_close((uv_handle_t *)&r->poll, on_resolver_closed);
	uv_close((uv_handle_t *)&r->timer, on_resolver_closed);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
	struct gp_resolver *r = p->data;

	if (r->ctx != NULL)
		dns_ioevent(r->ctx, time(NULL));
}

static void
on_timer(uv_timer_t *t)
{
	struct gp_resolver *r = t->data;

	if (r->ctx != NULL)
		dns_timeouts(r->ctx, -1, time(NULL));
}

static void
utm(struct dns_ctx *ctx, int timeout, void *data)
{
	struct gp_resolver *r = data;

	if (ctx == NULL || timeout < 0)
		uv_timer_stop(&r->timer);
	else
		uv_timer_start(&r->timer, on_timer,
		    timeout == 0 ? 1 : (uint64_t)timeout * 1000, 0);
}

size_t
gp_resolve_static(struct gp_resolver *r, const char *host, unsigned port,
    struct sockaddr_storage *out, size_t max)
{
	unsigned char	a[16];
	size_t		n = 0, i, lo, hi, hl = strlen(host);

	if (max == 0)
		return 0;
	if (inet_pton(AF_INET, host, a) == 1) {
		set_addr(&out[0], AF_INET, a, port);
		return 1;
	}
	if (inet_pton(AF_INET6, host, a) == 1) {
		set_addr(&out[0], AF_INET6, a, port);
		return 1;
	}
	/* RFC 6761 6.3: localhost names are always loopback. */
	if (strcmp(host, "localhost") == 0 ||
	    (hl > 10 && strcmp(host + hl - 10, ".localhost") == 0)) {
		static const unsigned char lo6[16] = { [15] = 1 };

		a[0] = 127; a[1] = 0; a[2] = 0; a[3] = 1;
		set_addr(&out[n++], AF_INET, a, port);
		if (n < max)
			set_addr(&out[n++], AF_INET6, lo6, port);
		return n;
	}
	/* The first entry of the name (sorted), then each after it. */
	lo = 0;
	hi = r != NULL ? r->nhosts : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(r->hosts[mid].name, host) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; r != NULL && i < r->nhosts && n < max; i++) {
		if (strcmp(r->hosts[i].name, host) != 0)
			break;
		out[n] = r->hosts[i].addr;
		if (out[n].ss_family == AF_INET)
			((struct sockaddr_in *)&out[n])->sin_port =
			    htons((uint16_t)port);
		else
			((struct sockaddr_in6 *)&out[n])->sin6_port =
			    htons((uint16_t)port);
		n++;
	}
	return n;
}

static int
map_status(int st)
{
	switch (st) {
	case 0:
		return 0;
	case DNS_E_NXDOMAIN:
	case DNS_E_NODATA:
		return -ENOENT;
	case DNS_E_TEMPFAIL:
		return -ETIMEDOUT;
	default:
		return -EAGAIN;
	}
}

/* Both queries are done: merge (IPv4 first) and report once. */
static void
finish(struct gp_resolve *q)
{
	struct sockaddr_storage	all[GP_RESOLVE_MAX];
	size_t			n = 0, i;
	int			status;

	for (i = 0; i < q->n4 && n < GP_RESOLVE_MAX; i++)
		all[n++] = q->a4[i];
	for (i = 0; i < q->n6 && n < GP_RESOLVE_MAX; i++)
		all[n++] = q->a6[i];
	if (n > 0)
		status = 0;
	else if (q->st4 == DNS_E_TEMPFAIL || q->st6 == DNS_E_TEMPFAIL)
		status = -ETIMEDOUT;
	else
		status = map_status(q->st4 ? q->st4 : q->st6);
	if (n == 0 && status == 0)
		status = -ENOENT;
	q->cb(q->data, status, all, n);
	free(q);
}

static void
on_a4(struct dns_ctx *ctx, struct dns_rr_a4 *rr, void *data)
{
	struct gp_resolve	*q = data;
	int			 i;

	q->q4 = NULL;
	q->st4 = rr ? 0 : dns_status(ctx);
	for (i = 0; rr != NULL && i < rr->dnsa4_nrr &&
	    q->n4 < GP_RESOLVE_MAX; i++)
		set_addr(&q->a4[q->n4++], AF_INET, &rr->dnsa4_addr[i],
		    q->port);
	free(rr);
	if (q->q6 == NULL)
		finish(q);
}

static void
on_a6(struct dns_ctx *ctx, struct dns_rr_a6 *rr, void *data)
{
	struct gp_resolve	*q = data;
	int			 i;

	q->q6 = NULL;
	q->st6 = rr ? 0 : dns_status(ctx);
	for (i = 0; rr != NULL && i < rr->dnsa6_nrr &&
	    q->n6 < GP_RESOLVE_MAX; i++)
		set_addr(&q->a6[q->n6++], AF_INET6, &rr->dnsa6_addr[i],
		    q->port);
	free(rr);
	if (q->q4 == NULL)
		finish(q);
}

struct gp_resolve *
gp_resolve(struct gp_resolver *r, const char *host, unsigned port,
    gp_resolve_cb cb, void *data)
{
	struct gp_resolve	*q = gp_xcalloc(1, sizeof *q);

	q->res = r;
	q->port = port;
	q->cb = cb;
	q->data = data;
	q->q4 = dns_submit_a4(r->ctx, host, DNS_NOSRCH, on_a4, q);
	if (q->q4 == NULL) {
		free(q);
		return NULL;
	}
	q->q6 = dns_submit_a6(r->ctx, host, DNS_NOSRCH, on_a6, q);
	if (q->q6 == NULL) {
		dns_cancel(r->ctx, q->q4);
		free(q);
		return NULL;
	}
	/* Submitting only schedules; send now rather than at the next tick. */
	dns_timeouts(r->ctx, -1, time(NULL));
	return q;
}

void
gp_resolve_cancel(struct gp_resolve *q)
{
	if (q->q4 != NULL)
		dns_cancel(q->res->ctx, q->q4);
	if (q->q6 != NULL)
		dns_cancel(q->res->ctx, q->q6);
	free(q);
}
