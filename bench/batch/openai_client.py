#!/usr/bin/env python3
"""The Python side of the batch benchmark: what mira-llm -j N does, written the
way most people would with the official `openai` package and asyncio.

    openai_client.py [-j N] [--retries N] < records.jsonl > results.jsonl

Reads mira-llm's input (one turn record a line), sends each record's `request`
through AsyncOpenAI.chat.completions.create with at most N (default 64) in
flight, and writes each record back in input order with `reply`, `usage`,
`model` and `latency_ms` added, or `error` when it failed. Memory stays bounded:
at most 4 x N records are read ahead of the oldest one not yet written.
Server and key come from OPENAI_BASE_URL and OPENAI_API_KEY, as for Mira.

On exit it prints one JSON line on stderr: records, failures, seconds spent
importing the client, and seconds from the first request to the last write.
"""
import time

t_start = time.perf_counter()
import argparse  # noqa: E402
import asyncio  # noqa: E402
import collections  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import openai  # noqa: E402

t_imported = time.perf_counter()


def parse_reply(message):
    """{output, persona, mood, remember?} from a tool call or, failing that, the content."""
    if message.tool_calls:
        text = message.tool_calls[0].function.arguments
    else:
        text = message.content or ""
    reply = json.loads(text)
    texts = {k: v for k, v in reply.items() if k != "remember"} if isinstance(reply, dict) else None
    if not (texts is not None and set(texts) == {"output", "persona", "mood"}
            and all(isinstance(v, str) and v for v in texts.values())):
        raise ValueError("the reply breaks the {output, persona, mood} contract")
    facts = reply.get("remember", [])
    if not (isinstance(facts, list) and all(isinstance(f, dict) and set(f) == {"topic", "fact"}
                                            and all(isinstance(v, str) and v for v in f.values()) for f in facts)):
        raise ValueError("the reply's remember breaks the contract")
    return reply


async def answer(client, known, record, sem):
    async with sem:
        body = record.get("request")
        if not isinstance(body, dict):
            return dict(record, error={"stage": "openai_client", "code": "no_request", "message": "no request"})
        # Fields the SDK has no argument for travel in extra_body, as the SDK intends.
        args = {k: v for k, v in body.items() if k in known}
        extra = {k: v for k, v in body.items() if k not in known}
        t0 = time.perf_counter()
        try:
            completion = await client.chat.completions.create(**args, extra_body=extra or None)
            reply = parse_reply(completion.choices[0].message)
        except Exception as exc:  # a batch goes on past one bad record
            return dict(record, error={"stage": "openai_client", "code": type(exc).__name__, "message": str(exc)[:500]})
        out = dict(record, reply=reply, model=completion.model,
                   latency_ms=round((time.perf_counter() - t0) * 1000))
        if completion.usage is not None:
            out["usage"] = completion.usage.model_dump(exclude_none=True)
        return out


async def run(jobs, retries):
    client = openai.AsyncOpenAI(api_key=os.environ.get("OPENAI_API_KEY") or "none",
                                base_url=os.environ.get("OPENAI_BASE_URL"), max_retries=retries)
    known = set(inspect.signature(client.chat.completions.create).parameters) - {"extra_body"}
    sem = asyncio.Semaphore(jobs)
    window = collections.deque()   # tasks in input order, oldest first
    out = sys.stdout
    count = failed = 0
    t_first = None

    def write(result):
        nonlocal count, failed
        count += 1
        failed += "error" in result
        out.write(json.dumps(result, ensure_ascii=False, separators=(",", ":")) + "\n")

    for line in sys.stdin:
        if not line.strip():
            continue
        if t_first is None:
            t_first = time.perf_counter()
        try:
            record = json.loads(line)
        except ValueError as exc:
            record = {"mira": 1, "error": {"stage": "openai_client", "code": "bad_json", "message": str(exc)}}
        if "error" in record or not isinstance(record, dict):
            window.append(asyncio.get_running_loop().create_future())
            window[-1].set_result(record)
        else:
            window.append(asyncio.create_task(answer(client, known, record, sem)))
        # Write whatever is done at the front; wait for the front when the window is full.
        while window and (window[0].done() or len(window) >= 4 * jobs):
            write(await window.popleft())
        if len(window) >= jobs:
            await asyncio.sleep(0)
    while window:
        write(await window.popleft())
    out.flush()
    await client.close()
    return count, failed, (time.perf_counter() - t_first) if t_first else 0.0


def main():
    parser = argparse.ArgumentParser(description="Batch chat completions with the openai package.")
    parser.add_argument("-j", type=int, default=64, help="requests in flight (default 64)")
    parser.add_argument("--retries", type=int, default=3, help="max_retries (default 3, as mira-llm)")
    args = parser.parse_args()
    count, failed, busy = asyncio.run(run(args.j, args.retries))
    print(json.dumps({"records": count, "failed": failed, "import_s": round(t_imported - t_start, 3),
                      "work_s": round(busy, 3)}), file=sys.stderr)
    return min(failed, 63)


if __name__ == "__main__":
    sys.exit(main())
