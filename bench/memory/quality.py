#!/usr/bin/env python3
"""Mira's memory quality benchmark: recall@1/5/10 of planted facts for the
vector, keyword and fused rankings, indexing throughput with a real
embedding server, and the vectors' bytes on disk, all in one run.

    quality.py --bin DIR [--smoke] [--results FILE] [--sessions N] [--keep DIR]

--bin is the folder holding release builds of mira-store and mira-memory.
The embedding server comes from the environment, as Mira reads it
(MIRA_EMBED_BASE_URL, MIRA_EMBED_MODEL, MIRA_EMBED_MAX_INPUT); run.sh points
it at scripts/local-server.sh's. Everything the run writes (data set,
database, config and state folders) is in a scratch folder, so the user's
database and settings are never touched.

The report section goes into --results (bench/memory/RESULTS.md by
default, between its quality markers, other sections left as they are) and
to stdout. Exit status: 0 done; 1 a step failed (one line on stderr names
it); 64 bad usage; 69 no embedding server configured or it does not answer.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import quality_data  # noqa: E402

RANKINGS = ("vector", "keyword", "fused")
KINDS = ("paraphrase", "keyword")
CUTS = (1, 5, 10)
BEGIN = "<!-- quality: bench/memory/quality.py writes from here -->"
END = "<!-- quality: end -->"


class StepFailed(Exception):
    """A step of the run went wrong; the message names the step and why."""


def fail(message, status=1):
    print(f"quality: {message}", file=sys.stderr)
    sys.exit(status)


def run(step, argv, env, stdin=None):
    """Runs a command; its stdout, or StepFailed naming the step and the command's last stderr line."""
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as feed:
        p = subprocess.run(argv, env=env, stdin=feed, capture_output=True)
    if p.returncode != 0:
        err = p.stderr.decode("utf-8", "replace").strip().splitlines()
        raise StepFailed(f"{step}: exit {p.returncode}: {err[-1] if err else '(no message)'}")
    return p.stdout.decode("utf-8"), p.stderr.decode("utf-8", "replace")


def scratch_env(work):
    """The environment of every command: the embedding settings kept, all
    of Mira's places pointed into the scratch folder."""
    env = dict(os.environ)
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = os.path.join(work, name.lower())
        os.makedirs(env[name], exist_ok=True)
    env["MIRA_DB"] = os.path.join(work, "memory.db")
    return env


def check_server(env):
    """Fails with 69 unless the embedding settings are there and the server embeds a word."""
    base, model = env.get("MIRA_EMBED_BASE_URL", ""), env.get("MIRA_EMBED_MODEL", "")
    if not base or not model:
        fail("no embedding server: set MIRA_EMBED_BASE_URL and MIRA_EMBED_MODEL (bench/memory/run.sh does)", 69)
    body = json.dumps({"model": model, "input": ["hello"]}).encode()
    request = urllib.request.Request(base.rstrip("/") + "/embeddings", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            answer = json.load(r)
        dimension = len(answer["data"][0]["embedding"])
    except (urllib.error.URLError, OSError, ValueError, KeyError, IndexError, TypeError) as e:
        fail(f"the embedding server at {base} does not answer an embeddings request: {e}", 69)
    if not 1 <= dimension <= 65536:
        fail(f"the embedding server at {base} gave a vector of {dimension} numbers", 69)
    return base, model, dimension


def stats(bin_dir, env):
    out, _ = run("mira-memory stats", [os.path.join(bin_dir, "mira-memory"), "stats", "--json"], env)
    try:
        s = json.loads(out)
        return {k: int(s[k]) for k in ("messages", "indexed", "pending", "bytes_on_disk")}
    except (ValueError, KeyError, TypeError) as e:
        raise StepFailed(f"mira-memory stats: unreadable output ({e})")


def search(bin_dir, env, query, ranking, top):
    """The texts search returns for a query, best first."""
    out, _ = run(f"mira-memory search --rank {ranking}",
                 [os.path.join(bin_dir, "mira-memory"), "search", "--json", "--rank", ranking, "--top", str(top), query],
                 env)
    texts = []
    for n, line in enumerate(out.splitlines(), 1):
        try:
            texts.append(json.loads(line)["text"])
        except (ValueError, KeyError, TypeError):
            raise StepFailed(f"mira-memory search --rank {ranking}: line {n} is not a memory object")
    if len(texts) > top:
        raise StepFailed(f"mira-memory search --rank {ranking}: {len(texts)} results for --top {top}")
    return texts


def recall_table(hits):
    """hits: {(ranking, kind): [rank or None, ...]} -> {(ranking, kind|'all', cut): fraction}."""
    table = {}
    for ranking in RANKINGS:
        for kind in KINDS + ("all",):
            ranks = [r for k in (KINDS if kind == "all" else (kind,)) for r in hits[(ranking, k)]]
            for cut in CUTS:
                table[(ranking, kind, cut)] = sum(1 for r in ranks if r is not None and r <= cut) / len(ranks)
    return table


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores, {cpu}{mem}, {platform.system()} {platform.release()}"


def load():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def commit():
    try:
        p = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", HERE, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return p.stdout.strip() + (" with local changes" if dirty else "") if p.returncode == 0 else "unknown"
    except OSError:
        return "unknown"


def report(f):
    """The RESULTS.md section, from the run's figures `f`."""
    t = f["table"]
    pct = lambda x: f"{100 * x:.0f}%"
    rows = []
    for ranking in RANKINGS:
        cells = [pct(t[(ranking, kind, cut)]) for kind in ("all",) + KINDS for cut in CUTS]
        name = "**fused** (Mira's recall)" if ranking == "fused" else f"{ranking} only"
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    best_other = {cut: max(t[("vector", "all", cut)], t[("keyword", "all", cut)]) for cut in CUTS}
    verdict = ", ".join(
        f"@{cut}: {pct(t[('fused', 'all', cut)])} against {pct(best_other[cut])} "
        + ("(beats both)" if t[("fused", "all", cut)] > best_other[cut]
           else "(ties the better one)" if t[("fused", "all", cut)] == best_other[cut] else "(**below** the better one)")
        for cut in CUTS)
    smoke = " (**smoke run**: tiny data set, figures mean nothing)" if f["smoke"] else ""
    return f"""{BEGIN}
## Quality{smoke}

Run of {f['date']} (commit {f['commit']}), {f['machine']}; load average
{f['load_before']} before and {f['load_after']} after.

**Data set** (`quality_data.py --sessions {f['sessions']} --seed {f['seed']} --end {f['end']}`, the run's
date, so every message has the same age in every run): {f['messages']:,} messages in
{f['sessions']} sessions over {f['span_days']} days; {f['facts']} facts about the person, each said once
in the first third of the sessions, amid small talk; {f['distractors']} distractors (messages that
share a fact's topic or its rare word but do not answer) said in later sessions; {f['queries']}
questions, each fact asked once in other words (paraphrase) and once by a rare
word of it in an unrelated sentence (keyword). A question is answered at k when
the message holding the fact (its exact text) is among `mira-memory search
--top 10 --json --rank RANKING`'s first k; each ranking searches the whole
database, with the same recency weighting (`RankingParameters`' defaults,
candidates {f['candidates']} per ranking).

| ranking | all @1 | @5 | @10 | paraphrase @1 | @5 | @10 | keyword @1 | @5 | @10 |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

Fused against the better of the two alone, all questions: {verdict}.

**Indexing** (`mira-memory index -j 2`, batches of 256) with the local embedding
server ({f['model']}, {f['dimension']} dimensions, `scripts/local-server.sh`'s llama-server
on one thread): {f['indexed']:,} messages in {f['index_seconds']:.1f} s, **{f['rate']:.0f} messages/s**.

**Bytes on disk for the vectors**: the database grew from {f['bytes_before']:,} to
{f['bytes_after']:,} bytes (`mira-memory stats`) while indexing, **{f['vector_bytes']:,.0f} bytes per
message** ({f['dimension']} float32 = {4 * f['dimension']:,} bytes of vector, plus its int8 block copy,
row and page overhead).

Reproduce: `make bench-memory` (or `bench/memory/run.sh`; `--smoke` for a
seconds-long check that writes its report to a temp file). It starts the
local servers with `scripts/local-server.sh start` if they are not running
and stops only the ones it started.
{END}
"""


def write_section(path, section):
    """Puts the section into the file between the markers (appended the
    first time); the rest of the file is kept as it is."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        text = "# Memory benchmark results\n"
    if BEGIN in text and END in text and text.index(BEGIN) < text.index(END):
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="folder with release builds of mira-store and mira-memory")
    ap.add_argument("--smoke", action="store_true", help="a tiny data set: checks the steps in seconds")
    ap.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"), help="the report file to write the section into")
    ap.add_argument("--sessions", type=int, help="sessions in the data set (default 150; 9 with --smoke)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=2, help="mira-memory index -j")
    ap.add_argument("--keep", help="keep the scratch folder here instead of a temp one (for looking into misses)")
    args = ap.parse_args()
    sessions = args.sessions or (9 if args.smoke else 150)
    if not 3 <= sessions <= 100_000:
        fail("--sessions must be 3 to 100000", 64)
    if not 1 <= args.jobs <= 64:
        fail("--jobs must be 1 to 64", 64)
    for tool in ("mira-store", "mira-memory"):
        if not os.access(os.path.join(args.bin, tool), os.X_OK):
            fail(f"no {tool} in {args.bin} (swift build -c release --product {tool})", 64)

    work = args.keep or tempfile.mkdtemp(prefix="mira-memory-quality.")
    os.makedirs(work, exist_ok=True)
    try:
        figures = measure(args, sessions, work)
    except StepFailed as e:
        fail(str(e))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    section = report(figures)
    write_section(args.results, section)
    print(section, end="")
    print(f"quality: report written into {args.results}", file=sys.stderr)
    # A smoke run checks the steps work end to end: a ranking that finds no
    # fact at all means a broken search, not a figure.
    if args.smoke:
        dead = [r for r in RANKINGS if figures["table"][(r, "all", 10)] == 0]
        if dead:
            fail(f"smoke: the {', '.join(dead)} ranking found no fact in its top 10")


def measure(args, sessions, work):
    env = scratch_env(work)
    base, model, dimension = check_server(env)
    bin_dir = args.bin
    load_before = load()
    today = datetime.datetime.now(datetime.timezone.utc).date()
    data = os.path.join(work, "data")
    messages, queries = quality_data.build(sessions, args.seed, today)
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(data, "messages.jsonl"), "w", encoding="utf-8") as f:
        for m in messages:
            f.write(json.dumps(m, ensure_ascii=False) + "\n")
    say(f"{len(messages)} messages, {len(queries)} questions; importing")
    run("mira-store import", [os.path.join(bin_dir, "mira-store"), "import"], env, stdin=os.path.join(data, "messages.jsonl"))
    before = stats(bin_dir, env)
    if before["messages"] != len(messages):
        raise StepFailed(f"mira-store import: {before['messages']} messages stored of {len(messages)}")

    say(f"indexing {before['pending']} messages with {model} at {base} (-j {args.jobs})")
    start = time.monotonic()
    _, index_err = run("mira-memory index", [os.path.join(bin_dir, "mira-memory"), "index", "-j", str(args.jobs)], env)
    seconds = time.monotonic() - start
    after = stats(bin_dir, env)
    if after["pending"] != 0 or after["indexed"] != after["messages"]:
        raise StepFailed(f"mira-memory index: {after['indexed']} of {after['messages']} indexed, {after['pending']} waiting")
    say(index_err.strip().splitlines()[-1] if index_err.strip() else f"indexed in {seconds:.1f} s")

    hits = {(r, k): [] for r in RANKINGS for k in KINDS}
    misses = []
    for n, q in enumerate(queries, 1):
        for ranking in RANKINGS:
            texts = search(bin_dir, env, q["query"], ranking, 10)
            rank = texts.index(q["fact"]) + 1 if q["fact"] in texts else None
            hits[(ranking, q["kind"])].append(rank)
            misses.append({"query": q["query"], "kind": q["kind"], "ranking": ranking, "rank": rank,
                           "fact": q["fact"], "top3": texts[:3]})
        if n % 10 == 0:
            say(f"{n} of {len(queries)} questions searched")
    with open(os.path.join(work, "ranks.jsonl"), "w", encoding="utf-8") as f:
        for m in misses:
            f.write(json.dumps(m, ensure_ascii=False) + "\n")

    times = sorted(m["time"] for m in messages)
    span = (datetime.date.fromisoformat(times[-1][:10]) - datetime.date.fromisoformat(times[0][:10])).days
    facts = len(quality_data.FACTS)
    return {
        "smoke": args.smoke, "date": today.isoformat(), "commit": commit(), "machine": machine(),
        "load_before": load_before, "load_after": load(), "sessions": sessions, "seed": args.seed,
        "end": today.isoformat(), "messages": len(messages), "span_days": span, "facts": facts,
        "distractors": sum(len(d) for _, _, _, d in quality_data.FACTS), "queries": len(queries),
        "candidates": 50, "table": recall_table(hits), "model": model, "dimension": dimension,
        "indexed": after["indexed"], "index_seconds": seconds, "rate": after["indexed"] / seconds if seconds > 0 else 0,
        "bytes_before": before["bytes_on_disk"], "bytes_after": after["bytes_on_disk"],
        "vector_bytes": (after["bytes_on_disk"] - before["bytes_on_disk"]) / max(1, after["indexed"]),
    }


def say(text):
    print(f"quality: {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
