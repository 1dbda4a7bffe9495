/* postdata.h: the request body -d, --data-binary and --data-raw build. */
#ifndef POSTDATA_H
#define POSTDATA_H

#include <stdbool.h>
#include <stddef.h>

/* How a piece of data is taken, as curl's options of the same names. */
enum postdata_kind {
	POSTDATA_TEXT,		/* -d: "@file" is read without CR and LF. */
	POSTDATA_BINARY,	/* --data-binary: "@file" is read as is. */
	POSTDATA_RAW		/* --data-raw: no "@"; the text as is. */
};

/*
 * One body for every request, built as curl builds it: pieces joined by
 * '&', in the order given.  A zero struct holds no body.
 */
struct postdata {
	char	*buf;		/* NULL (no body) or malloced: len bytes
				   and a NUL. */
	size_t	 len;
};

/*
 * Appends the piece arg of the given kind to pd, reading the file (or
 * standard input, "-") that "@file" names, whole, now.  As curl 7.88
 * reads a file for -d, it reads lines of up to 255 bytes at a time and
 * keeps of each the bytes before its first CR, LF or NUL.  Returns 0, or
 * -1 with errno set (the file's error, or ENOMEM) and pd unaltered.
 */
int	postdata_add(struct postdata *pd, enum postdata_kind kind,
	    const char *arg);

/* Frees what pd holds; idempotent. */
void	postdata_free(struct postdata *pd);

#endif /* POSTDATA_H */
