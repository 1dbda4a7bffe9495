/* pingpong.c: an unbuffered channel as a rendezvous between two threads. */

#include <stdio.h>
#include <stdlib.h>

#include "chan.h"

#define ROUNDS	5

struct table {
	chan_t	*ping;		/* int: the ball, from main to the player. */
	chan_t	*pong;		/* int: the ball, back. */
	chan_t	*done;		/* Closed when the player leaves. */
};

/*
 * Each receive waits for main's send and each send for main's receive, so
 * the two threads' lines alternate without any other synchronisation.
 */
static void
player(void *arg)
{
	struct table *t = arg;
	int ball;

	while (chan_recv(t->ping, &ball) == 0) {
		printf("pong %d\n", ball);
		ball++;
		chan_send(t->pong, &ball);
	}
	chan_close(t->done);
}

int
main(void)
{
	struct table t;
	int ball = 0, i;

	t.ping = chan_new(sizeof(int), 0);
	t.pong = chan_new(sizeof(int), 0);
	t.done = chan_new(1, 0);
	if (t.ping == NULL || t.pong == NULL || t.done == NULL ||
	    chan_go(player, &t) < 0) {
		perror("pingpong");
		return 1;
	}
	for (i = 0; i < ROUNDS; i++) {
		printf("ping %d\n", ball);
		chan_send(t.ping, &ball);
		chan_recv(t.pong, &ball);
	}
	chan_close(t.ping);
	/* A receive from a closed channel returns at once: the player left. */
	chan_recv(t.done, NULL);
	printf("final ball %d\n", ball);
	chan_free(t.ping);
	chan_free(t.pong);
	chan_free(t.done);
	return 0;
}
