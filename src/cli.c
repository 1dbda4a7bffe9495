/* cli.c: option parsing and help, both driven by one table. */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
	OPT_CONNECT_TIMEOUT = 256,
	OPT_DEADLINE
};

struct opt {
	const char	*name;
	int		 has_arg;
	int		 val;
	const char	*arg;
	const char	*help;
};

/* Sorted by long name; the help text is printed in this order. */
static const struct opt opts[] = {
	{ "compare", no_argument, 'c', NULL,
	    "run serially, then concurrently; print the speedup" },
	{ "connect-timeout", required_argument, OPT_CONNECT_TIMEOUT, "SECS",
	    "give up connecting after SECS (default 10)" },
	{ "deadline", required_argument, OPT_DEADLINE, "SECS",
	    "cancel whatever has not finished SECS into the run" },
	{ "help", no_argument, 'h', NULL, "print this help and exit" },
	{ "input", required_argument, 'i', "FILE",
	    "read URLs from FILE, one a line (- for stdin)" },
	{ "jobs", required_argument, 'j', "N",
	    "keep at most N requests in flight (default: all)" },
	{ "max-time", required_argument, 'm', "SECS",
	    "give up on a request after SECS (default 30)" },
	{ "quiet", no_argument, 'q', NULL, "do not print the total time" },
	{ "serial", no_argument, 's', NULL,
	    "fetch one URL at a time, in order" },
	{ "version", no_argument, 'V', NULL,
	    "print the version and libcurl's, and exit" },
};

#define NOPTS	(sizeof(opts) / sizeof(opts[0]))

/* The leading colon makes a missing argument return ':'. */
static const char shortopts[] = ":chi:j:m:qsV";

void
cli_usage(FILE *fp)
{
	char left[40];
	size_t i;

	fprintf(fp, "usage: fetch_urls [-cqsV] [-i file] [-j jobs] [-m secs]\n"
	    "                  [--connect-timeout secs] [--deadline secs] "
	    "[url ...]\n\n"
	    "Fetches every URL concurrently and prints, as each finishes,\n"
	    "its time and HTTP status, then the total time.\n\n");
	for (i = 0; i < NOPTS; i++) {
		if (opts[i].val < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s",
			    opts[i].val, opts[i].name, opts[i].arg ? " " : "",
			    opts[i].arg ? opts[i].arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s",
			    opts[i].name, opts[i].arg ? " " : "",
			    opts[i].arg ? opts[i].arg : "");
		fprintf(fp, "  %-26s %s\n", left, opts[i].help);
	}
	fprintf(fp, "\nExit status: 0 when every URL answered below 400, "
	    "1 otherwise,\n2 on a usage error, 130 when interrupted.\n");
}

static const char *
opt_name(int val)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (opts[i].val == val)
			return opts[i].name;
	return "?";
}

/* Parses a count from 1 to max; -1 on junk or out of range. */
static int
parse_count(const char *s, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno == ERANGE || v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Parses positive seconds, decimals allowed, up to a day, into ms. */
static int
parse_secs(const char *s, long *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v) ||
	    v <= 0 || v > 86400)
		return -1;
	/*
	 * Rounding to microseconds first keeps 16.1 at 16100 ms, which binary
	 * floating point would otherwise round up to 16101.
	 */
	*ms = (long)ceil(round(v * 1e6) / 1000);
	if (*ms == 0)
		*ms = 1;
	return 0;
}

enum cli_action
cli_parse(int argc, char **argv, struct cli *cli, char *err, size_t errlen)
{
	struct option longopts[NOPTS + 1];
	size_t i;
	int c;

	memset(cli, 0, sizeof(*cli));
	cli->mode = CLI_CONCURRENT;
	cli->max_time_ms = 30000;
	cli->connect_timeout_ms = 10000;

	for (i = 0; i < NOPTS; i++) {
		longopts[i].name = opts[i].name;
		longopts[i].has_arg = opts[i].has_arg;
		longopts[i].flag = NULL;
		longopts[i].val = opts[i].val;
	}
	memset(&longopts[NOPTS], 0, sizeof(longopts[NOPTS]));

	/* Starts getopt afresh, so that the parser can run more than once. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cli->mode = CLI_COMPARE;
			break;
		case 'h':
			return CLI_HELP;
		case 'i':
			if (cli->input != NULL) {
				snprintf(err, errlen, "--input given twice "
				    "('%s' and '%s')", cli->input, optarg);
				return CLI_ERROR;
			}
			cli->input = optarg;
			break;
		case 'j':
			if (parse_count(optarg, 1000000, &cli->jobs) < 0)
				goto badnum;
			break;
		case 'm':
			if (parse_secs(optarg, &cli->max_time_ms) < 0)
				goto badsecs;
			break;
		case 'q':
			cli->quiet = true;
			break;
		case 's':
			cli->mode = CLI_SERIAL;
			break;
		case 'V':
			return CLI_VERSION;
		case OPT_CONNECT_TIMEOUT:
			if (parse_secs(optarg, &cli->connect_timeout_ms) < 0)
				goto badsecs;
			break;
		case OPT_DEADLINE:
			if (parse_secs(optarg, &cli->deadline_ms) < 0)
				goto badsecs;
			break;
		case ':':
			snprintf(err, errlen, "option '%s' needs an argument",
			    argv[optind - 1]);
			return CLI_ERROR;
		default:
			if (strncmp(argv[optind - 1], "--", 2) == 0 &&
			    strchr(argv[optind - 1], '=') != NULL)
				snprintf(err, errlen, "unknown option, or one "
				    "that takes no argument: '%s'",
				    argv[optind - 1]);
			else if (optopt != 0 && optopt < 256)
				snprintf(err, errlen, "unknown option '-%c'",
				    optopt);
			else
				snprintf(err, errlen, "unknown option '%s'",
				    argv[optind - 1]);
			return CLI_ERROR;
		}
	}
	cli->urls = argv + optind;
	cli->nurls = (size_t)(argc - optind);
	return CLI_RUN;

badnum:
	snprintf(err, errlen, "--%s wants a whole number from 1 to 1000000, "
	    "not '%s'", opt_name(c), optarg);
	return CLI_ERROR;
badsecs:
	snprintf(err, errlen, "--%s wants seconds above 0 (up to 86400), "
	    "not '%s'", opt_name(c), optarg);
	return CLI_ERROR;
}
