#!/usr/bin/env python3
"""Small SQLite look-ups for bench/run.sh (standard library only).

    tools.py same-schema A B          exit 0 when both databases have the same schema
    tools.py mira-lost DB SESSION N   turns "parallel 1..N" with no saved reply, as JSON
    tools.py llm-lost LOGS_DB N       prompts "parallel 1..N" llm did not log, as JSON
    tools.py llm-thread LOGS_DB       the id of llm's latest conversation (thread)
    tools.py count DB SESSION         how many messages a Mira session holds
    tools.py logged-request LOG N OUT the body of request N of a fake_openai.py --log, as sent
    tools.py same-request LOG A B     "yes" when requests A and B of the log have equal bodies, else "no"
"""
import json
import sqlite3
import sys


def connect(path):
    # Read-only: the bench must not change what it measures.
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def schema(path):
    db = connect(path)
    rows = db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    return rows, db.execute("PRAGMA user_version").fetchone()[0]


def same_schema(a, b):
    """A file that cannot be opened counts as different: the caller rebuilds it."""
    try:
        return 0 if schema(a) == schema(b) else 1
    except sqlite3.Error as error:
        print(f"tools.py same-schema: {error}", file=sys.stderr)
        return 1


def mira_lost(path, session, n):
    """A turn counts as saved when its user message and a reply with the same turn id are stored."""
    db = connect(path)
    saved = {row[0] for row in db.execute(
        """SELECT u.content FROM messages u JOIN messages a
           ON a.session = u.session AND a.turn = u.turn AND a.role = 'assistant'
           WHERE u.session = ? AND u.role = 'user' AND u.content LIKE 'parallel %'""", (session,))}
    lost = [i for i in range(1, n + 1) if f"parallel {i}" not in saved]
    print(json.dumps({"turns": n, "saved": n - len(lost), "lost": len(lost)}))


def llm_lost(path, n):
    """llm 0.3x logs each prompt as a user message part (messages are keyed by content hash)."""
    db = connect(path)
    logged = {row[0] for row in db.execute(
        """SELECT p.text FROM parts p JOIN messages m ON m.hash = p.message_hash
           WHERE m.role = 'user' AND p.text LIKE 'parallel %'""")}
    lost = [i for i in range(1, n + 1) if f"parallel {i}" not in logged]
    print(json.dumps({"turns": n, "saved": n - len(lost), "lost": len(lost)}))


def llm_thread(path):
    print(connect(path).execute("SELECT id FROM threads ORDER BY datetime_utc DESC LIMIT 1").fetchone()[0])


def count(path, session):
    print(connect(path).execute("SELECT count(*) FROM messages WHERE session = ?", (session,)).fetchone()[0])


def logged(path, n):
    for line in open(path, encoding="utf-8"):
        entry = json.loads(line)
        if entry["n"] == n:
            return entry
    sys.exit(f"tools.py: no request {n} in {path}")


def logged_request(path, n, out):
    """The log keeps the body parsed; compact JSON gives back the bytes the
    client sent (Mira writes no spaces and escapes no "/"): checked against
    the request's Content-Length."""
    entry = logged(path, n)
    body = json.dumps(entry["body"], ensure_ascii=False, separators=(",", ":")).encode()
    sent = int(entry["headers"].get("content-length", -1))
    if len(body) != sent:
        sys.exit(f"tools.py: request {n} was {sent} bytes, rebuilt {len(body)}")
    with open(out, "wb") as f:
        f.write(body)


def same_request(path, a, b):
    print("yes" if logged(path, a)["body"] == logged(path, b)["body"] else "no")


def main(argv):
    command, args = argv[1], argv[2:]
    if command == "same-schema":
        return same_schema(*args)
    if command == "mira-lost":
        return mira_lost(args[0], args[1], int(args[2]))
    if command == "llm-lost":
        return llm_lost(args[0], int(args[1]))
    if command == "llm-thread":
        return llm_thread(args[0])
    if command == "count":
        return count(*args)
    if command == "logged-request":
        return logged_request(args[0], int(args[1]), args[2])
    if command == "same-request":
        return same_request(args[0], int(args[1]), int(args[2]))
    sys.exit(f"tools.py: unknown command {command!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
