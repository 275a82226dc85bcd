#!/usr/bin/env python3
"""An OpenAI-compatible server that answers at once, for benchmarks.

Standard library only. Binds 127.0.0.1 on a free port and prints "PORT=<n>".

    POST /v1/chat/completions
        with tools            -> a format_response tool call (Mira's default mode)
        with response_format  -> that object as JSON message content
        otherwise             -> plain assistant content "ok" (what `llm` sends)
        "stream": true        -> the same answer as server-sent events
    GET /v1/models            -> one model, "instant"
    GET /stats                -> {"completions": n}: answers produced so far

It stops when its parent dies, so a benchmark that is killed leaves no server.
"""
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY = {"output": "ok", "persona": "default", "mood": "calm"}
USAGE = {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # 12 clients at once must never see a refused connect

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.completions = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    disable_nagle_algorithm = True  # else small answers wait ~40 ms for a delayed ACK

    def log_message(self, *args):
        pass

    def send_json(self, obj, status=200):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/v1/models"):
            self.send_json({"object": "list", "data": [{"id": "instant", "object": "model", "owned_by": "bench"}]})
        elif self.path == "/stats":
            self.send_json({"completions": self.server.completions})
        else:
            self.send_json({"error": {"message": "not found"}}, 404)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if not self.path.startswith("/v1/chat/completions"):
            return self.send_json({"error": {"message": "not found"}}, 404)
        with self.server.lock:
            self.server.completions += 1
            n = self.server.completions
        if body.get("tools"):
            call = {"id": f"call_{n}", "type": "function",
                    "function": {"name": "format_response", "arguments": json.dumps(REPLY)}}
            message, finish = {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
        elif body.get("response_format"):
            message, finish = {"role": "assistant", "content": json.dumps(REPLY)}, "stop"
        else:
            message, finish = {"role": "assistant", "content": "ok"}, "stop"
        base = {"id": f"chatcmpl-{n}", "created": int(time.time()), "model": body.get("model", "instant")}
        if body.get("stream") is True:
            return self.stream(base, message, finish)
        self.send_json(dict(base, object="chat.completion", usage=USAGE,
                            choices=[{"index": 0, "message": message, "finish_reason": finish}]))

    def stream(self, base, message, finish):
        """The whole answer in one delta, then the finish and usage chunks."""
        base = dict(base, object="chat.completion.chunk")
        events = [dict(base, choices=[{"index": 0, "delta": message, "finish_reason": None}]),
                  dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": finish}]),
                  dict(base, choices=[], usage=USAGE)]
        data = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data.encode())


def main():
    # A parent may start us with signals blocked; unblock them so SIGTERM works.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, set(signal.Signals))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server = Server()
    parent = os.getppid()

    def watch_parent():
        # Reparented means the bench script is gone: never outlive it.
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    print(f"PORT={server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
