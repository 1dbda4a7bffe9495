/* Tests of bodies saved to files: body.h, and -o, -O end to end. */

#define _GNU_SOURCE	/* O_TMPFILE, renameat2(), le32toh(), nftw() */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <endian.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "../src/body.h"
#include "e2e.h"
#include "proc.h"
#include "suites.h"

/* The directory each test works in, made by setup, removed by teardown. */
static char tdir[64];

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void
dir_setup(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/test_body.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
}

static void
dir_teardown(void)
{
	(void)nftw(tdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
e2e_dir_setup(void)
{
	e2e_setup();
	dir_setup();
}

static void
e2e_dir_teardown(void)
{
	dir_teardown();
	e2e_teardown();
}

/* tdir/rel, until teardown. */
static char *
tpath(const char *rel)
{
	return e2e_fmt("%s/%s", tdir, rel);
}

/* The names in the directory path, sorted and joined by spaces. */
static char *
listing(const char *path)
{
	struct dirent **v;
	char *s = NULL;
	size_t len = 0;
	int i, n;
	FILE *fp;

	n = scandir(path, &v, NULL, alphasort);
	ck_assert_msg(n >= 0, "scandir %s: %s", path, strerror(errno));
	ck_assert_ptr_nonnull(fp = open_memstream(&s, &len));
	for (i = 0; i < n; i++) {
		if (strcmp(v[i]->d_name, ".") != 0 &&
		    strcmp(v[i]->d_name, "..") != 0)
			fprintf(fp, "%s%s", len > 0 || ftell(fp) > 0 ? " " :
			    "", v[i]->d_name);
		free(v[i]);
	}
	free(v);
	ck_assert_int_eq(fclose(fp), 0);
	return e2e_keep(s);
}

/* The whole file at path, with its length in *len, until teardown. */
static char *
slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = e2e_keep(malloc((size_t)st.st_size + 1));
	ck_assert(read(fd, buf, (size_t)st.st_size) == st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

/*
 * Fails unless path holds the fixture's /pattern body of n bytes, seed.
 * Keeps nothing until teardown, which holds a limited number of strings.
 */
static void
expect_pattern(const char *path, size_t n, unsigned seed)
{
	unsigned char *b;
	struct stat st;
	size_t i;
	int fd;

	fd = open(path, O_RDONLY);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_msg((size_t)st.st_size == n, "%s: %lld bytes, want %zu",
	    path, (long long)st.st_size, n);
	ck_assert_ptr_nonnull(b = malloc(n + 1));
	ck_assert(read(fd, b, n + 1) == (ssize_t)n);
	close(fd);
	/*
	 * A plain loop, one assertion after it: each passing ck_assert
	 * writes a mark to Check's pipe, a system call a byte, which made
	 * the 10,000 bodies' check take most of a minute.
	 */
	for (i = 0; i < n && b[i] == (unsigned char)(seed + 31 * i +
	    7 * (i >> 8)); i++)
		;
	ck_assert_msg(i == n, "%s: byte %zu is %u", path, i, b[i]);
	free(b);
}

/*
 * File systems without O_TMPFILE or without RENAME_NOREPLACE, for the
 * paths body.c takes there.  run_tests is linked with --wrap for openat
 * and renameat2 (Makefile), so body.o's calls come here; each refusal
 * is counted, so that a test also sees that it was asked.
 */
static bool refuse_tmpfile, refuse_noreplace;
static int tmpfile_refused, noreplace_refused;

int	__real_openat(int, const char *, int, ...);
int	__wrap_openat(int, const char *, int, ...);
int	__real_renameat2(int, const char *, int, const char *, unsigned);
int	__wrap_renameat2(int, const char *, int, const char *, unsigned);

int
__wrap_openat(int dfd, const char *path, int flags, ...)
{
	va_list ap;
	int mode = 0;

	if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
		va_start(ap, flags);
		mode = va_arg(ap, int);
		va_end(ap);
	}
	if (refuse_tmpfile && (flags & O_TMPFILE) == O_TMPFILE) {
		tmpfile_refused++;
		errno = EOPNOTSUPP;	/* As ext2, vfat or NFS answer. */
		return -1;
	}
	return __real_openat(dfd, path, flags, mode);
}

int
__wrap_renameat2(int from_dfd, const char *from, int to_dfd, const char *to,
    unsigned flags)
{
	if (refuse_noreplace && (flags & RENAME_NOREPLACE) != 0) {
		noreplace_refused++;
		errno = EINVAL;
		return -1;
	}
	return __real_renameat2(from_dfd, from, to_dfd, to, flags);
}

/*
 * Saves text as the body name under c: body_commit()'s path, or NULL with
 * errno and err set.
 */
static char *
save(const struct body_config *c, const char *name, const char *text,
    char *err, size_t errlen)
{
	struct body_file f;

	ck_assert_int_eq(body_open(&f, c, name, err, errlen), 0);
	ck_assert_int_eq(body_write(&f, text, strlen(text)), 0);
	return body_commit(&f, err, errlen);
}

/* Writes text to the new file path. */
static void
put_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "wx");

	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

/* body_name() for the template tmpl, or "NULL: reason". */
static char *
name_of(const char *tmpl, size_t urlnum, const char *host, const char *path)
{
	struct body_config c = { tmpl, NULL, false };
	char err[256], *n;

	if ((n = body_name(&c, urlnum, host, path, err, sizeof(err))) == NULL)
		return e2e_fmt("NULL: %s", err);
	return e2e_keep(n);
}

START_TEST(templates_expand_as_documented)
{
	ck_assert_str_eq(name_of("%{urlnum}.bin", 7, "h", "/a"), "7.bin");
	ck_assert_str_eq(name_of("%{host}/%{path}", 0, "example.test",
	    "/a//b/c.txt"), "example.test/a/b/c.txt");
	ck_assert_str_eq(name_of("%{filename}", 0, "h", "/a/b.txt"),
	    "b.txt");
	ck_assert_str_eq(name_of("x-%%{host}-%{nope}", 0, "h", "/a"),
	    "x-%{host}-%{nope}");
	ck_assert_str_eq(name_of("d/%{urlnum}-%{filename}", 12, "h",
	    "/q/%2e%2e%2fx"), "d/12-%2e%2e%2fx");
}
END_TEST

/* Whatever a URL holds, a name stays below the directory. */
START_TEST(hostile_parts_are_made_safe)
{
	ck_assert_str_eq(name_of("%{path}", 0, "h", "/../../etc/passwd"),
	    "_/_/etc/passwd");
	ck_assert_str_eq(name_of("%{path}", 0, "h", "/./a/."), "_/a/_");
	ck_assert_str_eq(name_of("%{filename}", 0, "h", "/x/.."), "_");
	ck_assert_str_eq(name_of("%{host}", 0, "../x", "/"), ".._x");
	ck_assert_str_eq(name_of("%{host}", 0, "..", "/"), "_");
	ck_assert_str_eq(name_of("%{filename}", 0, "h", "/a\x01\x1f\x7f\\b"),
	    "a____b");
	ck_assert_str_eq(name_of("%{filename}", 0, "h", "/dir/"),
	    "NULL: no file name in the URL's path (%{filename} is its last "
	    "part)");
	ck_assert_str_eq(name_of("%{path}", 0, "h", "/"),
	    "NULL: the file name has an empty component");
	ck_assert_str_eq(name_of("a/%{path}", 0, "h", "//"),
	    "NULL: the file name has an empty component");
}
END_TEST

START_TEST(templates_are_checked)
{
	static const struct {
		const char	*tmpl;
		const char	*err;	/* NULL: accepted. */
	} t[] = {
		{ "%{urlnum}", NULL },
		{ "d/%{host}/%{path}", NULL },
		{ "100%% %{filename}", NULL },
		{ "/etc/%{filename}", "--output '/etc/%{filename}' is an "
		    "absolute path" },
		{ "a/../%{filename}", "--output 'a/../%{filename}' has a "
		    "component '.' or '..'" },
		{ "./%{filename}", "--output './%{filename}' has a component "
		    "'.' or '..'" },
		{ "a//%{filename}", "--output 'a//%{filename}' has an empty "
		    "component" },
		{ "d/", "--output 'd/' has an empty component" },
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(body_check(t[i].tmpl, err, sizeof(err)) ==
		    (t[i].err != NULL ? -1 : 0), "%s: '%s'", t[i].tmpl, err);
		if (t[i].err != NULL)
			ck_assert_str_eq(err, t[i].err);
	}
}
END_TEST

/*
 * A template without variables names one file, known before any URL:
 * body_fixed_path() gives it, in the directory; any variable, none.
 */
START_TEST(fixed_names_are_known_at_once)
{
	static const struct {
		const char	*tmpl;
		const char	*dir;
		const char	*path;	/* NULL: none. */
	} t[] = {
		{ "out", NULL, "out" },
		{ "a/100%%", "d/", "d/a/100%" },
		{ "a/b", "d", "d/a/b" },
		{ "x%{urlnum}", NULL, NULL },
		{ "%{host}.html", "d", NULL },
		{ "p/%{path}", NULL, NULL },
		{ "%{filename}", "d", NULL },
	};
	struct body_config c = { NULL, NULL, false };
	size_t i;
	char *path;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		c.name = t[i].tmpl;
		c.dir = t[i].dir;
		path = body_fixed_path(&c);
		if (t[i].path == NULL)
			ck_assert_msg(path == NULL, "%s: '%s'", t[i].tmpl,
			    path);
		else
			ck_assert_str_eq(path, t[i].path);
		free(path);
	}
}
END_TEST

/*
 * The manual names exactly the template variables of body.c's table (as
 * ".It Ql %{name}"), as test_output.c checks the -w variables.
 */
START_TEST(manual_lists_every_template_variable)
{
	static const char *const formats[] = { ".It Ql %%{%39[a-z_]}", NULL };

	proc_expect_manual_names(formats, body_var_name, "template variable");
}
END_TEST

/*
 * A committed file is never replaced, and neither a commit that fails nor
 * an abort leaves its temporary file behind.
 */
START_TEST(commit_never_replaces)
{
	struct body_config c = { "%{filename}", tdir, false };
	struct body_file f;
	char err[256], *path;
	size_t len;

	ck_assert_int_eq(body_open(&f, &c, "x", err, sizeof(err)), 0);
	ck_assert_int_eq(body_write(&f, "one", 3), 0);
	/*
	 * Until it is complete, the body has no name (O_TMPFILE), or,
	 * where the file system lacks that, a temporary one only.
	 */
	ck_assert_msg(strcmp(listing(tdir), "") == 0 ||
	    (strncmp(listing(tdir), ".fetch_urls.", 12) == 0 &&
	    strchr(listing(tdir), ' ') == NULL), "%s", listing(tdir));
	path = body_commit(&f, err, sizeof(err));
	ck_assert_msg(path != NULL, "%s", err);
	ck_assert_str_eq(path, tpath("x"));
	free(path);

	errno = 0;
	ck_assert_ptr_null(save(&c, "x", "two", err, sizeof(err)));
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_str_eq(err, e2e_fmt("%s exists already (another URL's, "
	    "or there before): not overwritten", tpath("x")));
	ck_assert_str_eq(slurp(tpath("x"), &len), "one");

	ck_assert_int_eq(body_open(&f, &c, "y", err, sizeof(err)), 0);
	ck_assert_int_eq(body_write(&f, "three", 5), 0);
	body_abort(&f);
	ck_assert_str_eq(listing(tdir), "x");
}
END_TEST

/*
 * Where the file system lacks O_TMPFILE, a body is written under a hidden
 * temporary name beside its own and renamed when complete; where it also
 * lacks RENAME_NOREPLACE, hard-linked and unlinked.  Either way nothing
 * is replaced and nothing is left behind.
 */
START_TEST(without_o_tmpfile_a_hidden_file_is_renamed)
{
	struct body_config c = { "%{filename}", tdir, false };
	struct body_file f;
	char err[256], *path, *tmp, *prefix;
	size_t len;

	refuse_tmpfile = true;
	ck_assert_int_eq(body_open(&f, &c, "x", err, sizeof(err)), 0);
	ck_assert_int_eq(tmpfile_refused, 1);
	ck_assert_int_eq(body_write(&f, "one", 3), 0);
	tmp = listing(tdir);
	prefix = e2e_fmt(".fetch_urls.%ld.", (long)getpid());
	ck_assert_msg(strncmp(tmp, prefix, strlen(prefix)) == 0 &&
	    strchr(tmp, ' ') == NULL && strlen(tmp) > 5 &&
	    strcmp(tmp + strlen(tmp) - 5, ".part") == 0, "%s", tmp);
	path = body_commit(&f, err, sizeof(err));
	ck_assert_msg(path != NULL, "%s", err);
	ck_assert_str_eq(path, tpath("x"));
	free(path);
	ck_assert_str_eq(listing(tdir), "x");
	ck_assert_str_eq(slurp(tpath("x"), &len), "one");

	errno = 0;
	ck_assert_ptr_null(save(&c, "x", "two", err, sizeof(err)));
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_str_eq(listing(tdir), "x");
	ck_assert_str_eq(slurp(tpath("x"), &len), "one");

	refuse_noreplace = true;
	path = save(&c, "y", "three", err, sizeof(err));
	ck_assert_msg(path != NULL, "%s", err);
	free(path);
	ck_assert_int_eq(noreplace_refused, 1);
	ck_assert_str_eq(listing(tdir), "x y");
	ck_assert_str_eq(slurp(tpath("y"), &len), "three");

	errno = 0;
	ck_assert_ptr_null(save(&c, "y", "four", err, sizeof(err)));
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(noreplace_refused, 2);
	ck_assert_str_eq(listing(tdir), "x y");
	ck_assert_str_eq(slurp(tpath("y"), &len), "three");

	ck_assert_int_eq(body_open(&f, &c, "z", err, sizeof(err)), 0);
	ck_assert_int_eq(body_write(&f, "five", 4), 0);
	body_abort(&f);
	ck_assert_str_eq(listing(tdir), "x y");
	ck_assert_int_eq(tmpfile_refused, 5);
}
END_TEST

/* A symbolic link inside the directory is never followed. */
START_TEST(links_inside_are_not_followed)
{
	struct body_config c = { "%{path}", tdir, true };
	struct body_file f;
	char err[256];

	ck_assert_int_eq(mkdir(tpath("outside"), 0777), 0);
	ck_assert_int_eq(symlink(tpath("outside"), tpath("link")), 0);
	ck_assert_int_eq(body_open(&f, &c, "link/x", err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "cannot open the directory of link/x") !=
	    NULL, "%s", err);
	ck_assert_str_eq(listing(tpath("outside")), "");
	ck_assert_int_eq(body_open(&f, &c, "new/sub/x", err, sizeof(err)), 0);
	body_abort(&f);
	ck_assert_str_eq(listing(tpath("new/sub")), "");
}
END_TEST

/* Bodies land byte for byte, under the names -w and the records give. */
START_TEST(bodies_saved_byte_exact)
{
	char *dir = tpath("out");
	struct proc *p;

	p = e2e_raw(30, "-O", "--output-dir", dir, "--ordered", "-w",
	    "%{urlnum} %{http_code} %{filename_effective}\\n",
	    e2e_url("/pattern/a/empty?n=0"), e2e_url("/pattern/one?n=1&seed=9"),
	    e2e_url("/pattern/x/y/big.bin?n=3000000&seed=200"),
	    e2e_url("/status/404"), NULL);
	/* The directory must exist, unless --create-dirs. */
	e2e_expect_code(p, 2);
	ck_assert_msg(strstr(proc_str(&p->ebuf), "--output-dir") != NULL,
	    "%s", proc_str(&p->ebuf));
	p = e2e_raw(30, "-O", "--create-dirs", "--output-dir", dir,
	    "--ordered", "-w", "%{urlnum} %{http_code} %{filename_effective}\\n",
	    e2e_url("/pattern/a/empty?n=0"), e2e_url("/pattern/one?n=1&seed=9"),
	    e2e_url("/pattern/x/y/big.bin?n=3000000&seed=200"),
	    e2e_url("/status/404"), NULL);
	e2e_expect_code(p, 1);
	ck_assert_str_eq(proc_str(&p->obuf), e2e_fmt("0 200 %s/empty\n"
	    "1 200 %s/one\n2 200 %s/big.bin\n3 404 %s/404\n", dir, dir, dir,
	    dir));
	expect_pattern(e2e_fmt("%s/empty", dir), 0, 0);
	expect_pattern(e2e_fmt("%s/one", dir), 1, 9);
	expect_pattern(e2e_fmt("%s/big.bin", dir), 3000000, 200);
	/* As curl, an error status's body is kept too. */
	ck_assert_str_eq(listing(dir), "404 big.bin empty one");

	/* The records carry the path; null without a file. */
	p = e2e_run(NULL, 30, "--json", "-o", "%{urlnum}/%{host}/%{path}",
	    "--create-dirs", "--output-dir", dir, "--ordered",
	    e2e_url("/pattern/p/q?n=10&seed=1"), "http://127.0.0.1:1/", NULL);
	e2e_expect_code(p, 1);
	ck_assert_int_eq(p->nlines, 2);
	ck_assert_msg(strstr(p->lines[0], e2e_fmt("\"file\":\"%s/0/127.0.0.1/"
	    "pattern/p/q\"", dir)) != NULL, "%s", p->lines[0]);
	ck_assert_msg(strstr(p->lines[1], "\"file\":null") != NULL, "%s",
	    p->lines[1]);
	expect_pattern(e2e_fmt("%s/0/127.0.0.1/pattern/p/q", dir), 10, 1);
	ck_assert_str_eq(listing(dir), "0 404 big.bin empty one");
	p = e2e_run(NULL, 30, "--format", "csv", "-o", "c-%{urlnum}",
	    "--output-dir", e2e_fmt("%s/", dir), e2e_url("/pattern/c?n=5"),
	    NULL);
	e2e_expect_code(p, 0);
	ck_assert_int_eq(p->nlines, 2);
	ck_assert_msg(strstr(p->lines[0], ",connects,file,dns,") != NULL &&
	    strstr(p->lines[1], e2e_fmt(",\"%s/c-0\",", dir)) != NULL,
	    "%s", proc_str(&p->obuf));
}
END_TEST

/*
 * What -O saves is what curl 7.88's -O saves for the same URLs: the same
 * names (percent-encoding kept, the query dropped, an error status's
 * body too) and the same bytes.
 */
START_TEST(bodies_saved_as_curl_saves_them)
{
	char *mine = tpath("mine"), *theirs = tpath("curl"), *name, *save;
	char *urls[3], *cargs[10];
	const char *a, *b;
	size_t i, la, lb;
	struct proc *p;

	urls[0] = e2e_url("/pattern/plain?n=5000&seed=7");
	urls[1] = e2e_url("/pattern/with%%20space.bin?n=100&seed=2");
	urls[2] = e2e_url("/status/404");
	p = e2e_raw(30, "-q", "-O", "--create-dirs", "--output-dir", mine,
	    urls[0], urls[1], urls[2], NULL);
	e2e_expect_code(p, 1);
	i = 0;
	cargs[i++] = "curl";
	cargs[i++] = "-s";
	cargs[i++] = "--create-dirs";
	cargs[i++] = "--output-dir";
	cargs[i++] = theirs;
	cargs[i++] = "--remote-name-all";
	cargs[i++] = urls[0];
	cargs[i++] = urls[1];
	cargs[i++] = urls[2];
	cargs[i] = NULL;
	p = e2e_exec(NULL, 30, cargs, false);
	ck_assert_msg(p->status == 0, "curl failed:\n%s", proc_msg(&p->ebuf));
	a = listing(mine);
	ck_assert_str_eq(a, listing(theirs));
	ck_assert_str_eq(a, "404 plain with%20space.bin");
	save = e2e_keep(strdup(a));
	for (name = strtok(save, " "); name != NULL; name = strtok(NULL, " ")) {
		a = slurp(e2e_fmt("%s/%s", mine, name), &la);
		b = slurp(e2e_fmt("%s/%s", theirs, name), &lb);
		ck_assert_msg(la == lb && memcmp(a, b, la) == 0,
		    "%s: %zu bytes against curl's %zu, or other bytes", name,
		    la, lb);
	}
}
END_TEST

/*
 * Hostile URLs and redirects: names come from the URL as given, made
 * safe, and nothing is written outside the directory.
 */
START_TEST(hostile_names_stay_inside)
{
	char *dir = tpath("in");
	struct proc *p;

	ck_assert_int_eq(mkdir(dir, 0777), 0);
	ck_assert_int_eq(mkdir(tpath("outside"), 0777), 0);
	ck_assert_int_eq(symlink(tpath("outside"), tpath("in/link")), 0);
	p = e2e_raw(30, "-o", "%{path}", "--create-dirs", "--output-dir",
	    dir, "-L", "--ordered", "-w", "%{urlnum} %{filename_effective} "
	    "%{errormsg}\\n",
	    e2e_url("/pattern/%%2e%%2e/%%2e%%2e%%2fx?n=3"),
	    e2e_url("/pattern/a/../../../../../escape?n=4"),
	    e2e_url("/redirect-to?url=/pattern/../../../etc/passwd"),
	    e2e_url("/link/x"), e2e_url("/"), NULL);
	e2e_expect_code(p, 1);
	ck_assert_str_eq(proc_str(&p->obuf), e2e_fmt(
	    "0 %s/pattern/%%2e%%2e/%%2e%%2e%%2fx \n"
	    "1 %s/escape \n"
	    "2 %s/redirect-to \n"
	    "3  cannot open the directory of link/x: Not a directory\n"
	    "4  the file name has an empty component\n", dir, dir, dir));
	ck_assert_str_eq(listing(tdir), "in outside");
	ck_assert_str_eq(listing(tpath("outside")), "");
	ck_assert_str_eq(listing(dir), "escape link pattern redirect-to");
	expect_pattern(e2e_fmt("%s/pattern/%%2e%%2e/%%2e%%2e%%2fx", dir), 3,
	    0);

	/* -O wants a name in the path, as curl's. */
	p = e2e_raw(30, "-O", "--output-dir", dir, "-w", "%{errormsg}\\n",
	    e2e_url("/pattern/dir/"), NULL);
	e2e_expect_code(p, 1);
	ck_assert_str_eq(proc_str(&p->obuf), "no file name in the URL's "
	    "path (%{filename} is its last part)\n");
}
END_TEST

/* A second body for a name gets an error; the first file stays. */
START_TEST(collisions_are_errors)
{
	struct proc *p;
	size_t len;

	put_file(tpath("keep"), "mine");
	p = e2e_raw(30, "-O", "--output-dir", tdir, "-j", "1", "--ordered",
	    "-w", "%{urlnum} %{filename_effective}|%{errormsg}\\n",
	    e2e_url("/pattern/a/same?seed=1"), e2e_url("/pattern/b/same?seed=2"),
	    e2e_url("/pattern/keep?n=10"), NULL);
	e2e_expect_code(p, 1);
	ck_assert_str_eq(proc_str(&p->obuf), e2e_fmt("0 %s/same|\n"
	    "1 |%s/same exists already (another URL's, or there before): "
	    "not overwritten\n"
	    "2 |%s/keep exists already (another URL's, or there before): "
	    "not overwritten\n", tdir, tdir, tdir));
	expect_pattern(tpath("same"), 1000, 1);
	ck_assert_str_eq(slurp(tpath("keep"), &len), "mine");
	ck_assert_str_eq(listing(tdir), "keep same");
}
END_TEST

/* A transfer that fails or is cut short leaves no file, not even a part. */
START_TEST(failed_transfers_leave_nothing)
{
	struct proc *p;

	p = e2e_raw(30, "-O", "--output-dir", tdir, "-m", "1", "--retry",
	    "1", "-w", "%{filename_effective}|\\n",
	    e2e_url("/reset/100000"), e2e_url("/truncated"),
	    e2e_url("/drip/50?n=100"), "http://127.0.0.1:1/refused", NULL);
	e2e_expect_code(p, 1);
	ck_assert_str_eq(proc_str(&p->obuf), "|\n|\n|\n|\n");
	ck_assert_str_eq(listing(tdir), "");
	/* Nor does a run the deadline cuts short. */
	p = e2e_raw(30, "-O", "--output-dir", tdir, "--deadline", "0.5",
	    "-w", "%{filename_effective}|\\n", e2e_url("/drip/50?n=100"),
	    NULL);
	e2e_expect_code(p, 3);
	ck_assert_str_eq(listing(tdir), "");
}
END_TEST

/* A retry's body replaces what the try before it wrote. */
START_TEST(retries_start_the_file_again)
{
	struct proc *p;
	size_t len;

	p = e2e_raw(30, "-o", "f", "--output-dir", tdir, "--retry", "1", "-w",
	    "%{http_code} %{num_retries} %{filename_effective}\\n",
	    e2e_url("/flaky/1?key=%s&retry_after=0", e2e_key()), NULL);
	e2e_expect_code(p, 0);
	ck_assert_str_eq(proc_str(&p->obuf), e2e_fmt("200 1 %s\n",
	    tpath("f")));
	ck_assert_str_eq(slurp(tpath("f"), &len), "recovered\n");
	ck_assert_str_eq(listing(tdir), "f");
}
END_TEST

/*
 * The 10,000 bodies at -j 200, each file checked.  Under the
 * sanitizers, which look for races and leaks rather than at scale, 2,000.
 */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define MANY_BODIES	2000
#else
#define MANY_BODIES	10000
#endif

START_TEST(ten_thousand_bodies_at_j200)
{
	char *list = NULL, *dir = tpath("many"), *names, path[256];
	const char *base = e2e_url("/pattern/");
	size_t i, len = 0, n;
	struct proc *p;
	FILE *fp;
	enum { N = MANY_BODIES };

	ck_assert_ptr_nonnull(fp = open_memstream(&list, &len));
	for (i = 0; i < N; i++)
		fprintf(fp, "%sf%zu?n=%zu&seed=%zu\n", base, i,
		    (i * 37) % 4000, i % 256);
	ck_assert_int_eq(fclose(fp), 0);
	e2e_keep(list);
	p = e2e_run(NULL, 120, "-q", "-j", "200", "-O", "--create-dirs",
	    "--output-dir", dir, "-i", e2e_write_tmpfile(list), "-w",
	    "%{http_code}\\n", NULL);
	e2e_expect_code(p, 0);
	ck_assert_uint_eq(p->nlines, N);
	for (i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "%s/f%zu", dir, i);
		expect_pattern(path, (i * 37) % 4000, (unsigned)(i % 256));
	}
	/* Those files and nothing else: no temporary file is left. */
	names = listing(dir);
	for (n = 1; (names = strchr(names, ' ')) != NULL; names++)
		n++;
	ck_assert_uint_eq(n, N);
}
END_TEST

/*
 * The 1 GB body.  Under the sanitizers, which slow the copy
 * several times over and look for races and leaks rather than at scale,
 * 128 MiB: each 1 MiB the fetch writes goes through the same code.
 */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define BIG_BODY	(128LL << 20)
#define BIG_SANITIZED	1
#else
#define BIG_BODY	(1LL << 30)
#endif

/*
 * Fails unless fd, open on path, holds exactly the fixture's /numbers/n
 * body: the
 * 32-bit little-endian numbers 0, 1, 2, ... cut at n bytes.  Every four
 * bytes differ from all others, so a chunk lost, written twice, out of
 * order or at the wrong offset shows, which a size check alone misses.
 */
static void
expect_numbers(int fd, const char *path, long long n)
{
	enum { WORDS = 1 << 18 };	/* 1 MiB a read. */
	uint32_t *w, k = 0;
	long long at = 0;
	ssize_t got, i;

	ck_assert_ptr_nonnull(w = malloc(WORDS * 4));
	/* Reads of a regular file come whole but at its end. */
	while ((got = read(fd, w, WORDS * 4)) > 0) {
		ck_assert_msg(at + got <= n, "%s: over %lld bytes", path, n);
		ck_assert_msg(got == WORDS * 4 || at + got == n, "%s: short "
		    "read at %lld", path, at);
		/* A word at a time: under TSan each access is a call. */
		for (i = 0; i < got / 4 && le32toh(w[i]) == k; i++)
			k++;
		if (i < got / 4)
			ck_abort_msg("%s: bytes %lld to %lld hold %" PRIu32
			    ", want %" PRIu32, path, at + 4 * i,
			    at + 4 * i + 3, le32toh(w[i]), k);
		/* The last bytes of a cut word are those of its start. */
		if (got % 4 != 0) {
			uint32_t last = htole32(k);

			ck_assert_msg(memcmp(&w[i], &last, got % 4) == 0,
			    "%s: the last %zd bytes differ", path, got % 4);
		}
		at += got;
	}
	ck_assert_msg(got == 0, "read %s: %s", path, strerror(errno));
	free(w);
	ck_assert_msg(at == n, "%s: %lld bytes, want %lld", path, at, n);
}

/*
 * Saves, at -j 8, the fixture's /numbers body of size bytes into
 * tdir/sub/f0 and 200 small /pattern bodies into f1 to f200, checks
 * them all and their records, and returns the run.  The fixture holds
 * the big body at its half until it has answered all the others, so a
 * fetch that kept them waiting behind the big one fails.
 */
static struct proc *
big_body_run(const char *sub, long long size)
{
	enum { OTHERS = 200 };
	char *list = NULL, *key, *dir = tpath(sub), path[256];
	const char *base = e2e_url("/pattern/x");
	bool seen[OTHERS + 1] = { false };
	const char *line;
	unsigned long num;
	size_t i, len = 0;
	struct proc *p;
	int code, fd, open_err;
	FILE *fp;

	/* Counts of this run only: the fixture's gate looks at them. */
	key = e2e_fmt("%s-%s", e2e_key(), sub);
	ck_assert_ptr_nonnull(fp = open_memstream(&list, &len));
	fprintf(fp, "%s\n", e2e_url("/numbers/%lld?wait=%s&for=%d", size,
	    key, OTHERS));
	for (i = 1; i <= OTHERS; i++)
		fprintf(fp, "%s?n=%zu&seed=%zu&key=%s\n", base, i * 97,
		    i % 256, key);
	ck_assert_int_eq(fclose(fp), 0);
	e2e_keep(list);
	p = e2e_run(NULL, 150, "-q", "-j", "8", "-o", "f%{urlnum}",
	    "--create-dirs", "--output-dir", dir, "-i",
	    e2e_write_tmpfile(list), "-w", "%{urlnum} %{http_code}\\n", NULL);
	/*
	 * The big file loses its name before any check: a failed check ends
	 * the test's process without its teardown, and the gigabyte must
	 * not stay behind; it goes when the descriptor closes.
	 */
	snprintf(path, sizeof(path), "%s/f0", dir);
	fd = open(path, O_RDONLY);
	open_err = errno;
	if (fd >= 0)
		ck_assert_int_eq(unlink(path), 0);
	e2e_expect_code(p, 0);
	ck_assert_uint_eq(p->nlines, OTHERS + 1);
	for (line = proc_str(&p->obuf); *line != '\0';
	    line = strchr(line, '\n') + 1) {
		ck_assert_int_eq(sscanf(line, "%lu %d", &num, &code), 2);
		ck_assert_msg(num <= OTHERS && !seen[num] && code == 200,
		    "record: %.*s", (int)strcspn(line, "\n"), line);
		seen[num] = true;
	}
	for (i = 1; i <= OTHERS; i++) {
		snprintf(path, sizeof(path), "%s/f%zu", dir, i);
		expect_pattern(path, i * 97, (unsigned)(i % 256));
	}
	ck_assert_msg(fd >= 0, "open %s/f0: %s", dir, strerror(open_err));
	expect_numbers(fd, "f0", size);
	close(fd);
	ck_assert_msg(p->maxrss_kb > 0, "no ru_maxrss from wait4()");
	return p;
}

/*
 * The body goes to disk as it comes, while the other URLs go on: the
 * peak memory of the whole run stays that of a run of small bodies.
 */
START_TEST(big_body_in_flat_memory)
{
	struct proc *p;
#ifdef BIG_SANITIZED
	struct proc *base;
	long grew;

	/*
	 * The sanitizers' shadow memory and runtime put even a run of
	 * small bodies over 20 MB (about 30 MB under ASan, 40 MB under
	 * TSan), so here the bound is on the growth over a run whose big
	 * body is 4 bytes; it measured under 1 MB.
	 */
	base = big_body_run("base", 4);
	p = big_body_run("big", BIG_BODY);
	grew = p->maxrss_kb - base->maxrss_kb;
	ck_assert_msg(grew < 8 * 1024, "peak RSS grew by %ld KiB over a "
	    "4-byte body (%ld KiB)", grew, base->maxrss_kb);
#else
	p = big_body_run("big", BIG_BODY);
	/* The bound, 20 MB, in the KiB that ru_maxrss counts. */
	ck_assert_msg(p->maxrss_kb < 20 * 1000 * 1000 / 1024, "peak RSS "
	    "%ld KiB over 20 MB", p->maxrss_kb);
#endif
}
END_TEST

START_TEST(usage_errors)
{
	static const struct {
		const char	*args[5];	/* NULL-ended. */
		const char	*err;
	} t[] = {
		{ { "-O", "-o", "x", NULL }, "--remote-name cannot be combined" },
		{ { "--output-dir", "/tmp", NULL }, "--output-dir needs "
		    "--output" },
		{ { "--create-dirs", NULL }, "--create-dirs needs --output" },
		{ { "-I", "-O", NULL }, "--head cannot be combined with "
		    "--output" },
		{ { "-c", "-O", NULL }, "--compare cannot be combined with" },
		{ { "-o", "%{nope}", NULL }, "--output has an unknown variable "
		    "'%{nope}'" },
		{ { "-o", "a%{host", NULL }, "--output has '%{' without '}'" },
		{ { "-o", "\\%{x}", NULL }, "--output has an unknown "
		    "variable '%{x}'" },
		{ { "-o", "/abs", NULL }, "is an absolute path" },
		{ { "-O", "--output-dir", "/nonexistent/d", NULL },
		    "No such file" },
		{ { "-O", "--create-dirs", "--output-dir", "/dev/null", NULL },
		    "--output-dir '/dev/null': Not a directory" },
		{ { "-O", "--create-dirs", "--output-dir", "/dev/null/d",
		    NULL }, "'/dev/null' is not a directory" },
	};
	char *argv[8];
	struct proc *p;
	size_t i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (n = 0; t[i].args[n] != NULL; n++)
			argv[n] = (char *)t[i].args[n];
		argv[n] = "http://127.0.0.1:1/u";
		p = e2e_runv(NULL, 15, n + 1, argv);
		e2e_expect_code(p, 2);
		ck_assert_msg(strstr(proc_str(&p->ebuf), t[i].err) != NULL,
		    "case %zu: %s", i, proc_str(&p->ebuf));
	}
}
END_TEST

/*
 * A body file that is the records, -i's list or the cookie jar is a usage
 * error before any URL is fetched: the records or the jar, written when
 * the run ends, would replace the body, or the body the URLs.  The names
 * are spelled differently, and one has no variable but a "%%".
 */
START_TEST(output_is_not_records_input_or_jar)
{
	static const char *const opt[] = { "--records", "-i",
	    "--cookie-jar" };
	static const char *const what[] = { "the --records file",
	    "the input file", "the --cookie-jar file" };
	char *key = e2e_key(), *list;
	struct proc *p;
	size_t i, len;

	list = e2e_fmt("%s\n", e2e_url("/pattern/a?key=%s", key));
	put_file(tpath("in%"), list);
	for (i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
		p = e2e_raw(15, "--output-dir", e2e_fmt("%s/", tdir), "-o",
		    i == 1 ? "in%%" : "out", opt[i], i == 1 ? tpath("./in%") :
		    tpath("./out"), e2e_url("/pattern/b?key=%s", key), NULL);
		e2e_expect_code(p, 2);
		ck_assert_str_eq(proc_str(&p->ebuf), e2e_fmt("fetch_urls: "
		    "--output file '%s/%s' is %s (try 'fetch_urls "
		    "--help')\n", tdir, i == 1 ? "in%" : "out", what[i]));
	}
	ck_assert_str_eq(slurp(tpath("in%"), &len), list);
	ck_assert_str_eq(listing(tdir), "in%");
	ck_assert_int_eq(e2e_count(key, "").requests, 0);
}
END_TEST

/* For main.c: the suites of this file. */
Suite *
body_suite(void)
{
	Suite *s = suite_create("body");
	TCase *tc = tcase_create("names");
	TCase *files = tcase_create("files");

	tcase_add_test(tc, templates_expand_as_documented);
	tcase_add_test(tc, hostile_parts_are_made_safe);
	tcase_add_test(tc, templates_are_checked);
	tcase_add_test(tc, fixed_names_are_known_at_once);
	tcase_add_test(tc, manual_lists_every_template_variable);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(files, dir_setup, dir_teardown);
	tcase_add_test(files, commit_never_replaces);
	tcase_add_test(files, links_inside_are_not_followed);
	tcase_add_test(files, without_o_tmpfile_a_hidden_file_is_renamed);
	suite_add_tcase(s, files);
	return s;
}

Suite *
body_e2e_suite(void)
{
	Suite *s = suite_create("body_e2e");
	TCase *tc = tcase_create("body");

	tcase_add_checked_fixture(tc, e2e_dir_setup, e2e_dir_teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, bodies_saved_byte_exact);
	tcase_add_test(tc, bodies_saved_as_curl_saves_them);
	tcase_add_test(tc, hostile_names_stay_inside);
	tcase_add_test(tc, collisions_are_errors);
	tcase_add_test(tc, failed_transfers_leave_nothing);
	tcase_add_test(tc, retries_start_the_file_again);
	tcase_add_test(tc, ten_thousand_bodies_at_j200);
	tcase_add_test(tc, big_body_in_flat_memory);
	tcase_add_test(tc, usage_errors);
	tcase_add_test(tc, output_is_not_records_input_or_jar);
	suite_add_tcase(s, tc);
	return s;
}
