#!/usr/bin/env bash
# Installs the system packages Mira builds against, when they are missing.
# Debian's libsqlite3-dev, libcurl4-openssl-dev and libedit-dev (and pkg-config to find them),
# and what scripts/local-server.sh builds the local models with: a C++ compiler and make
# (llama-server), python3 with venv (cmake, numpy and PyYAML come from PyPI into venvs
# in the cache, never into the system), tar and gzip (the llama.cpp source); and
# chromium with chromium-driver for the page's browser tests (Tests/Browser/run.sh).
set -euo pipefail

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists sqlite3 2>/dev/null || missing+=(libsqlite3-dev)
pkg-config --exists libcurl 2>/dev/null || missing+=(libcurl4-openssl-dev)
pkg-config --exists libedit 2>/dev/null || missing+=(libedit-dev)           # mira chat's line editing
# python3: the tests' fake server; python3-venv: local-server.sh's venvs (Debian
# splits venv and ensurepip out of python3)
if ! command -v python3 >/dev/null 2>&1; then missing+=(python3 python3-venv)
elif ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then missing+=(python3-venv); fi
command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 || missing+=(g++)   # llama-server
command -v make >/dev/null 2>&1 || missing+=(make)
command -v tar >/dev/null 2>&1 || missing+=(tar)
command -v gzip >/dev/null 2>&1 || missing+=(gzip)
command -v script >/dev/null 2>&1 || missing+=(bsdutils)   # the tests' terminal
command -v tmux >/dev/null 2>&1 || missing+=(tmux)         # the tests of mira chat on a real terminal
command -v jq >/dev/null 2>&1 || missing+=(jq)             # examples/chat.sh, tested on a terminal too
[ -x /usr/bin/curl ] || missing+=(curl)                    # the fake server's self-tests
command -v zsh >/dev/null 2>&1 || missing+=(zsh)           # the tests read the zsh completion scripts
command -v fish >/dev/null 2>&1 || missing+=(fish)         # and the fish ones
command -v nm >/dev/null 2>&1 && command -v readelf >/dev/null 2>&1 || missing+=(binutils)   # the tests read what mira links
command -v gdb >/dev/null 2>&1 || missing+=(gdb)                        # the stacks of a test run that hangs
command -v chromium >/dev/null 2>&1 || missing+=(chromium)              # the page's tests in a real browser
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)   # what drives it (Selenium, from PyPI)

[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
