/* cli.h: fetch_urls's command line, parsed into a struct cli. */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum cli_mode { CLI_CONCURRENT, CLI_SERIAL, CLI_COMPARE };

struct cli {
	enum cli_mode	 mode;
	long		 jobs;		/* 0: one worker per URL. */
	long		 max_time_ms;
	long		 connect_timeout_ms;
	long		 deadline_ms;	/* 0: none. */
	bool		 quiet;
	const char	*input;		/* NULL, a path or "-"; in argv. */
	char *const	*urls;		/* URL arguments, in argv. */
	size_t		 nurls;
};

enum cli_action { CLI_RUN, CLI_HELP, CLI_VERSION, CLI_ERROR };

/*
 * Parses argv into *cli, which borrows argv's strings.  Returns CLI_RUN,
 * CLI_HELP or CLI_VERSION as asked, or CLI_ERROR with a one-line reason
 * naming the bad input in err.  Prints nothing; not thread-safe (getopt).
 */
enum cli_action	cli_parse(int argc, char **argv, struct cli *cli, char *err,
		    size_t errlen);

/* Writes the usage synopsis and every option's help to fp. */
void		cli_usage(FILE *fp);

#endif /* CLI_H */
