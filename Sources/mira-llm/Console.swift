import MiraShared
import MiraSystem

/// mira-llm's stderr: report lines, and on a terminal one live line that
/// redraws in place: a batch's progress, or what a single turn waits for.
/// A run is a batch once more than one record was read, or from the start
/// when stdin is a file; a single turn gets neither progress nor summary.
/// A lock keeps the live line and report lines from running into each other.
final class Console: @unchecked Sendable {
    let quiet: Bool
    /// stderr is a terminal and not --quiet: a live line may be drawn.
    let showsLive: Bool
    let stdinIsFile: Bool
    let monitor = Monitor()
    // Everything below is guarded by `monitor`.
    var batch: Bool
    var progressShown = false
    var waiting: WaitingLine
    var streamed = TerminalStreamText()

    init(quiet: Bool) {
        self.quiet = quiet
        showsLive = !quiet && Files.isTerminal(2)
        stdinIsFile = Files.isRegularFile(fd: 0)
        batch = stdinIsFile
        waiting = WaitingLine(prefix: "mira-llm: ", write: { LineWriter.standardError.writeRaw($0) })
    }

    /// Whether the run is a batch, with `read` records read so far; once it
    /// is, a single turn's waiting line is gone for good.
    func isBatch(read: Int) -> Bool {
        monitor.locked {
            if !batch && read > 1 {
                batch = true
                waiting.end()
            }
            return batch
        }
    }

    /// One report line (`mira-llm: …`), always shown: failures are never quiet.
    func say(_ text: String) {
        monitor.locked {
            if progressShown { LineWriter.standardError.writeRaw(WaitingLine.erase) }
            waiting.clear()
            LineWriter.standardError.write(Array(("mira-llm: " + text + "\n").utf8))
            progressShown = false
        }
    }

    /// A batch's progress line.
    func progress(_ text: String) {
        guard showsLive else { return }
        monitor.locked {
            LineWriter.standardError.writeRaw(WaitingLine.erase)
            LineWriter.standardError.write(Array(("mira-llm: " + text).utf8))
            progressShown = true
        }
    }

    /// A single turn starts waiting for its answer (`sequence` counts from 0).
    func beginTurn(sequence: Int) {
        guard showsLive, !isBatch(read: sequence + 1) else { return }
        monitor.locked { if !batch { waiting.begin() } }
    }

    /// The turn's outcome is ready: the waiting line goes before the record
    /// is written, so the reply shown next stands alone.
    func endTurn() {
        guard showsLive else { return }
        monitor.locked { waiting.end() }
    }

    /// A retry of a single turn, said on its waiting line.
    func retried(_ words: String) {
        guard showsLive else { return }
        monitor.locked { waiting.note(words) }
    }

    /// The waiting line's clock ticks (from the signal thread).
    func tick() {
        monitor.locked { waiting.tick() }
    }

    /// A streamed reply's text as it arrives (`--stream`): on a terminal a
    /// character cut between two pieces waits for its rest, and the waiting
    /// line is erased first.
    func stream(_ bytes: [UInt8]) {
        monitor.locked {
            let writer = LineWriter.standardError
            guard writer.isTerminal else { writer.write(bytes); return }
            waiting.end()
            writer.writeRaw(streamed.visible(bytes))
            if bytes.last == 0x0A { writer.writeRaw(streamed.finish()) }
        }
    }

    /// The summary line that ends a run (not with --quiet).
    func finish(_ summary: String) {
        guard !quiet else { return }
        say(summary)
    }
}
