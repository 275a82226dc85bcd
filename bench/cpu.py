#!/usr/bin/env python3
"""CPU time (user + sys) per run of a few commands, taking turns, for bench/run.sh.

    cpu.py SPEC.json OUT.json

SPEC: {"rounds": N, "warmup": W, "commands": {NAME: {"stages": [[argv], ...],
       "stdin": PATH or null, "env": {VAR: VALUE}}, ...}}

A command is one process or a pipeline of several (stage i's stdout is stage
i+1's stdin; the last one's goes to /dev/null, stderr is kept). Each round runs
every command once, in the order given, the first command moving one place
each round, so a change in load falls on all alike. W warm-up rounds come
first and are not kept. Every process is spawned directly (no shell) and
reaped with wait4(2): a run's CPU time is the sum over its processes of
ru_utime + ru_stime (each with any children it reaped), nothing of the
server's. Its wall time, spawn of the first to exit of the last, is written
too but not what the report quotes (hyperfine measures that).

OUT: {NAME: {"cpu": [s, ...], "user": [...], "sys": [...], "wall": [...]}, ...,
      "_meta": {...}}. Exits non-zero when a run fails. Standard library only.
"""
import json
import os
import subprocess
import sys
import time


def run(stages, stdin_path, env):
    """One run: (user, sys, wall) in seconds; raises when a process fails."""
    procs = []
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    t0 = time.perf_counter()
    try:
        previous = stdin
        for i, argv in enumerate(stages):
            last = i == len(stages) - 1
            proc = subprocess.Popen(argv, stdin=previous, stdout=subprocess.DEVNULL if last else subprocess.PIPE,
                                    env=env)
            if previous not in (stdin, subprocess.DEVNULL):
                previous.close()   # the parent's copy: the stage must see EOF when its writer ends
            previous = proc.stdout
            procs.append(proc)
        user = system = 0.0
        failed = []
        for proc in procs:
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            user += usage.ru_utime
            system += usage.ru_stime
            if proc.returncode != 0:
                failed.append(f"{os.path.basename(proc.args[0])} exited {proc.returncode}")
        wall = time.perf_counter() - t0
    except BaseException:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                proc.wait()
        raise
    finally:
        if stdin is not subprocess.DEVNULL:
            stdin.close()
    if failed:
        raise RuntimeError(", ".join(failed))
    return user, system, wall


def main(spec_path, out_path):
    spec = json.load(open(spec_path))
    names = list(spec["commands"])
    envs = {name: dict(os.environ, **spec["commands"][name].get("env", {})) for name in names}
    out = {name: {"cpu": [], "user": [], "sys": [], "wall": []} for name in names}
    for round_ in range(spec["warmup"] + spec["rounds"]):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            command = spec["commands"][name]
            try:
                user, system, wall = run(command["stages"], command.get("stdin"), envs[name])
            except RuntimeError as error:
                sys.exit(f"cpu.py: {name}: {error}")
            if round_ >= spec["warmup"]:
                for key, value in (("cpu", user + system), ("user", user), ("sys", system), ("wall", wall)):
                    out[name][key].append(value)
    out["_meta"] = {"rounds": spec["rounds"], "warmup": spec["warmup"],
                    "commands": {name: [" ".join(argv) for argv in spec["commands"][name]["stages"]]
                                 for name in names}}
    with open(out_path, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(*sys.argv[1:3])
