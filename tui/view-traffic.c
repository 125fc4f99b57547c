/*
 * view-traffic.c: stored HTTP transactions, live (transaction.new), with
 * a filter as you type and details (both heads and bodies, scrollable,
 * JSON pretty-printed, long lines wrapped).  Without a CA it says what
 * interception gives, how to enable it, and creates the CA on a key.
 */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tui/tui-int.h"

#define BODY_SHOWN	(64 * 1024)	/* per body in the details */

static struct tm_list *
l_traffic(struct tui *t)
{
	return &t->traffic;
}

static void
tx_row(struct tui *t, const cJSON *json, const void *item, int y, int sel)
{
	const struct tm_tx	*x = item;
	char			 line[1024], when[16], host[300], dest[300];
	char			 path[600], size[16], dur[16], st[16];
	char			 who[100], meth[80];
	const char		*ts = x->timestamp;
	int			 pathw = COLS - 67 > 8 ? COLS - 67 : 8;

	snprintf(when, sizeof when, "%.8s", strlen(ts) >= 19 ? ts + 11 : ts);
	/* The host keeps its right end: where it really goes. */
	snprintf(host, sizeof host, "%s:%u", x->host, x->port);
	tm_fit_right_end(host, 22, dest, sizeof dest);
	tui_cell(path, sizeof path, x->url + x->path_off, pathw);
	tm_si(x->resp_size, size, sizeof size);
	if (x->ms < 10000)
		snprintf(dur, sizeof dur, "%.0fms", x->ms);
	else
		snprintf(dur, sizeof dur, "%.0fs", x->ms / 1000);
	if (x->status > 0)
		snprintf(st, sizeof st, "%d%s", x->status, x->complete ? "" :
		    "!");
	else
		snprintf(st, sizeof st, "%s", x->complete ? "-" : "!");
	/* "*" before the method: a credential was substituted in it */
	snprintf(line, sizeof line, "%s %s %s%s %s %s %-4s %5s %6s",
	    when, tui_cell_mid(who, sizeof who, x->container, 8),
	    x->substituted ? "*" : " ", tui_cell(meth, sizeof meth, x->method,
	    6), dest, path, st, size, dur);
	if (!x->complete)
		attrset(tui_attr(t, CP_NEW, A_BOLD));
	else if (x->status >= 400 || x->status == 0)
		attrset(tui_attr(t, CP_BLOCK, A_BOLD));
	tui_text(y, 0, COLS, line);
	attrset(A_NORMAL);
}

/* Without a CA: what interception gives and the two steps; rows used. */
static int
no_ca(struct tui *t, int top)
{
	const char	*st = tui_mitm_state(t);
	char		 line[640];
	int		 y = top;

	if (strcmp(st, "no-ca") != 0 && strcmp(st, "invalid-ca") != 0 &&
	    strcmp(st, "off") != 0)
		return 0;
	attrset(A_BOLD);
	tui_text(y++, 1, COLS - 2, strcmp(st, "off") == 0 ?
	    _("HTTPS is tunnelled unread: interception is off (mitmEnabled, "
	    "7 Settings).") : strcmp(st, "no-ca") == 0 ?
	    _("HTTPS is tunnelled unread: greyproxy has no CA yet.") :
	    _("HTTPS is tunnelled unread: the CA does not load "
	    "(greyproxy cert show)."));
	attrset(A_NORMAL);
	if (strcmp(st, "off") == 0)
		return y - top + 1;
	tui_text(y++, 1, COLS - 2, _("With one, each HTTPS request and "
	    "response (headers, bodies) is shown here."));
	tui_text(y++, 1, COLS - 2, strcmp(st, "no-ca") == 0 ?
	    _("1. Create it: press c (or: greyproxy cert generate)") :
	    _("1. Create it again: greyproxy cert generate --force"));
	tui_text(y++, 1, COLS - 2, _("2. Trust it: greyproxy cert install "
	    "(as root), or for one tool:"));
	snprintf(line, sizeof line, "   NODE_EXTRA_CA_CERTS=%s (Node), "
	    "SSL_CERT_FILE (OpenSSL)", t->ca_path[0] ? t->ca_path :
	    "ca-cert.pem");
	tui_text(y++, 1, COLS - 2, line);
	return y - top + 1;
}

static void
traffic_draw(struct tui *t, int top, int rows)
{
	int	used = no_ca(t, top), pathw = COLS - 67 > 8 ? COLS - 67 : 8;
	char	hdr[512];

	/* the rows' widths: a marker column before the method */
	snprintf(hdr, sizeof hdr, "%-8s %-8s  %-6s %-22s %-*s %-4s %5s %6s",
	    _("TIME"), _("SOURCE"), _("METHOD"), _("DESTINATION"), pathw,
	    _("PATH"), _("ST"), _("SIZE"), _("TOOK"));
	view_draw_list(t, &t->traffic, top + used, rows - used, hdr, tx_row,
	    _("No HTTP transactions yet. Requests through the proxy "
	    "appear here."));
}

static void
on_tx_one(void *d, int status, const cJSON *json)
{
	struct tui *t = d;

	if (t->quit)
		return;
	if (status != 200) {
		tui_message(t, 1, "%s (%d)", *tm_str(json, "error") ?
		    tm_str(json, "error") : _("request failed"), status);
		return;
	}
	tui_open_detail(t, tm_tx_text(json, BODY_SHOWN));
}

/* o: the transaction asked for again (a fresh row does not know yet
 * whether it joined a conversation), then its conversation. */
static void
on_tx_conv(void *d, int status, const cJSON *json)
{
	struct tui *t = d;

	if (t->quit)
		return;
	if (status == 200 && *tm_str(json, "conversation_id") != '\0')
		view_conv_open(t, tm_str(json, "conversation_id"));
	else
		tui_message(t, 1, "%s", _("this transaction is part of no LLM "
		    "conversation"));
}

static void
on_cert(void *d, int status, const cJSON *json)
{
	struct tui *t = d;

	if (t->quit || status != 200)
		return;
	snprintf(t->ca_path, sizeof t->ca_path, "%s", tm_str(json,
	    "certPath"));
	tui_dirty(t);
}

static void
on_created(void *d, int status, const cJSON *json)
{
	struct tui *t = d;

	if (t->quit)
		return;
	if (status == 200)
		tui_message(t, 0, "%s", _("CA created: HTTPS is read from now "
		    "on once clients trust it (greyproxy cert install)"));
	else
		tui_message(t, 1, "%s (%d)", *tm_str(json, "error") ?
		    tm_str(json, "error") : _("request failed"), status);
	tui_fetch(t, W_STATUS);
	view_traffic_cert(t);
}

/* Where the CA certificate is (or will be), for the steps shown. */
void
view_traffic_cert(struct tui *t)
{
	if (t->link != NULL && t->connected)
		gp_link_request(t->link, "GET", "/api/cert/status", NULL,
		    on_cert, t);
}

static void
traffic_key(struct tui *t, int a)
{
	const struct tm_tx	*x = tm_list_selected_item(&t->traffic);
	char			 path[64];

	if (a == GP_A_DETAILS && x != NULL) {
		snprintf(path, sizeof path, "/api/transactions/%lld",
		    (long long)x->id);
		gp_link_request(t->link, "GET", path, NULL, on_tx_one, t);
	} else if (a == GP_A_TX_CONV && x != NULL) {
		snprintf(path, sizeof path, "/api/transactions/%lld",
		    (long long)x->id);
		gp_link_request(t->link, "GET", path, NULL, on_tx_conv, t);
	} else if (a == GP_A_CA_CREATE) {
		if (strcmp(tui_mitm_state(t), "no-ca") != 0) {
			tui_message(t, 1, "%s", _("a CA exists already "
			    "(greyproxy cert show; generate --force replaces "
			    "it)"));
			return;
		}
		tui_message(t, 0, "%s", _("creating the CA..."));
		gp_link_request(t->link, "POST", "/api/cert/generate", NULL,
		    on_created, t);
	}
}

const struct view_ops view_traffic = {
	N_("Traffic"), C_TRAFFIC, l_traffic, view_traffic_cert, traffic_draw,
	traffic_key, NULL,
};
