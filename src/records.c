/* records.c: reading back the records file that --resume continues. */

#define _XOPEN_SOURCE 700

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "records.h"

/* URL numbers above this in a records file are taken for junk. */
#define URLNUM_MAX	1000000000UL

struct records_done {
	uint32_t	*key;	/* Malloced; by URL number: 0 not done, else
				   the hash of the record's key. */
	size_t		 cap;
	size_t		 count;
};

/*
 * How a --write-out format keys its records: 0 when it cannot (no
 * leading %{urlnum}), 1 by the number alone, 2 by the number and the URL
 * between two blanks; *blank2 is the blank after the URL.
 */
static int
writeout_keying(const char *fmt, char *blank1, char *blank2)
{
	static const char num[] = "%{urlnum}", url[] = "%{url}";
	const char *p;

	if (strncmp(fmt, num, sizeof(num) - 1) != 0)
		return 0;
	p = fmt + sizeof(num) - 1;
	if (*p == ' ' || *p == '\t')
		*blank1 = *p++;
	else if (p[0] == '\\' && p[1] == 't') {
		*blank1 = '\t';
		p += 2;
	} else
		return 1;
	if (strncmp(p, url, sizeof(url) - 1) != 0)
		return 1;
	p += sizeof(url) - 1;
	if (*p == ' ' || *p == '\t')
		*blank2 = *p;
	else if (p[0] == '\\' && p[1] == 't')
		*blank2 = '\t';
	else
		return 1;
	return 2;
}

/*
 * Whether a --write-out format makes one line a record: its only newline
 * (\n, or a newline itself) ends it, and what follows %{urlnum} cannot
 * be taken for more of the number: a newline or a literal that is no
 * digit.
 */
static bool
writeout_one_line(const char *fmt)
{
	static const char num[] = "%{urlnum}";
	const char *p = fmt + sizeof(num) - 1;
	size_t newlines = 0;
	bool ends = false;

	if ((*p >= '0' && *p <= '9') || (*p == '%' && p[1] != '%') ||
	    *p == '\0')
		return false;
	for (p = fmt; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] != '\0')
			ends = *++p == 'n';
		else
			ends = *p == '\n';
		newlines += ends;
	}
	return newlines == 1 && ends;
}

int
records_check(const struct output *o, char *err, size_t errlen)
{
	char b1, b2;

	switch (o->format) {
	case OUTPUT_JSON:
	case OUTPUT_CSV:
		return 0;
	case OUTPUT_WRITEOUT:
		if (writeout_keying(o->write_out, &b1, &b2) == 0) {
			snprintf(err, errlen, "--resume needs a --write-out "
			    "format that starts with %%{urlnum}");
			return -1;
		}
		if (writeout_one_line(o->write_out))
			return 0;
		snprintf(err, errlen, "--resume needs a --write-out format "
		    "that writes one line per URL: %%{urlnum}, then a blank "
		    "or another character that is no digit, and a single "
		    "\\n at its end");
		return -1;
	case OUTPUT_TEXT:
		break;
	}
	snprintf(err, errlen, "--resume needs records with a urlnum: "
	    "--format json or csv, or --write-out '%%{urlnum}...'");
	return -1;
}

/* FNV-1a, never 0: 0 marks a number not done. */
static uint32_t
key_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h == 0 ? 1 : h;
}

/* Reads decimal digits at line[*i]; -1 when there are none or too many. */
static int
parse_urlnum(const char *line, size_t len, size_t *i, size_t *urlnum)
{
	size_t v = 0, start = *i;

	for (; *i < len && line[*i] >= '0' && line[*i] <= '9'; (*i)++) {
		v = v * 10 + (size_t)(line[*i] - '0');
		if (v > URLNUM_MAX)
			return -1;
	}
	if (*i == start)
		return -1;
	*urlnum = v;
	return 0;
}

/*
 * Finds the key at the start of a record line: sets *urlnum and *keylen.
 * Returns 0, or -1 when the line is no record of o's format.
 */
static int
parse_key(const struct output *o, const char *line, size_t len,
    size_t *urlnum, size_t *keylen)
{
	static const char jstart[] = "{\"url\":\"", jnum[] = ",\"urlnum\":";
	size_t i;
	char b1 = 0, b2 = 0;

	switch (o->format) {
	case OUTPUT_JSON:
		if (len < sizeof(jstart) - 1 ||
		    memcmp(line, jstart, sizeof(jstart) - 1) != 0)
			return -1;
		for (i = sizeof(jstart) - 1; i < len && line[i] != '"'; i++)
			if (line[i] == '\\')
				i++;
		i++;
		if (i + sizeof(jnum) - 1 > len ||
		    memcmp(line + i, jnum, sizeof(jnum) - 1) != 0)
			return -1;
		i += sizeof(jnum) - 1;
		break;
	case OUTPUT_CSV:
		if (len == 0 || line[0] != '"')
			return -1;
		for (i = 1; i < len; i++)
			if (line[i] == '"' && !(i + 1 < len &&
			    line[i + 1] == '"'))
				break;
			else if (line[i] == '"')
				i++;
		if (i + 1 >= len || line[i + 1] != ',')
			return -1;
		i += 2;
		break;
	case OUTPUT_WRITEOUT:
		i = 0;
		if (parse_urlnum(line, len, &i, urlnum) < 0)
			return -1;
		if (writeout_keying(o->write_out, &b1, &b2) == 2) {
			if (i >= len || line[i] != b1)
				return -1;
			for (i++; i < len && line[i] != b2; i++)
				;
		}
		*keylen = i;
		return 0;
	default:
		return -1;
	}
	if (parse_urlnum(line, len, &i, urlnum) < 0 || i >= len ||
	    line[i] != ',')
		return -1;
	*keylen = i + 1;
	return 0;
}

/* Marks urlnum done with the key hash h.  Returns 0, or -1 (ENOMEM). */
static int
mark(struct records_done *d, size_t urlnum, uint32_t h)
{
	uint32_t *v;
	size_t cap;

	if (urlnum >= d->cap) {
		for (cap = d->cap ? d->cap : 1024; cap <= urlnum; cap *= 2)
			;
		if ((v = realloc(d->key, cap * sizeof(*v))) == NULL)
			return -1;
		memset(v + d->cap, 0, (cap - d->cap) * sizeof(*v));
		d->key = v;
		d->cap = cap;
	}
	d->key[urlnum] = h;
	d->count++;
	return 0;
}

/*
 * Copies the complete records of in to out and marks them done.  Returns
 * 0, or -1 with the reason in err.
 */
static int
keep_records(FILE *in, FILE *out, const char *path, const struct output *o,
    struct records_done *d, bool *csv_header, char *err, size_t errlen)
{
	static const char header[] = "url,urlnum,";
	char *line = NULL;
	size_t size = 0, lineno = 0, urlnum, keylen;
	ssize_t len;
	int rc = -1, e = 0;

	errno = 0;
	while ((len = getline(&line, &size, in)) != -1) {
		lineno++;
		/* A line a crash cut short is no record. */
		if (line[len - 1] != '\n')
			break;
		if (o->format == OUTPUT_CSV && lineno == 1 &&
		    strncmp(line, header, sizeof(header) - 1) == 0) {
			*csv_header = true;
		} else if (parse_key(o, line, (size_t)len, &urlnum, &keylen) <
		    0) {
			snprintf(err, errlen, "--resume: %s line %zu is not a "
			    "record of this format", path, lineno);
			goto out;
		} else if (urlnum < d->cap && d->key[urlnum] != 0) {
			continue;
		} else if (mark(d, urlnum, key_hash(line, keylen)) < 0) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (fwrite(line, 1, (size_t)len, out) != (size_t)len) {
			e = errno;
			break;
		}
	}
	/* As in urls_next(): a line too long for memory is no end. */
	if (ferror(in) || !feof(in) || ferror(out)) {
		/* The write's reason, else the read's (errno of getline()). */
		if (e == 0)
			e = errno != 0 ? errno : EIO;
		snprintf(err, errlen, "--resume: cannot copy %s: %s", path,
		    strerror(e));
		goto out;
	}
	rc = 0;
out:
	free(line);
	return rc;
}

int
records_target(const char *path, char **target)
{
	struct stat st;

	*target = NULL;
	if (lstat(path, &st) != 0) {
		if (errno != ENOENT)
			return -1;
		*target = strdup(path);
		return *target != NULL ? 1 : -1;
	}
	if (S_ISLNK(st.st_mode) && stat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISREG(st.st_mode))
		return 0;
	*target = realpath(path, NULL);
	return *target != NULL ? 1 : -1;
}

/* The permissions for a file that is to replace path: records_temp(). */
static mode_t
file_mode(const char *path)
{
	struct stat st;
	mode_t mask;

	if (stat(path, &st) == 0)
		return st.st_mode & 07777;
	mask = umask(022);
	(void)umask(mask);
	return 0666 & ~mask;
}

FILE *
records_temp(const char *target, const char *suffix, char **tmp)
{
	size_t len = strlen(target) + strlen(suffix) + sizeof(".XXXXXX");
	FILE *fp = NULL;
	int fd = -1, e;

	if ((*tmp = malloc(len)) == NULL)
		return NULL;
	snprintf(*tmp, len, "%s%s.XXXXXX", target, suffix);
	/* mkstemp() makes the file private; it gets the usual mode. */
	if ((fd = mkstemp(*tmp)) >= 0 && fchmod(fd, file_mode(target)) == 0 &&
	    (fp = fdopen(fd, "w")) != NULL)
		return fp;
	e = errno;
	if (fd >= 0) {
		close(fd);
		(void)unlink(*tmp);
	}
	free(*tmp);
	*tmp = NULL;
	errno = e;
	return NULL;
}

struct records_done *
records_load(const char *path, const struct output *o, bool *csv_header,
    char *err, size_t errlen)
{
	struct records_done *d;
	char *target = NULL, *tmp = NULL;
	FILE *in = NULL, *out = NULL;
	int e;

	*csv_header = false;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	switch (records_target(path, &target)) {
	case -1:
		e = errno;
		snprintf(err, errlen, "cannot read '%s': %s", path,
		    strerror(e));
		goto fail;
	case 0:
		/* A link to nothing: the run's records make the file. */
		if (access(path, F_OK) != 0 && errno == ENOENT)
			return d;
		snprintf(err, errlen, "--resume: '%s' is not a regular file",
		    path);
		goto fail;
	}
	if ((in = fopen(path, "r")) == NULL) {
		if (errno == ENOENT) {
			free(target);
			return d;
		}
		e = errno;
		snprintf(err, errlen, "cannot read '%s': %s", path,
		    strerror(e));
		goto fail;
	}
	if ((out = records_temp(target, ".resume", &tmp)) == NULL) {
		e = errno;
		snprintf(err, errlen, "cannot write next to '%s': %s", path,
		    strerror(e));
		goto fail;
	}
	if (keep_records(in, out, path, o, d, csv_header, err, errlen) < 0)
		goto fail;
	if (fflush(out) != 0 || fsync(fileno(out)) != 0 || fclose(out) != 0) {
		out = NULL;
		e = errno;
		snprintf(err, errlen, "cannot write next to '%s': %s", path,
		    strerror(e));
		goto fail;
	}
	out = NULL;
	if (rename(tmp, target) != 0) {
		e = errno;
		snprintf(err, errlen, "cannot rewrite '%s': %s", path,
		    strerror(e));
		goto fail;
	}
	fclose(in);
	free(tmp);
	free(target);
	return d;

fail:
	if (out != NULL)
		fclose(out);
	if (tmp != NULL) {
		(void)unlink(tmp);
		free(tmp);
	}
	if (in != NULL)
		fclose(in);
	free(target);
	records_free(d);
	return NULL;
}

bool
records_has(const struct records_done *d, const struct output *o,
    size_t urlnum, const char *url)
{
	char *buf = NULL, *red, *blank, b1 = 0, b2 = 0;
	size_t len = 0, url_at = 0;
	bool has;
	FILE *fp;

	if (urlnum >= d->cap || d->key[urlnum] == 0)
		return false;
	if ((fp = open_memstream(&buf, &len)) == NULL)
		return false;
	red = output_redact(url, true);
	switch (o->format) {
	case OUTPUT_JSON:
		fputs("{\"url\":", fp);
		output_json_string(fp, red != NULL ? red : "***");
		fprintf(fp, ",\"urlnum\":%zu,", urlnum);
		break;
	case OUTPUT_CSV:
		output_csv_field(fp, red != NULL ? red : "***");
		fprintf(fp, ",%zu,", urlnum);
		break;
	default:
		fprintf(fp, "%zu", urlnum);
		if (writeout_keying(o->write_out, &b1, &b2) == 2) {
			putc(b1, fp);
			url_at = (size_t)ftell(fp);
			output_escaped(fp, red != NULL ? red : "***");
		}
		break;
	}
	free(red);
	has = fclose(fp) == 0;
	/* The key stops at the URL's first b2, as parse_key() stops. */
	if (has && url_at > 0 && (blank = memchr(buf + url_at, b2, len -
	    url_at)) != NULL)
		len = (size_t)(blank - buf);
	has = has && key_hash(buf, len) == d->key[urlnum];
	free(buf);
	return has;
}

size_t
records_count(const struct records_done *d)
{
	return d->count;
}

void
records_free(struct records_done *d)
{
	if (d == NULL)
		return;
	free(d->key);
	free(d);
}
