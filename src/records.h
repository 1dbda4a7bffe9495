/* records.h: reading back the records file that --resume continues. */
#ifndef RECORDS_H
#define RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "output.h"

/*
 * A record is done when its line is complete (it ends with a newline) and
 * its key matches: the URL as the record prints it (credentials hidden,
 * escaped for the format) and its urlnum.  The key is the record's start:
 *
 *   json        {"url":"...","urlnum":N,
 *   csv         "...",N,
 *   --write-out the format's start, which must be %{urlnum}; then, when
 *               a blank (space or \t) and %{url} follow, the URL up to the
 *               next blank too.
 *
 * The text form has no urlnum, and cannot be resumed.  The set of done
 * records takes 4 bytes per URL number up to the highest one seen.
 */
struct records_done;

/*
 * Checks that records of o's format can be read back.  Returns 0, or -1
 * with a one-line reason in err.
 */
int	records_check(const struct output *o, char *err, size_t errlen);

/*
 * Where a records file that replaces path goes.  Returns 1 when path names
 * a regular file or nothing, with *target set to a malloced path to rename
 * the new file onto: path itself, or the file a symbolic link names, so
 * that the link stays a link.  Returns 0 when path names anything else (a
 * device such as /dev/null or /dev/stdout, a FIFO, a link to nothing),
 * which is written in place and never replaced.  Returns -1 with errno
 * when path cannot be looked up or memory runs out.
 */
int	records_target(const char *path, char **target);

/*
 * Opens for writing a new file beside target (from records_target()),
 * named target, suffix and six random characters, with the permissions a
 * file replacing target should have: target's own, or those open() gives
 * a new file under the umask.  Sets *tmp to its malloced name.  Returns
 * the stream, or NULL with errno, leaving no file behind.  Reads the umask
 * by setting it, so call it before any thread starts.
 */
FILE	*records_temp(const char *target, const char *suffix, char **tmp);

/*
 * Reads the records file at path, if there is one, and rewrites it (a
 * records_temp() file renamed onto its records_target()) with only its
 * complete records: a line cut short by a crash is dropped, and so is a
 * second record of one URL number.  Sets *csv_header when the file kept a CSV header line.
 * Returns the set of done records (empty when path does not exist), or
 * NULL with a one-line reason in err: the file cannot be read or
 * written, is no regular file, or a complete line is no record of o's
 * format.
 */
struct records_done *records_load(const char *path, const struct output *o,
	    bool *csv_header, char *err, size_t errlen);

/* Whether the record of url, number urlnum, is done. */
bool	records_has(const struct records_done *d, const struct output *o,
	    size_t urlnum, const char *url);

/* How many records are done. */
size_t	records_count(const struct records_done *d);

/* Frees the set; NULL is a no-op. */
void	records_free(struct records_done *d);

#endif /* RECORDS_H */
