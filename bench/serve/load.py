#!/usr/bin/env python3
"""The load of bench/serve: many clients at once, each on its own keep-alive
HTTP/1.1 connection, each sending its turns one after another. Standard
library only (asyncio and raw sockets), so the client is the same for both
targets and costs the same per request.

    load.py serve URL --clients N --turns K [--pid PID] --out FILE
        POST URL/chat {"message"} as N browsers: the first turn has no cookie
        and takes the mira_id it is given, every later turn sends it back.
        Then GET URL/history?session=S for each and checks it holds exactly
        that client's 2*K messages in order (its words, then each reply).
        With --pid, mira-serve's CPU time (utime+stime from /proc/PID/stat)
        before and after the turns, and its RSS before, after the turns and
        after the history reads.
    load.py floor URL --bodies FILE --clients N --turns K --out FILE
        POST URL (a model server's /v1/chat/completions) with turn k's body
        from FILE (one JSON body a line, as mira-serve sent them), read to the
        end of the answer (a stream ends with its last chunk).
    load.py bodies LOG
        The chat request bodies of a fake_openai.py --log, one a line.

FILE gets one JSON object: "latencies_ms" (every turn, in no order) and
"turn_of_latency" (each one's turn number, from 0), "turns"
(answered 200), "errors" (a few of the first failures, as text), "lost" and
"bad_histories" (serve only), "cpu_ticks", "ticks_per_second", "rss_kb".
The exit status is 1 when any turn failed or any history is not whole.
"""
import argparse
import asyncio
import json
import os
import sys
import time

RECORD_ERRORS = 5


class Failure(Exception):
    pass


class Connection:
    """One keep-alive HTTP/1.1 connection; requests answered in order."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self):
        if self.writer:
            self.writer.close()

    async def request(self, method, path, body=None, headers=()):
        """(status, {lower-case name: value}, body bytes)."""
        if self.writer is None:
            await self.open()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self.writer.write(head + (body or b""))
        status_line = await self.reader.readline()
        if not status_line:
            raise Failure("the server closed the connection")
        parts = status_line.split(b" ", 2)
        status = int(parts[1])
        fields = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            fields[name.strip().lower()] = value.strip()
        if "chunked" in fields.get("transfer-encoding", "").lower():
            content = bytearray()
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                content += await self.reader.readexactly(size)
                await self.reader.readexactly(2)
            content = bytes(content)
        elif "content-length" in fields:
            content = await self.reader.readexactly(int(fields["content-length"]))
        else:
            content = await self.reader.read()
            self.close()
            self.writer = None
        if fields.get("connection", "").lower() == "close":
            self.close()
            self.writer = None
        return status, fields, content


def cookie_of(fields):
    value = fields.get("set-cookie", "")
    if value.startswith("mira_id="):
        return value[len("mira_id="):].split(";", 1)[0]
    return None


class Tally:
    def __init__(self):
        self.latencies = []
        self.by_turn = []  # the turn number (from 0) of each latency, in the same order
        self.turns = 0
        self.errors = []
        self.failed = 0

    def fail(self, text):
        self.failed += 1
        if len(self.errors) < RECORD_ERRORS:
            self.errors.append(text)


async def serve_client(index, host, port, turns, tally, start):
    """One browser: K turns with its own cookie, then its history checked."""
    await start.wait()
    connection = Connection(host, port)
    cookie = session = None
    said, replies = [], []
    try:
        for k in range(turns):
            message = f"client {index} turn {k}: how was the day"
            body = json.dumps({"message": message}).encode()
            headers = [("Cookie", f"mira_id={cookie}")] if cookie else []
            began = time.perf_counter()
            status, fields, content = await connection.request("POST", "/chat", body, headers)
            elapsed = time.perf_counter() - began
            if status != 200:
                tally.fail(f"client {index} turn {k}: {status} {content[:200]!r}")
                return None
            reply = json.loads(content)
            given = cookie_of(fields)
            if cookie is None:
                if given is None:
                    tally.fail(f"client {index}: the first answer set no mira_id cookie")
                    return None
                cookie, session = given, reply.get("session")
            elif given is not None:
                tally.fail(f"client {index} turn {k}: the server replaced a kept cookie")
                return None
            if reply.get("session") != session:
                tally.fail(f"client {index} turn {k}: session {reply.get('session')} after {session}")
                return None
            tally.latencies.append(elapsed * 1000)
            tally.by_turn.append(k)
            tally.turns += 1
            said.append(message)
            replies.append(reply.get("output"))
        return (cookie, session, said, replies)
    except (Failure, OSError, asyncio.IncompleteReadError, ValueError) as error:
        tally.fail(f"client {index}: {type(error).__name__}: {error}")
        return None
    finally:
        connection.close()


async def check_history(host, port, cookie, session, said, replies):
    """None when the session holds exactly what was said and answered, in order; else why not."""
    connection = Connection(host, port)
    try:
        status, _, content = await connection.request(
            "GET", f"/history?session={session}", headers=[("Cookie", f"mira_id={cookie}")])
    finally:
        connection.close()
    if status != 200:
        return f"history of {session}: {status} {content[:200]!r}"
    messages = json.loads(content).get("messages", [])
    expected = [("user", m) for m in said]
    expected = [pair for turn in zip(expected, [("assistant", r) for r in replies]) for pair in turn]
    found = [(m.get("role"), m.get("content")) for m in messages]
    if found != expected:
        return f"history of {session}: {len(found)} messages, {len(expected)} expected or not in order"
    return None


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def split_url(url):
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.rpartition(":")
    return host, int(port), "/" + path


async def run_serve(args):
    host, port, _ = split_url(args.url)
    tally = Tally()
    result = {"clients": args.clients, "turns_each": args.turns}
    pid = args.pid
    if pid:
        result["ticks_per_second"] = os.sysconf("SC_CLK_TCK")
        rss = [rss_kb(pid)]
        cpu = [cpu_ticks(pid)]
    start = asyncio.Event()
    tasks = [asyncio.create_task(serve_client(i, host, port, args.turns, tally, start)) for i in range(args.clients)]
    began = time.perf_counter()
    start.set()
    done = await asyncio.gather(*tasks)
    result["wall_s"] = time.perf_counter() - began
    if pid:
        cpu.append(cpu_ticks(pid))
        rss.append(rss_kb(pid))
    bad = 0
    for outcome in done:
        if outcome is None:
            continue
        problem = await check_history(host, port, *outcome)
        if problem:
            bad += 1
            tally.fail(problem)
    if pid:
        rss.append(rss_kb(pid))
        result["cpu_ticks"] = cpu[1] - cpu[0]
        result["rss_kb"] = rss
    result["lost"] = args.clients * args.turns - tally.turns
    result["bad_histories"] = bad
    return tally, result


async def floor_client(index, host, port, path, bodies, tally, start):
    await start.wait()
    connection = Connection(host, port)
    try:
        for k, body in enumerate(bodies):
            began = time.perf_counter()
            status, _, content = await connection.request("POST", path, body, [("Authorization", "Bearer bench")])
            elapsed = time.perf_counter() - began
            if status != 200 or not content:
                tally.fail(f"floor client {index} turn {k}: {status} {content[:200]!r}")
                return
            tally.latencies.append(elapsed * 1000)
            tally.by_turn.append(k)
            tally.turns += 1
    except (Failure, OSError, asyncio.IncompleteReadError, ValueError) as error:
        tally.fail(f"floor client {index}: {type(error).__name__}: {error}")
    finally:
        connection.close()


async def run_floor(args):
    host, port, path = split_url(args.url)
    with open(args.bodies, "rb") as f:
        bodies = [line.rstrip(b"\n") for line in f if line.strip()]
    if len(bodies) < args.turns:
        raise SystemExit(f"load.py: {args.bodies} has {len(bodies)} bodies, {args.turns} turns asked")
    tally = Tally()
    start = asyncio.Event()
    tasks = [asyncio.create_task(floor_client(i, host, port, path, bodies[:args.turns], tally, start))
             for i in range(args.clients)]
    began = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    result = {"clients": args.clients, "turns_each": args.turns, "wall_s": time.perf_counter() - began,
              "lost": args.clients * args.turns - tally.turns}
    return tally, result


def bodies(log):
    with open(log, encoding="utf-8") as f:
        for line in f:
            entry = json.loads(line)
            if entry.get("path", "").endswith("/chat/completions"):
                sys.stdout.write(json.dumps(entry["body"], separators=(",", ":"), ensure_ascii=False) + "\n")


def main():
    parser = argparse.ArgumentParser(description="bench/serve's load: clients at once, turns each")
    sub = parser.add_subparsers(dest="mode", required=True)
    for name in ("serve", "floor"):
        p = sub.add_parser(name)
        p.add_argument("url")
        p.add_argument("--clients", type=int, required=True)
        p.add_argument("--turns", type=int, required=True)
        p.add_argument("--out", required=True)
        if name == "serve":
            p.add_argument("--pid", type=int)
        else:
            p.add_argument("--bodies", required=True)
    p = sub.add_parser("bodies")
    p.add_argument("log")
    args = parser.parse_args()
    if args.mode == "bodies":
        return bodies(args.log)
    tally, result = asyncio.run(run_serve(args) if args.mode == "serve" else run_floor(args))
    result.update({"latencies_ms": tally.latencies, "turn_of_latency": tally.by_turn, "turns": tally.turns, "errors": tally.errors,
                   "failed": tally.failed})
    with open(args.out, "w") as f:
        json.dump(result, f)
    if tally.failed or result["lost"]:
        for text in tally.errors:
            print(f"load.py {args.mode}: {text}", file=sys.stderr)
        print(f"load.py {args.mode}: {tally.failed} failures, {result['lost']} turns lost", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
