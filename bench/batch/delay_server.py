#!/usr/bin/env python3
"""An OpenAI-compatible server that answers every completion after a fixed delay.

    delay_server.py [DELAY_MS]      (default 100; 0 answers as soon as the body is in)

Standard library only, one asyncio event loop, no threads. Binds 127.0.0.1 on a
free port and prints "PORT=<n>". HTTP/1.1 with keep-alive, so a client holding
64 connections open costs one small object per connection.

    POST /v1/chat/completions   after DELAY_MS, a chat completion with usage:
        body mentions "tools"            -> a format_response tool call
        body mentions "response_format"  -> the reply object as message content
        otherwise                        -> plain text content
        "stream": true                   -> the same answer as server-sent events
    GET /stats                  {"completions": n}: answers sent so far
    GET /v1/models              one model, "delay"

The body is read by Content-Length and never parsed as JSON: a byte search is
enough to tell the three shapes apart, and the benchmark's bodies are big.

It exits when its parent dies, when its stdin (if a pipe) reaches end of file,
and on SIGTERM or SIGINT, so a killed benchmark leaves nothing behind.
"""
import asyncio
import json
import os
import re
import signal
import socket
import stat
import sys
import time

REPLY = json.dumps({"output": "Still here, still listening.", "persona": "default", "mood": "calm"})
USAGE = '{"prompt_tokens":812,"completion_tokens":21,"total_tokens":833}'
MODEL_RE = re.compile(rb'"model"\s*:\s*"([A-Za-z0-9._:/-]{1,100})"')
STREAM_RE = re.compile(rb'"stream"\s*:\s*true')
MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024


class Stats:
    completions = 0


def completion_message(body):
    """The assistant message and finish reason for one request body (bytes)."""
    if b'"tools"' in body:
        call = {"id": f"call_{Stats.completions}", "type": "function",
                "function": {"name": "format_response", "arguments": REPLY}}
        return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
    if b'"response_format"' in body:
        return {"role": "assistant", "content": REPLY}, "stop"
    return {"role": "assistant", "content": "Still here, still listening."}, "stop"


def answer(body):
    """The whole HTTP response (bytes) for a chat completions request."""
    Stats.completions += 1
    n = Stats.completions
    match = MODEL_RE.search(body)
    model = match.group(1).decode() if match else "delay"
    message, finish = completion_message(body)
    head = f'"id":"chatcmpl-{n}","created":{int(time.time())},"model":{json.dumps(model)}'
    if STREAM_RE.search(body):
        chunk = '{%s,"object":"chat.completion.chunk","choices":[%s]}'
        events = [
            chunk % (head, json.dumps({"index": 0, "delta": message, "finish_reason": None})),
            chunk % (head, json.dumps({"index": 0, "delta": {}, "finish_reason": finish})),
            '{%s,"object":"chat.completion.chunk","choices":[],"usage":%s}' % (head, USAGE),
        ]
        data = "".join(f"data: {e}\n\n" for e in events) + "data: [DONE]\n\n"
        return response(200, data.encode(), "text/event-stream")
    choice = json.dumps({"index": 0, "message": message, "finish_reason": finish, "logprobs": None})
    data = '{%s,"object":"chat.completion","choices":[%s],"usage":%s}' % (head, choice, USAGE)
    return response(200, data.encode())


def response(status, data, kind="application/json"):
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 413: "Payload Too Large"}[status]
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode() + data


def error(status, text):
    return response(status, json.dumps({"error": {"message": text, "type": "invalid_request_error"}}).encode())


class Connection(asyncio.Protocol):
    """One keep-alive connection: requests are answered one at a time, in order."""

    def __init__(self, delay):
        self.delay = delay
        self.buf = bytearray()
        self.busy = False      # a response is scheduled and not yet written
        self.continued = False  # "100 Continue" already sent for the request being read
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc):
        self.transport = None

    def data_received(self, data):
        self.buf += data
        if not self.busy:
            self.next_request()

    def next_request(self):
        """Take one whole request off the buffer, if there is one, and schedule its answer."""
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buf) > MAX_HEAD:
                self.finish(error(400, "header too large"), close=True)
            return
        head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        try:
            method, path, _ = head[0].split(" ", 2)
        except ValueError:
            return self.finish(error(400, "bad request line"), close=True)
        length, close, expect = 0, False, False
        for line in head[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value.strip() or 0)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
            elif name == "expect" and value.strip().lower() == "100-continue":
                expect = True
            elif name == "transfer-encoding":
                return self.finish(error(400, "chunked bodies are not supported"), close=True)
        if length > MAX_BODY:
            return self.finish(error(413, "body too large"), close=True)
        if len(self.buf) < end + 4 + length:
            # Wait for the rest of the body (curl asks first for big ones).
            if expect and not self.continued:
                self.continued = True
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            return
        self.continued = False
        body = bytes(self.buf[end + 4:end + 4 + length])
        del self.buf[:end + 4 + length]
        self.busy = True
        if method == "POST" and path.startswith("/v1/chat/completions"):
            if self.delay > 0:
                asyncio.get_running_loop().call_later(self.delay, self.reply, body, close)
            else:
                self.reply(body, close)
        elif method == "GET" and path == "/stats":
            self.finish(response(200, json.dumps({"completions": Stats.completions}).encode()), close)
        elif method == "GET" and path.startswith("/v1/models"):
            data = {"object": "list", "data": [{"id": "delay", "object": "model", "owned_by": "bench"}]}
            self.finish(response(200, json.dumps(data).encode()), close)
        else:
            self.finish(error(404, "not found"), close)

    def reply(self, body, close):
        self.finish(answer(body), close)

    def finish(self, data, close=False):
        self.busy = False
        if self.transport is None:
            return
        self.transport.write(data)
        if close:
            self.transport.close()
            self.transport = None
        elif self.buf:
            self.next_request()


async def main(delay_ms):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    # Never outlive the benchmark: poll the parent, and watch stdin when it is a pipe.
    parent = os.getppid()

    def watch_parent():
        if os.getppid() != parent:
            stop.done() or stop.set_result(None)
        else:
            loop.call_later(0.5, watch_parent)

    watch_parent()
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        mode = 0
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        def stdin_ready():
            try:
                data = os.read(0, 4096)
            except OSError:
                data = b""
            if not data:
                loop.remove_reader(0)
                stop.done() or stop.set_result(None)
        loop.add_reader(0, stdin_ready)

    server = await loop.create_server(lambda: Connection(delay_ms / 1000), "127.0.0.1", 0, backlog=4096)
    print(f"PORT={server.sockets[0].getsockname()[1]}", flush=True)
    await stop
    server.close()


if __name__ == "__main__":
    # A parent may start us with signals blocked; unblock them so SIGTERM works.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, set(signal.Signals))
    delay = float(sys.argv[1]) if len(sys.argv) > 1 else 100.0
    if delay < 0:
        sys.exit("delay_server.py: the delay must be 0 or more milliseconds")
    asyncio.run(main(delay))
