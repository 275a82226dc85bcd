# Mira: a persona-driven chat companion as small Unix filters.
PREFIX ?= /usr/local
MESSAGE ?= rough day, my boss yelled at me
SESSION ?= demo
BINARIES := mira-store mira-prompt mira-llm mira-eval
RELEASE_FLAGS := -c release --static-swift-stdlib

.PHONY: all deps build release test fuzz reliability bench bench-smoke install uninstall chat demo server-build server-start server-stop server-status clean

all: build

# System packages (libsqlite3-dev, libcurl4-openssl-dev), installed when missing.
deps:
	@scripts/install-deps.sh

build: deps
	swift build

release: deps
	swift build $(RELEASE_FLAGS)

# Every test: unit tests of the core and end-to-end pipelines against a
# fake OpenAI-compatible server on loopback.
test: deps
	swift build --build-tests
	bench/run.sh --smoke
	bench/batch/run.sh --smoke
	swift test --skip-build
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10

# Benchmarks on release builds: medians and ratios into bench/RESULTS.md.
# The first run builds a 10-million-message database (about 5 min); cached after.
bench: deps
	bench/run.sh
	bench/batch/run.sh

# The same steps with tiny sizes (the test command runs this, so the bench cannot rot).
bench-smoke: deps
	bench/run.sh --smoke
	bench/batch/run.sh --smoke

# libFuzzer (swiftc -sanitize=fuzzer,address) on what Mira reads: records,
# and from the server the body, the SSE stream, the headers and retry-after.
# Fuzz/build.sh compiles the modules they use once into one binary, and
# Fuzz/run.sh picks one target per run (MIRA_FUZZ_TARGET), FUZZ_SECONDS each.
# Corpora, logs and crash inputs land in .build-fuzz/ (git-ignored).
# One target alone: make fuzz-sse FUZZ_SECONDS=60
FUZZ_SECONDS ?= 300
FUZZ_TARGETS := record body sse headers retry-after
FUZZ_MODULES := MiraShared MiraSystem MiraPrompt MiraLLM MiraBatch
fuzz: .build-fuzz/mira-fuzzer
	@Fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)
fuzz-%: .build-fuzz/mira-fuzzer
	@Fuzz/run.sh $(FUZZ_SECONDS) $*
.build-fuzz/mira-fuzzer: $(shell find $(addprefix Sources/,$(FUZZ_MODULES)) -name '*.swift') $(wildcard Fuzz/*.swift) Fuzz/build.sh
	@Fuzz/build.sh $(FUZZ_MODULES) || { rm -f $@; exit 1; }

# The reliability suite at full length: 200 kill rounds, 5 minutes of fuzzing.
reliability: deps
	swift build --build-tests
	MIRA_KILL_ROUNDS=200 swift test --skip-build --filter "FaultTests|CrashAndLoadTests|HostileInputTests|SecretsAndTrustTests"
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=300

# Meet Mira offline: a real local model, three turns, no key, no internet.
demo:
	@scripts/demo.sh

# The local llama.cpp server (loopback only) for your own use:
#   eval "$$(make -s server-start)"  exports OPENAI_BASE_URL.
server-build:
	@scripts/local-server.sh build
server-start:
	@scripts/local-server.sh start
server-stop:
	@scripts/local-server.sh stop
server-status:
	@scripts/local-server.sh status

# One chat turn against $OPENAI_BASE_URL (OpenAI by default).
chat: release
	@bin=$$(swift build $(RELEASE_FLAGS) --show-bin-path) && \
	  $$bin/mira-store load $(SESSION) | $$bin/mira-prompt "$(MESSAGE)" | $$bin/mira-llm | $$bin/mira-store save $(SESSION) --format text

install: release
	@bin=$$(swift build $(RELEASE_FLAGS) --show-bin-path) && \
	  install -d $(DESTDIR)$(PREFIX)/bin && \
	  for b in $(BINARIES); do install -m 755 $$bin/$$b $(DESTDIR)$(PREFIX)/bin/$$b; done
	@echo "installed $(BINARIES) into $(DESTDIR)$(PREFIX)/bin"

uninstall:
	for b in $(BINARIES); do rm -f $(DESTDIR)$(PREFIX)/bin/$$b; done

clean:
	swift package clean
