import MiraShared

/// When to try a request again and how long to wait first.
package struct RetryPolicy: Sendable {
    /// Retries after the first attempt.
    package var maxRetries: Int
    package var baseDelayMilliseconds: Int
    package var maxDelayMilliseconds: Int
    /// A server's retry-after beyond this is not waited for: the backoff applies.
    package var maxRetryAfterMilliseconds: Int

    package init(maxRetries: Int = 3, baseDelayMilliseconds: Int = 500, maxDelayMilliseconds: Int = 8000,
                maxRetryAfterMilliseconds: Int = 60_000) {
        self.maxRetries = maxRetries
        self.baseDelayMilliseconds = baseDelayMilliseconds
        self.maxDelayMilliseconds = maxDelayMilliseconds
        self.maxRetryAfterMilliseconds = maxRetryAfterMilliseconds
    }

    /// Statuses worth another try: timeouts, conflicts, rate limits, server errors.
    package static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 409 || status == 429 || (500...599).contains(status)
    }

    /// The wait before retry number `retry` (0 for the first retry): the
    /// server's retry-after when it gave a usable one, else exponential
    /// backoff with up to 25% jitter taken off so many clients spread out.
    /// The server's wait gets up to 10% added, never taken off: the workers
    /// of a batch that all hit one limit must not all come back at once.
    package func delay(retry: Int, retryAfterMilliseconds: Int?, jitter: Double) -> Int {
        if let after = honoured(retryAfterMilliseconds) {
            return after + Int(Double(after) * 0.1 * min(max(jitter, 0), 1))
        }
        let exponential = Double(baseDelayMilliseconds) * Double(1 << min(retry, 20))
        let capped = min(exponential, Double(maxDelayMilliseconds))
        return Int(capped * (1 - 0.25 * min(max(jitter, 0), 1)))
    }

    /// The wait before the next try after `retries` retries already made, or
    /// the error to end with when they are spent: the first attempt's error
    /// as it is, a later one saying how many attempts were made. Chat and
    /// embeddings both decide this way.
    package func wait(after error: StageError, retries: Int, retryAfterMilliseconds: Int?, jitter: Double) throws(StageError) -> Int {
        guard retries < maxRetries else {
            if retries == 0 { throw error }
            throw StageError(error.code, "gave up after \(retries + 1) attempts: \(error.message)")
        }
        return delay(retry: retries, retryAfterMilliseconds: retryAfterMilliseconds, jitter: jitter)
    }

    /// The server's wait when it is one this policy obeys (within the cap).
    package func honoured(_ retryAfterMilliseconds: Int?) -> Int? {
        guard let after = retryAfterMilliseconds, after >= 0, after <= maxRetryAfterMilliseconds else { return nil }
        return after
    }

    /// Reads `retry-after-ms`, else `retry-after` (seconds or an HTTP date).
    /// Every value comes from the server: anything out of range is clamped
    /// to a day (far beyond any wait we honour) and nothing can overflow.
    package static func retryAfterMilliseconds(headers: [String: String], now: Int) -> Int? {
        let day = 86_400_000.0
        if let ms = headers["retry-after-ms"].flatMap(Double.init), ms >= 0 { return Int(min(ms, day)) }
        guard let value = headers["retry-after"] else { return nil }
        if let seconds = Double(value), seconds >= 0 { return Int(min(seconds * 1000, day)) }
        if let date = httpDate(value) {
            // In Double: a date and a clock from outside may be far apart.
            return Int(min(max(0, (Double(date) - Double(now)) * 1000), day))
        }
        return nil
    }

    /// Seconds since 1970 for an IMF-fixdate such as `Wed, 21 Oct 2015 07:28:00 GMT`;
    /// nil for anything else, including fields out of their ranges.
    package static func httpDate(_ text: String) -> Int? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT",
            let day = Int(parts[1]), (1...31).contains(day),
            let year = Int(parts[3]), (1970...9999).contains(year),
            let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
                .firstIndex(of: String(parts[2]))
        else { return nil }
        let clock = parts[4].split(separator: ":", omittingEmptySubsequences: false).compactMap { Int($0) }
        guard clock.count == 3, (0...23).contains(clock[0]), (0...59).contains(clock[1]), (0...60).contains(clock[2]) else {
            return nil
        }
        return CivilDays.since1970(year: year, month: month + 1, day: day) * 86_400 + clock[0] * 3600 + clock[1] * 60 + clock[2]
    }
}
