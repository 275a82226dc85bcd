#!/usr/bin/env bash
# What `mira-store export` gives you, with jq one-liners.
# Usage: examples/export-with-jq.sh SESSION
set -euo pipefail
session=${1:?usage: $0 SESSION}

# Every reply of the session: time, persona, mood, first 60 characters.
mira-store export "$session" | jq -r 'select(.role == "assistant") | [.time, .persona, .mood, .content[:60]] | @tsv'

# How often each persona shaped a reply.
mira-store export "$session" | jq -s 'map(select(.role == "assistant")) | group_by(.persona) | map({persona: .[0].persona, replies: length})'
