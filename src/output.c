/* output.c: the lines fetch_urls prints. */

#include "output.h"

static void
put_escaped(FILE *fp, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\x%02x", *p);
		else
			putc(*p, fp);
	}
}

void
output_result(FILE *fp, const char *url, const struct fetch_result *res,
    const char *why)
{
	put_escaped(fp, url);
	switch (res->outcome) {
	case FETCH_OK:
		fprintf(fp, " \t %.2fs \t %ld\n", res->secs, res->status);
		return;
	case FETCH_ERROR:
		fputs(" request encountered error: ", fp);
		put_escaped(fp, res->error != NULL ? res->error :
		    "out of memory");
		break;
	case FETCH_CANCELLED:
		fprintf(fp, " request encountered error: cancelled (%s)", why);
		break;
	}
	putc('\n', fp);
}

void
output_total(FILE *fp, double secs)
{
	fprintf(fp, "Total time: %.2fs\n", secs);
}
