#!/usr/bin/env bash
# The page's tests in a real browser (issue 15): Debian's chromium and
# chromedriver, driven by Selenium from PyPI (which downloads no browser),
# against mira-serve and the fake model server on loopback.
#
#     Tests/Browser/run.sh                       # every test
#     Tests/Browser/run.sh PageTests.test_markup_in_a_reply_shows_as_text
#
# Selenium goes into a venv in the cache, never into the system's Python.
# The tests start and stop both servers themselves; a screenshot of a
# conversation lands in .build/browser/screenshot.png (docs/screenshot.png
# is a copy of one).
set -euo pipefail
cd "$(dirname "$0")/../.."

SELENIUM_VERSION=4.50.0
venv="${XDG_CACHE_HOME:-$HOME/.cache}/mira/browser-venv"

for tool in chromium chromedriver; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "browser tests: $tool is not installed (scripts/install-deps.sh installs chromium and chromium-driver)" >&2
        exit 1
    fi
done

if ! "$venv/bin/python" -c "import sys, selenium; sys.exit(selenium.__version__ != '$SELENIUM_VERSION')" 2>/dev/null; then
    echo "browser tests: installing selenium $SELENIUM_VERSION into $venv" >&2
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv" \
        || { echo "browser tests: python3 -m venv $venv failed (is python3-venv installed?)" >&2; exit 1; }
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "selenium==$SELENIUM_VERSION" \
        || { echo "browser tests: pip could not install selenium $SELENIUM_VERSION" >&2; exit 1; }
fi

swift build --product mira-serve >&2
bin=$(swift build --show-bin-path)
mkdir -p .build/browser

# The tests run in a process group of their own, stopped as a whole when this
# script ends however it ends: a browser whose driver died with a crashed test
# would otherwise live on. (The servers also die with the test process.)
# Selenium Manager must never fetch a driver or a browser: both are Debian's.
# Their scratch folders (database, browser profiles) go under one folder,
# removed at the end too.
scratch=$(mktemp -d -t mira-browser.XXXXXX)
TMPDIR="$scratch" SE_OFFLINE=true setsid "$venv/bin/python" Tests/Browser/test_page.py \
    --serve "$bin/mira-serve" --fake Tests/Support/fake_openai.py --shots .build/browser "$@" &
tests=$!
source Tests/Browser/group.sh
trap stop_tests EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
status=0
wait "$tests" || status=$?
[ "$status" -eq 0 ] || echo "browser tests: failed (exit status $status)" >&2
exit "$status"
