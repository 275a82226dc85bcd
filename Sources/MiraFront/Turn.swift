import MiraCLI
import MiraCompanion
import MiraCurl
import MiraPrompt
import MiraShared
import MiraSystem

/// What one turn was asked to do, however the command line was read.
package struct TurnOptions: Equatable {
    package var words: [String] = []
    package var session: String?
    package var new = false
    package var persona: String?
    package var model: String?
    package var explain = false

    package init(words: [String] = [], session: String? = nil, new: Bool = false, persona: String? = nil, model: String? = nil, explain: Bool = false) {
        (self.words, self.session, self.new, self.persona, self.model, self.explain) = (words, session, new, persona, model, explain)
    }

    /// `quietly`: a skipped persona file is not said. `mira` checks so, since
    /// a line it refuses goes on to mira-commands, which says it.
    package func validate(quietly: Bool = false) throws(UsageError) {
        if new && session != nil { throw UsageError("--new starts a session; -s picks one: not both") }
        if let session { _ = try Setup.checked(session: session) }
        guard let persona else { return }
        let personas = quietly ? PersonaRegistry.withUserFolder { _, _ in } : Setup.personas()
        if let problem = personas.problem(with: persona) { throw UsageError(problem) }
    }

    package func run() throws(UsageError) {
        let current = Setup.currentSession()
        let id = session ?? (new ? nil : current.read()) ?? Identifiers.newSessionID()
        let text = try typedMessage()
        if explain {
            if !LineWriter.standardOutput.writeLine(Explanation.pipeline(session: id, message: text, persona: persona, model: model)) {
                fatal(stage: Setup.stage, "cannot write to standard output", status: .ioError)
            }
            return
        }
        Setup.remember(id, in: current)

        let output = LineWriter.standardOutput
        let companion = Setup.companion(model: model, stream: output.isTerminal, interruptible: false)
        let screen = TurnScreen(out: output)
        companion.model.onText = { screen.text($0) }
        companion.model.onRetry = { [timeout = companion.model.timeoutMilliseconds] in screen.retried($0, timeoutMilliseconds: timeout) }
        screen.begin()
        let record: Record
        do {
            record = try companion.take(message: text, session: id, persona: persona)
        } catch {
            screen.end(cut: true)
            fatal(stage: Setup.stage, error.message, status: error.code.exitStatus)
        }
        let shown = screen.end()
        guard let reply = try? record.reply() else { return }
        if !shown && !output.writeLine(reply.output) {
            fatal(stage: Setup.stage, "cannot write to standard output", status: .ioError)
        }
        if LineWriter.standardError.isTerminal {
            let view = TranscriptView(colour: TranscriptView.wantsColour(terminal: true))
            LineWriter.standardError.writeRaw(Array((view.replyNote(reply) + "\n").utf8))
        }
        Setup.summarizeLater(companion, session: id)
    }

    /// The words, else stdin when it is not a terminal (a message of up to 16 MiB).
    package func typedMessage() throws(UsageError) -> String {
        if !words.isEmpty { return words.joined(separator: " ") }
        guard !Files.isTerminal(0) else {
            throw UsageError("no message: mira \"what you want to say\", or mira chat to talk turn after turn")
        }
        guard let bytes = Files.read(fd: 0, limit: 16 << 20) else {
            fatal(stage: Setup.stage, "cannot read the message from stdin (over 16 MiB, or unreadable)", status: .noInput)
        }
        guard var text = String(validating: bytes, as: UTF8.self) else {
            fatal(stage: Setup.stage, "the message on stdin is not UTF-8 text", status: .badInput)
        }
        while text.last == "\n" || text.last == "\r\n" { text.removeLast() }
        guard text.contains(where: { !$0.isWhitespace }) else {
            throw UsageError("no message: stdin was empty")
        }
        return text
    }
}

extension TurnOptions {
    /// `mira`'s subcommands: a first word that is one of them is not a message.
    package static let subcommandNames: Set<String> = ["say", "chat", "log", "sessions", "config", "help", "_summarize"]

    /// The usual turn's command line read without the argument parser,
    /// whose reflection costs about a fifth of a turn's CPU time; nil for
    /// anything else (help, a subcommand, an unknown or repeated option, a
    /// missing value), which the parser then reads and, if need be, refuses.
    /// A test checks that both readings agree.
    package static func quicklyParsed(_ arguments: [String]) -> TurnOptions? {
        var options = TurnOptions()
        var seen: Set<String> = []
        var k = 0
        while k < arguments.count {
            let argument = arguments[k]
            k += 1
            if argument == "--" {
                options.words += arguments[k...]
                break
            }
            var name = argument, value: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            let key = name == "-s" ? "--session" : name
            switch key {
            case "--session", "--persona", "--model":
                if value == nil {
                    guard k < arguments.count else { return nil }
                    value = arguments[k]
                    k += 1
                }
                guard seen.insert(key).inserted else { return nil }
                switch key {
                case "--session": options.session = value
                case "--persona": options.persona = value
                default: options.model = value
                }
            case "--new", "--explain":
                guard value == nil, seen.insert(key).inserted else { return nil }
                if key == "--new" { options.new = true } else { options.explain = true }
            default:
                // Help, version, a subcommand, an unknown option: the parser's.
                if argument.hasPrefix("--") || argument == "-h" || (k == 1 && subcommandNames.contains(argument)) { return nil }
                options.words.append(argument)
            }
        }
        return options
    }
}

/// `mira --explain`: the same turn as the filters would run it.
package enum Explanation {
    /// With memory on (an embedding model configured), recall sits between
    /// the prompt and the model, as in the turn itself.
    package static func pipeline(session: String, message: String, persona: String?, model: String?,
                         memory: Bool = EmbeddingServer.isConfigured(.process)) -> String {
        var prompt = "mira-prompt"
        if let persona { prompt += " --persona \(shellQuoted(persona))" }
        if let model { prompt += " --model \(shellQuoted(model))" }
        prompt += " -- \(shellQuoted(message))"
        let recall = memory ? " | mira-memory recall" : ""
        return "mira-store load \(session) | \(prompt)\(recall) | mira-llm | mira-store save \(session)"
    }

    /// Single quotes, safe for any text in sh.
    package static func shellQuoted(_ text: String) -> String {
        "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}
