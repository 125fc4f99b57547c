/*
 * lane.c: background work that gives way.  The log writer and the
 * transaction worker run their steps on a thread of the idle scheduling
 * class (SCHED_IDLE), which the kernel runs only on a core nothing else
 * wants and treats as an idle core when it places a woken thread: the
 * loop, the client and the origin never wait behind a batch insert.
 *
 * An idle-class thread cannot leave its class without privilege, and on
 * a machine with no core to spare it starves.  So the caller (a thread
 * of the normal class) stays in charge: it hands a job over and waits,
 * and takes the job back when the lane has not started it in time, or
 * when a step of it finds itself starved (gp_lane_yield); after that
 * the caller runs its steps itself for a while.  A step must be short,
 * or call gp_lane_yield often: a starved step holds its job until it
 * gets to a check.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/core.h"

#define STARVE_MS	100	/* queued this long, unstarted: taken back */
#define HOLD_MS		2000	/* then the caller runs steps for this long */
#define LATE_MS		150	/* a job still running: taken back */
/* A loop busier than this serves a load that leaves no core spare for
 * long: lanes are not tried (a starved one would hold the write lock). */
#define LOAD_MAX	60

enum { L_NONE, L_QUEUED, L_RUNNING, L_YIELDED, L_DONE };

struct gp_lane {
	uv_thread_t	 thread;
	uv_mutex_t	 mu;
	uv_cond_t	 cv;
	int		 state;
	int		 stop;
	gp_lane_step_fn	 step;
	void		*arg;
	uint64_t	 queued;	/* ms */
	uint64_t	 handovers;
};

/*
 * Until then (ms), every lane's caller runs its own steps: a lane found
 * no core to spare, and the others would not either.  Lanes share it so
 * that none holds the database's write lock, starved, while another's
 * caller waits for it.
 */
static uint64_t busy_until;
static unsigned loop_load;	/* the loop's busy share, % */

static int
machine_busy(uint64_t now)
{
	return now < __atomic_load_n(&busy_until, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&loop_load, __ATOMIC_RELAXED) >= LOAD_MAX;
}

void
gp_lane_load(unsigned pct)
{
	__atomic_store_n(&loop_load, pct, __ATOMIC_RELAXED);
}

static void
machine_is_busy(struct gp_lane *l, uint64_t now)
{
	__atomic_store_n(&busy_until, now + HOLD_MS, __ATOMIC_RELAXED);
	l->handovers++;
}

/* The thread's own, for gp_lane_yield. */
static __thread struct {
	int		 idle;		/* this is a lane's thread */
	int		 starved;
	uint64_t	 late;		/* the job's deadline, ms */
} me;

int
gp_lane_yield(void)
{
	uint64_t now;

	if (!me.idle)
		return 0;
	if (!me.starved) {
		now = gp_now_ms();
		me.starved = now >= me.late || machine_busy(now);
	}
	return me.starved;
}

static void
run(void *arg)
{
	struct gp_lane	*l = arg;
	int		 more;

#ifdef SCHED_IDLE
	{
		struct sched_param sp = { 0 };

		if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0)
			gp_log(GP_LOG_DEBUG, "background thread: SCHED_IDLE: "
			    "%s", strerror(errno));
	}
#endif
	me.idle = 1;
	uv_mutex_lock(&l->mu);
	for (;;) {
		while (l->state != L_QUEUED && !l->stop)
			uv_cond_wait(&l->cv, &l->mu);
		if (l->state != L_QUEUED)
			break;
		l->state = L_RUNNING;
		uv_mutex_unlock(&l->mu);
		me.starved = 0;
		me.late = l->queued + LATE_MS;
		do
			more = l->step(l->arg);
		while (more && !me.starved);
		uv_mutex_lock(&l->mu);
		if (more) {
			l->state = L_YIELDED;
			if (!machine_busy(gp_now_ms()))
				machine_is_busy(l, gp_now_ms());
		} else
			l->state = L_DONE;
		uv_cond_broadcast(&l->cv);
	}
	uv_mutex_unlock(&l->mu);
}

struct gp_lane *
gp_lane_start(void)
{
	struct gp_lane	*l;
	const char	*e = getenv("GREYPROXY_BACKGROUND");

	if (e != NULL && strcmp(e, "normal") == 0)
		return NULL;		/* benchmarks: as before lanes */
	l = gp_xcalloc(1, sizeof *l);
	uv_mutex_init(&l->mu);
	uv_cond_init(&l->cv);
	if (uv_thread_create(&l->thread, run, l) != 0) {
		uv_cond_destroy(&l->cv);
		uv_mutex_destroy(&l->mu);
		free(l);
		return NULL;		/* the callers run their own steps */
	}
	return l;
}

void
gp_lane_stop(struct gp_lane *l)
{
	if (l == NULL)
		return;
	uv_mutex_lock(&l->mu);
	l->stop = 1;
	uv_cond_broadcast(&l->cv);
	uv_mutex_unlock(&l->mu);
	uv_thread_join(&l->thread);
	uv_cond_destroy(&l->cv);
	uv_mutex_destroy(&l->mu);
	free(l);
}

void
gp_lane_run(struct gp_lane *l, gp_lane_step_fn step, void *arg)
{
	uint64_t now = gp_now_ms();

	if (l == NULL)
		goto here;
	uv_mutex_lock(&l->mu);
	if (machine_busy(now)) {
		uv_mutex_unlock(&l->mu);
		goto here;
	}
	l->step = step;
	l->arg = arg;
	l->queued = now;
	l->state = L_QUEUED;
	uv_cond_broadcast(&l->cv);
	for (;;) {
		now = gp_now_ms();
		if (l->state == L_DONE) {
			l->state = L_NONE;
			uv_mutex_unlock(&l->mu);
			return;
		}
		if (l->state == L_YIELDED)
			break;
		if (l->state == L_QUEUED && now >= l->queued + STARVE_MS) {
			machine_is_busy(l, now);	/* never started */
			break;
		}
		if (l->state == L_QUEUED)
			uv_cond_timedwait(&l->cv, &l->mu,
			    (l->queued + STARVE_MS - now) * 1000000);
		else
			uv_cond_wait(&l->cv, &l->mu);
	}
	l->state = L_NONE;
	uv_mutex_unlock(&l->mu);
here:
	while (step(arg))
		;
}

uint64_t
gp_lane_handovers(struct gp_lane *l)
{
	uint64_t n;

	if (l == NULL)
		return 0;
	uv_mutex_lock(&l->mu);
	n = l->handovers;
	uv_mutex_unlock(&l->mu);
	return n;
}
