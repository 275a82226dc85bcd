#!/usr/bin/env python3
"""Writes N chat messages as JSON Lines, as `mira-store import` reads them.

    python3 gen_messages.py N [--session bench]

User and assistant messages alternate, two per turn, ten a second of made-up
time. Contents cycle through a fixed pool of sentences of 20 to 400 bytes
(about 180 on average), so every run writes the same bytes and the figures
per message are comparable. Fast enough to feed a 10-million-message import.
"""
import argparse
import json
import random
import sys
import time

WORDS = ("rough day boss yelled coffee rain train late again honestly tired "
         "laugh maybe tomorrow weekend call mother cat sleep dinner music "
         "walk quiet breathe okay sure really why never always little more").split()
PERSONAS = ("default", "forbidden", "hallow", "haven")
MOODS = ("calm", "playful", "warm", "curious", "tender", "wry")
START = 1_780_000_000  # 2026-05-28, any fixed second will do


def pool(rng, size=997):
    """Sentences of 20..400 bytes, as JSON string literals ready to paste."""
    out = []
    for _ in range(size):
        target = int(rng.triangular(20, 400, 120))
        words = []
        while sum(len(w) + 1 for w in words) < target:
            words.append(rng.choice(WORDS))
        out.append(json.dumps(" ".join(words).capitalize() + "."))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--session", default="bench")
    args = parser.parse_args()
    rng = random.Random(42)
    texts = pool(rng)
    session = json.dumps(args.session)
    out = sys.stdout
    lines = []
    stamp_second, stamp = -1, ""
    for k in range(args.count):
        second, tenth = divmod(k, 10)
        if second != stamp_second:  # strftime once a second, not once a line
            stamp_second, stamp = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(START + second))
        turn, assistant = divmod(k, 2)
        text = texts[k % len(texts)]
        if assistant:
            extra = f',"persona":"{PERSONAS[turn % 4]}","mood":"{MOODS[turn % 6]}"'
            role = "assistant"
        else:
            extra, role = "", "user"
        lines.append(f'{{"session":{session},"turn":"t{turn}","role":"{role}","content":{text}{extra},'
                     f'"time":"{stamp}.{tenth}00Z"}}\n')
        if len(lines) == 10000:
            out.write("".join(lines))
            lines.clear()
    out.write("".join(lines))


if __name__ == "__main__":
    main()
