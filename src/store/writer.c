/*
 * writer.c (store): the connection log's writer thread.  The loop only
 * queues rows; at each flush it hands its queue to the thread (an
 * exchange of arrays, under a mutex) when the thread is idle, and the
 * thread inserts them through its own SQLite connection.  While the
 * thread is busy the loop's queue grows up to its bound, beyond which
 * rows are dropped and counted: memory stays bounded, the loop never
 * waits for the disk.
 *
 * The transaction capture's worker borrows the same connection between
 * the thread's batches (gp_store_writer_lend): one writer, so the two
 * never wait on SQLite's write lock (its busy handler sleeps 1-25 ms at
 * a time) and the connection's page cache stays valid (a commit by
 * another connection empties it: every batch read its pages again).
 *
 * The thread also checkpoints for the loop's connection.  SQLite's
 * automatic checkpoint runs in whichever connection's commit finds the
 * WAL long: on the loop, that copied the WAL's pages into the database
 * and synced both files (two fdatasyncs of 3-5 ms each here) while
 * every connection waited.  The loop's connection has a WAL hook
 * instead, which only tells the thread.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/core.h"
#include "store/store-int.h"

#define RETRY_MS	200	/* the database busy: try the batch again */
#define PRUNE_MS	1000	/* between retention steps */
#define PRUNE_STEP	2000	/* rows deleted per step */
#define CKPT_FRAMES	1000	/* SQLite's automatic checkpoint threshold */

struct gp_logwriter {
	uv_thread_t	 thread;
	uv_mutex_t	 mu;
	uv_cond_t	 cv;
	struct gp_store	*w;		/* the thread's own connection */
	struct gp_lane	*lane;		/* where its inserts run */
	int		 busy;		/* w holds a batch */
	int		 inuse;		/* w in use: by the thread, or lent */
	int		 stop;
	int		 ckpt;		/* the loop's commits want a checkpoint */
	uint64_t	 checkpoints;	/* run for it, since start */
	int		 ret_days;	/* retention, set by the loop */
	int64_t		 ret_bytes;
	uint64_t	 prune_at;	/* next step (monotonic ms) */
	uint64_t	 pruned;	/* rows deleted, since start */
	uint64_t	 taken, done;	/* batches handed over, written */
	/* Published by the thread for the loop, under mu. */
	int		 failing;
	char		 failure[128];
	uint64_t	 dropped;
	size_t		 queued;
	/* The borrower's failure episode, kept apart from the log's. */
	struct episode {
		int		 failing, quiet;
		char		 failure[128];
		uint64_t	 retry_ms, dropped;
		unsigned	 backoff_ms;
	}		 lent_ep;
};

#define SWAP(a, b) do {						\
	__typeof__(a) t_ = (a);						\
	(a) = (b);							\
	(b) = t_;							\
} while (0)

static void
publish(struct gp_logwriter *wr)
{
	wr->failing = wr->w->failing;
	snprintf(wr->failure, sizeof wr->failure, "%s", wr->w->failure);
	wr->dropped = wr->w->dropped;
	wr->queued = wr->w->nlog;
}

/* Called with mu held; releases it while deleting. */
static void
prune(struct gp_logwriter *wr)
{
	int	days = wr->ret_days, n;
	int64_t	bytes = wr->ret_bytes;

	wr->prune_at = gp_now_ms() + PRUNE_MS;
	if (days <= 0 && bytes <= 0)
		return;
	wr->inuse = 1;
	uv_mutex_unlock(&wr->mu);
	gp_store_give_way(wr->w);
	n = gp_store_log_prune_step(wr->w, days > 0 ? gp_now() -
	    (int64_t)days * 86400 : 0, bytes, PRUNE_STEP);
	uv_mutex_lock(&wr->mu);
	wr->inuse = 0;
	uv_cond_broadcast(&wr->cv);
	if (n > 0) {
		wr->pruned += (uint64_t)n;
		wr->prune_at = gp_now_ms();	/* more may be due: go on */
		if (n < PRUNE_STEP)
			wr->prune_at += PRUNE_MS;
	} else if (n < 0)
		gp_log(GP_LOG_WARN, "connection log retention: %s",
		    sqlite3_errmsg(wr->w->db));
}

/* Called with mu held; releases it while checkpointing. */
static void
checkpoint(struct gp_logwriter *wr)
{
	int	rc;

	wr->ckpt = 0;
	wr->inuse = 1;
	uv_mutex_unlock(&wr->mu);
	rc = sqlite3_wal_checkpoint_v2(wr->w->db, NULL,
	    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	uv_mutex_lock(&wr->mu);
	wr->inuse = 0;
	wr->checkpoints++;
	uv_cond_broadcast(&wr->cv);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		gp_log(GP_LOG_WARN, "database checkpoint: %s",
		    sqlite3_errmsg(wr->w->db));
}

/*
 * Loop: SQLite calls this after each commit on the loop's connection,
 * in place of its automatic checkpoint.
 */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct gp_logwriter	*wr = arg;

	(void)db;
	(void)name;
	if (frames >= CKPT_FRAMES) {
		uv_mutex_lock(&wr->mu);
		wr->ckpt = 1;
		uv_cond_broadcast(&wr->cv);
		uv_mutex_unlock(&wr->mu);
	}
	return SQLITE_OK;
}

/* A step of a batch, on the lane: 1 while rows are left after a yield. */
static int
write_step(void *arg)
{
	struct gp_logwriter *wr = arg;

	gp_store_log_flush(wr->w);
	return wr->w->yielded;
}

static void
run(void *arg)
{
	struct gp_logwriter	*wr = arg;

	uv_mutex_lock(&wr->mu);
	for (;;) {
		while ((!wr->busy || wr->inuse) && !wr->stop) {
			uint64_t now = gp_now_ms();

			if (wr->inuse)		/* lent: back soon */
				uv_cond_wait(&wr->cv, &wr->mu);
			else if (wr->ckpt)
				checkpoint(wr);
			else if (now >= wr->prune_at)
				prune(wr);
			else
				uv_cond_timedwait(&wr->cv, &wr->mu,
				    (wr->prune_at - now) * 1000000);
		}
		while (wr->inuse)		/* stopping while lent */
			uv_cond_wait(&wr->cv, &wr->mu);
		if (!wr->busy)
			break;			/* stopping, nothing left */
		wr->inuse = 1;
		uv_mutex_unlock(&wr->mu);
		gp_lane_run(wr->lane, write_step, wr); /* busy: rows kept */
		uv_mutex_lock(&wr->mu);
		wr->inuse = 0;
		publish(wr);
		if (wr->w->nlog > 0 || wr->w->nhits > 0) {
			if (wr->stop) {		/* last try failed: counted */
				gp_store_log_discard(wr->w);
				publish(wr);
			} else {
				uv_cond_timedwait(&wr->cv, &wr->mu,
				    (uint64_t)RETRY_MS * 1000000);
				continue;
			}
		}
		wr->busy = 0;
		wr->done++;
		uv_cond_broadcast(&wr->cv);
	}
	uv_mutex_unlock(&wr->mu);
}

int
gp_store_writer_start(struct gp_store *s, const char *path, char **err)
{
	struct gp_logwriter	*wr = gp_xcalloc(1, sizeof *wr);

	if (gp_store_open(path, &wr->w, err) != 0) {
		free(wr);
		return -1;
	}
	wr->w->budget = 0;		/* budgets apply when rows are queued */
	/* statement journals (the capture's conversation upserts, when it
	 * borrows the connection) in memory */
	gp_store_set_temp_memory(wr->w);
	wr->lane = gp_lane_start();
	uv_mutex_init(&wr->mu);
	uv_cond_init(&wr->cv);
	if (uv_thread_create(&wr->thread, run, wr) != 0) {
		gp_xasprintf(err, "cannot start the log writer thread");
		gp_lane_stop(wr->lane);
		uv_cond_destroy(&wr->cv);
		uv_mutex_destroy(&wr->mu);
		gp_store_close(wr->w);
		free(wr);
		return -1;
	}
	s->writer = wr;
	/* s is the loop's connection */
	sqlite3_wal_hook(s->db, wal_hook, wr);
	gp_store_set_priority(s);
	return 0;
}

/* Loop: checkpoints the thread ran for the loop's connection. */
uint64_t
gp_store_writer_checkpoints(struct gp_store *s)
{
	struct gp_logwriter	*wr = s->writer;
	uint64_t		 n;

	uv_mutex_lock(&wr->mu);
	n = wr->checkpoints;
	uv_mutex_unlock(&wr->mu);
	return n;
}

/* Loop: hands the queue over if the thread is idle; 1 if it did. */
int
gp_store_writer_take(struct gp_store *s)
{
	struct gp_logwriter	*wr = s->writer;
	int			 taken = 0;

	if (s->nlog == 0 && s->nhits == 0)
		return 0;
	uv_mutex_lock(&wr->mu);
	if (!wr->busy) {
		struct gp_store *w = wr->w;

		SWAP(s->logq, w->logq);
		SWAP(s->nlog, w->nlog);
		SWAP(s->caplog, w->caplog);
		SWAP(s->hits, w->hits);
		SWAP(s->nhits, w->nhits);
		SWAP(s->caphits, w->caphits);
		wr->queued = w->nlog;
		wr->busy = taken = 1;
		wr->taken++;
		if (s->queue_full) {
			s->queue_full = 0;
			gp_log(GP_LOG_WARN, "connection log: the writer caught "
			    "up; %llu rows were dropped in all",
			    (unsigned long long)s->dropped);
		}
		uv_cond_broadcast(&wr->cv);
	}
	uv_mutex_unlock(&wr->mu);
	return taken;
}

void
gp_store_writer_retention(struct gp_store *s, int days, int64_t max_bytes)
{
	struct gp_logwriter	*wr = s->writer;

	uv_mutex_lock(&wr->mu);
	wr->ret_days = days;
	wr->ret_bytes = max_bytes;
	wr->prune_at = 0;		/* a step now */
	uv_cond_broadcast(&wr->cv);
	uv_mutex_unlock(&wr->mu);
}

/* Loop: what the thread reports, merged into h. */
void
gp_store_writer_health(struct gp_store *s, struct gp_store_health *h)
{
	struct gp_logwriter	*wr = s->writer;

	uv_mutex_lock(&wr->mu);
	if (!h->failing && wr->failing) {
		h->failing = wr->failing;
		snprintf(s->wfailure, sizeof s->wfailure, "%s", wr->failure);
		h->error = s->wfailure;
	}
	h->log_dropped += wr->dropped;
	h->log_pruned = wr->pruned;
	h->log_queued += wr->busy ? wr->queued : 0;
	uv_mutex_unlock(&wr->mu);
}

static void
episode_swap(struct gp_store *w, struct episode *e)
{
	char	t[sizeof e->failure];

	SWAP(w->failing, e->failing);
	SWAP(w->quiet, e->quiet);
	SWAP(w->retry_ms, e->retry_ms);
	SWAP(w->episode_dropped, e->dropped);
	SWAP(w->backoff_ms, e->backoff_ms);
	memcpy(t, w->failure, sizeof t);
	memcpy(w->failure, e->failure, sizeof t);
	memcpy(e->failure, t, sizeof t);
}

/*
 * A worker thread (never the loop): the writer's connection, once the
 * thread is between batches; NULL without a writer or once it stops.
 * Failures on it are the borrower's to word (quiet) and do not hold
 * back the log's batches.  The loop keeps handing rows over meanwhile;
 * the thread writes them after gp_store_writer_back.
 */
struct gp_store *
gp_store_writer_lend(struct gp_store *s)
{
	struct gp_logwriter	*wr = s->writer;

	if (wr == NULL)
		return NULL;
	uv_mutex_lock(&wr->mu);
	while (wr->inuse && !wr->stop)
		uv_cond_wait(&wr->cv, &wr->mu);
	if (wr->stop) {
		uv_mutex_unlock(&wr->mu);
		return NULL;
	}
	wr->inuse = 1;
	uv_mutex_unlock(&wr->mu);
	wr->lent_ep.quiet = 1;
	episode_swap(wr->w, &wr->lent_ep);
	return wr->w;
}

void
gp_store_writer_back(struct gp_store *s)
{
	struct gp_logwriter	*wr = s->writer;

	episode_swap(wr->w, &wr->lent_ep);
	uv_mutex_lock(&wr->mu);
	wr->inuse = 0;
	uv_cond_broadcast(&wr->cv);
	uv_mutex_unlock(&wr->mu);
}

static void
wait_idle(struct gp_logwriter *wr)
{
	uv_mutex_lock(&wr->mu);
	while (wr->busy)
		uv_cond_wait(&wr->cv, &wr->mu);
	uv_mutex_unlock(&wr->mu);
}

/*
 * Loop: every row queued so far is in the database on return (a query
 * reads what it logged).  Waits for at most two batches, and for a
 * transaction batch that holds the lent connection; only the fallback
 * of a query no worker took runs here, so this adds to its cost, not to
 * every request's.
 */
void
gp_store_writer_sync(struct gp_store *s)
{
	wait_idle(s->writer);
	if (gp_store_writer_take(s))
		wait_idle(s->writer);
}

/*
 * Loop: hands the queue over if it can, and returns the batch that holds
 * the last row queued so far: the one just handed over (or being
 * written), or, while the thread is busy, the next, which the flush
 * timer hands over.  A reader on another thread waits for it with
 * gp_store_log_wait, so the loop never waits for the disk.
 */
uint64_t
gp_store_log_barrier(struct gp_store *s)
{
	struct gp_logwriter	*wr = s->writer;
	uint64_t		 b;

	if (wr == NULL) {
		gp_store_log_flush(s);
		return 0;
	}
	gp_store_writer_take(s);
	uv_mutex_lock(&wr->mu);
	b = wr->taken + (s->nlog > 0 || s->nhits > 0);
	uv_mutex_unlock(&wr->mu);
	return b;
}

/* Any thread: until batch b is written, at most ms; 0, -1 timed out. */
int
gp_store_log_wait(struct gp_store *s, uint64_t b, unsigned ms)
{
	struct gp_logwriter	*wr = s->writer;
	uint64_t		 end = uv_hrtime() + (uint64_t)ms * 1000000;
	int			 rc = 0;

	if (wr == NULL)
		return 0;
	uv_mutex_lock(&wr->mu);
	while (wr->done < b) {
		uint64_t now = uv_hrtime();

		if (now >= end ||
		    uv_cond_timedwait(&wr->cv, &wr->mu, end - now) != 0) {
			rc = wr->done < b ? -1 : 0;
			break;
		}
	}
	uv_mutex_unlock(&wr->mu);
	return rc;
}

/* Loop, closing: the last rows are handed over and written, then the
 * thread ends. */
void
gp_store_writer_stop(struct gp_store *s)
{
	struct gp_logwriter	*wr = s->writer;

	if (wr == NULL)
		return;
	wait_idle(wr);
	gp_store_writer_take(s);
	uv_mutex_lock(&wr->mu);
	wr->stop = 1;
	uv_cond_broadcast(&wr->cv);
	uv_mutex_unlock(&wr->mu);
	uv_thread_join(&wr->thread);
	sqlite3_wal_autocheckpoint(s->db, CKPT_FRAMES);	/* its own again */
	gp_lane_stop(wr->lane);
	s->dropped += wr->w->dropped;
	gp_store_close(wr->w);
	uv_cond_destroy(&wr->cv);
	uv_mutex_destroy(&wr->mu);
	free(wr);
	s->writer = NULL;
}
