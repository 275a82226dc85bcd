#!/usr/bin/env bash
# The batch speed benchmark: mira-llm -j 64 against the official openai package
# on asyncio, both sending the same turn records to a local server that answers
# every request after 100 ms. Writes bench/batch/RESULTS.md.
#
#   bench/batch/run.sh            5,000 records x 3 runs each, and a 1 GB input for memory
#   bench/batch/run.sh --smoke    300 records x 1, a 20 MB input; the report goes to a temp file
#
# Needs a built .build/release/mira-llm (it builds nothing). Python's openai
# package is installed from PyPI into a virtual environment cached in
# ${XDG_CACHE_HOME:-$HOME/.cache}/mira/bench/openai-venv; the 1 GB input is cached
# there too. Set BATCH_NO_PYTHON_MEMORY=1 to skip the Python client's 1 GB run
# (it takes minutes). Exits non-zero when a run loses or fails records, never
# because a figure misses its goal.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
smoke=()
case "${1:-}" in
  --smoke) smoke=(--smoke) ;;
  "") ;;
  *) echo "usage: bench/batch/run.sh [--smoke]" >&2; exit 64 ;;
esac
say() { printf 'bench/batch: %s\n' "$*" >&2; }

cache=${XDG_CACHE_HOME:-$HOME/.cache}/mira/bench
mkdir -p "$cache"

mira=$repo/.build/release/mira-llm
if [[ ! -x $mira ]]; then
  say "no $mira: build it first, from the repository root:"
  say "  swift build -c release --static-swift-stdlib"
  exit 1
fi
# A stale binary from before the batch engine would measure the wrong thing.
if ! "$mira" --help 2>&1 | grep -Eq -- '(^|[[:space:],])-j([[:space:],<]|$)'; then
  say "$mira has no -j option: rebuild it (swift build -c release --static-swift-stdlib)"
  exit 1
fi
mira_arg=$mira mira_note=""

# The openai package from PyPI, in a cached virtual environment (never in the repo).
venv=$cache/openai-venv
if ! "$venv/bin/python" -c 'import openai' 2>/dev/null; then
  say "installing openai into $venv"
  rm -rf "$venv"
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q openai; } >&2; then
    rm -rf "$venv"
    say "cannot install the openai package from PyPI"
    exit 1
  fi
fi

if ((${#smoke[@]})); then
  out=$(mktemp /tmp/mira-batch-bench-smoke.XXXXXX.md)
else
  out=$here/RESULTS.md
fi
extra=()
[[ ${BATCH_NO_PYTHON_MEMORY:-0} == 1 ]] && extra+=(--no-python-memory)
# Mira reads no persona folder or model settings from this user's environment,
# nor from their config file (~/.config/mira/config).
unset MIRA_MODEL MIRA_STRUCTURED MIRA_MAX_TOKENS MIRA_MAX_REPLY_CHARS MIRA_TOKEN_LIMIT_FIELD SSL_CERT_FILE
export XDG_CONFIG_HOME=$here/.no-such-config
python3 "$here/bench.py" --mira "$mira_arg" --mira-note "$mira_note" --python "$venv/bin/python" \
  --cache "$cache" --out "$out" "${smoke[@]}" "${extra[@]}"
