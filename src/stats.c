/* stats.c: --stats, the end-of-run report of how the URLs behaved. */

#define _DEFAULT_SOURCE		/* TIOCGWINSZ, nl_langinfo() */
#define _XOPEN_SOURCE	700	/* wcwidth() */

#include <sys/ioctl.h>

#include <ctype.h>
#include <errno.h>
#include <langinfo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "hist.h"
#include "output.h"
#include "stats.h"

/* The precisions of the histograms: see stats.h. */
#define TIME_BITS	10
#define HOST_BITS	5

/* Host names are kept up to this length, the longest DNS allows. */
#define HOST_LEN	256

/* The widest the column of labels gets, error kinds and all. */
#define LABEL_COLS	60

/* The least width of the host table's column of names. */
#define HOST_COLS	30

/* The least width of a time in the text, "%8.4f": up to 999.9999 s. */
#define TIME_COLS	8

/* Rows of the drawn histogram of total times. */
#define ROWS		10

/* The narrowest and the widest a bar gets, whatever the terminal. */
#define MIN_CELLS	8
#define MAX_CELLS	1024

/*
 * The counts of a run, in the order of the report, with their names in
 * the text and in the JSON object.
 */
enum figure { F_URLS, F_BYTES, F_2XX, F_3XX, F_4XX, F_5XX, F_OTHER,
	F_ERRORS, F_CANCELLED, NFIGURES };

static const struct {
	const char	*text;
	const char	*json;
} figures[NFIGURES] = {
	[F_URLS] = { "URLs", "urls" },
	[F_BYTES] = { "bytes", "bytes" },
	[F_2XX] = { "2xx", "2xx" },
	[F_3XX] = { "3xx", "3xx" },
	[F_4XX] = { "4xx", "4xx" },
	[F_5XX] = { "5xx", "5xx" },
	[F_OTHER] = { "other status", "other_status" },
	[F_ERRORS] = { "errors", "errors" },
	[F_CANCELLED] = { "cancelled", "cancelled" },
};

struct kind {
	const char	*name;		/* Static, from fetch.c. */
	uint64_t	 n;
};

struct slow {
	double		 secs;
	long		 status;
	const char	*kind;		/* NULL or static. */
	char		*url;		/* Malloced, redacted. */
};

struct host {
	char		 name[HOST_LEN];
	uint32_t	 hash;
	uint64_t	 count;
	uint64_t	 over;
	uint64_t	 errors;
	struct hist	*times;		/* Owned. */
};

struct stats {
	uint64_t	 n[NFIGURES];
	struct kind	 kinds[STATS_KINDS];
	size_t		 nkinds;
	uint64_t	 other_kinds;	/* Errors past STATS_KINDS kinds. */
	struct hist	*total;		/* Owned. */
	struct hist	*ttfb;		/* Owned. */
	struct slow	 slow[STATS_SLOWEST];	/* Slowest first. */
	size_t		 nslow;
	struct host	 hosts[STATS_HOSTS];
	size_t		 nhosts;
	bool		 evicted;	/* A host has left the table. */
};

struct stats *
stats_new(void)
{
	struct stats *st;
	size_t i;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if ((st->total = hist_new(TIME_BITS)) == NULL ||
	    (st->ttfb = hist_new(TIME_BITS)) == NULL)
		goto fail;
	for (i = 0; i < STATS_HOSTS; i++)
		if ((st->hosts[i].times = hist_new(HOST_BITS)) == NULL)
			goto fail;
	return st;
fail:
	stats_free(st);
	errno = ENOMEM;
	return NULL;
}

void
stats_free(struct stats *st)
{
	size_t i;

	if (st == NULL)
		return;
	hist_free(st->total);
	hist_free(st->ttfb);
	for (i = 0; i < st->nslow; i++)
		free(st->slow[i].url);
	for (i = 0; i < STATS_HOSTS; i++)
		hist_free(st->hosts[i].times);
	free(st);
}

static uint64_t
to_us(double secs)
{
	return secs <= 0 ? 0 : (uint64_t)llround(secs * 1e6);
}

static void
add_kind(struct stats *st, const char *name)
{
	size_t i;

	if (name == NULL)
		name = "unknown";
	for (i = 0; i < st->nkinds; i++)
		if (strcmp(st->kinds[i].name, name) == 0) {
			st->kinds[i].n++;
			return;
		}
	if (st->nkinds == STATS_KINDS) {
		st->other_kinds++;
		return;
	}
	st->kinds[st->nkinds].name = name;
	st->kinds[st->nkinds++].n = 1;
}

/* Keeps url among the slowest if it is one of them. */
static void
add_slow(struct stats *st, const char *url, const struct fetch_result *res)
{
	size_t i;
	char *r;

	if (st->nslow == STATS_SLOWEST &&
	    res->secs <= st->slow[STATS_SLOWEST - 1].secs)
		return;
	if ((r = output_redact(url, true)) == NULL)
		return;
	if (st->nslow == STATS_SLOWEST)
		free(st->slow[--st->nslow].url);
	for (i = st->nslow; i > 0 && st->slow[i - 1].secs < res->secs; i--)
		st->slow[i] = st->slow[i - 1];
	st->slow[i] = (struct slow){ res->secs, res->status,
	    res->outcome == FETCH_ERROR ? res->kind : NULL, r };
	st->nslow++;
}

/*
 * Writes url's host name, in lower case, into name: what comes after the
 * scheme's "//" and any user information, up to the port, path, query or
 * fragment (an IPv6 address keeps its brackets).  The user information
 * ends where output_redact() hides it, so that no piece of a password
 * with an '@', '?', '#' or '/' in it is taken for the host.
 */
static void
host_of(const char *url, char *name)
{
	const char *p = url + output_authority(url);
	size_t len, i;

	p += output_userinfo_len(p);
	len = strcspn(p, "/?#");
	if (*p == '[')
		len = strcspn(p, "]") < len ? strcspn(p, "]") + 1 : len;
	else if (memchr(p, ':', len) != NULL)
		len = (size_t)((const char *)memchr(p, ':', len) - p);
	if (len >= HOST_LEN)
		len = HOST_LEN - 1;
	for (i = 0; i < len; i++)
		name[i] = (char)tolower((unsigned char)p[i]);
	name[len] = '\0';
}

/* FNV-1a, to compare hosts by a number before their names. */
static uint32_t
hash_of(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The space-saving step: finds the host, or gives it a place. */
static struct host *
host_slot(struct stats *st, const char *url)
{
	char name[HOST_LEN];
	struct host *h, *least = NULL;
	uint32_t hash;
	size_t i;

	host_of(url, name);
	hash = hash_of(name);
	for (i = 0; i < st->nhosts; i++) {
		h = &st->hosts[i];
		if (h->hash == hash && strcmp(h->name, name) == 0)
			return h;
		if (least == NULL || h->count < least->count)
			least = h;
	}
	if (st->nhosts < STATS_HOSTS) {
		h = &st->hosts[st->nhosts++];
		h->count = 0;
	} else {
		h = least;
		h->over = h->count;
		h->errors = 0;
		hist_reset(h->times);
		st->evicted = true;
	}
	memcpy(h->name, name, sizeof(name));
	h->hash = hash;
	return h;
}

void
stats_add(struct stats *st, const char *url, const struct fetch_result *res)
{
	struct host *h = host_slot(st, url);
	bool failed;

	st->n[F_URLS]++;
	st->n[F_BYTES] += res->bytes > 0 ? (uint64_t)res->bytes : 0;
	h->count++;
	if (res->outcome == FETCH_CANCELLED) {
		st->n[F_CANCELLED]++;
		return;
	}
	failed = res->outcome == FETCH_ERROR || res->status >= 400;
	if (res->outcome == FETCH_ERROR) {
		st->n[F_ERRORS]++;
		add_kind(st, res->kind);
	} else if (res->status >= 200 && res->status < 600)
		st->n[F_2XX + res->status / 100 - 2]++;
	else
		st->n[F_OTHER]++;
	hist_add(st->total, to_us(res->secs));
	if (res->timings.ttfb > 0)
		hist_add(st->ttfb, to_us(res->timings.ttfb));
	hist_add(h->times, to_us(res->secs));
	h->errors += failed;
	add_slow(st, url, res);
}

/* Most URLs first, then by name. */
static int
by_count(const void *a, const void *b)
{
	const struct host *x = *(const struct host *const *)a;
	const struct host *y = *(const struct host *const *)b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

size_t
stats_hosts(const struct stats *st, struct stats_host *out, size_t max)
{
	const struct host *sorted[STATS_HOSTS];
	size_t i;

	for (i = 0; i < st->nhosts; i++)
		sorted[i] = &st->hosts[i];
	qsort(sorted, st->nhosts, sizeof(sorted[0]), by_count);
	for (i = 0; i < st->nhosts && i < max; i++)
		out[i] = (struct stats_host){ sorted[i]->name,
		    sorted[i]->count, sorted[i]->over, sorted[i]->errors,
		    hist_count(sorted[i]->times),
		    hist_quantile(sorted[i]->times, 0.5),
		    hist_quantile(sorted[i]->times, 0.99) };
	return i;
}

size_t
stats_bar(char *buf, size_t len, uint64_t count, uint64_t max,
    size_t cells, bool utf8)
{
	/* U+2588 FULL BLOCK, then U+2589..U+258F: 7/8 down to 1/8. */
	static const char *const eighths[] = { "", "\u258f", "\u258e",
	    "\u258d", "\u258c", "\u258b", "\u258a", "\u2589", "\u2588" };
	size_t steps = utf8 ? 8 : 1, n = 0, o = 0, i;
	const char *piece;

	if (max > 0)
		n = (size_t)llround((double)count * (double)(cells * steps) /
		    (double)max);
	if (n == 0 && count > 0)
		n = 1;
	for (i = 0; i < n; i += steps) {
		piece = utf8 ? eighths[n - i >= 8 ? 8 : n - i] : "#";
		if (o + strlen(piece) >= len)
			break;
		memcpy(buf + o, piece, strlen(piece));
		o += strlen(piece);
	}
	if (len > 0)
		buf[o] = '\0';
	return n;
}

/* The report. */

/* The runs' total-time histograms, in ROWS rows of equal width. */
struct rows {
	uint64_t	 lo;		/* us */
	double		 width;		/* us a row; 0: one row */
	size_t		 nrows;
	uint64_t	 n[2][ROWS];
	uint64_t	 most;		/* The fullest row's count. */
};

static void
fill_rows(struct rows *r, const struct stats_run *runs, size_t nruns)
{
	uint64_t hi = 0, us, n;
	size_t i, row, pos;
	bool any = false;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < nruns; i++) {
		const struct hist *h = runs[i].st->total;

		if (hist_count(h) == 0)
			continue;
		if (!any || hist_min(h) < r->lo)
			r->lo = hist_min(h);
		if (hist_max(h) > hi)
			hi = hist_max(h);
		any = true;
	}
	if (!any)
		return;
	r->width = (double)(hi - r->lo) / ROWS;
	r->nrows = r->width > 0 ? ROWS : 1;
	/* No row narrower than the microsecond the times are kept in. */
	if (r->width > 0 && r->width < 1) {
		r->width = 1;
		r->nrows = (size_t)(hi - r->lo);
	}
	for (i = 0; i < nruns; i++)
		for (pos = 0; hist_next(runs[i].st->total, &pos, &us, &n);) {
			row = r->width > 0 ? (size_t)((double)(us - r->lo) /
			    r->width) : 0;
			if (row >= r->nrows)
				row = r->nrows - 1;
			r->n[i][row] += n;
			if (r->n[i][row] > r->most)
				r->most = r->n[i][row];
		}
}

/* Where row i of r starts, in us; row r->nrows is where the last ends. */
static uint64_t
row_from(const struct rows *r, size_t i)
{
	return r->lo + (uint64_t)llround(r->width * (double)i);
}

/*
 * The decimals of the seconds that tell r's rows apart: 4 (0.1 ms), and
 * up to 6 (1 us) for rows narrower than 0.1 ms, as when every URL took
 * under a millisecond.
 */
static int
row_decimals(const struct rows *r)
{
	return r->width >= 100 ? 4 : r->width >= 10 ? 5 : 6;
}

/* The terminal's width: COLUMNS, else fp's terminal's, else 80. */
static size_t
columns(FILE *fp)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");
	char *end;
	long v;

	if (env != NULL) {
		v = strtol(env, &end, 10);
		if (end != env && *end == '\0' && v > 0 && v < 10000)
			return (size_t)v;
	}
	if (ioctl(fileno(fp), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

static double
secs(uint64_t us)
{
	return (double)us / 1e6;
}

static void
draw_rows(FILE *fp, const struct rows *r, size_t nruns)
{
	bool utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	char bar[3 * MAX_CELLS + 1];	/* 3 bytes a block character. */
	size_t cols = columns(fp), prefix, cells, i, k, n, cw, lw;
	int prec = row_decimals(r);

	cw = (size_t)snprintf(NULL, 0, "%llu", (unsigned long long)r->most);
	/* The last row's label is the longest: 7 columns up to 99.9999 s. */
	lw = (size_t)snprintf(NULL, 0, "%.*f", prec, secs(row_from(r,
	    r->nrows - 1)));
	if (lw < 7)
		lw = 7;
	/* "  0.0102s", then " 10 " a run; the last column stays empty. */
	prefix = 2 + lw + 1 + nruns * (cw + 2);
	cells = cols > prefix + 1 + nruns * MIN_CELLS ?
	    (cols - prefix - 1) / nruns : MIN_CELLS;
	if (cells > MAX_CELLS)
		cells = MAX_CELLS;
	fprintf(fp, "Total times, rows of %.*fs:\n", prec, secs((uint64_t)
	    llround(r->width)));
	for (i = 0; i < r->nrows; i++) {
		fprintf(fp, "  %*.*fs", (int)lw, prec, secs(row_from(r, i)));
		for (k = 0; k < nruns; k++) {
			n = stats_bar(bar, sizeof(bar), r->n[k][i], r->most,
			    cells, utf8);
			fprintf(fp, " %*llu %s", (int)cw,
			    (unsigned long long)r->n[k][i], bar);
			/* Pads a bar that another follows to its cells. */
			if (utf8)
				n = (n + 7) / 8;
			if (k + 1 < nruns)
				fprintf(fp, "%*s", (int)(cells - n), "");
		}
		putc('\n', fp);
	}
}

/* The count of error kind name in st. */
static uint64_t
kind_count(const struct stats *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->nkinds; i++)
		if (strcmp(st->kinds[i].name, name) == 0)
			return st->kinds[i].n;
	return 0;
}

/* A row of the text table: a label, then each run's count. */
static void
count_row(FILE *fp, const char *label, int width, const uint64_t *v,
    size_t nruns)
{
	size_t i;

	fprintf(fp, "%-*s", width, label);
	for (i = 0; i < nruns; i++)
		fprintf(fp, " %14llu", (unsigned long long)v[i]);
	putc('\n', fp);
}

/* The kinds of error of every run, each once, as rows. */
static void
kind_rows(FILE *fp, const struct stats_run *runs, size_t nruns, int width)
{
	const struct stats *st;
	uint64_t v[2] = { 0, 0 };
	char label[LABEL_COLS + 1];
	size_t i, j, k;
	bool seen, cut;

	for (i = 0; i < nruns; i++) {
		st = runs[i].st;
		for (j = 0; j < st->nkinds; j++) {
			for (seen = false, k = 0; k < i && !seen; k++)
				seen = kind_count(runs[k].st,
				    st->kinds[j].name) > 0;
			if (seen)
				continue;
			/* A name too long for the column is cut short. */
			cut = strlen(st->kinds[j].name) + 2 > (size_t)width;
			snprintf(label, sizeof(label), "  %.*s%s",
			    cut ? width - 5 : width, st->kinds[j].name,
			    cut ? "..." : "");
			for (k = 0; k < nruns; k++)
				v[k] = kind_count(runs[k].st,
				    st->kinds[j].name);
			count_row(fp, label, width, v, nruns);
		}
	}
	for (i = 0; i < nruns; i++)
		v[i] = runs[i].st->other_kinds;
	if (v[0] > 0 || (nruns > 1 && v[1] > 0))
		count_row(fp, "  other kinds", width, v, nruns);
}

/* Finished URLs a second: every one not cancelled. */
static double
rate(const struct stats_run *run)
{
	uint64_t done = run->st->n[F_URLS] - run->st->n[F_CANCELLED];

	return run->elapsed > 0 ? (double)done / run->elapsed : 0;
}

/* The quantiles reported, with their names. */
static const struct {
	const char	*name;
	double		 q;
} quantiles[] = { { "p50", 0.5 }, { "p90", 0.9 }, { "p99", 0.99 } };

#define NQUANTILES	(sizeof(quantiles) / sizeof(quantiles[0]))

/*
 * The columns of every time in the text report of runs[0..nruns): as
 * many as the longest takes ("%.4f"), and at least TIME_COLS.  No time
 * reported is longer than the longest total time or time to first byte.
 */
static int
time_cols(const struct stats_run *runs, size_t nruns)
{
	uint64_t most = 0;
	size_t i;
	int n;

	for (i = 0; i < nruns; i++) {
		if (hist_max(runs[i].st->total) > most)
			most = hist_max(runs[i].st->total);
		if (hist_max(runs[i].st->ttfb) > most)
			most = hist_max(runs[i].st->ttfb);
	}
	n = snprintf(NULL, 0, "%.4f", secs(most));
	return n > TIME_COLS ? n : TIME_COLS;
}

/* A row of the times table, each time in tw columns and an 's'. */
static void
time_row(FILE *fp, const char *label, const char *name,
    const struct hist *h, int tw)
{
	size_t i;

	fprintf(fp, "%-6s%-12s", label, name != NULL ? name : "");
	if (hist_count(h) == 0) {
		fprintf(fp, " %*s\n", tw, "-");
		return;
	}
	fprintf(fp, " %*.4fs", tw, secs(hist_min(h)));
	for (i = 0; i < NQUANTILES; i++)
		fprintf(fp, " %*.4fs", tw,
		    secs(hist_quantile(h, quantiles[i].q)));
	fprintf(fp, " %*.4fs %*.4fs\n", tw, secs(hist_max(h)), tw,
	    hist_mean(h) / 1e6);
}

/* " (name)" after a heading, or nothing. */
static void
run_name(FILE *fp, const struct stats_run *run)
{
	if (run->name != NULL)
		fprintf(fp, " (%s)", run->name);
}

/* The slowest URLs of run, each time in tw columns. */
static void
print_slowest(FILE *fp, const struct stats_run *run, int tw)
{
	const struct slow *s;
	size_t i;

	fputs("Slowest", fp);
	run_name(fp, run);
	fputs(":\n", fp);
	for (i = 0; i < run->st->nslow; i++) {
		s = &run->st->slow[i];
		fprintf(fp, "  %*.4fs  ", tw, s->secs);
		if (s->kind != NULL)
			fprintf(fp, "%s  ", s->kind);
		else
			fprintf(fp, "%ld  ", s->status);
		output_escaped(fp, s->url);
		putc('\n', fp);
	}
}

/*
 * The columns a terminal gives to s, as the locale's character set reads
 * it: wcwidth() of each printable character, one for any other byte.
 */
static size_t
text_width(const char *s)
{
	mbstate_t ps;
	wchar_t wc;
	size_t n, cols = 0;
	int w;

	memset(&ps, 0, sizeof(ps));
	for (; *s != '\0'; s += n) {
		n = mbrtowc(&wc, s, strnlen(s, MB_CUR_MAX), &ps);
		if (n == (size_t)-1 || n == (size_t)-2 ||
		    (w = wcwidth(wc)) < 0) {
			memset(&ps, 0, sizeof(ps));
			n = 1;
			w = 1;
		}
		cols += (size_t)w;
	}
	return cols;
}

/*
 * The hosts of run, a name column as wide as the widest name as printed
 * (escapes and all), and at least HOST_COLS, so that the figures line up;
 * each time in tw columns.
 */
static void
print_hosts(FILE *fp, const struct stats_run *run, int tw)
{
	struct stats_host top[STATS_TOP];
	char *names[STATS_TOP];
	size_t i, len, cols[STATS_TOP], width = HOST_COLS;
	size_t n = stats_hosts(run->st, top, STATS_TOP);
	uint64_t over = 0;
	FILE *m;

	for (i = 0; i < n; i++) {
		/* Out of memory, the name is escaped as it is printed. */
		names[i] = NULL;
		if ((m = open_memstream(&names[i], &len)) != NULL) {
			output_escaped(m, top[i].name);
			if (fclose(m) != 0) {
				free(names[i]);
				names[i] = NULL;
			}
		}
		cols[i] = text_width(names[i] != NULL ? names[i] :
		    top[i].name);
		if (cols[i] > width)
			width = cols[i];
	}
	fputs("Hosts", fp);
	run_name(fp, run);
	if (run->st->evicted)
		fprintf(fp, ", top %zu of more than %d", n, STATS_HOSTS);
	else if (run->st->nhosts > n)
		fprintf(fp, ", top %zu of %zu", n, run->st->nhosts);
	fprintf(fp, ":\n  %-*s %9s %9s %*s %*s\n", (int)width, "host",
	    "URLs", "errors", tw + 1, "p50", tw + 1, "p99");
	for (i = 0; i < n; i++) {
		fputs("  ", fp);
		if (names[i] != NULL)
			fputs(names[i], fp);
		else
			output_escaped(fp, top[i].name);
		fprintf(fp, "%*s %9llu %9llu", (int)(width - cols[i]), "",
		    (unsigned long long)top[i].count,
		    (unsigned long long)top[i].errors);
		/* Its URLs all cancelled, a host has no time to show. */
		if (top[i].timed == 0)
			fprintf(fp, " %*s %*s\n", tw + 1, "-", tw + 1, "-");
		else
			fprintf(fp, " %*.4fs %*.4fs\n", tw,
			    secs(top[i].p50_us), tw, secs(top[i].p99_us));
		free(names[i]);
		if (top[i].over > over)
			over = top[i].over;
	}
	if (over > 0)
		fprintf(fp, "  (URL counts may be over by up to %llu; errors "
		    "and times count from when a host last\n  entered the "
		    "table of %d)\n", (unsigned long long)over, STATS_HOSTS);
}

static void
print_text(FILE *fp, const struct stats_run *runs, size_t nruns)
{
	struct rows r;
	uint64_t v[2] = { 0, 0 };
	size_t i, j, len;
	int width = 14, tw = time_cols(runs, nruns);

	for (i = 0; i < nruns; i++)
		for (j = 0; j < runs[i].st->nkinds; j++)
			if ((len = strlen(runs[i].st->kinds[j].name) + 2) >
			    (size_t)width)
				width = len > LABEL_COLS ? LABEL_COLS :
				    (int)len;
	fputs("Statistics", fp);
	for (i = 0; i < nruns && runs[i].name != NULL; i++)
		fprintf(fp, "%*s%14s", i == 0 ? width - 10 + 1 : 1, "",
		    runs[i].name);
	fprintf(fp, "\n%-*s", width, "seconds");
	for (i = 0; i < nruns; i++)
		fprintf(fp, " %14.3f", runs[i].elapsed);
	fprintf(fp, "\n%-*s", width, "per second");
	for (i = 0; i < nruns; i++)
		fprintf(fp, " %14.1f", rate(&runs[i]));
	putc('\n', fp);
	for (j = 0; j < NFIGURES; j++) {
		for (i = 0; i < nruns; i++)
			v[i] = runs[i].st->n[j];
		/* A status outside 200-599 is rare: its row only if any. */
		if (j != F_OTHER || v[0] > 0 || (nruns > 1 && v[1] > 0))
			count_row(fp, figures[j].text, width, v, nruns);
		if (j == F_ERRORS)
			kind_rows(fp, runs, nruns, width);
	}

	fprintf(fp, "%-18s %*s", "", tw + 1, "min");
	for (i = 0; i < NQUANTILES; i++)
		fprintf(fp, " %*s", tw + 1, quantiles[i].name);
	fprintf(fp, " %*s %*s\n", tw + 1, "max", tw + 1, "mean");
	for (i = 0; i < nruns; i++)
		time_row(fp, i == 0 ? "total" : "", runs[i].name,
		    runs[i].st->total, tw);
	for (i = 0; i < nruns; i++)
		time_row(fp, i == 0 ? "ttfb" : "", runs[i].name,
		    runs[i].st->ttfb, tw);
	fill_rows(&r, runs, nruns);
	if (r.nrows > 0)
		draw_rows(fp, &r, nruns);
	for (i = 0; i < nruns; i++)
		print_slowest(fp, &runs[i], tw);
	for (i = 0; i < nruns; i++)
		print_hosts(fp, &runs[i], tw);
}

static void
json_time(FILE *fp, const char *key, const struct hist *h)
{
	size_t i;

	fprintf(fp, ",\"%s\":{\"count\":%llu", key,
	    (unsigned long long)hist_count(h));
	if (hist_count(h) > 0) {
		fprintf(fp, ",\"min\":%.6f", secs(hist_min(h)));
		for (i = 0; i < NQUANTILES; i++)
			fprintf(fp, ",\"%s\":%.6f", quantiles[i].name,
			    secs(hist_quantile(h, quantiles[i].q)));
		fprintf(fp, ",\"max\":%.6f,\"mean\":%.6f", secs(hist_max(h)),
		    hist_mean(h) / 1e6);
	}
	putc('}', fp);
}

/* Run k of the runs whose histogram rows are r, as a JSON object. */
static void
json_run(FILE *fp, const struct stats_run *run, const struct rows *r,
    size_t k)
{
	const struct stats *st = run->st;
	struct stats_host top[STATS_TOP];
	size_t i, n;

	fprintf(fp, "{\"seconds\":%.6f,\"per_second\":%.3f", run->elapsed,
	    rate(run));
	for (i = 0; i < NFIGURES; i++)
		fprintf(fp, ",\"%s\":%llu", figures[i].json,
		    (unsigned long long)st->n[i]);
	fputs(",\"error_kinds\":{", fp);
	for (i = 0; i < st->nkinds; i++) {
		if (i > 0)
			putc(',', fp);
		output_json_string(fp, st->kinds[i].name);
		fprintf(fp, ":%llu", (unsigned long long)st->kinds[i].n);
	}
	if (st->other_kinds > 0)
		fprintf(fp, "%s\"other\":%llu", st->nkinds > 0 ? "," : "",
		    (unsigned long long)st->other_kinds);
	putc('}', fp);
	json_time(fp, "total", st->total);
	json_time(fp, "ttfb", st->ttfb);
	fputs(",\"histogram\":[", fp);
	for (i = 0; i < r->nrows; i++)
		fprintf(fp, "%s{\"from\":%.6f,\"to\":%.6f,\"count\":%llu}",
		    i > 0 ? "," : "", secs(row_from(r, i)),
		    secs(row_from(r, i + 1)),
		    (unsigned long long)r->n[k][i]);
	fputs("],\"slowest\":[", fp);
	for (i = 0; i < st->nslow; i++) {
		fprintf(fp, "%s{\"seconds\":%.6f,\"status\":%ld,\"error\":",
		    i > 0 ? "," : "", st->slow[i].secs, st->slow[i].status);
		output_json_string(fp, st->slow[i].kind);
		fputs(",\"url\":", fp);
		output_json_string(fp, st->slow[i].url);
		putc('}', fp);
	}
	fputs("],\"hosts\":[", fp);
	n = stats_hosts(st, top, STATS_TOP);
	for (i = 0; i < n; i++) {
		fputs(i > 0 ? ",{\"host\":" : "{\"host\":", fp);
		output_json_string(fp, top[i].name);
		fprintf(fp, ",\"urls\":%llu,\"over\":%llu,\"errors\":%llu,",
		    (unsigned long long)top[i].count,
		    (unsigned long long)top[i].over,
		    (unsigned long long)top[i].errors);
		if (top[i].timed == 0)
			fputs("\"p50\":null,\"p99\":null}", fp);
		else
			fprintf(fp, "\"p50\":%.6f,\"p99\":%.6f}",
			    secs(top[i].p50_us), secs(top[i].p99_us));
	}
	fprintf(fp, "],\"hosts_tracked\":%zu,\"hosts_approximate\":%s}",
	    st->nhosts, st->evicted ? "true" : "false");
}

void
stats_print(FILE *fp, enum stats_format format,
    const struct stats_run *runs, size_t nruns)
{
	struct rows r;
	size_t i;

	if (nruns > 2)
		nruns = 2;
	if (format == STATS_TEXT) {
		print_text(fp, runs, nruns);
		return;
	}
	fill_rows(&r, runs, nruns);
	if (runs[0].name == NULL)
		json_run(fp, &runs[0], &r, 0);
	else {
		for (i = 0; i < nruns; i++) {
			fputs(i == 0 ? "{" : ",", fp);
			output_json_string(fp, runs[i].name);
			putc(':', fp);
			json_run(fp, &runs[i], &r, i);
		}
		putc('}', fp);
	}
	putc('\n', fp);
}
