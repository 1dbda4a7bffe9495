/* fetch_opts.h: the transfer options of issue 16, free of libcurl's types. */
#ifndef FETCH_OPTS_H
#define FETCH_OPTS_H

#include <stdbool.h>
#include <stddef.h>

/* Which addresses a name may connect to: -4, -6 or either. */
enum fetch_ip { FETCH_IP_ANY, FETCH_IP_V4, FETCH_IP_V6 };

/* The HTTP version asked for: libcurl's choice, or one of curl's flags. */
enum fetch_http {
	FETCH_HTTP_ANY,
	FETCH_HTTP_1_1,			/* --http1.1 */
	FETCH_HTTP_2,			/* --http2: ALPN or an h2c Upgrade. */
	FETCH_HTTP_2_PRIOR		/* --http2-prior-knowledge */
};

/*
 * How a transfer reaches its server: whom to trust, who we are, which
 * address a name stands for; and what it sends.  fetch_opts.c hands these
 * to libcurl as they are, as curl's tool does its config
 * (config2setopts.c); like struct fetch_config, the struct holds no
 * libcurl type, so that only the fetch module includes libcurl.  Lists
 * are NULL-ended arrays of strings.  Whoever fills the struct owns it
 * (cli.c: strings in argv or the environment, arrays malloced) and frees
 * it with fetch_opts_free(); a run only reads it.
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
	const char	**resolve;	/* NULL or owned, strings borrowed:
					   "host:port:addr". */
	const char	**connect_to;	/* NULL or owned, strings borrowed:
					   "host:port:host:port". */
	enum fetch_ip	 ipresolve;
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
	enum fetch_http	 http_version;
	char		*cookie;	/* NULL or owned: "n=v; n2=v2", sent
					   with every request. */
	char		*cookie_lines;	/* NULL or owned: the lines of the
					   cookie files, read once by
					   fetch_opts_read_cookies(), each
					   ended by a NUL, cookie_len bytes
					   in all, that every run's store
					   starts with; not NULL once a
					   file is read, even an empty one. */
	size_t		 cookie_len;
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
 * Reads the cookie file path ("-": standard input) whole, now, and adds
 * its lines to o->cookie_lines, so that every run (the two of --compare
 * too) starts with the same cookies, whatever a jar or a reader of
 * standard input does to the file later.  It keeps the lines libcurl
 * 7.88 would read from the file (Curl_cookie_init(), Curl_get_line()):
 * a line of 5000 bytes or more, its newline included, is skipped; a NUL
 * at the start of a line ends the file; a line that does not start with
 * "Set-Cookie:" loses its leading blanks, and is skipped if it starts
 * with "Set-Cookie:" then, as libcurl cannot parse it.  Returns 0, or -1
 * with errno set (the file's error, or ENOMEM); the lines read before
 * an error stay in o.
 */
int		fetch_opts_read_cookies(struct fetch_opts *o,
		    const char *path);

/* Frees the arrays and strings o owns; idempotent. */
void		fetch_opts_free(struct fetch_opts *o);

#endif /* FETCH_OPTS_H */
