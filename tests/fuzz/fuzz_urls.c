/* fuzz_urls.c: libFuzzer target for the URL-list reader. */

#define _POSIX_C_SOURCE 200809L

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/urls.h"

/*
 * Reads the input as a URL file and checks what the reader promises: no
 * URL is empty, starts or ends with white space or starts with '#', and
 * none is longer than the input.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct urls u;
	FILE *fp;
	size_t i, len;

	if (size == 0)
		return 0;
	if ((fp = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	urls_init(&u);
	if (urls_read(&u, fp) == 0) {
		for (i = 0; i < u.n; i++) {
			len = strlen(u.v[i]);
			if (len > size)
				abort();
			/* A NUL byte inside a line ends the C string early. */
			if (len > 0 && (u.v[i][0] == ' ' || u.v[i][0] == '#' ||
			    u.v[i][len - 1] == '\n'))
				abort();
		}
	}
	urls_free(&u);
	fclose(fp);
	return 0;
}
