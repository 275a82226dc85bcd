import MiraLLM
import MiraShared

/// How fast a batch may call the server: at most `concurrency` requests at
/// once, `--rpm` and `--tpm` caps, and pauses the server asks for. Pure
/// state over a millisecond clock that the caller passes in.
///
/// Concurrency adapts: a 429 halves it (once per burst of 429s, not once per
/// request that was already in flight), and each run of `concurrency`
/// successes in a row adds one back, up to the `-j` ceiling.
package struct Throttle: Sendable {
    package enum Decision: Equatable, Sendable {
        /// Start now; hand the ticket back to `finish`.
        case go(ticket: Int)
        /// A rate cap or a pause: try again after this many milliseconds.
        case wait(milliseconds: Int)
        /// All slots are busy: try again when a request finishes.
        case full
    }

    package let ceiling: Int
    package private(set) var concurrency: Int
    package private(set) var inFlight = 0
    package let requestsPerMinute: Int?
    package let tokensPerMinute: Int?
    /// No request starts before this time (retry-after, exhausted quota).
    package private(set) var pausedUntil: Int64 = 0
    /// How many times a 429 halved the concurrency.
    package private(set) var backoffs = 0

    // Earliest start times under each cap (a GCRA: each start pushes the
    // next one back by its share of the minute).
    private var nextRequestAt: Double = 0
    private var nextTokensAt: Double = 0
    private var successStreak = 0
    /// Bumped at each halving; a 429 for a request started before it is
    /// part of the same burst and does not halve again.
    private var generation = 0

    package init(ceiling: Int, requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil) {
        precondition(ceiling >= 1)
        self.ceiling = ceiling
        concurrency = ceiling
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
    }

    /// May a request of about `tokens` tokens start at `now`?
    package mutating func start(now: Int64, tokens: Int) -> Decision {
        guard inFlight < concurrency else { return .full }
        var until = Double(pausedUntil)
        if requestsPerMinute != nil { until = max(until, nextRequestAt) }
        if tokensPerMinute != nil { until = max(until, nextTokensAt) }
        if until > Double(now) {
            // Clamped in Double: a pause and a clock are far apart only when something is wrong.
            return .wait(milliseconds: max(1, Int(min((until - Double(now)).rounded(.up), 86_400_000))))
        }
        let t = Double(now)
        if let rpm = requestsPerMinute { nextRequestAt = max(nextRequestAt, t) + 60_000 / Double(rpm) }
        if let tpm = tokensPerMinute { nextTokensAt = max(nextTokensAt, t) + 60_000 * Double(max(tokens, 1)) / Double(tpm) }
        inFlight += 1
        return .go(ticket: generation)
    }

    /// Notes how a started request ended: its HTTP status (nil when no answer
    /// came) and the answer's headers.
    package mutating func finish(ticket: Int, status: Int?, headers: [String: String], now: Int64) {
        inFlight -= 1
        if let limits = RateLimitHeaders(headers: headers, now: now) {
            pausedUntil = max(pausedUntil, limits.pauseUntil ?? 0)
        }
        if status == 429 {
            successStreak = 0
            if ticket == generation {
                concurrency = max(1, concurrency / 2)
                generation += 1
                backoffs += 1
            }
            return
        }
        guard let status, (200..<300).contains(status) else { return }
        successStreak += 1
        if successStreak >= concurrency && concurrency < ceiling {
            concurrency += 1
            successStreak = 0
        }
    }
}

/// The pause an answer's rate-limit headers call for: `retry-after(-ms)` on
/// any answer, and `x-ratelimit-remaining-*` at 0 until its `reset`.
package struct RateLimitHeaders: Equatable, Sendable {
    package var pauseUntil: Int64?

    package init?(headers: [String: String], now: Int64) {
        var until: Int64?
        // Saturating: the clock is ours, but nothing here may trap whatever it holds.
        func later(_ wait: Int) {
            let (t, overflow) = now.addingReportingOverflow(Int64(min(wait, 3_600_000)))
            until = max(until ?? .min, overflow ? .max : t)
        }
        if let after = RetryPolicy.retryAfterMilliseconds(headers: headers, now: Int(now / 1000)) {
            later(after)
        }
        for kind in ["requests", "tokens"] {
            guard headers["x-ratelimit-remaining-\(kind)"].flatMap({ Double($0) }) == 0,
                let reset = headers["x-ratelimit-reset-\(kind)"].flatMap(Self.duration)
            else { continue }
            later(reset)
        }
        guard let until else { return nil }
        pauseUntil = until
    }

    /// Milliseconds in a duration such as `1s`, `6m0s`, `20ms`, `1h2m3.5s` or a bare number of seconds.
    package static func duration(_ text: String) -> Int? {
        if let seconds = Double(text), seconds >= 0, seconds.isFinite { return Int(min(seconds, 86_400) * 1000) }
        var total = 0.0
        var number = ""
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        while let c = rest.first {
            if c.isNumber || c == "." {
                number.append(c)
                rest.removeFirst()
                continue
            }
            guard let value = Double(number) else { return nil }
            let unit: Double
            if rest.hasPrefix("ms") { unit = 1; rest.removeFirst(2) }
            else if rest.hasPrefix("h") { unit = 3_600_000; rest.removeFirst() }
            else if rest.hasPrefix("m") { unit = 60_000; rest.removeFirst() }
            else if rest.hasPrefix("s") { unit = 1000; rest.removeFirst() }
            else { return nil }
            total += value * unit
            number = ""
        }
        guard number.isEmpty, total.isFinite else { return nil }
        return Int(min(total, 86_400_000))
    }
}
