/*
 * lane.c: background work that gives way.  The log writer and the
 * transaction worker run their steps on a thread of the idle scheduling
 * class (SCHED_IDLE), which the kernel runs only on a core nothing else
 * wants and treats as an idle core when it places a woken thread: the
 * loop, the client and the origin never wait behind a batch insert.
 *
 * An idle-class thread cannot leave its class without privilege, and on
 * a machine with no core to spare it starves.  So the caller stays in
 * charge: it hands a job over and waits, and takes the job back when
 * the lane has not started it in time, or when a step of it finds
 * itself starved (gp_lane_yield).  A job taken back, or one given while
 * the loop is busy, goes to the lane's second thread: of the normal
 * class at a low priority (nice LOW_NICE), which the kernel never
 * starves but lets the loop run first, by far, when both want the same
 * core.  (Run on the caller at the normal priority, those steps took
 * the core from the loop for a slice at a time: a millisecond on the
 * tail at 50 connections.)  A job still running there after
 * LOW_LATE_MS comes back to the caller, whose queue would otherwise
 * fill and drop rows.  A step must be short, or call
 * gp_lane_yield often: a starved step holds its job until it gets to a
 * check.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include "core/core.h"

#define STARVE_MS	100	/* queued this long, unstarted: taken back */
#define HOLD_MS		2000	/* then the low thread runs steps this long */
#define LATE_MS		150	/* a job still running: taken back */
/* and from the low thread: the log's queue holds about 0.6 s of rows
 * at full rate, so a job is not left at low priority for longer */
#define LOW_LATE_MS	250
/* A loop busier than this serves a load that leaves no core spare for
 * long: the idle thread is not tried (a starved one would hold the
 * write lock). */
#define LOAD_MAX	60
#define LOW_NICE	10	/* weight 110 against the loop's 1024 */
/*
 * An idle-class thread gives the core away this often, from
 * gp_lane_yield.  A thread woken on its core (the loop, the client, the
 * origin) should take the core at once, and mostly does; but a woken
 * thread can also be left to wait until the running one next enters
 * the kernel, which a step building pages in SQLite does not do for
 * milliseconds (the tick here is 4 ms).  perf sched, one connection
 * storing transactions: wrk and nginx waited 1.1 and 2.3 ms behind
 * this thread in 1.5 s.  A sched_yield() every 50 us costs a system
 * call where there is nothing to wait for; wrk -c1's p99 storing
 * transactions went from 0.32-0.88 ms (median 0.48) to 0.19-0.26 ms
 * (median 0.20), squid's 0.20-0.25 (bench/README.md).
 */
#define GIVE_NS		50000

enum { L_NONE, L_QUEUED, L_RUNNING, L_YIELDED, L_DONE };
enum { W_IDLE, W_LOW };

struct worker {
	struct gp_lane	*l;
	uv_thread_t	 thread;
	int		 kind;		/* W_IDLE, W_LOW */
	int		 started;
	int		 state;
	gp_lane_step_fn	 step;
	void		*arg;
	uint64_t	 queued;	/* ms */
};

struct gp_lane {
	uv_mutex_t	 mu;
	uv_cond_t	 cv;		/* both workers' */
	int		 stop;
	struct worker	 w[2];
	uint64_t	 handovers;
};

/*
 * Until then (ms), every lane's jobs skip the idle thread: a lane found
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
	int		 lane;		/* a worker's thread */
	int		 idle;		/* of the idle class */
	int		 starved;
	uint64_t	 late;		/* the job's deadline, ms */
	uint64_t	 gave;		/* its last sched_yield, ns */
} me;

int
gp_lane_yield(void)
{
	uint64_t now;

	if (!me.lane)
		return 0;	/* the caller goes on */
	if (me.idle) {
		uint64_t t = uv_hrtime();

		if (t - me.gave >= GIVE_NS) {
			sched_yield();
			me.gave = uv_hrtime();
		}
	}
	if (!me.starved) {
		now = gp_now_ms();
		me.starved = now >= me.late || (me.idle && machine_busy(now));
	}
	return me.starved;
}

static void
set_class(int kind)
{
	if (kind == W_IDLE) {
#ifdef SCHED_IDLE
		struct sched_param sp = { 0 };

		if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0)
			gp_log(GP_LOG_DEBUG, "background thread: SCHED_IDLE: "
			    "%s", strerror(errno));
		else
			me.idle = 1;
#endif
		return;
	}
	/* Linux: a thread's own nice value (lowering it needs no right) */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), LOW_NICE) != 0)
		gp_log(GP_LOG_DEBUG, "background thread: nice %d: %s",
		    LOW_NICE, strerror(errno));
}

static void
run(void *arg)
{
	struct worker	*w = arg;
	struct gp_lane	*l = w->l;
	int		 more;

	set_class(w->kind);
	me.lane = 1;
	uv_mutex_lock(&l->mu);
	for (;;) {
		while (w->state != L_QUEUED && !l->stop)
			uv_cond_wait(&l->cv, &l->mu);
		if (w->state != L_QUEUED)
			break;
		w->state = L_RUNNING;
		uv_mutex_unlock(&l->mu);
		me.starved = 0;
		me.late = w->queued + (me.idle ? LATE_MS : LOW_LATE_MS);
		do
			more = w->step(w->arg);
		while (more && !me.starved);
		uv_mutex_lock(&l->mu);
		if (more) {
			w->state = L_YIELDED;
			if (me.idle && !machine_busy(gp_now_ms()))
				machine_is_busy(l, gp_now_ms());
		} else
			w->state = L_DONE;
		uv_cond_broadcast(&l->cv);
	}
	uv_mutex_unlock(&l->mu);
}

struct gp_lane *
gp_lane_start(void)
{
	struct gp_lane	*l;
	const char	*e = getenv("GREYPROXY_BACKGROUND");
	int		 k;

	if (e != NULL && strcmp(e, "normal") == 0)
		return NULL;		/* benchmarks: as before lanes */
	l = gp_xcalloc(1, sizeof *l);
	uv_mutex_init(&l->mu);
	uv_cond_init(&l->cv);
	for (k = 0; k < 2; k++) {
		l->w[k].l = l;
		l->w[k].kind = k;
		l->w[k].started = uv_thread_create(&l->w[k].thread, run,
		    &l->w[k]) == 0;
	}
	if (!l->w[W_IDLE].started && !l->w[W_LOW].started) {
		gp_lane_stop(l);
		return NULL;		/* the callers run their own steps */
	}
	return l;
}

void
gp_lane_stop(struct gp_lane *l)
{
	int k;

	if (l == NULL)
		return;
	uv_mutex_lock(&l->mu);
	l->stop = 1;
	uv_cond_broadcast(&l->cv);
	uv_mutex_unlock(&l->mu);
	for (k = 0; k < 2; k++)
		if (l->w[k].started)
			uv_thread_join(&l->w[k].thread);
	uv_cond_destroy(&l->cv);
	uv_mutex_destroy(&l->mu);
	free(l);
}

/* The job on w until it ends (1) or is given back (0: steps left). */
static int
hand(struct gp_lane *l, struct worker *w, gp_lane_step_fn step, void *arg)
{
	uint64_t	now;
	int		done = 0;

	uv_mutex_lock(&l->mu);
	w->step = step;
	w->arg = arg;
	w->queued = gp_now_ms();
	w->state = L_QUEUED;
	uv_cond_broadcast(&l->cv);
	for (;;) {
		now = gp_now_ms();
		if (w->state == L_DONE) {
			done = 1;
			break;
		}
		if (w->state == L_YIELDED)
			break;
		if (w->state == L_QUEUED && now >= w->queued + STARVE_MS) {
			if (w->kind == W_IDLE)	/* never started */
				machine_is_busy(l, now);
			break;
		}
		if (w->state == L_QUEUED)
			uv_cond_timedwait(&l->cv, &l->mu,
			    (w->queued + STARVE_MS - now) * 1000000);
		else
			uv_cond_wait(&l->cv, &l->mu);
	}
	w->state = L_NONE;
	uv_mutex_unlock(&l->mu);
	return done;
}

void
gp_lane_run(struct gp_lane *l, gp_lane_step_fn step, void *arg)
{
	if (l != NULL) {
		if (l->w[W_IDLE].started && !machine_busy(gp_now_ms()) &&
		    hand(l, &l->w[W_IDLE], step, arg))
			return;
		if (l->w[W_LOW].started && hand(l, &l->w[W_LOW], step, arg))
			return;
	}
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
