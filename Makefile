# Makefile for libchan, the fetch_urls program, its examples, tests and benchmarks.

VERSION = 0.1.0

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

LIB = $(BUILD)/libchan.a
LIB_SRC = src/chan.c
PROG = $(BUILD)/fetch_urls
PROG_SRC = $(filter-out $(LIB_SRC),$(wildcard src/*.c))
EXAMPLES = $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
TESTS = $(BUILD)/run_tests
INTERLEAVE = $(BUILD)/chan_interleave
TEST_SRC = $(wildcard tests/*.c)
BENCH = $(BUILD)/chan_bench

OBJ = $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC) $(PROG_SRC) $(TEST_SRC)) \
      $(BUILD)/bench/chan_bench.o

.PHONY: all test check check-sanitize bench bench-chan bench-fetch demo install uninstall clean deps \
    fuzz fuzz-smoke check-valgrind check-stress

all: $(LIB) $(PROG) $(EXAMPLES)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CURL_CFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(BUILD)/src/chan.o
	$(AR) rcs $@ $^

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
    $(BUILD)/src/limit.o $(BUILD)/src/fetch.o $(BUILD)/src/fetch_opts.o \
    $(BUILD)/src/postdata.o \
    $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(CURL_LIBS) -lm

# White-box channel tests: they include src/chan.c to pause its lock-free
# paths where the public API cannot.
$(INTERLEAVE): tests/interleave/chan_interleave.c src/chan.c include/chan.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CHECK_CFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< \
	    $(CHECK_LIBS)

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CHECK_CFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BENCH): $(BUILD)/bench/chan_bench.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

# The same benchmark on a libchan with the diagnostics compiled out.
$(BENCH)_nodiag: bench/chan_bench.c src/chan.c include/chan.h
	$(CC) $(CPPFLAGS) -DCHAN_NO_DIAGNOSTICS $(ALL_CFLAGS) $(LDFLAGS) \
	    -o $@ bench/chan_bench.c src/chan.c

deps:
	@tests/deps.sh test

# Dependencies are installed before the sub-make, whose pkg-config calls
# need them.  The tests find the program under test and the examples
# through the environment, so the sanitizer builds test their own binaries.
test: deps
	$(MAKE) all $(TESTS) $(INTERLEAVE)
	$(INTERLEAVE)
	FETCH_URLS=$(abspath $(PROG)) EXAMPLES_DIR=$(abspath $(BUILD)/examples) \
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

# The channel stress suite under ThreadSanitizer, scaled to at least ten
# million channel operations (a send and a receive are two).  At
# CHAN_STRESS_SCALE 1, tests/test_chan_stress.c moves 820,000 messages
# through one channel each in its four many-to-many tests, at least 100,000
# in close_while_blocked (42 rounds, each past its close threshold), and
# 200,000 through two channels each in select_relays: 2.66 million
# operations.  The line printed at the end counts what the passing tests
# asserted arrived, with the same formulas; sends refused by a close and
# retried timeouts come on top.
STRESS_SCALE ?= 4
TSAN_BUILD = build/tsan
TSAN_FLAGS = CFLAGS='-O1 -g -fsanitize=thread' LDFLAGS='-fsanitize=thread'
check-stress: deps
	$(MAKE) BUILD=$(TSAN_BUILD) $(TSAN_FLAGS) $(TSAN_BUILD)/run_tests
	@start=$$(date +%s.%N); \
	CK_TIMEOUT_MULTIPLIER=20 CHAN_STRESS_SCALE=$(STRESS_SCALE) \
	    $(TSAN_BUILD)/run_tests chan_stress || exit 1; \
	end=$$(date +%s.%N); \
	awk -v s=$(STRESS_SCALE) -v t0=$$start -v t1=$$end ' \
	    function sc(n, min) { n = int(n * s); return n < min ? min : n } \
	    BEGIN { \
		m = int(sc(240000, 800) / 4) * 4 + \
		    int(sc(100000, 400) / 2) * 2 + \
		    int(sc(320000, 1600) / 8) * 8 + \
		    int(sc(160000, 1600) / 8) * 8; \
		c = 42 * sc(2500, 20) + 7 * 861; \
		r = int(sc(200000, 400) / 4) * 4; \
		ops = 2 * (m + c) + 4 * r; \
		printf "chan_stress under ThreadSanitizer: at least %d " \
		    "channel operations (CHAN_STRESS_SCALE=%s) in %.1f s\n", \
		    ops, s, t1 - t0; \
		if (ops < 10000000) { \
			print "check-stress: fewer than ten million; " \
			    "raise STRESS_SCALE"; \
			exit 1 \
		} \
	    }'

# memcheck over a mixed fetch_urls run; DRD over the channel benchmark and
# the threaded examples, in a build that tells DRD about libchan's atomics.
VALGRIND_BUILD = build/valgrind
check-valgrind: deps
	tests/deps.sh valgrind
	$(MAKE) BUILD=$(VALGRIND_BUILD) EXTRA_CPPFLAGS=-DCHAN_VALGRIND all \
	    $(VALGRIND_BUILD)/chan_bench
	tests/valgrind.sh $(VALGRIND_BUILD)

# libFuzzer targets for the URL-list reader and the option parser:
# fuzz-smoke runs each briefly (CI), fuzz runs each for FUZZ_TIME seconds.
FUZZ_CC ?= clang
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined
FUZZ_TIME ?= 600
FUZZERS = $(BUILD)/fuzz/fuzz_urls $(BUILD)/fuzz/fuzz_cli

$(BUILD)/fuzz/fuzz_urls: tests/fuzz/fuzz_urls.c src/urls.c src/urls.h
$(BUILD)/fuzz/fuzz_cli: tests/fuzz/fuzz_cli.c src/cli.c src/cli.h src/output.c \
    src/fetch_opts.c src/postdata.c
$(FUZZERS):
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(CURL_CFLAGS) $(FUZZ_FLAGS) -o $@ \
	    $(filter %.c,$^) $(CURL_LIBS) -lm

fuzz-smoke:
	@tests/deps.sh fuzz
	$(MAKE) $(FUZZERS)
	tests/fuzz/run.sh 20 $(FUZZERS)

fuzz:
	@tests/deps.sh fuzz
	$(MAKE) $(FUZZERS)
	tests/fuzz/run.sh $(FUZZ_TIME) $(FUZZERS)

bench: bench-chan bench-fetch

bench-chan: $(BENCH) $(BENCH)_nodiag
	@tests/deps.sh bench
	bench/chan_bench.sh $(BENCH)

bench-fetch: $(PROG)
	bench/fetch_bench.sh $(PROG)

demo:
	@tests/deps.sh demo
	$(MAKE) all
	tests/demo.sh $(PROG)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(PROG) $(DESTDIR)$(BINDIR)/fetch_urls
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/libchan.a
	install -m 644 include/chan.h $(DESTDIR)$(INCLUDEDIR)/chan.h
	install -m 644 doc/fetch_urls.1 $(DESTDIR)$(MANDIR)/man1/fetch_urls.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/fetch_urls $(DESTDIR)$(LIBDIR)/libchan.a \
	    $(DESTDIR)$(INCLUDEDIR)/chan.h $(DESTDIR)$(MANDIR)/man1/fetch_urls.1

clean:
	rm -rf build

-include $(OBJ:.o=.d)
