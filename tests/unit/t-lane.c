/* t-lane.c: background lanes: steps run on an idle-class thread while
 * a core is spare, and on the lane's low-priority thread (normal class,
 * nice 10) when the loop is busy or the idle thread is starved (every
 * core taken by normal threads); never on the caller. */
#include "config.h"

#include <sched.h>
#include <sys/resource.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "core/core.h"
#include "../lib/tap.h"

struct job {
	uv_thread_t	 caller;
	int		 steps, left;
	int		 on_lane, on_caller, idle_class, on_low;
	int		 work_us;	/* CPU per step */
};

static void
spin_us(int us)
{
	struct timespec	a, b;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	do
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000 +
	    (b.tv_nsec - a.tv_nsec) / 1000 < us);
}

/* Each call is one step; a long one gives way when told. */
static int
step(void *arg)
{
	struct job	*j = arg;
	uv_thread_t	 me = uv_thread_self();
	int		 i;

	j->steps++;
	if (uv_thread_equal(&me, &j->caller))
		j->on_caller++;
	else {
		j->on_lane++;
		if (sched_getscheduler(0) == SCHED_IDLE)
			j->idle_class++;
		else if (getpriority(PRIO_PROCESS, (id_t)gettid()) == 10)
			j->on_low++;
	}
	for (i = 0; i < 10 && j->left > 0; i++) {
		spin_us(j->work_us);
		j->left--;
		if (gp_lane_yield())
			break;
	}
	return j->left > 0;
}

static volatile int spinning;

static void
spinner(void *arg)
{
	(void)arg;
	while (__atomic_load_n(&spinning, __ATOMIC_RELAXED))
		;
}

int
main(void)
{
	struct gp_lane	*l = gp_lane_start();
	struct job	 j;
	uv_thread_t	 th[64];
	long		 ncpu = sysconf(_SC_NPROCESSORS_ONLN), i;

	ok(l != NULL, "a lane started");

	/* A machine busy with other tests may have no core to spare for a
	 * moment: then the caller rightly takes over; try again later. */
	for (i = 0; i < 5; i++) {
		uint64_t h = gp_lane_handovers(l);

		memset(&j, 0, sizeof j);
		j.caller = uv_thread_self();
		j.left = 50;
		gp_lane_run(l, step, &j);
		if (gp_lane_handovers(l) == h)
			break;
		printf("# handed back (a busy machine): again in 2.5 s\n");
		usleep(2500000);
	}
	is_int(j.left, 0, "every step run");
	ok(j.on_lane == j.steps && j.on_caller == 0,
	    "a spare core: all %d steps on the lane's thread", j.steps);
	is_int(j.idle_class, j.on_lane, "which is of the idle class");

	/* A busy loop: the low thread runs the steps, at once. */
	gp_lane_load(95);
	memset(&j, 0, sizeof j);
	j.caller = uv_thread_self();
	j.left = 20;
	gp_lane_run(l, step, &j);
	ok(j.left == 0 && j.on_low == j.steps && j.on_caller == 0,
	    "the loop 95 %% busy: every step on the low thread (nice 10)");

	/* A job longer than 250 ms there comes back to the caller, whose
	 * queue would fill behind it. */
	memset(&j, 0, sizeof j);
	j.caller = uv_thread_self();
	j.left = 400;
	j.work_us = 1000;
	gp_lane_run(l, step, &j);
	ok(j.left == 0 && j.on_low > 0 && j.on_caller > 0,
	    "a long job: %d steps on the low thread, then %d on the caller",
	    j.on_low, j.on_caller);
	gp_lane_load(10);

	memset(&j, 0, sizeof j);
	j.caller = uv_thread_self();
	j.left = 20;
	gp_lane_run(NULL, step, &j);
	ok(j.left == 0 && j.on_caller == j.steps,
	    "no lane: the steps run in place");

	/*
	 * Every core spinning in the normal class: the idle-class thread
	 * gets next to nothing (0.1 s of work would take minutes there);
	 * the caller takes the job back and gives it to the low thread,
	 * which the kernel never starves, and after 250 ms there runs the
	 * rest itself.
	 */
	if (ncpu < 1 || ncpu > (long)GP_ARRAY_LEN(th))
		ncpu = ncpu < 1 ? 1 : (long)GP_ARRAY_LEN(th);
	spinning = 1;
	for (i = 0; i < ncpu; i++)
		uv_thread_create(&th[i], spinner, NULL);
	memset(&j, 0, sizeof j);
	j.caller = uv_thread_self();
	j.left = 100;
	j.work_us = 1000;
	gp_lane_run(l, step, &j);
	__atomic_store_n(&spinning, 0, __ATOMIC_RELAXED);
	for (i = 0; i < ncpu; i++)
		uv_thread_join(&th[i]);
	is_int(j.left, 0, "starved: the job still finished");
	ok(j.on_low > 0, "the low thread ran %d of its %d steps, the caller %d",
	    j.on_low, j.steps, j.on_caller);
	ok(gp_lane_handovers(l) >= 1, "a handover counted");

	/* For a while after, the caller keeps its steps. */
	memset(&j, 0, sizeof j);
	j.caller = uv_thread_self();
	j.left = 5;
	gp_lane_run(l, step, &j);
	ok(j.on_low == j.steps && j.on_caller == 0,
	    "just after: steps stay on the low thread");

	gp_lane_stop(l);
	gp_lane_stop(NULL);
	ok(1, "stopped");
	return tap_done();
}
