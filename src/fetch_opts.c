/* fetch_opts.c: the libcurl options a run's configuration sets on a handle. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "fetch_impl.h"

/* Sets one option on e, or returns its error from the calling function. */
#define SETOPT(e, opt, val) do {					\
	CURLcode cc_ = curl_easy_setopt((e), (opt), (val));		\
	if (cc_ != CURLE_OK)						\
		return cc_;						\
} while (0)

/* The environment variable name's value, or NULL when unset or empty. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

void
fetch_opts_env(struct fetch_opts *o, bool insecure)
{
	if (o->cafile != NULL || o->capath != NULL || insecure)
		return;
	/* curl 7.88's tool_operate.c: one of the three, in this order. */
	if ((o->cafile = env("CURL_CA_BUNDLE")) != NULL)
		return;
	if ((o->capath = env("SSL_CERT_DIR")) != NULL)
		return;
	o->cafile = env("SSL_CERT_FILE");
}

/*
 * Appends the strings of the NULL-ended array v (NULL: none) to *l.
 * Returns CURLE_OK, or CURLE_OUT_OF_MEMORY with *l holding those before.
 */
static CURLcode
slist_add(struct curl_slist **l, const char *const *v)
{
	struct curl_slist *n;

	for (; v != NULL && *v != NULL; v++) {
		if ((n = curl_slist_append(*l, *v)) == NULL)
			return CURLE_OUT_OF_MEMORY;
		*l = n;
	}
	return CURLE_OK;
}

CURLcode
fetch_lists_build(struct fetch_lists *l, const struct fetch_config *cfg)
{
	CURLcode cc;

	if ((cc = slist_add(&l->headers, cfg->headers)) != CURLE_OK ||
	    cfg->opts == NULL)
		return cc;
	if ((cc = slist_add(&l->resolve, cfg->opts->resolve)) != CURLE_OK)
		return cc;
	return slist_add(&l->connect_to, cfg->opts->connect_to);
}

void
fetch_lists_free(struct fetch_lists *l)
{
	curl_slist_free_all(l->headers);
	l->headers = NULL;
	curl_slist_free_all(l->resolve);
	l->resolve = NULL;
	curl_slist_free_all(l->connect_to);
	l->connect_to = NULL;
}

/* libcurl's CURLOPT_IPRESOLVE value for ip. */
static long
ip_value(enum fetch_ip ip)
{
	switch (ip) {
	case FETCH_IP_V4:
		return CURL_IPRESOLVE_V4;
	case FETCH_IP_V6:
		return CURL_IPRESOLVE_V6;
	default:
		return CURL_IPRESOLVE_WHATEVER;
	}
}

/* libcurl's CURLOPT_HTTP_VERSION value for v. */
static long
http_value(enum fetch_http v)
{
	switch (v) {
	case FETCH_HTTP_1_1:
		return CURL_HTTP_VERSION_1_1;
	case FETCH_HTTP_2:
		return CURL_HTTP_VERSION_2_0;
	case FETCH_HTTP_2_PRIOR:
		return CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
	default:
		return CURL_HTTP_VERSION_NONE;
	}
}

/* Whether o asks for a cookie store: files to start it, or a jar. */
static bool
keeps_cookies(const struct fetch_opts *o)
{
	return o->cookie_lines != NULL || o->cookie_jar != NULL;
}

/*
 * The options of struct fetch_opts, when given.  These come after
 * CURLOPT_CUSTOMREQUEST and CURLOPT_NOBODY: a body makes a request a POST,
 * and -X names the method it is sent with all the same.
 */
static CURLcode
apply_opts(CURL *e, const struct fetch_opts *o, const struct fetch_lists *l)
{
	if (o->cafile != NULL)
		SETOPT(e, CURLOPT_CAINFO, o->cafile);
	if (o->capath != NULL)
		SETOPT(e, CURLOPT_CAPATH, o->capath);
	if (o->cert != NULL)
		SETOPT(e, CURLOPT_SSLCERT, o->cert);
	if (o->key != NULL)
		SETOPT(e, CURLOPT_SSLKEY, o->key);
	if (l->resolve != NULL)
		SETOPT(e, CURLOPT_RESOLVE, l->resolve);
	if (l->connect_to != NULL)
		SETOPT(e, CURLOPT_CONNECT_TO, l->connect_to);
	SETOPT(e, CURLOPT_IPRESOLVE, ip_value(o->ipresolve));
	if (o->data != NULL) {
		/* Not copied: one body serves every handle of the run. */
		SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->datalen);
		SETOPT(e, CURLOPT_POSTFIELDS, o->data);
	}
	if (o->cookie != NULL)
		SETOPT(e, CURLOPT_COOKIE, o->cookie);
	/*
	 * "" turns the store on without a file to read: the files were read
	 * once, into the shared store, by fetch_opts_share(); and no handle
	 * has the jar, or each would write it when freed.
	 */
	if (keeps_cookies(o))
		SETOPT(e, CURLOPT_COOKIEFILE, "");
	/* "": every encoding this libcurl was built to decode. */
	if (o->compressed)
		SETOPT(e, CURLOPT_ACCEPT_ENCODING, "");
	if (o->max_filesize > 0)
		SETOPT(e, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)o->max_filesize);
	if (o->proxy != NULL)
		SETOPT(e, CURLOPT_PROXY, o->proxy);
	if (o->noproxy != NULL)
		SETOPT(e, CURLOPT_NOPROXY, o->noproxy);
	if (o->http_version != FETCH_HTTP_ANY)
		SETOPT(e, CURLOPT_HTTP_VERSION, http_value(o->http_version));
	if (o->bearer != NULL) {
		SETOPT(e, CURLOPT_XOAUTH2_BEARER, o->bearer);
		SETOPT(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
	}
	return CURLE_OK;
}

CURLcode
fetch_opts_apply(CURL *e, const struct fetch_config *cfg,
    const struct fetch_lists *l)
{
	/* Never another scheme, whatever a URL or a redirect names. */
	SETOPT(e, CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SETOPT(e, CURLOPT_TIMEOUT_MS, cfg->max_time_ms);
	SETOPT(e, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms);
	SETOPT(e, CURLOPT_USERAGENT, cfg->user_agent != NULL ?
	    cfg->user_agent : "fetch_urls/" FETCH_VERSION);
	SETOPT(e, CURLOPT_FOLLOWLOCATION, cfg->follow ? 1L : 0L);
	SETOPT(e, CURLOPT_MAXREDIRS, cfg->max_redirs);
	if (cfg->method != NULL)
		SETOPT(e, CURLOPT_CUSTOMREQUEST, cfg->method);
	if (cfg->head)
		SETOPT(e, CURLOPT_NOBODY, 1L);
	if (l->headers != NULL)
		SETOPT(e, CURLOPT_HTTPHEADER, l->headers);
	if (cfg->userpwd != NULL) {
		SETOPT(e, CURLOPT_USERPWD, cfg->userpwd);
		SETOPT(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	}
	if (cfg->insecure) {
		SETOPT(e, CURLOPT_SSL_VERIFYPEER, 0L);
		SETOPT(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return cfg->opts != NULL ? apply_opts(e, cfg->opts, l) : CURLE_OK;
}

CURLcode
fetch_opts_share(CURLSH *sh, const struct fetch_opts *o)
{
	CURLcode cc = CURLE_OK;
	size_t at;
	CURL *e;

	if (!keeps_cookies(o))
		return CURLE_OK;
	if (curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE) !=
	    CURLSHE_OK || (e = curl_easy_init()) == NULL)
		return CURLE_OUT_OF_MEMORY;
	/*
	 * COOKIELIST adds a line to the share's store as the file's reader
	 * would have: a header after "Set-Cookie:", else a Netscape line
	 * ("#HttpOnly_" too); comments and blank lines add nothing.
	 */
	if ((cc = curl_easy_setopt(e, CURLOPT_SHARE, sh)) == CURLE_OK)
		for (at = 0; at < o->cookie_len && cc == CURLE_OK;
		    at += strlen(o->cookie_lines + at) + 1)
			cc = curl_easy_setopt(e, CURLOPT_COOKIELIST,
			    o->cookie_lines + at);
	curl_easy_cleanup(e);
	return cc;
}

void
fetch_opts_save(CURLSH *sh, const struct fetch_opts *o)
{
	CURL *e;

	if (o->cookie_jar == NULL || (e = curl_easy_init()) == NULL)
		return;
	/* The handle writes the jar when it is freed. */
	if (curl_easy_setopt(e, CURLOPT_SHARE, sh) == CURLE_OK)
		(void)curl_easy_setopt(e, CURLOPT_COOKIEJAR, o->cookie_jar);
	curl_easy_cleanup(e);
}

/* Appends line's n bytes and a NUL to o's lines; -1 when out of memory. */
static int
add_cookie_line(struct fetch_opts *o, const char *line, size_t n)
{
	char *p;

	if ((p = realloc(o->cookie_lines, o->cookie_len + n + 1)) == NULL)
		return -1;
	memcpy(p + o->cookie_len, line, n);
	p[o->cookie_len + n] = '\0';
	o->cookie_lines = p;
	o->cookie_len += n + 1;
	return 0;
}

int
fetch_opts_read_cookies(struct fetch_opts *o, const char *path)
{
	char line[5000], *p;		/* libcurl's MAX_COOKIE_LINE. */
	bool partial = false;
	FILE *fp;
	size_t n;
	int e = 0;

	if ((fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r")) == NULL)
		return -1;
	/* A file without a line still turns the store on. */
	if (o->cookie_lines == NULL &&
	    (o->cookie_lines = malloc(1)) == NULL) {
		e = errno;
		goto done;
	}
	errno = 0;
	while (fgets(line, sizeof(line), fp) != NULL &&
	    (n = strlen(line)) > 0) {
		/* The rest of a line that does not fit is skipped too. */
		if (line[n - 1] != '\n' && (!feof(fp) ||
		    n + 1 >= sizeof(line))) {
			partial = true;
			continue;
		}
		if (partial) {
			partial = false;
			continue;
		}
		p = line;
		if (!curl_strnequal(p, "Set-Cookie:", 11)) {
			p += strspn(p, " \t");
			if (curl_strnequal(p, "Set-Cookie:", 11))
				continue;
		}
		if (add_cookie_line(o, p, strlen(p)) < 0) {
			e = errno;
			goto done;
		}
	}
	if (ferror(fp))
		e = errno != 0 ? errno : EIO;
done:
	if (fp != stdin)
		fclose(fp);
	errno = e;
	return e != 0 ? -1 : 0;
}

void
fetch_opts_free(struct fetch_opts *o)
{
	free(o->cookie);
	o->cookie = NULL;
	free(o->cookie_lines);
	o->cookie_lines = NULL;
	o->cookie_len = 0;
	free(o->resolve);
	o->resolve = NULL;
	free(o->connect_to);
	o->connect_to = NULL;
}
