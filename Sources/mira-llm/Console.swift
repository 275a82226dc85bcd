#if canImport(Glibc)
import Glibc
#endif
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
        showsProgress = !quiet && isatty(2) == 1
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

/// Ctrl-C and SIGTERM for a batch: every thread blocks them and one thread
/// waits for them, so a signal is handled between writes, never inside one.
enum Interruptions {
    static var signals: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        return set
    }

    /// Call before any thread starts, so every thread inherits the mask.
    static func block() {
        var set = signals
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Starts the thread that waits for a signal, calling `body(signal)`; with
    /// `every`, it also calls `body(nil)` at that many milliseconds (progress).
    static func watch(every milliseconds: Int?, _ body: @escaping @Sendable (Int32?) -> Void) {
        startThread {
            var set = signals
            while true {
                if let milliseconds {
                    var wait = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
                    let signal = sigtimedwait(&set, nil, &wait)
                    body(signal > 0 ? signal : nil)
                } else {
                    var signal: Int32 = 0
                    if sigwait(&set, &signal) == 0 { body(signal) }
                }
            }
        }
    }
}
