#!/usr/bin/env bash
# Meet Mira offline: a real local model and a scripted three-turn
# conversation through `mira`, each reply with its persona and mood, then
# the session's log. Afterwards `mira chat` just works: the local server
# keeps running and its settings are in Mira's config file.
#
#   scripts/demo.sh        (or: make demo)
#
# Installs missing system packages, builds the tools (release), builds or
# reuses the local llama.cpp server and SmolLM2 model (cached outside the
# clone; the first build takes about 11 minutes on 2 cores), starts the
# server on loopback and saves its settings (`local-server.sh start --save`)
# unless your config file already names another server, talks, and shows
# the log. No API key and no internet needed.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
echo "demo: building the tools (release)" >&2
swift build -c release --static-swift-stdlib 2>&1 | grep -E "error|warning: |Compiling|Build complete" >&2 || true
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
for tool in mira mira-store mira-prompt mira-memory mira-llm; do
  [ -x "$bin/$tool" ] || { echo "demo: $tool was not built" >&2; exit 70; }
done

scripts/local-server.sh build
# Your config file decides: the local server's settings go there unless it
# already points Mira at another (non-loopback) server, which stays yours.
config=$("$bin/mira" config path)
configured=""
if [ -f "$config" ]; then configured=$(sed -n 's/^OPENAI_BASE_URL=//p' "$config" | head -1); fi
keep=0
case "$configured" in
  ""|http://127.0.0.1:*|http://localhost:*) keep=1 ;;
esac
started_here=0
if ! scripts/local-server.sh status >/dev/null 2>&1; then started_here=1; fi
if ((keep)); then
  eval "$(scripts/local-server.sh start --save)"
else
  eval "$(scripts/local-server.sh start)"
  echo "demo: your config file points at $configured; it is left as it is" >&2
fi
work=$(mktemp -d)
cleanup() {
  rm -rf "$work"
  # A server this demo started stays up for `mira chat` when its settings were saved.
  if [ "$started_here" = 1 ] && [ "$keep" = 0 ]; then scripts/local-server.sh stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# The demo keeps its memory (and its current session) in scratch places,
# so it leaves yours alone. The key is set empty, not unset: an unset key
# would come from the config file.
export MIRA_DB="$work/demo.db" XDG_STATE_HOME="$work/state" OPENAI_API_KEY=
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
  printf '\033[1myou\033[0m   %s\n\033[1mmira\033[0m  ' "$message"
  # On a terminal the reply streams in, then its persona and mood, quietly.
  if ! "$bin/mira" -s "$session" "$message"; then
    failed=1
    echo "demo: this turn failed (see the message above)" >&2
  fi
  echo
done

echo "demo: the conversation as mira log shows it:" >&2
echo
"$bin/mira" log "$session" || failed=1

# Memory: a fact told in one session comes back in another. The local
# embedding server (all-MiniLM-L6-v2) indexes what was said; recall puts the
# best matches and the facts she kept into the next session's prompt.
echo
echo "demo: memory — a fact told in one session, recalled in a new one" >&2
told=$("$bin/mira-store" new)
later=$("$bin/mira-store" new)
printf '\033[1myou\033[0m   %s\n\033[1mmira\033[0m  ' "by the way, I have a ginger cat called Miso"
"$bin/mira" -s "$told" "by the way, I have a ginger cat called Miso" || failed=1
echo
# search only reads: the next turn's recall would give the new messages their
# vectors first, so give them theirs now, and the search ranks as recall will.
if ! indexed=$("$bin/mira-memory" index 2>&1); then echo "$indexed" >&2; failed=1; fi
echo "demo: in a new session, what she recalls for \"what do you remember about my cat?\":" >&2
"$bin/mira-memory" search --top 3 "what do you remember about my cat?" || failed=1
echo
printf '\033[1myou\033[0m   %s\n\033[1mmira\033[0m  ' "what do you remember about my cat?"
"$bin/mira" -s "$later" "what do you remember about my cat?" || failed=1
echo
echo "demo: the facts she keeps about you (mira-memory facts):" >&2
"$bin/mira-memory" facts || failed=1
if ((keep)); then
  cat >&2 <<TEXT
demo: the local server keeps running ($OPENAI_BASE_URL) and its settings are saved in $config.
demo: now talk to her yourself:
        make install PREFIX=~/.local      # mira and the filters onto your PATH
        mira chat
      (scripts/local-server.sh stop stops the server; start --save starts it again)
TEXT
fi
exit $failed
