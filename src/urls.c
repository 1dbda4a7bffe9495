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
	u->num = NULL;
	u->n = u->cap = u->seen = 0;
	u->shard = NULL;
	u->nul_lines = u->first_nul = 0;
}

int
urls_add(struct urls *u, const char *s, size_t len)
{
	char **v, *copy;
	size_t cap, *num;

	if (u->shard != NULL && !shard_mine(u->shard, u->seen, s, len)) {
		u->seen++;
		return 0;
	}
	if (u->n == u->cap) {
		cap = u->cap ? u->cap * 2 : 16;
		if ((v = realloc(u->v, cap * sizeof(*v))) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		u->v = v;
		if ((num = realloc(u->num, cap * sizeof(*num))) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		u->num = num;
		u->cap = cap;
	}
	if ((copy = malloc(len + 1)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(copy, s, len);
	copy[len] = '\0';
	u->num[u->n] = u->seen++;
	u->v[u->n++] = copy;
	return 0;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    c == '\v' || c == '\f';
}

int
urls_read(struct urls *u, FILE *fp)
{
	char *line = NULL;
	size_t size = 0, start, end, lineno = 0;
	ssize_t len;
	int err = 0;

	while ((len = getline(&line, &size, fp)) != -1) {
		lineno++;
		end = (size_t)len;
		for (start = 0; start < end && is_blank(line[start]); start++)
			;
		while (end > start && is_blank(line[end - 1]))
			end--;
		if (start == end || line[start] == '#')
			continue;
		if (memchr(line + start, '\0', end - start) != NULL) {
			if (u->nul_lines++ == 0)
				u->first_nul = lineno;
			continue;
		}
		if (urls_add(u, line + start, end - start) < 0) {
			err = errno;
			break;
		}
	}
	if (err == 0 && ferror(fp))
		err = errno != 0 ? errno : EIO;
	free(line);
	if (err != 0) {
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
	free(u->num);
	urls_init(u);
}
