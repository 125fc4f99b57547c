/* t-tui-model.c: the TUI's lists without a terminal: order, filter,
 * selection kept by id, the ring of log lines, the scope menu's rules. */
#include "config.h"

#include <locale.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tui/keys.h"
#include "tui/model.h"
#include "tui/tui-int.h"
#include "../lib/tap.h"

static cJSON *
pending(int id, const char *host, const char *seen)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", id);
	cJSON_AddStringToObject(o, "container_name", "agent");
	cJSON_AddStringToObject(o, "destination_host", host);
	cJSON_AddNumberToObject(o, "destination_port", 443);
	cJSON_AddStringToObject(o, "last_seen", seen);
	return o;
}

static const char *
host_at(struct tm_list *l, size_t i)
{
	return tm_str(tm_list_row(l, i), "destination_host");
}

/* The id index agrees with the items (lookups by id use it). */
static int
ids_kept(const struct tm_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (l->ids[i] != tm_id(l->v[i]))
			return 0;
	return 1;
}

int
main(void)
{
	struct tm_list	l;
	cJSON		*a;
	char		 buf[256];
	int		 i;

	memset(&l, 0, sizeof l);
	l.cmp = tm_cmp_pending;
	a = cJSON_CreateArray();
	cJSON_AddItemToArray(a, pending(1, "old.example", "2026-01-01T10:00:00Z"));
	cJSON_AddItemToArray(a, pending(2, "new.example", "2026-01-01T10:05:00Z"));
	cJSON_AddItemToArray(a, pending(3, "mid.npmjs.org", "2026-01-01T10:02:00Z"));
	tm_list_set(&l, a);
	is_str(host_at(&l, 0), "new.example", "newest first");
	is_str(host_at(&l, 2), "old.example", "oldest last");
	tm_list_move(&l, 1);
	is_str(tm_str(tm_list_selected(&l), "destination_host"),
	    "mid.npmjs.org", "move selects the next row");

	/* A newer entry arrives: the selection stays on its item. */
	cJSON_AddItemToArray(a, pending(4, "newer.example",
	    "2026-01-01T10:09:00Z"));
	tm_list_set(&l, a);
	is_str(host_at(&l, 0), "newer.example", "new item on top");
	is_str(tm_str(tm_list_selected(&l), "destination_host"),
	    "mid.npmjs.org", "selection kept by id, not row");
	is_int(l.sel, 2, "cursor row moved with its item");

	tm_list_set_filter(&l, "NPMJS");
	is_int(l.nvis, 1, "filter is case-insensitive substring");
	is_str(tm_str(tm_list_selected(&l), "destination_host"),
	    "mid.npmjs.org", "selection survives filtering");
	tm_list_set_filter(&l, "443");
	is_int(l.nvis, 4, "filter matches numbers too");
	tm_list_set_filter(&l, "zzz");
	is_int(l.nvis, 0, "filter can hide everything");
	ok(tm_list_selected(&l) == NULL, "no selection when empty");
	tm_list_set_filter(&l, "");

	/* The selected item disappears: the cursor stays at its row. */
	cJSON_DeleteItemFromArray(a, 2);	/* id 3 */
	tm_list_set(&l, a);
	is_int(l.nvis, 3, "item removed");
	is_int(l.sel, 2, "cursor stays on the same row");
	tm_list_end(&l);
	is_int(l.sel, 2, "end");
	tm_list_home(&l);
	is_int(l.sel, 0, "home");
	tm_list_move(&l, -5);
	is_int(l.sel, 0, "clamped at the top");

	/* Scrolling keeps the selection visible. */
	for (i = 0; i < 3; i++)
		tm_list_move(&l, 1);
	tm_list_scroll(&l, 2);
	ok(l.sel >= l.top && l.sel < l.top + 2, "scrolled to the selection");

	/* Scope menu: the rule each choice would store. */
	{
		cJSON		 *p = pending(9, "registry.npmjs.org", "x");
		struct tm_pending tp;

		/* Decoded once into the typed row the views read. */
		tm_decode_pending(p, &tp);
		is_str(tp.host, "registry.npmjs.org", "decoded host");
		is_int(tp.port, 443, "decoded port");
		is_str(tp.container, "agent", "decoded source");
		tm_scope_preview(&tp, "exact", buf, sizeof buf);
		is_str(buf, "agent \u2192 registry.npmjs.org:443", "exact");
		tm_scope_preview(&tp, "any_port", buf, sizeof buf);
		is_str(buf, "agent \u2192 registry.npmjs.org:*", "any port");
		tm_scope_preview(&tp, "subdomain_wildcard", buf, sizeof buf);
		is_str(buf, "agent \u2192 *.npmjs.org:*", "parent domain");
		tm_scope_preview(&tp, "all_containers", buf, sizeof buf);
		is_str(buf, "* \u2192 registry.npmjs.org:443", "every source");
		tm_scope_preview(&tp, "once", buf, sizeof buf);
		is_str(buf, "no rule stored", "once");
		/* An address has no parent domain: the preview says so
		 * rather than repeat "any port" silently. */
		cJSON_Delete(p);
		p = pending(10, "10.1.2.3", "x");
		tm_decode_pending(p, &tp);
		tm_scope_preview(&tp, "subdomain_wildcard", buf, sizeof buf);
		is_str(buf, "agent \u2192 10.1.2.3:* (an address has no parent "
		    "domain)", "parent domain of an address");
		tm_scope_preview(&tp, "any_port", buf, sizeof buf);
		is_str(buf, "agent \u2192 10.1.2.3:*", "any port of an address");
		is_str(tm_scope_choices[2].scope, "subdomain_wildcard",
		    "menu order: third is the parent domain");
		is_str(tm_duration_choices[3].duration, "24h",
		    "duration menu maps to the API's words");
		cJSON_Delete(p);
	}
	cJSON_Delete(a);
	tm_list_free(&l);

	/* A log row: its rule's summary, or (a live row) its rule's id. */
	{
		cJSON		*o = cJSON_CreateObject();
		struct tm_log	 e;

		cJSON_AddNumberToObject(o, "rule_id", 12);
		tm_decode_log(o, &e);
		is_str(e.rule_summary, "rule #12", "a live row names its rule "
		    "by id");
		cJSON_AddStringToObject(o, "rule_summary", "* \u2192 h:*");
		tm_decode_log(o, &e);
		is_str(e.rule_summary, "* \u2192 h:*", "a stored row, by its "
		    "summary");
		cJSON_DeleteItemFromObject(o, "rule_id");
		cJSON_DeleteItemFromObject(o, "rule_summary");
		tm_decode_log(o, &e);
		is_str(e.rule_summary, "", "no rule: nothing");
		cJSON_Delete(o);
	}

	/* Activity: a ring of log lines, newest first, following the head. */
	memset(&l, 0, sizeof l);
	l.max = 3;
	for (i = 0; i < 5; i++) {
		cJSON *e = cJSON_CreateObject();

		snprintf(buf, sizeof buf, "h%d", i);
		cJSON_AddStringToObject(e, "destination_host", buf);
		tm_list_push(&l, e);
		cJSON_Delete(e);
	}
	is_int(l.n, 3, "ring keeps max lines");
	is_str(host_at(&l, 0), "h4", "newest line first");
	is_str(host_at(&l, 2), "h2", "oldest kept last");
	ok(tm_id(tm_list_selected(&l)) == -5, "lines get sequence ids "
	    "(negative: never a stored row's)");
	tm_list_move(&l, 1);
	{
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "destination_host", "h5");
		tm_list_push(&l, e);
		cJSON_Delete(e);
	}
	is_str(tm_str(tm_list_selected(&l), "destination_host"), "h3",
	    "a reader scrolled down is not moved by new lines");
	tm_list_free(&l);

	/* A line with a stored id that is listed already (a fetch answered
	 * after its event came): the line once, as it is now. */
	memset(&l, 0, sizeof l);
	l.max = 10;
	for (i = 0; i < 3; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddNumberToObject(e, "id", 100 + i);
		cJSON_AddStringToObject(e, "destination_host", "old");
		tm_list_push(&l, e);
		cJSON_Delete(e);
	}
	{
		cJSON *e = cJSON_CreateObject();

		cJSON_AddNumberToObject(e, "id", 101);
		cJSON_AddStringToObject(e, "destination_host", "again");
		tm_list_push(&l, e);
		cJSON_Delete(e);
	}
	is_int(l.n, 3, "an id listed already is not listed twice");
	ok(tm_list_row(&l, 1) != NULL && tm_id(tm_list_row(&l, 1)) == 101 &&
	    strcmp(tm_str(tm_list_row(&l, 1), "destination_host"), "again") ==
	    0, "it keeps its place, with what came last");
	tm_list_free(&l);

	/* Home, then a move before the next frame: the view starts at the
	 * first line, not at the selection. */
	{
		struct tm_list	big;
		int		k;

		memset(&big, 0, sizeof big);
		big.max = 500;
		for (k = 0; k < 300; k++) {
			cJSON *e = cJSON_CreateObject();

			cJSON_AddNumberToObject(e, "id", k + 1);
			tm_list_push(&big, e);
			cJSON_Delete(e);
		}
		tm_list_end(&big);
		tm_list_scroll(&big, 20);
		tm_list_home(&big);
		tm_list_move(&big, 5);
		tm_list_scroll(&big, 20);
		ok(big.top == 0 && big.sel == 5, "g then j j j j j: the first "
		    "lines in view, the sixth selected");
		tm_list_free(&big);
	}

	/*
	 * Lines pushed by events have no id yet (the log row is written
	 * later): theirs must never be taken for a stored row's id.  A
	 * reader at the head, then the list fetched, stays at the head
	 * (it jumped to the stored row whose id equalled the newest
	 * event line's).
	 */
	{
		struct tm_list	ring;
		cJSON		*arr = cJSON_CreateArray();
		int		 k;

		memset(&ring, 0, sizeof ring);
		ring.max = 500;
		for (k = 0; k < 3; k++) {
			cJSON *e = cJSON_CreateObject();

			cJSON_AddStringToObject(e, "destination_host", "ev");
			tm_list_push(&ring, e);
			cJSON_Delete(e);
		}
		for (k = 54; k >= 1; k--) {
			cJSON *e = cJSON_CreateObject();

			cJSON_AddNumberToObject(e, "id", k);
			cJSON_AddStringToObject(e, "destination_host", "row");
			cJSON_AddItemToArray(arr, e);
		}
		ok(ring.sel == 0 && tm_id(tm_list_selected(&ring)) < 0,
		    "event lines get ids no stored row has");
		tm_list_set(&ring, arr);
		is_int(ring.sel, 0, "fetched at the head: the head stays "
		    "selected");
		cJSON_Delete(arr);
		tm_list_free(&ring);
	}

	/*
	 * A push costs the new line only (no rebuild of the list), and
	 * leaves what a rebuild would: the same visible lines, typed rows
	 * and selection, through a filter, the ring's end, a reader
	 * scrolled down and one at the head.
	 */
	{
		struct tm_list	a2, b2;
		int		same = 1, rows = 1, k;
		uint64_t	r = 42;

		memset(&a2, 0, sizeof a2);
		a2.max = 50;
		a2.decode = tm_decode_log;
		a2.tsize = sizeof(struct tm_log);
		tm_list_set_filter(&a2, "keep");
		for (k = 0; k < 400; k++) {
			cJSON	*e = cJSON_CreateObject();
			size_t	 j;

			snprintf(buf, sizeof buf, "%s%d.test",
			    gp_xorshift64(&r) % 3 ? "keep" : "drop", k);
			cJSON_AddStringToObject(e, "destination_host", buf);
			cJSON_AddNumberToObject(e, "id", k + 1);
			tm_list_push(&a2, e);
			cJSON_Delete(e);
			if (k % 37 == 5)
				tm_list_move(&a2, 3);	/* scrolled down */
			if (k % 53 == 7)
				tm_list_home(&a2);	/* back at the head */
			/* The same lines, rebuilt from scratch. */
			memset(&b2, 0, sizeof b2);
			b2.max = 50;
			b2.decode = tm_decode_log;
			b2.tsize = sizeof(struct tm_log);
			{
				cJSON *arr = cJSON_CreateArray();

				for (j = 0; j < a2.n; j++)
					cJSON_AddItemToArray(arr,
					    cJSON_Duplicate(a2.v[j], 1));
				b2.sel_id = a2.sel_id;
				snprintf(b2.filter, sizeof b2.filter, "keep");
				tm_list_set(&b2, arr);
				cJSON_Delete(arr);
			}
			if (a2.nvis != b2.nvis || a2.sel != b2.sel ||
			    a2.sel_id != b2.sel_id || !ids_kept(&a2))
				same = 0;
			for (j = 0; same && j < a2.nvis; j++) {
				const struct tm_log *x = tm_list_item(&a2, j);
				const struct tm_log *y = tm_list_item(&b2, j);

				if (a2.vis[j] != b2.vis[j] || x->id != y->id ||
				    strcmp(x->host, y->host) != 0)
					same = 0;
			}
			if (a2.ntyped != a2.n)
				rows = 0;
			tm_list_free(&b2);
		}
		ok(same, "push: the lines, rows and selection of a rebuild");
		ok(rows && a2.n == 50, "push: one row a line, the ring kept");
		tm_list_free(&a2);
	}

	/*
	 * The pending list under a burst: entries added, updated, their
	 * waiting count set and removed one event at a time are placed
	 * where a full sort would put them, with the same typed rows,
	 * visible lines and selection.
	 */
	{
		struct tm_list	a3, b3;
		int		same = 1, k, ops = 0;
		uint64_t	r = 7;
		int64_t		next = 1;

		memset(&a3, 0, sizeof a3);
		a3.cmp = tm_cmp_pending;
		a3.decode = tm_decode_pending;
		a3.tsize = sizeof(struct tm_pending);
		for (k = 0; k < 600; k++) {
			unsigned	what = (unsigned)(gp_xorshift64(&r) % 10);
			int64_t		id = a3.n > 0 ? tm_id(a3.v[gp_xorshift64(&r)
			    % a3.n]) : 0;
			size_t		j;

			if (k == 300)
				tm_list_set_filter(&a3, "7");
			if (what < 5 || id == 0) {	/* new, or an update */
				cJSON	*e = cJSON_CreateObject();

				cJSON_AddNumberToObject(e, "id", what < 4 ||
				    id == 0 ? (double)next++ : (double)id);
				snprintf(buf, sizeof buf, "h%llu.test",
				    (unsigned long long)(gp_xorshift64(&r) %
				    1000));
				cJSON_AddStringToObject(e, "destination_host",
				    buf);
				snprintf(buf, sizeof buf, "2026-01-01T00:%02u:%02uZ",
				    (unsigned)(gp_xorshift64(&r) % 60),
				    (unsigned)(gp_xorshift64(&r) % 60));
				cJSON_AddStringToObject(e, "last_seen", buf);
				cJSON_AddNumberToObject(e, "waiting",
				    (double)(gp_xorshift64(&r) % 3));
				tm_list_upsert(&a3, e);
				cJSON_Delete(e);
			} else if (what < 8) {
				tm_list_set_num(&a3, id, "waiting",
				    (double)(gp_xorshift64(&r) % 2));
			} else {
				tm_list_remove(&a3, id);
			}
			if (k % 29 == 3)
				tm_list_move(&a3, 2);
			ops++;
			memset(&b3, 0, sizeof b3);
			b3.cmp = tm_cmp_pending;
			b3.decode = tm_decode_pending;
			b3.tsize = sizeof(struct tm_pending);
			snprintf(b3.filter, sizeof b3.filter, "%s", a3.filter);
			b3.sel_id = a3.sel_id;
			{
				cJSON *arr = cJSON_CreateArray();

				for (j = 0; j < a3.n; j++)
					cJSON_AddItemToArray(arr,
					    cJSON_Duplicate(a3.v[j], 1));
				tm_list_set(&b3, arr);
				cJSON_Delete(arr);
			}
			if (a3.n != b3.n || a3.nvis != b3.nvis ||
			    a3.ntyped != a3.n || (a3.nvis > 0 &&
			    a3.sel_id != b3.sel_id) || !ids_kept(&a3))
				same = 0;
			for (j = 0; same && j < a3.n; j++) {
				const struct tm_pending *x = a3.typed[j];

				if (tm_id(a3.v[j]) != tm_id(b3.v[j]) ||
				    x->id != tm_id(a3.v[j]) ||
				    x->waiting != (int)tm_num(a3.v[j],
				    "waiting"))
					same = 0;
			}
			for (j = 0; same && j < a3.nvis; j++)
				if (a3.vis[j] != b3.vis[j])
					same = 0;
			tm_list_free(&b3);
		}
		ok(same, "pending: %d events one by one leave what a sort "
		    "of the whole list does", ops);
		ok(a3.n > 20, "pending: the burst left entries to compare "
		    "(%zu)", a3.n);
		tm_list_free(&a3);
	}

	/* Pushed events applied to a list: upsert, a field, removal. */
	{
		struct tm_list	ev;
		cJSON		*ea = cJSON_Parse("{\"id\":1,\"waiting\":1,"
		    "\"last_seen\":\"2026-01-01T00:00:01Z\"}");
		cJSON		*eb = cJSON_Parse("{\"id\":2,\"waiting\":1,"
		    "\"last_seen\":\"2026-01-01T00:00:02Z\"}");
		cJSON		*ea2 = cJSON_Parse("{\"id\":1,\"waiting\":3,"
		    "\"last_seen\":\"2026-01-01T00:00:03Z\"}");

		memset(&ev, 0, sizeof ev);
		ev.cmp = tm_cmp_pending;
		tm_list_upsert(&ev, ea);
		tm_list_upsert(&ev, eb);
		is_int(ev.n, 2, "two created events, two items");
		is_int(tm_id(tm_list_row(&ev, 0)), 2, "newest on top");
		tm_list_upsert(&ev, ea2);
		is_int(ev.n, 2, "an update replaces, never duplicates");
		is_int(tm_id(tm_list_row(&ev, 0)), 1, "the updated one moves up");
		ok(tm_list_set_num(&ev, 2, "waiting", 0), "waiters.changed applied");
		is_int(tm_id(tm_list_row(&ev, 1)), 2, "nobody waiting: below");
		ok(!tm_list_set_num(&ev, 9, "waiting", 1), "unknown id: reported");
		ok(tm_list_remove(&ev, 1) && ev.n == 1, "an allowed event removes");
		tm_list_mark(&ev, 2);
		ok(tm_list_marked(&ev, 2), "marked");
		tm_list_remove(&ev, 2);
		tm_list_set(&ev, NULL);
		is_int(ev.nmarks, 0, "marks go with their items");
		tm_list_free(&ev);
		cJSON_Delete(ea);
		cJSON_Delete(eb);
		cJSON_Delete(ea2);
	}
	/* Hosts keep their right end. */
	{
		char out[128];

		tm_fit_right_end("registry.example.org.evil.test:443", 20, out,
		    sizeof out);
		ok(strstr(out, "evil.test:443") != NULL &&
		    strncmp(out, "\xe2\x80\xa6", 3) == 0,
		    "narrow: cut on the left: %s", out);
		tm_fit_right_end("host12.a-very-long-name.registry.example.org."
		    "evil.test:8443", 34, out, sizeof out);
		ok(strncmp(out, "host12.a-ve\xe2\x80\xa6", 14) == 0 &&
		    strstr(out, "org.evil.test:8443") != NULL,
		    "wide: a short head and the right end: %s", out);
		tm_fit_right_end("a.test:80", 12, out, sizeof out);
		is_str(out, "a.test:80   ", "short hosts are padded, not cut");
	}

	/* The man page documents every key of the table. */
	{
		const char	*top = getenv("TOP_SRCDIR");
		char		 path[1024], *man = NULL;
		FILE		*f;
		long		 len;
		int		 k, missing = 0;

		snprintf(path, sizeof path, "%s/doc/greyproxy.1",
		    top ? top : ".");
		if ((f = fopen(path, "r")) != NULL) {
			fseek(f, 0, SEEK_END);
			len = ftell(f);
			fseek(f, 0, SEEK_SET);
			man = calloc(1, (size_t)len + 1);
			if (fread(man, 1, (size_t)len, f) != (size_t)len)
				len = 0;
			fclose(f);
		}
		ok(man != NULL, "man page readable");
		for (k = 0; man != NULL && k < GP_A__COUNT; k++) {
			if (strstr(man, gp_keydefs[k].help) == NULL) {
				printf("# not in the man page: %s\n",
				    gp_keydefs[k].help);
				missing++;
			}
		}
		is_int(missing, 0, "every key's help text is in the man page");
		free(man);
	}

	/* A transaction: the row, and the details' text. */
	{
		cJSON		*o = cJSON_Parse("{\"id\":7,\"timestamp\":"
		    "\"2026-11-24T05:00:01Z\",\"container_name\":\"agent\","
		    "\"destination_host\":\"api.example\",\"destination_port\""
		    ":443,\"method\":\"POST\",\"url\":\"https://api.example/v1"
		    "/x?q=1\",\"status_code\":200,\"complete\":false,\"tls\":"
		    "true,\"request_headers\":{\"Authorization\":"
		    "[\"[REDACTED]\"],\"X-Two\":[\"a\",\"b\"]},"
		    "\"request_body\":\"{\\\"model\\\":\\\"m\\\",\\\"n\\\""
		    ":[1,2]}\",\"request_body_size\":25,"
		    "\"response_body\":null,\"response_body_binary\":true,"
		    "\"response_body_size\":300,\"response_headers\":"
		    "{\"Evil\":[\"a\\u001b[2Jb\"]}}");
		struct tm_tx	 x;
		char		*text;

		ok(o != NULL, "transaction JSON parses");
		tm_decode_tx(o, &x);
		ok(x.id == 7 && x.port == 443 && x.status == 200 &&
		    !x.complete && x.tls, "tx: decoded");
		is_str(x.url + x.path_off, "/v1/x?q=1", "tx: the path");
		text = tm_tx_text(o, 1000);
		ok(strstr(text, "POST https://api.example/v1/x?q=1\n") == text,
		    "tx text: the request line first");
		ok(strstr(text, "Authorization: [REDACTED]\n") != NULL &&
		    strstr(text, "X-Two: a\nX-Two: b\n") != NULL,
		    "tx text: each header value a line");
		ok(strstr(text, "\"model\":  \"m\"") != NULL ||
		    strstr(text, "\"model\": \"m\"") != NULL,
		    "tx text: JSON pretty-printed");
		ok(strstr(text, "(binary: not shown)") != NULL,
		    "tx text: binary said as such");
		ok(strstr(text, "\033") == NULL && strstr(text, "a?[2Jb") !=
		    NULL, "tx text: an escape sequence is shown, not sent");
		ok(strstr(text, "\n\n") == NULL,
		    "tx text: no empty line (the details would drop it)");
		ok(strstr(text, "incomplete") != NULL, "tx text: incomplete");
		free(text);
		cJSON_Delete(o);
	}

	/* What reaches the screen: safe, and cut and padded by columns. */
	ok(setlocale(LC_ALL, "C.UTF-8") != NULL, "C.UTF-8 locale (glibc's)");
	{
		char	cell[128];
		int	cols;

		cols = gp_text_fit(cell, sizeof cell, "weird\xe2\x80\xaename", 16, 1);
		is_str(cell, "weird<U+202E>nam", "fit: a bidi override is shown "
		    "as its code point, and counts its columns");
		ok(cols == 16, "fit: 16 columns");
		cols = gp_text_fit(cell, sizeof cell, "R\xc3\xa9glages\xe7\x95\x8c",
		    16, 1);
		is_str(cell, "R\xc3\xa9glages\xe7\x95\x8c      ", "fit: padded "
		    "by columns ('\xc3\xa9' one, a CJK character two)");
		ok(cols == 16, "fit: padded to 16 columns");
		gp_text_fit(cell, sizeof cell, "\xe7\x95\x8c\xe7\x95\x8c", 3, 1);
		is_str(cell, "\xe7\x95\x8c ", "fit: a wide character that would "
		    "cross the edge is left out, never cut");
		gp_text_fit(cell, sizeof cell, "a\xff\x1b[2Jb\x01", -1, 0);
		is_str(cell, "a\\xff?[2Jb?", "fit: bytes that are not UTF-8 "
		    "as \\xNN, control characters as '?'");
		gp_text_fit(cell, sizeof cell, "x\xf3\xa0\x81\x81y\xe2\x80\x8b", -1,
		    0);
		is_str(cell, "x<U+E0041>y<U+200B>", "fit: tag characters and "
		    "zero-width spaces shown");
		gp_text_fit(cell, 8, "0123456789", 20, 1);
		is_str(cell, "0123456", "fit: cut where the buffer ends");
	}

	tm_age(42, buf, sizeof buf);
	is_str(buf, "42s", "age seconds");
	tm_age(7200, buf, sizeof buf);
	is_str(buf, "2h", "age hours");
	return tap_done();
}
