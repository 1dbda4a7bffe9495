/* buffered.c: a buffered channel fills, refuses, closes and drains. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "chan.h"

int
main(void)
{
	chan_t *ch;
	int v;

	if ((ch = chan_new(sizeof(int), 3)) == NULL) {
		perror("buffered");
		return 1;
	}
	/* Sends complete at once while there is room, with no receiver. */
	for (v = 1; v <= 4; v++) {
		if (chan_try_send(ch, &v) == 0)
			printf("sent %d (len %zu, cap %zu)\n", v, chan_len(ch),
			    chan_cap(ch));
		else
			printf("send %d would block: %s\n", v,
			    errno == EAGAIN ? "buffer full" : strerror(errno));
	}
	chan_close(ch);
	if (chan_send(ch, &v) < 0 && errno == EPIPE)
		printf("send after close: channel closed\n");
	/* Closing keeps the buffered values; then receives report closed. */
	while (chan_recv(ch, &v) == 0)
		printf("received %d\n", v);
	printf("received %d, ok=false: closed and drained\n", v);
	chan_free(ch);
	return 0;
}
