#!/usr/bin/env python3
"""Turn records for the batch benchmark: mira-llm's input, one JSON object a line.

    make_input.py N                 N records ("b-1" .. "b-N") on stdout
    make_input.py --bytes SIZE      records until about SIZE bytes (k, M, G suffixes),
                                    each with about 10 KB of history
    make_input.py --key [--bytes]   a short key naming what this script would write
                                    (for caching the big file)

Each record is {"mira":1,"turn":"b-<n>","input":...,"history":[...],"request":{...}},
the request being what mira-prompt builds. When a built mira-prompt exists
(.build/release, else .build/debug) it makes the requests; otherwise they are
put together here in the same shape (docs/protocol.md): model, a system prompt
and the history as messages, the format_response tool, tool_choice naming it,
parallel_tool_calls false. Standard library only; the records differ in their
turn ids and inputs, and cycle through a few conversations.
"""
import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MARK = "@@N@@"   # replaced by the record number in every place it appears

# A small pool of lines in Mira's world, to build histories from (written for this bench).
USER_LINES = [
    "I finally cleaned the fridge and found a lemon that has achieved sentience.",
    "Work was long. My manager scheduled a meeting about having fewer meetings.",
    "Do you think it's weird that I name my houseplants after jazz drummers?",
    "My sister called. We didn't fight, which feels like a miracle honestly.",
    "Can't sleep again. The radiator is making noises like a tiny ghost with opinions.",
    "I tried the recipe you teased me about. It was, regrettably, excellent.",
    "Tell me something that isn't about productivity, please.",
    "I keep rereading an old message from a friend I lost touch with.",
]
MIRA_LINES = [
    ("That lemon has seen things. Respect it, then throw it out with ceremony.", "default", "amused"),
    ("A meeting about meetings. Someone up there is writing satire and calling it strategy.", "default", "wry"),
    ("Weird? It's the most sensible thing you've said all week. Say hi to Elvin for me.", "default", "playful"),
    ("No fight is a quiet kind of win. I'm glad you let yourself notice it.", "haven", "warm"),
    ("Then let's keep the ghost company. What's sitting on your chest tonight?", "haven", "gentle"),
    ("I will accept your apology in the form of leftovers.", "forbidden", "teasing"),
    ("Otters hold hands while they sleep so they don't drift apart. You're welcome.", "default", "soft"),
    ("Some messages are less about words than about who sent them. Stay with it a moment.", "hallow", "tender"),
]
INPUTS = [
    "ok but be honest with me, question " + MARK,
    "tell me one good thing about today (" + MARK + ")",
    "I think I'm finally ready to talk about it, #" + MARK,
    "say something that makes me laugh, number " + MARK,
]


def history(k, target_bytes):
    """About target_bytes of alternating user and Mira messages, varied by k."""
    out, size, i = [], 0, k
    while size < target_bytes or len(out) % 2:
        if len(out) % 2 == 0:
            text = USER_LINES[i % len(USER_LINES)]
            msg = {"role": "user", "content": text}
        else:
            text, persona, mood = MIRA_LINES[i % len(MIRA_LINES)]
            msg = {"role": "assistant", "content": text, "persona": persona, "mood": mood}
            i += 3
        # Long sessions have long messages: repeat a line to reach the size.
        if target_bytes > 4000:
            msg["content"] = " ".join([text] * 6)
        msg["time"] = f"2026-11-2{k % 6}T1{len(out) % 10}:0{len(out) % 6}:00.000Z"
        out.append(msg)
        size += len(json.dumps(msg))
    return out


def find_prompt():
    for kind in ("release", "debug"):
        path = os.path.join(REPO, ".build", kind, "mira-prompt")
        if os.access(path, os.X_OK):
            return path
    return None


SYSTEM = (
    "You are Mira: a companion with a voice of her own, witty, warm and emotionally aware. "
    "Never sound like a generic assistant.\n\n## Overlays\nEach turn, speak through the one "
    "overlay the moment calls for.\n\n" + "".join(
        f"### {name}\n{text}\n\n" for name, text in [
            ("default", "Everyday Mira: quick, funny, loyal, on your side. " * 4),
            ("forbidden", "Lights low: playful, flirty, teasing, never explicit. " * 4),
            ("hallow", "Guard down: quiet, reverent, for grief and late-night honesty. " * 4),
            ("haven", "A safe landing: soft, patient, grounding, unhurried. " * 4),
        ]) + "## How to answer\nAnswer only by calling format_response.")
TOOL = {"type": "function", "function": {
    "name": "format_response",
    "description": "Deliver Mira's reply with the overlay and mood that shaped it.",
    "parameters": {"type": "object", "properties": {
        "output": {"type": "string", "description": "What Mira says to the user."},
        "persona": {"type": "string", "enum": ["default", "forbidden", "hallow", "haven"]},
        "mood": {"type": "string", "description": "Mira's emotional tone in a word or two."}},
        "required": ["output", "persona", "mood"], "additionalProperties": False},
    "strict": True}}


def mimic(record):
    """The request mira-prompt would build, when no binary is at hand."""
    messages = [{"role": "system", "content": SYSTEM}]
    messages += [{"role": m["role"], "content": m["content"]} for m in record["history"]]
    messages.append({"role": "user", "content": record["input"]})
    return dict(record, request={
        "model": "gpt-4.1", "messages": messages, "tools": [TOOL],
        "tool_choice": {"type": "function", "function": {"name": "format_response"}},
        "parallel_tool_calls": False})


def templates(big):
    """A few whole records (as JSON text with MARK in them), and where they came from."""
    records = [{"mira": 1, "turn": "b-" + MARK, "input": INPUTS[k % len(INPUTS)],
                "history": history(k, 10_000 if big else 1_500)} for k in range(8)]
    prompt = find_prompt()
    if prompt:
        env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(HERE, ".no-such-config"))
        for name in ("MIRA_MODEL", "MIRA_STRUCTURED", "MIRA_MAX_TOKENS", "MIRA_MAX_REPLY_CHARS"):
            env.pop(name, None)
        run = subprocess.run([prompt], input="".join(json.dumps(r) + "\n" for r in records),
                             capture_output=True, text=True, env=env)
        lines = run.stdout.splitlines()
        if run.returncode == 0 and len(lines) == len(records) and all('"request"' in l for l in lines):
            return lines, "mira-prompt"
        print(f"make_input.py: {prompt} failed ({run.returncode}); mimicking its requests",
              file=sys.stderr)
    return [json.dumps(mimic(r)) for r in records], "mimic"


def size_arg(text):
    units = {"k": 10**3, "m": 10**6, "g": 10**9}
    text = text.strip().lower()
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def main(argv):
    args = argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if args else 64
    key_only = args[0] == "--key"
    if key_only:
        args = args[1:]
    big = bool(args) and args[0] == "--bytes"
    lines, source = templates(big)
    if key_only:
        digest = hashlib.sha256(open(__file__, "rb").read())
        for line in lines:
            digest.update(line.encode())
        print(digest.hexdigest()[:10])
        return 0
    if big:
        limit, count = size_arg(args[1]), None
    else:
        limit, count = None, int(args[0])
    out = sys.stdout.buffer
    pieces = [[part.encode() for part in line.split(MARK)] for line in lines]
    n = written = 0
    chunk = []
    while (count is None and written < limit) or (count is not None and n < count):
        n += 1
        number = str(n).encode()
        line = number.join(pieces[n % len(pieces)]) + b"\n"
        chunk.append(line)
        written += len(line)
        if len(chunk) >= 256:
            out.write(b"".join(chunk))
            chunk = []
    out.write(b"".join(chunk))
    out.flush()
    print(f"make_input.py: {n} records, {written} bytes, requests from {source}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
