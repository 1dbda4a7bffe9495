/* handoff_floor.c: the least a hand-off between two threads can cost here. */

/*
 * Two threads pass one cache line back and forth: one writes an odd count
 * and waits for the next even one, the other answers.  A round trip is two
 * moves of the line between processors and nothing else, so it is a floor
 * for a synchronous hand-off between two threads, such as a send on an
 * unbuffered channel: the sender of the next value cannot go on before the
 * receiver of this one has answered.  It prints one line:
 *
 *	handoff_floor 1000000 trips 118.4 ns/trip
 *
 * On a virtual machine it moves with where the host puts the two virtual
 * processors (seen here: 110-140 ns on some runs, 450-550 on others), which
 * is why bench/chan_bench.sh measures it next to every run.  A waiting
 * thread yields the processor after a while, so that the program still ends
 * on a single processor, slowly.
 */

#define _POSIX_C_SOURCE 200809L

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TRIPS		1000000
#define SPINS		4096	/* Polls before a waiting thread yields. */

/* The line the two threads pass, alone on its cache line. */
static _Alignas(64) atomic_uint_fast64_t turn;
static uint64_t trips = TRIPS;

/*
 * Waits until turn is want.  The acquire load pairs with the other
 * thread's release store of want, so that each round trip orders like a
 * hand-off does.
 */
static void
wait_for(uint64_t want)
{
	unsigned spins = 0;

	while (atomic_load_explicit(&turn, memory_order_acquire) != want)
		if (++spins % SPINS == 0)
			sched_yield();
}

static void *
answer(void *arg)
{
	uint64_t i;

	(void)arg;
	for (i = 1; i <= trips; i++) {
		wait_for(2 * i - 1);
		atomic_store_explicit(&turn, 2 * i, memory_order_release);
	}
	return NULL;
}

int
main(int argc, char *argv[])
{
	struct timespec start, end;
	pthread_t t;
	uint64_t i;
	double ns;
	char *last;
	int e;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(argc == 2 && strcmp(argv[1], "-h") == 0 ? stdout :
		    stderr, "usage: handoff_floor [trips]\n");
		return argc == 2 && strcmp(argv[1], "-h") == 0 ? 0 : 2;
	}
	if (argc == 2) {
		errno = 0;
		trips = strtoull(argv[1], &last, 10);
		if (last == argv[1] || *last != '\0' || errno != 0 ||
		    trips == 0 || trips > UINT64_MAX / 2) {
			warnx("%s: not a count of round trips", argv[1]);
			return 2;
		}
	}
	if ((e = pthread_create(&t, NULL, answer, NULL)) != 0)
		errx(1, "pthread_create: %s", strerror(e));
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 1; i <= trips; i++) {
		atomic_store_explicit(&turn, 2 * i - 1, memory_order_release);
		wait_for(2 * i);
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	pthread_join(t, NULL);
	ns = (end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec);
	printf("handoff_floor %" PRIu64 " trips %.1f ns/trip\n", trips,
	    ns / trips);
	return 0;
}
