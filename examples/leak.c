/*
 * leak.c: the leaked worker.  query() starts a worker that answers after
 * 1 s, but gives up after 0.3 s.  On an unbuffered channel the worker then
 * blocks forever in its send, and the library's leak report shows it at
 * exit; with -b the channel has room for the answer and the worker ends.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chan.h"

struct job {
	chan_t	*answer;	/* int; capacity 0 or 1. */
	chan_t	*done;		/* Closed when the worker has finished. */
};

static void
slow_worker(void *arg)
{
	struct job *j = arg;
	struct timespec second = { 1, 0 };
	int answer = 42;

	nanosleep(&second, NULL);
	chan_send(j->answer, &answer);	/* Nobody receives: blocks forever. */
	chan_close(j->done);
}

static int
query(struct job *j)
{
	int answer;

	if (chan_go(slow_worker, j) < 0)
		return -1;
	if (chan_recv_timeout(j->answer, &answer, 300) < 0) {
		printf("query: gave up after 0.3 s\n");
		return -1;
	}
	return answer;
}

int
main(int argc, char **argv)
{
	struct job j;
	size_t cap = argc > 1 && strcmp(argv[1], "-b") == 0 ? 1 : 0;

	chan_debug(true);
	j.answer = chan_new(sizeof(int), cap);
	j.done = chan_new(1, 0);
	if (j.answer == NULL || j.done == NULL)
		return 1;
	printf("answer channel capacity %zu\n", cap);
	query(&j);
	/* done is closed when the worker finishes: the receive says EPIPE. */
	if (chan_recv_timeout(j.done, NULL, 2000) < 0 && errno == ETIMEDOUT) {
		/* The leaked worker still uses its channels: keep them. */
		printf("worker still blocked after 2 s: leaked\n");
		return 0;
	}
	printf("worker finished\n");
	chan_free(j.answer);
	chan_free(j.done);
	return 0;
}
