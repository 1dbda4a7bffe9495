/* shard.h: which URLs of the input one of N cooperating processes fetches. */
#ifndef SHARD_H
#define SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most shards an input can be split into. */
#define SHARD_MAX	1000000

enum shard_by {
	SHARD_LINE,	/* By position: urlnum mod N. */
	SHARD_HOST	/* By host: shard_hash() of the host mod N. */
};

/*
 * Shard k of n.  All zero (n == 0) means no sharding: every URL is this
 * process's.
 */
struct shard {
	size_t		k;
	size_t		n;
	enum shard_by	by;
};

/*
 * Parses "K/N" into sh->k and sh->n, leaving sh->by alone: two whole
 * numbers in decimal digits only (no sign, blank or other text) with
 * 1 <= N <= SHARD_MAX and K < N.  Returns NULL, or a reason naming what
 * is wrong, for the caller to print with the value; *sh is then unchanged.
 */
const char	*shard_parse(const char *s, struct shard *sh);

/*
 * Parses "line" or "host" into *by.  Returns 0, or -1 leaving *by
 * unchanged.
 */
int		 shard_parse_by(const char *s, enum shard_by *by);

/*
 * Finds the host name in the len bytes of url, read as fetch_urls reads a
 * URL: after "scheme:" and its slashes when the URL starts with a scheme
 * (a letter, then letters, digits, '+', '-' or '.', then ":/"), else from
 * the start; the authority ends at '/', '?' or '#', and the host follows
 * the user information's last '@'.  The host of an IPv6 literal is the
 * text between '[' and ']', a zone included; any other host ends at ':'.
 * Returns the host's offset in url and sets *hostlen, 0 for a URL
 * without a host.
 */
size_t		 shard_host(const char *url, size_t len, size_t *hostlen);

/*
 * The 64-bit FNV-1a hash of the len bytes at s, with the ASCII letters
 * taken in lower case: offset basis 14695981039346656037, prime
 * 1099511628211, as http://www.isthe.com/chongo/tech/comp/fnv/ defines
 * it.  It depends on nothing but the bytes, so every machine of a cluster
 * agrees on it.
 */
uint64_t	 shard_hash(const char *s, size_t len);

/*
 * Tells whether the URL number urlnum (its place in the whole input, from
 * 0, as the urlnum of a record), of text url (len bytes), is shard sh's:
 * by line, when urlnum mod N is K; by host, when the hash of its host
 * name mod N is K, so that every URL of one host goes to one shard.  A
 * URL without a host counts as host "".  Always true without sharding.
 */
bool		 shard_mine(const struct shard *sh, size_t urlnum,
		    const char *url, size_t len);

#endif /* SHARD_H */
