import MiraShared

/// One input line as every stage reads it.
package enum RecordInput: Sendable {
    /// A record to work on.
    case record(Record)
    /// A record an earlier stage marked failed, with its bytes as they came:
    /// passed on untouched, or refused, never worked on.
    case failed(Record, bytes: [UInt8])
    /// A line that is not a record: too long, not JSON, not an object, a bad field.
    case unreadable(StageError)

    /// The one reading of a line, for every stage and every batch worker.
    package init(_ item: LineReader.Item) {
        switch item {
        case .tooLong(let bytes, let limit):
            self = .unreadable(.lineTooLong(bytes: bytes, limit: limit))
        case .line(let bytes):
            do {
                let record = try Record(line: bytes)
                self = record.hasError ? .failed(record, bytes: bytes) : .record(record)
            } catch {
                self = .unreadable(error)
            }
        }
    }
}

/// The record loop's reading half: the numbered lines of an input that are
/// not blank, each read as a record. Stages, replay, the evaluator, import
/// and the batch runner all read through this, so a line is counted, skipped
/// and judged the same way everywhere.
package struct RecordLines {
    package private(set) var reader: LineReader

    package init(_ reader: LineReader) {
        self.reader = reader
    }

    /// The next line that is not blank, as it came; nil at the end.
    package mutating func nextLine() -> (line: Int, item: LineReader.Item)? {
        while let item = reader.next() {
            if case .line(let bytes) = item, bytes.isBlankLine { continue }
            return (reader.lineNumber, item)
        }
        return nil
    }

    /// The next line that is not blank, read as a record; nil at the end.
    package mutating func next() -> (line: Int, input: RecordInput)? {
        nextLine().map { ($0.line, RecordInput($0.item)) }
    }

    /// Why reading stopped early (a folder, an I/O error); nil at a true end.
    package var readError: FileProblem? { reader.readError }
}
