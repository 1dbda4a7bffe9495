/* shard.c: which URLs of the input one of N cooperating processes fetches. */

#include <string.h>

#include "shard.h"

#define FNV64_BASIS	14695981039346656037ULL
#define FNV64_PRIME	1099511628211ULL

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Parses the decimal digits at s, up to SHARD_MAX, into *out and points
 * *end past them.  -1 without a digit or above SHARD_MAX.
 */
static int
parse_num(const char *s, const char **end, size_t *out)
{
	size_t v = 0;

	if (!is_digit(*s))
		return -1;
	for (; is_digit(*s); s++) {
		v = v * 10 + (size_t)(*s - '0');
		/* Checked at every digit, so that v cannot wrap around. */
		if (v > SHARD_MAX)
			return -1;
	}
	*end = s;
	*out = v;
	return 0;
}

const char *
shard_parse(const char *s, struct shard *sh)
{
	const char *p;
	size_t k, n;

	if (parse_num(s, &p, &k) < 0 || *p != '/' ||
	    parse_num(p + 1, &p, &n) < 0 || *p != '\0')
		return "K/N, two whole numbers up to 1000000";
	if (n == 0)
		return "N of at least 1";
	if (k >= n)
		return "K below N (shards count from 0)";
	sh->k = k;
	sh->n = n;
	return NULL;
}

int
shard_parse_by(const char *s, enum shard_by *by)
{
	if (strcmp(s, "line") == 0)
		*by = SHARD_LINE;
	else if (strcmp(s, "host") == 0)
		*by = SHARD_HOST;
	else
		return -1;
	return 0;
}

/* The length of the scheme url starts with, as curl's tool sees one, or 0. */
static size_t
scheme_len(const char *url, size_t len)
{
	size_t i;

	if (len == 0 || !is_alpha(url[0]))
		return 0;
	for (i = 1; i < len && (is_alpha(url[i]) || is_digit(url[i]) ||
	    url[i] == '+' || url[i] == '-' || url[i] == '.'); i++)
		;
	return i + 1 < len && url[i] == ':' && url[i + 1] == '/' ? i : 0;
}

size_t
shard_host(const char *url, size_t len, size_t *hostlen)
{
	size_t start = 0, end, i, host;

	if ((start = scheme_len(url, len)) > 0)
		for (start++; start < len && url[start] == '/'; start++)
			;
	for (end = start; end < len && url[end] != '/' && url[end] != '?' &&
	    url[end] != '#'; end++)
		;
	host = start;
	for (i = start; i < end; i++)
		if (url[i] == '@')
			host = i + 1;
	if (host < end && url[host] == '[') {
		for (i = host + 1; i < end && url[i] != ']'; i++)
			;
		*hostlen = i - host - 1;
		return host + 1;
	}
	for (i = host; i < end && url[i] != ':'; i++)
		;
	*hostlen = i - host;
	return host;
}

uint64_t
shard_hash(const char *s, size_t len)
{
	uint64_t h = FNV64_BASIS;
	unsigned char c;
	size_t i;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		h ^= c;
		h *= FNV64_PRIME;
	}
	return h;
}

bool
shard_mine(const struct shard *sh, size_t urlnum, const char *url,
    size_t len)
{
	size_t host, hostlen;

	if (sh->n == 0)
		return true;
	if (sh->by == SHARD_LINE)
		return urlnum % sh->n == sh->k;
	host = shard_host(url, len, &hostlen);
	return shard_hash(url + host, hostlen) % sh->n == sh->k;
}
