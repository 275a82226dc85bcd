#!/usr/bin/env bash
# mira-serve under load (issue 15): 200 clients at once, each keeping its own
# cookie and sending 10 turns, against a fake model that answers after 200 ms,
# through mira-serve and, in the same run, straight to the fake model (the
# floor). Checks that no turn failed or was lost and every history is whole;
# reports the latency mira-serve adds (p50, p99), its CPU time per turn and
# its memory before and after two identical rounds. Writes bench/serve/RESULTS.md.
#
#   bench/serve/run.sh            release build, 200 x 10, 3 runs
#   bench/serve/run.sh --smoke    debug build, 10 x 2, 1 run; the report goes to
#                                 a temp file; exits non-zero on any failed or lost turn
#
# For experiments: SERVE_CLIENTS, SERVE_TURNS, SERVE_RUNS change the sizes,
# SERVE_ARGS adds options to mira-serve (e.g. "--turns 4"), SERVE_OUT names
# the report (bench/serve/RESULTS.md is for the default run).
#
# Everything runs in a temp folder: the database, the XDG folders (so no
# ~/.config/mira/config is read) and the fake server's request log.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
smoke=0
case "${1:-}" in
  --smoke) smoke=1 ;;
  "") ;;
  *) echo "usage: bench/serve/run.sh [--smoke]" >&2; exit 64 ;;
esac
if ((smoke)); then
  clients=10 turns=2 runs=1
else
  clients=${SERVE_CLIENTS:-200} turns=${SERVE_TURNS:-10} runs=${SERVE_RUNS:-3}
fi
delay=200   # ms the fake model takes to answer

say() { printf 'bench/serve [%ss]: %s\n' "$SECONDS" "$*" >&2; }
work=$(mktemp -d /tmp/mira-serve-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

facts=$work/facts.tsv
: > "$facts"
fact() { printf '%s\t%s\n' "$1" "$2" >> "$facts"; }
fact load_before "$(cut -d' ' -f1-3 /proc/loadavg)"

if ((smoke)); then
  say "building mira-serve (debug)"
  (cd "$repo" && swift build --product mira-serve >&2)
  bin=$(cd "$repo" && swift build --show-bin-path)
  fact build debug
else
  say "building release binaries"
  # libstdc++ linked statically, as `make` builds them (Package.swift, Makefile).
  make -s -C "$repo" static-libs >&2
  (cd "$repo" && swift build -c release --static-swift-stdlib --product mira-serve >&2)
  bin=$(cd "$repo" && swift build -c release --static-swift-stdlib --show-bin-path)
  fact build "release, \`--static-swift-stdlib\`"
fi
serve=$bin/mira-serve

# Mira's settings from here only: the fake server, a dummy key, scratch XDG
# folders (no config file), no memory (no embedding model).
export OPENAI_API_KEY=bench XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data
export XDG_STATE_HOME=$work/state XDG_CACHE_HOME=$work/cache
unset MIRA_DB MIRA_MODEL MIRA_STRUCTURED MIRA_MAX_TOKENS MIRA_MAX_REPLY_CHARS MIRA_EMBED_MODEL MIRA_EMBED_BASE_URL

# The tests' fake OpenAI server, streaming at full speed (--stream-gap 0);
# prints PORT=<n> first. It stops when this script does (so it must be
# started by this shell, not a subshell); sets fake_port.
start_fake() {  # name, then its arguments
  local name=$1; shift
  python3 "$repo/Tests/Support/fake_openai.py" --port 0 --stream-gap 0 --exit-with-parent "$@" > "$work/$name.port" &
  pids+=($!)
  for _ in $(seq 200); do grep -q '^PORT=' "$work/$name.port" && break; sleep 0.05; done
  fake_port=$(sed -n 's/^PORT=//p' "$work/$name.port")
  [[ -n $fake_port ]] || { say "the fake server did not start"; exit 1; }
}
# mira-serve on its own database; sets serve_pid and serve_url.
start_serve() {  # name, model base URL
  local name=$1
  # shellcheck disable=SC2086 # SERVE_ARGS is words on purpose
  OPENAI_BASE_URL=$2 "$serve" --port 0 --db "$work/$name.db" ${SERVE_ARGS:-} > "$work/$name.out" 2> "$work/$name.err" &
  serve_pid=$!
  pids+=("$serve_pid")
  for _ in $(seq 200); do grep -q 'listening on' "$work/$name.out" && break; sleep 0.05; done
  serve_url=$(sed -n 's/^mira-serve: listening on //p' "$work/$name.out")
  [[ -n $serve_url ]] || { cat "$work/$name.err" >&2; say "mira-serve did not start"; exit 1; }
}
stop_serve() {  # the exit status of a SIGTERM must be 0: requests answered, then a clean stop
  kill -TERM "$serve_pid"
  local status=0
  wait "$serve_pid" || status=$?
  ((status == 0)) || { cat "$work"/*.err >&2; say "mira-serve exited $status after SIGTERM"; exit 1; }
}

# --- the floor's request bodies: what mira-serve sends, turn by turn -------
# One client's turns through mira-serve against a second fake server that
# logs them; turn k of the floor posts turn k's body.
start_fake capture --behaviour normal --log "$work/capture.log"
start_serve capture "http://127.0.0.1:$fake_port/v1"
python3 "$here/load.py" serve "$serve_url" --clients 1 --turns "$turns" --out "$work/capture.json"
stop_serve
python3 "$here/load.py" bodies "$work/capture.log" > "$work/bodies.jsonl"
[[ $(wc -l < "$work/bodies.jsonl") -eq $turns ]] || { say "captured $(wc -l < "$work/bodies.jsonl") bodies, not $turns"; exit 1; }
fact body_bytes "$(head -1 "$work/bodies.jsonl" | wc -c) $(tail -1 "$work/bodies.jsonl" | wc -c)"

# --- the runs -----------------------------------------------------------------
start_fake model --behaviour "delay:$delay"
model=http://127.0.0.1:$fake_port
fact clients "$clients"
fact turns "$turns"
fact delay "$delay"
failed=0
for run in $(seq "$runs"); do
  start_serve "run$run" "$model/v1"
  floor() {
    say "run $run: the floor, $clients clients x $turns turns straight to the fake model"
    python3 "$here/load.py" floor "$model/v1/chat/completions" --bodies "$work/bodies.jsonl" \
      --clients "$clients" --turns "$turns" --out "$work/floor-$run.json" || failed=1
  }
  # The floor goes first in odd runs and last in even ones, so neither side
  # always meets the machine warmer or busier.
  ((run % 2)) && floor
  for round in 1 2; do
    say "run $run: mira-serve round $round, $clients clients x $turns turns"
    python3 "$here/load.py" serve "$serve_url" --pid "$serve_pid" --clients "$clients" --turns "$turns" \
      --out "$work/serve-$run-$round.json" || failed=1
  done
  ((run % 2)) || floor
  fact "threads_$run" "$(ls /proc/"$serve_pid"/task | wc -l)"
  stop_serve
  if [[ -s $work/run$run.err ]]; then say "mira-serve said:"; cat "$work/run$run.err" >&2; failed=1; fi
done
fact load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
fact date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
fact uname "$(uname -a)"
fact nproc "$(nproc)"
fact cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
fact commit "$(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- Sources || echo ' (with uncommitted changes)')"
fact toolchain "$(swift --version 2>&1 | head -1)"
fact serve_args "${SERVE_ARGS:-}"
fact python "$(python3 --version)"

if ((smoke)); then
  out=$(mktemp /tmp/mira-serve-bench-smoke.XXXXXX.md)
else
  out=${SERVE_OUT:-$here/RESULTS.md}
fi
python3 "$here/report.py" "$work" "$out" "$runs"
say "report: $out"
if ((failed)); then say "FAILED: a turn failed, was lost, or a history is not whole (above)"; exit 1; fi
