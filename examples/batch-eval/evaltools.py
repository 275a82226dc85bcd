#!/usr/bin/env python3
"""Helpers for examples/batch-eval/run.sh (standard library only).

    evaltools.py validate TRANSCRIPTS        check the transcript file; exit 1 on any problem
    evaltools.py compact RESULTS TRANSCRIPTS keep one record per turn in RESULTS (in place)

validate: every line is a JSON object with a unique string `id` and 1 to 4
user messages; roles are user or assistant, starting with a user message,
alternating, and ending on one; assistant messages name a known persona and a
mood; every user message has an expectation (its own `expect` or the
transcript's) whose persona is a known persona (or a list of them) and whose
mood is a non-empty list of words.

compact: after an interrupted or partly failed run, RESULTS may hold a cut last
line or an old failed record next to the retry that answered it. This keeps,
for each turn, the last record with a reply (else the last record), drops lines
that do not parse, and writes them in transcript order ("<id>:<k>"), replacing
the file atomically.
"""
import json
import os
import sys

PERSONAS = {"default", "forbidden", "hallow", "haven"}


def check_expect(expect, where, problems):
    if not isinstance(expect, dict):
        problems.append(f"{where}: expect must be an object")
        return
    persona = expect.get("persona")
    names = persona if isinstance(persona, list) else [persona]
    if not names or not all(isinstance(p, str) and p in PERSONAS for p in names):
        problems.append(f"{where}: expect.persona must be one of {sorted(PERSONAS)} or a list of them")
    mood = expect.get("mood")
    if not (isinstance(mood, list) and mood and all(isinstance(m, str) and m.strip() for m in mood)):
        problems.append(f"{where}: expect.mood must be a non-empty list of words")


def validate(path):
    problems, ids, count = [], set(), 0
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            where = f"line {number}"
            if not line.strip():
                continue
            try:
                t = json.loads(line)
            except ValueError as exc:
                problems.append(f"{where}: not JSON ({exc})")
                continue
            count += 1
            if not isinstance(t, dict):
                problems.append(f"{where}: not an object")
                continue
            tid = t.get("id")
            if not isinstance(tid, str) or not tid:
                problems.append(f"{where}: no id")
            elif tid in ids:
                problems.append(f"{where}: id {tid} used twice")
            else:
                ids.add(tid)
                where = f"{where} ({tid})"
            if "expect" in t:
                check_expect(t["expect"], where, problems)
            messages = t.get("messages")
            if not isinstance(messages, list) or not messages:
                problems.append(f"{where}: messages must be a non-empty list")
                continue
            users = 0
            for k, m in enumerate(messages):
                at = f"{where} message {k + 1}"
                if not isinstance(m, dict) or not isinstance(m.get("content"), str) or not m["content"].strip():
                    problems.append(f"{at}: needs non-empty content")
                    continue
                role = m.get("role")
                want = "user" if k % 2 == 0 else "assistant"
                if role not in ("user", "assistant"):
                    problems.append(f"{at}: role must be user or assistant, not {role!r}")
                elif role != want:
                    problems.append(f"{at}: expected a {want} message here (they alternate, user first)")
                if role == "user":
                    users += 1
                    if "expect" in m:
                        check_expect(m["expect"], at, problems)
                    elif "expect" not in t:
                        problems.append(f"{at}: no expect on the message or the transcript")
                elif role == "assistant":
                    if m.get("persona") not in PERSONAS:
                        problems.append(f"{at}: assistant persona must be one of {sorted(PERSONAS)}")
                    if not isinstance(m.get("mood"), str) or not m["mood"].strip():
                        problems.append(f"{at}: assistant message needs a mood")
            if not 1 <= users <= 4:
                problems.append(f"{where}: {users} user messages (1 to 4 allowed)")
            if messages and isinstance(messages[-1], dict) and messages[-1].get("role") != "user":
                problems.append(f"{where}: the last message must be the user's")
    for p in problems:
        print(f"{path}: {p}", file=sys.stderr)
    if not count:
        print(f"{path}: no transcripts", file=sys.stderr)
        return 1
    if not problems:
        print(f"{os.path.basename(path)}: {count} transcripts, all valid", file=sys.stderr)
    return 1 if problems else 0


def compact(results, transcripts):
    order = {}
    with open(transcripts, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                order.setdefault(json.loads(line).get("id"), len(order))
    kept, dropped, seen = {}, 0, 0
    with open(results, "rb") as f:
        for raw in f:
            if not raw.strip():
                continue
            seen += 1
            try:
                record = json.loads(raw)
                turn = record["turn"]
            except (ValueError, KeyError, TypeError):
                dropped += 1   # a line cut by an interruption, or not a turn record
                continue
            good = "reply" in record and "error" not in record
            old = kept.get(turn)
            if old is None or good or not old[0]:
                kept[turn] = (good, raw if raw.endswith(b"\n") else raw + b"\n")

    def key(turn):
        tid, _, k = turn.rpartition(":")
        return (order.get(tid, len(order)), tid, int(k) if k.isdigit() else 0, turn)

    tmp = results + ".tmp"
    with open(tmp, "wb") as f:
        for turn in sorted(kept, key=key):
            f.write(kept[turn][1])
    os.replace(tmp, results)
    if dropped or seen != len(kept):
        print(f"{os.path.basename(results)}: kept {len(kept)} of {seen} lines "
              f"({dropped} unreadable, {seen - dropped - len(kept)} superseded)", file=sys.stderr)
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "validate":
        return validate(argv[2])
    if len(argv) == 4 and argv[1] == "compact":
        return compact(argv[2], argv[3])
    print(__doc__.strip(), file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
