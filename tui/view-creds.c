/*
 * view-creds.c: greywall's sessions (identity, command, labels, time
 * left, substitutions) and the global credentials (label, preview,
 * hosts), then the latest refusals (a placeholder sent in clear, to
 * another host, from another sandbox), highlighted.  Under each session,
 * its credentials and where each may go; e changes that.  n adds a global
 * credential — its value typed unseen, its destinations suggested for a
 * well-known label and confirmed — x deletes one.  Never a value.
 */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "core/core.h"
#include "cred/cred.h"
#include "tui/tui-int.h"

static struct tm_list *
l_creds(struct tui *t)
{
	return &t->creds;
}

/* A row per credential of a session: its label and where it may go
 * (e changes it). */
static void
session_creds(cJSON *arr, const cJSON *sess, int *id)
{
	const cJSON	*lab;
	cJSON		*o;
	char		 hosts[256];

	cJSON_ArrayForEach(lab, cJSON_GetObjectItemCaseSensitive(sess,
	    "credential_hosts")) {
		tm_join(lab, hosts, sizeof hosts);
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", ++*id);
		cJSON_AddStringToObject(o, "kind", "scred");
		cJSON_AddStringToObject(o, "sid", tm_str(sess, "session_id"));
		cJSON_AddStringToObject(o, "label", lab->string);
		cJSON_AddStringToObject(o, "hosts", hosts[0] ? hosts :
		    _("any host"));
		cJSON_AddItemToArray(arr, o);
	}
}

/* Rows: {id (a row number), kind, ...} with what each line shows. */
void
view_creds_rebuild(struct tui *t)
{
	cJSON		*arr = cJSON_CreateArray(), *o;
	const cJSON	*it;
	int		 id = 0;
	char		 buf[512];

	cJSON_ArrayForEach(it, t->sessions_obj) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(it,
		    "metadata");

		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", ++id);
		cJSON_AddStringToObject(o, "kind", "session");
		cJSON_AddStringToObject(o, "sid", tm_str(it, "session_id"));
		cJSON_AddStringToObject(o, "who", tm_str(it,
		    "container_name"));
		cJSON_AddStringToObject(o, "cmd", tm_str(m, "cmd"));
		tm_join(cJSON_GetObjectItemCaseSensitive(it,
		    "credential_labels"), buf, sizeof buf);
		{
			/* where each of its credentials may go: as the core
			 * says (the label's usual hosts, or a person's) */
			struct gp_buf	 bd = { 0 };
			const cJSON	*lab;
			char		 hosts[256];

			cJSON_ArrayForEach(lab, cJSON_GetObjectItemCaseSensitive(
			    it, "credential_hosts")) {
				tm_join(lab, hosts, sizeof hosts);
				gp_buf_printf(&bd, "\n  %s -> %s", lab->string,
				    hosts[0] ? hosts : _("any host"));
			}
			gp_buf_add(&bd, "", 1);
			cJSON_AddStringToObject(o, "bound", bd.data);
			gp_buf_free(&bd);
		}
		cJSON_AddStringToObject(o, "labels", buf);
		cJSON_AddNumberToObject(o, "left", (double)(tm_time(it,
		    "expires_at") - (int64_t)time(NULL)));
		cJSON_AddNumberToObject(o, "subs", tm_num(it,
		    "substitution_count"));
		cJSON_AddItemToArray(arr, o);
		session_creds(arr, it, &id);
	}
	cJSON_ArrayForEach(it, t->creds_obj) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", ++id);
		cJSON_AddStringToObject(o, "kind", "global");
		cJSON_AddStringToObject(o, "cid", tm_str(it, "id"));
		cJSON_AddStringToObject(o, "label", tm_str(it, "label"));
		cJSON_AddStringToObject(o, "preview", tm_str(it,
		    "value_preview"));
		tm_join(cJSON_GetObjectItemCaseSensitive(it, "hosts"), buf,
		    sizeof buf);
		cJSON_AddStringToObject(o, "hosts", buf[0] ? buf :
		    _("any host"));
		cJSON_AddBoolToObject(o, "readable", cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(it, "readable")));
		cJSON_AddStringToObject(o, "placeholder", tm_str(it,
		    "placeholder"));
		cJSON_AddItemToArray(arr, o);
	}
	tm_list_set(&t->creds, arr);
	cJSON_Delete(arr);
}

/* One more line in the latest events, newest first. */
static void
recent(struct tui *t, const char *line, int bad)
{
	memmove(t->blocked[1], t->blocked[0], sizeof t->blocked[0] *
	    (GP_ARRAY_LEN(t->blocked) - 1));
	memmove(&t->blocked_bad[1], &t->blocked_bad[0],
	    sizeof t->blocked_bad[0] * (GP_ARRAY_LEN(t->blocked_bad) - 1));
	snprintf(t->blocked[0], sizeof t->blocked[0], "%s", line);
	t->blocked_bad[0] = bad;
	if (t->nblocked < (int)GP_ARRAY_LEN(t->blocked))
		t->nblocked++;
}

/* "HH:MM:SS", and the host cut to its right end, unpadded. */
static void
stamp(char *when, size_t wn, const char *h, char *host, size_t hn)
{
	time_t		now = time(NULL);
	struct tm	tmv;
	size_t		n;

	gmtime_r(&now, &tmv);
	snprintf(when, wn, "%02d:%02d:%02d", tmv.tm_hour, tmv.tm_min,
	    tmv.tm_sec);
	tm_fit_right_end(h, 24, host, hn);
	for (n = strlen(host); n > 0 && host[n - 1] == ' '; n--)
		host[n - 1] = '\0';		/* the padding */
}

void
view_creds_blocked(struct tui *t, const cJSON *d)
{
	char		 line[160], host[80], when[16], label[100];
	const char	*why = strrchr(tm_str(d, "reason"), '-');

	/* which, why (the token's last word), from whom, where */
	stamp(when, sizeof when, tm_str(d, "destination_host"), host,
	    sizeof host);
	snprintf(line, sizeof line, "%s %s %-11s from %s -> %s", when,
	    tui_cell(label, sizeof label, tm_str(d, "label"), 18), why != NULL ? why + 1 : "", tm_str(d,
	    "container_name"), host);
	recent(t, line, 1);
}

void
view_creds_used(struct tui *t, const cJSON *d)
{
	char	line[160], host[80], when[16], labels[64], cell[100];

	stamp(when, sizeof when, tm_str(d, "destination_host"), host,
	    sizeof host);
	tm_join(cJSON_GetObjectItemCaseSensitive(d, "labels"), labels,
	    sizeof labels);
	snprintf(line, sizeof line, "%s %s %-11s from %s -> %s", when,
	    tui_cell(cell, sizeof cell, labels, 18), _("substituted"), tm_str(d, "container_name"), host);
	recent(t, line, 0);
}

static void
cred_row(struct tui *t, const cJSON *o, const void *item, int y, int sel)
{
	char line[800], left[16], a[260], b[100], c[220];

	if (strcmp(tm_str(o, "kind"), "scred") == 0) {
		snprintf(line, sizeof line, "   \xe2\x86\xb3 %s -> %s",
		    tui_cell(a, sizeof a, tm_str(o, "label"), 31),
		    tm_str(o, "hosts"));
	} else if (strcmp(tm_str(o, "kind"), "session") == 0) {
		tm_age((int64_t)tm_num(o, "left") > 0 ?
		    (int64_t)tm_num(o, "left") : 0, left, sizeof left);
		snprintf(line, sizeof line, " session %s %s %s %5s %4.0f",
		    tui_cell_mid(a, sizeof a, tm_str(o, "who"), 14),
		    tui_cell(b, sizeof b, tm_str(o, "cmd"), 10),
		    tui_cell(c, sizeof c, tm_str(o, "labels"), 26), left,
		    tm_num(o, "subs"));
	} else {
		snprintf(line, sizeof line, " global  %s %s %s%s",
		    tui_cell(a, sizeof a, tm_str(o, "label"), 25),
		    tui_cell(b, sizeof b, tm_str(o, "preview"), 13),
		    tm_str(o, "hosts"), cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(o, "readable")) ? "" :
		    _(" (UNREADABLE: session.key)"));
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
		    "readable")))
			attrset(tui_attr(t, CP_BLOCK, A_BOLD));
	}
	tui_text(y, 0, COLS, line);
	attrset(A_NORMAL);
}

static void
creds_draw(struct tui *t, int top, int rows)
{
	int	shown = t->nblocked > 0 ? t->nblocked + 2 : 0, i, y;

	if (shown > rows / 2)
		shown = rows / 2;
	view_draw_list(t, &t->creds, top, rows - shown,
	    _(" KIND    IDENTITY/LABEL  COMMAND/PREVIEW  LABELS/HOSTS"),
	    cred_row, _("No sessions or credentials. greywall registers a "
	    "session per sandbox; n adds a global credential."));
	if (shown == 0)
		return;
	y = top + rows - shown;
	attrset(A_BOLD);
	tui_text(y++, 0, COLS, _(" LATEST: substitutions, and REFUSALS (a "
	    "placeholder sent where it may not go)"));
	for (i = 0; i < t->nblocked && y < top + rows; i++) {
		attrset(t->blocked_bad[i] ? tui_attr(t, CP_BLOCK, A_BOLD) |
		    A_BOLD : A_NORMAL);
		tui_text(y++, 1, COLS - 1, t->blocked[i]);
	}
	attrset(A_NORMAL);
}

static cJSON	*hosts_body(const char *);

static void
hosts_done(struct tui *t, const char *text)
{
	cJSON	*b = hosts_body(text);

	cJSON_AddStringToObject(b, "label", t->cred_label);
	cJSON_AddStringToObject(b, "value", t->cred_value);
	OPENSSL_cleanse(t->cred_value, sizeof t->cred_value);
	view_api_send(t, "POST", "/api/credentials", b,
	    _("credential %s added"), t->cred_label);
	tui_fetch(t, W_CREDS);
}

static void
value_done(struct tui *t, const char *text)
{
	char hosts[512], *p;

	if (text[0] == '\0') {
		tui_message(t, 1, "%s", _("no value: nothing added"));
		return;
	}
	snprintf(t->cred_value, sizeof t->cred_value, "%s", text);
	/* the label's usual destinations, to confirm or change */
	snprintf(hosts, sizeof hosts, "%s", gp_cred_default_hosts(
	    t->cred_label));
	for (p = hosts; *p != '\0'; p++)
		if (*p == '\n')
			*p = ',';
	tui_open_prompt(t, _("Hosts it may go to (empty: any):"), hosts,
	    hosts_done, NULL);
}

static void
label_done(struct tui *t, const char *text)
{
	if (text[0] == '\0')
		return;
	snprintf(t->cred_label, sizeof t->cred_label, "%s", text);
	tui_open_secret_prompt(t, _("Value (not shown):"), value_done);
}

/* "a, b c" → {"hosts": ["a", "b", "c"]} */
static cJSON *
hosts_body(const char *text)
{
	cJSON	*b = cJSON_CreateObject(), *h = cJSON_AddArrayToObject(b,
	    "hosts");
	char	*copy = gp_xstrdup(text), *save, *w;

	for (w = strtok_r(copy, ", \t", &save); w != NULL;
	    w = strtok_r(NULL, ", \t", &save))
		cJSON_AddItemToArray(h, cJSON_CreateString(w));
	free(copy);
	return b;
}

static void
edit_done(struct tui *t, const char *text)
{
	char path[160];

	snprintf(path, sizeof path, "/api/credentials/%s", t->cred_label);
	view_api_send(t, "PUT", path, hosts_body(text),
	    _("hosts changed%s"), "");
	tui_fetch(t, W_CREDS);
}

static char	bind_sid[80];	/* the session credential e changes */

static void
bind_done(struct tui *t, const char *text)
{
	char	path[160];
	cJSON	*b = hosts_body(text);

	cJSON_AddStringToObject(b, "label", t->cred_label);
	snprintf(path, sizeof path, "/api/sessions/%s/hosts", bind_sid);
	view_api_send(t, "PUT", path, b, _("%s: hosts changed"),
	    t->cred_label);
	tui_fetch(t, W_CREDS);
}

static void
delete_confirmed(struct tui *t, int yes)
{
	const cJSON	*o = tm_list_selected(&t->creds);
	char		 path[128];

	if (!yes || o == NULL || strcmp(tm_str(o, "kind"), "global") != 0)
		return;
	snprintf(path, sizeof path, "/api/credentials/%s", tm_str(o, "cid"));
	view_api_send(t, "DELETE", path, NULL, _("credential %s deleted"),
	    tm_str(o, "label"));
	tui_fetch(t, W_CREDS);
}

static void
creds_key(struct tui *t, int a)
{
	const cJSON	*o = tm_list_selected(&t->creds);
	char		*d, q[192];

	switch (a) {
	case GP_A_CRED_NEW:
		tui_open_prompt(t, _("Label (e.g. ANTHROPIC_API_KEY):"), "",
		    label_done, NULL);
		break;
	case GP_A_CRED_EDIT:
		if (o != NULL && strcmp(tm_str(o, "kind"), "scred") == 0) {
			snprintf(bind_sid, sizeof bind_sid, "%s", tm_str(o,
			    "sid"));
			snprintf(t->cred_label, sizeof t->cred_label, "%s",
			    tm_str(o, "label"));
			tui_open_prompt(t, _("Hosts it may go to (empty: any):"),
			    strcmp(tm_str(o, "hosts"), _("any host")) == 0 ?
			    "" : tm_str(o, "hosts"), bind_done, NULL);
			break;
		}
		if (o == NULL || strcmp(tm_str(o, "kind"), "global") != 0) {
			tui_message(t, 1, "%s", _("select a global credential, "
			    "or a session's (under its session)"));
			break;
		}
		snprintf(t->cred_label, sizeof t->cred_label, "%s",
		    tm_str(o, "cid"));
		tui_open_prompt(t, _("Hosts it may go to (empty: any):"),
		    strcmp(tm_str(o, "hosts"), _("any host")) == 0 ? "" :
		    tm_str(o, "hosts"), edit_done, NULL);
		break;
	case GP_A_CRED_DELETE:
		if (o == NULL || strcmp(tm_str(o, "kind"), "global") != 0) {
			tui_message(t, 1, "%s", _("only global credentials are "
			    "deleted here (greywall ends its sessions)"));
			break;
		}
		snprintf(q, sizeof q, _("Delete credential %s? (y/n)"),
		    tm_str(o, "label"));
		tui_open_confirm(t, q, delete_confirmed);
		break;
	case GP_A_DETAILS:
		if (o == NULL)
			break;
		if (strcmp(tm_str(o, "kind"), "scred") == 0)
			gp_xasprintf(&d, _("Credential:    %s\nSession:       "
			    "%s\nHosts:         %s\n\nA session's credential "
			    "goes only to its label's usual API hosts, or\n"
			    "where you say: e changes them (empty: any host)."),
			    tm_str(o, "label"), tm_str(o, "sid"),
			    tm_str(o, "hosts"));
		else if (strcmp(tm_str(o, "kind"), "session") == 0)
			gp_xasprintf(&d, _("Session:       %s\nIdentity:      "
			    "%s\nCommand:       %s\nLabels:        %s\n"
			    "Time left:     %.0f s\nSubstitutions: %.0f\n"
			    "Substituted only for %s, inside HTTPS, and only "
			    "to:%s"), tm_str(o, "sid"), tm_str(o, "who"),
			    tm_str(o, "cmd"), tm_str(o, "labels"), tm_num(o,
			    "left"), tm_num(o, "subs"), tm_str(o, "who"),
			    tm_str(o, "bound"));
		else
			gp_xasprintf(&d, _("Credential:    %s\nPreview:       "
			    "%s\nPlaceholder:   %s\nHosts:         %s\n"
			    "Readable:      %s"), tm_str(o, "label"),
			    tm_str(o, "preview"), tm_str(o, "placeholder"),
			    tm_str(o, "hosts"), cJSON_IsTrue(
			    cJSON_GetObjectItemCaseSensitive(o, "readable")) ?
			    _("yes") : _("no: session.key is missing or another"));
		tui_open_detail(t, d);
		break;
	}
}

static void
creds_open(struct tui *t)
{
	tui_fetch(t, W_CREDS);
}

const struct view_ops view_creds = {
	N_("Creds"), C_CREDS, l_creds, creds_open, creds_draw, creds_key, NULL,
};
