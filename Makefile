# halo: one plain Makefile. Knobs: MODE (release|debug|asan), CXX, OPT, BUILDROOT.
#   make            release binaries into build/bin/
#   make test       install deps, build, run every test (unit, integration, fuzz corpus
#                   replay), then the short hostile-client soak
#   make asan       the whole suite under ASan+UBSan (objects in build/asan/)
#   make bench      Google Benchmark micro-benchmarks
#   make run        install deps, build, start a local 3-node cluster and the router
#   make format / format-check / fuzz / clean

MODE ?= release
JOBS ?= $(shell nproc)
MAKEFLAGS += -j$(JOBS)
BUILDROOT ?= build
B := $(BUILDROOT)/$(MODE)
ifeq ($(MODE),release)
BIN := $(BUILDROOT)/bin
else
BIN := $(B)/bin
endif

CXX ?= g++
ifeq ($(origin CXX),default)
CXX := g++
endif
WARN := -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers
OPT_release := -O2 -g
OPT_debug := -O0 -g
OPT_asan := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT ?= $(OPT_$(MODE))
CXXFLAGS := -std=c++20 $(WARN) $(OPT) -pthread -MMD -MP
CPPFLAGS := -I. -I/usr/include/postgresql
LDFLAGS := $(filter -fsanitize% -g,$(OPT)) -pthread
LIBS := -levent_pthreads -levent_openssl -levent -lhttp_parser -llmdb -lhiredis -lpq -lnghttp2 \
        -lssl -lcrypto -lcares

# Every .cc under these folders except the daemons' main.cc goes into one static library.
LIB_DIRS := common storage kv lock node router
LIB_SRCS := $(filter-out node/main.cc router/main.cc,$(shell find $(LIB_DIRS) -name '*.cc' 2>/dev/null))
TEST_SRCS := $(shell find test -name '*.cc' -not -path 'test/fuzz/*' 2>/dev/null)
FUZZ_TARGETS := $(basename $(notdir $(wildcard test/fuzz/*_fuzz.cc)))
BENCH_SRCS := $(wildcard bench/*.cc)

obj = $(patsubst %.cc,$(B)/obj/%.o,$(1))
LIB := $(B)/libhalo.a
NODE := $(BIN)/halo-node
ROUTER := $(BIN)/halo-router
TESTS := $(B)/halo-tests
BENCHBIN := $(B)/halo-bench
FUZZ_REPLAY := $(addprefix $(B)/fuzz/,$(FUZZ_TARGETS))

.PHONY: all deps test unit asan bench run format format-check fuzz clean
.DEFAULT_GOAL := all
.SECONDARY:

all: $(NODE) $(ROUTER)

deps:
	@scripts/deps

$(B)/obj/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@

$(LIB): $(call obj,$(LIB_SRCS))
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^

$(NODE): $(call obj,node/main.cc) $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LIBS)

$(ROUTER): $(call obj,router/main.cc) $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LIBS)

$(TESTS): $(call obj,$(TEST_SRCS)) $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LIBS)

# Each fuzz target links with a replay main that feeds it every corpus file; `make fuzz`
# builds the same targets with clang's libFuzzer for real fuzzing.
$(B)/fuzz/%: $(B)/obj/test/fuzz/%.o $(B)/obj/test/fuzz/replay_main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BENCHBIN): $(call obj,$(BENCH_SRCS)) $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LIBS) -lbenchmark

# The suite: file paths named in docs and comments exist (scripts/check-doc-paths, ~0.2 s),
# unit + integration tests (integration tests start the real daemons from $(BIN)), then
# every fuzz corpus replayed through its target; then the short hostile-client soak
# (scripts/soak-hostile --smoke: nothing crashes, leaks or is lost under attack).
test: deps
	@$(MAKE) --no-print-directory unit
	@scripts/soak-hostile --smoke

# $(BENCHBIN) is built (not run) so that the micro-benchmarks cannot rot unbuilt.
unit: $(NODE) $(ROUTER) $(TESTS) $(FUZZ_REPLAY) $(BENCHBIN)
	@scripts/check-doc-paths
	HALO_BIN_DIR=$(abspath $(BIN)) $(TESTS) $(TEST_ARGS)
	@for t in $(FUZZ_TARGETS); do $(B)/fuzz/$$t test/fuzz/corpus/$$t || exit 1; done

# A small quarantine: ASan otherwise holds up to 256 MiB of freed memory, which the RSS
# bounds of the hostile-client tests would measure instead of the daemons' own use.
asan: deps
	@ASAN_OPTIONS=$${ASAN_OPTIONS:+$$ASAN_OPTIONS:}quarantine_size_mb=4 \
	  $(MAKE) --no-print-directory MODE=asan unit

bench: deps $(BENCHBIN)
	$(BENCHBIN) $(BENCH_ARGS)

run: deps all
	@scripts/run-cluster

FUZZ_CXX ?= clang++
# UBSan findings abort (so libFuzzer reports them); clang-only warnings (RapidJSON's operator==
# under C++20) do not stop the fuzz build: the gcc builds enforce warnings.
FUZZ_OPT := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
            -fsanitize-ignorelist=test/fuzz/ubsan_ignorelist.txt -Wno-error \
            -Wno-ambiguous-reversed-operator
fuzz:
	@mkdir -p $(BUILDROOT)/fuzz
	@for t in $(FUZZ_TARGETS); do \
	  $(MAKE) --no-print-directory MODE=fuzz CXX=$(FUZZ_CXX) \
	    OPT="$(FUZZ_OPT)" $(BUILDROOT)/fuzz/obj/test/fuzz/$$t.o \
	    $(BUILDROOT)/fuzz/libhalo.a || exit 1; \
	  $(FUZZ_CXX) -fsanitize=fuzzer,address,undefined -pthread -o $(BUILDROOT)/fuzz/$$t-libfuzzer \
	    $(BUILDROOT)/fuzz/obj/test/fuzz/$$t.o $(BUILDROOT)/fuzz/libhalo.a $(LIBS) || exit 1; \
	  echo "run: $(BUILDROOT)/fuzz/$$t-libfuzzer test/fuzz/corpus/$$t -max_total_time=60"; \
	done

FORMAT_FILES = $(shell find $(LIB_DIRS) test bench -name '*.cc' -o -name '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "format-check: ok"

clean:
	rm -rf $(BUILDROOT)

-include $(shell find $(BUILDROOT)/$(MODE)/obj -name '*.d' 2>/dev/null)
