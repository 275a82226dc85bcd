#!/usr/bin/env bash
# Runs targets of the fuzzer that `make fuzz` built, each for SECONDS, and
# prints each one's last libFuzzer line, or on a crash the log's tail, the
# target and where the input is. Every target runs even after one fails, so
# one known crash does not hide the others; the exit status says if any did.
# Usage: Fuzz/run.sh SECONDS TARGET...
set -u
cd "$(dirname "$0")/.."
seconds=$1
shift
out=.build-fuzz
fuzzer=$out/mira-fuzzer

# Longest input per target: enough for real answers, small enough to stay fast.
max_len() {
    case $1 in
        retry-after) echo 1024 ;;
        headers) echo 16384 ;;
        *) echo 65536 ;;
    esac
}

# What a real server sends, so the fuzzer starts from the shapes that matter.
# Each target's binary prefix is described at the top of its Fuzz/*.swift file.
seed() {  # seed TARGET NAME PREFIX TEXT  (PREFIX in printf %b escapes)
    { printf '%b' "$3"; printf '%s' "$4"; } > "$out/corpus/$1/seed-$2"
}
plant_seeds() {
    mkdir -p "$out/corpus/$1"
    case $1 in
    record)
        seed record line '' '{"mira":1,"session":"s1","turn":"t","history":[{"role":"user","content":"hi","time":"2026-01-01T00:00:00.000Z"}],"input":"x","reply":{"output":"o","persona":"default","mood":"m"}}' ;;
    body)  # flags, status (2 bytes), body
        seed body tool-call '\x00\x00\xc8' '{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"format_response","arguments":"{\"output\":\"That sounds rough. Want to talk about it?\",\"persona\":\"haven\",\"mood\":\"gentle\"}"}}],"refusal":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":812,"completion_tokens":31,"total_tokens":843}}'
        seed body json-schema '\x01\x00\xc8' '{"id":"chatcmpl-2","object":"chat.completion","model":"local","choices":[{"index":0,"message":{"role":"assistant","content":"{\"output\":\"Hey.\",\"persona\":\"default\",\"mood\":\"warm\"}"},"finish_reason":"stop"}]}'
        seed body rate-limited '\x00\x01\xad' '{"error":{"message":"Rate limit reached for gpt-4.1 on requests per min (RPM): Limit 500, Used 500.","type":"requests","param":null,"code":"rate_limit_exceeded"}}' ;;
    sse)  # flags, 4 piece lengths, stream
        seed sse tool-call '\x00\x07\x01\x40\x03' 'data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4.1","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"format_response","arguments":""}}]},"finish_reason":null}]}

data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"output\":\"That sounds "}}]},"finish_reason":null}]}

: keep-alive

data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"rough.\",\"persona\":\"haven\",\"mood\":\"gentle\"}"}}]},"finish_reason":null}]}

data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4.1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":812,"completion_tokens":31,"total_tokens":843}}

data: [DONE]

'
        seed sse content-crlf '\x01\x02\x05\x01\x11' $'data: {"choices":[{"index":0,"delta":{"content":"{\\"output\\":\\"Hey \xe2\x9c\xa8\\","}}]}\r\n\r\ndata: {"choices":[{"index":0,"delta":{"content":"\\"persona\\":\\"default\\",\\"mood\\":\\"warm\\"}"},"finish_reason":"stop"}]}\r\n\r\ndata: [DONE]\r\n\r\n' ;;
    headers)  # now in seconds (8 bytes), now in milliseconds (8 bytes), header lines
        seed headers rate-limited '\x00\x00\x00\x00\x56\x27\x3e\x80\x00\x00\x01\x50\x89\x4c\x24\x00' $'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nx-ratelimit-remaining-requests: 0\r\nx-ratelimit-reset-requests: 3s\r\n\r\n'
        seed headers redirected '\x00\x00\x00\x00\x56\x27\x3e\x80\x00\x00\x01\x50\x89\x4c\x24\x00' $'HTTP/1.1 100 Continue\r\n\r\nHTTP/2 200\r\ncontent-type: text/event-stream\r\nretry-after-ms: 250\r\nx-ratelimit-remaining-tokens: 0\r\nx-ratelimit-reset-tokens: 6m0s\r\nretry-after: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\n' ;;
    retry-after)  # now in seconds (8 bytes), text
        seed retry-after date '\x00\x00\x00\x00\x56\x27\x3e\x70' 'Wed, 21 Oct 2015 07:28:00 GMT'
        seed retry-after seconds '\x00\x00\x00\x00\x56\x27\x3e\x70' '1.5'
        seed retry-after duration '\x00\x00\x00\x00\x56\x27\x3e\x70' '1h2m3.5s' ;;
    esac
}

failed=()
for target in "$@"; do
    plant_seeds "$target"
    mkdir -p "$out/$target"
    log=$out/$target.log
    # -timeout: a hang of 10 s on one input is a bug, not a slow input.
    # SWIFT_BACKTRACE off: Swift's crash backtracer and ASan trip over each
    # other; libFuzzer's own handler then prints the stack.
    if SWIFT_BACKTRACE=enable=no MIRA_FUZZ_TARGET=$target "$fuzzer" -max_total_time="$seconds" -max_len="$(max_len "$target")" \
        -timeout=10 -dict=Fuzz/mira.dict -artifact_prefix="$out/$target/" "$out/corpus/$target" > "$log" 2>&1; then
        echo "fuzz $target: $(tail -1 "$log")"
    else
        tail -40 "$log"
        input=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
        if [ -n "$input" ]; then
            echo "fuzz: target $target failed on the input $input (log: $log)"
            echo "      replay: SWIFT_BACKTRACE=enable=no MIRA_FUZZ_TARGET=$target $fuzzer $input"
        else
            echo "fuzz: target $target failed without saving an input (log: $log)"
        fi
        failed+=("$target")
    fi
done
if ((${#failed[@]})); then
    echo "fuzz: failed targets: ${failed[*]}"
    exit 1
fi
