/* progress.c: the live progress line on a terminal's standard error. */

#define _POSIX_C_SOURCE 200809L

#include <sys/ioctl.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

/* Columns when the terminal does not say. */
#define PROGRESS_WIDTH	80

/*
 * The terminal's width now: asked at every redraw, since the terminal may
 * have been resized since the last (a SIGWINCH handler would only save a
 * system call every 250 ms).
 */
static size_t
width_now(const struct progress *pg)
{
	struct winsize ws;

	if (ioctl(fileno(pg->fp), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return PROGRESS_WIDTH;
}

void
progress_init(struct progress *pg, FILE *fp, bool on, double start)
{
	memset(pg, 0, sizeof(*pg));
	pg->fp = fp;
	pg->on = on && progress_can_draw(fp);
	pg->start = start;
}

bool
progress_can_draw(FILE *fp)
{
	const char *term = getenv("TERM");

	return isatty(fileno(fp)) && (term == NULL || strcmp(term, "dumb") != 0);
}

size_t
progress_format(char *buf, size_t len, size_t done, size_t total,
    size_t in_flight, size_t failed, double elapsed)
{
	int n;

	if (elapsed < 0)
		elapsed = 0;
	n = snprintf(buf, len, "%zu/%zu done, %zu in flight, %zu failed, "
	    "%.1fs, %.1f/s", done, total, in_flight, failed, elapsed,
	    elapsed > 0.05 ? (double)done / elapsed : 0.0);
	if (n < 0)
		n = 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

void
progress_draw(struct progress *pg, size_t done, size_t total,
    size_t in_flight, size_t failed, double now)
{
	char line[256];
	size_t n, max, width;

	if (!pg->on)
		return;
	/* One column short of the width: a full line would wrap. */
	width = width_now(pg);
	max = width > 1 ? width - 1 : 1;
	if (max > sizeof(line) - 8)
		max = sizeof(line) - 8;
	line[0] = '\r';
	n = 1 + progress_format(line + 1, max + 1, done, total, in_flight,
	    failed, now - pg->start);
	/* Clears what a longer line left behind. */
	memcpy(line + n, "\033[K", 3);
	n += 3;
	fwrite(line, 1, n, pg->fp);
	fflush(pg->fp);
	pg->shown = true;
}

void
progress_erase(struct progress *pg)
{
	if (!pg->shown)
		return;
	fputs("\r\033[K", pg->fp);
	fflush(pg->fp);
	pg->shown = false;
}
