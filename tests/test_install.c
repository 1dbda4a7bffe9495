/* test_install.c: libchan installed, then used as a program outside would. */

/*
 * Each test runs "make install DESTDIR=<tmp>/root PREFIX=/usr/local" in
 * the source tree, with the build directory, CC, CFLAGS and LDFLAGS of
 * the build under test (make test passes them as TEST_SRCDIR, TEST_BUILD,
 * TEST_CC, TEST_CFLAGS and TEST_LDFLAGS, so that under make
 * check-sanitize the instrumented libraries are installed, and programs
 * built against them are instrumented too).  It then looks at what was
 * installed, or builds examples/pingpong.c, copied out of the tree, with
 * nothing but what pkg-config says about chan, and runs it.  One test
 * installs a second time, into another DESTDIR with every directory
 * variable changed.  Teardown removes the temporary directory.
 *
 * The functions chan.h declares are the yardstick: the shared library
 * must export exactly them, and each must have a manual page.
 */

#define _XOPEN_SOURCE 700

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "e2e.h"
#include "proc.h"
#include "suites.h"

/* A command still running after this many seconds is killed and fails. */
#define IN_LIMIT	60.0

/* libchan's version and soname, as the Makefile's CHAN_VERSION sets. */
#define IN_VERSION	"0.1.0"
#define IN_SONAME	"libchan.so.0"

#define IN_MAXFILES	256
#define IN_MAXFUNCS	64

/* What examples/pingpong.c prints, as test_examples.c checks too. */
#define IN_PINGPONG	"ping 0\npong 0\nping 1\npong 1\nping 2\npong 2\n" \
			"ping 3\npong 3\nping 4\npong 4\nfinal ball 5\n"

/* The directories of a make install: DESTDIR and the variables. */
struct in_dirs {
	const char	*destdir;
	const char	*prefix;
	const char	*bindir;
	const char	*libdir;
	const char	*includedir;
	const char	*mandir;
};

/* What the tests install to, but for the one that varies them. */
static struct in_dirs in_std = {
	.prefix = "/usr/local",
	.bindir = "/usr/local/bin",
	.libdir = "/usr/local/lib",
	.includedir = "/usr/local/include",
	.mandir = "/usr/local/share/man",
};

static const char *in_srcdir;		/* from TEST_SRCDIR */
static const char *in_build;		/* from TEST_BUILD */
static char in_tmp[PATH_MAX];		/* "" or the directory to remove */
static const char *in_root;		/* DESTDIR: in_tmp/root */
static const char *in_libdir;		/* in_root/usr/local/lib */

/* nftw() takes no argument for its callback: what in_walk() found. */
static char *in_found[IN_MAXFILES];	/* e2e_keep()'d */
static size_t in_nfound;
static size_t in_rootlen;

/* The functions chan.h declares, sorted; e2e_keep()'d. */
static char *in_funcs[IN_MAXFUNCS];
static size_t in_nfuncs;

static int
in_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The n strings of v, sorted, one a line. */
static const char *
in_lines(char **v, size_t n)
{
	size_t len = 1;
	char *s;

	qsort(v, n, sizeof(v[0]), in_cmp);
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	s = e2e_keep(malloc(len));
	s[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		strcat(s, v[i]);
		strcat(s, "\n");
	}
	return s;
}

/* Fails the test unless p, which what names, exited 0. */
static void
in_expect_ok(const struct proc *p, const char *what)
{
	ck_assert_msg(WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0,
	    "%s\nwait status 0x%x; stdout:\n%s\nstderr:\n%s", what,
	    p->status, proc_msg(&p->obuf), proc_msg(&p->ebuf));
}

/*
 * Runs make target in the source tree with the build under test's
 * variables and d's; fails the test unless it exits 0.
 */
static void
in_make(const char *target, const struct in_dirs *d)
{
	char *argv[] = { "make", "-C", (char *)in_srcdir,
	    e2e_fmt("BUILD=%s", in_build), e2e_fmt("CC=%s", getenv("CC")),
	    e2e_fmt("CFLAGS=%s", getenv("CFLAGS")),
	    e2e_fmt("LDFLAGS=%s", getenv("LDFLAGS")),
	    e2e_fmt("DESTDIR=%s", d->destdir),
	    e2e_fmt("PREFIX=%s", d->prefix), e2e_fmt("BINDIR=%s", d->bindir),
	    e2e_fmt("LIBDIR=%s", d->libdir),
	    e2e_fmt("INCLUDEDIR=%s", d->includedir),
	    e2e_fmt("MANDIR=%s", d->mandir), (char *)target, NULL };
	struct proc *p = e2e_exec(NULL, IN_LIMIT, argv, false);

	in_expect_ok(p, e2e_fmt("make %s", target));
	e2e_free(p);
}

/*
 * Runs script with sh -c, the environment set up holding CC, CFLAGS,
 * LDFLAGS and the pkg-config variables; fails the test unless it exits
 * 0.  Returns what it printed; teardown frees it.
 */
static struct proc *
in_sh(const char *script)
{
	char *argv[] = { "sh", "-c", (char *)script, NULL };
	struct proc *p = e2e_exec(NULL, IN_LIMIT, argv, false);

	in_expect_ok(p, script);
	return p;
}

/* Sets the environment variable name to value, or unsets it for NULL. */
static void
in_env(const char *name, const char *value)
{
	int r = value != NULL ? setenv(name, value, 1) : unsetenv(name);

	ck_assert_msg(r == 0, "%s: %s", name, strerror(errno));
}

/* Reads the functions that path, an installed chan.h, declares. */
static void
in_read_funcs(const char *path)
{
	regmatch_t m[2];
	regex_t re;
	char *line = NULL;
	size_t cap = 0;
	FILE *fp;

	/* Declarations start in column 0, comments do not. */
	ck_assert_msg(regcomp(&re, "^[A-Za-z][^(]*[ *](chan_[a-z_]+)\\(",
	    REG_EXTENDED) == 0, "regcomp");
	fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	while (getline(&line, &cap, fp) != -1) {
		if (regexec(&re, line, 2, m, 0) != 0)
			continue;
		ck_assert_msg(in_nfuncs < IN_MAXFUNCS, "too many functions");
		in_funcs[in_nfuncs++] = e2e_fmt("%.*s",
		    (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
	}
	free(line);
	fclose(fp);
	regfree(&re);
	/* A header the pattern no longer matches must not pass as empty. */
	ck_assert_msg(in_nfuncs >= 2, "%s: found %zu functions", path,
	    in_nfuncs);
	qsort(in_funcs, in_nfuncs, sizeof(in_funcs[0]), in_cmp);
}

/*
 * The checked fixture: reads the build under test from the environment,
 * makes the temporary directory, installs into it and reads the
 * installed chan.h.
 */
static void
in_setup(void)
{
	proc_std_fds();
	/* A child that stops reading must not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	in_srcdir = getenv("TEST_SRCDIR");
	in_build = getenv("TEST_BUILD");
	ck_assert_msg(in_srcdir != NULL && in_build != NULL,
	    "set TEST_SRCDIR and TEST_BUILD to the source tree and its "
	    "build directory, and TEST_CC, TEST_CFLAGS and TEST_LDFLAGS to "
	    "the build's (make test does)");
	in_env("CC", getenv("TEST_CC") != NULL ? getenv("TEST_CC") : "cc");
	in_env("CFLAGS", getenv("TEST_CFLAGS") != NULL ?
	    getenv("TEST_CFLAGS") : "");
	in_env("LDFLAGS", getenv("TEST_LDFLAGS") != NULL ?
	    getenv("TEST_LDFLAGS") : "");
	/*
	 * Run under make test, we inherit its MAKEFLAGS: the make we run
	 * gets what in_make() passes, and no jobserver it cannot reach.
	 */
	in_env("MAKEFLAGS", NULL);
	in_env("MFLAGS", NULL);
	in_env("MAKELEVEL", NULL);

	strcpy(in_tmp, "/tmp/chan-install.XXXXXX");
	ck_assert_msg(mkdtemp(in_tmp) != NULL, "mkdtemp: %s",
	    strerror(errno));
	in_root = e2e_fmt("%s/root", in_tmp);
	in_libdir = e2e_fmt("%s/usr/local/lib", in_root);
	in_std.destdir = in_root;
	in_make("install", &in_std);
	in_read_funcs(e2e_fmt("%s/usr/local/include/chan.h", in_root));

	/*
	 * pkg-config finds chan.pc in the DESTDIR only: PKG_CONFIG_LIBDIR
	 * replaces its default search path, so a chan.pc installed on this
	 * machine cannot answer instead.  The sysroot prefixes the paths.
	 */
	in_env("PKG_CONFIG_LIBDIR", e2e_fmt("%s/pkgconfig", in_libdir));
	in_env("PKG_CONFIG_PATH", NULL);
	in_env("PKG_CONFIG_SYSROOT_DIR", in_root);
	in_env("LD_LIBRARY_PATH", NULL);
	/* The scripts of in_sh() name the temporary directory $T. */
	in_env("T", in_tmp);
}

static int
in_remove(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)type;
	(void)f;
	return remove(path);
}

static void
in_teardown(void)
{
	if (in_tmp[0] != '\0') {
		(void)nftw(in_tmp, in_remove, 16, FTW_DEPTH | FTW_PHYS);
		in_tmp[0] = '\0';
	}
	e2e_teardown();
}

static int
in_note(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)f;
	if (type == FTW_D || type == FTW_DP)
		return 0;
	ck_assert_msg(in_nfound < IN_MAXFILES, "too many files");
	in_found[in_nfound++] = e2e_fmt("%s", path + in_rootlen + 1);
	return 0;
}

/* Every file and symbolic link under the DESTDIR root, one a line. */
static const char *
in_walk(const char *root)
{
	in_nfound = 0;
	in_rootlen = strlen(root);
	ck_assert_msg(nftw(root, in_note, 16, FTW_PHYS) == 0,
	    "nftw %s: %s", root, strerror(errno));
	return in_lines(in_found, in_nfound);
}

/*
 * What install puts in d's directories, with a page for chan(3) and for
 * every function; the paths are under the DESTDIR, as in_walk() gives.
 */
static const char *
in_expected(const struct in_dirs *d)
{
	char *want[IN_MAXFILES];
	size_t n = 0;

	want[n++] = e2e_fmt("%s/fetch_urls", d->bindir + 1);
	want[n++] = e2e_fmt("%s/chan.h", d->includedir + 1);
	want[n++] = e2e_fmt("%s/libchan.a", d->libdir + 1);
	want[n++] = e2e_fmt("%s/libchan.so", d->libdir + 1);
	want[n++] = e2e_fmt("%s/" IN_SONAME, d->libdir + 1);
	want[n++] = e2e_fmt("%s/libchan.so." IN_VERSION, d->libdir + 1);
	want[n++] = e2e_fmt("%s/pkgconfig/chan.pc", d->libdir + 1);
	want[n++] = e2e_fmt("%s/man1/fetch_urls.1", d->mandir + 1);
	want[n++] = e2e_fmt("%s/man3/chan.3", d->mandir + 1);
	for (size_t i = 0; i < in_nfuncs; i++)
		want[n++] = e2e_fmt("%s/man3/%s.3", d->mandir + 1,
		    in_funcs[i]);
	return in_lines(want, n);
}

static void
in_expect_eq(const char *what, const char *got, const char *want)
{
	ck_assert_msg(strcmp(got, want) == 0, "%s:\n%s\nwanted:\n%s", what,
	    got, want);
}

/* Copies examples/pingpong.c out of the tree, to $T/pingpong.c. */
static void
in_copy_example(void)
{
	e2e_free(in_sh("cp \"$TEST_SRCDIR/examples/pingpong.c\" \"$T\""));
}

/* Where the symbolic link name in the installed LIBDIR points. */
static const char *
in_link(const char *name)
{
	char buf[PATH_MAX];
	ssize_t len;

	len = readlink(e2e_fmt("%s/%s", in_libdir, name), buf,
	    sizeof(buf) - 1);
	ck_assert_msg(len > 0, "%s: %s", name, strerror(errno));
	buf[len] = '\0';
	return e2e_fmt("%s", buf);
}

/* Runs $T/pingpong and checks that it played as it always does. */
static void
in_expect_pingpong(void)
{
	struct proc *p = in_sh("\"$T/pingpong\"");

	in_expect_eq("pingpong's stdout", proc_str(&p->obuf), IN_PINGPONG);
	in_expect_eq("pingpong's stderr", proc_str(&p->ebuf), "");
	e2e_free(p);
}

START_TEST(install_puts_exactly_the_library_header_pc_and_pages)
{
	in_expect_eq("installed", in_walk(in_root), in_expected(&in_std));
}
END_TEST

START_TEST(install_and_uninstall_honour_the_directory_variables)
{
	const struct in_dirs d = {
		.destdir = e2e_fmt("%s/opt", in_tmp),
		.prefix = "/opt/chan",
		.bindir = "/opt/chan/sbin",
		.libdir = "/opt/chan/lib64",
		.includedir = "/opt/chan/include/chan",
		.mandir = "/opt/chan/man",
	};
	struct proc *p;

	in_make("install", &d);
	in_expect_eq("installed", in_walk(d.destdir), in_expected(&d));
	in_env("PKG_CONFIG_LIBDIR", e2e_fmt("%s/opt/chan/lib64/pkgconfig",
	    d.destdir));
	in_env("PKG_CONFIG_SYSROOT_DIR", d.destdir);
	p = in_sh("echo $(pkg-config --cflags --libs chan)");
	in_expect_eq("pkg-config --cflags --libs", proc_str(&p->obuf),
	    e2e_fmt("-I%s/opt/chan/include/chan -L%s/opt/chan/lib64 -lchan\n",
	    d.destdir, d.destdir));
	in_make("uninstall", &d);
	in_expect_eq("left after uninstall", in_walk(d.destdir), "");
}
END_TEST

START_TEST(pkg_config_gives_the_paths_under_the_sysroot)
{
	struct proc *p;

	p = in_sh("echo $(pkg-config --cflags --libs chan)");
	in_expect_eq("pkg-config --cflags --libs", proc_str(&p->obuf),
	    e2e_fmt("-I%s/usr/local/include -L%s -lchan\n", in_root,
	    in_libdir));
	/* A static link needs the threads library too. */
	p = in_sh("echo $(pkg-config --static --libs chan)");
	in_expect_eq("pkg-config --static --libs", proc_str(&p->obuf),
	    e2e_fmt("-L%s -lchan -pthread\n", in_libdir));
	p = in_sh("pkg-config --modversion chan");
	in_expect_eq("pkg-config --modversion", proc_str(&p->obuf),
	    IN_VERSION "\n");
}
END_TEST

START_TEST(shared_library_has_its_soname_and_exports_only_chan_h)
{
	char *got[IN_MAXFUNCS];
	const char *line;
	size_t n = 0;
	struct proc *p;

	/* libchan.so -> libchan.so.0 -> libchan.so.0.1.0, a file. */
	in_expect_eq("libchan.so links to", in_link("libchan.so"),
	    IN_SONAME);
	in_expect_eq(IN_SONAME " links to", in_link(IN_SONAME),
	    "libchan.so." IN_VERSION);

	p = in_sh("readelf -d \"$T/root/usr/local/lib/libchan.so."
	    IN_VERSION "\"");
	ck_assert_msg(strstr(proc_str(&p->obuf),
	    "Library soname: [" IN_SONAME "]\n") != NULL,
	    "no soname " IN_SONAME ":\n%s", proc_msg(&p->obuf));

	/* Lines of "address type name"; every one defined. */
	p = in_sh("nm -D --defined-only \"$T/root/usr/local/lib/libchan.so."
	    IN_VERSION "\"");
	for (size_t i = 0; i < p->nlines; i++) {
		line = strrchr(p->lines[i], ' ');
		ck_assert_msg(line != NULL && n < IN_MAXFUNCS,
		    "nm -D printed: %s", p->lines[i]);
		got[n++] = e2e_fmt("%s", line + 1);
	}
	in_expect_eq("nm -D --defined-only", in_lines(got, n),
	    in_lines(in_funcs, in_nfuncs));
}
END_TEST

START_TEST(every_function_has_a_page_that_names_it)
{
	const char *page, *name;
	struct proc *p;

	for (size_t i = 0; i < in_nfuncs; i++) {
		/* The page, or the page its link points to, lists it. */
		page = e2e_fmt("%s/usr/local/share/man/man3/%s.3", in_root,
		    in_funcs[i]);
		ck_assert_msg(access(page, R_OK) == 0, "%s: %s", page,
		    strerror(errno));
		in_env("PAGE", page);
		p = in_sh("sed -n '/^\\.Sh NAME/,/^\\.Sh/p' \"$PAGE\"");
		name = proc_str(&p->obuf);
		ck_assert_msg(strstr(name, e2e_fmt(".Nm %s\n",
		    in_funcs[i])) != NULL || strstr(name, e2e_fmt(".Nm %s ,\n",
		    in_funcs[i])) != NULL, "%s's NAME section does not list "
		    "%s:\n%s", page, in_funcs[i], proc_msg(&p->obuf));
		e2e_free(p);
	}
}
END_TEST

START_TEST(shared_build_from_pkg_config_runs_on_libchan_so_0)
{
	struct proc *p;

	in_copy_example();
	in_sh("cd \"$T\" && $CC $CFLAGS -o pingpong pingpong.c "
	    "$(pkg-config --cflags --libs chan) $LDFLAGS");
	p = in_sh("readelf -d \"$T/pingpong\"");
	ck_assert_msg(strstr(proc_str(&p->obuf),
	    "Shared library: [" IN_SONAME "]\n") != NULL,
	    "pingpong does not need " IN_SONAME ":\n%s",
	    proc_msg(&p->obuf));

	in_env("LD_LIBRARY_PATH", in_libdir);
	p = in_sh("ldd \"$T/pingpong\"");
	ck_assert_msg(strstr(proc_str(&p->obuf), e2e_fmt(IN_SONAME
	    " => %s/" IN_SONAME " ", in_libdir)) != NULL,
	    "pingpong does not load the installed " IN_SONAME ":\n%s",
	    proc_msg(&p->obuf));
	in_expect_pingpong();
}
END_TEST

START_TEST(static_build_from_pkg_config_runs_without_libchan_so)
{
	struct proc *p;

	/*
	 * With both libraries installed the linker takes the shared one
	 * for -lchan unless told otherwise: -Bstatic around what
	 * pkg-config --static gives, and the C library stays shared.
	 */
	in_copy_example();
	in_sh("cd \"$T\" && $CC $CFLAGS -o pingpong pingpong.c "
	    "$(pkg-config --cflags chan) "
	    "-Wl,-Bstatic $(pkg-config --static --libs chan) -Wl,-Bdynamic "
	    "$LDFLAGS");
	p = in_sh("readelf -d \"$T/pingpong\"");
	ck_assert_msg(strstr(proc_str(&p->obuf), "libchan") == NULL,
	    "pingpong needs a shared libchan:\n%s", proc_msg(&p->obuf));
	p = in_sh("nm \"$T/pingpong\"");
	ck_assert_msg(strstr(proc_str(&p->obuf), " T chan_send\n") != NULL,
	    "pingpong does not hold chan_send():\n%s", proc_msg(&p->obuf));
	in_expect_pingpong();
}
END_TEST

START_TEST(uninstall_removes_what_install_put_and_nothing_else)
{
	static const char *const others[] = {
		"usr/local/include/other.h",
		"usr/local/lib/libother.so.1",
		"usr/local/share/man/man3/other.3",
	};
	char *want[3];
	FILE *fp;

	/* Files of other packages in the same directories stay. */
	for (size_t i = 0; i < 3; i++) {
		want[i] = e2e_fmt("%s", others[i]);
		fp = fopen(e2e_fmt("%s/%s", in_root, others[i]), "w");
		ck_assert_msg(fp != NULL, "%s: %s", others[i],
		    strerror(errno));
		fclose(fp);
	}
	in_make("uninstall", &in_std);
	in_expect_eq("left after uninstall", in_walk(in_root),
	    in_lines(want, 3));
}
END_TEST

/* For main.c: the suite of this file. */
Suite *
install_suite(void)
{
	Suite *s = suite_create("install");
	TCase *tc = tcase_create("install");

	tcase_add_checked_fixture(tc, in_setup, in_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
	    install_puts_exactly_the_library_header_pc_and_pages);
	tcase_add_test(tc,
	    install_and_uninstall_honour_the_directory_variables);
	tcase_add_test(tc, pkg_config_gives_the_paths_under_the_sysroot);
	tcase_add_test(tc,
	    shared_library_has_its_soname_and_exports_only_chan_h);
	tcase_add_test(tc, every_function_has_a_page_that_names_it);
	tcase_add_test(tc, shared_build_from_pkg_config_runs_on_libchan_so_0);
	tcase_add_test(tc,
	    static_build_from_pkg_config_runs_without_libchan_so);
	tcase_add_test(tc,
	    uninstall_removes_what_install_put_and_nothing_else);
	suite_add_tcase(s, tc);
	return s;
}
