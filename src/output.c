/* output.c: the lines fetch_urls prints, as text, JSON, CSV or curl's -w. */

#define _POSIX_C_SOURCE 200809L

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

/* What a field holds, and so how each form writes it. */
enum field_type {
	FT_URL,			/* The URL as given, redacted. */
	FT_EFFECTIVE,		/* The last URL fetched, redacted; or none. */
	FT_ERROR,		/* The error message, redacted; or none. */
	FT_FILE,		/* The path the body was saved to, or none. */
	FT_VERSION,		/* The HTTP version, or none ("0" in -w). */
	FT_RUN,			/* The run's name with --compare, or none. */
	FT_SIZE,		/* A size_t at off. */
	FT_STATUS,		/* The status at off: three digits in -w. */
	FT_LONG,		/* A long at off. */
	FT_LLONG,		/* A long long at off. */
	FT_SECS			/* A double at off, seconds: six decimals. */
};

/*
 * The fields of a record and the --write-out variables, as curl names
 * them: this one table drives the -w names of the help, the -w lookup,
 * the JSON keys and the CSV columns, in its order.  var NULL: a record
 * field only; key NULL: a -w variable only.  Timings nest in JSON's
 * "timings" object and are plain columns in CSV.  The run is written
 * only with --compare, and last in CSV, so that a single run's CSV
 * columns do not move.
 */
struct field {
	const char	*var;
	const char	*key;
	enum field_type	 type;
	size_t		 off;		/* In struct fetch_result. */
	bool		 timing;
};

#define AT(member)	offsetof(struct fetch_result, member)

static const struct field fields[] = {
	{ "url",		"url",		FT_URL,		0, false },
	{ "urlnum",		"urlnum",	FT_SIZE,	AT(urlnum), false },
	{ "run",		"run",		FT_RUN,		0, false },
	{ "http_code",		"status",	FT_STATUS,	AT(status), false },
	{ "response_code",	NULL,		FT_STATUS,	AT(status), false },
	{ NULL,			"seconds",	FT_SECS,	AT(secs), false },
	{ "errormsg",		"error",	FT_ERROR,	0, false },
	{ "size_download",	"bytes",	FT_LLONG,	AT(bytes), false },
	{ "num_redirects",	"redirects",	FT_LONG,	AT(redirects), false },
	{ "url_effective",	"effective_url", FT_EFFECTIVE,	0, false },
	{ "http_version",	"http_version",	FT_VERSION,	0, false },
	{ "num_retries",	"retries",	FT_LONG,	AT(retries), false },
	{ "num_connects",	"connects",	FT_LONG,	AT(connects), false },
	{ "filename_effective",	"file",		FT_FILE,	0, false },
	{ "time_namelookup",	"dns",		FT_SECS,	AT(timings.dns), true },
	{ "time_connect",	"connect",	FT_SECS,	AT(timings.connect), true },
	{ "time_appconnect",	"tls",		FT_SECS,	AT(timings.tls), true },
	{ "time_starttransfer",	"ttfb",		FT_SECS,	AT(timings.ttfb), true },
	{ "time_total",		"total",	FT_SECS,	AT(timings.total), true },
};

#define NFIELDS		(sizeof(fields) / sizeof(fields[0]))

/*
 * The length of the valid UTF-8 sequence that p starts (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0 when p
 * does not start one.  Never reads past a NUL.
 */
static size_t
utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* The code point of the valid n-byte sequence at p. */
static unsigned long
utf8_decode(const unsigned char *p, size_t n)
{
	static const unsigned char lead_mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	unsigned long cp = p[0] & lead_mask[n];
	size_t i;

	for (i = 1; i < n; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	return cp;
}

/* Code points that a terminal or a JavaScript parser would act on. */
static bool
is_c1_or_separator(unsigned long cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029;
}

/*
 * Writes s for a terminal: C0 controls and DEL as \xHH, and so are the C1
 * controls, U+0080 to U+009F, which terminals also act on (U+009B is a
 * CSI): each byte of their UTF-8 form, or the byte itself when it is not
 * part of valid UTF-8, as an 8-bit terminal reads it.  Everything else,
 * invalid UTF-8 included, is written as it is.
 */
void
output_escaped(FILE *fp, const char *s)
{
	const unsigned char *p;
	size_t n, i;

	if (s == NULL)
		return;
	for (p = (const unsigned char *)s; *p != '\0'; p += n) {
		n = 1;
		if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && *p <= 0x9f))
			fprintf(fp, "\\x%02x", *p);
		else if (*p < 0x80)
			putc(*p, fp);
		else if ((n = utf8_len(p)) == 0) {
			putc(*p, fp);
			n = 1;
		} else if (utf8_decode(p, n) <= 0x9f) {
			for (i = 0; i < n; i++)
				fprintf(fp, "\\x%02x", p[i]);
		} else
			fwrite(p, 1, n, fp);
	}
}

void
output_json_string(FILE *fp, const char *s)
{
	const unsigned char *p;
	unsigned long cp;
	size_t n;

	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	putc('"', fp);
	for (p = (const unsigned char *)s; *p != '\0'; p += n) {
		n = 1;
		switch (*p) {
		case '"':
			fputs("\\\"", fp);
			continue;
		case '\\':
			fputs("\\\\", fp);
			continue;
		case '\b':
			fputs("\\b", fp);
			continue;
		case '\f':
			fputs("\\f", fp);
			continue;
		case '\n':
			fputs("\\n", fp);
			continue;
		case '\r':
			fputs("\\r", fp);
			continue;
		case '\t':
			fputs("\\t", fp);
			continue;
		}
		if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\u%04x", *p);
		else if (*p < 0x80)
			putc(*p, fp);
		else if ((n = utf8_len(p)) == 0) {
			fputs("\\ufffd", fp);
			n = 1;
		} else if (is_c1_or_separator(cp = utf8_decode(p, n)))
			fprintf(fp, "\\u%04lx", cp);
		else
			fwrite(p, 1, n, fp);
	}
	putc('"', fp);
}

void
output_csv_field(FILE *fp, const char *s)
{
	const unsigned char *p;
	unsigned long cp;
	size_t n;

	putc('"', fp);
	for (p = (const unsigned char *)(s != NULL ? s : ""); *p != '\0';
	    p += n) {
		n = 1;
		if (*p == '"')
			fputs("\"\"", fp);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\x%02x", *p);
		else if (*p < 0x80)
			putc(*p, fp);
		else if ((n = utf8_len(p)) == 0) {
			fputs("\xef\xbf\xbd", fp);
			n = 1;
		} else if (is_c1_or_separator(cp = utf8_decode(p, n)))
			fprintf(fp, "\\u%04lx", cp);
		else
			fwrite(p, 1, n, fp);
	}
	putc('"', fp);
}

/*
 * The length of the scheme that s starts with, as fetch_urls takes it:
 * a letter, then letters, digits, '+', '-' or '.', then ":/"; 0 when s
 * starts with none (so "host:8080/x" and "user:pw@host" have none).
 */
static size_t
scheme_len(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (i = 1; (s[i] >= 'a' && s[i] <= 'z') ||
	    (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
	    s[i] == '+' || s[i] == '-' || s[i] == '.'; i++)
		;
	return s[i] == ':' && s[i + 1] == '/' ? i : 0;
}

/*
 * The length of the user information at the start of s, an authority,
 * with the last '@' that ends it: 0 when it has none.  The authority ends
 * where a path starts; and when it is a URL inside a message (in_text),
 * also at a blank, quote, angle bracket or control character.  Unlike
 * libcurl, a '?' or '#' does not end it: user information cannot hold
 * them unencoded, but a password pasted with one must not be shown, so
 * an '@' in a query or fragment with no path before it is hidden along
 * with what precedes it.  Nor does a '/' before any '@' after something
 * that cannot be a host and port, as "user:pa" (a name, then no port
 * number) cannot: a password with a '/' in it, as base64 has.
 */
static size_t
userinfo_len(const char *s, bool in_text)
{
	size_t j, n = 0;
	bool colon = false, port = true;
	unsigned char c;

	for (j = 0; (c = (unsigned char)s[j]) != '\0'; j++) {
		if (c == '/' && (n > 0 || !colon || port || s[0] == '['))
			break;
		if (in_text && (c <= ' ' || c == 0x7f ||
		    strchr("\\\"'<>", c) != NULL))
			break;
		if (c == '@')
			n = j + 1;
		else if (c == ':')
			colon = port = true;
		else if (c < '0' || c > '9')
			port = false;
	}
	return n;
}

size_t
output_userinfo_len(const char *s)
{
	return userinfo_len(s, false);
}

size_t
output_authority(const char *url)
{
	size_t i;

	/* After "scheme:" and the slashes that follow, or those alone. */
	if ((i = scheme_len(url)) > 0)
		i++;
	while (url[i] == '/')
		i++;
	return i;
}

/*
 * Copies the authority that starts at s[*i] to out[*o], with its user
 * information (userinfo_len()), unless empty, replaced by "***".
 * Advances *i past the user information only, to its '@'; the caller
 * copies the rest.
 */
static void
redact_authority(const char *s, size_t *i, char *out, size_t *o,
    bool in_text)
{
	size_t n = userinfo_len(s + *i, in_text);

	if (n <= 1)
		return;
	memcpy(out + *o, "***", 3);
	*o += 3;
	*i += n - 1;
}

char *
output_redact(const char *s, bool url)
{
	size_t len = strlen(s), i = 0, o = 0;
	char *out;

	/* "***" for at least one byte: at most 2 more for every 2 or more. */
	if ((out = malloc(2 * len + 4)) == NULL)
		return NULL;
	if (url) {
		i = output_authority(s);
		memcpy(out, s, i);
		o = i;
		redact_authority(s, &i, out, &o, false);
	}
	while (s[i] != '\0') {
		if (strncmp(s + i, "://", 3) == 0) {
			memcpy(out + o, "://", 3);
			o += 3;
			i += 3;
			redact_authority(s, &i, out, &o, true);
			continue;
		}
		/*
		 * libcurl quotes a proxy it cannot use as it was given, and
		 * curl takes one without a scheme: "in 'user:pw@host:1'".
		 */
		if (!url && s[i] == '\'') {
			out[o++] = s[i++];
			redact_authority(s, &i, out, &o, true);
			continue;
		}
		out[o++] = s[i++];
	}
	out[o] = '\0';
	return out;
}

/* Writes s redacted (see output_redact()) with the writer put. */
static void
put_redacted(FILE *fp, const char *s, bool url,
    void (*put)(FILE *, const char *))
{
	char *r;

	if (s == NULL) {
		put(fp, NULL);
		return;
	}
	/* Out of memory, hide all rather than risk showing a secret. */
	r = output_redact(s, url);
	put(fp, r != NULL ? r : "***");
	free(r);
}

/* The error message of a result, or NULL when it has none. */
static const char *
error_text(const struct fetch_result *res, const char *why, char *buf,
    size_t len)
{
	switch (res->outcome) {
	case FETCH_OK:
		break;
	case FETCH_ERROR:
		return res->error != NULL ? res->error : "out of memory";
	case FETCH_CANCELLED:
		snprintf(buf, len, "cancelled (%s)", why);
		return buf;
	}
	return NULL;
}

/* The field of the -w variable name (len bytes), or NULL. */
static const struct field *
wo_lookup(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++)
		if (fields[i].var != NULL && strlen(fields[i].var) == len &&
		    strncmp(fields[i].var, name, len) == 0)
			return &fields[i];
	return NULL;
}

const char *
output_writeout_name(size_t i)
{
	size_t k;

	for (k = 0; k < NFIELDS; k++)
		if (fields[k].var != NULL && i-- == 0)
			return fields[k].var;
	return NULL;
}

/* Whether name[0..len) is one of name_of(0), name_of(1)... */
static bool
is_var(const char *name, size_t len, const char *(*name_of)(size_t))
{
	const char *n;
	size_t i;

	for (i = 0; (n = name_of(i)) != NULL; i++)
		if (strlen(n) == len && strncmp(n, name, len) == 0)
			return true;
	return false;
}

int
output_vars_check(const char *fmt, const char *option, bool escapes,
    const char *(*name_of)(size_t), char *err, size_t errlen)
{
	const char *p, *end;

	for (p = fmt; *p != '\0'; p++) {
		/* As in put_writeout(), a backslash takes what follows. */
		if (escapes && p[0] == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (p[0] != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		if (p[1] != '{')
			continue;
		if ((end = strchr(p + 2, '}')) == NULL) {
			snprintf(err, errlen, "%s has '%%{' without '}'",
			    option);
			return -1;
		}
		if (!is_var(p + 2, (size_t)(end - p - 2), name_of)) {
			snprintf(err, errlen, "%s has an unknown variable "
			    "'%%{%.*s}'", option, end - p - 2 > 40 ? 40 :
			    (int)(end - p - 2), p + 2);
			return -1;
		}
		p = end;
	}
	return 0;
}

int
output_writeout_check(const char *fmt, char *err, size_t errlen)
{
	return output_vars_check(fmt, "--write-out", true,
	    output_writeout_name, err, errlen);
}

/*
 * Writes field f of a result with put, the form's writer of strings
 * (output_escaped() for -w, which writes nothing for none).  url is the
 * URL as given, err the error message or NULL.
 */
static void
put_field(FILE *fp, const struct output *o, const struct field *f,
    const char *url, const struct fetch_result *res, const char *err,
    void (*put)(FILE *, const char *))
{
	const char *at = (const char *)res + f->off;
	bool wo = put == output_escaped;

	switch (f->type) {
	case FT_URL:
		put_redacted(fp, url, true, put);
		break;
	case FT_EFFECTIVE:
		put_redacted(fp, res->effective_url, true, put);
		break;
	case FT_ERROR:
		put_redacted(fp, err, false, put);
		break;
	case FT_FILE:
		put(fp, res->file);
		break;
	case FT_VERSION:
		put(fp, res->http_version == NULL && wo ? "0" :
		    res->http_version);
		break;
	case FT_RUN:
		put(fp, o->run);
		break;
	case FT_SIZE:
		fprintf(fp, "%zu", *(const size_t *)(const void *)at);
		break;
	case FT_STATUS:
		fprintf(fp, wo ? "%03ld" : "%ld", *(const long *)(const void *)at);
		break;
	case FT_LONG:
		fprintf(fp, "%ld", *(const long *)(const void *)at);
		break;
	case FT_LLONG:
		fprintf(fp, "%lld", *(const long long *)(const void *)at);
		break;
	case FT_SECS:
		fprintf(fp, "%.6f", *(const double *)(const void *)at);
		break;
	}
}

/*
 * Writes a --write-out format as curl does: %{name} is a variable, %% a
 * percent sign, \n \r \t \\ the usual characters; anything else as is.
 */
static void
put_writeout(FILE *fp, const struct output *o, const char *url,
    const struct fetch_result *res, const char *err)
{
	const char *fmt = o->write_out;
	const struct field *f;
	const char *p, *end;

	for (p = fmt; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] != '\0') {
			switch (p[1]) {
			case 'n':
				putc('\n', fp);
				break;
			case 'r':
				putc('\r', fp);
				break;
			case 't':
				putc('\t', fp);
				break;
			case '\\':
				putc('\\', fp);
				break;
			default:
				putc(p[0], fp);
				putc(p[1], fp);
				break;
			}
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			putc('%', fp);
			p++;
		} else if (p[0] == '%' && p[1] == '{' &&
		    (end = strchr(p + 2, '}')) != NULL &&
		    (f = wo_lookup(p + 2, (size_t)(end - p - 2))) != NULL) {
			put_field(fp, o, f, url, res, err, output_escaped);
			p = end;
		} else
			putc(*p, fp);
	}
}

static void
put_json(FILE *fp, const struct output *o, const char *url,
    const struct fetch_result *res, const char *err)
{
	const struct field *f;
	bool timings = false;
	char sep = '{';

	for (f = fields; f < fields + NFIELDS; f++) {
		if (f->key == NULL || (f->type == FT_RUN && o->run == NULL))
			continue;
		if (f->timing && !timings) {
			fprintf(fp, ",\"timings\":");
			timings = true;
			sep = '{';
		}
		fprintf(fp, "%c\"%s\":", sep, f->key);
		sep = ',';
		put_field(fp, o, f, url, res, err, output_json_string);
	}
	fputs(timings ? "}}\n" : "}\n", fp);
}

/*
 * Writes the CSV header unless it is out already.  One header for both
 * runs of --compare, which share o.  The first field, the URL, has a
 * key: the others follow a comma.
 */
static void
put_csv_header(FILE *fp, struct output *o)
{
	const struct field *f;

	if (o->header_done)
		return;
	for (f = fields; f < fields + NFIELDS; f++)
		if (f->key != NULL && f->type != FT_RUN)
			fprintf(fp, "%s%s", f == fields ? "" : ",", f->key);
	fputs(o->run != NULL ? ",run\r\n" : "\r\n", fp);
	o->header_done = true;
}

static void
put_csv(FILE *fp, struct output *o, const char *url,
    const struct fetch_result *res, const char *err)
{
	const struct field *f, *run = NULL;

	put_csv_header(fp, o);
	for (f = fields; f < fields + NFIELDS; f++) {
		if (f->key == NULL)
			continue;
		if (f->type == FT_RUN) {
			run = f;
			continue;
		}
		if (f != fields)
			putc(',', fp);
		put_field(fp, o, f, url, res, err, output_csv_field);
	}
	if (o->run != NULL) {
		putc(',', fp);
		put_field(fp, o, run, url, res, err, output_csv_field);
	}
	fputs("\r\n", fp);
}

void
output_init(struct output *o, enum output_format format,
    const char *write_out)
{
	o->format = format;
	o->write_out = write_out;
	o->header_done = false;
	o->run = NULL;
}

void
output_finish(FILE *fp, struct output *o)
{
	flockfile(fp);
	if (o->format == OUTPUT_CSV)
		put_csv_header(fp, o);
	funlockfile(fp);
}

/* output_result() without the lock. */
static void
put_result(FILE *fp, struct output *o, const char *url,
    const struct fetch_result *res, const char *why)
{
	char buf[128];
	const char *err = error_text(res, why, buf, sizeof(buf));

	switch (o->format) {
	case OUTPUT_JSON:
		put_json(fp, o, url, res, err);
		return;
	case OUTPUT_CSV:
		put_csv(fp, o, url, res, err);
		return;
	case OUTPUT_WRITEOUT:
		put_writeout(fp, o, url, res, err);
		return;
	case OUTPUT_TEXT:
		break;
	}
	put_redacted(fp, url, true, output_escaped);
	if (res->outcome == FETCH_OK)
		fprintf(fp, " \t %.2fs \t %ld\n", res->secs, res->status);
	else {
		fputs(" request encountered error: ", fp);
		put_redacted(fp, err, false, output_escaped);
		putc('\n', fp);
	}
}

void
output_result(FILE *fp, struct output *o, const char *url,
    const struct fetch_result *res, const char *why)
{
	flockfile(fp);
	put_result(fp, o, url, res, why);
	funlockfile(fp);
}

void
output_total(FILE *fp, double secs)
{
	fprintf(fp, "Total time: %.2fs\n", secs);
}

/* Prints secs with at least three significant digits, at least two decimals. */
static void
put_secs(FILE *fp, double secs)
{
	int decimals = 2;
	double v;

	for (v = secs; v < 1 && decimals < 6; v *= 10)
		decimals++;
	fprintf(fp, "%.*fs", decimals, secs);
}

void
output_speedup(FILE *fp, double serial, double concurrent)
{
	flockfile(fp);
	fputs("Serial: ", fp);
	put_secs(fp, serial);
	fputs(", concurrent: ", fp);
	put_secs(fp, concurrent);
	fprintf(fp, ", speedup: %.2fx\n", concurrent > 0 ?
	    serial / concurrent : 0.0);
	funlockfile(fp);
}

void
output_summary(FILE *fp, size_t ok, size_t http_errors, size_t failed)
{
	fprintf(fp, "Summary: %zu succeeded, %zu got HTTP status >= 400, "
	    "%zu failed without a response\n", ok, http_errors, failed);
}
