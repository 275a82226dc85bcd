import MiraCompanion
import MiraSystem

/// Where turns and database reads run: never on the server's event loops
/// nor on Swift's cooperative threads (two on this machine), because a turn
/// blocks for seconds in curl and SQLite. Each worker is an OS thread that
/// owns one `Companion` (its own SQLite connection and curl handles), so a
/// companion is only ever used by the thread that owns it; jobs wait in one
/// queue, first come first served.
package final class Workers: @unchecked Sendable {
    package typealias Job = @Sendable (Companion) -> Void

    private let monitor = Monitor()
    /// Guarded by `monitor`.
    private var queue: [Job] = []
    private var head = 0
    /// Jobs past this many waiting are refused (503), not queued without bound.
    package let maxWaiting: Int

    /// A companion moved once, from the thread that made it to its worker.
    private final class Handover: @unchecked Sendable {
        let companion: Companion
        init(_ companion: Companion) { self.companion = companion }
    }

    package init(companions: [Companion], maxWaiting: Int = 1024) {
        self.maxWaiting = maxWaiting
        for companion in companions {
            let handover = Handover(companion)
            startThread { [self] in self.serve(handover.companion) }
        }
    }

    private func serve(_ companion: Companion) {
        while true {
            let job = monitor.locked { () -> Job in
                while head == queue.count { monitor.wait() }
                let job = queue[head]
                head += 1
                if head == queue.count {
                    queue.removeAll(keepingCapacity: true)
                    head = 0
                }
                return job
            }
            job(companion)
        }
    }

    /// Queues `job`; false when too many are waiting already.
    package func submit(_ job: @escaping Job) -> Bool {
        monitor.locked {
            guard queue.count - head < maxWaiting else { return false }
            queue.append(job)
            monitor.broadcast()
            return true
        }
    }

    /// Runs `body` on a worker and returns its result; nil when the queue is full.
    package func run<T: Sendable>(_ body: @escaping @Sendable (Companion) -> T) async -> T? {
        await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
            if !submit({ continuation.resume(returning: body($0)) }) {
                continuation.resume(returning: nil)
            }
        }
    }
}
