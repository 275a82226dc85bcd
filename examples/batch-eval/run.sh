#!/usr/bin/env bash
# Evaluate Mira on the transcripts in this folder against whatever
# OpenAI-compatible server OPENAI_BASE_URL names (OPENAI_API_KEY if it needs one).
#
#   examples/batch-eval/run.sh [OUT_DIR]      (default: examples/batch-eval/out)
#
# Every user message in transcripts.jsonl becomes one turn; mira-llm answers
# them JOBS at a time (default 8) into OUT_DIR/results.jsonl, and mira-eval
# checks each reply's persona and mood against the transcript's expectations:
# report on stdout, OUT_DIR/report.md as Markdown.
#
# Interrupted (Ctrl-C, a dropped connection, a rate limit)? Run it again: turns
# already answered in results.jsonl are skipped (mira-llm --resume), failed ones
# are retried. Delete OUT_DIR to start from scratch.
#
# Environment: JOBS (default 8), MIN_PASS_RATE (e.g. 0.9: exit 1 below it),
# MIRA_LLM_FLAGS (more mira-llm options, e.g. "--rpm 60 --cache"), MIRA_BIN_DIR
# (use tools from there instead of building .build/release). The key is never printed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$here/out}
say() { printf 'batch-eval: %s\n' "$*" >&2; }

if [[ -z ${OPENAI_BASE_URL:-} && -z ${OPENAI_API_KEY:-} ]]; then
  say "set OPENAI_BASE_URL (and OPENAI_API_KEY if the server needs one), e.g. for the local model:"
  say '  eval "$(make -s server-start)"'
  exit 64
fi

# The three tools, built in release mode when any is missing.
bin=${MIRA_BIN_DIR:-$repo/.build/release}
missing=0
for tool in mira-prompt mira-llm mira-eval; do [[ -x $bin/$tool ]] || missing=1; done
if ((missing)); then
  if [[ -n ${MIRA_BIN_DIR:-} ]]; then say "MIRA_BIN_DIR=$bin lacks mira-prompt, mira-llm or mira-eval"; exit 1; fi
  say "building release binaries (swift build -c release --static-swift-stdlib)"
  (cd "$repo" && swift build -c release --static-swift-stdlib >&2)
fi

transcripts=$here/transcripts.jsonl
python3 "$here/evaltools.py" validate "$transcripts"

mkdir -p "$out"
results=$out/results.jsonl
resume=()
if [[ -s $results ]]; then
  # Tidy what an earlier run left (a cut last line, failed tries), then skip what it answered.
  python3 "$here/evaltools.py" compact "$results" "$transcripts"
  cp "$results" "$out/previous.jsonl"
  resume=(--resume "$out/previous.jsonl")
  say "resuming: $(grep -c '"reply"' "$results" || true) turns already answered in $results"
fi

say "asking ${OPENAI_BASE_URL:-https://api.openai.com/v1} with ${JOBS:-8} requests in flight"
read -r -a llm_flags <<< "${MIRA_LLM_FLAGS:-}"
set +e
"$bin/mira-prompt" --replay < "$transcripts" \
  | "$bin/mira-llm" -j "${JOBS:-8}" "${resume[@]}" "${llm_flags[@]}" >> "$results"
codes=("${PIPESTATUS[@]}")
set -e
rm -f "$out/previous.jsonl"
prompt_status=${codes[0]} llm_status=${codes[1]}
python3 "$here/evaltools.py" compact "$results" "$transcripts"

case $llm_status in
  0) ;;
  130|143) say "interrupted: run the same command again to finish (answered turns are kept)"; exit "$llm_status" ;;
  *) if ((llm_status >= 64)); then say "mira-llm stopped (exit $llm_status)"; exit "$llm_status"; fi
     say "$llm_status turn(s) failed$( ((llm_status == 63)) && echo ' or more'): the report counts them; run again to retry them" ;;
esac
# 141 is SIGPIPE: mira-llm stopped reading early (--fail-fast), not a replay failure.
if ((prompt_status != 0 && prompt_status != 141)); then
  say "mira-prompt --replay failed (exit $prompt_status)"
  exit "$prompt_status"
fi

eval_flags=()
[[ -n ${MIN_PASS_RATE:-} ]] && eval_flags+=(--min-pass-rate "$MIN_PASS_RATE")
"$bin/mira-eval" --markdown < "$results" > "$out/report.md" || true
set +e
"$bin/mira-eval" "${eval_flags[@]}" < "$results"
status=$?
set -e
say "results: $results; report: $out/report.md"
exit "$status"
