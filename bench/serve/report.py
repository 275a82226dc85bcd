#!/usr/bin/env python3
"""bench/serve's report: one run folder's JSON (load.py's) and facts into RESULTS.md.

    report.py WORK OUT RUNS

Per run: the floor (floor-R.json) and mira-serve's two rounds (serve-R-1.json,
serve-R-2.json). Latency percentiles are nearest-rank over every turn of a
round; the report gives each run's figures and their medians over the runs.
"""
import json
import math
import statistics
import sys
from pathlib import Path

ADDED_P99_GOAL_MS = 20.0
# "Flat": the second identical round grows RSS by under 5 % of what it was
# (glibc's arenas and SQLite's page caches move by a few MB from round to round).
FLAT_GOAL = 0.05


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def facts_of(work):
    facts = {}
    for line in (work / "facts.tsv").read_text().splitlines():
        key, _, value = line.partition("\t")
        facts[key] = value
    return facts


def run_figures(work, run):
    floor = json.loads((work / f"floor-{run}.json").read_text())
    rounds = [json.loads((work / f"serve-{run}-{r}.json").read_text()) for r in (1, 2)]
    f = {"floor_p50": percentile(floor["latencies_ms"], 0.5), "floor_p99": percentile(floor["latencies_ms"], 0.99),
         "floor_wall": floor["wall_s"], "floor_lost": floor["lost"], "floor_failed": floor["failed"]}
    for r, data in enumerate(rounds, 1):
        lat = data["latencies_ms"] or [float("nan")]
        f[f"r{r}_p50"] = percentile(lat, 0.5)
        f[f"r{r}_p99"] = percentile(lat, 0.99)
        f[f"r{r}_max"] = max(lat)
        f[f"r{r}_added_p50"] = f[f"r{r}_p50"] - f["floor_p50"]
        f[f"r{r}_added_p99"] = f[f"r{r}_p99"] - f["floor_p99"]
        f[f"r{r}_wall"] = data["wall_s"]
        f[f"r{r}_turns"] = data["turns"]
        f[f"r{r}_lost"] = data["lost"]
        f[f"r{r}_failed"] = data["failed"]
        f[f"r{r}_bad_histories"] = data["bad_histories"]
        f[f"r{r}_cpu_ms"] = data["cpu_ticks"] / data["ticks_per_second"] * 1000 / max(1, data["turns"])
    f["rss_start"] = rounds[0]["rss_kb"][0]
    f["rss_r1"] = rounds[0]["rss_kb"][2]
    f["rss_r2"] = rounds[1]["rss_kb"][2]
    f["rss_growth"] = (f["rss_r2"] - f["rss_r1"]) / f["rss_r1"]
    return f


def main():
    work, out, runs = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    facts = facts_of(work)
    per_run = [run_figures(work, r) for r in range(1, runs + 1)]

    def med(key):
        return statistics.median(f[key] for f in per_run)

    clients, turns = int(facts["clients"]), int(facts["turns"])
    lines = []
    add = lines.append
    add("# mira-serve under load")
    add("")
    add(f"Written by `bench/serve/run.sh` (`make bench-serve`). {clients} clients at once, each on its own "
        f"keep-alive connection and keeping the `mira_id` cookie its first answer gave it, send {turns} turns "
        f"one after another (`POST /chat`, not streamed) to `mira-serve`, whose model is "
        f"`Tests/Support/fake_openai.py --behaviour delay:{facts['delay']}` (every answer after "
        f"{facts['delay']} ms, streamed at full speed). The floor is the same load sent straight to the fake "
        f"model in the same run: {clients} clients x {turns} requests to `/v1/chat/completions`, turn k "
        f"posting the body mira-serve sent for its turn k ({facts['body_bytes'].replace(' ', ' to ')} bytes, "
        f"captured beforehand from the fake server's log). Each run starts a fresh `mira-serve` "
        f"({('options `' + facts['serve_args'] + '`') if facts.get('serve_args') else 'default options'}) on an empty database and sends it two identical rounds; the floor goes first in odd runs "
        f"and last in even ones. The client is `bench/serve/load.py` (Python asyncio, raw HTTP/1.1), the same "
        f"for both. Figures are medians over {runs} run(s); latency percentiles are over every turn of a round.")
    add("")
    add("## Machine")
    add("")
    add("|  |  |")
    add("| --- | --- |")
    for label, key in [("date (UTC)", "date"), ("uname -a", "uname"), ("nproc", "nproc"), ("CPU", "cpu"),
                       ("Mira", "commit"), ("build", "build"), ("toolchain", "toolchain"), ("client", "python")]:
        value = facts.get(key, "?")
        add(f"| {label} | `{value}` |" if key == "uname" else f"| {label} | {value} |")
    add(f"| load average (1, 5, 15 min) | {facts['load_before']} before, {facts['load_after']} after |")
    add("")
    add("The machine is shared (2 cores; other engineers build on it), and the fake model, the client and "
        "mira-serve all run on it: the load average above says how busy it was.")
    add("")

    lost = sum(f["r1_lost"] + f["r2_lost"] + f["floor_lost"] for f in per_run)
    failed = sum(f["r1_failed"] + f["r2_failed"] + f["floor_failed"] for f in per_run)
    bad = sum(f["r1_bad_histories"] + f["r2_bad_histories"] for f in per_run)
    added = med("r1_added_p99")
    growth = med("rss_growth")
    mark = lambda ok: "✔ met" if ok else "✘ **missed**"
    add("## Goals")
    add("")
    add("| goal | measured |  |")
    add("| --- | --- | --- |")
    add(f"| no error, no lost turn, every history whole ({2 * turns} messages each) | "
        f"{failed} failed, {lost} lost, {bad} histories not whole | {mark(failed == 0 and lost == 0 and bad == 0)} |")
    add(f"| added p99 at most {ADDED_P99_GOAL_MS:.0f} ms (first round, a fresh server) | {added:.1f} ms | "
        f"{mark(added <= ADDED_P99_GOAL_MS)} |")
    per_turn = (med('rss_r2') - med('rss_r1')) * 1024 / (clients * turns)
    add(f"| memory flat (a second identical round grows RSS under {FLAT_GOAL:.0%}) | "
        f"{growth:+.1%} ({med('rss_r1') / 1024:.1f} → {med('rss_r2') / 1024:.1f} MB, {per_turn:+,.0f} bytes a turn) | "
        f"{mark(growth < FLAT_GOAL)} |")
    add("")

    add("## Latency of a turn (ms)")
    add("")
    add("| | p50 | p99 | max | added p50 | added p99 | wall time of the round (s) |")
    add("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    add(f"| floor: straight to the fake model | {med('floor_p50'):.1f} | {med('floor_p99'):.1f} | | | | "
        f"{med('floor_wall'):.2f} |")
    for r, what in ((1, "mira-serve, round 1 (workers made)"), (2, "mira-serve, round 2 (workers reused)")):
        add(f"| {what} | {med(f'r{r}_p50'):.1f} | {med(f'r{r}_p99'):.1f} | {med(f'r{r}_max'):.1f} | "
            f"{med(f'r{r}_added_p50'):.1f} | {med(f'r{r}_added_p99'):.1f} | {med(f'r{r}_wall'):.2f} |")
    add("")
    add("Added = mira-serve's percentile minus the floor's, within each run. A turn through mira-serve "
        "is one request to the model, as the floor's is, plus what mira-serve does around it: HTTP, "
        "the session looked up, the history loaded, the request built, the reply read and validated, "
        "the turn saved (SQLite, `synchronous = FULL`).")
    add("")

    add("## CPU and memory of mira-serve")
    add("")
    add("| | median |")
    add("| --- | ---: |")
    add(f"| CPU time per turn, round 1 (utime + stime from /proc) | {med('r1_cpu_ms'):.2f} ms |")
    add(f"| CPU time per turn, round 2 | {med('r2_cpu_ms'):.2f} ms |")
    add(f"| RSS at start | {med('rss_start') / 1024:.1f} MB |")
    add(f"| RSS after round 1 (and its history reads) | {med('rss_r1') / 1024:.1f} MB |")
    add(f"| RSS after round 2 | {med('rss_r2') / 1024:.1f} MB |")
    add(f"| threads after both rounds | {statistics.median(int(facts[f'threads_{r}']) for r in range(1, runs + 1)):.0f} |")
    add("")

    add("## Each run")
    add("")
    add("| run | floor p50 / p99 | round 1 p50 / p99 | round 2 p50 / p99 | added p99 (1, 2) | CPU/turn (1, 2) | RSS start → 1 → 2 (MB) |")
    add("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for i, f in enumerate(per_run, 1):
        add(f"| {i} | {f['floor_p50']:.1f} / {f['floor_p99']:.1f} | {f['r1_p50']:.1f} / {f['r1_p99']:.1f} | "
            f"{f['r2_p50']:.1f} / {f['r2_p99']:.1f} | {f['r1_added_p99']:.1f}, {f['r2_added_p99']:.1f} | "
            f"{f['r1_cpu_ms']:.2f}, {f['r2_cpu_ms']:.2f} ms | "
            f"{f['rss_start'] / 1024:.1f} → {f['rss_r1'] / 1024:.1f} → {f['rss_r2'] / 1024:.1f} |")
    add("")
    out.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
