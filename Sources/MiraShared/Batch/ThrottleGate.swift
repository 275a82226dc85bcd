/// The throttle shared by a batch's workers: an attempt waits here until the
/// throttle lets it start.
public final class ThrottleGate: AttemptGate, @unchecked Sendable {
    let monitor = Monitor()
    var throttle: Throttle
    let now: () -> Int64

    public init(_ throttle: Throttle, now: @escaping () -> Int64 = { Int64(Clock.monotonicMilliseconds()) }) {
        self.throttle = throttle
        self.now = now
    }

    public func enter(tokens: Int) -> Int {
        monitor.locked {
            while true {
                switch throttle.start(now: now(), tokens: tokens) {
                case .go(let ticket): return ticket
                case .wait(let milliseconds): monitor.wait(milliseconds: milliseconds)
                case .full: monitor.wait()
                }
            }
        }
    }

    public func leave(ticket: Int, status: Int?, headers: [String: String]) {
        monitor.locked {
            throttle.finish(ticket: ticket, status: status, headers: headers, now: now())
            monitor.broadcast()
        }
    }

    /// The throttle's state now (concurrency, back-offs), for the summary.
    public var state: Throttle { monitor.locked { throttle } }
}
