import MiraShared
import MiraSystem


/// Reads `mira-store import`'s input: one exported message a line, blank
/// lines skipped. Each message is checked as a saved turn would be, and every
/// error names its line.
package struct ImportReader {
    var lines: RecordLines
    /// `--session`: every message goes there, whatever its line says.
    let session: String?

    package init(reader: LineReader, session: String?) {
        lines = RecordLines(reader)
        self.session = session
    }

    /// The next message, nil at the end of the input.
    package mutating func next() throws(StageError) -> StoredMessage? {
        guard let (line, input) = lines.next() else {
            if let problem = lines.readError {
                throw StageError(.storeFailed, "cannot read standard input: \(problem)")
            }
            return nil
        }
        do throws(StageError) {
            switch input {
            case .unreadable(let error): throw error
            case .failed: throw StageError(.badRecord, "a failed turn's record, not an exported message")
            case .record(let record): return try StoredMessage(json: .object(record.fields), session: session)
            }
        } catch {
            throw StageError(error.code, "line \(line): " + error.message)
        }
    }
}
