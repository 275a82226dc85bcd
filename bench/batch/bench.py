#!/usr/bin/env python3
"""The batch speed benchmark's measuring half (bench/batch/run.sh sets it up).

    bench.py --mira PATH|"" --python VENV_PYTHON --cache DIR --out FILE [--smoke]

Runs, against the tests' fake OpenAI server (Tests/Support/fake_openai.py, no
request log) on loopback:
  1. N records (5,000; smoke 300) at -j 64 with every answer after 100 ms, by
     mira-llm and by openai_client.py (the openai package on asyncio), taking
     turns, R times each (3; smoke 1): wall time against the ideal N x 0.1 / 64 s,
     CPU time (user + sys) per record, peak memory;
  2. a big input (1 GB; smoke 20 MB) with answers at once, output to /dev/null:
     peak memory and wall time of each.
Each client is one child process measured by wait4(2): its own CPU time and
max RSS, nothing of the server's. Writes a Markdown report to --out and prints
its table. Exits non-zero when a run loses or fails records (the figures
themselves never fail it: this is a benchmark, not a test).
Standard library only.
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FAKE_SERVER = os.path.join(REPO, "Tests", "Support", "fake_openai.py")
JOBS = 64
DELAY_MS = 100
GOAL_RATIO = 1.15
GOAL_CPU_MS = 1.0
GOAL_RSS_MB = 64


def say(text):
    print(f"bench/batch [{time.strftime('%H:%M:%S')}]: {text}", file=sys.stderr, flush=True)


def behaviour(delay_ms):
    """The fake server's behaviour for answers after delay_ms (0: at once)."""
    return f"delay:{delay_ms}" if delay_ms else "normal"


class Server:
    """The fake server as a child, answering every completion after delay_ms
    and logging nothing; it ends when we close its stdin or die."""

    def __init__(self, delay_ms):
        self.proc = subprocess.Popen([sys.executable, FAKE_SERVER, "--behaviour", behaviour(delay_ms),
                                      "--exit-on-stdin-eof"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT="):
            raise SystemExit("bench/batch: the fake server did not start")
        self.port = int(line.strip()[5:])
        self.base = f"http://127.0.0.1:{self.port}/v1"

    def completions(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=10) as r:
            return json.load(r)["completions"]

    def stop(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def measure(cmd, stdin_path, stdout_path, stderr_path, env):
    """Run one child; its wall time, CPU seconds, max RSS (KiB) and exit status."""
    with open(stdin_path, "rb") as fin, open(stdout_path, "wb") as fout, open(stderr_path, "wb") as ferr:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=fin, stdout=fout, stderr=ferr, env=env)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:   # interrupted: take the client down with us
            proc.kill()
            proc.wait()
            raise
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_kib": usage.ru_maxrss,
            "status": proc.returncode}


def check_output(path, n):
    """Lines written, records with error, and whether turns came back in input order."""
    lines = errors = 0
    ordered = True
    with open(path, "rb") as f:
        for line in f:
            lines += 1
            record = json.loads(line)
            errors += "error" in record or "reply" not in record
            if record.get("turn") != f"b-{lines}":
                ordered = False
    return {"lines": lines, "errors": errors, "ordered": ordered and lines == n}


def count_lines(path):
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def median(values):
    return statistics.median(values) if values else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mira", default="", help="mira-llm with -j, or empty to skip Mira's rows")
    ap.add_argument("--mira-note", default="", help="why Mira's rows are skipped")
    ap.add_argument("--python", required=True, help="the virtual environment's python (with openai)")
    ap.add_argument("--cache", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--no-python-memory", action="store_true", help="skip the Python client's big-input run")
    args = ap.parse_args()

    n = 300 if args.smoke else 5000
    reps = 1 if args.smoke else 3
    big = "20M" if args.smoke else "1G"
    ideal = n * DELAY_MS / 1000 / JOBS
    work = tempfile.mkdtemp(prefix="mira-batch-bench.")
    failures = []
    load_before = open("/proc/loadavg").read().split()[:3]
    py_cmd = [args.python, os.path.join(HERE, "openai_client.py"), "-j", str(JOBS)]
    mira_cmd = [args.mira, "-j", str(JOBS)] if args.mira else None
    clients = ([("mira", mira_cmd)] if mira_cmd else []) + [("python", py_cmd)]
    runs = {name: [] for name, _ in clients}
    big_runs = {}
    servers = []
    try:
        # --- inputs -------------------------------------------------------
        small = os.path.join(work, "input.jsonl")
        with open(small, "wb") as f:
            subprocess.run([sys.executable, os.path.join(HERE, "make_input.py"), str(n)], stdout=f, check=True)
        small_bytes = os.path.getsize(small)
        key = subprocess.run([sys.executable, os.path.join(HERE, "make_input.py"), "--key", "--bytes"],
                             capture_output=True, text=True, check=True).stdout.strip()
        if args.smoke:
            big_path = os.path.join(work, "big.jsonl")
        else:
            big_path = os.path.join(args.cache, f"batch-input-{big}-{key}.jsonl")
            for old in os.listdir(args.cache):
                if old.startswith(f"batch-input-{big}-") and old != os.path.basename(big_path):
                    os.remove(os.path.join(args.cache, old))   # made by an older make_input.py
        if not os.path.exists(big_path):
            say(f"writing the {big} input to {big_path}")
            with open(big_path + ".tmp", "wb") as f:
                subprocess.run([sys.executable, os.path.join(HERE, "make_input.py"), "--bytes", big],
                               stdout=f, check=True)
            os.replace(big_path + ".tmp", big_path)
        big_bytes = os.path.getsize(big_path)
        big_n = count_lines(big_path)

        # --- 1. N records at -j 64, 100 ms answers --------------------------
        server = Server(DELAY_MS)
        servers.append(server)
        env = dict(os.environ, OPENAI_BASE_URL=server.base, OPENAI_API_KEY="bench")
        for rep in range(1, reps + 1):
            for name, cmd in clients:
                say(f"1. {n} records, -j {JOBS}, {DELAY_MS} ms server: {name}, run {rep}/{reps}")
                before = server.completions()
                out = os.path.join(work, f"{name}.out")
                err = os.path.join(work, f"{name}.err")
                m = measure(cmd, small, out, err, env)
                m.update(check_output(out, n))
                m["answered"] = server.completions() - before
                runs[name].append(m)
                say(f"   {m['wall']:.2f} s wall ({m['wall'] / ideal:.2f} x ideal), "
                    f"{m['cpu'] * 1000 / n:.2f} ms CPU/record, {m['rss_kib'] / 1024:.1f} MiB, "
                    f"exit {m['status']}, {m['lines']} lines, {m['errors']} failed")
                if m["status"] != 0 or m["errors"] or not m["ordered"] or m["answered"] < n:
                    failures.append(f"{name} run {rep}: exit {m['status']}, {m['lines']}/{n} lines, "
                                    f"{m['errors']} failed, ordered={m['ordered']}, answered={m['answered']}")
                    sys.stderr.write(open(err, errors="replace").read()[-2000:])
                if name == "python":
                    try:
                        m["inner"] = json.loads(open(err).read().strip().splitlines()[-1])
                    except (ValueError, IndexError):
                        pass
        server.stop()

        # --- 2. the big input, answers at once -------------------------------
        server = Server(0)
        servers.append(server)
        env = dict(os.environ, OPENAI_BASE_URL=server.base, OPENAI_API_KEY="bench")
        for name, cmd in clients:
            if name == "python" and args.no_python_memory:
                continue
            say(f"2. {big_bytes / 1e6:.0f} MB input ({big_n} records), server at 0 ms: {name}")
            before = server.completions()
            err = os.path.join(work, f"{name}-big.err")
            m = measure(cmd, big_path, os.devnull, err, env)
            m["answered"] = server.completions() - before
            big_runs[name] = m
            say(f"   {m['rss_kib'] / 1024:.1f} MiB max RSS, {m['wall']:.1f} s, exit {m['status']}, "
                f"{m['answered']}/{big_n} answered")
            if m["status"] != 0 or m["answered"] < big_n:
                failures.append(f"{name} big input: exit {m['status']}, answered {m['answered']}/{big_n}")
                sys.stderr.write(open(err, errors="replace").read()[-2000:])
        server.stop()
    finally:
        for s in servers:
            if s.proc.poll() is None:
                s.stop()
        shutil.rmtree(work, ignore_errors=True)

    # --- the report --------------------------------------------------------------
    def med(name, key, scale=1.0):
        values = [r[key] * scale for r in runs.get(name, [])]
        return median(values)

    def cell(name, fmt, key, scale=1.0):
        value = med(name, key, scale)
        return "skipped" if value is None else fmt.format(value)

    def verdict(value, limit):
        if value is None:
            return ""
        return " ✔" if value <= limit else " ✘"

    py_version = subprocess.run([args.python, "-c", "import openai, sys; print(openai.__version__, sys.version.split()[0])"],
                                capture_output=True, text=True).stdout.split()
    py_label = f"Python (openai {py_version[0]}, asyncio)" if py_version else "Python (openai)"
    mira_wall = med("mira", "wall")
    mira_cpu = med("mira", "cpu", 1000 / n)
    mira_big = big_runs.get("mira", {}).get("rss_kib")
    py_big = big_runs.get("python", {}).get("rss_kib")

    def wall_cell(name):
        wall = med(name, "wall")
        return "skipped" if wall is None else f"{wall:.2f} s ({wall / ideal:.2f} × ideal)"

    rows = [
        ("figure", "goal", "Mira (mira-llm -j 64)", py_label),
        (f"{n:,} records, -j {JOBS}, {DELAY_MS} ms server: wall time",
         f"≤ {GOAL_RATIO * ideal:.2f} s ({GOAL_RATIO} × ideal {ideal:.2f} s)",
         wall_cell("mira") + (verdict(mira_wall, GOAL_RATIO * ideal) if mira_wall else ""),
         wall_cell("python")),
        ("CPU time (user+sys) per record", f"< {GOAL_CPU_MS:.0f} ms",
         cell("mira", "{:.3f} ms", "cpu", 1000 / n) + verdict(mira_cpu, GOAL_CPU_MS),
         cell("python", "{:.3f} ms", "cpu", 1000 / n)),
        ("max RSS, that run", "—", cell("mira", "{:.1f} MiB", "rss_kib", 1 / 1024),
         cell("python", "{:.1f} MiB", "rss_kib", 1 / 1024)),
        (f"{big_bytes / 1e6:,.0f} MB input ({big_n:,} records), 0 ms server: max RSS", f"< {GOAL_RSS_MB} MB",
         ("skipped" if mira_big is None else f"{mira_big / 1024:.1f} MiB = {mira_big * 1024 / 1e6:.1f} MB"
          + verdict(mira_big * 1024 / 1e6, GOAL_RSS_MB)),
         "skipped" if py_big is None else f"{py_big / 1024:.1f} MiB = {py_big * 1024 / 1e6:.1f} MB"),
        ("that run: wall time", "—",
         "skipped" if "mira" not in big_runs else f"{big_runs['mira']['wall']:.1f} s",
         "skipped" if "python" not in big_runs else f"{big_runs['python']['wall']:.1f} s"),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    table = "\n".join("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" +
                      ("\n|" + "|".join("-" * (w + 2) for w in widths) + "|" if i == 0 else "")
                      for i, r in enumerate(rows))
    print(table)

    lines = [
        "# Batch speed: mira-llm -j 64 against the openai package on asyncio",
        "",
        "Written by `bench/batch/run.sh`" + (" --smoke (tiny sizes: not figures to quote)" if args.smoke else "") +
        f" on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Medians of {reps} run(s) each, the two clients "
        "taking turns against the same server in the same run.",
        "",
        table,
        "",
        "✔/✘: Mira against the goal. Wall time and CPU are of the client process alone (`wait4`), start-up "
        f"included; the server is `Tests/Support/fake_openai.py --behaviour {behaviour(DELAY_MS)}` (Python "
        "asyncio, no request log) on the same cores. "
        f"The ideal is {n:,} × {DELAY_MS / 1000} s / {JOBS} = {ideal:.2f} s. The memory goal is read as "
        f"{GOAL_RSS_MB} MB = {GOAL_RSS_MB} × 10⁶ bytes ({GOAL_RSS_MB * 1e6 / 2**20:.1f} MiB); "
        f"max RSS is what the kernel reports (KiB), shown both ways.",
        "",
    ]
    if not args.mira:
        lines += [f"**Mira's rows are skipped**: {args.mira_note or 'no mira-llm with -j'}.", ""]
    if runs.get("python"):
        inner = [r["inner"] for r in runs["python"] if "inner" in r]
        if inner:
            lines += [f"The Python client spends {median([i['import_s'] for i in inner]):.2f} s importing `openai` "
                      f"before its first request; from first request to last write it took "
                      f"{median([i['work_s'] for i in inner]):.2f} s (median).", ""]
    if "python" not in big_runs:
        lines += ["The Python client's big-input run was skipped (`--no-python-memory`).", ""]
    lines += ["## Every run", "", "| client | run | wall s | CPU s | CPU ms/record | max RSS MiB | exit | records ok |",
              "|---|---|---|---|---|---|---|---|"]
    for name, rs in runs.items():
        for i, r in enumerate(rs, 1):
            lines.append(f"| {name} | {i} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['cpu'] * 1000 / n:.3f} | "
                         f"{r['rss_kib'] / 1024:.1f} | {r['status']} | {r['lines'] - r['errors']}/{n} |")
    for name, r in big_runs.items():
        lines.append(f"| {name} | big input | {r['wall']:.1f} | {r['cpu']:.1f} | {r['cpu'] * 1000 / big_n:.3f} | "
                     f"{r['rss_kib'] / 1024:.1f} | {r['status']} | {r['answered']}/{big_n} answered |")
    cpu = "?"
    try:
        cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read()).group(1)
    except (OSError, AttributeError):
        pass
    lines += ["", "## Machine", "",
              f"- {os.cpu_count()} cores, {cpu}; {platform.platform()}",
              f"- load average before: {' '.join(load_before)}; after: {' '.join(open('/proc/loadavg').read().split()[:3])}",
              f"- Python {py_version[1] if len(py_version) > 1 else '?'} for the client, "
              f"{platform.python_version()} for the server",
              f"- mira-llm: {args.mira or 'not run'}",
              f"- small input: {n:,} records, {small_bytes:,} bytes (mira-prompt's requests, when built)",
              f"- big input: {big_bytes:,} bytes, {big_n:,} records (about 10 KB of history each)",
              ""]
    if failures:
        lines += ["## Failures", ""] + [f"- {f}" for f in failures] + [""]
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    say(f"wrote {args.out}")
    for f in failures:
        say("FAILED: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
