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
CPPFLAGS += -Iinclude -DFETCH_VERSION=\"$(VERSION)\"
LDFLAGS ?=
BUILD ?= build

CURL_CFLAGS = $(shell $(PKG_CONFIG) --cflags libcurl)
CURL_LIBS = $(shell $(PKG_CONFIG) --libs libcurl)
CRITERION_CFLAGS = $(shell $(PKG_CONFIG) --cflags criterion)
CRITERION_LIBS = $(shell $(PKG_CONFIG) --libs criterion)

ALL_CFLAGS = $(WARNFLAGS) $(CFLAGS) -pthread -MMD -MP

LIB = $(BUILD)/libchan.a
LIB_SRC = src/chan.c
PROG = $(BUILD)/fetch_urls
PROG_SRC = $(filter-out $(LIB_SRC),$(wildcard src/*.c))
EXAMPLES = $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
TESTS = $(BUILD)/run_tests
TEST_SRC = $(wildcard tests/*.c)
BENCH = $(BUILD)/chan_bench

OBJ = $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC) $(PROG_SRC) $(TEST_SRC)) \
      $(BUILD)/bench/chan_bench.o

.PHONY: all test check check-sanitize bench bench-chan demo install uninstall clean deps

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

$(TESTS): $(patsubst %.c,$(BUILD)/%.o,$(TEST_SRC)) $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(CRITERION_LIBS)

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CRITERION_CFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BENCH): $(BUILD)/bench/chan_bench.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

deps:
	@tests/deps.sh test

# The tests find the program under test and the fixture through the
# environment, so the sanitizer builds test their own instrumented binaries.
test: deps all $(TESTS)
	FETCH_URLS=$(abspath $(PROG)) EXAMPLES_DIR=$(abspath $(BUILD)/examples) \
	    $(TESTS) $(TESTFLAGS)

check: test

check-sanitize: deps
	$(MAKE) BUILD=build/tsan CFLAGS='-O1 -g -fsanitize=thread' \
	    LDFLAGS='-fsanitize=thread' test
	$(MAKE) BUILD=build/asan \
	    CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' \
	    LDFLAGS='-fsanitize=address,undefined' test

bench: bench-chan

bench-chan: $(BENCH)
	@tests/deps.sh bench
	bench/chan_bench.sh $(BENCH)

demo: all
	@tests/deps.sh demo
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
