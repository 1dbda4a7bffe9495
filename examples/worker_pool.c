/* worker_pool.c: a jobs channel, N workers, a results channel, close. */

#include <stdio.h>

#include "chan.h"

#define WORKERS	3
#define JOBS	9

struct pool {
	chan_t	*jobs;		/* int: numbers to square. */
	chan_t	*results;	/* long: their squares. */
	chan_t	*done;		/* int: one value per worker that left. */
};

static void
worker(void *arg)
{
	struct pool *p = arg;
	long sq;
	int job, bye = 0;

	/* chan_recv fails (EPIPE) once jobs is closed and drained. */
	while (chan_recv(p->jobs, &job) == 0) {
		sq = (long)job * job;
		chan_send(p->results, &sq);
	}
	chan_send(p->done, &bye);
}

int
main(void)
{
	struct pool p;
	long sq, sum = 0;
	int i, bye;

	p.jobs = chan_new(sizeof(int), JOBS);
	p.results = chan_new(sizeof(long), JOBS);
	p.done = chan_new(sizeof(int), 0);
	if (p.jobs == NULL || p.results == NULL || p.done == NULL)
		return 1;
	for (i = 0; i < WORKERS; i++)
		if (chan_go(worker, &p) < 0)
			return 1;
	for (i = 1; i <= JOBS; i++)
		chan_send(p.jobs, &i);
	/* No more jobs: the workers drain the channel and leave. */
	chan_close(p.jobs);
	for (i = 0; i < JOBS; i++) {
		chan_recv(p.results, &sq);
		sum += sq;
	}
	for (i = 0; i < WORKERS; i++)
		chan_recv(p.done, &bye);
	printf("%d workers squared %d jobs: sum %ld\n", WORKERS, JOBS, sum);
	chan_free(p.jobs);
	chan_free(p.results);
	chan_free(p.done);
	return 0;
}
