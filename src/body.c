/* body.c: response bodies saved to files (-o, -O, --output-dir). */

#define _GNU_SOURCE		/* renameat2(), O_TMPFILE */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "body.h"

/* The template variables; body_vars[] names them in this order. */
enum body_var { BV_URLNUM, BV_HOST, BV_PATH, BV_FILENAME };

static const char *const vars[] = {
	[BV_URLNUM] = "urlnum",
	[BV_HOST] = "host",
	[BV_PATH] = "path",
	[BV_FILENAME] = "filename",
};

#define NVARS	(sizeof(vars) / sizeof(vars[0]))

/*
 * The text of errno value e, in buf: workers call this module at once, and
 * strerror() may share one buffer among threads.
 */
static const char *
errtext(int e, char *buf, size_t len)
{
	return strerror_r(e, buf, len);
}

/* Makes temporary names unique within the process; the pid across. */
static atomic_ulong tmp_count;

/* The variable named by name[0..len), or -1. */
static int
var_lookup(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NVARS; i++)
		if (strlen(vars[i]) == len && strncmp(vars[i], name, len) == 0)
			return (int)i;
	return -1;
}

const char *
body_var_name(size_t i)
{
	return i < NVARS ? vars[i] : NULL;
}

/*
 * Writes the URL segment s[0..len) as one component of a name: bytes
 * that are control characters, '\\', or '/' (which a host may hold after
 * a hostile parse) become '_', and "." and ".." become "_", so that the
 * component names a file in the directory it is in and nothing else.
 */
static void
put_segment(FILE *fp, const char *s, size_t len)
{
	size_t i;
	unsigned char ch;

	if ((len == 1 && s[0] == '.') ||
	    (len == 2 && s[0] == '.' && s[1] == '.')) {
		putc('_', fp);
		return;
	}
	for (i = 0; i < len; i++) {
		ch = (unsigned char)s[i];
		putc(ch < 0x20 || ch == 0x7f || ch == '\\' || ch == '/' ?
		    '_' : ch, fp);
	}
}

/* Writes the path's non-empty segments, each made safe, joined by '/'. */
static void
put_path(FILE *fp, const char *path)
{
	const char *p = path, *end;
	bool first = true;

	while (*p != '\0') {
		if ((end = strchr(p, '/')) == NULL)
			end = p + strlen(p);
		if (end > p) {
			if (!first)
				putc('/', fp);
			put_segment(fp, p, (size_t)(end - p));
			first = false;
		}
		p = *end == '/' ? end + 1 : end;
	}
}

/*
 * Checks an expanded name: relative, and each component non-empty and
 * neither "." nor "..".  Returns NULL, or what is wrong.
 */
static const char *
bad_name(const char *name)
{
	const char *p = name, *end;
	size_t len;

	if (*name == '/')
		return "is an absolute path";
	for (;;) {
		if ((end = strchr(p, '/')) == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if (len == 0)
			return "has an empty component";
		if ((len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return "has a component '.' or '..'";
		if (*end == '\0')
			return NULL;
		p = end + 1;
	}
}

/*
 * Expands tmpl as body_name() describes.  Returns the name (malloced), or
 * NULL with a reason in err; *empty_file says whether %{filename} was
 * empty.
 */
static char *
expand(const char *tmpl, size_t urlnum, const char *host, const char *path,
    bool *empty_file, char *err, size_t errlen)
{
	const char *p, *end, *last;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	int v;

	*empty_file = false;
	if ((fp = open_memstream(&buf, &len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (p = tmpl; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == '%') {
			putc('%', fp);
			p++;
			continue;
		}
		if (p[0] != '%' || p[1] != '{' ||
		    (end = strchr(p + 2, '}')) == NULL ||
		    (v = var_lookup(p + 2, (size_t)(end - p - 2))) < 0) {
			putc(*p, fp);
			continue;
		}
		switch ((enum body_var)v) {
		case BV_URLNUM:
			fprintf(fp, "%zu", urlnum);
			break;
		case BV_HOST:
			put_segment(fp, host, strlen(host));
			break;
		case BV_PATH:
			put_path(fp, path);
			break;
		case BV_FILENAME:
			last = strrchr(path, '/');
			last = last != NULL ? last + 1 : path;
			*empty_file = *last == '\0';
			if (!*empty_file)
				put_segment(fp, last, strlen(last));
			break;
		}
		p = end;
	}
	if (fclose(fp) != 0 || buf == NULL) {
		free(buf);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return buf;
}

int
body_check(const char *tmpl, char *err, size_t errlen)
{
	const char *why;
	char *name;
	bool empty;

	/* What the template itself writes, with harmless variables. */
	if ((name = expand(tmpl, 0, "h", "/f", &empty, err, errlen)) == NULL)
		return -1;
	why = bad_name(name);
	free(name);
	if (why != NULL) {
		snprintf(err, errlen, "--output '%s' %s", tmpl, why);
		return -1;
	}
	return 0;
}

/*
 * name in c->dir, as records show it: "out/" as "out", so "out/name",
 * never "out//name".  Returns it malloced, or NULL when out of memory.
 */
static char *
join(const struct body_config *c, const char *name)
{
	char *path;

	if (asprintf(&path, "%s%s%s", c->dir != NULL ? c->dir : "",
	    c->dir != NULL && c->dir[strlen(c->dir) - 1] != '/' ? "/" : "",
	    name) < 0)
		return NULL;
	return path;
}

char *
body_fixed_path(const struct body_config *c)
{
	char *a, *b, *path = NULL, err[64];
	bool empty;

	/* Every variable differs between these two URLs. */
	a = expand(c->name, 0, "h", "/f", &empty, err, sizeof(err));
	b = expand(c->name, 1, "i", "/g", &empty, err, sizeof(err));
	if (a != NULL && b != NULL && strcmp(a, b) == 0)
		path = join(c, a);
	free(a);
	free(b);
	return path;
}

char *
body_name(const struct body_config *c, size_t urlnum, const char *host,
    const char *path, char *err, size_t errlen)
{
	const char *why;
	char *name;
	bool empty;

	if ((name = expand(c->name, urlnum, host, path, &empty, err,
	    errlen)) == NULL)
		return NULL;
	if (empty) {
		snprintf(err, errlen, "no file name in the URL's path "
		    "(%%{filename} is its last part)");
		free(name);
		return NULL;
	}
	if ((why = bad_name(name)) != NULL) {
		/* The name is the URL's; the URL is printed beside this. */
		snprintf(err, errlen, "the file name %s", why);
		free(name);
		return NULL;
	}
	return name;
}

void
body_init(struct body_file *f)
{
	memset(f, 0, sizeof(*f));
	f->dirfd = -1;
	f->fd = -1;
}

/* Creates the directory path and its parents, as mkdir -p; 0 or -1. */
static int
mkdirs(const char *path)
{
	char *copy, *p;
	int rc = 0;

	if ((copy = strdup(path)) == NULL)
		return -1;
	for (p = copy + 1; rc == 0 && (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(copy, 0777) < 0 && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	if (rc == 0 && mkdir(copy, 0777) < 0 && errno != EEXIST)
		rc = -1;
	free(copy);
	return rc;
}

/*
 * Opens the directory component inside dfd, never through a symbolic
 * link, creating it first if asked.  Returns its descriptor, or
 * -1 with errno set.
 */
static int
open_subdir(int dfd, const char *component, bool create)
{
	int fd;

	fd = openat(dfd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create &&
	    (mkdirat(dfd, component, 0777) == 0 || errno == EEXIST))
		fd = openat(dfd, component, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
	return fd;
}

/* Whether /proc/self/fd is there, for linking a file made O_TMPFILE. */
static bool
tmpfile_usable(void)
{
	/* 0: not yet known, 1: usable, -1: not. */
	static atomic_int usable;
	int u;

	if ((u = atomic_load_explicit(&usable, memory_order_relaxed)) == 0) {
		u = access("/proc/self/fd", X_OK) == 0 ? 1 : -1;
		atomic_store_explicit(&usable, u, memory_order_relaxed);
	}
	return u > 0;
}

int
body_open(struct body_file *f, const struct body_config *c,
    const char *name, char *err, size_t errlen)
{
	const char *dir = c->dir != NULL ? c->dir : ".";
	char *copy, *comp, *slash, ebuf[128];
	int dfd, next, e, tries;

	body_init(f);
	if ((copy = strdup(name)) == NULL)
		goto nomem;
	if (c->dir != NULL && c->create_dirs && mkdirs(c->dir) < 0)
		goto fail_dir;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto fail_dir;
	for (comp = copy; (slash = strchr(comp, '/')) != NULL;
	    comp = slash + 1) {
		*slash = '\0';
		next = open_subdir(dfd, comp, c->create_dirs);
		e = errno;
		close(dfd);
		if ((dfd = next) < 0) {
			*slash = '/';
			snprintf(err, errlen, "cannot open the directory of "
			    "%s: %s", name, errtext(e, ebuf, sizeof(ebuf)));
			errno = e;
			goto fail_copy;
		}
	}
	f->dirfd = dfd;
	if ((f->base = strdup(comp)) == NULL ||
	    (f->path = join(c, name)) == NULL)
		goto nomem_file;
	/*
	 * A file without a name, which body_commit() links to its name:
	 * one change to the directory a body, not a creation and a rename,
	 * each of which locks the directory against the other workers, and
	 * nothing left behind by a run that dies.  Some file systems lack
	 * O_TMPFILE; so does a system without /proc/self/fd, through which
	 * an unprivileged process links it.
	 */
	if (tmpfile_usable())
		f->fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC,
		    0666);
	for (tries = 0; f->fd < 0 && tries < 100; tries++) {
		free(f->tmp);
		if (asprintf(&f->tmp, ".fetch_urls.%ld.%lu.part",
		    (long)getpid(), atomic_fetch_add(&tmp_count, 1)) < 0) {
			f->tmp = NULL;
			goto nomem_file;
		}
		f->fd = openat(dfd, f->tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0666);
		if (f->fd < 0 && errno != EEXIST)
			break;
	}
	if (f->fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot create a file beside %s: %s",
		    f->path, errtext(e, ebuf, sizeof(ebuf)));
		body_abort(f);
		free(copy);
		errno = e;
		return -1;
	}
	free(copy);
	return 0;

nomem_file:
	body_abort(f);
nomem:
	free(copy);
	snprintf(err, errlen, "out of memory");
	errno = ENOMEM;
	return -1;
fail_dir:
	e = errno;
	snprintf(err, errlen, "cannot open the directory %s: %s", dir,
	    errtext(e, ebuf, sizeof(ebuf)));
	errno = e;
fail_copy:
	e = errno;
	free(copy);
	errno = e;
	return -1;
}

int
body_rewind(struct body_file *f)
{
	off_t at;

	/*
	 * A file still empty is left alone: ext4 flushes a file truncated
	 * to nothing when it is closed, which made saving 1,000 bodies
	 * take several times as long.
	 */
	if ((at = lseek(f->fd, 0, SEEK_CUR)) == 0)
		return 0;
	if (at < 0 || ftruncate(f->fd, 0) < 0 ||
	    lseek(f->fd, 0, SEEK_SET) < 0) {
		if (f->werr == 0)
			f->werr = errno;
		return -1;
	}
	return 0;
}

int
body_write(struct body_file *f, const void *p, size_t len)
{
	const char *s = p;
	ssize_t n;

	while (len > 0) {
		if ((n = write(f->fd, s, len)) < 0) {
			if (errno == EINTR)
				continue;
			if (f->werr == 0)
				f->werr = errno;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Links the temporary file to its name unless the name exists.  Some
 * file systems lack RENAME_NOREPLACE; a hard link never replaces either.
 */
static int
rename_noreplace(int dfd, const char *from, const char *to)
{
	if (renameat2(dfd, from, dfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (linkat(dfd, from, dfd, to, 0) < 0)
		return -1;
	(void)unlinkat(dfd, from, 0);
	return 0;
}

/*
 * Links the file open as fd, made O_TMPFILE, to name in dfd unless the
 * name exists, then closes it; on a failure of close() the name goes.
 */
static int
link_tmpfile(int fd, int dfd, const char *name)
{
	char proc[64];
	int e;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, dfd, name, AT_SYMLINK_FOLLOW) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (close(fd) < 0) {
		e = errno;
		(void)unlinkat(dfd, name, 0);
		errno = e;
		return -1;
	}
	return 0;
}

char *
body_commit(struct body_file *f, char *err, size_t errlen)
{
	char *path, ebuf[128];
	int e;

	/* close() reports what a network file system could not write. */
	if (f->tmp == NULL)
		e = link_tmpfile(f->fd, f->dirfd, f->base);
	else if ((e = close(f->fd)) == 0)
		e = rename_noreplace(f->dirfd, f->tmp, f->base);
	f->fd = -1;
	if (e < 0) {
		e = errno;
		if (e == EEXIST)
			snprintf(err, errlen, "%s exists already (another "
			    "URL's, or there before): not overwritten",
			    f->path);
		else
			snprintf(err, errlen, "cannot write %s: %s", f->path,
			    errtext(e, ebuf, sizeof(ebuf)));
		body_abort(f);
		errno = e;
		return NULL;
	}
	free(f->tmp);
	f->tmp = NULL;
	path = f->path;
	f->path = NULL;
	body_abort(f);
	return path;
}

void
body_abort(struct body_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmp != NULL && f->dirfd >= 0)
		(void)unlinkat(f->dirfd, f->tmp, 0);
	if (f->dirfd >= 0)
		close(f->dirfd);
	free(f->tmp);
	free(f->base);
	free(f->path);
	body_init(f);
}
