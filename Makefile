# Makefile - the commands a newcomer runs. CMake builds; this file only names
# the build directories and the order of things.
#
#   make run            install what is missing, build (Release), start dtx-engine on its default
#   make replay         build (Release), replay the sample session through the engine
#   make test           Release + ctest, Asan + ctest, fuzz targets for a short while (CI)
#   make fuzz-long      each fuzz target for 30 minutes
#   make bench          Release build, then every benchmark (BENCH_FLAGS=--record to keep results)
#   make difftest-long  the long differential test: engine vs reference book, 50M commands
#   make clean          remove build/
#
# At most JOBS (2) compile jobs and ctest jobs: the build machines have 2 cores.

JOBS ?= 2
BUILD ?= build

FUZZ_TARGETS := fuzz_engine fuzz_cmdfile fuzz_session fuzz_risk fuzz_fix44
# short runs in `make test`: seconds, and a bound on the number of inputs
FUZZ_TIME_fuzz_engine := 60
FUZZ_TIME_fuzz_cmdfile := 30
FUZZ_TIME_fuzz_session := 30
FUZZ_TIME_fuzz_risk := 30
FUZZ_TIME_fuzz_fix44 := 20
FUZZ_RUNS := 20000000
FUZZ_LONG_TIME := 1800
FUZZ_FLAGS = -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
# largest input: the engine's generator uses ~9 bytes a command; the parser's
# inputs must hold lines over its 4 KiB limit and the sample session
FUZZ_MAX_LEN_fuzz_engine := 4096
FUZZ_MAX_LEN_fuzz_cmdfile := 16384
# the session target's input is a script of reads, ticks and events (tests/fuzz/fuzz_session.c)
FUZZ_MAX_LEN_fuzz_session := 8192
# the risk target's generator uses ~6 bytes a command (tests/fuzz/fuzz_risk.c)
FUZZ_MAX_LEN_fuzz_risk := 4096
# the FIX 4.4 target's input is a script of reads, messages, ticks and events (tests/fuzz/fuzz_fix44.c)
FUZZ_MAX_LEN_fuzz_fix44 := 4096

SHELL := /bin/bash

# Ninja on first configure; an existing build directory keeps its generator.
generator = $(if $(wildcard $(1)/CMakeCache.txt),,-G Ninja)

export UBSAN_OPTIONS ?= print_stacktrace=1

.PHONY: all help deps release asan fuzz-build run replay test test-release test-asan \
        test-replay test-fuzz fuzz-long bench difftest-long clean

all: release

help:
	@sed -n '3,11p' Makefile | sed 's/^# *//'

deps:
	deploy/install-deps.sh

# ---- builds -------------------------------------------------------------------

release: deps
	cmake -S . -B $(BUILD)/release $(call generator,$(BUILD)/release) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD)/release -j $(JOBS)

asan: deps
	cmake -S . -B $(BUILD)/asan $(call generator,$(BUILD)/asan) -DCMAKE_BUILD_TYPE=Asan
	cmake --build $(BUILD)/asan -j $(JOBS)

# The library instrumented for coverage plus ASan/UBSan; only the fuzz targets.
fuzz-build: deps
	CC=clang cmake -S . -B $(BUILD)/fuzz $(call generator,$(BUILD)/fuzz) \
	    -DCMAKE_C_COMPILER=clang -DDTX_FUZZ=ON -DDTX_TESTS=OFF
	cmake --build $(BUILD)/fuzz -j $(JOBS) --target $(FUZZ_TARGETS)

# ---- run ----------------------------------------------------------------------

# The daemon on its embedded default (loopback); Ctrl-C stops it. Its demo
# keys file, ./dtx-demo-keys.txt, is written where it is started.
run: release
	./$(BUILD)/release/dtx-engine

replay: release
	./$(BUILD)/release/dtx-replay --echo deploy/sample-orders.txt

# ---- test (CI: .ci/run) ---------------------------------------------------------

# Reached only when every step passed (make stops at the first failure): the
# closing line counts the ctest suites of both builds, the replay check and
# the fuzz targets.
test: test-release test-asan test-replay test-fuzz
	@r=$$(ctest --test-dir $(BUILD)/release -N | sed -n 's/^Total Tests: //p'); \
	a=$$(ctest --test-dir $(BUILD)/asan -N | sed -n 's/^Total Tests: //p'); \
	f=$(words $(FUZZ_TARGETS)); \
	echo "make test: release $$r suites, asan $$a suites, sample replay, $$f fuzz targets"; \
	echo "test: $$((r + a + 1 + f)) passed, 0 failed"

test-release: release
	ctest --test-dir $(BUILD)/release -j $(JOBS) --output-on-failure

test-asan: asan
	ctest --test-dir $(BUILD)/asan -j $(JOBS) --output-on-failure

# The sample session under ASan, and text and binary forms replay the same.
test-replay: asan
	./$(BUILD)/asan/dtx-replay --quiet deploy/sample-orders.txt
	./$(BUILD)/asan/dtx-replay --digest deploy/sample-orders.txt > $(BUILD)/asan/sample.digest
	./$(BUILD)/asan/dtx-replay --convert deploy/sample-orders.txt $(BUILD)/asan/sample.bin
	./$(BUILD)/asan/dtx-replay --digest $(BUILD)/asan/sample.bin | cmp - $(BUILD)/asan/sample.digest
	@cat $(BUILD)/asan/sample.digest

# Each target on a fresh copy of its seed corpus (tests/fuzz/corpus/<target>);
# a crash leaves its input in $(BUILD)/fuzz/artifacts/.
test-fuzz: fuzz-build
	@set -eo pipefail; for t in $(FUZZ_TARGETS); do \
	    c=$(BUILD)/fuzz/corpus-ci/$$t; rm -rf $$c; mkdir -p $$c $(BUILD)/fuzz/artifacts; \
	    cp tests/fuzz/corpus/$$t/* $$c/; \
	    s=$(FUZZ_TIME_fuzz_cmdfile); m=$(FUZZ_MAX_LEN_fuzz_cmdfile); \
	    if [ $$t = fuzz_engine ]; then s=$(FUZZ_TIME_fuzz_engine); m=$(FUZZ_MAX_LEN_fuzz_engine); fi; \
	    if [ $$t = fuzz_session ]; then s=$(FUZZ_TIME_fuzz_session); m=$(FUZZ_MAX_LEN_fuzz_session); fi; \
	    if [ $$t = fuzz_risk ]; then s=$(FUZZ_TIME_fuzz_risk); m=$(FUZZ_MAX_LEN_fuzz_risk); fi; \
	    if [ $$t = fuzz_fix44 ]; then s=$(FUZZ_TIME_fuzz_fix44); m=$(FUZZ_MAX_LEN_fuzz_fix44); fi; \
	    echo "== $$t: $$s s on a copy of tests/fuzz/corpus/$$t"; \
	    ./$(BUILD)/fuzz/$$t $(FUZZ_FLAGS) -max_len=$$m -max_total_time=$$s \
	        -runs=$(FUZZ_RUNS) -artifact_prefix=$(BUILD)/fuzz/artifacts/$$t- $$c 2>&1 | \
	        grep -v -e '^#[0-9]*.*\(NEW\|REDUCE\|pulse\)' ; \
	done

# ---- long runs -------------------------------------------------------------------

# Keeps its corpus between runs in $(BUILD)/fuzz/corpus/<target>.
fuzz-long: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	    c=$(BUILD)/fuzz/corpus/$$t; mkdir -p $$c $(BUILD)/fuzz/artifacts; \
	    cp -n tests/fuzz/corpus/$$t/* $$c/ 2>/dev/null || true; \
	    m=$(FUZZ_MAX_LEN_fuzz_cmdfile); [ $$t != fuzz_engine ] || m=$(FUZZ_MAX_LEN_fuzz_engine); \
	    [ $$t != fuzz_session ] || m=$(FUZZ_MAX_LEN_fuzz_session); \
	    [ $$t != fuzz_risk ] || m=$(FUZZ_MAX_LEN_fuzz_risk); \
	    [ $$t != fuzz_fix44 ] || m=$(FUZZ_MAX_LEN_fuzz_fix44); \
	    echo "== $$t: $(FUZZ_LONG_TIME) s, corpus $$c"; \
	    ./$(BUILD)/fuzz/$$t $(FUZZ_FLAGS) -max_len=$$m -max_total_time=$(FUZZ_LONG_TIME) \
	        -artifact_prefix=$(BUILD)/fuzz/artifacts/$$t- $$c; \
	done

# BENCH_FLAGS=--record appends every result to perf/RESULTS.md.
bench: release
	./$(BUILD)/release/bench_book $(BENCH_FLAGS)
	./$(BUILD)/release/bench_risk $(BENCH_FLAGS)
	./$(BUILD)/release/bench_session
	perf/bench_e2e.sh $(BUILD)/release $(BENCH_FLAGS)

difftest-long: release
	@if [ -x $(BUILD)/release/difftest-long ]; then \
	    ./$(BUILD)/release/difftest-long --commands 50000000 --minimize; \
	else echo "difftest-long: $(BUILD)/release/difftest-long was not built (tests/tools/difftest_long.c, DTX_TESTS=ON)"; exit 1; fi

clean:
	rm -rf $(BUILD)
