/* urls.c: the list of URLs to fetch, from arguments and files. */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "urls.h"

void
urls_init(struct urls *u)
{
	u->v = NULL;
	u->n = u->cap = 0;
	u->nul_lines = u->first_nul = 0;
}

int
urls_push(struct urls *u, char *url)
{
	char **v;
	size_t cap;

	if (u->n == u->cap) {
		cap = u->cap ? u->cap * 2 : 16;
		if ((v = realloc(u->v, cap * sizeof(*v))) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		u->v = v;
		u->cap = cap;
	}
	u->v[u->n++] = url;
	return 0;
}

int
urls_add(struct urls *u, const char *s, size_t len)
{
	char *copy;

	if ((copy = malloc(len + 1)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(copy, s, len);
	copy[len] = '\0';
	if (urls_push(u, copy) < 0) {
		free(copy);
		return -1;
	}
	return 0;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    c == '\v' || c == '\f';
}

void
urls_reader_init(struct urls_reader *r, FILE *fp)
{
	memset(r, 0, sizeof(*r));
	r->fp = fp;
}

int
urls_next(struct urls_reader *r, char **url)
{
	size_t start, end;
	ssize_t len;

	while ((len = getline(&r->line, &r->size, r->fp)) != -1) {
		end = (size_t)len;
		start = 0;
		/* A byte-order mark is no part of the first URL. */
		if (r->lineno++ == 0 && end >= 3 &&
		    memcmp(r->line, "\xef\xbb\xbf", 3) == 0)
			start = 3;
		for (; start < end && is_blank(r->line[start]); start++)
			;
		while (end > start && is_blank(r->line[end - 1]))
			end--;
		if (start == end || r->line[start] == '#')
			continue;
		if (memchr(r->line + start, '\0', end - start) != NULL) {
			if (r->nul_lines++ == 0)
				r->first_nul = r->lineno;
			continue;
		}
		if ((*url = malloc(end - start + 1)) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		memcpy(*url, r->line + start, end - start);
		(*url)[end - start] = '\0';
		return 1;
	}
	/*
	 * getline() that runs out of memory for a line sets no error flag
	 * on the stream: only the end of the file ends the URLs.
	 */
	if (ferror(r->fp) || !feof(r->fp)) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

void
urls_reader_free(struct urls_reader *r)
{
	free(r->line);
	r->line = NULL;
	r->size = 0;
}

int
urls_read(struct urls *u, FILE *fp)
{
	struct urls_reader r;
	char *url;
	int rc, err = 0;

	urls_reader_init(&r, fp);
	errno = 0;
	while ((rc = urls_next(&r, &url)) == 1) {
		if (urls_push(u, url) < 0) {
			free(url);
			rc = -1;
			break;
		}
	}
	if (rc < 0)
		err = errno;
	u->nul_lines += r.nul_lines;
	if (u->first_nul == 0)
		u->first_nul = r.first_nul;
	urls_reader_free(&r);
	if (rc < 0) {
		errno = err;
		return -1;
	}
	return 0;
}

void
urls_free(struct urls *u)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		free(u->v[i]);
	free(u->v);
	urls_init(u);
}
