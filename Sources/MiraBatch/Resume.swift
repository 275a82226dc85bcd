import MiraShared
import MiraSystem

/// The turns a previous run already finished, read from its output, so an
/// interrupted batch restarts where it stopped.
package struct FinishedTurns: Sendable {
    package private(set) var turns: Set<String> = []
    /// Set when the file could not be read to its end.
    package private(set) var readError: FileProblem?

    package init() {}

    /// Reads a previous output: every record with a turn id, a reply and no
    /// error counts as finished. Lines that do not parse (such as a last line
    /// cut by a kill) are ignored: their turns simply run again.
    package init(readingFrom fd: Int32) {
        var lines = RecordLines(LineReader(fd: fd))
        while let (_, input) = lines.next() {
            // `.record` only: a failed record's turn was not finished.
            guard case .record(let record) = input, let turn = record.turn, record.fields["reply"] != nil else { continue }
            turns.insert(turn)
        }
        readError = lines.readError
    }

    package func contains(_ record: Record) -> Bool {
        guard let turn = record.turn else { return false }
        return turns.contains(turn)
    }

    package var count: Int { turns.count }
}
