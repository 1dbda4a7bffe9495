/* cli.c: option parsing and help, both driven by one table. */

#define _DEFAULT_SOURCE		/* explicit_bzero(), strdup() */

#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "body.h"
#include "cli.h"
#include "output.h"

enum {
	OPT_CACERT = 256,
	OPT_CAPATH,
	OPT_CERT,
	OPT_COMPRESSED,
	OPT_CONNECT_TIMEOUT,
	OPT_CONNECT_TO,
	OPT_COOKIE_JAR,
	OPT_CREATE_DIRS,
	OPT_DATA_BINARY,
	OPT_DATA_RAW,
	OPT_DEADLINE,
	OPT_FORMAT,
	OPT_HTTP1_1,
	OPT_HTTP2,
	OPT_HTTP2_PRIOR_KNOWLEDGE,
	OPT_JSON,
	OPT_KEY,
	OPT_MAX_FILESIZE,
	OPT_MAX_REDIRS,
	OPT_NO_PROGRESS,
	OPT_NOPROXY,
	OPT_OAUTH2_BEARER,
	OPT_ORDERED,
	OPT_OUTPUT_DIR,
	OPT_PER_HOST,
	OPT_RATE,
	OPT_RECORDS,
	OPT_RESOLVE,
	OPT_RESUME,
	OPT_RETRY,
	OPT_SHARD,
	OPT_SHARD_BY,
	OPT_STATS
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
	{ "cacert", required_argument, OPT_CACERT, "FILE",
	    "trust the CA certificates in FILE (PEM)" },
	{ "capath", required_argument, OPT_CAPATH, "DIR",
	    "trust the CA certificates in DIR (hashed names)" },
	{ "cert", required_argument, OPT_CERT, "FILE",
	    "present the client certificate in FILE (PEM)" },
	{ "compare", no_argument, 'c', NULL,
	    "run serially, then concurrently; print the speedup" },
	{ "compressed", no_argument, OPT_COMPRESSED, NULL,
	    "ask for gzip, br, zstd... and decode the body" },
	{ "connect-timeout", required_argument, OPT_CONNECT_TIMEOUT, "SECS",
	    "give up connecting after SECS (default 10)" },
	{ "connect-to", required_argument, OPT_CONNECT_TO, "H1:P1:H2:P2",
	    "connect to H2:P2 instead of H1:P1 (repeatable)" },
	{ "cookie", required_argument, 'b', "DATA|FILE",
	    "send cookies 'n=v; n2=v2', or start with FILE's" },
	{ "cookie-jar", required_argument, OPT_COOKIE_JAR, "FILE",
	    "write the cookies to FILE at the end" },
	{ "create-dirs", no_argument, OPT_CREATE_DIRS, NULL,
	    "create --output-dir and the directories of names" },
	{ "data", required_argument, 'd', "DATA",
	    "POST DATA, or @FILE without CR/LF, @- stdin" },
	{ "data-binary", required_argument, OPT_DATA_BINARY, "DATA",
	    "as --data, but @FILE is sent as is" },
	{ "data-raw", required_argument, OPT_DATA_RAW, "DATA",
	    "as --data, but @ is not special" },
	{ "deadline", required_argument, OPT_DEADLINE, "SECS",
	    "cancel whatever has not finished SECS into the run" },
	{ "format", required_argument, OPT_FORMAT, "FMT",
	    "print text, json (an object a line) or csv" },
	{ "head", no_argument, 'I', NULL,
	    "send HEAD requests: no body is fetched" },
	{ "header", required_argument, 'H', "LINE",
	    "send header 'Name: value' (repeatable)" },
	{ "help", no_argument, 'h', NULL, "print this help and exit" },
	{ "http1.1", no_argument, OPT_HTTP1_1, NULL, "use HTTP/1.1 only" },
	{ "http2", no_argument, OPT_HTTP2, NULL,
	    "ask for HTTP/2 (TLS: ALPN; http: an h2c Upgrade)" },
	{ "http2-prior-knowledge", no_argument, OPT_HTTP2_PRIOR_KNOWLEDGE,
	    NULL, "speak HTTP/2 at once, even over http" },
	{ "input", required_argument, 'i', "FILE",
	    "read URLs from FILE, one a line (- for stdin)" },
	{ "insecure", no_argument, 'k', NULL,
	    "do not verify TLS certificates" },
	{ "ipv4", no_argument, '4', NULL,
	    "connect to IPv4 addresses only" },
	{ "ipv6", no_argument, '6', NULL,
	    "connect to IPv6 addresses only" },
	{ "jobs", required_argument, 'j', "N",
	    "keep at most N requests in flight (default: all)" },
	{ "json", no_argument, OPT_JSON, NULL, "same as --format json" },
	{ "key", required_argument, OPT_KEY, "FILE",
	    "the private key of --cert, if not in its file" },
	{ "location", no_argument, 'L', NULL,
	    "follow redirects (see --max-redirs)" },
	{ "max-filesize", required_argument, OPT_MAX_FILESIZE, "BYTES",
	    "fail bodies announced larger (units k, M, G)" },
	{ "max-redirs", required_argument, OPT_MAX_REDIRS, "N",
	    "follow at most N redirects (default 10, -1: any)" },
	{ "max-time", required_argument, 'm', "SECS",
	    "give up on a request after SECS (default 30)" },
	{ "no-progress", no_argument, OPT_NO_PROGRESS, NULL,
	    "no progress line, even on a terminal" },
	{ "noproxy", required_argument, OPT_NOPROXY, "HOSTS",
	    "reach HOSTS (a,b.c or *) without the proxy" },
	{ "oauth2-bearer", required_argument, OPT_OAUTH2_BEARER, "TOKEN",
	    "send an OAuth 2.0 bearer token; never printed" },
	{ "ordered", no_argument, OPT_ORDERED, NULL,
	    "print results in input order, each when it can" },
	{ "output", required_argument, 'o', "TEMPLATE",
	    "save each body to the file TEMPLATE names; below" },
	{ "output-dir", required_argument, OPT_OUTPUT_DIR, "DIR",
	    "save the bodies in DIR (default: here)" },
	{ "per-host", required_argument, OPT_PER_HOST, "N",
	    "keep at most N requests in flight per host" },
	{ "proxy", required_argument, 'x', "URL",
	    "use the proxy at URL, [scheme://]host[:port]" },
	{ "quiet", no_argument, 'q', NULL,
	    "no total time, summary or progress line" },
	{ "rate", required_argument, OPT_RATE, "N[/U]",
	    "start at most N requests a second (U: s m h d)" },
	{ "records", required_argument, OPT_RECORDS, "FILE",
	    "write the records to FILE once the run is complete" },
	{ "remote-name", no_argument, 'O', NULL,
	    "save each body under its URL's last part, as curl" },
	{ "request", required_argument, 'X', "METHOD",
	    "use METHOD instead of GET" },
	{ "resolve", required_argument, OPT_RESOLVE, "HOST:PORT:ADDR",
	    "use ADDR[,ADDR...] for HOST:PORT (repeatable)" },
	{ "resume", no_argument, OPT_RESUME, NULL,
	    "with --records: skip the URLs FILE has, append" },
	{ "retry", required_argument, OPT_RETRY, "N",
	    "retry transient failures up to N times" },
	{ "serial", no_argument, 's', NULL,
	    "fetch one URL at a time, in order" },
	{ "shard", required_argument, OPT_SHARD, "K/N",
	    "fetch only share K of N of the input (K from 0)" },
	{ "shard-by", required_argument, OPT_SHARD_BY, "LINE|HOST",
	    "share out by line (default) or host" },
	{ "stats", optional_argument, OPT_STATS, "json",
	    "report outcomes, percentiles, slowest, hosts" },
	{ "user", required_argument, 'u', "USER:PASS",
	    "authenticate with HTTP Basic; never printed" },
	{ "user-agent", required_argument, 'A', "NAME",
	    "send User-Agent NAME (default fetch_urls/" FETCH_VERSION ")" },
	{ "version", no_argument, 'V', NULL,
	    "print the version and libcurl's, and exit" },
	{ "write-out", required_argument, 'w', "FORMAT",
	    "print FORMAT for each URL; see below" },
};

#define NOPTS	(sizeof(opts) / sizeof(opts[0]))

/* The leading colon makes a missing argument return ':'. */
static const char shortopts[] = ":46A:b:cd:H:hIi:j:kLm:Oo:qsu:Vw:X:x:";

/*
 * Adds one item of the synopsis to the line being written, starting a new
 * line indented under the first item when it would pass column 79.
 * *col is the column the line has reached.
 */
static void
synopsis_item(FILE *fp, const char *item, size_t *col)
{
	static const char lead[] = "usage: fetch_urls";
	size_t len = strlen(item);

	if (*col + 1 + len > 79) {
		fprintf(fp, "\n%*s", (int)sizeof(lead) - 1, "");
		*col = sizeof(lead) - 1;
	}
	fprintf(fp, " %s", item);
	*col += 1 + len;
}

/*
 * What goes between an option's name and its argument's, and after it:
 * an optional argument is written "--name[=arg]".
 */
static const char *
arg_open(const struct opt *o)
{
	return o->arg == NULL ? "" : o->has_arg == optional_argument ?
	    "[=" : " ";
}

static const char *
arg_close(const struct opt *o)
{
	return o->has_arg == optional_argument ? "]" : "";
}

/* Orders letters as manuals do: by letter, lower case first. */
static int
by_letter(const void *a, const void *b)
{
	int x = opts[*(const size_t *)a].val, y = opts[*(const size_t *)b].val;
	int lx = tolower(x), ly = tolower(y);

	return lx != ly ? lx - ly : y - x;
}

/*
 * Writes the synopsis from the option table, as a manual page has it:
 * the letters that take no argument in one cluster, the letters that take
 * one, then the long-only options, then the operands.  The argument names
 * are the table's, in lower case.
 */
static void
synopsis(FILE *fp)
{
	char item[64];
	size_t idx[NOPTS], i, j, n = 0, k, col;

	for (i = 0; i < NOPTS; i++)
		if (opts[i].val < 256 && opts[i].val != 'h')
			idx[n++] = i;
	qsort(idx, n, sizeof(idx[0]), by_letter);
	fputs("usage: fetch_urls", fp);
	col = strlen("usage: fetch_urls");
	k = 0;
	item[k++] = '[';
	item[k++] = '-';
	for (i = 0; i < n; i++)
		if (opts[idx[i]].arg == NULL)
			item[k++] = (char)opts[idx[i]].val;
	item[k++] = ']';
	item[k] = '\0';
	synopsis_item(fp, item, &col);
	for (i = 0; i < n + NOPTS; i++) {
		j = i < n ? idx[i] : i - n;
		if (opts[j].arg == NULL || (i >= n && opts[j].val < 256))
			continue;
		if (i < n)
			k = (size_t)snprintf(item, sizeof(item), "[-%c ",
			    opts[j].val);
		else
			k = (size_t)snprintf(item, sizeof(item), "[--%s%s",
			    opts[j].name, arg_open(&opts[j]));
		for (const char *a = opts[j].arg; *a != '\0' &&
		    k + 3 < sizeof(item); a++)
			item[k++] = (char)tolower((unsigned char)*a);
		if (*arg_close(&opts[j]) != '\0')
			item[k++] = ']';
		item[k++] = ']';
		item[k] = '\0';
		synopsis_item(fp, item, &col);
	}
	for (i = 0; i < NOPTS; i++)
		if (opts[i].val >= 256 && opts[i].arg == NULL) {
			snprintf(item, sizeof(item), "[--%s]", opts[i].name);
			synopsis_item(fp, item, &col);
		}
	synopsis_item(fp, "[url ...]", &col);
	putc('\n', fp);
}

/*
 * Writes title, then the variables name(0), name(1)... up to NULL as
 * %{name}, wrapped at 79 columns: the help lists them from their tables.
 */
static void
put_vars(FILE *fp, const char *title, const char *(*name)(size_t))
{
	const char *n;
	size_t i, col;

	fprintf(fp, "\n%s", title);
	col = strlen(title);
	for (i = 0; (n = name(i)) != NULL; i++) {
		if (col + strlen(n) + 4 > 79) {
			putc('\n', fp);
			col = 0;
		} else {
			putc(' ', fp);
			col++;
		}
		col += (size_t)fprintf(fp, "%%{%s}", n);
	}
}

void
cli_usage(FILE *fp)
{
	char left[40];
	size_t i;

	synopsis(fp);
	fprintf(fp, "\nFetches every URL concurrently and prints, as each "
	    "finishes,\nits time and HTTP status, then the total time.\n\n");
	for (i = 0; i < NOPTS; i++) {
		if (opts[i].val < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s%s",
			    opts[i].val, opts[i].name, arg_open(&opts[i]),
			    opts[i].arg ? opts[i].arg : "",
			    arg_close(&opts[i]));
		else
			snprintf(left, sizeof(left), "    --%s%s%s%s",
			    opts[i].name, arg_open(&opts[i]),
			    opts[i].arg ? opts[i].arg : "",
			    arg_close(&opts[i]));
		fprintf(fp, "  %-26s %s\n", left, opts[i].help);
	}
	put_vars(fp, "--write-out variables, as in curl:",
	    output_writeout_name);
	fprintf(fp, "\n\\n \\t \\r \\\\ and %%%% are escapes.\n"
	    "In json, csv and --write-out output the total time and the "
	    "summary go to\nstandard error.\n");
	put_vars(fp, "--output variables (-O is %{filename}):",
	    body_var_name);
	fprintf(fp, "\nmade safe: no name leaves --output-dir; an existing "
	    "file is never replaced.\n");
	fprintf(fp, "\nExit status: 0 when every URL answered below 400, "
	    "1 otherwise,\n2 on a usage error, 3 when the run is incomplete "
	    "(run it again with\n--resume), 130 when interrupted, 143 when "
	    "terminated.\n");
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

/*
 * Whether the len bytes at s make a number as the options take it: they
 * start with a digit or a '.', and are not hexadecimal.  strtol() and
 * strtod() also take leading blanks, a sign, hexadecimal, "inf" and
 * "nan"; an exponent (1e-3) stays allowed, as curl allows it.
 */
static bool
plain_number(const char *s, size_t len)
{
	if (len == 0 || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return false;
	return memchr(s, 'x', len) == NULL && memchr(s, 'X', len) == NULL;
}

/* Parses a whole number from min to max; -1 on junk or out of range. */
static int
parse_long(const char *s, long min, long max, long *out)
{
	const char *digits = min < 0 && *s == '-' ? s + 1 : s;
	char *end;
	long v;

	if (!plain_number(digits, strlen(digits)))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno == ERANGE || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Parses a count from 1 to max; -1 on junk or out of range. */
static int
parse_count(const char *s, long max, long *out)
{
	return parse_long(s, 1, max, out);
}

/*
 * Parses a rate, "N" or curl's "N/U", into starts a second: N is a
 * number above 0, decimals allowed, and U one of s, m, h and d.  Unlike
 * curl, whose bare N counts per hour, a bare N counts per second, as the
 * option's help says.  -1 on junk, or a rate above a million a second.
 */
static int
parse_rate(const char *s, double *out)
{
	char *end;
	double v, unit = 1;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(v) || v <= 0 ||
	    !plain_number(s, (size_t)(end - s)))
		return -1;
	if (*end == '/') {
		switch (end[1]) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		default:
			return -1;
		}
		if (end[2] != '\0')
			return -1;
	} else if (*end != '\0')
		return -1;
	if (v / unit > 1e6)
		return -1;
	*out = v / unit;
	return 0;
}

/* A token as HTTP's grammar has it (RFC 9110): a method or header name. */
static bool
is_token(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] == 0x7f ||
		    strchr("\"(),/:;<=>?@[\\]{}", s[i]) != NULL)
			return false;
	return true;
}

/*
 * Checks a header line as curl takes it: "Name: value", "Name:" (removes
 * a header libcurl would send) or "Name;" (sends it empty).  Returns NULL,
 * or the reason it is refused; the reason names the header's name only,
 * never its value, which may be a secret.
 */
static const char *
bad_header(const char *h, int *namelen)
{
	size_t n = strcspn(h, ":;");

	*namelen = (int)strcspn(h, " \t:;");
	if (*namelen > 40)
		*namelen = 40;
	if (h[n] == '\0')
		return "has no ':' after the name";
	if (h[n] == ';' && h[n + 1] != '\0')
		return "has text after ';'";
	if (!is_token(h, n))
		return "has no valid name before ':'";
	if (strpbrk(h, "\r\n") != NULL)
		return "contains a line break";
	return NULL;
}

/*
 * Appends s (borrowed) to the NULL-ended array *v (NULL: empty), kept
 * NULL-ended as fetch.h takes its lists.  Returns 0, or -1 when out of
 * memory with *v unaltered.
 */
static int
add_entry(const char ***v, const char *s)
{
	const char **n;
	size_t len = 0;

	while (*v != NULL && (*v)[len] != NULL)
		len++;
	if ((n = realloc(*v, (len + 2) * sizeof(*n))) == NULL)
		return -1;
	n[len] = s;
	n[len + 1] = NULL;
	*v = n;
	return 0;
}

static int
add_header(struct cli *cli, const char *h)
{
	if (add_entry(&cli->headers, h) < 0)
		return -1;
	cli->nheaders++;
	return 0;
}

/* Wipes and frees a secret kept by keep_secret(). */
static void
forget_secret(char **copy)
{
	if (*copy == NULL)
		return;
	explicit_bzero(*copy, strlen(*copy));
	free(*copy);
	*copy = NULL;
}

/*
 * Keeps a copy of arg, a secret option argument, in *copy, in place of an
 * earlier one, and where arg is in argv in *where, for main to blank out
 * of the process's command line.  main blanks only the last: the
 * argument of an earlier one, which arg overrides, is blanked out here.
 * Returns 0, or -1 with the reason in err.
 */
static int
keep_secret(char **copy, char **where, char *arg, char *err, size_t errlen)
{
	forget_secret(copy);
	if ((*copy = strdup(arg)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (*where != NULL)
		memset(*where, '*', strlen(*where));
	*where = arg;
	return 0;
}

void
cli_free(struct cli *cli)
{
	forget_secret(&cli->user);
	forget_secret(&cli->bearer);
	forget_secret(&cli->proxy);
	free(cli->headers);
	cli->headers = NULL;
	cli->nheaders = 0;
	fetch_opts_free(&cli->opts);
	postdata_free(&cli->post);
}

/*
 * Checks that path names what an option wants, a readable file or (dir)
 * a directory, now rather than at every https URL.  Returns NULL, or the
 * reason it does not.  The reason may be strerror()'s: parsing runs
 * before any thread starts.
 */
static const char *
bad_path(const char *path, bool dir)
{
	struct stat st;

	if (stat(path, &st) != 0 || access(path, R_OK) != 0)
		return strerror(errno);
	if (dir && !S_ISDIR(st.st_mode))
		return strerror(ENOTDIR);
	if (!dir && S_ISDIR(st.st_mode))
		return strerror(EISDIR);
	return NULL;
}

/*
 * Checks that a cookie jar can be written: an existing file that is
 * writable, or a new one in a directory that is.  Returns NULL, or the
 * reason it cannot.
 */
static const char *
bad_jar(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	struct stat st;

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return strerror(EISDIR);
		return access(path, W_OK) != 0 ? strerror(errno) : NULL;
	}
	/* An empty name has no directory: libcurl would write nothing. */
	if (errno != ENOENT || *path == '\0')
		return strerror(errno);
	snprintf(dir, sizeof(dir), "%.*s", slash == NULL ? 1 : slash == path ?
	    1 : (int)(slash - path), slash == NULL ? "." : path);
	return access(dir, W_OK | X_OK) != 0 ? strerror(errno) : NULL;
}

bool
cli_names_fd(const char *path, int fd, bool regular)
{
	struct stat st, fst;

	return stat(path, &st) == 0 && fstat(fd, &fst) == 0 &&
	    (!regular || S_ISREG(st.st_mode)) && st.st_dev == fst.st_dev &&
	    st.st_ino == fst.st_ino;
}

/*
 * Whether reading the file path reads standard input: "-", or another
 * name for what is open as descriptor 0, such as /dev/stdin, that a
 * read takes from (a pipe, a FIFO, a terminal).  A regular file opened
 * again reads from its start, and /dev/null gives nothing either way.
 */
static bool
reads_stdin(const char *path)
{
	return strcmp(path, "-") == 0 ||
	    (cli_names_fd(path, STDIN_FILENO, false) &&
	    !cli_names_fd(path, STDIN_FILENO, true) &&
	    !cli_names_fd("/dev/null", STDIN_FILENO, false));
}

/*
 * Claims standard input for option opt with argument arg, as the user
 * wrote them (such as "--cookie" and "-"), before the option reads it.
 * Standard input can be read once, so by, empty until then, keeps the
 * option that claimed it first.  Returns 0, or -1 with a reason naming
 * both options in err.
 */
static int
claim_stdin(char *by, size_t bylen, const char *opt, const char *arg,
    char *err, size_t errlen)
{
	if (*by != '\0') {
		snprintf(err, errlen, "%s and %s %s cannot both read standard "
		    "input", by, opt, arg);
		return -1;
	}
	snprintf(by, bylen, "%s %s", opt, arg);
	return 0;
}

/*
 * Checks --output-dir now rather than at every URL: an existing directory
 * as bad_path() has it or, with --create-dirs, a path whose nearest part
 * that exists is a directory, so that mkdir -p can make the rest.  Returns
 * 0, or -1 with a reason naming the path in err.
 */
static int
check_output_dir(const char *dir, bool create, char *err, size_t errlen)
{
	char path[PATH_MAX], *slash;
	const char *why = NULL;
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s", dir) >= sizeof(path))
		why = strerror(ENAMETOOLONG);
	while (why == NULL && create && stat(path, &st) != 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			why = strerror(errno);
		else if ((slash = strrchr(path, '/')) == NULL)
			return 0;
		else	/* The root keeps its '/'. */
			slash[slash == path] = '\0';
	}
	if (why == NULL && strcmp(path, dir) == 0)
		why = bad_path(dir, true);
	else if (why == NULL && !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--output-dir '%s': '%s' is not a "
		    "directory", dir, path);
		return -1;
	} else if (why == NULL && access(path, W_OK | X_OK) != 0)
		why = strerror(errno);
	if (why == NULL)
		return 0;
	snprintf(err, errlen, "--output-dir '%s': %s", dir, why);
	return -1;
}

/*
 * Adds cookies "n=v; n2=v2" to those sent with every request, after a
 * ';' as curl 7.88 joins them.  Returns -1 when out of memory.
 */
static int
add_cookie(struct fetch_opts *o, const char *c)
{
	size_t len = o->cookie != NULL ? strlen(o->cookie) : 0;
	char *s;

	if ((s = realloc(o->cookie, len + 1 + strlen(c) + 1)) == NULL)
		return -1;
	snprintf(s + len, 1 + strlen(c) + 1, "%s%s", len > 0 ? ";" : "", c);
	o->cookie = s;
	return 0;
}

/* Whether s[0..len) is a port, 1 to 65535; an empty one only if empty_ok. */
static bool
port_ok(const char *s, size_t len, bool empty_ok)
{
	long v = 0;
	size_t i;

	if (len == 0)
		return empty_ok;
	if (len > 5)
		return false;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* Whether s[0..len) is an IPv4 or IPv6 address, the latter maybe in []. */
static bool
addr_ok(const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 2];
	unsigned char bin[16];

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET, buf, bin) == 1 ||
	    inet_pton(AF_INET6, buf, bin) == 1;
}

/*
 * The length of the host at the start of s, up to the ':' that ends it:
 * a name, or an IPv6 address in brackets (bracketed only if v6 is set).
 * Returns -1 when no ':' ends it.
 */
static int
host_len(const char *s, bool v6)
{
	const char *end, *c;

	if (v6 && s[0] == '[')
		end = strchr(s, ']') != NULL ? strchr(s, ']') + 1 : NULL;
	else
		end = s + strcspn(s, ":");
	if (end == NULL || *end != ':' || end - s > INT_MAX)
		return -1;
	/* A name with a space or a control byte matches no URL's host. */
	for (c = s; c < end; c++)
		if (*c <= ' ' || *c == 0x7f)
			return -1;
	return (int)(end - s);
}

/*
 * Checks a --resolve entry as libcurl reads it, [+]HOST:PORT:ADDR[,ADDR]
 * (a '+' makes the entry time out as a looked-up one would).  Returns
 * NULL, or the reason it is refused.
 */
static const char *
bad_resolve(const char *s)
{
	const char *p = s[0] == '+' ? s + 1 : s, *a;
	int n;
	size_t alen;

	if ((n = host_len(p, false)) <= 0)
		return "wants HOST:PORT:ADDR";
	p += n + 1;
	if ((n = host_len(p, false)) < 0 || !port_ok(p, (size_t)n, false))
		return "wants a port from 1 to 65535 after the host";
	for (a = p + n + 1;; a += alen + 1) {
		alen = strcspn(a, ",");
		if (!addr_ok(a, alen))
			return "wants IP addresses after the port";
		if (a[alen] == '\0')
			return NULL;
	}
}

/*
 * Checks a --connect-to entry, HOST1:PORT1:HOST2:PORT2, where any part may
 * be empty (it then matches any, or stays as it was) and a host may be an
 * IPv6 address in brackets.  Returns NULL, or the reason it is refused.
 */
static const char *
bad_connect_to(const char *s)
{
	const char *p = s;
	int n, i;

	for (i = 0; i < 2; i++) {
		if ((n = host_len(p, true)) < 0)
			return "wants HOST1:PORT1:HOST2:PORT2";
		p += n + 1;
		n = i == 0 ? host_len(p, false) : (int)strlen(p);
		if (n < 0 || !port_ok(p, (size_t)n, true))
			return "wants ports from 1 to 65535 (or nothing)";
		p += n + (i == 0);
	}
	return NULL;
}

/*
 * Settles where bodies go: -O is the template %{filename}, -o another;
 * the options that only place files need one of them, and a run whose
 * bodies would be written twice, or never come, cannot have one.
 * Returns 0, or -1 with the reason in err.
 */
static int
check_body(struct cli *cli, bool remote_name, char *err, size_t errlen)
{
	if (remote_name && cli->body.name != NULL) {
		snprintf(err, errlen, "--remote-name cannot be combined with "
		    "--output: each names the files");
		return -1;
	}
	if (remote_name)
		cli->body.name = "%{filename}";
	if (cli->body.name == NULL) {
		if (cli->body.dir != NULL || cli->body.create_dirs) {
			snprintf(err, errlen, "--%s needs --output or "
			    "--remote-name", cli->body.dir != NULL ?
			    "output-dir" : "create-dirs");
			return -1;
		}
		return 0;
	}
	if (cli->body.dir != NULL && check_output_dir(cli->body.dir,
	    cli->body.create_dirs, err, errlen) < 0)
		return -1;
	if (cli->head) {
		snprintf(err, errlen, "--head cannot be combined with "
		    "--output or --remote-name: a HEAD response has no body");
		return -1;
	}
	if (cli->mode == CLI_COMPARE) {
		snprintf(err, errlen, "--compare cannot be combined with "
		    "--output or --remote-name: both runs would write each "
		    "file");
		return -1;
	}
	return 0;
}

/*
 * Parses a size in bytes, a whole number above 0 with an optional unit
 * as curl's: k (KiB), M (MiB) or G (GiB).  -1 on junk, or above 2^50.
 */
static int
parse_bytes(const char *s, long long *out)
{
	long long v, unit = 1;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE || v <= 0)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		unit = 1LL << 10;
		break;
	case 'm':
	case 'M':
		unit = 1LL << 20;
		break;
	case 'g':
	case 'G':
		unit = 1LL << 30;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (v > (1LL << 50) / unit)
		return -1;
	*out = v * unit;
	return 0;
}

/* Parses positive seconds, decimals allowed, up to a day, into ms. */
static int
parse_secs(const char *s, long *ms)
{
	char *end;
	double v;

	if (!plain_number(s, strlen(s)))
		return -1;
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

/*
 * Tells whether tok, an argument that starts with "--", names an option in
 * full (up to an '=').  getopt_long() would take any unambiguous prefix,
 * but a prefix of one option can be the whole name of an option of curl's
 * that this program lacks: "--user" once sent curl's user:password as the
 * User-Agent.  So, as in curl, long options are never abbreviated.
 */
static bool
spelled_in_full(const char *tok)
{
	const char *name = tok + 2;
	size_t i, len = strcspn(name, "=");

	for (i = 0; i < NOPTS; i++)
		if (strlen(opts[i].name) == len &&
		    strncmp(opts[i].name, name, len) == 0)
			return true;
	return false;
}

/*
 * Says that tok, a long option, is not one of ours, and lists the options
 * whose names it begins, if any, since the user may have meant to shorten
 * one of them.
 */
static void
unknown_long(const char *tok, char *err, size_t errlen)
{
	const char *name = tok + 2;
	size_t i, len = strcspn(name, "="), matches = 0, used;
	int k;

	k = snprintf(err, errlen, "unknown option '--%.*s'", (int)len, name);
	used = k < 0 ? 0 : (size_t)k;
	for (i = 0; i < NOPTS && used < errlen; i++) {
		if (strncmp(opts[i].name, name, len) != 0)
			continue;
		k = snprintf(err + used, errlen - used, "%s --%s",
		    matches == 0 ? " (long options are not abbreviated; "
		    "did you mean" : ",", opts[i].name);
		used += k < 0 ? 0 : (size_t)k;
		matches++;
	}
	if (matches > 0 && used < errlen)
		snprintf(err + used, errlen - used, "?)");
}

/*
 * Says what getopt_long() rejected with '?'.  A letter it does not know
 * is a short option, perhaps inside a cluster, where arg is still the
 * argument before the cluster; any other optopt is a long option's, given
 * an argument it takes none of; with optopt 0, arg is a long option that
 * no name or more than one name begins with.
 */
static void
unknown_option(const char *arg, char *err, size_t errlen)
{
	const char *name = arg + 2;
	size_t len = strcspn(name, "=");

	if (optopt > 0 && optopt < 256 && strchr(shortopts, optopt) == NULL) {
		snprintf(err, errlen, "unknown option '-%c'", optopt);
		return;
	}
	if (optopt != 0 && spelled_in_full(arg)) {
		snprintf(err, errlen, "option '--%.*s' takes no argument",
		    (int)len, name);
		return;
	}
	unknown_long(arg, err, errlen);
}

/*
 * The argument that named the long option opts[li] just parsed: the one
 * before its separate argument, if it took one, else the last one.
 */
static const char *
long_token(char **argv, int li)
{
	if (opts[li].has_arg == required_argument && optarg == argv[optind - 1])
		return argv[optind - 2];
	return argv[optind - 1];
}

static enum cli_action
parse(int argc, char **argv, struct cli *cli, char *err, size_t errlen)
{
	struct option longopts[NOPTS + 1];
	enum postdata_kind kind;
	const char *why, *tok;
	char stdin_by[PATH_MAX + 32] = "";
	size_t i;
	int c, li, namelen;
	bool shard_by = false, remote_name = false;

	memset(cli, 0, sizeof(*cli));
	cli->mode = CLI_CONCURRENT;
	cli->max_time_ms = 30000;
	cli->connect_timeout_ms = 10000;
	cli->format = CLI_TEXT;
	cli->max_redirs = 10;

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
	for (;;) {
		li = -1;
		if ((c = getopt_long(argc, argv, shortopts, longopts, &li)) ==
		    -1)
			break;
		tok = c == ':' ? argv[optind - 1] : li >= 0 ?
		    long_token(argv, li) : NULL;
		if (tok != NULL && strncmp(tok, "--", 2) == 0 &&
		    !spelled_in_full(tok)) {
			unknown_long(tok, err, errlen);
			return CLI_ERROR;
		}
		switch (c) {
		case '4':
			cli->opts.ipresolve = FETCH_IP_V4;
			break;
		case '6':
			cli->opts.ipresolve = FETCH_IP_V6;
			break;
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
			if (reads_stdin(optarg) && claim_stdin(stdin_by,
			    sizeof(stdin_by), "--input", optarg, err,
			    errlen) < 0)
				return CLI_ERROR;
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
		case 'u':
			/* The reasons never quote the credentials. */
			if (strchr(optarg, ':') == NULL) {
				snprintf(err, errlen, "--user wants "
				    "user:password (the password is not asked "
				    "for)");
				return CLI_ERROR;
			}
			if (strpbrk(optarg, "\r\n") != NULL) {
				snprintf(err, errlen, "--user contains a line "
				    "break");
				return CLI_ERROR;
			}
			if (keep_secret(&cli->user, &cli->user_arg, optarg,
			    err, errlen) < 0)
				return CLI_ERROR;
			break;
		case 'V':
			return CLI_VERSION;
		case 'A':
			if (strpbrk(optarg, "\r\n") != NULL) {
				snprintf(err, errlen, "--user-agent contains "
				    "a line break");
				return CLI_ERROR;
			}
			cli->user_agent = optarg;
			break;
		case 'H':
			if ((why = bad_header(optarg, &namelen)) != NULL) {
				snprintf(err, errlen, "--header '%.*s...' %s",
				    namelen, optarg, why);
				return CLI_ERROR;
			}
			if (add_header(cli, optarg) < 0) {
				snprintf(err, errlen, "out of memory");
				return CLI_ERROR;
			}
			break;
		case 'I':
			cli->head = true;
			break;
		case 'O':
			remote_name = true;
			break;
		case 'o':
			if (output_vars_check(optarg, "--output", false,
			    body_var_name, err, errlen) < 0 ||
			    body_check(optarg, err, errlen) < 0)
				return CLI_ERROR;
			cli->body.name = optarg;
			break;
		case OPT_OUTPUT_DIR:
			if (*optarg == '\0') {
				snprintf(err, errlen, "--output-dir wants a "
				    "directory, not ''");
				return CLI_ERROR;
			}
			cli->body.dir = optarg;
			break;
		case OPT_CREATE_DIRS:
			cli->body.create_dirs = true;
			break;
		case 'k':
			cli->insecure = true;
			break;
		case 'L':
			cli->location = true;
			break;
		case 'w':
			cli->write_out = optarg;
			break;
		case 'X':
			if (!is_token(optarg, strlen(optarg))) {
				snprintf(err, errlen, "--request wants an "
				    "HTTP method such as PUT, not '%s'",
				    optarg);
				return CLI_ERROR;
			}
			cli->method = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") == 0)
				cli->format = CLI_TEXT;
			else if (strcmp(optarg, "json") == 0)
				cli->format = CLI_JSON;
			else if (strcmp(optarg, "csv") == 0)
				cli->format = CLI_CSV;
			else {
				snprintf(err, errlen, "--format wants text, "
				    "json or csv, not '%s'", optarg);
				return CLI_ERROR;
			}
			break;
		case OPT_JSON:
			cli->format = CLI_JSON;
			break;
		case OPT_MAX_REDIRS:
			if (parse_long(optarg, -1, 1000000,
			    &cli->max_redirs) < 0) {
				snprintf(err, errlen, "--max-redirs wants a "
				    "whole number from -1 to 1000000, not "
				    "'%s'", optarg);
				return CLI_ERROR;
			}
			break;
		case OPT_NO_PROGRESS:
			cli->no_progress = true;
			break;
		case OPT_ORDERED:
			cli->ordered = true;
			break;
		case OPT_PER_HOST:
			if (parse_count(optarg, 1000000, &cli->per_host) < 0)
				goto badnum;
			break;
		case OPT_RATE:
			if (parse_rate(optarg, &cli->rate) < 0) {
				snprintf(err, errlen, "--rate wants N or N/U: "
				    "N above 0 (up to a million a second), U "
				    "one of s, m, h, d; not '%s'", optarg);
				return CLI_ERROR;
			}
			break;
		case OPT_RECORDS:
			if (optarg[0] == '\0') {
				snprintf(err, errlen, "--records wants a file "
				    "name");
				return CLI_ERROR;
			}
			cli->records = optarg;
			break;
		case OPT_RESUME:
			cli->resume = true;
			break;
		case OPT_STATS:
			if (optarg == NULL || strcmp(optarg, "text") == 0)
				cli->stats = CLI_STATS_TEXT;
			else if (strcmp(optarg, "json") == 0)
				cli->stats = CLI_STATS_JSON;
			else {
				snprintf(err, errlen, "--stats wants nothing, "
				    "=text or =json, not '%s'", optarg);
				return CLI_ERROR;
			}
			break;
		case OPT_RETRY:
			if (parse_long(optarg, 0, 1000, &cli->retry) < 0) {
				snprintf(err, errlen, "--retry wants a whole "
				    "number from 0 to 1000, not '%s'", optarg);
				return CLI_ERROR;
			}
			break;
		case OPT_CACERT:
		case OPT_CERT:
		case OPT_KEY:
			if ((why = bad_path(optarg, false)) != NULL)
				goto badpath;
			if (c == OPT_CACERT)
				cli->opts.cafile = optarg;
			else if (c == OPT_CERT)
				cli->opts.cert = optarg;
			else
				cli->opts.key = optarg;
			break;
		case OPT_CAPATH:
			if ((why = bad_path(optarg, true)) != NULL)
				goto badpath;
			cli->opts.capath = optarg;
			break;
		case 'd':
		case OPT_DATA_BINARY:
		case OPT_DATA_RAW:
			kind = c == 'd' ? POSTDATA_TEXT :
			    c == OPT_DATA_BINARY ? POSTDATA_BINARY :
			    POSTDATA_RAW;
			if (kind != POSTDATA_RAW && optarg[0] == '@' &&
			    reads_stdin(optarg + 1) && claim_stdin(stdin_by,
			    sizeof(stdin_by), c == 'd' ? "--data" :
			    "--data-binary", optarg, err, errlen) < 0)
				return CLI_ERROR;
			if (postdata_add(&cli->post, kind, optarg) < 0) {
				snprintf(err, errlen, "--%s '%s': %s",
				    opt_name(c), optarg, strerror(errno));
				return CLI_ERROR;
			}
			break;
		case 'b':
			/* As curl: with a '=', cookies; else a file. */
			if (strchr(optarg, '=') != NULL) {
				/* Cookies may be secrets: never quoted. */
				if (strpbrk(optarg, "\r\n") != NULL) {
					snprintf(err, errlen, "--cookie "
					    "contains a line break");
					return CLI_ERROR;
				}
				if (add_cookie(&cli->opts, optarg) < 0) {
					snprintf(err, errlen, "out of memory");
					return CLI_ERROR;
				}
				break;
			}
			if (reads_stdin(optarg) && claim_stdin(stdin_by,
			    sizeof(stdin_by), "--cookie", optarg, err,
			    errlen) < 0)
				return CLI_ERROR;
			if (strcmp(optarg, "-") != 0 &&
			    (why = bad_path(optarg, false)) != NULL)
				goto badpath;
			if (fetch_opts_read_cookies(&cli->opts, optarg) < 0) {
				why = strerror(errno);
				goto badpath;
			}
			break;
		case OPT_COOKIE_JAR:
			if (strcmp(optarg, "-") != 0 &&
			    (why = bad_jar(optarg)) != NULL)
				goto badpath;
			cli->opts.cookie_jar = optarg;
			break;
		case 'x':
		case OPT_NOPROXY:
			/* libcurl judges the rest, for each request. */
			for (tok = optarg; *tok != '\0' && *tok > ' ' &&
			    *tok != 0x7f; tok++)
				;
			if (*tok != '\0') {
				snprintf(err, errlen, "--%s contains a space or "
				    "a control character", opt_name(c));
				return CLI_ERROR;
			}
			if (c != 'x')
				cli->opts.noproxy = optarg;
			else if (strchr(optarg, '@') == NULL)
				cli->opts.proxy = optarg;
			else if (keep_secret(&cli->proxy, &cli->proxy_arg,
			    optarg, err, errlen) < 0)
				return CLI_ERROR;
			else
				cli->opts.proxy = cli->proxy;
			break;
		case OPT_COMPRESSED:
			cli->opts.compressed = true;
			break;
		case OPT_MAX_FILESIZE:
			if (parse_bytes(optarg, &cli->opts.max_filesize) < 0) {
				snprintf(err, errlen, "--max-filesize wants "
				    "bytes above 0, with k, M or G if you "
				    "like, not '%s'", optarg);
				return CLI_ERROR;
			}
			break;
		case OPT_HTTP1_1:
			cli->opts.http_version = FETCH_HTTP_1_1;
			break;
		case OPT_HTTP2:
			cli->opts.http_version = FETCH_HTTP_2;
			break;
		case OPT_HTTP2_PRIOR_KNOWLEDGE:
			cli->opts.http_version = FETCH_HTTP_2_PRIOR;
			break;
		case OPT_OAUTH2_BEARER:
			if (strpbrk(optarg, "\r\n") != NULL) {
				snprintf(err, errlen, "--oauth2-bearer contains "
				    "a line break");
				return CLI_ERROR;
			}
			if (keep_secret(&cli->bearer, &cli->bearer_arg,
			    optarg, err, errlen) < 0)
				return CLI_ERROR;
			break;
		case OPT_RESOLVE:
		case OPT_CONNECT_TO:
			why = c == OPT_RESOLVE ? bad_resolve(optarg) :
			    bad_connect_to(optarg);
			if (why != NULL) {
				snprintf(err, errlen, "--%s '%s' %s",
				    opt_name(c), optarg, why);
				return CLI_ERROR;
			}
			if (add_entry(c == OPT_RESOLVE ? &cli->opts.resolve :
			    &cli->opts.connect_to, optarg) < 0) {
				snprintf(err, errlen, "out of memory");
				return CLI_ERROR;
			}
			break;
		case OPT_SHARD:
			if ((why = shard_parse(optarg, &cli->shard)) != NULL) {
				snprintf(err, errlen, "--shard wants %s, not "
				    "'%s'", why, optarg);
				return CLI_ERROR;
			}
			break;
		case OPT_SHARD_BY:
			if (shard_parse_by(optarg, &cli->shard.by) < 0) {
				snprintf(err, errlen, "--shard-by wants line "
				    "or host, not '%s'", optarg);
				return CLI_ERROR;
			}
			shard_by = true;
			break;
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
			unknown_option(argv[optind - 1], err, errlen);
			return CLI_ERROR;
		}
	}
	if (cli->write_out != NULL && cli->format != CLI_TEXT) {
		snprintf(err, errlen, "--write-out cannot be combined with "
		    "--format %s", cli->format == CLI_JSON ? "json" : "csv");
		return CLI_ERROR;
	}
	if (cli->resume && cli->records == NULL) {
		snprintf(err, errlen, "--resume needs --records FILE");
		return CLI_ERROR;
	}
	if (cli->resume && cli->mode == CLI_COMPARE) {
		snprintf(err, errlen, "--resume cannot be combined with "
		    "--compare");
		return CLI_ERROR;
	}
	/* As a method, HEAD is -I: a HEAD request has no body to wait for. */
	if (cli->method != NULL && strcmp(cli->method, "HEAD") == 0) {
		cli->method = NULL;
		cli->head = true;
	}
	if (cli->method != NULL && cli->head) {
		snprintf(err, errlen, "--head cannot be combined with "
		    "--request %s", cli->method);
		return CLI_ERROR;
	}
	if (cli->post.buf != NULL && cli->head) {
		snprintf(err, errlen, "--head cannot be combined with --data: "
		    "a HEAD request has no body");
		return CLI_ERROR;
	}
	/*
	 * libcurl writes a jar named "-" to standard output, which holds the
	 * records unless they go to a file.
	 */
	if (cli->opts.cookie_jar != NULL &&
	    strcmp(cli->opts.cookie_jar, "-") == 0 && cli->records == NULL) {
		snprintf(err, errlen, "--cookie-jar - needs --records FILE: "
		    "the records are on standard output");
		return CLI_ERROR;
	}
	if (cli->bearer != NULL && cli->user != NULL) {
		snprintf(err, errlen, "--oauth2-bearer cannot be combined with "
		    "--user: a request has one Authorization");
		return CLI_ERROR;
	}
	cli->opts.data = cli->post.buf;
	cli->opts.datalen = cli->post.len;
	cli->opts.bearer = cli->bearer;
	if (check_body(cli, remote_name, err, errlen) < 0)
		return CLI_ERROR;
	if (shard_by && cli->shard.n == 0) {
		snprintf(err, errlen, "--shard-by needs --shard");
		return CLI_ERROR;
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
badpath:
	/*
	 * curl reads a password after the ':' of --cert's argument, which
	 * this tool does not; one given so out of habit is never quoted.
	 */
	if (c == OPT_CERT && (tok = strchr(optarg, ':')) != NULL) {
		snprintf(err, errlen, "--cert '%.*s:***': %s (a password "
		    "after ':' is not read)", (int)(tok - optarg), optarg,
		    why);
		return CLI_ERROR;
	}
	snprintf(err, errlen, "--%s '%s': %s", opt_name(c), optarg, why);
	return CLI_ERROR;
}

enum cli_action
cli_parse(int argc, char **argv, struct cli *cli, char *err, size_t errlen)
{
	enum cli_action action;

	action = parse(argc, argv, cli, err, errlen);
	if (action != CLI_RUN)
		cli_free(cli);
	return action;
}
