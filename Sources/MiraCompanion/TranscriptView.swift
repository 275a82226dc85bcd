import MiraShared
import MiraSystem

/// A session as a person reads it (`mira log`): who spoke, when, and for
/// Mira's replies the persona and mood. Colour only when asked for (a
/// terminal without NO_COLOR); the text itself is written by the caller's
/// LineWriter, which shows control characters harmlessly on a terminal.
package struct TranscriptView: Sendable {
    package var colour: Bool

    package init(colour: Bool) {
        self.colour = colour
    }

    /// Whether colour fits this output: a terminal, and NO_COLOR unset or empty
    /// (no-color.org).
    package static func wantsColour(terminal: Bool, environment: Environment = .process) -> Bool {
        terminal && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
    }

    /// The heading of one message: `you · 2026-12-06 20:41` or
    /// `mira · 2026-12-06 20:41 · haven · tender`.
    package func heading(_ message: Message) -> String {
        let who = message.role == .user ? "you" : message.role == .assistant ? "mira" : message.role.rawValue
        var details: [String] = []
        if let time = message.time { details.append(Self.shownTime(time)) }
        if message.role == .assistant {
            if let persona = message.persona { details.append(TerminalText.field(persona)) }
            if let mood = message.mood { details.append(TerminalText.field(mood)) }
        }
        let name = paint(who, message.role == .user ? Self.bold + Self.cyan : Self.bold + Self.magenta)
        return ([name] + details.map { paint($0, Self.dim) }).joined(separator: paint(" · ", Self.dim))
    }

    /// The line under a streamed reply in the chat: `haven · tender`, quiet.
    package func replyNote(_ reply: Reply) -> String {
        paint("  \(TerminalText.field(reply.persona)) · \(TerminalText.field(reply.mood))", Self.dim)
    }

    /// A session's title line for the top of a log.
    package func title(session: String, messages: Int) -> String {
        paint("session \(session) · \(messages) message\(messages == 1 ? "" : "s")", Self.dim)
    }

    /// `2026-12-06T20:41:07.123Z` → `2026-12-06 20:41`; any other text
    /// (imported times are free text) is shown as it is, escaped.
    static func shownTime(_ time: String) -> String {
        let characters = Array(time.utf8)
        guard characters.count >= 16, characters[10] == UInt8(ascii: "T"), characters[13] == UInt8(ascii: ":") else {
            return TerminalText.field(time)
        }
        return String(decoding: characters[0..<10], as: UTF8.self) + " " + String(decoding: characters[11..<16], as: UTF8.self)
    }

    func paint(_ text: String, _ style: String) -> String {
        colour ? style + text + Self.reset : text
    }

    static let bold = "\u{1B}[1m"
    static let dim = "\u{1B}[2m"
    static let cyan = "\u{1B}[36m"
    static let magenta = "\u{1B}[35m"
    static let reset = "\u{1B}[0m"
}
