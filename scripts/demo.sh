#!/usr/bin/env bash
# Meet Mira offline: a real local model, a scripted three-turn conversation
# through the real pipeline, each turn printed with its persona and mood.
#
#   scripts/demo.sh        (or: make demo)
#
# Installs missing system packages, builds the tools (release), builds or
# reuses the local llama.cpp server and SmolLM2 model (cached outside the
# clone; the first build takes about 11 minutes on 2 cores), starts the
# server on loopback, talks, and stops the server again if it started it.
# No API key and no internet needed.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
echo "demo: building the tools (release)" >&2
swift build -c release --static-swift-stdlib 2>&1 | grep -E "error|warning: |Compiling|Build complete" >&2 || true
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
for tool in mira-store mira-prompt mira-llm; do
  [ -x "$bin/$tool" ] || { echo "demo: $tool was not built" >&2; exit 70; }
done

scripts/local-server.sh build
started_here=0
if ! scripts/local-server.sh status >/dev/null 2>&1; then started_here=1; fi
eval "$(scripts/local-server.sh start)"
work=$(mktemp -d)
cleanup() {
  rm -rf "$work"
  [ "$started_here" = 1 ] && scripts/local-server.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

# The demo keeps its memory in a scratch database, so it leaves yours alone.
export MIRA_DB="$work/demo.db"
# Set empty, not unset: an unset key would come from the config file.
export OPENAI_API_KEY=
session=$("$bin/mira-store" new)
echo "demo: session $session against $OPENAI_BASE_URL (SmolLM2-135M: the structure is real, the wording is a tiny model's)" >&2
echo

turns=(
  "rough day. my boss yelled at me in front of everyone"
  "I keep replaying it in my head"
  "ok. tell me something to make me smile"
)
failed=0
for message in "${turns[@]}"; do
  printf '\033[1myou\033[0m   %s\n' "$message"
  # The exports from local-server.sh start ask this server for json_schema
  # (it ignores forced tool calls) with a capped reply, so the JSON always closes.
  if ! "$bin/mira-store" load "$session" \
      | "$bin/mira-prompt" "$message" \
      | "$bin/mira-llm" --timeout 90 \
      | "$bin/mira-store" save "$session" --format json > "$work/turn.json"; then
    failed=1
    echo "demo: this turn failed (see the message above)" >&2
    continue
  fi
  python3 - "$work/turn.json" <<'PY'
import json, sys
record = json.loads(open(sys.argv[1]).readline())
reply = record["reply"]
print(f"\033[1mmira\033[0m  {reply['output']}")
print(f"      \033[2m[{reply['persona']} · {reply['mood']} · {record['latency_ms']} ms]\033[0m\n")
PY
done

# A session none of whose turns was saved does not exist (export exits 66): 0 messages.
stored=$({ "$bin/mira-store" export "$session" 2>/dev/null || true; } | wc -l)
echo "demo: $stored messages remembered in session $session" >&2
exit $failed
