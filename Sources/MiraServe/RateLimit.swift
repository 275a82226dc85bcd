import MiraSystem
import Synchronization

/// How often one identity may ask: a bucket of `burst` tokens per
/// identity, refilled at `perMinute` a minute; each turn takes one. A
/// person typing never meets it; a script hammering the model does, and
/// gets 429 with how long to wait. (Identities are free to make, so this
/// bounds one browser, not someone who drops the cookie every time.)
package final class RateLimit: Sendable {
    package let perMinute: Double
    package let burst: Double
    /// Identities kept at most; full buckets are dropped first when over.
    let capacity: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    struct Bucket {
        var tokens: Double
        var updated: Double
    }

    /// `perMinute` 0 turns it off.
    package init(perMinute: Double, burst: Double, capacity: Int = 100_000) {
        self.perMinute = perMinute
        self.burst = max(1, burst)
        self.capacity = capacity
    }

    /// Takes a token for `identity` at time `now` (seconds): nil when
    /// allowed, else the whole seconds to wait for the next one.
    package func take(_ identity: String, now: Double = SystemTime.monotonicMilliseconds() / 1000) -> Int? {
        guard perMinute > 0 else { return nil }
        let rate = perMinute / 60
        return buckets.withLock { buckets in
            var bucket = buckets[identity] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + max(0, now - bucket.updated) * rate)
            bucket.updated = now
            defer {
                buckets[identity] = bucket
                if buckets.count > capacity { Self.prune(&buckets, now: now, rate: rate, burst: burst, keep: capacity / 2) }
            }
            guard bucket.tokens >= 1 else { return Int(((1 - bucket.tokens) / rate).rounded(.up)) }
            bucket.tokens -= 1
            return nil
        }
    }

    /// Drops buckets that have refilled (forgetting them changes nothing),
    /// then, if still over, the longest unused.
    static func prune(_ buckets: inout [String: Bucket], now: Double, rate: Double, burst: Double, keep: Int) {
        buckets = buckets.filter { $0.value.tokens + (now - $0.value.updated) * rate < burst }
        guard buckets.count > keep else { return }
        let oldest = buckets.sorted { $0.value.updated < $1.value.updated }.prefix(buckets.count - keep)
        for (identity, _) in oldest { buckets[identity] = nil }
    }
}
