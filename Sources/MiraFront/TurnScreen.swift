import MiraLLM
import MiraShared
import MiraSystem

/// What a person sees of a turn in flight: on a terminal, after a second a
/// line on stderr counting the wait and saying each retry, erased the
/// moment the reply starts; then the reply's text as it streams onto stdout.
package final class TurnScreen: @unchecked Sendable {
    let out: LineWriter
    let monitor = Monitor()
    var waiting: WaitingLine
    /// Whether the waiting line is drawn at all: only when stderr is a terminal.
    let live: Bool
    var streamed = TerminalStreamText()
    /// Some of the reply's text is on the screen.
    private(set) var shown = false
    /// Each turn's ticker stops when the turn it was started for is over.
    var turn = 0

    package init(out: LineWriter = .standardOutput) {
        self.out = out
        live = LineWriter.standardError.isTerminal
        waiting = WaitingLine(prefix: "mira: ", write: { LineWriter.standardError.writeRaw($0) })
    }

    /// A turn starts waiting for its answer.
    package func begin() {
        let mine: Int = monitor.locked {
            turn += 1
            shown = false
            streamed = TerminalStreamText()
            if live { waiting.begin() }
            return turn
        }
        guard live else { return }
        startThread { [self] in
            while true {
                SystemTime.sleep(milliseconds: 250)
                let going: Bool = monitor.locked {
                    guard turn == mine, waiting.isWaiting else { return false }
                    waiting.tick()
                    return true
                }
                if !going { return }
            }
        }
    }

    /// A piece of the reply: the waiting line goes, the text shows.
    package func text(_ bytes: [UInt8]) {
        monitor.locked {
            waiting.end()
            shown = true
            out.writeRaw(out.isTerminal ? streamed.visible(bytes) : bytes)
        }
    }

    package func retried(_ notice: RetryNotice, timeoutMilliseconds: Int) {
        monitor.locked { waiting.note(notice.words(timeoutMilliseconds: timeoutMilliseconds)) }
    }

    /// The turn is over: the waiting line goes. With `cut`, a reply stopped
    /// half way still ends its line. Returns whether any text was shown.
    @discardableResult
    package func end(cut: Bool = false) -> Bool {
        monitor.locked {
            waiting.end()
            turn += 1
            if cut && shown { out.writeRaw(streamed.finish() + [0x0A]) }
            return shown
        }
    }
}
