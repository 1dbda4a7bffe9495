/*
 * deadlock.c: main waits for a value that no thread will ever send.  With
 * diagnostics on, the library notices that every thread it knows is asleep
 * and aborts with Go's message instead of hanging.
 */

#include <stdio.h>

#include "chan.h"

static void
forgetful(void *arg)
{
	(void)arg;
	/* Meant to send on the channel, but returns without doing so. */
}

int
main(void)
{
	chan_t *ch;
	int v;

	chan_debug(true);
	if ((ch = chan_new(sizeof(int), 0)) == NULL ||
	    chan_go(forgetful, ch) < 0)
		return 1;
	chan_recv(ch, &v);
	printf("unreachable: received %d\n", v);
	return 0;
}
