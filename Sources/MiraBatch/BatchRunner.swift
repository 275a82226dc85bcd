import MiraShared
import MiraSystem

/// One input line of a batch, numbered in reading order.
package struct BatchItem: Sendable {
    package var sequence: Int
    package var lineNumber: Int
    package var content: LineReader.Item
}

/// The input's lines that are not blank, numbered in reading order; each
/// worker reads its item as a record itself (`RecordInput`), in parallel.
struct BatchItems {
    var lines: RecordLines
    var sequence = 0

    mutating func next() -> BatchItem? {
        guard let (lineNumber, content) = lines.nextLine() else { return nil }
        defer { sequence += 1 }
        return BatchItem(sequence: sequence, lineNumber: lineNumber, content: content)
    }
}

/// What a worker made of one line: the output line (nil writes nothing) and
/// what to count it as.
package struct TurnOutcome: Sendable {
    package enum Kind: Equatable, Sendable {
        case answered
        /// Answered from the reply cache, without a request.
        case cached
        /// Already answered in the --resume file: nothing written.
        case resumed
        /// The record failed in an earlier stage and passed through.
        case passedThrough
        case failed(ErrorCode)
    }

    package var kind: Kind
    package var line: [UInt8]?
    /// The stderr line for a failure, written with the output line so both
    /// come in the same order.
    package var report: String?
    package var tokensIn = 0
    package var tokensOut = 0

    package init(kind: Kind, line: [UInt8]?, report: String? = nil, tokensIn: Int = 0, tokensOut: Int = 0) {
        self.kind = kind
        self.line = line
        self.report = report
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
    }
}

/// Counts for the progress line and the summary.
package struct BatchTally: Equatable, Sendable {
    package var read = 0
    package var done = 0
    package var answered = 0
    package var cached = 0
    package var resumed = 0
    package var passedThrough = 0
    package var failed = 0
    package var failures: [String: Int] = [:]
    package var tokensIn = 0
    package var tokensOut = 0
    /// The run stopped before the end of its input (--fail-fast, a signal, a closed output).
    package var stoppedEarly = false
    package var outputBroken = false
    /// Stopped by `interrupt()` (a signal): whoever interrupted ends the process.
    package var interrupted = false

    package init() {}

    mutating func add(_ outcome: TurnOutcome) {
        done += 1
        // Usage comes from the server: a hostile count saturates, never traps.
        tokensIn = tokensIn.addingSaturated(Int.count(outcome.tokensIn))
        tokensOut = tokensOut.addingSaturated(Int.count(outcome.tokensOut))
        switch outcome.kind {
        case .answered: answered += 1
        case .cached: cached += 1
        case .resumed: resumed += 1
        case .passedThrough: passedThrough += 1
        case .failed(let code):
            failed += 1
            failures[code.rawValue, default: 0] += 1
        }
    }
}

/// Runs a batch: one reader, up to `jobs` workers, and output in input order
/// through a bounded reorder buffer (or as each result completes).
///
/// Memory stays flat: the reader waits while `window` lines are between
/// reading and writing, so a slow line holds back at most that many results.
package final class BatchRunner: @unchecked Sendable {
    package struct Settings: Sendable {
        package var jobs: Int
        package var ordered: Bool
        package var window: Int
        package var failFast: Bool

        package init(jobs: Int, ordered: Bool = true, window: Int? = nil, failFast: Bool = false) {
            self.jobs = max(1, jobs)
            self.ordered = ordered
            self.window = max(window ?? 4 * jobs, jobs, 16)
            self.failFast = failFast
        }
    }

    /// An output line and the failure report that goes with it.
    struct Delivery {
        var line: [UInt8]?
        var report: String?
    }

    package let settings: Settings
    let writer: LineWriter
    let reportWriter: (String) -> Void
    let monitor = Monitor()
    // Everything below is guarded by `monitor`.
    var queue: [BatchItem] = []
    var workers = 0
    var idleWorkers = 0
    var reorder = ReorderBuffer<Delivery>()
    var readingDone = false
    /// Set when the run stops: nothing more is taken or written.
    var closed = false
    var finished = false
    var tally = BatchTally()

    package init(settings: Settings, writer: LineWriter = .standardOutput, reportWriter: @escaping (String) -> Void) {
        self.settings = settings
        self.writer = writer
        self.reportWriter = reportWriter
    }

    /// Reads every line, has workers made by `makeWorker` (one per thread)
    /// turn each into an outcome, and writes the results. Returns the counts
    /// when the input is done or the run stopped.
    package func run(reader: inout LineReader, makeWorker: @escaping @Sendable (Int) -> (BatchItem) -> TurnOutcome) -> BatchTally {
        if settings.jobs == 1 { return runInline(reader: &reader, handle: makeWorker(0)) }
        var items = BatchItems(lines: RecordLines(reader))
        defer { reader = items.lines.reader }
        while let item = items.next() {
            let (open, newWorker) = monitor.locked { () -> (Bool, Int?) in
                while !closed && isWindowFull { monitor.wait() }
                guard !closed else { return (false, nil) }
                queue.append(item)
                tally.read += 1
                monitor.broadcast()
                // Workers start as work arrives: a one-turn chat starts one
                // thread, a batch reaches -j within its first lines.
                guard idleWorkers == 0 && workers < settings.jobs else { return (true, nil) }
                workers += 1
                return (true, workers - 1)
            }
            if let index = newWorker { startThread { [self] in work(makeWorker(index)) } }
            if !open { break }
        }
        return monitor.locked {
            readingDone = true
            monitor.broadcast()
            while !closed && tally.done < tally.read { monitor.wait() }
            finished = true
            return tally
        }
    }

    /// `-j 1`: every line in turn on the calling thread, with no hand-offs
    /// between threads (they cost a chat turn milliseconds on a busy machine).
    func runInline(reader: inout LineReader, handle: (BatchItem) -> TurnOutcome) -> BatchTally {
        var items = BatchItems(lines: RecordLines(reader))
        defer { reader = items.lines.reader }
        while let item = items.next() {
            let open = monitor.locked { () -> Bool in
                guard !closed else { return false }
                tally.read += 1
                return true
            }
            guard open else { break }
            deliver(item.sequence, handle(item))
        }
        return monitor.locked {
            finished = true
            return tally
        }
    }

    /// Stops the run at once (Ctrl-C, SIGTERM): writes every result already
    /// complete, whole, and returns the counts; nil when the run had ended.
    package func interrupt() -> BatchTally? {
        monitor.locked {
            guard !finished && !closed else { return nil }
            stop()
            tally.interrupted = true
            return tally
        }
    }

    /// The counts so far, for the progress line.
    package var snapshot: BatchTally { monitor.locked { tally } }

    var isWindowFull: Bool {
        let waiting = tally.read - (settings.ordered ? reorder.next : tally.done)
        return waiting >= settings.window
    }

    func work(_ handle: (BatchItem) -> TurnOutcome) {
        while let item = take() {
            deliver(item.sequence, handle(item))
        }
    }

    func take() -> BatchItem? {
        monitor.locked {
            idleWorkers += 1
            defer { idleWorkers -= 1 }
            while !closed && queue.isEmpty && !readingDone { monitor.wait() }
            guard !closed && !queue.isEmpty else { return nil }
            // The queue holds at most `window` lines, so shifting is cheap, and
            // a taken line's bytes are freed at once.
            return queue.removeFirst()
        }
    }

    func deliver(_ sequence: Int, _ outcome: TurnOutcome) {
        monitor.locked {
            guard !closed else { return }
            tally.add(outcome)
            let result = outcome.line == nil && outcome.report == nil ? nil : Delivery(line: outcome.line, report: outcome.report)
            if settings.ordered {
                for result in reorder.add(sequence, result) where !write(result) { break }
            } else if let result {
                _ = write(result)
            }
            if settings.failFast, case .failed = outcome.kind { stop() }
            monitor.broadcast()
        }
    }

    /// Writes what is complete and closes the run; call holding the lock.
    func stop() {
        if settings.ordered {
            for result in reorder.drain() where !write(result) { break }
        }
        closed = true
        tally.stoppedEarly = true
        monitor.broadcast()
    }

    /// Writes one result; a closed output stops the run. Call holding the lock.
    func write(_ result: Delivery) -> Bool {
        guard !closed else { return false }
        if let report = result.report { reportWriter(report) }
        guard let line = result.line, !writer.writeLine(line) else { return true }
        tally.outputBroken = true
        closed = true
        tally.stoppedEarly = true
        return false
    }
}
