/* urls.h: the list of URLs to fetch, from arguments and files. */
#ifndef URLS_H
#define URLS_H

#include <stddef.h>
#include <stdio.h>

#include "shard.h"

/*
 * A growable list of URLs; v[i] are malloced and owned by the list, and
 * num[i] is v[i]'s urlnum: its place among all the URLs offered to the
 * list, those another shard fetches included.
 */
struct urls {
	char	**v;
	size_t	 *num;		/* NULL or malloced, cap long. */
	size_t	  n;
	size_t	  cap;
	size_t	  seen;		/* URLs offered, kept or not. */
	const struct shard *shard; /* NULL (keep all) or not owned. */
	size_t	  nul_lines;	/* Lines urls_read() skipped for a NUL. */
	size_t	  first_nul;	/* The first of them, counting from 1. */
};

/*
 * Initialises an empty list that keeps every URL; the caller may then
 * set shard, to keep only the URLs shard_mine() gives it.
 */
void	urls_init(struct urls *u);

/*
 * Offers the len bytes at s as the next URL: counts it in seen and, if it
 * is the shard's, appends a copy with its number.  Returns 0, or -1 with
 * errno ENOMEM, leaving the list as it was.
 */
int	urls_add(struct urls *u, const char *s, size_t len);

/*
 * Appends every URL in fp: one per line, of any length, with surrounding
 * white space removed; blank lines and lines whose first non-blank
 * character is '#' are skipped.  A line holding a NUL byte cannot be a URL
 * and would be cut short as a C string: it is skipped and counted in
 * nul_lines (first_nul is its line number) for the caller to report.
 * Returns 0 at end of file, or -1 with errno set by the read or ENOMEM;
 * URLs read before an error stay added.
 */
int	urls_read(struct urls *u, FILE *fp);

/* Frees every URL and the list's array; the list is then empty. */
void	urls_free(struct urls *u);

#endif /* URLS_H */
