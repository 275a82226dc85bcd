import MiraShared
import MiraSystem

/// mira-llm's stderr: report lines, and on a terminal one progress line that
/// redraws in place. A lock keeps the progress line and report lines from
/// running into each other.
final class Console: @unchecked Sendable {
    let quiet: Bool
    let showsProgress: Bool
    let monitor = Monitor()
    var progressShown = false
    var streamed = TerminalStreamText()

    init(quiet: Bool) {
        self.quiet = quiet
        showsProgress = !quiet && Files.isTerminal(2)
    }

    /// One report line (`mira-llm: …`), always shown: failures are never quiet.
    func say(_ text: String) {
        monitor.locked {
            if progressShown { LineWriter.standardError.writeRaw(Self.eraseLine) }
            LineWriter.standardError.write(Array(("mira-llm: " + text + "\n").utf8))
            progressShown = false
        }
    }

    func progress(_ text: String) {
        guard showsProgress else { return }
        monitor.locked {
            LineWriter.standardError.writeRaw(Self.eraseLine)
            LineWriter.standardError.write(Array(("mira-llm: " + text).utf8))
            progressShown = true
        }
    }

    /// A streamed reply's text as it arrives (`--stream`): on a terminal a
    /// character cut between two pieces waits for its rest.
    func stream(_ bytes: [UInt8]) {
        monitor.locked {
            let writer = LineWriter.standardError
            guard writer.isTerminal else { writer.write(bytes); return }
            writer.writeRaw(streamed.visible(bytes))
            if bytes.last == 0x0A { writer.writeRaw(streamed.finish()) }
        }
    }

    /// Back to the start of the line, and erase it.
    static let eraseLine: [UInt8] = Array("\r\u{1B}[K".utf8)

    /// The summary line that ends a run (not with --quiet).
    func finish(_ summary: String) {
        guard !quiet else { return }
        say(summary)
    }
}
