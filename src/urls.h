/* urls.h: the URLs to fetch, read as a stream or held as a list. */
#ifndef URLS_H
#define URLS_H

#include <stddef.h>
#include <stdio.h>

/* A growable list of URLs; v[i] are malloced and owned by the list. */
struct urls {
	char	**v;
	size_t	  n;
	size_t	  cap;
	size_t	  nul_lines;	/* Lines urls_read() skipped for a NUL. */
	size_t	  first_nul;	/* The first of them, counting from 1. */
};

/*
 * A stream of URLs read one line at a time from fp, so that the first is
 * fetched before the last is read and memory does not grow with the file:
 * one per line, of any length, with surrounding white space removed;
 * blank lines and lines whose first non-blank character is '#' are
 * skipped, and so is a UTF-8 byte-order mark at the very start.  A line
 * holding a NUL byte cannot be a URL and would be cut short as a C string:
 * it is skipped and counted in nul_lines (first_nul is its line number)
 * for the caller to report.  Only one thread may use a reader.
 */
struct urls_reader {
	FILE	 *fp;		/* Borrowed. */
	char	 *line;		/* NULL or malloced: getline()'s buffer. */
	size_t	  size;
	size_t	  lineno;
	size_t	  nul_lines;
	size_t	  first_nul;
};

/* Starts reading fp, which stays the caller's to close. */
void	urls_reader_init(struct urls_reader *r, FILE *fp);

/*
 * Reads the next URL into *url, malloced for the caller to free.  Blocks
 * until a line arrives.  Returns 1, 0 at the end of the file, or -1 with
 * errno set by the read or ENOMEM.
 */
int	urls_next(struct urls_reader *r, char **url);

/* Frees the reader's buffer; the file is left open. */
void	urls_reader_free(struct urls_reader *r);

/* Initialises an empty list. */
void	urls_init(struct urls *u);

/*
 * Appends url, a malloced string the list then owns.  Returns 0, or -1
 * with errno ENOMEM, leaving the list as it was and url the caller's.
 */
int	urls_push(struct urls *u, char *url);

/*
 * Appends a copy of the len bytes at s.  Returns 0, or -1 with errno
 * ENOMEM, leaving the list as it was.
 */
int	urls_add(struct urls *u, const char *s, size_t len);

/*
 * Appends every URL in fp, read as urls_next() reads them, and counts the
 * lines skipped for a NUL in nul_lines and first_nul.  Returns 0 at end of
 * file, or -1 with errno set by the read or ENOMEM; URLs read before an
 * error stay added.
 */
int	urls_read(struct urls *u, FILE *fp);

/* Frees every URL and the list's array; the list is then empty. */
void	urls_free(struct urls *u);

#endif /* URLS_H */
