#!/usr/bin/env bash
# with-deadline.sh SECONDS COMMAND...: runs COMMAND; if it is still running
# after SECONDS, prints what each of its processes is doing (the process tree,
# and every thread's stack through gdb), stops them all and exits 124.
# make test runs `swift test` under it, so a hung test fails the run with its
# cause in the log instead of running into CI's own limit with no clue.
set -uo pipefail
limit=$1; shift
script_pid=$$

# Everything under this script but the watcher, parents first.
tree() {
  ps -eo pid=,ppid= | awk -v root="$script_pid" -v skip="$1" '
    { parent[$1] = $2; order[NR] = $1 }
    END { keep[root] = 1
          for (changed = 1; changed; ) { changed = 0
            for (i = 1; i <= NR; i++) { p = order[i]
              if (!(p in keep) && p != skip && (parent[p] in keep)) { keep[p] = 1; print p; changed = 1 } } } }'
}

dump_and_stop() {
  local watcher_pid=$BASHPID pids
  pids=$(tree "$watcher_pid")
  [ -n "$pids" ] || return
  echo "with-deadline: still running after $limit s: $*; what its processes are doing:" >&2
  ps -o pid,ppid,pgid,etimes,stat,wchan:24,args -p "$(echo $pids | tr ' ' ,)" >&2
  if command -v gdb >/dev/null 2>&1; then
    for pid in $pids; do
      echo "--- process $pid: $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-300)" >&2
      timeout 60 gdb -p "$pid" -batch -ex 'thread apply all bt 25' 2>/dev/null | grep -E '^(Thread|#)' >&2
    done
  fi
  kill -KILL $pids 2>/dev/null
}

# The watcher sleeps a second at a time, so nothing of it outlives the script
# by more than that; it leaves early if the script is gone (a Ctrl-C).
( for ((i = 0; i < limit; i++)); do
    sleep 1
    kill -0 "$script_pid" 2>/dev/null || exit 0
  done
  dump_and_stop "$@"
  exit 1 ) &
watcher=$!

# In the foreground, so a Ctrl-C reaches it as it would without this script.
"$@"
status=$?
kill "$watcher" 2>/dev/null
wait "$watcher"
[ $? -eq 1 ] && exit 124
exit "$status"
