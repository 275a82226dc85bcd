/// While one turn waits for its answer, one terminal line that says so,
/// redrawn in place: nothing for the first second (most answers come
/// sooner), then `mira-llm: waiting for the model… 12 s`; after a retry,
/// the retry's words with the seconds so far. `end()` erases it before the
/// reply shows, so nothing of it stays on the screen.
///
/// Only for a terminal: every draw starts with a carriage return and an
/// erase. The writer and the clock are given, so the bytes are exactly known.
/// Not locked: its owner makes sure one call runs at a time (a ticker
/// thread and the turn's own thread both call it).
package struct WaitingLine {
    /// Back to the start of the line, and erase it.
    package static let erase: [UInt8] = Array("\r\u{1B}[K".utf8)

    let prefix: String
    let waiting: String
    let write: ([UInt8]) -> Void
    let clock: () -> Double
    var started: Double?
    var note: String?
    /// The text on the screen now; nil when nothing is.
    package private(set) var shown: String?

    /// `prefix` starts every line (`mira-llm: `); `clock` is in milliseconds.
    package init(prefix: String, waiting: String = "waiting for the model…",
                 write: @escaping ([UInt8]) -> Void, clock: @escaping () -> Double = SystemTime.monotonicMilliseconds) {
        self.prefix = prefix
        self.waiting = waiting
        self.write = write
        self.clock = clock
    }

    /// A wait is under way (between `begin()` and `end()`).
    package var isWaiting: Bool { started != nil }

    /// A wait starts now; nothing is shown yet.
    package mutating func begin() {
        end()
        started = clock()
    }

    /// Draws the line again when its text changed: each whole second from 1 s on.
    package mutating func tick() {
        guard let started else { return }
        draw(text(seconds: Int((clock() - started) / 1000)))
    }

    /// Why the wait goes on (a retry): shown at once, with the seconds kept counting.
    package mutating func note(_ text: String) {
        guard isWaiting else { return }
        note = text
        tick()
    }

    /// Takes the line off the screen (for a line of text to go there); the
    /// next tick draws it again.
    package mutating func clear() {
        guard shown != nil else { return }
        write(Self.erase)
        shown = nil
    }

    /// The wait is over: the line is erased and the counting stops.
    package mutating func end() {
        clear()
        started = nil
        note = nil
    }

    /// The line after `seconds` of waiting; nil while there is nothing to say.
    func text(seconds: Int) -> String? {
        if let note { return prefix + note + (seconds >= 1 ? " · \(seconds) s" : "") }
        return seconds >= 1 ? prefix + waiting + " \(seconds) s" : nil
    }

    mutating func draw(_ text: String?) {
        guard let text, text != shown else { return }
        write(Self.erase + Array(text.utf8))
        shown = text
    }
}
