#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// When to try a request again and how long to wait first.
public struct RetryPolicy: Sendable {
    /// Retries after the first attempt.
    public var maxRetries: Int
    public var baseDelayMilliseconds: Int
    public var maxDelayMilliseconds: Int
    /// A server's retry-after beyond this is not waited for: the backoff applies.
    public var maxRetryAfterMilliseconds: Int

    public init(maxRetries: Int = 3, baseDelayMilliseconds: Int = 500, maxDelayMilliseconds: Int = 8000,
                maxRetryAfterMilliseconds: Int = 60_000) {
        self.maxRetries = maxRetries
        self.baseDelayMilliseconds = baseDelayMilliseconds
        self.maxDelayMilliseconds = maxDelayMilliseconds
        self.maxRetryAfterMilliseconds = maxRetryAfterMilliseconds
    }

    /// Statuses worth another try: timeouts, conflicts, rate limits, server errors.
    public static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 409 || status == 429 || (500...599).contains(status)
    }

    /// The wait before retry number `retry` (0 for the first retry): the
    /// server's retry-after when it gave a usable one, else exponential
    /// backoff with up to 25% jitter taken off so many clients spread out.
    public func delay(retry: Int, retryAfterMilliseconds: Int?, jitter: Double) -> Int {
        if let after = retryAfterMilliseconds, after >= 0, after <= maxRetryAfterMilliseconds {
            return after
        }
        let exponential = Double(baseDelayMilliseconds) * Double(1 << min(retry, 20))
        let capped = min(exponential, Double(maxDelayMilliseconds))
        return Int(capped * (1 - 0.25 * min(max(jitter, 0), 1)))
    }

    /// Reads `retry-after-ms`, else `retry-after` (seconds or an HTTP date).
    public static func retryAfterMilliseconds(headers: [String: String], now: Int) -> Int? {
        // A day is far beyond any wait we honour; clamping first keeps a
        // hostile "1e300" or "inf" from overflowing the conversion.
        let day = 86_400_000.0
        if let ms = headers["retry-after-ms"].flatMap(Double.init), ms >= 0 { return Int(min(ms, day)) }
        guard let value = headers["retry-after"] else { return nil }
        if let seconds = Double(value), seconds >= 0 { return Int(min(seconds * 1000, day)) }
        if let date = httpDate(value) { return max(0, (date - now) * 1000) }
        return nil
    }

    /// Seconds since 1970 for an IMF-fixdate such as `Wed, 21 Oct 2015 07:28:00 GMT`.
    public static func httpDate(_ text: String) -> Int? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT",
            let day = Int(parts[1]), let year = Int(parts[3]),
            let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
                .firstIndex(of: String(parts[2]))
        else { return nil }
        let clock = parts[4].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3 else { return nil }
        var t = tm()
        t.tm_year = Int32(year - 1900)
        t.tm_mon = Int32(month)
        t.tm_mday = Int32(day)
        t.tm_hour = Int32(clock[0])
        t.tm_min = Int32(clock[1])
        t.tm_sec = Int32(clock[2])
        return Int(timegm(&t))
    }
}
