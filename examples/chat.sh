#!/usr/bin/env bash
# Chat with Mira in your terminal. Every turn is the real pipeline:
#   mira-store load | mira-prompt | mira-llm --stream | mira-store save
# Usage: examples/chat.sh [SESSION]     (a new session when none is given)
# Inside: /persona NAME switches the persona, /persona alone lets Mira choose,
# /quit or Ctrl-D leaves. Needs the mira-* tools on PATH and jq.
set -uo pipefail

session=${1:-$(mira-store new)} || exit
persona=""
echo "mira: session $session (Ctrl-D to leave)" >&2

while IFS= read -r -e -p "you> " line; do
  case "$line" in
    "") continue ;;
    /quit) break ;;
    /persona) persona=""; echo "mira: Mira picks the persona again" >&2; continue ;;
    /persona\ *) persona=${line#/persona }; echo "mira: persona $persona" >&2; continue ;;
  esac
  # The reply streams onto the terminal (stderr); the saved record gives
  # the persona and mood, shown dimmed underneath.
  mira-store load "$session" \
    | mira-prompt ${persona:+--persona "$persona"} -- "$line" \
    | mira-llm --stream \
    | mira-store save "$session" --format json \
    | jq -r '"\u001b[2m  [\(.reply.persona) · \(.reply.mood)]\u001b[0m"'
done
