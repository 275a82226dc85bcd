import MiraBatch
import MiraLLM
import MiraPrompt
import MiraShared

// Target `retry-after`: the text of a retry-after or rate-limit reset value,
// read as an HTTP date, as seconds and as a duration.
// Input: 8 bytes `now` in seconds (Int, big-endian, unrestricted), then the text.

func fuzzRetryAfter(_ bytes: [UInt8]) {
    var input = FuzzInput(bytes)
    let now = Int(input.int64())
    let text = String(decoding: input.rest, as: UTF8.self)

    _ = RetryPolicy.httpDate(text)
    if let wait = RetryPolicy.retryAfterMilliseconds(headers: ["retry-after": text], now: now) {
        check(wait >= 0, "a negative retry-after wait: \(wait)")
    }
    if let wait = RateLimitHeaders.duration(text) {
        check(wait >= 0, "a negative rate-limit reset: \(wait)")
    }
}
