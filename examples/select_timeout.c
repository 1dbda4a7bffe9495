/* select_timeout.c: waiting on two channels and a timeout at once. */

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "chan.h"

struct sender {
	chan_t	*ch;
	long	 after_ms;
	int	 value;
};

static void
send_later(void *arg)
{
	struct sender *s = arg;
	struct timespec ts = { s->after_ms / 1000,
	    (s->after_ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
	chan_send(s->ch, &s->value);
}

int
main(void)
{
	struct sender fast, slow;
	struct chan_case cases[2];
	chan_t *a, *b;
	int va, vb, got = 0, i;

	a = chan_new(sizeof(int), 0);
	b = chan_new(sizeof(int), 0);
	if (a == NULL || b == NULL)
		return 1;
	fast = (struct sender){ a, 50, 1 };
	slow = (struct sender){ b, 450, 2 };
	if (chan_go(send_later, &fast) < 0 || chan_go(send_later, &slow) < 0)
		return 1;

	cases[0] = (struct chan_case){ a, CHAN_RECV, &va, false };
	cases[1] = (struct chan_case){ b, CHAN_RECV, &vb, false };
	while (got < 2) {
		/* Go: select { case <-a: case <-b: case <-time.After(..): } */
		i = chan_select(cases, 2, 250);
		if (i < 0 && errno == ETIMEDOUT) {
			printf("timeout: nothing within 250 ms\n");
			continue;
		}
		if (i == 0)
			printf("from a: %d\n", va);
		else
			printf("from b: %d\n", vb);
		/* A NULL channel is never ready: the case is switched off. */
		cases[i].ch = NULL;
		got++;
	}
	chan_free(a);
	chan_free(b);
	return 0;
}
