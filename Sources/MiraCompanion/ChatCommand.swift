/// One line typed in `mira chat`: a message for Mira, or a slash command.
package enum ChatCommand: Equatable, Sendable {
    case message(String)
    case help
    /// `/persona NAME`; nil for `/persona auto` (Mira picks again).
    case persona(String?)
    /// `/persona` alone: show the current one and the choices.
    case showPersona
    case newSession
    case sessions
    case switchTo(String)
    case log
    case quit
    /// Nothing to do (an empty line).
    case nothing
    /// A slash command that does not exist or lacks its argument: the text to show.
    case mistake(String)

    /// Reads a typed line. `//text` sends `/text` as a message.
    package init(_ line: String) {
        let trimmed = Self.trimmed(line)
        guard trimmed.hasPrefix("/") else {
            self = trimmed.isEmpty ? .nothing : .message(line)
            return
        }
        if trimmed.hasPrefix("//") {
            self = .message(String(trimmed.dropFirst()))
            return
        }
        let words = trimmed.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let name = words[0], argument = words.count > 1 ? words[1...].joined(separator: " ") : nil
        switch (name, argument) {
        case ("/help", _), ("/?", _): self = .help
        case ("/persona", nil): self = .showPersona
        case ("/persona", "auto"?): self = .persona(nil)
        case ("/persona", let persona?): self = .persona(persona)
        case ("/new", nil): self = .newSession
        case ("/sessions", nil): self = .sessions
        case ("/switch", let id?): self = .switchTo(id)
        case ("/switch", nil): self = .mistake("/switch needs a session id (/sessions lists them)")
        case ("/log", nil): self = .log
        case ("/quit", nil), ("/exit", nil): self = .quit
        case ("/new", _?), ("/sessions", _?), ("/log", _?), ("/quit", _?), ("/exit", _?):
            self = .mistake("\(name) takes no argument (/help lists the commands)")
        default: self = .mistake("unknown command \(name) (/help lists the commands; //text sends a message starting with /)")
        }
    }

    static func trimmed(_ line: String) -> String {
        var text = Substring(line)
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return String(text)
    }

    /// What `/help` shows.
    package static let helpText = """
        /persona NAME   force a persona for the next turns (/persona auto: Mira picks)
        /persona        show the persona in force and the choices
        /new            start a new session
        /sessions       list the sessions (* is this one)
        /switch ID      continue another session
        /log            show this session's conversation
        /quit           leave (Ctrl-D too); Ctrl-C stops a reply in flight
        //text          send a message that starts with /
        """
}
