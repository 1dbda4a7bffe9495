/* hang_resolve.c: a getaddrinfo() that hangs for one host name, preloaded. */

/*
 * The end-to-end tests preload this library into fetch_urls (LD_PRELOAD)
 * to make the cancellation of a run hang as it does in the field: libcurl
 * 7.88's threaded resolver cannot be cancelled, and waits for
 * getaddrinfo() to return, which takes seconds when DNS times out.
 *
 * For the host name in HANG_RESOLVE_HOST, getaddrinfo() writes one byte to
 * the descriptor in HANG_RESOLVE_FD, a socket whose other end the test
 * holds, so that the test knows the resolution is under way; then it
 * reads that socket until the test closes its end (or ends), and fails
 * with EAI_AGAIN.  Every other name goes to the next getaddrinfo() in the
 * search order: the C library's, or a sanitizer's in front of it.
 */

#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int	getaddrinfo_fn(const char *, const char *,
		    const struct addrinfo *, struct addrinfo **);

int
getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	const char *host = getenv("HANG_RESOLVE_HOST");
	const char *fdstr = getenv("HANG_RESOLVE_FD");
	getaddrinfo_fn *next;
	ssize_t n;
	char c = 0;
	int fd;

	if (node != NULL && host != NULL && fdstr != NULL &&
	    strcmp(node, host) == 0) {
		fd = (int)strtol(fdstr, NULL, 10);
		if (write(fd, &c, 1) == 1)
			while ((n = read(fd, &c, 1)) > 0 ||
			    (n < 0 && errno == EINTR))
				continue;
		return EAI_AGAIN;
	}
	/* POSIX's way to take a function's address from dlsym(). */
	*(void **)&next = dlsym(RTLD_NEXT, "getaddrinfo");
	if (next == NULL)
		return EAI_SYSTEM;
	return next(node, service, hints, res);
}
