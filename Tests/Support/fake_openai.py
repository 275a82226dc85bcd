#!/usr/bin/env python3
"""The fake OpenAI-compatible server (chat completions and embeddings): Mira's
end-to-end tests and its benchmarks both talk to this one server.

Standard library only (Python 3.11+). Binds 127.0.0.1 and prints "PORT=<n>" as
the first line on stdout (nothing else is ever printed there).

    python3 fake_openai.py [--port 0] [--log FILE] [--behaviour NAME] [--api-key KEY]
                           [--lenient] [--tls CERT KEY] [--stream-gap MS]
                           [--embed-behaviour NAME] [--embed-max-input BYTES]
                           [--exit-on-stdin-eof | --exit-with-parent]

POST /v1/chat/completions is the model. With --log, each chat request is logged
as one JSON line {"n", "t", "path", "headers", "body"}, where "t" is its arrival
time in seconds on the server's monotonic clock (for asserting waits and
spacing); without --log nothing is written (the benchmarks' mode).
GET /health -> {"status": "ok"}. GET /stats -> {"served", "rejected",
"max_in_flight"} (of limit:N) and "completions": whole replies answered (200,
a completion or a stream that ends with its finish; errors, breaks and stream
faults do not count), "embeddings" and "embedded_inputs": embedding requests
answered 200 and the inputs in them. GET /v1/models -> one model,
"fake-openai". POST /control {"behaviour": NAME} switches behaviour and resets
counters; {"embed_behaviour": NAME} does the same for embeddings (either key,
or both). Else 404.

For the tests: --log, a behaviour below, --exit-on-stdin-eof (stop when stdin
closes or the parent exits, so a test cannot leave the server behind). For the
benchmarks: no --log; "normal" answers at once, "delay:100" after 100 ms;
--exit-with-parent (stop when the parent exits: a script's background job has
/dev/null for stdin) or --exit-on-stdin-eof with a pipe. --stream-gap MS is the
silence after each half event of a stream (2 by default, for the tests' clients
to meet split chunks; 0 streams at full speed). SIGTERM and SIGINT stop it.

One asyncio event loop serves every connection (HTTP/1.1 keep-alive; requests
on a connection are answered in order; a waiting behaviour awaits, so it holds
up only its own connection). It was a ThreadingHTTPServer, a thread per
connection, and the benchmarks had two servers of their own. Why the loop:
measured on 2 cores with mira-llm -j 64, 5,000 records answered after 100 ms,
the threads cost 0.29 ms of CPU a request and their switching under the GIL
raised mira-llm's own CPU by about a tenth (0.27-0.29 ms a record against
0.25); the loop costs 0.21 ms, leaves mira-llm at 0.25 ms and its wall time
within 1 % of the old asyncio delay server's (which read no JSON, 0.12 ms).
Answering at once (8,649 records of 23 KB) it took 3.0-3.7 s where the threads
took 4.4-4.6 s. The wire is http.server's, kept byte for byte: status line,
Server and Date first, header names in the case given, CRLF, "100 Continue"
for "Expect: 100-continue", chunked request bodies, the same error pages
(only a malformed HTTP version now gets a status line; http.server sent its
page bare, as to an HTTP/0.9 client).

Strict mode (the default; --lenient turns it off) refuses, as OpenAI does, a chat
request that a real server would refuse, whatever the behaviour: it is logged, then
answered 400 with {"error": {"message", "type": "invalid_request_error", "param",
"code"}} (see strict_refusal() for the exact texts) when it
    - holds both max_tokens and max_completion_tokens
          (param "max_tokens", code "invalid_parameter_combination");
    - asks response_format json_schema without a json_schema.name, or with a name
      not matching ^[a-zA-Z0-9_-]{1,64}$
          (param "response_format.json_schema.name", code
          "missing_required_parameter" / "invalid_value" / "string_above_max_length");
    - marks a schema "strict": true (a tool's function or response_format.json_schema)
      and some object schema in it, nested ones too, lacks "additionalProperties":
      false or does not list every property in "required"
          ("Invalid schema for function 'NAME': In context=('properties', 'x'), ...";
          tools: param "tools[i].function.parameters", code
          "invalid_function_parameters"; response_format: param "response_format",
          code null);
    - has tool_choice but no tools (param "tool_choice", code null), or forces a
      function no entry of tools has (param "tool_choice", code "invalid_value").
Lenient mode answers all of these as behaviour says.

The reply is deterministic:
    persona  first value of the schema's persona enum, unless the last user message
             contains a word equal to another enum value (then that value)
    mood     "curious"
    output   "echo: <last user message> (<number of messages> messages)", and when
             the request holds Mira's memory message (a system message starting
             "## What you remember"), " I remember: <fact>; <fact>" with the text of
             each fact it lists under "### What they told you about themselves"
    remember only when the schema has a "remember" property: the facts planted by
             the last user message, else []. Three sentence forms plant one
             (any case; the first of each form only):
                 "my name is X"                -> {"topic": "name", "fact": "is called X"}
                 "I have a KIND called|named X" -> {"topic": "pet", "fact": "has a KIND called X"}
                 "I live in PLACE"             -> {"topic": "home", "fact": "lives in PLACE"}
             (X and KIND one word each, at most 40 characters; PLACE runs to the next
             . , ! ? ; or control character, at most 80 characters)
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
    reset         headers and half a body, then a TCP reset (RST, no FIN: a client
                  reads "Connection reset by peer"; curl exits 56)
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
    sse-error-line:CODE
                  llama.cpp's mid-stream error. Streaming: 200 text/event-stream, the
                  first three events of a normal stream, then the line
                  'error: {"code": CODE, "message": ..., "type": ...}' and a blank line,
                  and the body ends (cleanly) without "data: [DONE]". CODE 400 is the
                  context overflow (type "exceed_context_size_error", message "the
                  request exceeds the available context size, try increasing it", plus
                  "n_prompt_tokens" and "n_ctx"), 500 "server_error", 503
                  "unavailable_error" (other 4xx invalid_request_error, 5xx
                  server_error). Not streaming: status CODE, {"error": <that object>}
    sse-error-data, sse-error-data:CODE
                  OpenAI's mid-stream error: the same three events, then
                  'data: {"error": {"message", "type", "param": null, "code"}}', then
                  the end without [DONE]. 500 (the default): "The server had an error
                  while processing your request." server_error, code null; 400: an
                  invalid_request_error with code "invalid_prompt" (not retryable).
                  Not streaming: status CODE with that error body
    no-tools      like Ollama with a model that has no tool support: a request with
                  tools or tool_choice gets 400 "<model> does not support tools"
                  (invalid_request_error, param and code null); others answer normally
    refuse-max-tokens
                  like OpenAI's reasoning models: a request with max_tokens gets 400
                  "Unsupported parameter: 'max_tokens' is not supported with this model.
                  Use 'max_completion_tokens' instead." (param "max_tokens", code
                  "unsupported_parameter"); others answer normally
    refuse-max-completion-tokens
                  like older compatible servers: a request with max_completion_tokens
                  gets 400 "Unrecognized request argument supplied: max_completion_tokens"
                  (param and code null); others answer normally
    ratelimit-tokens-exhausted:S
                  normal, plus headers "X-RateLimit-Remaining-Tokens: 0" and
                  "X-RateLimit-Reset-Tokens: Ss"
    retry-after-ms:MS
                  429 rate_limit_exceeded with only the header "Retry-After-Ms: MS"
    should-not-retry
                  500 server_error with headers "X-Should-Retry: false" and
                  "retry-after-ms: 10" (the server's word beats the status)
    should-retry-400
                  400 invalid_request_error with header "X-Should-Retry: true" (script
                  "should-retry-400,normal" for a retry that then succeeds)

Embeddings: POST /v1/embeddings takes {"model": M, "input": STRING or [STRINGS]}
and answers {"object": "list", "data": [{"object": "embedding", "index": i,
"embedding": [256 floats]}...], "model": M, "usage": {"prompt_tokens",
"total_tokens"}}. The vector is a hashed bag of words, so texts that share words
are near: the text lower-cased, cut into \w+ words, a plural "s" dropped
("cats" meets "cat"), each word hashed (BLAKE2b, stable across runs) to one of
256 dimensions with a sign, the sum scaled to length 1 (a text with no words
hashes whole). As OpenAI does, a request without a string model, or with an
input that is not a non-empty string or list of non-empty strings, is refused
400. --embed-max-input BYTES answers 500 (llama.cpp's "input is too large to
process") when any input is over BYTES UTF-8 bytes, as a MiniLM llama-server
does past 512 tokens. Embedding requests are logged with --log like chat
requests (the same "n" sequence; "path" tells them apart) and are checked for
--api-key; chat's behaviour does not apply to them, nor theirs to chat.
Embedding behaviours (--embed-behaviour or /control {"embed_behaviour"}; a
comma-separated list scripts them request by request, as for chat, counted
apart from chat requests):
    normal            as above
    429-once          first request: 429 rate_limit_exceeded with retry-after-ms: 50
                      and retry-after: 1; later requests normal
    429, 500, 503     that status with an error body and retry-after-ms: 10
    retry-after:S     429 rate_limit_exceeded with only "Retry-After: S"
    delay:MS          sleep MS milliseconds, then normal
    wrong-count       one data item fewer than inputs (none for one input)
    wrong-dimension   the last item has one dimension fewer than the others
    dim:N             every vector has N dimensions (N from 1)
    reversed          the items in reverse order, each with its right index
    duplicate-index   every item has index 0
    zero              every vector all zeros
    not-json          200 text/html "<html>oops</html>"

Header names are sent with the case shown: OpenAI's own lower case for
retry-after-ms and retry-after in the 429/5xx errors, mixed case for Retry-After,
Retry-After-Ms, X-RateLimit-*, X-Should-Retry. Every header line ends in CRLF.

A comma-separated list scripts the behaviour request by request: "503,reset,normal"
answers the first request 503, the second with a reset, and every later one
normally (the last item repeats).

Streaming ("stream": true): SSE over HTTP/1.1 chunked encoding (keep-alive); see
stream() for the event sequence. Events are written as two flushed HTTP chunks,
cut inside the first multi-byte UTF-8 character when there is one, each chunk
followed by --stream-gap milliseconds of silence.
"""
import argparse
import asyncio
import email.utils
import hashlib
import html
import json
import math
import re
import os
import signal
import socket
import struct
import sys
import threading
import random
import time
import traceback
from http import HTTPStatus
from http.server import DEFAULT_ERROR_CONTENT_TYPE, DEFAULT_ERROR_MESSAGE
from urllib.parse import urlsplit

CHAT_PATH = "/v1/chat/completions"
EMBED_PATH = "/v1/embeddings"
EMBED_DIM = 256
EMBED_FIXED = {"normal", "429-once", "429", "500", "503", "wrong-count", "wrong-dimension",
               "reversed", "duplicate-index", "zero", "not-json"}
EMBED_PARAMETERISED = ("retry-after", "delay", "dim")
FIXED = {"normal", "plain", "plain-always", "429-once", "500-always", "401",
         "quota", "bad-args", "not-json", "slow", "429", "500", "502", "503",
         "reset", "stall", "sse-cut", "huge", "hostile-date", "hostile-date-429",
         "huge-usage", "redirect", "escape-reply", "escape-error", "sse-error-data",
         "no-tools", "refuse-max-tokens", "refuse-max-completion-tokens",
         "should-not-retry", "should-retry-400"}
PARAMETERISED = ("delay", "jitter", "limit", "retry-after", "ratelimit-exhausted", "hold",
                 "sse-error-line", "sse-error-data", "ratelimit-tokens-exhausted", "retry-after-ms")
FRAGMENT = 7
HOSTILE_DATE = "Wed, 21 Oct 99999999999 07:28:00 GMT"  # year past any date parser's range
ESCAPES = "\x1b]0;PWNED\x07\x1b[2J"  # set the terminal title, clear the screen
HUGE = 9223372036854775807  # Int64.max
MODEL_ID = "fake-openai"  # the one model GET /v1/models lists


def valid_behaviour(name):
    def ok(item):
        kind, _, value = item.partition(":")
        if kind == "hold":
            k, _, ms = value.partition(":")
            return k.isdigit() and ms.isdigit()
        if kind in ("sse-error-line", "sse-error-data") and value:
            return value.isdigit() and 400 <= int(value) <= 599
        return item in FIXED or (kind in PARAMETERISED and value.isdigit())
    return all(ok(item) for item in name.split(","))


def valid_embed_behaviour(name):
    def ok(item):
        kind, _, value = item.partition(":")
        if kind == "dim":
            return value.isdigit() and int(value) >= 1
        return item in EMBED_FIXED or (kind in EMBED_PARAMETERISED and value.isdigit())
    return all(ok(item) for item in name.split(","))


def embed_stem(word):
    """A plural's "s" dropped, so "cats" and "cat" land in the same dimension."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def embedding(text, dimensions=EMBED_DIM):
    """The hashed bag of words of a text, scaled to length 1."""
    words = [embed_stem(w) for w in re.findall(r"\w+", text.lower())] or [text]
    vector = [0.0] * dimensions
    for word in words:
        digest = hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        vector[int.from_bytes(digest[:4], "little") % dimensions] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vector))
    if norm == 0:  # words that cancel out in one dimension: the whole text decides
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        vector[int.from_bytes(digest[:4], "little") % dimensions], norm = 1.0, 1.0
    return [round(x / norm, 6) for x in vector]


def embedding_inputs(body):
    """The request's inputs as a list of strings, or an error body for the 400 OpenAI would give."""
    def refuse(message, param):
        return None, error_body(message, "invalid_request_error", None, param)

    if not isinstance(body.get("model"), str):
        return refuse("you must provide a model parameter", "model")
    inputs = body.get("input")
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) for i in inputs):
        return refuse("'$.input' is invalid: a string or a non-empty list of strings is expected.", "input")
    if any(i == "" for i in inputs):
        return refuse("'$.input' is invalid: an input is an empty string.", "input")
    return inputs, None


def scripted(behaviour, count):
    """The behaviour for the count-th request (from 1) of a comma-separated script."""
    items = behaviour.split(",")
    return items[min(count, len(items)) - 1]


def error_body(message, kind, code, param=None):
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


INVALID_KEY = error_body("Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
RATE_LIMITED = error_body("Rate limit reached", "requests", "rate_limit_exceeded")
TOO_LARGE = {"code": 500, "message": "input is too large to process. increase the physical batch size",
             "type": "server_error"}  # llama.cpp's words for an input over its batch
EMBED_ERRORS = {  # embedding behaviour -> (status, body, headers)
    "429": (429, RATE_LIMITED, {"retry-after-ms": "10", "retry-after": "1"}),
    "500": (500, error_body("boom", "server_error", None), {"retry-after-ms": "10"}),
    "503": (503, error_body("Loading model", "unavailable_error", 503), {"retry-after-ms": "10"}),
}
ERRORS = {  # behaviour -> (status, body, headers)
    "500-always": (500, error_body("boom", "server_error", None), {"retry-after-ms": "10"}),
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
    "should-not-retry": (500, error_body("The server had an error while processing your request.",
                                         "server_error", None),
                         {"X-Should-Retry": "false", "retry-after-ms": "10"}),
    "should-retry-400": (400, error_body("The request could not be processed right now; try again.",
                                         "invalid_request_error", None), {"X-Should-Retry": "true"}),
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


MEMORY_HEADING = "## What you remember"
FACTS_HEADING = "### What they told you about themselves"
PLANTS = [
    (re.compile(r"\bmy name is ([\w'-]{1,40})", re.I), lambda m: ("name", f"is called {m[1]}")),
    (re.compile(r"\bi have an? ([\w-]{1,40}) (?:called|named) ([\w'-]{1,40})", re.I),
     lambda m: ("pet", f"has a {m[1].lower()} called {m[2]}")),
    (re.compile(r"\bi live in ([^.,!?;\x00-\x1f\x7f-\x9f\u2028\u2029]+)", re.I), lambda m: ("home", f"lives in {m[1].strip()[:80]}")),
]


def planted_facts(last_user):
    """The facts a user message plants, in the order of PLANTS."""
    facts = []
    for pattern, fact in PLANTS:
        m = pattern.search(last_user)
        if m:
            topic, text = fact(m)
            facts.append({"topic": topic, "fact": text})
    return facts


def remembered_facts(messages):
    """The facts Mira's memory message lists: each line '- DATE, they told you: "..."'
    under FACTS_HEADING, its quoted part read as the JSON string it is."""
    for m in messages:
        text = text_of(m.get("content"))
        if m.get("role") != "system" or not text.startswith(MEMORY_HEADING + "\n"):
            continue
        facts, inside = [], False
        for line in text.split("\n"):
            if line.startswith("### "):
                inside = line == FACTS_HEADING
            elif inside and line.startswith("- ") and ": \"" in line:
                try:
                    facts.append(json.loads(line[line.index(": \"") + 2:]))
                except ValueError:
                    pass
        return facts
    return []


def answer(body, behaviour):
    """Returns (kind, text, usage); kind is "tool" (text = arguments) or "content"."""
    raw = body.get("messages")
    messages = [m for m in raw if isinstance(m, dict)] if isinstance(raw, list) else []
    users = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
    last_user = users[-1] if users else ""
    has_tools = bool(body.get("tools"))
    has_format = isinstance(body.get("response_format"), dict)
    schema = reply_schema(body)
    reply = {"output": f"echo: {last_user} ({len(raw) if isinstance(raw, list) else 0} messages)",
             "persona": pick_persona(schema, last_user), "mood": "curious"}
    recalled = remembered_facts(messages)
    if recalled:
        reply["output"] += " I remember: " + "; ".join(recalled)
    if isinstance(schema, dict) and isinstance(schema.get("properties"), dict) \
            and "remember" in schema["properties"]:
        reply["remember"] = planted_facts(last_user)
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


SCHEMA_NAME = re.compile(r"[a-zA-Z0-9_-]+")


def schema_problem(schema, context=()):
    """The first way a strict schema breaks OpenAI's rules, as OpenAI words it
    ("In context=('properties', 'x'), ..."), depth first; None when it keeps them."""
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    if kind == "object" or (isinstance(kind, list) and "object" in kind) or "properties" in schema:
        where = f"In context={tuple(context)!r}, "
        if schema.get("additionalProperties") is not False:
            return where + "'additionalProperties' is required to be supplied and to be false."
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = schema.get("required")
        if not isinstance(required, list):
            required = []
        missing = [key for key in properties if key not in required]
        if missing:
            return (where + "'required' is required to be supplied and to be an array including "
                    f"every key in properties. Missing '{missing[0]}'.")
        extra = [key for key in required if key not in properties]
        if extra:
            return (where + "'required' must be an array that includes every key in `properties`. "
                    f"Extra required key '{extra[0]}' supplied.")
        for key, sub in properties.items():
            if (problem := schema_problem(sub, context + ("properties", key))):
                return problem
    if (problem := schema_problem(schema.get("items"), context + ("items",))):
        return problem
    for word in ("anyOf", "allOf", "oneOf", "prefixItems"):
        subs = schema.get(word)
        for i, sub in enumerate(subs if isinstance(subs, list) else []):
            if (problem := schema_problem(sub, context + (word, i))):
                return problem
    for word in ("$defs", "definitions"):
        subs = schema.get(word)
        for key, sub in (subs.items() if isinstance(subs, dict) else []):
            if (problem := schema_problem(sub, context + (word, key))):
                return problem
    return None


def strict_refusal(body):
    """Why OpenAI would refuse this request with a 400, as an error body; None if it would not."""
    def refuse(message, param, code):
        return error_body(message, "invalid_request_error", code, param)

    if "max_tokens" in body and "max_completion_tokens" in body:
        return refuse("Setting 'max_tokens' and 'max_completion_tokens' at the same time is not supported.",
                      "max_tokens", "invalid_parameter_combination")
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema")
        param = "response_format.json_schema.name"
        name = spec.get("name") if isinstance(spec, dict) else None
        if not isinstance(spec, dict):
            return refuse("Missing required parameter: 'response_format.json_schema'.",
                          "response_format.json_schema", "missing_required_parameter")
        if name is None:
            return refuse(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")
        if not isinstance(name, str) or not SCHEMA_NAME.fullmatch(name):
            return refuse(f"Invalid '{param}': string does not match pattern. Expected a string that "
                          "matches the pattern '^[a-zA-Z0-9_-]+$'.", param, "invalid_value")
        if len(name) > 64:
            return refuse(f"Invalid '{param}': string too long. Expected a string with maximum length 64, "
                          f"but got a string with length {len(name)} instead.", param, "string_above_max_length")
        if spec.get("strict") is True and (problem := schema_problem(spec.get("schema"))):
            return refuse(f"Invalid schema for response_format '{name}': {problem}", "response_format", None)
    tools = body.get("tools")
    tools = tools if isinstance(tools, list) else []
    names = set()
    for i, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict):
            continue
        names.add(function.get("name"))
        if function.get("strict") is True and (problem := schema_problem(function.get("parameters"))):
            return refuse(f"Invalid schema for function '{function.get('name')}': {problem}",
                          f"tools[{i}].function.parameters", "invalid_function_parameters")
    choice = body.get("tool_choice")
    if "tool_choice" in body and choice is not None:
        if not tools:
            return refuse("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
                          "specified.", "tool_choice", None)
        forced = choice.get("function") if isinstance(choice, dict) else None
        if isinstance(forced, dict) and forced.get("name") not in names:
            return refuse(f"Invalid value for 'tool_choice': function '{forced.get('name')}' not found in "
                          "'tools'.", "tool_choice", "invalid_value")
    return None


def request_refusal(body, behaviour):
    """The 400 a behaviour that mimics a narrower server gives this request, or None."""
    model = body.get("model", "")
    if behaviour == "no-tools" and (body.get("tools") is not None or body.get("tool_choice") is not None):
        return error_body(f"{model} does not support tools", "invalid_request_error", None)
    if behaviour == "refuse-max-tokens" and "max_tokens" in body:
        return error_body("Unsupported parameter: 'max_tokens' is not supported with this model. "
                          "Use 'max_completion_tokens' instead.", "invalid_request_error",
                          "unsupported_parameter", "max_tokens")
    if behaviour == "refuse-max-completion-tokens" and "max_completion_tokens" in body:
        return error_body("Unrecognized request argument supplied: max_completion_tokens",
                          "invalid_request_error", None)
    return None


def stream_fault(behaviour):
    """(status, error object, SSE text) for the sse-error-* behaviours, else None.
    The error object is what the SSE line carries; a non-stream answer wraps it
    in {"error": ...} and uses the status."""
    kind, _, value = behaviour.partition(":")
    if kind == "sse-error-line":
        status = int(value)
        if status == 400:
            error = {"code": 400, "message": "the request exceeds the available context size, try increasing it",
                     "type": "exceed_context_size_error", "n_prompt_tokens": 4153, "n_ctx": 4096}
        elif status == 503:
            error = {"code": 503, "message": "Loading model", "type": "unavailable_error"}
        elif status >= 500:
            error = {"code": status, "message": "Compute error.", "type": "server_error"}
        else:
            error = {"code": status, "message": "Invalid request.", "type": "invalid_request_error"}
        return status, error, "error: " + json.dumps(error) + "\n\n"
    if kind == "sse-error-data":
        status = int(value or 500)
        if status < 500:
            error = error_body("Invalid prompt: your prompt was flagged as potentially violating our usage "
                               "policy.", "invalid_request_error", "invalid_prompt")["error"]
        else:
            error = error_body("The server had an error while processing your request.", "server_error",
                               None)["error"]
        return status, error, "data: " + json.dumps({"error": error}) + "\n\n"
    return None


class Server:
    """What every connection shares: the behaviour, the counters and the log.

    One event loop runs everything, so the counters need no lock: no await
    stands between reading one and changing it."""

    def __init__(self, log_path, behaviour, api_key, strict=True, stream_gap=0.002,
                 embed_behaviour="normal", embed_max_input=None):
        self.strict = strict
        self.embed_behaviour, self.embed_max_input = embed_behaviour, embed_max_input
        self.embed_count = 0  # embedding requests since the embedding behaviour was last set
        self.embeddings = self.embedded_inputs = 0  # answered 200, for GET /stats
        self.stream_gap = stream_gap
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None
        self.behaviour, self.api_key = behaviour, api_key
        self.port = 0
        self.total = 0   # chat requests since start: log "n", chatcmpl-N, call_N
        self.count = 0   # chat requests since the behaviour was last set
        self.in_flight = self.max_in_flight = self.served = self.rejected = 0
        self.completions = 0  # completions answered (200, a whole reply), for GET /stats

    def record(self, path, headers, body):
        self.count += 1
        return self.log(path, headers, body), self.count, self.behaviour

    def log(self, path, headers, body):
        """Numbers the request (chat and embeddings share the sequence) and logs it."""
        arrived = time.monotonic()
        self.total += 1
        if self.log_file:
            entry = {"n": self.total, "t": arrived, "path": path, "headers": headers, "body": body}
            self.log_file.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self.log_file.flush()
        return self.total

    async def connection(self, reader, writer):
        """One connection: its requests are answered one at a time, in order,
        until the client closes it, asks to ("Connection: close"), or a
        behaviour breaks it off."""
        sock = writer.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small answers must not wait for an ACK
        exchange = None
        try:
            while True:
                exchange = Exchange(self, writer)
                if not await exchange.read(reader):
                    break
                await exchange.handle()
                if exchange.close or writer.is_closing():
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError, OSError):
            pass  # mostly clients hanging up (timeouts); keep stderr quiet
        except Exception:
            traceback.print_exc()
        finally:
            if exchange is None or not exchange.aborted:
                writer.close()


def http_date(_cache=[0, ""]):
    """The Date header's value, as http.server writes it (made once a second)."""
    now = int(time.time())
    if now != _cache[0]:
        _cache[:] = [now, email.utils.formatdate(now, usegmt=True)]
    return _cache[1]


SERVER_HEADER = f"FakeOpenAI/1.0 Python/{sys.version.split()[0]}"
MAX_LINE = 65536
MAX_HEADERS = 100


class Exchange:
    """One request and its answer, read and written the way http.server's
    BaseHTTPRequestHandler (HTTP/1.1) does: the same status lines, Server and
    Date headers first, header names in the case given, CRLF everywhere."""

    def __init__(self, server, writer):
        self.server, self.writer = server, writer
        self.close = True
        self.aborted = False

    # --- reading ----------------------------------------------------------------

    async def read(self, reader):
        """Reads one request; False when there is none (the client is done, or
        the request could not be parsed and was answered with an error)."""
        try:
            line = await reader.readline()
        except ValueError:  # longer than the reader's limit
            self.send_error(414, "Request-URI Too Long")
            return False
        if not line:
            return False
        if len(line) > MAX_LINE:
            self.send_error(414, "Request-URI Too Long")
            return False
        words = line.decode("iso-8859-1").rstrip("\r\n").split()
        if not words:
            return False  # as http.server: a blank request line ends the connection
        if len(words) != 3 or not words[2].startswith("HTTP/"):
            self.send_error(400, f"Bad request syntax ({line.decode('iso-8859-1').rstrip(chr(13) + chr(10))!r})")
            return False
        self.command, self.path, version = words
        try:
            major, minor = (int(part) for part in version[5:].split("."))
        except ValueError:
            self.send_error(400, f"Bad request version ({version!r})")
            return False
        if major >= 2:
            self.send_error(505, f"Invalid HTTP version ({version[5:]})")
            return False
        if self.path.startswith("//"):
            self.path = "/" + self.path.lstrip("/")
        self.close = (major, minor) < (1, 1)
        fields = []
        while True:
            try:
                line = await reader.readline()
            except ValueError:
                self.send_error(431, "Line too long")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            if len(line) > MAX_LINE or len(fields) >= MAX_HEADERS:
                self.send_error(431, "Line too long" if len(line) > MAX_LINE else "Too many headers")
                return False
            name, _, value = line.decode("iso-8859-1").partition(":")
            fields.append((name, value.lstrip(" \t").rstrip("\r\n")))
        self.fields = fields
        connection = self.header("Connection", "").lower()
        if connection == "close":
            self.close = True
        elif connection == "keep-alive":
            self.close = False
        if self.header("Expect", "").lower() == "100-continue" and (major, minor) >= (1, 1):
            self.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if self.command not in ("GET", "POST"):
            self.send_error(501, f"Unsupported method ({self.command!r})")
            return False
        self.body = await self.read_body(reader)
        return True

    def header(self, name, default=None):
        """The first header of this name, in any case (as email.message does)."""
        name = name.lower()
        return next((v for k, v in self.fields if k.lower() == name), default)

    async def read_body(self, reader):
        if "chunked" in self.header("Transfer-Encoding", "").lower():
            data = b""
            while (size := int((await reader.readline()).split(b";")[0].strip() or b"0", 16)):
                data += await reader.readexactly(size)
                await reader.readline()
            while await reader.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return data
        length = int(self.header("Content-Length") or 0)
        try:
            return await reader.readexactly(length) if length else b""
        except asyncio.IncompleteReadError as cut:
            self.close = True
            return cut.partial

    # --- writing ----------------------------------------------------------------

    def head(self, status, headers, reason=None):
        """Status line, Server, Date, then headers in order, and the blank line."""
        lines = [f"HTTP/1.1 {status} {reason or HTTPStatus(status).phrase}\r\nServer: {SERVER_HEADER}\r\nDate: {http_date()}\r\n"]
        lines += [f"{name}: {value}\r\n" for name, value in headers]
        lines.append("\r\n")
        return "".join(lines).encode("latin-1", "strict")

    def write(self, data):
        if not self.writer.is_closing():
            self.writer.write(data)

    async def flush(self):
        """Until the kernel has every byte written so far."""
        await self.writer.drain()
        while self.writer.transport.get_write_buffer_size() and not self.writer.is_closing():
            await asyncio.sleep(0.001)

    async def send_bytes(self, status, data, ctype="application/json", headers=None):
        fields = [("Content-Type", ctype), ("Content-Length", str(len(data)))]
        self.write(self.head(status, fields + list((headers or {}).items())) + data)
        await self.writer.drain()

    async def send_json(self, status, obj, headers=None):
        await self.send_bytes(status, json.dumps(obj, ensure_ascii=False).encode(), headers=headers)

    def send_error(self, status, message):
        """As http.server's send_error: the message as the reason phrase, its
        HTML error page, and the connection closed."""
        page = (DEFAULT_ERROR_MESSAGE % {"code": status, "message": html.escape(message, quote=False),
                                         "explain": HTTPStatus(status).description}).encode("utf-8", "replace")
        head = self.head(status, [("Connection", "close"), ("Content-Type", DEFAULT_ERROR_CONTENT_TYPE),
                                  ("Content-Length", str(len(page)))], reason=message)
        self.write(head + page)
        self.close = True

    async def not_found(self):
        path = urlsplit(self.path).path
        await self.send_json(404, error_body(f"Invalid URL ({self.command} {path})",
                                             "invalid_request_error", "unknown_url"))

    # --- answering --------------------------------------------------------------

    async def handle(self):
        if self.command == "GET":
            await self.do_get()
        else:
            await self.do_post()

    async def do_get(self):
        path = urlsplit(self.path).path
        s = self.server
        if path == "/health":
            await self.send_json(200, {"status": "ok"})
        elif path == "/stats":
            await self.send_json(200, {"served": s.served, "rejected": s.rejected,
                                       "max_in_flight": s.max_in_flight, "completions": s.completions,
                                       "embeddings": s.embeddings, "embedded_inputs": s.embedded_inputs})
        elif path == "/v1/models" or path.startswith("/v1/models/"):
            await self.send_json(200, {"object": "list", "data": [
                {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "fake_openai"}]})
        else:
            await self.not_found()

    async def do_post(self):
        path = urlsplit(self.path).path
        raw = self.body
        try:
            body, parsed = (json.loads(raw) if raw else None), True
        except ValueError:
            body, parsed = raw.decode("utf-8", "replace"), False
        if path == "/control":
            return await self.control(body)
        if path == EMBED_PATH:
            return await self.embeddings(body, parsed)
        if path != CHAT_PATH:
            return await self.not_found()
        headers = {k.lower(): v for k, v in self.fields}
        n, count, behaviour = self.server.record(path, headers, body)
        behaviour = scripted(behaviour, count)
        key = self.server.api_key
        if key is not None and self.header("Authorization") != f"Bearer {key}":
            return await self.send_json(401, INVALID_KEY)
        if not parsed or not isinstance(body, dict):
            return await self.send_json(400, error_body("Request body must be a JSON object.",
                                                        "invalid_request_error", None))
        if self.server.strict and (refusal := strict_refusal(body)):
            return await self.send_json(400, refusal)
        if (refusal := request_refusal(body, behaviour)):
            return await self.send_json(400, refusal)
        if behaviour == "429-once" and count == 1:
            return await self.send_json(429, error_body("Rate limit reached", "requests", "rate_limit_exceeded"),
                                        {"retry-after-ms": "50", "retry-after": "1"})
        if behaviour in ERRORS:
            return await self.send_json(*ERRORS[behaviour])
        if behaviour.startswith("retry-after:"):
            return await self.send_json(429, RATE_LIMITED, {"Retry-After": behaviour[12:]})
        if behaviour.startswith("retry-after-ms:"):
            return await self.send_json(429, RATE_LIMITED, {"Retry-After-Ms": behaviour[15:]})
        if behaviour == "redirect":
            return await self.send_bytes(307, b"Moved.\n", "text/plain",
                                         {"Location": f"http://127.0.0.1:{self.server.port}/moved{CHAT_PATH}"})
        if behaviour == "not-json":
            return await self.send_bytes(200, b"<html>oops</html>", "text/html")
        if behaviour in ("reset", "stall"):
            return await self.break_off(behaviour)
        if behaviour == "huge":
            filler = "x" * (11 * 1024 * 1024)
            return await self.send_json(200, {"choices": [{"index": 0, "finish_reason": "stop",
                                                           "message": {"role": "assistant", "content": filler}}]})
        if behaviour.startswith("limit:"):
            return await self.limited(body, n, int(behaviour[6:]))
        if behaviour == "slow":
            await asyncio.sleep(3)
        elif behaviour.startswith("delay:"):
            await asyncio.sleep(int(behaviour[6:]) / 1000)
        elif behaviour.startswith("hold:"):
            k, ms = behaviour[5:].split(":")
            if count == int(k):
                await asyncio.sleep(int(ms) / 1000)
        elif behaviour.startswith("jitter:"):
            await asyncio.sleep(random.uniform(0, int(behaviour[7:])) / 1000)
        extra = None  # headers added to a normal reply
        if behaviour.startswith("ratelimit-exhausted:"):
            extra = {"X-RateLimit-Remaining-Requests": "0",
                     "X-RateLimit-Reset-Requests": f"{behaviour[20:]}s"}
        elif behaviour.startswith("ratelimit-tokens-exhausted:"):
            extra = {"X-RateLimit-Remaining-Tokens": "0",
                     "X-RateLimit-Reset-Tokens": f"{behaviour[27:]}s"}
        elif behaviour == "hostile-date":
            extra = {"Retry-After": HOSTILE_DATE}
        await self.complete(body, n, behaviour, extra)

    async def limited(self, body, n, cap):
        server = self.server
        if server.in_flight >= cap:
            server.rejected += 1
            return await self.send_json(429, error_body("Rate limit reached: too many requests at once",
                                                        "requests", "rate_limit_exceeded"), {"retry-after-ms": "500"})
        server.in_flight += 1
        server.max_in_flight = max(server.max_in_flight, server.in_flight)
        try:
            await asyncio.sleep(0.05)
        finally:
            server.in_flight -= 1
        server.served += 1
        await self.complete(body, n, "normal")

    async def complete(self, body, n, behaviour, headers=None):
        kind, text, usage = answer(body, behaviour)
        model = body.get("model", "")
        fault = stream_fault(behaviour)
        if body.get("stream") is True:
            options = body.get("stream_options")
            include = isinstance(options, dict) and options.get("include_usage") is True
            return await self.stream(n, model, kind, text, usage, include, cut=behaviour == "sse-cut",
                                     headers=headers, fault=fault and fault[2])
        if fault:
            return await self.send_json(fault[0], {"error": fault[1]}, headers)
        if kind == "tool":
            call = {"id": f"call_{n}", "type": "function",
                    "function": {"name": "format_response", "arguments": text}}
            message, finish = {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
        else:
            message, finish = {"role": "assistant", "content": text}, "stop"
        self.server.completions += 1
        await self.send_json(200, {"id": f"chatcmpl-{n}", "object": "chat.completion",
                                   "created": int(time.time()), "model": model,
                                   "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                                   "usage": usage}, headers)

    async def break_off(self, how):
        """Promise a body, send half of it, then reset the connection or go silent."""
        body = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": "x" * 200}}]}).encode()
        self.write(self.head(200, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]))
        self.write(body[: len(body) // 2])
        await self.flush()
        if how == "stall":
            await asyncio.sleep(5)
        else:
            # SO_LINGER with a zero timeout turns close() into a TCP reset (RST,
            # no FIN). abort() closes the socket without shutdown(SHUT_WR), which
            # would send a FIN first (a clean end, not a reset); flush() above saw
            # the half body into the kernel, so it is sent before the reset.
            sock = self.writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.writer.transport.abort()
            self.aborted = True
        self.close = True

    async def stream(self, n, model, kind, text, usage, include_usage, cut=False, headers=None, fault=None):
        """SSE events: role; [tool call header with empty arguments]; the text in
        FRAGMENT-character pieces (arguments or content deltas); empty delta with
        finish_reason; [usage chunk with "choices": []]; "data: [DONE]". The third
        event uses CRLF line endings and ": keep-alive" sits in the middle.
        With a fault (an SSE text), the first three events, then the fault, then the end.
        Each event goes as two HTTP chunks, each followed by --stream-gap of silence."""
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
        if fault:
            events = events[:3] + [fault]
        elif not cut:
            events.append("data: [DONE]\n\n")
        events[2] = events[2].replace("\n", "\r\n")
        events.insert(len(events) // 2, ": keep-alive\n\n")
        if not fault:
            self.server.completions += 1

        self.write(self.head(200, [("Content-Type", "text/event-stream; charset=utf-8"),
                                   ("Cache-Control", "no-cache"), ("Transfer-Encoding", "chunked")]
                             + list((headers or {}).items())))
        gap = self.server.stream_gap
        for data in (e.encode() for e in events):
            cut = next((i + 1 for i, b in enumerate(data) if b >= 0x80), len(data) // 2)
            for part in (data[:cut], data[cut:]):
                if self.writer.is_closing():
                    self.close = True
                    return
                self.write(b"%x\r\n%s\r\n" % (len(part), part))
                await self.writer.drain()
                if gap:
                    await asyncio.sleep(gap)
        self.write(b"0\r\n\r\n")
        await self.writer.drain()

    async def control(self, body):
        body = body if isinstance(body, dict) else {}
        name = body.get("behaviour")
        embed = body.get("embed_behaviour")
        if "embed_behaviour" in body and (not isinstance(embed, str) or not valid_embed_behaviour(embed)):
            return await self.send_json(400, error_body(f"Unknown embedding behaviour {embed!r}.",
                                                        "invalid_request_error", "unknown_behaviour"))
        if ("behaviour" in body or embed is None) and (not isinstance(name, str) or not valid_behaviour(name)):
            return await self.send_json(400, error_body(f"Unknown behaviour {name!r}.",
                                                        "invalid_request_error", "unknown_behaviour"))
        if name is not None:
            self.server.behaviour, self.server.count = name, 0
        if embed is not None:
            self.server.embed_behaviour, self.server.embed_count = embed, 0
        await self.send_json(200, {"ok": True})

    async def embeddings(self, body, parsed):
        """POST /v1/embeddings: hashed bags of words, or what the embedding behaviour says."""
        s = self.server
        s.log(EMBED_PATH, {k.lower(): v for k, v in self.fields}, body)
        s.embed_count += 1
        behaviour = scripted(s.embed_behaviour, s.embed_count)
        if s.api_key is not None and self.header("Authorization") != f"Bearer {s.api_key}":
            return await self.send_json(401, INVALID_KEY)
        if not parsed or not isinstance(body, dict):
            return await self.send_json(400, error_body("Request body must be a JSON object.",
                                                        "invalid_request_error", None))
        inputs, refusal = embedding_inputs(body)
        if refusal:
            return await self.send_json(400, refusal)
        if behaviour == "429-once" and s.embed_count == 1:
            return await self.send_json(429, RATE_LIMITED, {"retry-after-ms": "50", "retry-after": "1"})
        if behaviour in EMBED_ERRORS:
            return await self.send_json(*EMBED_ERRORS[behaviour])
        if behaviour.startswith("retry-after:"):
            return await self.send_json(429, RATE_LIMITED, {"Retry-After": behaviour[12:]})
        if behaviour == "not-json":
            return await self.send_bytes(200, b"<html>oops</html>", "text/html")
        if behaviour.startswith("delay:"):
            await asyncio.sleep(int(behaviour[6:]) / 1000)
        limit = s.embed_max_input
        if limit is not None and any(len(i.encode("utf-8", "surrogatepass")) > limit for i in inputs):
            return await self.send_json(500, {"error": TOO_LARGE})
        dimensions = int(behaviour[4:]) if behaviour.startswith("dim:") else EMBED_DIM
        vectors = [embedding(text, dimensions) for text in inputs]
        if behaviour == "zero":
            vectors = [[0.0] * dimensions for _ in inputs]
        elif behaviour == "wrong-dimension":
            vectors[-1] = vectors[-1][:-1]
        items = [{"object": "embedding", "index": 0 if behaviour == "duplicate-index" else i, "embedding": v}
                 for i, v in enumerate(vectors)]
        if behaviour == "wrong-count":
            items = items[:-1]
        elif behaviour == "reversed":
            items.reverse()
        tokens = sum(len(re.findall(r"\w+", text)) or 1 for text in inputs)
        s.embeddings += 1
        s.embedded_inputs += len(inputs)
        await self.send_json(200, {"object": "list", "data": items, "model": body["model"],
                                   "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


def watch(stdin, parent):
    """Threads that end the process (os._exit, at once) when stdin reaches end
    of file or the parent process is gone (we were reparented)."""
    if stdin:
        def watch_stdin():
            sys.stdin.buffer.read()
            os._exit(0)
        threading.Thread(target=watch_stdin, daemon=True).start()
    if parent:
        first = os.getppid()

        def watch_parent():
            while os.getppid() == first:
                time.sleep(0.5)
            os._exit(0)
        threading.Thread(target=watch_parent, daemon=True).start()


async def serve(args):
    server = Server(args.log, args.behaviour, args.api_key, strict=not args.lenient,
                    stream_gap=args.stream_gap / 1000, embed_behaviour=args.embed_behaviour,
                    embed_max_input=args.embed_max_input)
    context = None
    if args.tls:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*args.tls)
    loop = asyncio.get_running_loop()
    # Handshakes that fail and clients that vanish are the tests' business, not stderr's.
    loop.set_exception_handler(lambda loop, context: None)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    listener = await asyncio.start_server(server.connection, "127.0.0.1", args.port, ssl=context,
                                          backlog=4096, limit=MAX_LINE + 1)
    server.port = listener.sockets[0].getsockname()[1]
    print(f"PORT={server.port}", flush=True)
    try:
        await stop
    finally:
        listener.close()
        if server.log_file:
            server.log_file.close()
            server.log_file = None


def main():
    parser = argparse.ArgumentParser(description="Fake OpenAI chat-completions and embeddings server for tests and benchmarks.")
    parser.add_argument("--port", type=int, default=0, help="0 picks an ephemeral port")
    parser.add_argument("--log", help="append one JSON line per chat or embedding request to this file (none without it)")
    parser.add_argument("--behaviour", default="normal")
    parser.add_argument("--api-key", help="require Authorization: Bearer KEY")
    parser.add_argument("--lenient", action="store_true",
                        help="turn strict mode off: answer requests OpenAI would refuse with 400")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS with this certificate")
    parser.add_argument("--stream-gap", type=float, default=2, metavar="MS",
                        help="milliseconds of silence after each half event of a stream (default 2; 0: none)")
    parser.add_argument("--embed-behaviour", default="normal", help="how POST /v1/embeddings answers (see the top of this file)")
    parser.add_argument("--embed-max-input", type=int, metavar="BYTES",
                        help="answer embeddings 500 when an input is over BYTES UTF-8 bytes (a small local model's limit)")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="stop when stdin closes or the parent exits, so a test cannot leave the server behind")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="stop when the parent exits (for a parent whose stdin for us is /dev/null)")
    args = parser.parse_args()
    if not valid_behaviour(args.behaviour):
        parser.error(f"unknown behaviour {args.behaviour!r}")
    if not valid_embed_behaviour(args.embed_behaviour):
        parser.error(f"unknown embedding behaviour {args.embed_behaviour!r}")
    if args.embed_max_input is not None and args.embed_max_input < 1:
        parser.error("--embed-max-input must be 1 or more bytes")
    if args.stream_gap < 0:
        parser.error("--stream-gap must be 0 or more milliseconds")
    # A parent may spawn us with signals blocked (Foundation's Process passes
    # its threads' mask on): unblock them, or SIGTERM would never arrive.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, set(signal.Signals))
    # Stop when stdin closes or the parent (the test) is gone: a test that
    # dies, or a leaked pipe end, must never leave a server running.
    watch(stdin=args.exit_on_stdin_eof, parent=args.exit_on_stdin_eof or args.exit_with_parent)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
