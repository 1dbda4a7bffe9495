/* fetch_impl.h: what fetch_opts.c gives fetch.c; the fetch module only. */
#ifndef FETCH_IMPL_H
#define FETCH_IMPL_H

#include <curl/curl.h>

#include "fetch.h"
#include "fetch_opts.h"

/*
 * The libcurl lists a run builds once from its configuration's arrays of
 * strings and sets on every handle, which only reads them.  A zero struct
 * holds none.
 */
struct fetch_lists {
	struct curl_slist	*headers;	/* NULL or owned: -H. */
	struct curl_slist	*resolve;	/* NULL or owned: --resolve. */
	struct curl_slist	*connect_to;	/* NULL or owned:
						   --connect-to. */
};

/*
 * Builds in l the lists of cfg (and cfg->opts, if not NULL).  Returns
 * CURLE_OK, or CURLE_OUT_OF_MEMORY; l then holds what was built, for
 * fetch_lists_free().
 */
CURLcode	fetch_lists_build(struct fetch_lists *l,
		    const struct fetch_config *cfg);

/* Frees what l holds; idempotent. */
void		fetch_lists_free(struct fetch_lists *l);

/*
 * Sets on e every option that cfg (and cfg->opts, if not NULL) asks for,
 * with the lists l built from it, and the policy every handle follows
 * (http and https only).  cfg, l and what they point to must outlive e's
 * transfers.  Returns CURLE_OK, or the first libcurl error: out of
 * memory, or an option this libcurl lacks.
 */
CURLcode	fetch_opts_apply(CURL *e, const struct fetch_config *cfg,
		    const struct fetch_lists *l);

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

#endif /* FETCH_IMPL_H */
