#!/usr/bin/env bash
# Mira's memory quality benchmark with the real local embedding server
# (all-MiniLM-L6-v2): recall@1/5/10 of vector, keyword and fused ranking,
# indexing throughput and the vectors' bytes on disk. Writes its section of
# bench/memory/RESULTS.md (the speed section is bench/memory/speed/main.swift's).
#
#   bench/memory/run.sh            the full run (about 5,000 messages; a few minutes)
#   bench/memory/run.sh --smoke    a tiny data set; the report goes to a temp file.
#                                  Skips (exit 0, says so) when the local embedding
#                                  model is not built, rather than building it.
#
# Uses the local servers when they are running; otherwise starts them with
# scripts/local-server.sh (building them first for a full run) and stops, by
# pid, only the ones this run started.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
smoke=0
case "${1:-}" in
  --smoke) smoke=1 ;;
  "") ;;
  *) echo "usage: bench/memory/run.sh [--smoke]" >&2; exit 64 ;;
esac

say() { printf 'bench-memory: %s\n' "$*" >&2; }
server=$repo/scripts/local-server.sh
started=()
cleanup() {
  local pid
  for pid in "${started[@]}"; do
    kill "$pid" 2>/dev/null && say "stopped the server this run started (pid $pid)" || true
  done
}
trap cleanup EXIT

# The embedding server: running, or started here.
if ! "$server" embed-port >/dev/null 2>&1; then
  cache=${MIRA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mira}/local-model
  if ((smoke)) && ! compgen -G "$cache/minilm-*/.complete" >/dev/null; then
    say "skipped: the local embedding model is not built (scripts/local-server.sh build, or make bench-memory)"
    exit 0
  fi
  pids() { "$server" status 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | sort; }
  before=$(pids)
  say "starting the local servers (scripts/local-server.sh start)"
  "$server" start >/dev/null
  mapfile -t started < <(comm -13 <(printf '%s\n' "$before") <(pids) | sed '/^$/d')
fi
settings=$("$server" env) || { say "scripts/local-server.sh env failed"; exit 69; }
# Only the embedding settings: the chat server plays no part here.
for pair in $settings; do
  case "$pair" in MIRA_EMBED_*=*) export "${pair?}" ;; esac
done

say "building mira-store and mira-memory (release)"
(cd "$repo" && swift build -c release --static-swift-stdlib --product mira-store >&2 \
  && swift build -c release --static-swift-stdlib --product mira-memory >&2)
bin=$(cd "$repo" && swift build -c release --static-swift-stdlib --show-bin-path)

if ((smoke)); then
  out=$(mktemp /tmp/mira-bench-memory-smoke.XXXXXX.md)
  python3 "$here/quality.py" --bin "$bin" --smoke --results "$out"
else
  python3 "$here/quality.py" --bin "$bin"
fi
