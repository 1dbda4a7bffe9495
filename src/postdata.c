/* postdata.c: the request body -d, --data-binary and --data-raw build. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postdata.h"

/* A growing byte buffer; p is NULL or malloced. */
struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

/* Appends n bytes; -1 (ENOMEM) when out of memory. */
static int
buf_add(struct buf *b, const char *s, size_t n)
{
	size_t cap = b->cap == 0 ? 4096 : b->cap;
	char *p;

	if (n > (size_t)-1 / 2 - b->len) {
		errno = ENOMEM;
		return -1;
	}
	while (cap < b->len + n + 1)
		cap *= 2;
	if (cap != b->cap) {
		if ((p = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/*
 * Reads fp into b: as is, or (text) as curl 7.88's file2string() does,
 * which reads with a 256-byte fgets() buffer and keeps of each read the
 * bytes before the first CR, LF or NUL.  The same bytes as curl sends
 * are worth the quirk.  Returns 0, or -1 with errno set.
 */
static int
read_file(FILE *fp, bool text, struct buf *b)
{
	char chunk[65536];
	size_t n;

	if (text) {
		while (fgets(chunk, 256, fp) != NULL)
			if (buf_add(b, chunk, strcspn(chunk, "\r\n")) < 0)
				return -1;
	} else {
		while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
			if (buf_add(b, chunk, n) < 0)
				return -1;
	}
	if (ferror(fp)) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

/* Whether postdata_add() reads standard input for the piece arg. */
static bool
reads_stdin(enum postdata_kind kind, const char *arg)
{
	return kind != POSTDATA_RAW && strcmp(arg, "@-") == 0;
}

int
postdata_add(struct postdata *pd, enum postdata_kind kind, const char *arg)
{
	struct buf piece = { NULL, 0, 0 }, all;
	bool is_stdin = reads_stdin(kind, arg);
	FILE *fp;
	int e;

	/* Pieces are joined with '&'; an empty one still makes a body. */
	if (buf_add(&piece, "&", pd->buf != NULL ? 1 : 0) < 0)
		goto fail;
	if (kind != POSTDATA_RAW && arg[0] == '@') {
		if ((fp = is_stdin ? stdin : fopen(arg + 1, "rb")) == NULL)
			goto fail;
		errno = 0;
		e = read_file(fp, kind == POSTDATA_TEXT, &piece) < 0 ? errno :
		    0;
		if (!is_stdin)
			fclose(fp);
		if (e != 0) {
			errno = e;
			goto fail;
		}
	} else if (buf_add(&piece, arg, strlen(arg)) < 0)
		goto fail;
	/* One realloc, which leaves pd as it was if it fails. */
	all = (struct buf){ pd->buf, pd->len, pd->buf != NULL ? pd->len + 1 :
	    0 };
	if (buf_add(&all, piece.p, piece.len) < 0)
		goto fail;
	pd->buf = all.p;
	pd->len = all.len;
	free(piece.p);
	return 0;

fail:
	e = errno;
	free(piece.p);
	errno = e;
	return -1;
}

void
postdata_free(struct postdata *pd)
{
	free(pd->buf);
	pd->buf = NULL;
	pd->len = 0;
}
