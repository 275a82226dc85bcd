#!/usr/bin/env python3
"""Write the hostile-input corpus: one bad record per line, each of a kind
every stage must refuse with a clear error naming its line.

    hostile_corpus.py OUT.jsonl [--big]

--big adds a 100 MB line. Prints the number of lines written."""
import sys

lines = [
    b"not json at all",
    b'{"session": 5, "input": "hi"}',                          # wrong type
    b'{"history": [{"role": "user"}], "input": "hi"}',         # missing field
    b'{"history": "nope", "input": "hi"}',                     # wrong type
    b'{"input": "bad \xff\xfe utf-8"}',                        # invalid UTF-8
    b'{"input": "nul \x00 byte"}',                             # raw NUL
    b"[" * 10000 + b"]" * 10000,                               # nested 10,000 deep
    b'{"mira": 2, "input": "from the future"}',                # unknown version
    b'{"session": "../../etc/passwd", "input": "hi"}',         # path tricks
    b'{"session": "a\\"b", "input": "hi"}',                    # quotes
    b'{"session": "x\'; DROP TABLE messages; --", "input": "hi"}',  # SQL
    b'{"persona": "../../etc/passwd", "input": "hi"}',         # persona path trick
    b'{"persona": "x\'; DROP TABLE messages; --", "input": "hi"}',
    b'{"mira": 1, "input": "hi"} trailing',                    # trailing garbage
]
with open(sys.argv[1], "wb") as out:
    for line in lines:
        out.write(line + b"\n")
    if "--big" in sys.argv:
        out.write(b'{"input": "' + b"a" * 100_000_000 + b'"}\n')
print(len(lines) + ("--big" in sys.argv))
