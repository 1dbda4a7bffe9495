/* fetch_opts.h: the libcurl options a run's configuration sets on a handle. */
#ifndef FETCH_OPTS_H
#define FETCH_OPTS_H

#include <stdbool.h>

#include <curl/curl.h>

struct fetch_config;

/*
 * How a transfer reaches its server: whom to trust, who we are, which
 * address a name stands for; and what it sends.  fetch.c hands these to libcurl as they are,
 * as curl's tool does its config (config2setopts.c).  Whoever fills the
 * struct owns it (cli.c: strings in argv or the environment, lists
 * malloced) and frees it with fetch_opts_free(); a run only reads it.
 */
struct fetch_opts {
	const char	*cafile;	/* NULL or borrowed: --cacert, or
					   CURL_CA_BUNDLE, SSL_CERT_FILE. */
	const char	*capath;	/* NULL or borrowed: --capath, or
					   SSL_CERT_DIR. */
	const char	*cert;		/* NULL or borrowed: client
					   certificate, PEM. */
	const char	*key;		/* NULL or borrowed: its private key,
					   PEM; NULL: in the cert file. */
	struct curl_slist *resolve;	/* NULL or owned: "host:port:addr". */
	struct curl_slist *connect_to;	/* NULL or owned:
					   "host:port:host:port". */
	long		 ipresolve;	/* CURL_IPRESOLVE_WHATEVER, _V4, _V6. */
	const char	*data;		/* NULL or borrowed: the body of
					   every request, datalen bytes; it
					   makes them POSTs unless a method
					   is given. */
	size_t		 datalen;
	const char	*bearer;	/* NULL or borrowed: an OAuth 2.0
					   bearer token, a secret. */
	const char	*proxy;		/* NULL (the environment's) or
					   borrowed: -x. */
	const char	*noproxy;	/* NULL (the environment's) or
					   borrowed: hosts reached directly. */
	long		 http_version;	/* CURL_HTTP_VERSION_NONE (libcurl's
					   choice), _1_1, _2_0 or
					   _2_PRIOR_KNOWLEDGE. */
	char		*cookie;	/* NULL or owned: "n=v; n2=v2", sent
					   with every request. */
	struct curl_slist *cookie_files; /* NULL or owned: cookie files
					   (Netscape or Set-Cookie lines) to
					   start the run's store with. */
	const char	*cookie_jar;	/* NULL or borrowed: where the store
					   is written when a run ends. */
	bool		 compressed;	/* Ask for every encoding libcurl
					   decodes, and decode. */
	long long	 max_filesize;	/* Bytes a body may announce; 0: any. */
};

/*
 * Fills in the CA certificates from the environment as curl's tool does
 * when neither --cacert nor --capath was given and peers are verified
 * (insecure is false): CURL_CA_BUNDLE names the file; without it,
 * SSL_CERT_DIR names the directory, or else SSL_CERT_FILE the file.  A
 * variable set to the empty string counts as unset.  The strings are
 * borrowed from the environment, which must not change while they are
 * used.  Call it before any thread starts.
 */
void		fetch_opts_env(struct fetch_opts *o, bool insecure);

/*
 * Sets on e every option that cfg (and cfg->opts, if not NULL) asks for,
 * and the policy every handle follows (http and https only).  cfg and
 * what it points to must outlive e's transfers.  Returns CURLE_OK, or
 * the first libcurl error: out of memory, or an option this libcurl
 * lacks.
 */
CURLcode	fetch_opts_apply(CURL *e, const struct fetch_config *cfg);

/*
 * Readies the share of a run's handles for o, before any handle uses it:
 * with cookie files or a jar, the handles share one cookie store (under
 * the share's lock), which starts with the cookies of the files.  Returns
 * CURLE_OK, or libcurl's error (out of memory).
 */
CURLcode	fetch_opts_share(CURLSH *sh, const struct fetch_opts *o);

/*
 * Writes the cookie store of the share sh to o's jar, if any, once no
 * handle uses the share.  libcurl writes a temporary file and renames it;
 * a failure is not reported (cli.c checks the jar's directory first).
 */
void		fetch_opts_save(CURLSH *sh, const struct fetch_opts *o);

/* Frees the lists and strings o owns; idempotent. */
void		fetch_opts_free(struct fetch_opts *o);

#endif /* FETCH_OPTS_H */
