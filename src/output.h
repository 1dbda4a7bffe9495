/* output.h: the lines fetch_urls prints. */
#ifndef OUTPUT_H
#define OUTPUT_H

#include <stdio.h>

#include "fetch.h"

/*
 * Writes one result line for url: "URL \t 0.26s \t 200", or
 * "URL request encountered error: MESSAGE", or for a cancelled request
 * the error "cancelled (why)".  Control characters in the URL and the
 * message are written as \xHH, so that a hostile URL list cannot drive
 * the terminal.
 */
void	output_result(FILE *fp, const char *url,
	    const struct fetch_result *res, const char *why);

/* Writes "Total time: 0.93s". */
void	output_total(FILE *fp, double secs);

#endif /* OUTPUT_H */
