# Mira: a persona-driven chat companion as small Unix filters.
PREFIX ?= /usr/local
MESSAGE ?= rough day, my boss yelled at me
SESSION ?= demo
BINARIES := mira mira-store mira-prompt mira-memory mira-llm mira-eval mira-serve
BINDIR = $(PREFIX)/bin
# mira-commands: what `mira` hands every command line but the usual turn to.
LIBEXECDIR = $(PREFIX)/libexec/mira
MANDIR = $(PREFIX)/share/man/man1
BASH_COMPLETION_DIR = $(PREFIX)/share/bash-completion/completions
ZSH_COMPLETION_DIR = $(PREFIX)/share/zsh/site-functions
FISH_COMPLETION_DIR = $(PREFIX)/share/fish/vendor_completions.d
RELEASE_FLAGS := -c release --static-swift-stdlib
# The longest `swift test` may run (about 5 minutes here, once the local model
# is built, which make test does first): past it, the stacks of its processes
# are printed and the run fails (scripts/with-deadline.sh).
TEST_DEADLINE ?= 1800
# A folder holding only GCC's libstdc++.a, which Package.swift searches first,
# so the binaries link libstdc++ statically instead of loading libstdc++.so.
STATIC_LIBS := .build/static-libs

.PHONY: all deps static-libs build release test fuzz reliability bench bench-smoke bench-serve bench-memory manuals install uninstall chat demo server-build server-start server-stop server-status clean

all: build

# System packages (libsqlite3-dev, libcurl4-openssl-dev), installed when missing.
deps: static-libs
	@scripts/install-deps.sh

# No libstdc++.a (no GCC): the link is removed and the binaries load libstdc++.so.
static-libs:
	@lib=$$($(CC) -print-file-name=libstdc++.a 2>/dev/null); mkdir -p $(STATIC_LIBS); \
	  if [ -f "$$lib" ] && [ "$${lib#/}" != "$$lib" ]; then ln -sfn "$$lib" $(STATIC_LIBS)/libstdc++.a; \
	  else rm -f $(STATIC_LIBS)/libstdc++.a; fi

build: deps
	swift build

release: deps
	swift build $(RELEASE_FLAGS)

# Every test: unit tests of the core and end-to-end pipelines against a
# fake OpenAI-compatible server on loopback, and the page in headless Chromium.
test: deps
	swift build --build-tests
	bench/run.sh --smoke
	bench/batch/run.sh --smoke
	bench/serve/run.sh --smoke
	scripts/local-server.sh build
	scripts/with-deadline.sh $(TEST_DEADLINE) swift test --skip-build
	Tests/Browser/run.sh
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
	bench/serve/run.sh --smoke

# mira-serve under load (issue 15): 200 clients x 10 turns against a fake model
# answering after 200 ms, beside the same load straight to the model; the
# latency it adds, CPU per turn, memory over two rounds: bench/serve/RESULTS.md.
# Not part of make bench (about a minute a run, three runs); --smoke is in bench-smoke.
bench-serve: deps
	bench/serve/run.sh

# Memory quality with the real local embedding model (recall@1/5/10 of vector,
# keyword and fused ranking, indexing speed): bench/memory/RESULTS.md. Starts
# the local servers if they are not running (building them the first time).
# Not part of make test: it needs the model. bench/memory/run.sh --smoke is the quick check.
bench-memory: deps
	bench/memory/run.sh

# libFuzzer (swiftc -sanitize=fuzzer,address) on what Mira reads: records,
# and from the server the body, the SSE stream, the headers and retry-after.
# Fuzz/build.sh compiles the modules they use once into one binary, and
# Fuzz/run.sh picks one target per run (MIRA_FUZZ_TARGET), FUZZ_SECONDS each.
# Corpora, logs and crash inputs land in .build-fuzz/ (git-ignored).
# One target alone: make fuzz-sse FUZZ_SECONDS=60
FUZZ_SECONDS ?= 300
FUZZ_TARGETS := record body sse headers retry-after
FUZZ_MODULES := CSpawn MiraShared MiraSystem MiraPrompt MiraLLM MiraBatch
fuzz: .build-fuzz/mira-fuzzer
	@Fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)
fuzz-%: .build-fuzz/mira-fuzzer
	@Fuzz/run.sh $(FUZZ_SECONDS) $*
.build-fuzz/mira-fuzzer: $(shell find $(addprefix Sources/,$(FUZZ_MODULES)) -name '*.swift' -o -name '*.[ch]') $(wildcard Fuzz/*.swift) Fuzz/build.sh
	@Fuzz/build.sh $(FUZZ_MODULES) || { rm -f $@; exit 1; }

# The reliability suite at full length: 200 kill rounds, 5 minutes of fuzzing.
reliability: deps
	swift build --build-tests
	MIRA_KILL_ROUNDS=200 swift test --skip-build --filter "FaultTests|CrashAndLoadTests|HostileInputTests|SecretsAndTrustTests"
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=300

# Meet Mira offline: a real local model, three turns, no key, no internet.
demo: static-libs
	@scripts/demo.sh

# The local llama.cpp servers (loopback only) for your own use: the chat model
# and the embedding model (all-MiniLM-L6-v2) for memory, built into the cache.
#   eval "$$(make -s server-start)"  exports OPENAI_BASE_URL and MIRA_EMBED_BASE_URL.
server-build: deps
	@scripts/local-server.sh build
server-start: deps
	@scripts/local-server.sh start
server-stop:
	@scripts/local-server.sh stop
server-status:
	@scripts/local-server.sh status

# One chat turn against $OPENAI_BASE_URL (OpenAI by default).
chat: release
	@bin=$$(swift build $(RELEASE_FLAGS) --show-bin-path) && \
	  $$bin/mira-store load $(SESSION) | $$bin/mira-prompt "$(MESSAGE)" | $$bin/mira-llm | $$bin/mira-store save $(SESSION) --format text

# Installs the commands (BINARIES), a man page for each and completion scripts for
# bash, zsh and fish, all made at install time from the argument parsers:
#  - man pages: swift-argument-parser's GenerateManual plugin builds the
#    package in release mode and writes NAME.1 from NAME --experimental-dump-help
#    (dated by the last commit); blank lines become .Pp, which mdoc wants.
#    mira's page is mira-commands' (it holds mira's parser);
#  - completions: each release binary's --generate-completion-script. The
#    scripts ask the installed binary for session ids and persona names.
# The plugin links the release binaries without --static-swift-stdlib, so the
# release build runs after it and the static binaries are the ones installed.
# make install PREFIX=~/.local  (DESTDIR for staging, as usual)
MANUALS := .build/plugins/GenerateManual/outputs
SHELL_FILES := .build/shell-files
MANUAL_DATE = $(shell git log -1 --format=%cs 2>/dev/null)

manuals: deps
	swift package plugin generate-manual $(if $(MANUAL_DATE),--date $(MANUAL_DATE))

install: manuals
	swift build $(RELEASE_FLAGS)
	@bin=$$(swift build $(RELEASE_FLAGS) --show-bin-path) && \
	  rm -rf $(SHELL_FILES) && mkdir -p $(SHELL_FILES) && \
	  install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(BASH_COMPLETION_DIR) $(DESTDIR)$(ZSH_COMPLETION_DIR) $(DESTDIR)$(FISH_COMPLETION_DIR) && \
	  for b in $(BINARIES); do \
	    page=$(MANUALS)/$$b/$$b.1; [ $$b != mira ] || page=$(MANUALS)/mira-commands/mira.1; \
	    install -m 755 $$bin/$$b $(DESTDIR)$(BINDIR)/$$b && \
	    sed 's/^$$/.Pp/' $$page > $(SHELL_FILES)/$$b.1 && \
	    $$bin/$$b --generate-completion-script bash > $(SHELL_FILES)/$$b.bash && \
	    $$bin/$$b --generate-completion-script zsh > $(SHELL_FILES)/_$$b && \
	    $$bin/$$b --generate-completion-script fish > $(SHELL_FILES)/$$b.fish && \
	    install -m 644 $(SHELL_FILES)/$$b.1 $(DESTDIR)$(MANDIR)/$$b.1 && \
	    install -m 644 $(SHELL_FILES)/$$b.bash $(DESTDIR)$(BASH_COMPLETION_DIR)/$$b && \
	    install -m 644 $(SHELL_FILES)/_$$b $(DESTDIR)$(ZSH_COMPLETION_DIR)/_$$b && \
	    install -m 644 $(SHELL_FILES)/$$b.fish $(DESTDIR)$(FISH_COMPLETION_DIR)/$$b.fish || exit 1; \
	  done && \
	  install -d $(DESTDIR)$(LIBEXECDIR) && install -m 755 $$bin/mira-commands $(DESTDIR)$(LIBEXECDIR)/mira-commands
	@echo "installed $(BINARIES) into $(DESTDIR)$(BINDIR) (and mira-commands into $(DESTDIR)$(LIBEXECDIR)),"
	@echo "  their man pages into $(DESTDIR)$(MANDIR),"
	@echo "  completions into $(DESTDIR)$(BASH_COMPLETION_DIR), $(DESTDIR)$(ZSH_COMPLETION_DIR), $(DESTDIR)$(FISH_COMPLETION_DIR)"

uninstall:
	for b in $(BINARIES); do \
	  rm -f $(DESTDIR)$(BINDIR)/$$b $(DESTDIR)$(MANDIR)/$$b.1 $(DESTDIR)$(BASH_COMPLETION_DIR)/$$b \
	    $(DESTDIR)$(ZSH_COMPLETION_DIR)/_$$b $(DESTDIR)$(FISH_COMPLETION_DIR)/$$b.fish; \
	done
	rm -f $(DESTDIR)$(LIBEXECDIR)/mira-commands
	-rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null

clean:
	swift package clean
