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

    public let name: String
    public var upstreamErrors: UpstreamErrors = .passThrough
    public private(set) var status: ExitStatus = .ok

    public init(name: String, upstreamErrors: UpstreamErrors = .passThrough) {
        self.name = name
        self.upstreamErrors = upstreamErrors
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
        while let item = reader.next() {
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
                        if !writer.writeLine(bytes) { return brokenOutput() }
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
            if let out = render(record), !writer.writeLine(out) { return brokenOutput() }
        }
    }

    mutating func fail(_ error: StageError, line: Int, record: Record?, writer: LineWriter) {
        report(stage: name, line: line, error.message)
        noteFailure(error.code.exitStatus)
        // Save writes nothing for a failed record; the others pass the
        // failure on so every input line still has its output line.
        guard upstreamErrors == .passThrough else { return }
        var failed = record ?? Record(failure: error, stage: name)
        failed.fail(error, stage: name)
        if !writer.writeLine(failed.line) { brokenOutput() }
    }

    mutating func brokenOutput() {
        report(stage: name, line: nil, "cannot write to standard output")
        noteFailure(.ioError)
    }
}
