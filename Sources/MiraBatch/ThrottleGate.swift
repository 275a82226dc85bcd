import MiraLLM
import MiraShared
import MiraSystem

/// The throttle shared by a batch's workers: an attempt waits here until the
/// throttle lets it start.
package final class ThrottleGate: AttemptGate, @unchecked Sendable {
    let monitor = Monitor()
    var throttle: Throttle
    let now: () -> Int64

    package init(_ throttle: Throttle, now: @escaping () -> Int64 = { Int64(SystemTime.monotonicMilliseconds()) }) {
        self.throttle = throttle
        self.now = now
    }

    package func enter(tokens: Int) -> Int {
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

    package func leave(ticket: Int, status: Int?, headers: [String: String]) {
        monitor.locked {
            throttle.finish(ticket: ticket, status: status, headers: headers, now: now())
            monitor.broadcast()
        }
    }

    /// The throttle's state now (concurrency, back-offs), for the summary.
    package var state: Throttle { monitor.locked { throttle } }
}
