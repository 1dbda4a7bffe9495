/* nil_channel.c: a NULL channel is never ready, as Go's nil channel. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "chan.h"

int
main(void)
{
	struct chan_case cases[2];
	chan_t *nil = NULL, *ready;
	int v = 42, got = 0, i;

	/* Diagnostics report the mistake instead of letting it hang. */
	chan_debug(true);
	if (chan_send(nil, &v) < 0)
		printf("send on a NULL channel: %s\n", errno == EDEADLK ?
		    "EDEADLK, it would block forever" : strerror(errno));
	if (chan_recv_timeout(nil, &v, 100) < 0 && errno == ETIMEDOUT)
		printf("timed receive on a NULL channel: ETIMEDOUT\n");

	/* In a select, a NULL channel switches its case off. */
	if ((ready = chan_new(sizeof(int), 1)) == NULL)
		return 1;
	chan_send(ready, &v);
	cases[0] = (struct chan_case){ nil, CHAN_RECV, &got, false };
	cases[1] = (struct chan_case){ ready, CHAN_RECV, &got, false };
	i = chan_select(cases, 2, -1);
	printf("select chose case %d and received %d\n", i, got);
	chan_free(ready);
	return 0;
}
