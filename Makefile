# The two commands a newcomer needs: `make run` and `make test`.
PRESET    ?= release
BUILD_DIR := build/$(PRESET)

.PHONY: all deps build run test deb asan-test fuzz lint tidy bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET)

run: build
	$(BUILD_DIR)/orderflow serve $(ARGS)

test: build
	@scripts/test.sh $(BUILD_DIR)

# The Debian package of the build (packaging/deb/), written to build/release/orderflow_*.deb.
deb: build
	@scripts/build-deb.sh $(BUILD_DIR)

# The unit, conformance and e2e suites built with AddressSanitizer and UBSan (CI runs it). The
# NATS node-kill scale-out tests are left out: under ASan's slowdown their 3-node elections
# outlast the test's bounds (they run in make test).
asan-test: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan --target orderflow unit_tests conformance_tests e2e_tests
	@ORDERFLOW_TEST_EXCLUDE='ScaleOut\.OverNats' scripts/test.sh build/asan unit conformance e2e

# Every libFuzzer target (tests/fuzz/, clang-14 with ASan+UBSan) for FUZZ_SECONDS each, on a
# copy of its seed corpus (CI runs it).
FUZZ_SECONDS ?= 60
fuzz: deps
	@scripts/fuzz.sh build/fuzz $(FUZZ_SECONDS)

# src/ must be formatted with the project's .clang-format and clang-tidy clean (the checks in
# .clang-tidy, warnings as errors); CI runs it.
lint: build
	@scripts/lint.sh all $(BUILD_DIR)

# Only the clang-tidy half of make lint (all output in build/release/clang-tidy.log).
tidy: build
	@scripts/lint.sh tidy $(BUILD_DIR)

bench: build
	@bench/run.sh $(BUILD_DIR)

clean:
	rm -rf build
