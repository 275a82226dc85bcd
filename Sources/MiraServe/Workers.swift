import MiraSystem

/// Threads that run jobs, each owning one `Resource` (a `Companion` with its
/// SQLite connection, or a `ModelCaller` with its curl handle), so a
/// resource is only ever used by the thread that owns it. Never the server's
/// event loops nor Swift's cooperative threads (two on this machine): a
/// turn blocks for seconds in curl and SQLite. Jobs wait in one queue, first
/// come first served.
///
/// Threads are made on demand: when a job arrives and every thread is busy,
/// one more starts (up to `limit`), makes its own resource and stays for
/// later jobs. A turn spends nearly all its time blocked in curl waiting for
/// the model, and a blocked thread costs little (a 1 MiB stack of which a few
/// pages are touched, a curl handle), so every turn in flight gets a caller
/// of its own instead of queueing behind a few: with 4 fixed workers, 200
/// clients of a model that answers in 200 ms waited seconds (bench/serve).
/// Idle threads are kept, so a second rush costs no new ones.
package final class Workers<Resource>: @unchecked Sendable {
    package typealias Job = @Sendable (Resource) -> Void
    /// Makes a new worker's resource, on that worker's thread; nil when it
    /// cannot (the maker says why), and the jobs wait for the other workers.
    package typealias Maker = @Sendable () -> Resource?

    private let monitor = Monitor()
    /// Guarded by `monitor`: the jobs not yet taken, from `head` on.
    private var queue: [Job] = []
    private var head = 0
    /// Guarded by `monitor`: workers alive or starting, those waiting for a
    /// job, and those still making their resource (about to take one).
    private var workers = 0
    private var idle = 0
    private var starting = 0
    /// Guarded by `monitor`: after a worker could not start, no other is
    /// tried before this time (monotonic ms), so a shortage of files or
    /// threads costs one try and one line a second, not one a job.
    private var noGrowthUntil = 0.0
    private static var pauseAfterFailure: Double { 1000 }

    /// The most workers (so turns at once) there will ever be.
    package let limit: Int
    /// Jobs past this many waiting are refused (503), not queued without bound.
    package let maxWaiting: Int
    private let make: Maker
    private let onProblem: @Sendable (String) -> Void

    /// A resource moved once, from the thread that made it to its worker.
    private final class Handover: @unchecked Sendable {
        let resource: Resource
        init(_ resource: Resource) { self.resource = resource }
    }

    /// `first`: the first thread's resource, made before the server starts
    /// (so a database that cannot be opened stops it there); `make` makes the
    /// others' when they are needed.
    package init(first: Resource, limit: Int, maxWaiting: Int = 1024,
                 make: @escaping Maker, onProblem: @escaping @Sendable (String) -> Void = { _ in }) {
        precondition(limit >= 1, "workers need a limit of at least 1")
        self.limit = limit
        self.maxWaiting = maxWaiting
        self.make = make
        self.onProblem = onProblem
        workers = 1
        starting = 1
        let handover = Handover(first)
        startThread { [self] in self.serve(handover.resource) }
    }

    private func serve(_ resource: Resource) {
        var first = true
        while true {
            let job = monitor.locked { () -> Job in
                if first { starting -= 1 }
                idle += 1
                while head == queue.count { monitor.wait() }
                idle -= 1
                let job = queue[head]
                head += 1
                if head == queue.count {
                    queue.removeAll(keepingCapacity: true)
                    head = 0
                }
                return job
            }
            first = false
            job(resource)
        }
    }

    /// Starts one more worker, counted already by `submit`.
    private func grow() {
        let error = startThreadIfPossible { [self] in
            guard let resource = make() else { return notStarted(nil) }
            serve(resource)
        }
        if error != 0 { notStarted("no new worker thread (error \(error)): turns wait for the others") }
    }

    /// A worker that could not start: no longer counted, so a later job may try again.
    private func notStarted(_ problem: String?) {
        monitor.locked {
            workers -= 1
            starting -= 1
            noGrowthUntil = SystemTime.monotonicMilliseconds() + Self.pauseAfterFailure
        }
        if let problem { onProblem(problem) }
    }

    /// Queues `job`; false when too many are waiting already.
    package func submit(_ job: @escaping Job) -> Bool {
        let outcome = monitor.locked { () -> (accepted: Bool, grow: Bool) in
            guard queue.count - head < maxWaiting else { return (false, false) }
            queue.append(job)
            // One waiter is enough; waking every idle worker for each job
            // would cost hundreds of context switches a turn.
            monitor.signal()
            // Another worker when the jobs waiting outnumber those about to take one.
            guard queue.count - head > idle + starting, workers < limit,
                noGrowthUntil == 0 || SystemTime.monotonicMilliseconds() >= noGrowthUntil
            else { return (true, false) }
            workers += 1
            starting += 1
            return (true, true)
        }
        if outcome.grow { grow() }
        return outcome.accepted
    }

    /// Runs `body` on a worker and returns its result; nil when the queue is full.
    package func run<T: Sendable>(_ body: @escaping @Sendable (Resource) -> T) async -> T? {
        await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
            if !submit({ continuation.resume(returning: body($0)) }) {
                continuation.resume(returning: nil)
            }
        }
    }
}
