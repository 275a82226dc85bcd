import MiraShared

/// Reads `mira-store import`'s input: one exported message a line, blank
/// lines skipped. Each message is checked as a saved turn would be, and every
/// error names its line.
public struct ImportReader {
    var reader: LineReader
    /// `--session`: every message goes there, whatever its line says.
    let session: String?

    public init(reader: LineReader, session: String?) {
        self.reader = reader
        self.session = session
    }

    /// The next message, nil at the end of the input.
    public mutating func next() throws(StageError) -> StoredMessage? {
        while let item = reader.next() {
            let line = "line \(reader.lineNumber): "
            guard case .line(let bytes) = item else {
                throw StageError(.lineTooLong, line + "line is over the length limit")
            }
            if bytes.isBlankLine { continue }
            let json: JSON
            do {
                json = try JSONParser.parse(bytes)
            } catch {
                throw StageError(.badJSON, line + "not JSON: \(error)")
            }
            do {
                return try StoredMessage(json: json, session: session)
            } catch {
                throw StageError(error.code, line + error.message)
            }
        }
        if let problem = reader.readError {
            throw StageError(.storeFailed, "cannot read standard input: \(problem)")
        }
        return nil
    }
}
