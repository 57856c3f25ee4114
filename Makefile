# The two commands a newcomer needs: `make run` and `make test`.
PRESET    ?= release
BUILD_DIR := build/$(PRESET)

.PHONY: all deps build run test bench clean

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

bench: build
	@bench/run.sh $(BUILD_DIR)

clean:
	rm -rf build
