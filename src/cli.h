/* cli.h: fetch_urls's command line, parsed into a struct cli. */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "body.h"
#include "fetch_opts.h"
#include "postdata.h"
#include "shard.h"

enum cli_mode { CLI_CONCURRENT, CLI_SERIAL, CLI_COMPARE };

enum cli_format { CLI_TEXT, CLI_JSON, CLI_CSV };

enum cli_stats { CLI_STATS_OFF, CLI_STATS_TEXT, CLI_STATS_JSON };

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
	enum cli_format	 format;
	const char	*write_out;	/* NULL or in argv. */
	bool		 ordered;	/* Print in input order. */
	bool		 no_progress;
	bool		 location;	/* Follow redirects. */
	long		 max_redirs;	/* -1: no limit. */
	const char	*method;	/* NULL (GET) or in argv. */
	bool		 head;		/* HEAD request, no body. */
	const char	**headers;	/* NULL, or malloced and NULL-ended;
					   strings in argv. */
	size_t		 nheaders;
	const char	*user_agent;	/* NULL (the default) or in argv. */
	char		*user;		/* NULL or malloced: -u's
					   "user:password", wiped when freed. */
	char		*user_arg;	/* NULL or where -u's argument is in
					   argv, for the caller to blank out
					   of the process's command line
					   (one given before it is blanked
					   already). */
	bool		 insecure;	/* Do not verify TLS peers. */
	long		 retry;		/* Extra attempts; 0: none. */
	double		 rate;		/* Starts a second; 0: no limit. */
	long		 per_host;	/* In flight a host; 0: no limit. */
	struct fetch_opts opts;		/* TLS, name resolution, the body:
					   strings in argv or below, lists
					   owned. */
	struct body_config body;	/* body.name NULL: bodies are
					   discarded; strings in argv. */
	struct postdata	 post;		/* -d and the like; opts.data. */
	char		*bearer;	/* NULL or malloced: the token of
					   --oauth2-bearer, wiped when
					   freed; opts.bearer. */
	char		*bearer_arg;	/* NULL or where it is in argv, to
					   blank out as user_arg. */
	char		*proxy;		/* NULL or malloced: -x's URL when it
					   may hold credentials (an '@'),
					   wiped when freed; opts.proxy. */
	char		*proxy_arg;	/* NULL or where that URL is in argv,
					   for the caller to blank out its
					   user information. */
	const char	*records;	/* NULL or in argv: --records FILE. */
	bool		 resume;	/* Skip what records has; append. */
	struct shard	 shard;		/* n == 0: the whole input. */
	enum cli_stats	 stats;		/* --stats: the report after a run. */
};

enum cli_action { CLI_RUN, CLI_HELP, CLI_VERSION, CLI_ERROR };

/*
 * Parses argv into *cli, which borrows argv's strings, and reads the
 * files (or standard input) that -d @file and the like name, as curl
 * does.  Returns CLI_RUN, CLI_HELP or CLI_VERSION as asked, or CLI_ERROR
 * with a one-line reason naming the bad input in err.  After CLI_RUN the
 * caller frees what *cli holds with cli_free(); after anything else *cli
 * holds no memory.  A reason never quotes a header's value or a token,
 * which may be secrets.  Prints nothing; not thread-safe (getopt).
 */
enum cli_action	cli_parse(int argc, char **argv, struct cli *cli, char *err,
		    size_t errlen);

/*
 * Frees what cli_parse() allocated in *cli (the header list, the lists of
 * cli->opts, the body, the token); idempotent.
 */
void		cli_free(struct cli *cli);

/* Whether path names the file open as fd, a regular one if regular. */
bool		cli_names_fd(const char *path, int fd, bool regular);

/* Writes the usage synopsis and every option's help to fp. */
void		cli_usage(FILE *fp);

#endif /* CLI_H */
