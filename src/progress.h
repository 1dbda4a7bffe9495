/* progress.h: the live progress line on a terminal's standard error. */
#ifndef PROGRESS_H
#define PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * One line, redrawn in place with "\r", erased with "\r\033[K" before
 * anything else is printed, so that it never mixes with results or ends
 * up in a file.  Only the main thread uses it.
 */
struct progress {
	FILE	*fp;		/* Borrowed; standard error. */
	bool	 on;		/* Drawing at all. */
	bool	 shown;		/* A line is on the screen now. */
	double	 start;		/* When the run started. */
};

/*
 * Whether fp is a terminal that can show the line: not a dumb one
 * (TERM=dumb, as in Emacs' shell mode), which prints the escape that
 * erases it as text.
 */
bool	progress_can_draw(FILE *fp);

/*
 * Sets up *pg for a run that started at start (monotonic seconds).  It
 * draws only when on is true and progress_can_draw(fp).
 */
void	progress_init(struct progress *pg, FILE *fp, bool on, double start);

/*
 * Formats the line into buf (truncated to len - 1 bytes): "12/100 done,
 * 5 in flight, 1 failed, 3.2s, 3.7/s".  Returns its length.
 */
size_t	progress_format(char *buf, size_t len, size_t done, size_t total,
	    size_t in_flight, size_t failed, double elapsed);

/*
 * Draws the line over the last one, if on, cut to one column less than the
 * terminal is wide at that moment, so that it never wraps.
 */
void	progress_draw(struct progress *pg, size_t done, size_t total,
	    size_t in_flight, size_t failed, double now);

/* Erases the line, if one is shown. */
void	progress_erase(struct progress *pg);

#endif /* PROGRESS_H */
