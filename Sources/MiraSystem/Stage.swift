import MiraShared

/// The loop every filter shares: read a record (`RecordLines`), let the stage
/// change it, write one line out, report each failure through the injected
/// diagnostics, and remember the first failure's status.
package struct Stage {
    /// What to do with a record that an earlier stage already marked failed.
    package enum UpstreamErrors {
        /// Write it out untouched (prompt, llm).
        case passThrough
        /// Refuse it with a line on stderr (save: a failed turn is never stored).
        case refuse
    }

    /// What to do when standard output closes (`| head -1`, a full disk).
    package enum ClosedOutput {
        /// Stop reading: the output was the stage's only work.
        case stop
        /// Go on with every record and only stop writing: save's work is
        /// storing, and a reader that went away must not cost a stored turn.
        case keepWorking
    }

    package let name: String
    package let diagnostics: Diagnostics
    package var upstreamErrors: UpstreamErrors = .passThrough
    package var closedOutput: ClosedOutput = .stop
    package private(set) var status: Sysexit = .ok
    package private(set) var outputBroken = false

    package init(name: String, diagnostics: Diagnostics, upstreamErrors: UpstreamErrors = .passThrough,
                 closedOutput: ClosedOutput = .stop) {
        self.name = name
        self.diagnostics = diagnostics
        self.upstreamErrors = upstreamErrors
        self.closedOutput = closedOutput
    }

    /// Notes a failure: the first one decides the exit status.
    package mutating func noteFailure(_ status: Sysexit) {
        if self.status == .ok { self.status = status }
    }

    /// Runs `transform` over every record from `reader`; `render` turns the
    /// finished record into the output line (nil writes nothing).
    package mutating func run(
        reader: inout LineReader,
        writer: LineWriter = .standardOutput,
        render: (Record) -> [UInt8]? = { $0.line },
        transform: (inout Record, Int) throws(StageError) -> Void
    ) {
        var lines = RecordLines(reader)
        defer { reader = lines.reader }
        while !(outputBroken && closedOutput == .stop), let (lineNumber, input) = lines.next() {
            var record: Record
            switch input {
            case .unreadable(let error):
                fail(error, line: lineNumber, record: nil, writer: writer)
                continue
            case .failed(let failed, let bytes):
                passOn(failed, bytes: bytes, line: lineNumber, writer: writer)
                continue
            case .record(let read):
                record = read
            }
            do {
                try transform(&record, lineNumber)
            } catch {
                fail(error, line: lineNumber, record: record, writer: writer)
                continue
            }
            if let out = render(record) { write(out, to: writer) }
        }
        noteReadError(lines.readError)
    }

    /// A record an earlier stage failed: written on untouched, or refused
    /// with a line on stderr (a failed turn is never stored).
    package mutating func passOn(_ record: Record, bytes: [UInt8], line: Int, writer: LineWriter) {
        switch upstreamErrors {
        case .passThrough:
            write(bytes, to: writer)
        case .refuse:
            let from = record.error?["stage"]?.stringValue ?? "an earlier stage"
            let code = record.error?["code"]?.stringValue ?? "error"
            diagnostics.report(stage: name, line: line, "not saved: the turn failed in \(from) (\(code))")
            noteFailure(ErrorCode(rawValue: code)?.exitStatus ?? .badInput)
        }
    }

    /// A read that failed (stdin is a folder, an I/O error) is not an end of input.
    package mutating func noteReadError(_ problem: FileProblem?) {
        guard let problem else { return }
        diagnostics.report(stage: name, line: nil, "cannot read standard input: \(problem)")
        noteFailure(.ioError)
    }

    package mutating func fail(_ error: StageError, line: Int, record: Record?, writer: LineWriter) {
        diagnostics.report(stage: name, line: line, error.message)
        noteFailure(error.code.exitStatus)
        // Save writes nothing for a failed record; the others pass the
        // failure on so every input line still has its output line.
        guard upstreamErrors == .passThrough else { return }
        var failed = record ?? Record(failure: error, stage: name)
        failed.fail(error, stage: name)
        write(failed.line, to: writer)
    }

    /// Writes one line unless the output already closed; the first failed
    /// write is reported once.
    package mutating func write(_ line: [UInt8], to writer: LineWriter) {
        guard !outputBroken else { return }
        if !writer.writeLine(line) { brokenOutput() }
    }

    package mutating func brokenOutput() {
        guard !outputBroken else { return }
        outputBroken = true
        diagnostics.report(stage: name, line: nil, "cannot write to standard output")
        noteFailure(.ioError)
    }
}
