/// The loop every filter shares: read a line, parse the record, let the stage
/// change it, write one line out, and remember the first failure's status.
public struct Stage {
    /// What to do with a record that an earlier stage already marked failed.
    public enum UpstreamErrors {
        /// Write it out untouched (prompt, llm).
        case passThrough
        /// Refuse it with a line on stderr (save: a failed turn is never stored).
        case refuse
    }

    /// What to do when standard output closes (`| head -1`, a full disk).
    public enum ClosedOutput {
        /// Stop reading: the output was the stage's only work.
        case stop
        /// Go on with every record and only stop writing: save's work is
        /// storing, and a reader that went away must not cost a stored turn.
        case keepWorking
    }

    public let name: String
    public var upstreamErrors: UpstreamErrors = .passThrough
    public var closedOutput: ClosedOutput = .stop
    public private(set) var status: ExitStatus = .ok
    public private(set) var outputBroken = false

    public init(name: String, upstreamErrors: UpstreamErrors = .passThrough, closedOutput: ClosedOutput = .stop) {
        self.name = name
        self.upstreamErrors = upstreamErrors
        self.closedOutput = closedOutput
    }

    /// Notes a failure: the first one decides the exit status.
    public mutating func noteFailure(_ status: ExitStatus) {
        if self.status == .ok { self.status = status }
    }

    /// Runs `transform` over every record from `reader`; `render` turns the
    /// finished record into the output line (nil writes nothing).
    public mutating func run(
        reader: inout LineReader,
        writer: LineWriter = .standardOutput,
        render: (Record) -> [UInt8]? = { $0.line },
        transform: (inout Record, Int) throws(StageError) -> Void
    ) {
        while !(outputBroken && closedOutput == .stop), let item = reader.next() {
            let lineNumber = reader.lineNumber
            var record: Record
            switch item {
            case .tooLong(let bytes):
                fail(StageError(.lineTooLong, "line of \(bytes) bytes is over the \(reader.maxLine)-byte limit"),
                    line: lineNumber, record: nil, writer: writer)
                continue
            case .line(let bytes):
                if bytes.isBlankLine { continue }
                do {
                    record = try Record(line: bytes)
                } catch {
                    fail(error, line: lineNumber, record: nil, writer: writer)
                    continue
                }
                if record.hasError {
                    switch upstreamErrors {
                    case .passThrough:
                        write(bytes, to: writer)
                    case .refuse:
                        let from = record.error?["stage"]?.stringValue ?? "an earlier stage"
                        let code = record.error?["code"]?.stringValue ?? "error"
                        report(stage: name, line: lineNumber, "not saved: the turn failed in \(from) (\(code))")
                        noteFailure(ErrorCode(rawValue: code)?.exitStatus ?? .badInput)
                    }
                    continue
                }
            }
            do {
                try transform(&record, lineNumber)
            } catch {
                fail(error, line: lineNumber, record: record, writer: writer)
                continue
            }
            if let out = render(record) { write(out, to: writer) }
        }
        noteReadError(reader)
    }

    /// A read that failed (stdin is a folder, an I/O error) is not an end of input.
    public mutating func noteReadError(_ reader: LineReader) {
        guard let problem = reader.readError else { return }
        report(stage: name, line: nil, "cannot read standard input: \(problem)")
        noteFailure(.ioError)
    }

    mutating func fail(_ error: StageError, line: Int, record: Record?, writer: LineWriter) {
        report(stage: name, line: line, error.message)
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
    mutating func write(_ line: [UInt8], to writer: LineWriter) {
        guard !outputBroken else { return }
        if !writer.writeLine(line) { brokenOutput() }
    }

    mutating func brokenOutput() {
        guard !outputBroken else { return }
        outputBroken = true
        report(stage: name, line: nil, "cannot write to standard output")
        noteFailure(.ioError)
    }
}
