#!/usr/bin/env bash
# Mira's benchmarks: one chat turn against curl and llm, the same turn in one
# process (`mira`) against the pipeline and curl, each stage alone, store
# scaling, parallel safety and peak memory, all in one run on this machine.
# Writes bench/RESULTS.md.
#
#   bench/run.sh            the full run (the 10M-message database takes minutes
#                           the first time; it is cached afterwards)
#   bench/run.sh --smoke    the same steps, tiny and fast; writes to a temp file
#                           and exits non-zero when any step fails
#
# Scratch data goes to a temp folder; built databases and llm's virtual
# environment are cached in ${XDG_CACHE_HOME:-$HOME/.cache}/mira/bench.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
smoke=0
case "${1:-}" in
  --smoke) smoke=1 ;;
  "") ;;
  *) echo "usage: bench/run.sh [--smoke]" >&2; exit 64 ;;
esac

if ((smoke)); then
  sizes=(1000 10000)       # store scaling
  turn_db=1000             # messages in the session of the chat-turn figures
  import_n=10000           # messages in the timed import
  runs=3 slow_runs=2 rss_runs=1 blocks=1
  cpu_rounds=4 cpu_warmup=1   # CPU time per turn: runs of each command
  par_turns=4 par_jobs=4 par_rounds=1
  seed_turns=1             # turns already in llm's conversation
else
  sizes=(10000 100000 1000000 10000000)
  turn_db=100000
  import_n=1000000
  runs=45 slow_runs=12 rss_runs=5 blocks=3
  cpu_rounds=150 cpu_warmup=3
  par_turns=48 par_jobs=12 par_rounds=3
  seed_turns=7             # 14 messages: about what Mira sends (--last 15)
fi

cache=${XDG_CACHE_HOME:-$HOME/.cache}/mira/bench
work=$(mktemp -d /tmp/mira-bench.XXXXXX)
mkdir -p "$cache" "$work/hf"
facts=$work/facts.tsv     # key<TAB>value lines for report.py
: > "$facts"
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf 'bench [%ss]: %s\n' "$SECONDS" "$*" >&2; }
fact() { printf '%s\t%s\n' "$1" "$2" >> "$facts"; }
# hyperfine with our defaults; the JSON export is what report.py reads.
bench() {
  local name=$1; shift
  hyperfine --style basic --export-json "$work/hf/$name.json" "$@" >&2
}
# The same in $blocks blocks of $runs/$blocks runs: the commands take turns, so
# a change in background load does not fall on one command alone.
blocked() {
  local name=$1; shift
  for b in $(seq "$blocks"); do bench "$name@$b" --warmup 2 --runs $((runs / blocks)) "$@"; done
}
# Other work on this machine skews every figure: the report shows how much there was.
fact load_before "$(cut -d' ' -f1-3 /proc/loadavg)"

# --- tools ----------------------------------------------------------------
need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
[[ -x /usr/bin/time ]] || need+=(time)
command -v curl >/dev/null || need+=(curl)
if ((${#need[@]})); then
  say "installing ${need[*]}"
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# llm from PyPI, in a virtual environment in the cache (never in the repo).
venv=$cache/llm-venv
llm=$venv/bin/llm
if [[ ! -x $llm ]]; then
  say "installing llm into $venv"
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q llm; } >&2; then
    rm -rf "$venv"
    ((smoke)) || { say "cannot install llm"; exit 1; }
    say "llm could not be installed: its figures are skipped"
  fi
fi
have_llm=0; [[ -x $llm ]] && have_llm=1

say "building release binaries"
# libstdc++ linked statically, as `make` builds them (Package.swift, Makefile).
make -s -C "$repo" static-libs >&2
(cd "$repo" && swift build -c release --static-swift-stdlib >&2)
bin=$(cd "$repo" && swift build -c release --static-swift-stdlib --show-bin-path)
store=$bin/mira-store prompt=$bin/mira-prompt llmstage=$bin/mira-llm front=$bin/mira

# --- the fake server, answering at once -----------------------------------
# The tests' fake OpenAI server, with no request log; it stops when this script
# does (its stdin here is /dev/null, so it watches its parent instead).
python3 "$repo/Tests/Support/fake_openai.py" --behaviour normal --exit-with-parent > "$work/port" &
server_pid=$!
for _ in $(seq 100); do grep -q '^PORT=' "$work/port" && break; sleep 0.05; done
port=$(sed -n 's/^PORT=//p' "$work/port")
[[ -n $port ]] || { say "the fake server did not start"; exit 1; }
base=http://127.0.0.1:$port/v1
completions() { curl -s "http://127.0.0.1:$port/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["completions"])'; }
# Mira reads its server, key and persona folder from the environment (and a
# config file from the scratch XDG_CONFIG_HOME: none, so not the user's);
# `mira` remembers its current session in the state folder (always given -s here).
export OPENAI_BASE_URL=$base OPENAI_API_KEY=bench XDG_CONFIG_HOME=$work/config XDG_STATE_HOME=$work/state
unset MIRA_DB MIRA_MODEL MIRA_STRUCTURED MIRA_MAX_TOKENS MIRA_MAX_REPLY_CHARS

# --- databases, cached by size --------------------------------------------
# A database holds one session, "bench", of N messages: the worst case for
# `load --last 15`, which must not read more than it returns.
# The schema this build makes (a write command: reading ones never create a file).
"$store" import --db "$work/empty.db" < /dev/null 2> /dev/null
gen_key=$(sha256sum "$here/gen_messages.py" | cut -c1-8)
db_for() { echo "$cache/db-$1-$gen_key.sqlite"; }
build_db() {
  local n=$1 db; db=$(db_for "$n")
  if [[ -f $db ]] && python3 "$here/tools.py" same-schema "$db" "$work/empty.db"; then return; fi
  say "building the $n-message database (cached in $cache)"
  rm -f "$db" "$db.tmp"*
  local t0=$SECONDS
  python3 "$here/gen_messages.py" "$n" | "$store" import --db "$db.tmp" 2> "$work/import.log" \
    || { cat "$work/import.log" >&2; exit 1; }
  mv "$db.tmp" "$db"
  fact "built_$n" "$((SECONDS - t0))"
}
for n in "${sizes[@]}" "$turn_db"; do build_db "$n"; done

# --- 1. one chat turn: Mira's pipeline vs curl vs llm ---------------------
say "1. one chat turn"
turn=$work/turn.db
cp "$(db_for "$turn_db")" "$turn"
fact turn_db "$turn_db"
# The exact request Mira sends, for curl to post.
"$store" load bench --db "$turn" > "$work/loaded.jsonl"
"$prompt" hi < "$work/loaded.jsonl" > "$work/prompted.jsonl"
python3 -c 'import json,sys; sys.stdout.write(json.dumps(json.loads(sys.stdin.readline())["request"], separators=(",", ":"), ensure_ascii=False))' \
  < "$work/prompted.jsonl" > "$work/request.json"
"$llmstage" < "$work/prompted.jsonl" > "$work/answered.jsonl"
fact request_bytes "$(stat -c %s "$work/request.json")"

if ((have_llm)); then
  # A bench-private llm home pointed at the fake server, with a logged
  # conversation of $seed_turns turns to continue; reset before every run.
  export LLM_USER_PATH=$work/llm
  mkdir -p "$LLM_USER_PATH"
  printf -- '- model_id: instant\n  model_name: instant\n  api_base: "%s"\n' "$base" \
    > "$LLM_USER_PATH/extra-openai-models.yaml"
  "$llm" -m instant --no-stream "seed 1" > /dev/null
  for i in $(seq 2 "$seed_turns"); do "$llm" -c --no-stream "seed $i" > /dev/null; done
  cid=$(python3 "$here/tools.py" llm-thread "$LLM_USER_PATH/logs.db")
  cp "$LLM_USER_PATH/logs.db" "$work/llm-seed.db"
  fact llm_version "$("$llm" --version)"
  fact llm_seed_turns "$seed_turns"
fi

before=$(python3 "$here/tools.py" count "$turn" bench)
pipeline="$store load bench --db $turn | $prompt hi | $llmstage | $store save bench --db $turn"
floor="curl -sS --fail -H 'Content-Type: application/json' -H 'Authorization: Bearer bench' --data-binary @$work/request.json $base/chat/completions"
# The runs are split into blocks that take turns, so a change in background
# load hits Mira, curl and llm alike; report.py merges the blocks.
for b in $(seq "$blocks"); do
  bench "turn@$b" --warmup 2 --runs $((runs / blocks)) -n mira "$pipeline" -n curl "$floor"
  if ((have_llm)); then
    bench "turn-llm@$b" --warmup 1 --runs $((slow_runs / blocks)) \
      --prepare "cp $work/llm-seed.db $LLM_USER_PATH/logs.db" -n llm "$llm -c --no-stream hi"
  fi
done
after=$(python3 "$here/tools.py" count "$turn" bench)
# Every timed turn must really have been saved, two messages each.
expected=$((2 * blocks * (runs / blocks + 2)))
(( after - before == expected )) || { say "pipeline saved $((after - before)) messages, expected $expected"; exit 1; }

# --- 2. one turn in one process: mira -------------------------------------
# `mira -s bench hi` does the pipeline's turn in one process. Its own copy of
# the session: mira and the pipeline both add their turns to it, so they see
# the same history (the last 15 of it, so the request's size stays put).
say "2. one turn in one process: mira"
fdb=$work/front.db
cp "$(db_for "$turn_db")" "$fdb"
mira_turn="MIRA_DB=$fdb $front -s bench hi"
front_pipeline="$store load bench --db $fdb | $prompt hi | $llmstage | $store save bench --db $fdb"

# The request mira really sends, for curl: one turn each by mira and by the
# pipeline on copies of the session, against a second fake server that logs them.
python3 "$repo/Tests/Support/fake_openai.py" --behaviour normal --exit-with-parent \
  --log "$work/front-log.jsonl" > "$work/log-port" &
log_pid=$!
for _ in $(seq 100); do grep -q '^PORT=' "$work/log-port" && break; sleep 0.05; done
log_port=$(sed -n 's/^PORT=//p' "$work/log-port")
[[ -n $log_port ]] || { say "the logging fake server did not start"; exit 1; }
cp "$fdb" "$work/front-a.db"; cp "$fdb" "$work/front-b.db"
MIRA_DB=$work/front-a.db OPENAI_BASE_URL=http://127.0.0.1:$log_port/v1 "$front" -s bench hi > /dev/null
"$store" load bench --db "$work/front-b.db" | "$prompt" hi \
  | OPENAI_BASE_URL=http://127.0.0.1:$log_port/v1 "$llmstage" | "$store" save bench --db "$work/front-b.db" > /dev/null
kill "$log_pid"; wait "$log_pid" 2> /dev/null || true
# The body as sent (compact JSON, checked against its Content-Length), and
# whether mira's request equals the pipeline's.
python3 "$here/tools.py" logged-request "$work/front-log.jsonl" 1 "$work/front-request.json"
fact front_same_request "$(python3 "$here/tools.py" same-request "$work/front-log.jsonl" 1 2)"
fact front_request_bytes "$(stat -c %s "$work/front-request.json")"
front_floor="curl -sS --fail -H 'Content-Type: application/json' -H 'Authorization: Bearer bench' --data-binary @$work/front-request.json $base/chat/completions"

front_before=$(python3 "$here/tools.py" count "$fdb" bench)
fact front_load_before "$(cut -d' ' -f1-3 /proc/loadavg)"
# CPU time (user + sys) per turn: every process reaped with wait4, the
# commands taking turns (bench/cpu.py).
python3 - "$work/cpu-spec.json" <<PY
import json, sys
curl = ["curl", "-sS", "--fail", "-H", "Content-Type: application/json", "-H", "Authorization: Bearer bench",
        "--data-binary", "@$work/front-request.json", "$base/chat/completions"]
spec = {"rounds": $cpu_rounds, "warmup": $cpu_warmup, "commands": {
    "mira": {"stages": [["$front", "-s", "bench", "hi"]], "env": {"MIRA_DB": "$fdb"}},
    "pipeline": {"stages": [["$store", "load", "bench", "--db", "$fdb"], ["$prompt", "hi"], ["$llmstage"],
                            ["$store", "save", "bench", "--db", "$fdb"]]},
    "curl": {"stages": [curl]}}}
json.dump(spec, open(sys.argv[1], "w"))
PY
python3 "$here/cpu.py" "$work/cpu-spec.json" "$work/cpu-front.json"
fact cpu_rounds "$cpu_rounds"
# Wall time per turn: hyperfine, in blocks that take turns like the turn figure.
blocked front -n mira "$mira_turn" -n pipeline "$front_pipeline" -n curl "$front_floor"
fact front_load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
front_after=$(python3 "$here/tools.py" count "$fdb" bench)
# Every turn of mira and of the pipeline saved, two messages each.
expected=$((2 * 2 * (cpu_rounds + cpu_warmup + blocks * (runs / blocks + 2))))
(( front_after - front_before == expected )) || { say "mira and the pipeline saved $((front_after - front_before)) messages, expected $expected"; exit 1; }

# --- 3. each stage alone ---------------------------------------------------
say "3. each stage alone"
blocked stages \
  -n "mira-store new (start-up, no database)" "$store new" \
  -n "mira-store load" "$store load bench --db $turn" \
  -n "mira-prompt" "$prompt hi < $work/loaded.jsonl" \
  -n "mira-llm" "$llmstage < $work/prompted.jsonl"
# save is idempotent on the turn id: a fresh id makes every run a real save.
cat > "$work/fresh-turn.sh" <<'SH'
sed "s/\"turn\":\"[^\"]*\"/\"turn\":\"$(cat /proc/sys/kernel/random/uuid)\"/" "$1" > "$2"
SH
blocked save --prepare "sh $work/fresh-turn.sh $work/answered.jsonl $work/save.jsonl" \
  -n "mira-store save" "$store save bench --db $turn < $work/save.jsonl"

# --- 4. store scaling ------------------------------------------------------
say "4. store scaling"
loads=()
for n in "${sizes[@]}"; do
  loads+=(-n "$n" "$store load bench --db $(db_for "$n")")
  fact "db_bytes_$n" "$(stat -c %s "$(db_for "$n")")"
done
blocked scaling "${loads[@]}"
fact sizes "${sizes[*]}"

python3 "$here/gen_messages.py" "$import_n" > "$work/import.jsonl"
fact import_n "$import_n"
fact import_jsonl_bytes "$(stat -c %s "$work/import.jsonl")"
bench import --warmup 0 --runs 3 --prepare "rm -f $work/import.db $work/import.db-wal $work/import.db-shm" \
  -n "mira-store import" "$store import --db $work/import.db < $work/import.jsonl"

# Before the parallel runs, which load the machine on purpose.
fact load_after "$(cut -d' ' -f1-3 /proc/loadavg)"

# --- 5. parallel safety ------------------------------------------------------
say "5. parallel safety: $par_turns turns, $par_jobs at a time, $par_rounds round(s)"
par_db=$work/par.db
for round in $(seq "$par_rounds"); do
  cp "$(db_for "$turn_db")" "$par_db"; rm -f "$par_db-wal" "$par_db-shm"
  : > "$work/par-fail"; : > "$work/par-err"
  c0=$(completions)
  # Each turn is the full pipeline into the same session; a failed one is noted.
  seq "$par_turns" | xargs -P "$par_jobs" -I{} sh -c \
    '"$1" load bench --db "$4" | "$2" "parallel {}" | "$3" | "$1" save bench --db "$4" > /dev/null 2>> "$5" || echo {} >> "$6"' \
    sh "$store" "$prompt" "$llmstage" "$par_db" "$work/par-err" "$work/par-fail"
  result=$(python3 "$here/tools.py" mira-lost "$par_db" bench "$par_turns")
  fact "par_mira_$round" "$result"
  fact "par_mira_failed_$round" "$(wc -l < "$work/par-fail")"
  fact "par_mira_answers_$round" "$(( $(completions) - c0 ))"
  say "  mira round $round: $result"
  # Losing a turn is a bug, not a figure: fail the smoke run on it.
  if ((smoke)) && [[ $result != *'"lost": 0'* ]]; then cat "$work/par-err" >&2; exit 1; fi
done
if ((have_llm)); then
  for round in $(seq "$par_rounds"); do
    cp "$work/llm-seed.db" "$LLM_USER_PATH/logs.db"
    : > "$work/par-fail"; : > "$work/par-err"
    c0=$(completions)
    seq "$par_turns" | xargs -P "$par_jobs" -I{} sh -c \
      '"$1" --cid "$2" --no-stream "parallel {}" > /dev/null 2>> "$3" || echo {} >> "$4"' \
      sh "$llm" "$cid" "$work/par-err" "$work/par-fail"
    result=$(python3 "$here/tools.py" llm-lost "$LLM_USER_PATH/logs.db" "$par_turns")
    fact "par_llm_$round" "$result"
    fact "par_llm_failed_$round" "$(wc -l < "$work/par-fail")"
    fact "par_llm_locked_$round" "$(grep -c 'database is locked' "$work/par-err" || true)"
    fact "par_llm_answers_$round" "$(( $(completions) - c0 ))"
    say "  llm round $round: $result"
  done
fi
fact par_turns "$par_turns"; fact par_jobs "$par_jobs"; fact par_rounds "$par_rounds"

# --- 6. peak memory ----------------------------------------------------------
say "6. peak memory"
# Max RSS in KiB of one process (and its children), median of $rss_runs runs.
rss() {
  local name=$1 in=$2; shift 2
  for _ in $(seq "$rss_runs"); do
    if [[ -n ${prep:-} ]]; then sh -c "$prep"; fi
    /usr/bin/time -f %M -o "$work/rss" "$@" < "$in" > /dev/null
    cat "$work/rss"
  done | sort -n | awk -v name="$name" '{a[NR]=$1} END {print "rss\t" name "\t" a[int((NR+1)/2)]}' >> "$facts"
}
largest=$(db_for "${sizes[-1]}")
rss "mira-store load ($turn_db messages)" /dev/null "$store" load bench --db "$turn"
rss "mira-store load (${sizes[-1]} messages)" /dev/null "$store" load bench --db "$largest"
rss "mira-prompt" "$work/loaded.jsonl" "$prompt" hi
rss "mira-llm" "$work/prompted.jsonl" "$llmstage"
prep="sh $work/fresh-turn.sh $work/answered.jsonl $work/save.jsonl" \
  rss "mira-store save" "$work/save.jsonl" "$store" save bench --db "$turn"
prep="rm -f $work/rss-import.db*" rss_runs=1 \
  rss "mira-store import ($import_n messages)" "$work/import.jsonl" "$store" import --db "$work/rss-import.db"
rss "mira -s bench hi (one whole turn)" /dev/null env MIRA_DB="$fdb" "$front" -s bench hi
rss "curl" /dev/null curl -sS --fail -H 'Content-Type: application/json' --data-binary @"$work/request.json" "$base/chat/completions"
if ((have_llm)); then
  cp "$work/llm-seed.db" "$LLM_USER_PATH/logs.db"
  rss "llm -c" /dev/null "$llm" -c --no-stream hi
fi

# --- the report ----------------------------------------------------------------
fact uname "$(uname -a)"
fact nproc "$(nproc)"
fact cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
fact date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
fact swift "$(swift --version 2>&1 | head -1)"
fact hyperfine "$(hyperfine --version)"
fact curl "$(curl --version | head -1 | cut -d' ' -f1-2)"
fact commit "$(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- Sources Package.swift || echo ' (with uncommitted changes)')"
fact smoke "$smoke"
if ((smoke)); then out=$(mktemp /tmp/mira-bench-smoke.XXXXXX.md); else out=$here/RESULTS.md; fi
python3 "$here/report.py" "$work" "$out"
say "wrote $out"
