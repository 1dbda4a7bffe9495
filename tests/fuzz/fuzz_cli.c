/* fuzz_cli.c: libFuzzer target for the option parser. */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cli.h"

#define MAX_ARGS	64

/*
 * Splits the input at NUL bytes into an argument vector and parses it.
 * Whatever the words, the parser must return one of its four answers,
 * write a terminated message on error, leave URL pointers inside argv, and
 * hold no memory that cli_free() does not release.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[MAX_ARGS + 2], err[256];
	struct cli cli;
	enum cli_action a;
	size_t i, start;
	int argc = 1;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "fetch_urls";
	for (i = 0, start = 0; i <= size && argc <= MAX_ARGS; i++) {
		if (buf[i] == '\0') {
			argv[argc++] = buf + start;
			start = i + 1;
		}
	}
	argv[argc] = NULL;
	err[0] = 'x';
	a = cli_parse(argc, argv, &cli, err, sizeof(err));
	switch (a) {
	case CLI_ERROR:
		if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
			abort();
		break;
	case CLI_RUN:
		if (cli.nurls > (size_t)argc)
			abort();
		for (i = 0; i < cli.nurls; i++)
			if (cli.urls[i] == NULL)
				abort();
		cli_free(&cli);
		break;
	case CLI_HELP:
	case CLI_VERSION:
		break;
	default:
		abort();
	}
	free(buf);
	return 0;
}
