# Thin wrapper over CMake: `make` builds, `make test` builds and tests.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60

.PHONY: all deps test chat serve asan asan-test fuzz fuzz-smoke clean

all: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@./scripts/install-deps.sh

test: all
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# Chat with the default model (Qwen/Qwen2.5-0.5B-Instruct, pulled on first use),
# or with MODEL=path-or-repo-id.
chat: all
	$(BUILD)/llmkit chat $(MODEL)

# Serve the same model over the OpenAI API with the web chat at
# http://127.0.0.1:8080/ (PORT=... to change).
serve: all
	$(BUILD)/llmkit serve $(MODEL) --port $(or $(PORT),8080)

# Unit tests under AddressSanitizer + UBSan.
asan-test: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DLLMKIT_SANITIZE=ON >/dev/null
	cmake --build build-asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir build-asan --output-on-failure -j $(JOBS) -L unit

# libFuzzer targets, each run FUZZ_SECONDS seeded with the fixtures.
fuzz: deps
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DLLMKIT_FUZZ=ON >/dev/null
	cmake --build build-fuzz -j $(JOBS)

fuzz-smoke: fuzz
	./fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build build-asan build-fuzz
