/*
 * t-store.c: batched writes with the counting triggers off.  A batch of
 * transactions and a flush of the connection log insert with their
 * connection's triggers off and add what the triggers would have added
 * at once; the counts must come out as the triggers' own, a failed batch
 * must add nothing, and the triggers must be on again afterwards for
 * every other writer.  The capture borrows the log writer's connection
 * between its batches: rows handed over meanwhile wait for it, and a
 * failure there is the borrower's, not the log's.  The loop's own
 * commits never checkpoint: the writer thread does it for them.  The
 * loop's connection gets the write lock first: a background writer
 * ends its transaction at its next step and waits for the loop's.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "core/core.h"
#include "store/store-int.h"
#include "../lib/tap.h"
#include "../lib/tmpstore.h"

static struct gp_store *st;

#define TX_SUM	"SELECT ifnull(sum(ifnull(length(request_body), 0) +" \
		" ifnull(length(response_body), 0) +" \
		" ifnull(length(request_headers), 0) +" \
		" ifnull(length(response_headers), 0) + length(url)), 0)" \
		" FROM http_transactions"

static void
row(struct gp_tx_row *r, int i)
{
	static char	url[64];
	/* characters, not bytes, are what length() counts for text */
	static const char *heads[] = { "{\"X\":[\"caf\xc3\xa9\"]}", NULL,
	    "{\"A\":[\"\xe2\x82\xac\xe2\x82\xac\"]}" };
	static const char body[] = "{\"x\":\"\xc3\xa9\"}\0binary";

	memset(r, 0, sizeof *r);
	snprintf(url, sizeof url, "https://h%d.example/p\xc3\xa9%d", i, i);
	r->ts = 1790000000 + i;
	r->container = "agent";
	r->host = "h.example";
	r->port = 443;
	r->method = "POST";
	r->url = url;
	r->req_headers = heads[i % 3];
	r->resp_headers = heads[(i + 1) % 3];
	r->req_body = body;
	r->req_len = i % 2 ? sizeof body - 1 : 0;
	r->req_size = (int64_t)r->req_len;
	r->resp_body = body;
	r->resp_len = i % 3 ? 5 : 0;
	r->resp_size = (int64_t)r->resp_len;
	r->status = 200;
	r->complete = 1;
}

static void
transactions(void)
{
	struct gp_tx_row	r;
	int64_t			id, first = 0, last = 0, before;
	int			i, rc = 0;

	ok(gp_store_tx_batch_begin(st) == 0, "a batch begins");
	for (i = 0; i < 50 && rc == 0; i++) {
		row(&r, i);
		rc = gp_store_tx_insert(st, &r, &id);
		if (first == 0)
			first = id;
		last = id;
	}
	is_int(rc, 0, "fifty rows inserted");
	is_int(gp_store_tx_batch_end(st, first, last, 1), 0, "and committed");
	is_int(gp_store_int(st, "SELECT count(*) FROM http_transactions"), 50,
	    "all stored");
	before = gp_store_int(st, "SELECT n FROM tx_bytes");
	ok(before > 0, "the batch's bytes are counted");
	is_int(before, gp_store_int(st, TX_SUM),
	    "as the trigger counts them, characters for text");

	/* a failed batch: nothing stored, nothing added */
	ok(gp_store_tx_batch_begin(st) == 0, "another batch begins");
	row(&r, 7);
	is_int(gp_store_tx_insert(st, &r, &id), 0, "a row inserted");
	is_int(gp_store_tx_batch_end(st, id, id, 0), 0, "then rolled back");
	is_int(gp_store_int(st, "SELECT count(*) FROM http_transactions"), 50,
	    "the rolled-back row is gone");
	is_int(gp_store_int(st, "SELECT n FROM tx_bytes"), before,
	    "and its bytes were never added");

	/* the triggers are on again: another writer's rows are counted */
	ok(sqlite3_exec(st->db, "INSERT INTO http_transactions"
	    " (container_name, destination_host, destination_port, method,"
	    " url, response_body) VALUES ('x', 'y', 80, 'GET',"
	    " 'http://y/', zeroblob(1000))", NULL, NULL, NULL) == SQLITE_OK,
	    "a row inserted by SQL");
	is_int(gp_store_int(st, "SELECT n FROM tx_bytes"),
	    before + 1000 + (int64_t)strlen("http://y/"),
	    "the insert trigger counts it");
	ok(sqlite3_exec(st->db, "DELETE FROM http_transactions WHERE id <= 10",
	    NULL, NULL, NULL) == SQLITE_OK, "ten rows deleted");
	is_int(gp_store_int(st, "SELECT n FROM tx_bytes"),
	    gp_store_int(st, TX_SUM), "the delete trigger keeps the count");
}

/* n more rows in one batch, their times from ts0 on. */
static void
tx_rows(int n, int64_t ts0)
{
	struct gp_tx_row	r;
	int64_t			id, first = 0, last = 0;
	int			i, rc = 0;

	gp_store_tx_batch_begin(st);
	for (i = 0; i < n && rc == 0; i++) {
		row(&r, i);
		r.ts = ts0 + i;
		rc = gp_store_tx_insert(st, &r, &id);
		if (first == 0)
			first = id;
		last = id;
	}
	gp_store_tx_batch_end(st, first, last, rc == 0);
}

/* The rows the size cap must delete: the fewest oldest whose sizes add
 * up to the excess. */
static int64_t
needed(int64_t cap)
{
	char	sql[512];

	snprintf(sql, sizeof sql, "SELECT count(*) + 1 FROM (SELECT sum("
	    "ifnull(length(request_body), 0) + ifnull(length(response_body),"
	    " 0) + ifnull(length(request_headers), 0) +"
	    " ifnull(length(response_headers), 0) + length(url)) OVER"
	    " (ORDER BY id) AS run FROM http_transactions) WHERE run <"
	    " (SELECT n FROM tx_bytes) - %lld", (long long)cap);
	return gp_store_int(st, sql);
}

/*
 * Retention in steps that keep up: thousands of rows over the cap go in
 * one step (in transactions of a thousand), exactly as many as the cap
 * needs; a step stops at its limit and says there is more; by age, the
 * old rows go and the recent stay.  The byte count stays the rows' own.
 */
static void
tx_retention(void)
{
	int64_t	total, cap, want, count;
	int	n, more;

	sqlite3_exec(st->db, "DELETE FROM http_transactions", NULL, NULL,
	    NULL);
	tx_rows(6000, 1790000000);
	total = gp_store_int(st, "SELECT n FROM tx_bytes");
	is_int(total, gp_store_int(st, TX_SUM), "6000 rows counted");
	cap = total / 2;
	want = needed(cap);
	ok(want > 2000, "half the bytes is over 2000 rows (%lld)",
	    (long long)want);
	count = gp_store_tx_count(st);
	n = gp_store_tx_prune(st, 0, cap, 100000, &more);
	is_int(n, want, "one step deletes them all, in several transactions");
	is_int(more, 0, "and is done");
	is_int(gp_store_tx_count(st), count - want, "the oldest went");
	ok(gp_store_int(st, "SELECT n FROM tx_bytes") <= cap,
	    "the rows are within the cap");
	is_int(gp_store_int(st, "SELECT n FROM tx_bytes"),
	    gp_store_int(st, TX_SUM), "the count is the rows' own");
	is_int(needed(cap), 1, "none is left over it");
	n = gp_store_tx_prune(st, 0, cap, 100000, &more);
	is_int(n, 0, "within the cap: nothing to do");

	/* a step stops at its limit, and says so */
	n = gp_store_tx_prune(st, 0, cap / 4, 1500, &more);
	ok(n >= 1500 && n <= 2500, "a step stops near its limit (%d)", n);
	is_int(more, 1, "saying there is more");
	while (more && n > 0)
		n = gp_store_tx_prune(st, 0, cap / 4, 1500, &more);
	ok(gp_store_int(st, "SELECT n FROM tx_bytes") <= cap / 4,
	    "the next steps finish it");

	/* by age: before a time, however many */
	sqlite3_exec(st->db, "DELETE FROM http_transactions", NULL, NULL,
	    NULL);
	tx_rows(4000, 1790000000);
	n = gp_store_tx_prune(st, 1790000000 + 3500, 0, 100000, &more);
	is_int(n, 3500, "the 3500 older rows went, in one step");
	is_int(gp_store_tx_count(st), 500, "the recent 500 stay");
	is_int(gp_store_int(st, "SELECT n FROM tx_bytes"),
	    gp_store_int(st, TX_SUM), "the count is still the rows' own");
}

/* Pushes n log rows for host from ts on; allowed unless every third. */
static void
push_rows(const char *host, int n, int64_t ts, int thirds)
{
	struct gp_conn_log	l = { 0 };
	int			i;

	l.container = "agent";
	l.method = "HTTP";
	l.request = "GET http://h/";
	l.host = host;
	l.port = 80;
	l.reason = "";
	for (i = 0; i < n; i++) {
		l.ts = ts + i;
		l.allowed = !thirds || i % 3 != 0;
		gp_store_log_push(st, &l);
	}
}

static void
logs(void)
{
	push_rows("h.example", 37, 1790000000, 1);	/* 24 allowed, 13 blocked */

	ok(gp_store_log_flush(st) == 37, "a flush writes the 37 rows");
	is_int(gp_store_int(st, "SELECT n FROM log_counts"
	    " WHERE result = 'allowed'"), 24, "24 counted allowed");
	is_int(gp_store_int(st, "SELECT n FROM log_counts"
	    " WHERE result = 'blocked'"), 13, "13 counted blocked");
	ok(sqlite3_exec(st->db, "INSERT INTO request_logs (container_name,"
	    " destination_host, result) VALUES ('x', 'y', 'blocked')",
	    NULL, NULL, NULL) == SQLITE_OK, "a row inserted by SQL");
	is_int(gp_store_int(st, "SELECT n FROM log_counts"
	    " WHERE result = 'blocked'"), 14,
	    "the trigger is on again and counts it");
	is_int(gp_store_int(st, "SELECT n FROM log_counts"
	    " WHERE result = 'allowed'"), gp_store_int(st, "SELECT count(*)"
	    " FROM request_logs WHERE result = 'allowed'"),
	    "the counts match the table");
}

/*
 * A tunnel's row: queued when it opens (its id given at once, in
 * order), completed by id when it closes (bytes and duration, counted
 * nowhere); an id taken by a row written by another hand is kept under
 * -id, and the rows after it keep theirs.
 */
static void
tunnels(void)
{
	struct gp_conn_log	l = { 0 }, u;
	int64_t			id, blocked, next, taken;
	char			q[160];

	/* (logs() wrote a row by SQL under the next id: one row takes it.) */
	push_rows("first.example", 1, 1790000150, 0);
	gp_store_log_flush(st);
	l.container = "agent";
	l.method = "SOCKS5";
	l.request = "CONNECT tun.example:443";
	l.host = "tun.example";
	l.port = 443;
	l.reason = "";
	l.allowed = 1;
	l.ts = 1790000200;
	id = gp_store_log_push(st, &l);
	ok(id > gp_store_int(st, "SELECT max(id) FROM request_logs"),
	    "an opening row's id, given before it is written (%lld)",
	    (long long)id);
	blocked = gp_store_int(st, "SELECT n FROM log_counts"
	    " WHERE result = 'allowed'");
	gp_store_log_flush(st);
	snprintf(q, sizeof q, "SELECT bytes_down FROM request_logs WHERE id ="
	    " %lld", (long long)id);
	is_int(gp_store_int(st, q), 0, "written with that id, nothing "
	    "relayed yet");
	u = l;
	u.update_of = id;
	u.bytes_up = 10;
	u.bytes_down = 20;
	u.duration_ms = 5;
	is_int(gp_store_log_push(st, &u), id, "its closing: the same id");
	gp_store_log_flush(st);
	is_int(gp_store_int(st, q), 20, "completed with its bytes");
	is_int(gp_store_int(st, "SELECT count(*) FROM request_logs WHERE"
	    " destination_host = 'tun.example'"), 1, "one row");
	is_int(gp_store_int(st, "SELECT n FROM log_counts WHERE result ="
	    " 'allowed'"), blocked + 1, "counted once");
	/* An update whose row is another destination's changes nothing. */
	u.host = "other.example";
	u.bytes_down = 99;
	gp_store_log_push(st, &u);
	gp_store_log_flush(st);
	is_int(gp_store_int(st, q), 20, "an update checks the destination");

	/* The next id, taken behind the log's back. */
	next = gp_store_int(st, "SELECT max(id) FROM request_logs") + 1;
	snprintf(q, sizeof q, "INSERT INTO request_logs (id, container_name,"
	    " destination_host, result) VALUES (%lld, 'x', 'y', 'blocked')",
	    (long long)next + 1);
	ok(sqlite3_exec(st->db, q, NULL, NULL, NULL) == SQLITE_OK,
	    "an id the log will give, taken by SQL");
	taken = next + 1;
	l.host = "after.example";
	l.update_of = 0;
	push_rows("after.example", 4, 1790000300, 0);
	is_int(gp_store_log_flush(st), 4, "the rows after it are written");
	is_int(gp_store_int(st, "SELECT count(*) FROM request_logs WHERE"
	    " destination_host = 'after.example'"), 4, "all four");
	snprintf(q, sizeof q, "SELECT count(*) FROM request_logs WHERE id ="
	    " %lld", (long long)-taken);
	is_int(gp_store_int(st, q), 1, "the one whose id was taken, as -id");
	is_int(gp_store_int(st, "SELECT count(*) FROM request_logs WHERE"
	    " destination_host = 'after.example' AND id > 0"), 3,
	    "the others under their own ids (no cascade)");
}

static void
lend(void)
{
	struct gp_store		*w;
	struct gp_store_health	 h;
	char			 path[64], *err = NULL;
	int64_t			 before;
	uint64_t		 b;

	snprintf(path, sizeof path, "%s/db", tmpstore_dir);
	if (gp_store_writer_start(st, path, &err) != 0) {
		printf("Bail out! %s\n", err);
		exit(1);
	}
	before = gp_store_int(st, "SELECT count(*) FROM request_logs");
	w = gp_store_writer_lend(st);
	ok(w != NULL && w != st, "the writer's connection is lent");
	push_rows("lent.example", 5, 1790000100, 0);
	b = gp_store_log_barrier(st);
	is_int(gp_store_log_wait(st, b, 100), -1,
	    "rows handed over while it is lent wait for it");
	gp_store_batch_failed(w, -ENOSPC);
	gp_store_writer_back(st);
	is_int(gp_store_log_wait(st, b, 5000), 0, "and are written once back");
	is_int(gp_store_int(st, "SELECT count(*) FROM request_logs") - before,
	    5, "all five");
	gp_store_health(st, &h);
	is_int(h.failing, 0, "the borrower's failure is not the log's");
	w = gp_store_writer_lend(st);
	ok(w->failing == -ENOSPC && w->quiet,
	    "it is the borrower's again next time, and quiet");
	gp_store_batch_ok(w);
	gp_store_writer_back(st);
	gp_store_writer_stop(st);
	ok(gp_store_writer_lend(st) == NULL, "no writer: nothing to lend");
}

/* Frames the WAL file holds room for (4 KiB pages). */
static long
wal_frames(void)
{
	char		path[80];
	struct stat	sb;

	snprintf(path, sizeof path, "%s/db-wal", tmpstore_dir);
	if (stat(path, &sb) != 0)
		return -1;
	return (long)((sb.st_size - 32) / (4096 + 24));
}

static int
loop_insert(int rows)
{
	char	sql[256];

	snprintf(sql, sizeof sql, "INSERT INTO ck WITH RECURSIVE c(i) AS"
	    " (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d)"
	    " SELECT randomblob(3000) FROM c", rows);
	return sqlite3_exec(st->db, sql, NULL, NULL, NULL);
}

static void
checkpoints(void)
{
	char	path[64], *err = NULL;
	long	f1, f2;
	int	i;

	snprintf(path, sizeof path, "%s/db", tmpstore_dir);
	if (gp_store_writer_start(st, path, &err) != 0 ||
	    sqlite3_exec(st->db, "CREATE TABLE ck(b BLOB)", NULL, NULL,
	    NULL) != SQLITE_OK) {
		printf("Bail out! %s\n", err ? err : sqlite3_errmsg(st->db));
		exit(1);
	}
	/* the thread busy (lent): nobody checkpoints */
	ok(gp_store_writer_lend(st) != NULL, "the writer is busy");
	ok(loop_insert(2500) == SQLITE_OK && loop_insert(2500) == SQLITE_OK,
	    "two commits of 2 500 pages on the loop's connection");
	f1 = wal_frames();
	ok(f1 >= 5000, "neither checkpointed on the loop: the WAL holds both"
	    " (%ld frames)", f1);
	is_int((int64_t)gp_store_writer_checkpoints(st), 0,
	    "and the thread has not run one yet");
	gp_store_writer_back(st);
	for (i = 0; i < 5000 && gp_store_writer_checkpoints(st) == 0; i++)
		usleep(1000);
	ok(gp_store_writer_checkpoints(st) >= 1,
	    "once free, the thread checkpoints for the loop");
	ok(loop_insert(2500) == SQLITE_OK, "another commit on the loop");
	f2 = wal_frames();
	is_int(f2, f1, "it starts the WAL again: every frame was copied");
	is_int(gp_store_int(st, "SELECT count(*) FROM ck"), 7500,
	    "all rows are there");
	gp_store_writer_stop(st);
}

/* A background writer: one transaction of up to 2 000 steps of 1 ms,
 * ended early when the loop waits; then another. */
static struct bg {
	struct gp_store	*st;
	int		 began;		/* atomic */
	int		 steps;		/* run in the first transaction */
	uint64_t	 again_ns;	/* its second began */
} bg;

static void
bg_run(void *arg)
{
	struct bg	*b = arg;
	struct timespec	 ms = { 0, 1000000 };

	if (gp_store_begin(b->st) != 0)
		return;
	__atomic_store_n(&b->began, 1, __ATOMIC_RELEASE);
	for (b->steps = 0; b->steps < 2000 && !gp_store_urgent(); b->steps++)
		nanosleep(&ms, NULL);
	gp_store_commit(b->st);
	if (gp_store_begin(b->st) == 0) {	/* gives way first */
		b->again_ns = uv_hrtime();
		gp_store_commit(b->st);
	}
}

static void
priority(void)
{
	char		path[64], *err = NULL;
	uv_thread_t	t;
	uint64_t	t0, got;
	int		rc;

	snprintf(path, sizeof path, "%s/db", tmpstore_dir);
	if (gp_store_open(path, &bg.st, &err) != 0) {
		printf("Bail out! %s\n", err);
		exit(1);
	}
	gp_store_set_priority(st);
	uv_thread_create(&t, bg_run, &bg);
	while (!__atomic_load_n(&bg.began, __ATOMIC_ACQUIRE))
		sched_yield();
	is_int(gp_store_begin_within(st, 0), -1, "without waiting, the loop's"
	    " connection finds the lock taken");
	ok(bg.steps < 1000 && !gp_store_urgent(), "and the background writer"
	    " goes on: nobody waits");
	t0 = uv_hrtime();
	rc = gp_store_begin_within(st, 5000);
	got = uv_hrtime();
	ok(rc == 0, "waiting, the loop's connection gets the write lock");
	ok(bg.steps < 2000 && got - t0 < 1000000000ULL, "within a step of the"
	    " background writer's, which ended its transaction early (%d"
	    " steps of 1 ms, the wait %.1f ms)", bg.steps,
	    (double)(got - t0) / 1e6);
	sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	uv_thread_join(&t);
	ok(bg.again_ns > got, "the background's next transaction began after"
	    " the loop's");
	gp_store_close(bg.st);
}

/* DNS rows trimmed in bounded steps: expired ones, and those written
 * before the last keep. */
static void
dns_trim(void)
{
	static const unsigned char pkt[12];
	char	key[32], ip[32];
	int	i, n, steps = 0, most = 0;

	gp_store_begin(st);
	for (i = 0; i < 60; i++) {
		snprintf(key, sizeof key, "n%d.test|1|1", i);
		/* every third one expired by 2000 */
		gp_store_dns_answer(st, key, pkt, sizeof pkt, 1000,
		    i % 3 ? 5000 : 1500, 0);
		snprintf(ip, sizeof ip, "10.0.0.%d", i);
		gp_store_dns_host(st, ip, key, i % 3 ? 5000 : 1500);
	}
	gp_store_commit(st);
	while ((n = gp_store_dns_trim(st, 2000, 20, 30, 8)) > 0 && steps < 50) {
		most = n > most ? n : most;
		steps++;
	}
	is_int(n, 0, "trimming ends");
	ok(most <= 4 * 8, "each step deletes at most a step per query (%d)",
	    most);
	ok(steps > 1, "in several steps (%d)", steps);
	is_int(gp_store_int(st, "SELECT count(*) FROM dns_answers"
	    " WHERE expires_at <= 2000"), 0, "no expired answer is left");
	is_int(gp_store_int(st, "SELECT count(*) FROM dns_cache"
	    " WHERE expires_at <= 2000"), 0, "nor expired host");
	is_int(gp_store_int(st, "SELECT count(*) FROM dns_answers"
	    " WHERE key = 'n59.test|1|1'"), 1, "the newest are kept");
	/* the last 20 written, less their 6 expired; the last 30, less 10 */
	is_int(gp_store_int(st, "SELECT count(*) FROM dns_answers"), 14,
	    "no answer written before the last keep");
	is_int(gp_store_int(st, "SELECT count(*) FROM dns_cache"), 20,
	    "no host written before the last keep");
}

/*
 * The log's size cap is on the database without the transactions: one
 * full of transactions under their own cap keeps its log rows; a log
 * over the cap by itself loses its oldest.
 */
static void
log_cap(void)
{
	int64_t	used;
	int	n;

	/* the other tests' rows and tables out of the way */
	sqlite3_exec(st->db, "DELETE FROM http_transactions;"
	    " DELETE FROM request_logs; DROP TABLE IF EXISTS ck", NULL, NULL,
	    NULL);
	ok(sqlite3_exec(st->db, "INSERT INTO http_transactions"
	    " (container_name, destination_host, destination_port, method, url,"
	    " response_body) SELECT 'big', 'big.example', 80, 'GET',"
	    " 'http://big.example/', zeroblob(100000) FROM (WITH RECURSIVE"
	    " k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 40)"
	    " SELECT i FROM k)", NULL, NULL, NULL) == SQLITE_OK,
	    "4 MB of transactions");
	push_rows("log.example", 2000, 1790000000, 0);
	gp_store_log_flush(st);
	used = gp_store_used_bytes(st);
	ok(used > 4000000, "they fill the database (%lld bytes used)",
	    (long long)used);
	n = gp_store_log_prune_step(st, 0, 2 << 20, 500);
	is_int(n, 0, "a 2 MiB cap, more than the log holds: no log row goes");
	is_int(gp_store_int(st, "SELECT count(*) FROM request_logs"), 2000,
	    "all 2000 stay");
	n = gp_store_log_prune_step(st, 0, 64 << 10, 500);
	is_int(n, 500, "a cap under the log's own size: its oldest go");
	is_int(gp_store_int(st, "SELECT min(timestamp) FROM request_logs"),
	    gp_store_int(st, "SELECT timestamp FROM request_logs"
	    " ORDER BY id LIMIT 1 OFFSET 0"), "from the oldest");
}

int
main(void)
{
	st = tmpstore_open();
	transactions();
	tx_retention();
	logs();
	tunnels();
	lend();
	checkpoints();
	priority();
	dns_trim();
	log_cap();
	tmpstore_close(st);
	return tap_done();
}
