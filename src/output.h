/* output.h: the lines fetch_urls prints, as text, JSON, CSV or curl's -w. */
#ifndef OUTPUT_H
#define OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "fetch.h"

/*
 * Every string that reaches the output passes two filters.  Credentials
 * in URLs ("user:pass@" in the authority of the URL itself, or of any
 * "scheme://" inside a string, or, in a message, of a word that starts
 * with a single quote) are replaced by "***", in every format and in
 * error messages.  Then each format escapes what it must:
 *
 *   text, --write-out  bytes below 0x20 and 0x7f as \xHH; the rest as is,
 *                      so the default output stays what it always was.
 *   json               RFC 8259 escapes; other control characters, DEL
 *                      and C1 controls as \u00XX; U+2028 and U+2029
 *                      escaped; every byte that is not part of valid
 *                      UTF-8 as \ufffd (the replacement character).
 *   csv                RFC 4180: strings always quoted, quotes doubled,
 *                      records end with CRLF; inside a field control
 *                      characters are written as \xHH (C1 ones as
 *                      \u00XX) and invalid UTF-8 bytes as U+FFFD, so that
 *                      every field is one line of valid UTF-8.
 */
enum output_format {
	OUTPUT_TEXT,
	OUTPUT_JSON,
	OUTPUT_CSV,
	OUTPUT_WRITEOUT
};

struct output {
	enum output_format	 format;
	const char		*write_out;	/* For OUTPUT_WRITEOUT;
						   borrowed. */
	bool			 header_done;	/* The CSV header is out. */
	const char		*run;		/* NULL, or with --compare
						   "serial" or "concurrent":
						   the run the records are of,
						   a field of each.  Static. */
};

/* Sets up *o; write_out (borrowed) is the format of OUTPUT_WRITEOUT. */
void	output_init(struct output *o, enum output_format format,
	    const char *write_out);

/*
 * Writes the record of one result for url (as the user gave it), the
 * index-th URL of the run.  Text: "URL \t 0.26s \t 200", or
 * "URL request encountered error: MESSAGE", with "cancelled (why)" as the
 * message of a cancelled request.  JSON: one object on one line.  CSV: one
 * record, after the header record the first time.  --write-out: the
 * format with its variables replaced.  The record is written under fp's
 * lock (flockfile(3)), so that another thread that flushes fp under the
 * lock never ends the output inside it.
 */
void	output_result(FILE *fp, struct output *o, const char *url,
	    const struct fetch_result *res, const char *why);

/*
 * Ends the records of a run: CSV output that had no record (an empty
 * list, a --shard that gets no URL) still gets its header, so that it is
 * a CSV table, empty.  Other formats write nothing.  Under fp's lock, as
 * output_result() writes.
 */
void	output_finish(FILE *fp, struct output *o);

/*
 * Writes s as text output does: control characters (C0, DEL and C1, also
 * when UTF-8 encoded) as \xHH, everything else as it is.  NULL writes
 * nothing.
 */
void	output_escaped(FILE *fp, const char *s);

/* Writes "Total time: 0.93s". */
void	output_total(FILE *fp, double secs);

/*
 * Writes "Serial: 2.231s, concurrent: 0.930s, speedup: 2.40x": each time
 * with three significant digits or more, so that short runs do not print
 * 0.00s, and the speedup from the times as measured, not as printed.
 * Under fp's lock, as output_result() writes.
 */
void	output_speedup(FILE *fp, double serial, double concurrent);

/*
 * Writes "Summary: 3 succeeded, 1 got HTTP status >= 400, 1 failed
 * without a response".
 */
void	output_summary(FILE *fp, size_t ok, size_t http_errors,
	    size_t failed);

/*
 * The name of --write-out variable i (from 0, in the order of the help and
 * the manual), or NULL past the last.  Static.
 */
const char *output_writeout_name(size_t i);

/*
 * Checks a --write-out format: every %{name} must be a known variable.
 * Returns 0, or -1 with a one-line reason in err.
 */
int	output_writeout_check(const char *fmt, char *err, size_t errlen);

/*
 * Checks a format in the syntax of --write-out, given to option (named in
 * the reason): every %{name} must be one of name_of(0), name_of(1)...
 * up to NULL; %% is a percent sign and, with escapes, a backslash takes
 * the character after it.  Returns 0, or -1 with a one-line reason in err.
 */
int	output_vars_check(const char *fmt, const char *option, bool escapes,
	    const char *(*name_of)(size_t), char *err, size_t errlen);

/*
 * Returns a malloced copy of s with credentials replaced by "***" (see
 * above); url says that s is a URL, whose scheme may be left out, rather
 * than a message that may contain URLs.  NULL when out of memory.
 */
char	*output_redact(const char *s, bool url);

/*
 * Returns the length of the user information at the start of s, the
 * authority of a URL after its "//", with the '@' that ends it where
 * output_redact() sees it end; 0 when there is none.
 */
size_t	output_userinfo_len(const char *s);

/*
 * Returns where the authority of url starts, as output_redact() finds it:
 * after its "scheme:" and the slashes that follow, which may be left out
 * ("user:pw@host:8080" starts at 0).
 */
size_t	output_authority(const char *url);

/* Writes s as a JSON string, quotes included; NULL as null. */
void	output_json_string(FILE *fp, const char *s);

/* Writes s as a quoted CSV field; NULL as an empty one. */
void	output_csv_field(FILE *fp, const char *s);

#endif /* OUTPUT_H */
