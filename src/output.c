/* output.c: the lines fetch_urls prints, as text, JSON, CSV or curl's -w. */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

static const char csv_header[] = "url,urlnum,status,seconds,error,bytes,"
    "redirects,effective_url,http_version,retries,file,dns,connect,tls,"
    "ttfb,total";

/* The --write-out variables, as curl names them. */
enum wo_var {
	WO_URL,
	WO_URLNUM,
	WO_HTTP_CODE,
	WO_RESPONSE_CODE,
	WO_TIME_TOTAL,
	WO_TIME_NAMELOOKUP,
	WO_TIME_CONNECT,
	WO_TIME_APPCONNECT,
	WO_TIME_STARTTRANSFER,
	WO_SIZE_DOWNLOAD,
	WO_NUM_REDIRECTS,
	WO_NUM_RETRIES,
	WO_URL_EFFECTIVE,
	WO_HTTP_VERSION,
	WO_ERRORMSG,
	WO_FILENAME_EFFECTIVE,
	WO_RUN
};

static const char *const wo_names[] = {
	[WO_URL] = "url",
	[WO_URLNUM] = "urlnum",
	[WO_HTTP_CODE] = "http_code",
	[WO_RESPONSE_CODE] = "response_code",
	[WO_TIME_TOTAL] = "time_total",
	[WO_TIME_NAMELOOKUP] = "time_namelookup",
	[WO_TIME_CONNECT] = "time_connect",
	[WO_TIME_APPCONNECT] = "time_appconnect",
	[WO_TIME_STARTTRANSFER] = "time_starttransfer",
	[WO_SIZE_DOWNLOAD] = "size_download",
	[WO_NUM_REDIRECTS] = "num_redirects",
	[WO_NUM_RETRIES] = "num_retries",
	[WO_URL_EFFECTIVE] = "url_effective",
	[WO_HTTP_VERSION] = "http_version",
	[WO_ERRORMSG] = "errormsg",
	[WO_FILENAME_EFFECTIVE] = "filename_effective",
	[WO_RUN] = "run",
};

#define NWO_NAMES	(sizeof(wo_names) / sizeof(wo_names[0]))

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
 * Copies the authority that starts at s[*i] to out[*o], with the user
 * information before its last '@' replaced by "***".  The authority ends
 * where a path, query or fragment starts, as libcurl parses a URL; and
 * when it is a URL inside a message (in_text), also at a blank, quote,
 * angle bracket or control character.  Advances *i past the user
 * information only; the caller copies the rest.
 */
static void
redact_authority(const char *s, size_t *i, char *out, size_t *o,
    bool in_text)
{
	size_t j, at = 0;
	bool found = false;
	unsigned char c;

	for (j = *i; (c = (unsigned char)s[j]) != '\0'; j++) {
		if (c == '/' || c == '?' || c == '#')
			break;
		if (in_text && (c <= ' ' || c == 0x7f ||
		    strchr("\\\"'<>", c) != NULL))
			break;
		if (c == '@') {
			at = j;
			found = true;
		}
	}
	if (!found || at == *i)
		return;
	memcpy(out + *o, "***", 3);
	*o += 3;
	*i = at;
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
		/* The URL's own authority: after "scheme:/", "//"... */
		if ((i = scheme_len(s)) > 0) {
			for (i++; s[i] == '/'; i++)
				;
			memcpy(out, s, i);
			o = i;
		}
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

static int
wo_lookup(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NWO_NAMES; i++)
		if (strlen(wo_names[i]) == len &&
		    strncmp(wo_names[i], name, len) == 0)
			return (int)i;
	return -1;
}

const char *
output_writeout_name(size_t i)
{
	return i < NWO_NAMES ? wo_names[i] : NULL;
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

static void
put_var(FILE *fp, const struct output *o, enum wo_var v, const char *url,
    const struct fetch_result *res, const char *err)
{
	const struct fetch_timings *t = &res->timings;

	switch (v) {
	case WO_URL:
		put_redacted(fp, url, true, output_escaped);
		break;
	case WO_URLNUM:
		fprintf(fp, "%zu", res->urlnum);
		break;
	case WO_HTTP_CODE:
	case WO_RESPONSE_CODE:
		fprintf(fp, "%03ld", res->status);
		break;
	case WO_TIME_TOTAL:
		fprintf(fp, "%.6f", t->total);
		break;
	case WO_TIME_NAMELOOKUP:
		fprintf(fp, "%.6f", t->dns);
		break;
	case WO_TIME_CONNECT:
		fprintf(fp, "%.6f", t->connect);
		break;
	case WO_TIME_APPCONNECT:
		fprintf(fp, "%.6f", t->tls);
		break;
	case WO_TIME_STARTTRANSFER:
		fprintf(fp, "%.6f", t->ttfb);
		break;
	case WO_SIZE_DOWNLOAD:
		fprintf(fp, "%lld", res->bytes);
		break;
	case WO_NUM_REDIRECTS:
		fprintf(fp, "%ld", res->redirects);
		break;
	case WO_NUM_RETRIES:
		fprintf(fp, "%ld", res->retries);
		break;
	case WO_URL_EFFECTIVE:
		if (res->effective_url != NULL)
			put_redacted(fp, res->effective_url, true,
			    output_escaped);
		break;
	case WO_HTTP_VERSION:
		fputs(res->http_version != NULL ? res->http_version : "0", fp);
		break;
	case WO_ERRORMSG:
		if (err != NULL)
			put_redacted(fp, err, false, output_escaped);
		break;
	case WO_FILENAME_EFFECTIVE:
		if (res->file != NULL)
			output_escaped(fp, res->file);
		break;
	case WO_RUN:
		if (o->run != NULL)
			fputs(o->run, fp);
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
	const char *p, *end;
	int v;

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
		    (v = wo_lookup(p + 2, (size_t)(end - p - 2))) >= 0) {
			put_var(fp, o, (enum wo_var)v, url, res, err);
			p = end;
		} else
			putc(*p, fp);
	}
}

static void
put_json(FILE *fp, const struct output *o, const char *url,
    const struct fetch_result *res, const char *err)
{
	const struct fetch_timings *t = &res->timings;

	fputs("{\"url\":", fp);
	put_redacted(fp, url, true, output_json_string);
	fprintf(fp, ",\"urlnum\":%zu,", res->urlnum);
	if (o->run != NULL)
		fprintf(fp, "\"run\":\"%s\",", o->run);
	fprintf(fp, "\"status\":%ld,\"seconds\":%.6f,\"error\":",
	    res->status, res->secs);
	put_redacted(fp, err, false, output_json_string);
	fprintf(fp, ",\"bytes\":%lld,\"redirects\":%ld,\"effective_url\":",
	    res->bytes, res->redirects);
	put_redacted(fp, res->effective_url, true, output_json_string);
	fputs(",\"http_version\":", fp);
	output_json_string(fp, res->http_version);
	fprintf(fp, ",\"retries\":%ld,\"file\":", res->retries);
	output_json_string(fp, res->file);
	fprintf(fp, ",\"timings\":{\"dns\":%.6f,\"connect\":%.6f,"
	    "\"tls\":%.6f,\"ttfb\":%.6f,\"total\":%.6f}}\n",
	    t->dns, t->connect, t->tls, t->ttfb, t->total);
}

static void
put_csv(FILE *fp, struct output *o, const char *url,
    const struct fetch_result *res, const char *err)
{
	const struct fetch_timings *t = &res->timings;

	/* One header for both runs of --compare, which share o. */
	if (!o->header_done) {
		fputs(csv_header, fp);
		fputs(o->run != NULL ? ",run\r\n" : "\r\n", fp);
		o->header_done = true;
	}
	put_redacted(fp, url, true, output_csv_field);
	fprintf(fp, ",%zu,%ld,%.6f,", res->urlnum, res->status, res->secs);
	put_redacted(fp, err, false, output_csv_field);
	fprintf(fp, ",%lld,%ld,", res->bytes, res->redirects);
	put_redacted(fp, res->effective_url, true, output_csv_field);
	putc(',', fp);
	output_csv_field(fp, res->http_version);
	fprintf(fp, ",%ld,", res->retries);
	output_csv_field(fp, res->file);
	fprintf(fp, ",%.6f,%.6f,%.6f,%.6f,%.6f", t->dns, t->connect, t->tls,
	    t->ttfb, t->total);
	if (o->run != NULL)
		fprintf(fp, ",\"%s\"", o->run);
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
output_result(FILE *fp, struct output *o, const char *url,
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
	fputs("Serial: ", fp);
	put_secs(fp, serial);
	fputs(", concurrent: ", fp);
	put_secs(fp, concurrent);
	fprintf(fp, ", speedup: %.2fx\n", concurrent > 0 ?
	    serial / concurrent : 0.0);
}

void
output_summary(FILE *fp, size_t ok, size_t http_errors, size_t failed)
{
	fprintf(fp, "Summary: %zu succeeded, %zu got HTTP status >= 400, "
	    "%zu failed without a response\n", ok, http_errors, failed);
}
