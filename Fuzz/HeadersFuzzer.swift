import MiraBatch
import MiraLLM
import MiraPrompt
import MiraShared

// Target `headers`: the raw header lines of an answer (status line included,
// CR LF kept on each line as curl hands them over), then everything that
// reads them: retry-after, the rate-limit pause and the batch throttle.
// Input: 8 bytes `now` in seconds (Int), 8 bytes `now` in milliseconds
// (Int64), both big-endian and unrestricted, then the header block.

func fuzzHeaders(_ bytes: [UInt8]) {
    var input = FuzzInput(bytes)
    let nowSeconds = Int(input.int64())
    let nowMilliseconds = input.int64()
    let block = input.rest

    var headers = ResponseHeaders()
    var status: Int?
    for line in linesKeepingEnds(block) {
        headers.add(line: line)
        if line.starts(with: Array("HTTP/".utf8)) {
            // The throttle reacts to the status; the status line is the last one seen.
            let words = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x0D || $0 == 0x0A })
            status = words.count > 1 ? Int(String(decoding: words[1], as: UTF8.self)) : nil
        }
    }
    for name in headers.fields.keys {
        check(name == name.lowercased(), "a header name was kept with upper case: \(name)")
    }

    _ = RetryPolicy.retryAfterMilliseconds(headers: headers.fields, now: nowSeconds)
    _ = RateLimitHeaders(headers: headers.fields, now: nowMilliseconds)

    // Ticket 0 is a fresh throttle's generation: this answer is its first.
    var throttle = Throttle(ceiling: 4)
    throttle.finish(ticket: 0, status: status, headers: headers.fields, now: nowMilliseconds)
    // The next start reads the pause those headers set, at any clock.
    _ = throttle.start(now: nowMilliseconds, tokens: 100)
}

/// The lines of a header block, each with its CR LF (or lone LF) still on,
/// as curl's header callback hands them over; a last unfinished line too.
func linesKeepingEnds(_ block: [UInt8]) -> [ArraySlice<UInt8>] {
    var lines: [ArraySlice<UInt8>] = []
    var start = block.startIndex
    for i in block.indices where block[i] == 0x0A {
        lines.append(block[start...i])
        start = i + 1
    }
    if start < block.endIndex { lines.append(block[start...]) }
    return lines
}
