#!/usr/bin/env python3
"""Turns one bench run's raw figures into Markdown.

    report.py WORK_DIR OUT.md

WORK_DIR holds hf/*.json (hyperfine --export-json), cpu-front.json (bench/cpu.py:
CPU time per run) and facts.tsv (key<TAB>value lines, and rss<TAB>name<TAB>KiB
lines) written by run.sh.
Every figure is a median; every comparison was measured in the same run.
"""
import json
import statistics
import sys
from pathlib import Path

PIPELINE_GOAL_MS = 25     # the pipeline within this of curl
LLM_OVERHEAD_GOAL = 40    # llm's overhead over curl, as a multiple of Mira's
FLAT_LIMIT = 1.5          # load on the largest database / on the smallest
FRONT_CPU_GOAL = 1.5      # mira's CPU time per turn / curl's


def load(work):
    facts, rss = {}, []
    for line in (work / "facts.tsv").read_text().splitlines():
        parts = line.split("\t")
        if parts[0] == "rss":
            rss.append((parts[1], int(parts[2])))
        else:
            facts[parts[0]] = parts[1]
    # "turn@2.json" is block 2 of "turn": blocks of one benchmark are merged.
    blocks = {}
    for path in sorted((work / "hf").glob("*.json")):
        for r in json.loads(path.read_text())["results"]:
            blocks.setdefault(path.stem.split("@")[0], {}).setdefault(r["command"], []).append(r)
    runs = {name: {command: merge(parts) for command, parts in commands.items()}
            for name, commands in blocks.items()}
    cpu = json.loads((work / "cpu-front.json").read_text())
    return facts, rss, runs, cpu


def merge(parts):
    """One hyperfine result from several blocks of runs of the same command."""
    times = [t for p in parts for t in p["times"]]
    weight = lambda key: sum(p[key] * len(p["times"]) for p in parts) / len(times)
    return {"command": parts[0]["command"], "times": times, "median": statistics.median(times),
            "mean": statistics.fmean(times), "stddev": statistics.stdev(times) if len(times) > 1 else 0.0,
            "min": min(times), "max": max(times), "user": weight("user"), "system": weight("system"),
            "blocks": len(parts)}


def ms(seconds):
    return seconds * 1000


def fmt(x, digits=1):
    return f"{x:,.{digits}f}"


def row(cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"


def table(header, rows):
    lines = [row(header), row(["---"] * len(header))]
    lines += [row(r) for r in rows]
    return "\n".join(lines)


def timing_rows(results, against=None):
    out = []
    for name, r in results.items():
        cells = [f"`{name}`", fmt(ms(r["median"])), f"{fmt(ms(r['mean']))} ± {fmt(ms(r['stddev']))}",
                 fmt(ms(r["min"])), fmt(ms(r["user"])), fmt(ms(r["system"])), len(r["times"])]
        if against is not None:
            cells.append(f"{r['median'] / against:.2f}x")
        out.append(cells)
    return out


TIMING = ["command", "median ms", "mean ± sd ms", "min ms", "user ms", "sys ms", "runs"]


def verdict(ok):
    return "✔ met" if ok else "✘ **missed**"


def main(work, out):
    facts, rss, runs, cpu_runs = load(Path(work))
    smoke = facts.get("smoke") == "1"
    md = []
    add = md.append
    add("# Mira benchmarks" + (" (smoke run: tiny sizes, few runs; not figures to quote)" if smoke else ""))
    add("")
    add("Written by `bench/run.sh` (`make bench`). Every figure is a median over repeated runs, and every "
        "comparison was measured in the same run on the same machine.")
    add("")
    add("## Machine")
    add("")
    add(table(["", ""], [
        ["date (UTC)", facts["date"]],
        ["load average (1, 5, 15 min)",
         f"{facts['load_before']} before the timings, {facts['load_after']} after them"],
        ["uname -a", f"`{facts['uname']}`"],
        ["nproc", facts["nproc"]],
        ["CPU", facts["cpu"]],
        ["Mira", f"commit {facts['commit']}, release, `--static-swift-stdlib`"],
        ["toolchain", facts["swift"]],
        ["tools", f"{facts['hyperfine']}, {facts['curl']}, "
                  f"llm {facts.get('llm_version', 'not installed').split()[-1]}"],
    ]))
    add("")

    turn = runs["turn"]
    mira, curl = turn["mira"]["median"], turn["curl"]["median"]
    mira_over = mira - curl
    llm = runs.get("turn-llm", {}).get("llm")
    goals = [["pipeline within 25 ms of curl", f"{fmt(ms(mira_over))} ms",
              verdict(ms(mira_over) <= PIPELINE_GOAL_MS)]]
    if llm:
        llm_over = llm["median"] - curl
        ratio = llm_over / mira_over if mira_over > 0 else float("inf")
        goals.append(["at least 40x less overhead than llm", f"{ratio:.1f}x",
                      verdict(ratio >= LLM_OVERHEAD_GOAL)])
    front_cpu = {name: r for name, r in cpu_runs.items() if not name.startswith("_")}
    cpu_median = {name: statistics.median(r["cpu"]) for name, r in front_cpu.items()}
    front_ratio = cpu_median["mira"] / cpu_median["curl"]
    goals.append([f"`mira`'s CPU time per turn at most {FRONT_CPU_GOAL}x curl's",
                  f"{front_ratio:.2f}x ({fmt(ms(cpu_median['mira']))} ms vs {fmt(ms(cpu_median['curl']))} ms)",
                  verdict(front_ratio <= FRONT_CPU_GOAL)])
    scaling = runs["scaling"]
    sizes = facts["sizes"].split()
    flat = scaling[sizes[-1]]["median"] / scaling[sizes[0]]["median"]
    goals.append([f"`load --last 15` flat from {int(sizes[0]):,} to {int(sizes[-1]):,} messages",
                  f"{flat:.2f}x", verdict(flat <= FLAT_LIMIT)])
    rounds = int(facts["par_rounds"])
    mira_lost = sum(json.loads(facts[f"par_mira_{i}"])["lost"] for i in range(1, rounds + 1))
    goals.append(["no answer lost 12 turns at a time" if not smoke else "no answer lost in parallel",
                  f"{mira_lost} lost", verdict(mira_lost == 0)])
    add("## Goals")
    add("")
    add(table(["goal", "measured", ""], goals))
    add("")

    add("## 1. One chat turn, end to end")
    add("")
    add(f"Against `Tests/Support/fake_openai.py` (the tests' fake OpenAI-compatible server, without its "
        f"request log), which answers at once. "
        f"Mira: `mira-store load bench | mira-prompt hi | mira-llm | mira-store save bench` on a session of "
        f"{int(facts['turn_db']):,} stored messages (it loads the last 15). curl: one POST of the same "
        f"request body ({int(facts['request_bytes']):,} bytes, taken from `mira-prompt`'s output): the floor. "
        f"The runs were taken in {turn['mira']['blocks']} block(s) that alternate between the tools.")
    if llm:
        add(f"llm: `llm -c --no-stream hi`, continuing a logged conversation of {facts['llm_seed_turns']} turn(s) "
            f"(reset before every run), with the same server set in a bench-private `LLM_USER_PATH` "
            f"through `extra-openai-models.yaml`.")
    add("")
    results = dict(turn)
    if llm:
        results["llm"] = llm
    add(table(TIMING + ["vs curl"], timing_rows(results, against=curl)))
    add("")
    add(f"- Mira minus curl: **{fmt(ms(mira_over))} ms** (goal: at most {PIPELINE_GOAL_MS} ms).")
    if llm:
        add(f"- Overhead over curl: llm {fmt(ms(llm_over))} ms, Mira {fmt(ms(mira_over))} ms: "
            f"**llm's is {ratio:.1f}x Mira's** (goal: at least {LLM_OVERHEAD_GOAL}x).")
    cpu = lambda r: ms(r["user"] + r["system"])
    add(f"- CPU time (user + sys, all processes): Mira {fmt(cpu(turn['mira']))} ms, curl "
        f"{fmt(cpu(turn['curl']))} ms" + (f", llm {fmt(cpu(llm))} ms." if llm else "."))
    add("")

    add("## 2. One turn in one process: `mira`")
    add("")
    front = runs["front"]
    same = {"yes": "equal, as parsed JSON, to what the pipeline's `mira-llm` sent",
            "no": "**not** equal to what the pipeline's `mira-llm` sent"}[facts["front_same_request"]]
    add(f"`mira -s bench hi` does the turn above in one process: it loads the last 15 messages of the session, "
        f"builds the request, posts it with libcurl, validates the reply, saves the turn and prints the reply. "
        f"It runs with `MIRA_DB` on its own copy of the {int(facts['turn_db']):,}-message session, which the "
        f"pipeline (`mira-store load bench | mira-prompt hi | mira-llm | mira-store save bench`) shares, so both "
        f"see the same history; `OPENAI_BASE_URL` points at the same fake server, `XDG_STATE_HOME` and "
        f"`XDG_CONFIG_HOME` at scratch folders. curl posts the body mira sent "
        f"({int(facts['front_request_bytes']):,} bytes, taken from a logging fake server; it is {same}). "
        f"Load average (1, 5, 15 min) {facts['front_load_before']} before this section, "
        f"{facts['front_load_after']} after it.")
    add("")
    add("**CPU time per turn** (user + sys of every process of the turn, reaped with `wait4`; "
        f"{len(front_cpu['mira']['cpu'])} turns of each, taking turns; `bench/cpu.py`):")
    add("")
    rows = []
    for name, r in front_cpu.items():
        rows.append([f"`{name}`", fmt(ms(cpu_median[name]), 2), fmt(ms(statistics.fmean(r["cpu"])), 2),
                     fmt(ms(min(r["cpu"])), 2), fmt(ms(statistics.median(r["user"])), 2),
                     fmt(ms(statistics.median(r["sys"])), 2), len(r["cpu"]),
                     f"{cpu_median[name] / cpu_median['curl']:.2f}x"])
    add(table(["command", "CPU median ms", "mean ms", "min ms", "user median ms", "sys median ms", "turns",
               "vs curl"], rows))
    add("")
    add(f"- `mira`/curl: **{front_ratio:.2f}x** (goal: at most {FRONT_CPU_GOAL}x) "
        f"{'✔' if front_ratio <= FRONT_CPU_GOAL else '✘'}; the pipeline/curl: "
        f"{cpu_median['pipeline'] / cpu_median['curl']:.2f}x; `mira`/the pipeline: "
        f"{cpu_median['mira'] / cpu_median['pipeline']:.2f}x.")
    add("")
    add(f"**Wall time per turn** (hyperfine, {front['mira']['blocks']} block(s) alternating between the three):")
    add("")
    add(table(TIMING + ["vs curl"], timing_rows(front, against=front["curl"]["median"])))
    add("")
    wall = {name: r["median"] for name, r in front.items()}
    add(f"- `mira` minus curl: **{fmt(ms(wall['mira'] - wall['curl']))} ms**; the pipeline minus curl: "
        f"{fmt(ms(wall['pipeline'] - wall['curl']))} ms; `mira` takes "
        f"**{wall['mira'] / wall['pipeline']:.2f}x** the pipeline's wall time "
        f"({fmt(ms(abs(wall['pipeline'] - wall['mira'])))} ms "
        f"{'less' if wall['mira'] <= wall['pipeline'] else 'more'}).")
    add("")
    add("## 3. Each stage alone")
    add("")
    add("Process start to exit, output to /dev/null. `mira-store new` prints an id and opens no database: "
        "it is the cost of starting a Mira process at all. `load` reads the session above; `mira-prompt` "
        "reads the loaded record; `mira-llm` reads the prompted record and calls the fake server; "
        "`save` stores a turn with a fresh id each run.")
    add("")
    stages = dict(runs["stages"])
    stages.update(runs["save"])
    add(table(TIMING, timing_rows(stages)))
    add("")
    total = sum(r["median"] for n, r in stages.items() if not n.startswith("mira-store new"))
    add(f"Sum of the four stages: {fmt(ms(total))} ms (the pipeline runs them at once, so it takes less).")
    add("")

    add("## 4. Store scaling")
    add("")
    add("`mira-store load bench --last 15` (the default) on databases holding one session of N messages "
        "(warm page cache). Bytes on disk: the database file after import, divided by N.")
    add("")
    base = scaling[sizes[0]]["median"]
    rows = []
    for n in sizes:
        r = scaling[n]
        size = int(facts[f"db_bytes_{n}"])
        rows.append([f"{int(n):,}", fmt(ms(r["median"]), 2), fmt(ms(r["min"]), 2), f"{r['median'] / base:.2f}x",
                     f"{size / 2**20:,.1f} MiB", fmt(size / int(n), 0)])
    add(table(["messages", "load median ms", "min ms", "vs smallest", "file", "bytes/message"], rows))
    add("")
    imp = runs["import"]["mira-store import"]
    n_imp = int(facts["import_n"])
    per_line = int(facts["import_jsonl_bytes"]) / n_imp
    add(f"Import: `mira-store import < file` of {n_imp:,} messages ({per_line:.0f} bytes of JSON a line, "
        f"contents averaging about 180 bytes) into a new database, median of {len(imp['times'])} runs: "
        f"{fmt(imp['median'], 2)} s, **{n_imp / imp['median']:,.0f} messages/s**.")
    built = [(k[6:], v) for k, v in facts.items() if k.startswith("built_")]
    if built:
        add("Databases built in this run (generator piped into import): " +
            ", ".join(f"{int(n):,} messages in {v} s" for n, v in built) + ".")
    add("")

    add("## 5. Parallel safety")
    add("")
    add(f"{facts['par_turns']} turns, {facts['par_jobs']} at a time through `xargs -P {facts['par_jobs']}`, "
        f"{rounds} round(s), all into one conversation. Mira: the full four-process pipeline into the "
        f"{int(facts['turn_db']):,}-message session. llm: `llm --cid ID --no-stream \"parallel N\"` into its "
        "seeded conversation. A turn is lost when it is not in the store afterwards (Mira: its user message "
        "and its reply; llm: its prompt in the log), whether or not the command failed. "
        "Answers: chat completions the server produced during the round.")
    add("")
    rows = []
    for tool in ("mira", "llm"):
        if f"par_{tool}_1" not in facts:
            continue
        for i in range(1, rounds + 1):
            r = json.loads(facts[f"par_{tool}_{i}"])
            locked = facts.get(f"par_{tool}_locked_{i}", "0")
            rows.append([tool, i, r["turns"], facts[f"par_{tool}_answers_{i}"], r["saved"], f"**{r['lost']}**",
                         facts[f"par_{tool}_failed_{i}"], locked])
    add(table(["tool", "round", "turns", "answers", "saved", "lost", "failed commands", "\"database is locked\""], rows))
    add("")

    add("## 6. Peak memory")
    add("")
    add("Max RSS from `/usr/bin/time -f %M` (KiB, median of several runs), one process each.")
    add("")
    add(table(["process", "max RSS"], [[f"`{n}`", f"{kib / 1024:.1f} MiB"] for n, kib in rss]))
    add("")

    add("## How it was measured")
    add("")
    add("- `bench/run.sh` builds with `swift build -c release --static-swift-stdlib`, starts "
        "`Tests/Support/fake_openai.py --behaviour normal` on 127.0.0.1, and runs hyperfine (`--export-json`; medians are read from "
        "it). Commands run through `sh -c`, whose own start-up hyperfine measures and subtracts, so "
        "pipelines and redirections cost the same for every tool. Runs are taken in blocks that "
        "alternate between the commands compared (the block medians are merged from every run's "
        "time), so a burst of other work on the machine does not fall on one command alone. The load "
        "average above tells how busy the machine was.")
    add("- Databases are made by `bench/gen_messages.py` (deterministic JSON Lines) piped into "
        "`mira-store import`, cached by size under `${XDG_CACHE_HOME:-~/.cache}/mira/bench`; the turn "
        "figures use a copy. Loads run on a warm page cache (hyperfine warm-up runs).")
    add("- llm is installed from PyPI into a virtual environment in the same cache folder.")
    add("- CPU time per turn: `bench/cpu.py` spawns each process itself (no shell; a pipeline's four "
        "stages joined by pipes) and adds up `ru_utime + ru_stime` from `wait4` of each; each round runs "
        "every command once, the first one moving a place each round, after warm-up rounds that are not kept. "
        "The kernel keeps a process's CPU time exactly but splits it into user and sys by sampling at clock "
        "ticks, so for processes this short only the sum is to be trusted. "
        "The user and sys columns of the hyperfine tables are hyperfine's means.")
    add("- Peak memory: `/usr/bin/time -f %M`. Parallel runs: `xargs -P`, counted afterwards from "
        "each store with `bench/tools.py`.")
    Path(out).write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
