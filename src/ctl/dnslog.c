/*
 * dnslog.c: DNS queries in the connection log, folded.  A client asking
 * the same name again and again (29 000 queries a second were seen)
 * must not fill the disk: the first query of a (identity, name, type)
 * in a FOLD_S window is logged as it is; the repeats are counted, and
 * when the window ends one row stands for all of them (count = how
 * many, request marked "×N").  Keys that do not fit the table are
 * logged unfolded.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

#define FOLD_SLOTS	4096	/* power of two */
#define FOLD_PROBE	8
#define FOLD_S		60	/* window per key */

struct fold {
	uint64_t	 hash;		/* 0: free */
	char		*key;		/* identity \n name \n type */
	int64_t		 start;		/* window start, epoch s */
	uint32_t	 repeats;	/* after the first, in this window */
	/* the last repeat, for the summary row */
	char		 client[GP_ADDR_STRLEN];
	char		 req[320];
	char		 ip[INET6_ADDRSTRLEN];
	int		 blocked;
	uint64_t	 duration_ms;
};

struct gp_dnslog {
	struct fold	slots[FOLD_SLOTS];
	uint64_t	folded;		/* rows saved since start */
};

static const char *rcodes[] = { "NOERROR", "FORMERR", "SERVFAIL",
	"NXDOMAIN", "NOTIMP", "REFUSED" };

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ? h : 1;
}

static void
push(struct gp_ctl *c, const char *identity, const char *client,
    const char *name, const char *req, const char *ip, int blocked,
    uint64_t duration_ms, uint32_t count)
{
	struct gp_conn_log	l;

	memset(&l, 0, sizeof l);
	l.ts = gp_now();
	l.container = identity;
	l.client_addr = client;
	l.method = "DNS";
	l.request = req;
	l.host = name;
	l.port = 53;
	l.resolved_ip = ip;
	l.allowed = !blocked;
	l.reason = blocked ? gp_reason_label(GP_R_DENYLIST) : "";
	l.duration_ms = duration_ms;
	l.count = count;
	gp_proxy_log_row(&c->px, &l);
}

/* Writes the summary row of a window with repeats, and frees the slot. */
static void
close_window(struct gp_ctl *c, struct fold *f)
{
	if (f->repeats > 0) {
		char	*nl1 = strchr(f->key, '\n'), *nl2, req[360];

		*nl1 = '\0';
		nl2 = strchr(nl1 + 1, '\n');
		*nl2 = '\0';
		snprintf(req, sizeof req, "%s (x%u in %d s)", f->req,
		    f->repeats, FOLD_S);
		push(c, f->key, f->client, nl1 + 1, req, f->ip[0] ? f->ip :
		    NULL, f->blocked, f->duration_ms, f->repeats);
	}
	free(f->key);
	memset(f, 0, sizeof *f);
}

struct gp_dnslog *
gp_dnslog_new(void)
{
	return gp_xcalloc(1, sizeof(struct gp_dnslog));
}

void
gp_dnslog_free(struct gp_ctl *c, struct gp_dnslog *d)
{
	size_t	i;

	if (d == NULL)
		return;
	for (i = 0; i < FOLD_SLOTS; i++)
		if (d->slots[i].hash != 0)
			close_window(c, &d->slots[i]);
	free(d);
}

void
gp_dnslog_sweep(struct gp_ctl *c, struct gp_dnslog *d, int64_t now)
{
	size_t	i;

	for (i = 0; i < FOLD_SLOTS; i++)
		if (d->slots[i].hash != 0 &&
		    now - d->slots[i].start >= FOLD_S)
			close_window(c, &d->slots[i]);
}

void
gp_dnslog_query(struct gp_ctl *c, struct gp_dnslog *d,
    const struct gp_dns_query_info *i)
{
	char		 id[GP_ADDR_STRLEN + 16], req[320], *key;
	struct fold	*f, *free_slot = NULL;
	int64_t		 now = gp_now();
	uint64_t	 h;
	size_t		 k;

	snprintf(id, sizeof id, "unknown-%s", i->client_ip);
	snprintf(req, sizeof req, "%s %s%s %s%s", gp_dns_type_name(i->qtype),
	    i->name, i->tcp ? " (tcp)" : "", i->rcode >= 0 && i->rcode < 6 ?
	    rcodes[i->rcode] : "rcode", i->cached ? " cached" : "");
	gp_xasprintf(&key, "%s\n%s\n%u", id, i->name, (unsigned)i->qtype);
	h = hash(key);
	for (k = 0; k < FOLD_PROBE; k++) {
		f = &d->slots[(h + k) & (FOLD_SLOTS - 1)];
		if (f->hash == 0) {
			if (free_slot == NULL)
				free_slot = f;
			continue;
		}
		if (f->hash != h || strcmp(f->key, key) != 0)
			continue;
		if (now - f->start < FOLD_S) {
			/* A repeat: counted, written with the window. */
			f->repeats++;
			d->folded++;
			snprintf(f->client, sizeof f->client, "%s",
			    i->client_ip);
			snprintf(f->req, sizeof f->req, "%s", req);
			snprintf(f->ip, sizeof f->ip, "%s", i->first_ip ?
			    i->first_ip : "");
			f->blocked = i->blocked;
			f->duration_ms = i->duration_ms;
			free(key);
			return;
		}
		close_window(c, f);
		free_slot = f;
		break;
	}
	if (free_slot != NULL) {
		free_slot->hash = h;
		free_slot->key = key;
		free_slot->start = now;
		key = NULL;
	}
	free(key);
	push(c, id, i->client_ip, i->name, req, i->first_ip, i->blocked,
	    i->duration_ms, 1);
}

uint64_t
gp_dnslog_folded(const struct gp_dnslog *d)
{
	return d != NULL ? d->folded : 0;
}
