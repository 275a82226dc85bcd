#!/usr/bin/env python3
"""Fake OpenAI-compatible chat-completions server for Mira's end-to-end tests.

Standard library only (Python 3.11+). Binds 127.0.0.1 and prints "PORT=<n>" as
the first line on stdout (nothing else is ever printed there).

    python3 fake_openai.py --port 0 --log FILE [--behaviour NAME] [--api-key KEY]

POST /v1/chat/completions is the model; each request is logged as one JSON line
{"n", "t", "path", "headers", "body"}, where "t" is its arrival time in seconds
on the server's monotonic clock (for asserting waits and spacing). GET /health -> {"status": "ok"}. POST /control
{"behaviour": NAME} switches behaviour and resets counters. Else 404.

The reply is deterministic:
    persona  first value of the schema's persona enum, unless the last user message
             contains a word equal to another enum value (then that value)
    mood     "curious"
    output   "echo: <last user message> (<number of messages> messages)"
With tools it is a format_response tool call (finish_reason "tool_calls"); with
response_format and no tools it is the JSON text as message content ("stop").

Behaviours (--behaviour or /control; counters are per process):
    normal        as above
    plain         ignores tools (content "Hey there, I hear you."); JSON content
                  when response_format is present
    plain-always  content "just words" whatever the request
    429-once      first request: 429 rate_limit_exceeded, headers retry-after-ms: 50
                  and retry-after: 1; later requests normal
    500-always    500 server_error, header retry-after-ms: 10
    should-not-retry
                  500 server_error with headers X-Should-Retry: false and
                  retry-after-ms: 10 (the server says: do not retry)
    401           401 invalid_api_key
    quota         429 insufficient_quota (must not be retried)
    bad-args      reply {"output": "", "persona": "butler", "mood": 7}
    not-json      200 text/html "<html>oops</html>"
    slow          sleep 3 s, then normal
    delay:MS      sleep MS milliseconds, then normal
    jitter:MS     sleep a random 0..MS milliseconds, then normal
    limit:N       a concurrency cap: while N requests are already being served,
                  answer 429 rate_limit_exceeded (retry-after-ms: 500, of the order real servers ask); else
                  sleep 50 ms and answer normally. GET /stats reports
                  {"served", "rejected", "max_in_flight"}
    429, 500, 502, 503
                  that status with an error body and retry-after-ms: 10 (429 also
                  retry-after: 1)
    reset         headers and half a body, then a TCP reset
    stall         headers and half a body, then 5 s of silence
    sse-cut       a stream that ends (cleanly) before "data: [DONE]"
    huge          200 with an 11 MB JSON body
    retry-after:S 429 rate_limit_exceeded with only the header "Retry-After: S"
                  (no retry-after-ms)
    ratelimit-exhausted:S
                  normal, plus headers "X-RateLimit-Remaining-Requests: 0" and
                  "X-RateLimit-Reset-Requests: Ss"
    hostile-date  normal, plus header
                  "Retry-After: Wed, 21 Oct 99999999999 07:28:00 GMT"
    hostile-date-429
                  429 rate_limit_exceeded with only that hostile Retry-After
    huge-usage    normal, but every usage count (also the stream's usage chunk) is
                  9223372036854775807
    redirect      307 to http://127.0.0.1:<port>/moved/v1/chat/completions
                  (Location header, short text/plain body)
    escape-reply  normal, but output is "hi ESC]0;PWNED BEL ESC[2J there" (terminal
                  escape sequences, escaped in the JSON text as usual)
    escape-error  400 invalid_request_error, message "bad ESC]0;PWNED BEL ESC[2J request"
    hold:K:MS     the K-th request (counted from 1 since the behaviour was set) sleeps
                  MS milliseconds before answering normally; every other request
                  answers normally at once

Header names are sent with the case shown (Retry-After, X-RateLimit-*); every
header line ends in CRLF.

A comma-separated list scripts the behaviour request by request: "503,reset,normal"
answers the first request 503, the second with a reset, and every later one
normally (the last item repeats).

Streaming ("stream": true): SSE over HTTP/1.1 chunked encoding (keep-alive); see
stream() for the event sequence. Events are written as two flushed HTTP chunks,
cut inside the first multi-byte UTF-8 character when there is one.
"""
import argparse
import json
import re
import os
import signal
import socket
import struct
import sys
import threading
import random
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

CHAT_PATH = "/v1/chat/completions"
FIXED = {"normal", "plain", "plain-always", "429-once", "500-always", "401",
         "quota", "bad-args", "not-json", "slow", "429", "500", "502", "503",
         "reset", "stall", "sse-cut", "huge", "hostile-date", "hostile-date-429",
         "huge-usage", "redirect", "escape-reply", "escape-error", "should-not-retry"}
PARAMETERISED = ("delay", "jitter", "limit", "retry-after", "ratelimit-exhausted", "hold")
FRAGMENT = 7
HOSTILE_DATE = "Wed, 21 Oct 99999999999 07:28:00 GMT"  # year past any date parser's range
ESCAPES = "\x1b]0;PWNED\x07\x1b[2J"  # set the terminal title, clear the screen
HUGE = 9223372036854775807  # Int64.max


def valid_behaviour(name):
    def ok(item):
        kind, _, value = item.partition(":")
        if kind == "hold":
            k, _, ms = value.partition(":")
            return k.isdigit() and ms.isdigit()
        return item in FIXED or (kind in PARAMETERISED and value.isdigit())
    return all(ok(item) for item in name.split(","))


def scripted(behaviour, count):
    """The behaviour for the count-th request (from 1) of a comma-separated script."""
    items = behaviour.split(",")
    return items[min(count, len(items)) - 1]


def error_body(message, kind, code):
    return {"error": {"message": message, "type": kind, "code": code}}


INVALID_KEY = error_body("Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
RATE_LIMITED = error_body("Rate limit reached", "requests", "rate_limit_exceeded")
ERRORS = {  # behaviour -> (status, body, headers)
    "500-always": (500, error_body("boom", "server_error", None), {"retry-after-ms": "10"}),
    "should-not-retry": (500, error_body("boom", "server_error", None),
                         {"X-Should-Retry": "false", "retry-after-ms": "10"}),
    "401": (401, INVALID_KEY, None),
    "quota": (429, error_body("You exceeded your current quota.", "insufficient_quota",
                              "insufficient_quota"), None),
    "429": (429, error_body("Rate limit reached", "requests", "rate_limit_exceeded"),
            {"retry-after-ms": "10", "retry-after": "1"}),
    "500": (500, error_body("boom", "server_error", None), {"retry-after-ms": "10"}),
    "502": (502, error_body("bad gateway", "server_error", None), {"retry-after-ms": "10"}),
    "503": (503, error_body("Loading model", "unavailable_error", 503), {"retry-after-ms": "10"}),
    "hostile-date-429": (429, RATE_LIMITED, {"Retry-After": HOSTILE_DATE}),
    "escape-error": (400, error_body(f"bad {ESCAPES} request", "invalid_request_error", None), None),
}


def text_of(content):
    """Text of a message content: a string or a list of {"type": "text"} parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p["text"] for p in content
                       if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def reply_schema(body):
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and isinstance(tool.get("function"), dict):
            return tool["function"].get("parameters")
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and isinstance(fmt.get("json_schema"), dict):
        return fmt["json_schema"].get("schema")
    return None


def pick_persona(schema, last_user):
    try:
        values = schema["properties"]["persona"]["enum"]
    except (KeyError, TypeError):
        values = None
    if not values:
        return "default"
    words = set(re.findall(r"\w+", last_user.lower()))
    for value in values[1:]:
        if str(value).lower() in words:
            return value
    return values[0]


def answer(body, behaviour):
    """Returns (kind, text, usage); kind is "tool" (text = arguments) or "content"."""
    raw = body.get("messages")
    messages = [m for m in raw if isinstance(m, dict)] if isinstance(raw, list) else []
    users = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
    last_user = users[-1] if users else ""
    has_tools = bool(body.get("tools"))
    has_format = isinstance(body.get("response_format"), dict)
    reply = {"output": f"echo: {last_user} ({len(raw) if isinstance(raw, list) else 0} messages)",
             "persona": pick_persona(reply_schema(body), last_user), "mood": "curious"}
    if behaviour == "bad-args":
        reply = {"output": "", "persona": "butler", "mood": 7}
    elif behaviour == "escape-reply":
        reply["output"] = f"hi {ESCAPES} there"
    plain = None
    if behaviour == "plain-always":
        plain = "just words"
    elif behaviour == "plain" and has_tools and not has_format:
        plain = "Hey there, I hear you."
    if plain is None:
        kind = "tool" if has_tools else "content"
        text, said = json.dumps(reply, ensure_ascii=False), reply["output"]
    else:
        kind, text, said = "content", plain, plain
    prompt = sum(len(text_of(m.get("content"))) for m in messages) // 4 + 1
    completion = len(said) // 4 + 1
    usage = {"prompt_tokens": prompt, "completion_tokens": completion,
             "total_tokens": prompt + completion}
    if behaviour == "huge-usage":
        usage = {"prompt_tokens": HUGE, "completion_tokens": HUGE, "total_tokens": HUGE}
    return kind, text, usage


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, port, log_path, behaviour, api_key):
        super().__init__(("127.0.0.1", port), Handler)
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None
        self.lock = threading.Lock()
        self.behaviour, self.api_key = behaviour, api_key
        self.total = 0   # chat requests since start: log "n", chatcmpl-N, call_N
        self.count = 0   # chat requests since the behaviour was last set
        self.in_flight = self.max_in_flight = self.served = self.rejected = 0

    def record(self, path, headers, body):
        arrived = time.monotonic()
        with self.lock:
            self.total += 1
            self.count += 1
            if self.log_file:
                entry = {"n": self.total, "t": arrived, "path": path, "headers": headers, "body": body}
                self.log_file.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self.log_file.flush()
            return self.total, self.count, self.behaviour

    def handle_error(self, request, client_address):
        pass  # mostly clients hanging up (timeouts); keep stderr quiet


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "FakeOpenAI/1.0"

    def log_message(self, *args):
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while (size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)):
                data += self.rfile.read(size)
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return data
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def send_bytes(self, status, data, ctype="application/json", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, status, obj, headers=None):
        self.send_bytes(status, json.dumps(obj, ensure_ascii=False).encode(), headers=headers)

    def not_found(self):
        path = urlsplit(self.path).path
        self.send_json(404, error_body(f"Invalid URL ({self.command} {path})",
                                       "invalid_request_error", "unknown_url"))

    def do_GET(self):
        if urlsplit(self.path).path == "/health":
            self.send_json(200, {"status": "ok"})
        elif urlsplit(self.path).path == "/stats":
            with self.server.lock:
                s = self.server
                self.send_json(200, {"served": s.served, "rejected": s.rejected, "max_in_flight": s.max_in_flight})
        else:
            self.not_found()

    def do_POST(self):
        path = urlsplit(self.path).path
        raw = self.read_body()
        try:
            body, parsed = (json.loads(raw) if raw else None), True
        except ValueError:
            body, parsed = raw.decode("utf-8", "replace"), False
        if path == "/control":
            return self.control(body)
        if path != CHAT_PATH:
            return self.not_found()
        headers = {k.lower(): v for k, v in self.headers.items()}
        n, count, behaviour = self.server.record(path, headers, body)
        behaviour = scripted(behaviour, count)
        key = self.server.api_key
        if key is not None and self.headers.get("Authorization") != f"Bearer {key}":
            return self.send_json(401, INVALID_KEY)
        if not parsed or not isinstance(body, dict):
            return self.send_json(400, error_body("Request body must be a JSON object.",
                                                  "invalid_request_error", None))
        if behaviour == "429-once" and count == 1:
            return self.send_json(429, error_body("Rate limit reached", "requests", "rate_limit_exceeded"),
                                  {"retry-after-ms": "50", "retry-after": "1"})
        if behaviour in ERRORS:
            return self.send_json(*ERRORS[behaviour])
        if behaviour.startswith("retry-after:"):
            return self.send_json(429, RATE_LIMITED, {"Retry-After": behaviour[12:]})
        if behaviour == "redirect":
            port = self.server.server_address[1]
            return self.send_bytes(307, b"Moved.\n", "text/plain",
                                   {"Location": f"http://127.0.0.1:{port}/moved{CHAT_PATH}"})
        if behaviour == "not-json":
            return self.send_bytes(200, b"<html>oops</html>", "text/html")
        if behaviour in ("reset", "stall"):
            return self.break_off(behaviour)
        if behaviour == "huge":
            filler = "x" * (11 * 1024 * 1024)
            return self.send_json(200, {"choices": [{"index": 0, "finish_reason": "stop",
                                                     "message": {"role": "assistant", "content": filler}}]})
        if behaviour.startswith("limit:"):
            return self.limited(body, n, int(behaviour[6:]))
        if behaviour == "slow":
            time.sleep(3)
        elif behaviour.startswith("delay:"):
            time.sleep(int(behaviour[6:]) / 1000)
        elif behaviour.startswith("hold:"):
            k, ms = behaviour[5:].split(":")
            if count == int(k):
                time.sleep(int(ms) / 1000)
        elif behaviour.startswith("jitter:"):
            time.sleep(random.uniform(0, int(behaviour[7:])) / 1000)
        extra = None  # headers added to a normal reply
        if behaviour.startswith("ratelimit-exhausted:"):
            extra = {"X-RateLimit-Remaining-Requests": "0",
                     "X-RateLimit-Reset-Requests": f"{behaviour[20:]}s"}
        elif behaviour == "hostile-date":
            extra = {"Retry-After": HOSTILE_DATE}
        self.complete(body, n, behaviour, extra)

    def limited(self, body, n, cap):
        server = self.server
        with server.lock:
            if server.in_flight >= cap:
                server.rejected += 1
                busy = True
            else:
                busy = False
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
        if busy:
            return self.send_json(429, error_body("Rate limit reached: too many requests at once",
                                                  "requests", "rate_limit_exceeded"), {"retry-after-ms": "500"})
        time.sleep(0.05)
        with server.lock:
            server.in_flight -= 1
            server.served += 1
        self.complete(body, n, "normal")

    def complete(self, body, n, behaviour, headers=None):
        kind, text, usage = answer(body, behaviour)
        model = body.get("model", "")
        if body.get("stream") is True:
            options = body.get("stream_options")
            include = isinstance(options, dict) and options.get("include_usage") is True
            return self.stream(n, model, kind, text, usage, include, cut=behaviour == "sse-cut",
                               headers=headers)
        if kind == "tool":
            call = {"id": f"call_{n}", "type": "function",
                    "function": {"name": "format_response", "arguments": text}}
            message, finish = {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
        else:
            message, finish = {"role": "assistant", "content": text}, "stop"
        self.send_json(200, {"id": f"chatcmpl-{n}", "object": "chat.completion",
                             "created": int(time.time()), "model": model,
                             "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                             "usage": usage}, headers)

    def break_off(self, how):
        """Promise a body, send half of it, then reset the connection or go silent."""
        body = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": "x" * 200}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        if how == "stall":
            time.sleep(5)
        else:
            # SO_LINGER with a zero timeout turns close() into a TCP reset.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def stream(self, n, model, kind, text, usage, include_usage, cut=False, headers=None):
        """SSE events: role; [tool call header with empty arguments]; the text in
        FRAGMENT-character pieces (arguments or content deltas); empty delta with
        finish_reason; [usage chunk with "choices": []]; "data: [DONE]". The third
        event uses CRLF line endings and ": keep-alive" sits in the middle."""
        base = {"id": f"chatcmpl-{n}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": model}

        def event(obj):
            return "data: " + json.dumps(obj, ensure_ascii=False) + "\n\n"

        def chunk(delta, finish=None):
            obj = dict(base, choices=[{"index": 0, "delta": delta, "finish_reason": finish}])
            if include_usage:
                obj["usage"] = None  # like OpenAI: null on every chunk but the last
            return event(obj)

        events = [chunk({"role": "assistant"})]
        if kind == "tool":
            events.append(chunk({"tool_calls": [{"index": 0, "id": f"call_{n}", "type": "function",
                                                 "function": {"name": "format_response", "arguments": ""}}]}))
        for i in range(0, len(text), FRAGMENT):
            piece = text[i:i + FRAGMENT]
            events.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
                                if kind == "tool" else {"content": piece}))
        events.append(chunk({}, "tool_calls" if kind == "tool" else "stop"))
        if include_usage:
            events.append(event(dict(base, choices=[], usage=usage)))
        if not cut:
            events.append("data: [DONE]\n\n")
        events[2] = events[2].replace("\n", "\r\n")
        events.insert(len(events) // 2, ": keep-alive\n\n")

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            for data in (e.encode() for e in events):
                cut = next((i + 1 for i, b in enumerate(data) if b >= 0x80), len(data) // 2)
                for part in (data[:cut], data[cut:]):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    self.wfile.flush()
                    time.sleep(0.002)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def control(self, body):
        name = body.get("behaviour") if isinstance(body, dict) else None
        if not isinstance(name, str) or not valid_behaviour(name):
            return self.send_json(400, error_body(f"Unknown behaviour {name!r}.",
                                                  "invalid_request_error", "unknown_behaviour"))
        with self.server.lock:
            self.server.behaviour, self.server.count = name, 0
        self.send_json(200, {"ok": True})


def main():
    parser = argparse.ArgumentParser(description="Fake OpenAI chat-completions server for tests.")
    parser.add_argument("--port", type=int, default=0, help="0 picks an ephemeral port")
    parser.add_argument("--log", help="append one JSON line per chat request to this file")
    parser.add_argument("--behaviour", default="normal")
    parser.add_argument("--api-key", help="require Authorization: Bearer KEY")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS with this certificate")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="stop when stdin closes or the parent exits, so a test cannot leave the server behind")
    args = parser.parse_args()
    if not valid_behaviour(args.behaviour):
        parser.error(f"unknown behaviour {args.behaviour!r}")
    server = Server(args.port, args.log, args.behaviour, args.api_key)
    if args.tls:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*args.tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)

    def stop(signum, frame):
        raise SystemExit(0)

    # A parent may spawn us with signals blocked (Foundation's Process passes
    # its threads' mask on): unblock them, or SIGTERM would never arrive.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, set(signal.Signals))
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.exit_on_stdin_eof:
        # Stop when stdin closes or the parent (the test) is gone: a test that
        # dies, or a leaked pipe end, must never leave a server running.
        parent = os.getppid()

        def watch_stdin():
            sys.stdin.buffer.read()
            os._exit(0)

        def watch_parent():
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(0)
        threading.Thread(target=watch_stdin, daemon=True).start()
        threading.Thread(target=watch_parent, daemon=True).start()
    print(f"PORT={server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        with server.lock:
            if server.log_file:
                server.log_file.close()
                server.log_file = None


if __name__ == "__main__":
    main()
