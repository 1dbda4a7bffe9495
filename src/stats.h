/* stats.h: --stats, the end-of-run report of how the URLs behaved. */
#ifndef STATS_H
#define STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fetch.h"

/*
 * The figures of one run, gathered result by result in memory that is
 * allocated once by stats_new() and does not grow with the number of
 * URLs or of hosts:
 *
 *   outcomes   2xx, 3xx, 4xx, 5xx, other statuses, errors by kind (the
 *              first STATS_KINDS kinds; later ones count as "other"),
 *              cancelled.
 *   times      total time (fetch_result.secs) of every URL not cancelled
 *              and time to first byte of every one whose response began,
 *              in log-linear histograms (hist.h) of 10 bits: each
 *              percentile is within 0.1% of the exact one.
 *   slowest    the STATS_SLOWEST URLs with the longest total times,
 *              credentials redacted.
 *   hosts      per host name, in a space-saving table of STATS_HOSTS
 *              entries (Metwally, Agrawal and El Abbadi, 2005): a host
 *              not in the table takes the place of the one with the
 *              fewest URLs and starts from that count.  Every host with
 *              more than 1/STATS_HOSTS of the URLs is in the table, and
 *              a count is over by at most the host's "over" figure.  A
 *              host's errors and its 5-bit histogram (percentiles within
 *              3.1%) cover the URLs since it last entered the table.
 *
 * Only the main thread uses a struct stats.
 */
struct stats;

#define STATS_SLOWEST	5
#define STATS_TOP	10	/* Hosts reported. */
#define STATS_HOSTS	100	/* Hosts tracked. */
#define STATS_KINDS	32	/* Error kinds counted by name. */

enum stats_format { STATS_TEXT, STATS_JSON };

/* One run to report: its figures, its name (NULL or static) and time. */
struct stats_run {
	const struct stats	*st;
	const char		*name;
	double			 elapsed;	/* Wall seconds. */
};

/* A host as the table has it; see above. */
struct stats_host {
	const char	*name;		/* Owned by the stats. */
	uint64_t	 count;
	uint64_t	 over;		/* count may be over by this much. */
	uint64_t	 errors;
	uint64_t	 timed;		/* URLs with a time, not cancelled. */
	uint64_t	 p50_us;	/* Of the timed ones; 0 without any. */
	uint64_t	 p99_us;
};

/* Creates empty figures.  Returns NULL with errno set when out of memory. */
struct stats	*stats_new(void);

/* Frees st and all it owns; NULL is a no-op. */
void		 stats_free(struct stats *st);

/*
 * Adds the result res of url (as the user gave it; copied redacted, if
 * kept).  Out of memory, a slow URL is left out of the slowest.
 */
void		 stats_add(struct stats *st, const char *url,
		    const struct fetch_result *res);

/*
 * Fills out[0..max) with the hosts tracked, the most URLs first (then by
 * name), and returns how many it filled.  The names live until the next
 * stats_add() or stats_free().
 */
size_t		 stats_hosts(const struct stats *st, struct stats_host *out,
		    size_t max);

/*
 * Writes the report of runs[0..nruns) (1, or 2 side by side) to fp: as
 * text, for a terminal of the width COLUMNS gives, else fp's terminal
 * (TIOCGWINSZ), else 80 columns, with block characters when the
 * locale's character set (LC_CTYPE) is UTF-8 and '#' otherwise; or as
 * one JSON object on one line: the report of the run, or when the runs
 * have names (all or none do), the report of each under its name, even
 * of one run.
 */
void		 stats_print(FILE *fp, enum stats_format format,
		    const struct stats_run *runs, size_t nruns);

/*
 * Writes into buf (of size len) the bar of a histogram row with count
 * URLs when the fullest row has max and gets cells columns: cells *
 * count / max columns, rounded to the nearest eighth of a column with
 * UTF-8 block characters (utf8) or to the nearest column with '#', and
 * at least the smallest step for a count above 0.  Returns the bar's
 * length in steps (eighths or columns); buf is always terminated.
 */
size_t		 stats_bar(char *buf, size_t len, uint64_t count,
		    uint64_t max, size_t cells, bool utf8);

#endif /* STATS_H */
