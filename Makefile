# Makefile for libchan, the fetch_urls program, its examples, tests and benchmarks.

VERSION = 0.1.0

# libchan's version, and its soname's major number, which changes only
# when a change breaks programs linked against an earlier libchan.so.
CHAN_VERSION = 0.1.0
CHAN_MAJOR = $(firstword $(subst ., ,$(CHAN_VERSION)))

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

CC ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
WARNFLAGS = -std=c11 -Wall -Wextra -Wpedantic
CPPFLAGS += -Iinclude -DFETCH_VERSION=\"$(VERSION)\" $(EXTRA_CPPFLAGS)
LDFLAGS ?=
BUILD ?= build

CURL_CFLAGS = $(shell $(PKG_CONFIG) --cflags libcurl)
CURL_LIBS = $(shell $(PKG_CONFIG) --libs libcurl)
JANSSON_CFLAGS = $(shell $(PKG_CONFIG) --cflags jansson)
JANSSON_LIBS = $(shell $(PKG_CONFIG) --libs jansson)
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check)

ALL_CFLAGS = $(WARNFLAGS) $(CFLAGS) -pthread -MMD -MP

# The library's sources: the static and the shared library, their
# objects, install and uninstall all follow from LIB_SRC.  The shared
# library's objects are position-independent and hide every symbol that
# chan.h does not mark CHAN_EXPORT.
LIB = $(BUILD)/libchan.a
LIB_SRC = src/chan.c src/chan_ring.c src/chan_park.c src/chan_debug.c
LIB_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC))
SONAME = libchan.so.$(CHAN_MAJOR)
SHLIB_NAME = libchan.so.$(CHAN_VERSION)
SHLIB = $(BUILD)/$(SHLIB_NAME)
PIC_OBJ = $(patsubst %.c,$(BUILD)/pic/%.o,$(LIB_SRC))
PIC_FLAGS = -fPIC -fvisibility=hidden
PROG = $(BUILD)/fetch_urls
PROG_SRC = $(filter-out $(LIB_SRC),$(wildcard src/*.c))
EXAMPLES = $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
TESTS = $(BUILD)/run_tests
INTERLEAVE = $(BUILD)/chan_interleave
TEST_SRC = $(wildcard tests/*.c)
BENCH = $(BUILD)/chan_bench
FLOOR = $(BUILD)/handoff_floor

OBJ = $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC) $(PROG_SRC) $(TEST_SRC)) \
      $(PIC_OBJ) $(BUILD)/bench/chan_bench.o $(BUILD)/bench/handoff_floor.o

# The manual: section 1 for the program, section 3 for libchan, whose
# pages each describe several functions.  MLINKS, as in OpenBSD's
# Makefiles, pairs a page with another name it is installed under.
MAN1 = doc/fetch_urls.1
MAN3 = doc/chan.3 doc/chan_close.3 doc/chan_debug.3 doc/chan_go.3 \
       doc/chan_new.3 doc/chan_select.3 doc/chan_send.3 doc/chan_stats.3
MLINKS = chan_close.3 chan_cap.3 chan_close.3 chan_closed.3 \
	 chan_close.3 chan_len.3 \
	 chan_debug.3 chan_debug_enabled.3 chan_debug.3 chan_debug_report.3 \
	 chan_new.3 chan_free.3 \
	 chan_send.3 chan_recv.3 chan_send.3 chan_recv_timeout.3 \
	 chan_send.3 chan_send_timeout.3 chan_send.3 chan_try_recv.3 \
	 chan_send.3 chan_try_send.3 \
	 chan_stats.3 chan_stats_print.3
MANDOC ?= mandoc

.PHONY: all test check check-sanitize check-1cpu bench bench-chan bench-fetch bench-stream bench-body demo install uninstall clean deps \
    fuzz fuzz-smoke check-valgrind check-stress test-cluster lint-man

all: $(LIB) $(SHLIB) $(PROG) $(EXAMPLES)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CURL_CFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(PIC_FLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	$(AR) rcs $@ $^

$(SHLIB): $(PIC_OBJ)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(SONAME) -o $@ $^

$(PROG): $(patsubst %.c,$(BUILD)/%.o,$(PROG_SRC)) $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(CURL_LIBS) -lm

$(BUILD)/examples/%: examples/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB)

# The health-check collector also speaks HTTP and reads JSON.
$(BUILD)/examples/healthzs: examples/healthzs.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS) $(ALL_CFLAGS) \
	    $(LDFLAGS) -o $@ $< $(LIB) $(CURL_LIBS) $(JANSSON_LIBS)

$(TESTS): $(patsubst %.c,$(BUILD)/%.o,$(TEST_SRC)) $(BUILD)/src/cli.o \
    $(BUILD)/src/urls.o $(BUILD)/src/output.o $(BUILD)/src/progress.o \
    $(BUILD)/src/limit.o $(BUILD)/src/fetch.o $(BUILD)/src/fetch_transfer.o \
    $(BUILD)/src/fetch_os.o $(BUILD)/src/fetch_opts.o \
    $(BUILD)/src/postdata.o $(BUILD)/src/fetch_transport.o \
    $(BUILD)/src/shard.o \
    $(BUILD)/src/hist.o $(BUILD)/src/stats.o $(BUILD)/src/body.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(TEST_WRAP) -o $@ $^ $(CHECK_LIBS) \
	    $(CURL_LIBS) -lm

# The tests preload it into fetch_urls to make a host name's resolution
# hang (tests/preload/hang_resolve.c).  It is built without CFLAGS and
# LDFLAGS: a sanitizer's runtime must be loaded before any instrumented
# code, and a preloaded library comes first.
HANG_RESOLVE = $(BUILD)/tests/hang_resolve.so
$(TESTS): | $(HANG_RESOLVE)

$(HANG_RESOLVE): tests/preload/hang_resolve.c
	@mkdir -p $(@D)
	$(CC) $(WARNFLAGS) -O2 -g -fPIC -shared -o $@ $< -ldl

# The test binary's own openat() and renameat2() stand in front of the
# C library's for body.o, to refuse what some file systems lack
# (tests/test_body.c), and its getline() for urls.o, to run out of memory
# (tests/test_urls.c).
TEST_WRAP = -Wl,--wrap=openat -Wl,--wrap=renameat2 -Wl,--wrap=getline

# White-box channel tests: they include libchan's sources to pause its
# lock-free paths where the public API cannot.
$(INTERLEAVE): tests/interleave/chan_interleave.c $(LIB_SRC) src/chan_impl.h \
    include/chan.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CHECK_CFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< \
	    $(CHECK_LIBS)

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CHECK_CFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BENCH): $(BUILD)/bench/chan_bench.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

$(FLOOR): $(BUILD)/bench/handoff_floor.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

# The same benchmark on a libchan with the diagnostics compiled out.
$(BENCH)_nodiag: bench/chan_bench.c $(LIB_SRC) src/chan_impl.h include/chan.h
	$(CC) $(CPPFLAGS) -DCHAN_NO_DIAGNOSTICS $(ALL_CFLAGS) $(LDFLAGS) \
	    -o $@ bench/chan_bench.c $(LIB_SRC)

deps:
	@tools/deps.sh test

# Dependencies are installed before the sub-make, whose pkg-config calls
# need them.  The tests find the program under test, the examples, and
# for the install suite the tree, the build directory and its compiler
# flags through the environment, so the sanitizer builds test their own
# binaries and install and link their own libraries.
test: deps
	$(MAKE) all $(TESTS) $(INTERLEAVE)
	$(MAKE) lint-man
	$(INTERLEAVE)
	FETCH_URLS=$(abspath $(PROG)) EXAMPLES_DIR=$(abspath $(BUILD)/examples) \
	    TEST_SRCDIR=$(CURDIR) TEST_BUILD=$(abspath $(BUILD)) \
	    TEST_CC='$(CC)' TEST_CFLAGS='$(CFLAGS)' TEST_LDFLAGS='$(LDFLAGS)' \
	    $(TESTS) $(TESTFLAGS)

check: test

# The whole suite under ThreadSanitizer, then AddressSanitizer with UBSan,
# with fetch_urls, libchan and the examples instrumented too.  Instrumented
# runs are slower, so Check's time limits are multiplied.  A report, or a
# leak at exit, makes the program exit 66 (TSan) or 86 (the others), which
# no program under test does by itself: the test that checks its exit
# status fails, even where fetch_urls exits 1 by design.
check-sanitize: deps
	CK_TIMEOUT_MULTIPLIER=10 $(MAKE) BUILD=build/tsan \
	    CFLAGS='-O1 -g -fsanitize=thread' LDFLAGS='-fsanitize=thread' test
	CK_TIMEOUT_MULTIPLIER=3 ASAN_OPTIONS=detect_leaks=1:exitcode=86 \
	    UBSAN_OPTIONS=print_stacktrace=1:exitcode=86 $(MAKE) BUILD=build/asan \
	    CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' \
	    LDFLAGS='-fsanitize=address,undefined' test

# libchan's suites with the process held to one processor, as in a
# container given one, where a parked thread yields at once instead of
# spinning (chan_park.c) and every hand-off is a switch of threads.
CHAN_SUITES = chan chan_close chan_null chan_timeout chan_select chan_order \
	chan_mem chan_go chan_stress
check-1cpu: deps
	$(MAKE) $(TESTS)
	cpu=$$(taskset -pc $$$$ | sed 's/.*: *//; s/[-,].*//') && \
	for s in $(CHAN_SUITES); do \
		taskset -c "$$cpu" $(TESTS) "$$s" || exit 1; \
	done

# The channel stress suite under ThreadSanitizer, scaled to at least ten
# million channel operations (a send and a receive are two).  At
# CHAN_STRESS_SCALE 1, tests/test_chan_stress.c moves 820,000 messages
# through one channel each in its four many-to-many tests, at least 100,000
# in close_while_blocked (42 rounds, each past its close threshold), and
# 200,000 through two channels each in select_relays: 2.66 million
# operations.  run_tests prints at the end what the passing tests asserted
# arrived, and fails when that is fewer than CHAN_STRESS_MIN_OPS; sends
# refused by a close and retried timeouts come on top.
STRESS_SCALE ?= 4
TSAN_BUILD = build/tsan
TSAN_FLAGS = CFLAGS='-O1 -g -fsanitize=thread' LDFLAGS='-fsanitize=thread'
check-stress: deps
	$(MAKE) BUILD=$(TSAN_BUILD) $(TSAN_FLAGS) $(TSAN_BUILD)/run_tests
	CK_TIMEOUT_MULTIPLIER=20 CHAN_STRESS_SCALE=$(STRESS_SCALE) \
	    CHAN_STRESS_MIN_OPS=10000000 $(TSAN_BUILD)/run_tests chan_stress

# fetch_urls --shard on a throwaway Slurm cluster and over GNU parallel
# and ssh, each with a node killed mid-run, inside namespaces of its own
# where only loopback exists; as root.  See tests/cluster.sh.
test-cluster:
	@tools/deps.sh build cluster
	$(MAKE) $(PROG)
	tests/cluster.sh $(PROG)

# memcheck over a mixed fetch_urls run; DRD over the channel benchmark and
# the threaded examples, in a build that tells DRD about libchan's atomics.
VALGRIND_BUILD = build/valgrind
check-valgrind: deps
	tools/deps.sh valgrind
	$(MAKE) BUILD=$(VALGRIND_BUILD) EXTRA_CPPFLAGS=-DCHAN_VALGRIND all \
	    $(VALGRIND_BUILD)/chan_bench
	tools/valgrind.sh $(VALGRIND_BUILD)

# libFuzzer targets for the URL-list reader and the option parser:
# fuzz-smoke runs each briefly (CI), fuzz runs each for FUZZ_TIME seconds.
FUZZ_CC ?= clang
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined
FUZZ_TIME ?= 600
FUZZERS = $(BUILD)/fuzz/fuzz_urls $(BUILD)/fuzz/fuzz_cli

$(BUILD)/fuzz/fuzz_urls: tests/fuzz/fuzz_urls.c src/urls.c src/urls.h \
    src/shard.c src/shard.h
$(BUILD)/fuzz/fuzz_cli: tests/fuzz/fuzz_cli.c src/cli.c src/cli.h \
    src/output.c src/shard.c src/shard.h src/fetch_opts.c src/postdata.c \
    src/body.c src/body.h
$(FUZZERS):
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(CURL_CFLAGS) $(FUZZ_FLAGS) -o $@ \
	    $(filter %.c,$^) $(CURL_LIBS) -lm

fuzz-smoke:
	@tools/deps.sh fuzz
	$(MAKE) $(FUZZERS)
	tests/fuzz/run.sh 20 $(FUZZERS)

fuzz:
	@tools/deps.sh fuzz
	$(MAKE) $(FUZZERS)
	tests/fuzz/run.sh $(FUZZ_TIME) $(FUZZERS)

bench: bench-chan bench-fetch bench-stream bench-body

bench-chan: $(BENCH) $(BENCH)_nodiag $(FLOOR)
	@tools/deps.sh bench
	bench/chan_bench.sh $(BENCH)

bench-fetch: $(PROG)
	bench/fetch_bench.sh $(PROG)

bench-stream: $(PROG)
	bench/stream_bench.sh $(PROG)

bench-body: $(PROG)
	bench/body_bench.sh $(PROG)

demo:
	@tools/deps.sh demo
	$(MAKE) all
	tools/demo.sh $(PROG)

# mandoc's lint, failing on warnings and errors.  Its check of .Xr
# references looks only at installed pages, so the references to libchan's
# own pages are checked here against MAN3 and MLINKS.
lint-man:
	$(MANDOC) -T lint -W warning $(MAN1) $(MAN3)
	@pages=" $(notdir $(MAN3:.3=)) $(MLINKS:.3=) "; \
	for x in $$(grep -oh 'Xr chan[a-z_]* 3' $(MAN1) $(MAN3) | \
	    cut -d' ' -f2 | sort -u); do \
		case $$pages in \
		*" $$x "*) ;; \
		*) echo "lint-man: no page $$x(3)" >&2; exit 1 ;; \
		esac; \
	done

# chan.pc is written at install time, so that it names the PREFIX, LIBDIR
# and INCLUDEDIR installed to, relative to ${prefix} where they lie in it.
PC_LIBDIR = $(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))
PC_INCLUDEDIR = $(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))
PC_FILE = $(DESTDIR)$(LIBDIR)/pkgconfig/chan.pc

install: all
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(LIBDIR)/pkgconfig" \
	    "$(DESTDIR)$(INCLUDEDIR)" "$(DESTDIR)$(MANDIR)/man1" \
	    "$(DESTDIR)$(MANDIR)/man3"
	install -m 755 $(PROG) "$(DESTDIR)$(BINDIR)/fetch_urls"
	install -m 644 $(LIB) "$(DESTDIR)$(LIBDIR)/libchan.a"
	install -m 755 $(SHLIB) "$(DESTDIR)$(LIBDIR)/$(SHLIB_NAME)"
	ln -sf $(SHLIB_NAME) "$(DESTDIR)$(LIBDIR)/$(SONAME)"
	ln -sf $(SONAME) "$(DESTDIR)$(LIBDIR)/libchan.so"
	install -m 644 include/chan.h "$(DESTDIR)$(INCLUDEDIR)/chan.h"
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(PC_LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(PC_INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(CHAN_VERSION)|' chan.pc.in > "$(PC_FILE)"
	chmod 644 "$(PC_FILE)"
	install -m 644 $(MAN1) "$(DESTDIR)$(MANDIR)/man1"
	install -m 644 $(MAN3) "$(DESTDIR)$(MANDIR)/man3"
	@set -- $(MLINKS); while [ $$# -gt 1 ]; do \
		echo ln -sf $$1 "$(DESTDIR)$(MANDIR)/man3/$$2"; \
		ln -sf $$1 "$(DESTDIR)$(MANDIR)/man3/$$2" || exit 1; \
		shift 2; \
	done

# Removes what install put, and nothing else: not even the directories,
# which other packages may share.
uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/fetch_urls" \
	    "$(DESTDIR)$(LIBDIR)/libchan.a" \
	    "$(DESTDIR)$(LIBDIR)/$(SHLIB_NAME)" \
	    "$(DESTDIR)$(LIBDIR)/$(SONAME)" "$(DESTDIR)$(LIBDIR)/libchan.so" \
	    "$(DESTDIR)$(INCLUDEDIR)/chan.h" "$(PC_FILE)"
	@for f in $(patsubst doc/%,man1/%,$(MAN1)) \
	    $(patsubst doc/%,man3/%,$(MAN3)); do \
		echo rm -f "$(DESTDIR)$(MANDIR)/$$f"; \
		rm -f "$(DESTDIR)$(MANDIR)/$$f" || exit 1; \
	done
	@set -- $(MLINKS); while [ $$# -gt 1 ]; do \
		echo rm -f "$(DESTDIR)$(MANDIR)/man3/$$2"; \
		rm -f "$(DESTDIR)$(MANDIR)/man3/$$2" || exit 1; \
		shift 2; \
	done

clean:
	rm -rf build

-include $(OBJ:.o=.d)
