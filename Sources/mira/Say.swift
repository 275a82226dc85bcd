import ArgumentParser
import MiraCLI
import MiraCurl
import MiraCompanion
import MiraShared
import MiraSystem

/// `mira "message"`: one turn on the current session, the reply on stdout.
struct Say: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "say",
        abstract: "One turn: send a message, print Mira's reply (the default command).",
        discussion: """
            The message is the argument, else stdin when it is not a terminal (echo hi | mira).
            On a terminal the reply streams in as it is written; into a pipe or a file it
            is written whole once the turn is saved.
            """)

    @Argument(help: "What you say to Mira.") var message: [String] = []
    @Option(name: [.short, .customLong("session")], help: ArgumentHelp("Talk in this session (it becomes the current one).", valueName: "id"), completion: .custom(Completions.sessions))
    var session: String?
    @Flag(help: "Start a new session (it becomes the current one).") var new = false
    @Option(help: ArgumentHelp("Force this persona for the turn (mira-prompt --list-personas lists them).", valueName: "name"), completion: .custom(Completions.personas))
    var persona: String?
    @Option(help: "The model to ask (default: MIRA_MODEL, else gpt-4.1).") var model: String?
    @Flag(help: "Print the four-stage pipeline that does the same turn, and do nothing else.") var explain = false

    /// For the argument sorting in `Mira.arguments`.
    static let valueOptions: Set<String> = ["-s", "--session", "--persona", "--model"]
    static let flags: Set<String> = ["--new", "--explain", "-h", "--help", "--version"]

    var options: TurnOptions {
        TurnOptions(words: message, session: session, new: new, persona: persona, model: model, explain: explain)
    }

    func validate() throws {
        try options.validate()
    }

    func run() throws {
        try options.run()
    }
}

/// What one turn was asked to do, however the command line was read.
struct TurnOptions: Equatable {
    var words: [String] = []
    var session: String?
    var new = false
    var persona: String?
    var model: String?
    var explain = false

    func validate() throws {
        if new && session != nil { throw ValidationError("--new starts a session; -s picks one: not both") }
        if let session { _ = try Setup.checked(session: session) }
        if let persona, let problem = Setup.personas().problem(with: persona) { throw ValidationError(problem) }
    }

    func run() throws {
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
    func typedMessage() throws -> String {
        if !words.isEmpty { return words.joined(separator: " ") }
        guard !Files.isTerminal(0) else {
            throw ValidationError("no message: mira \"what you want to say\", or mira chat to talk turn after turn")
        }
        guard let bytes = Files.read(fd: 0, limit: 16 << 20) else {
            fatal(stage: Setup.stage, "cannot read the message from stdin (over 16 MiB, or unreadable)", status: .noInput)
        }
        guard var text = String(validating: bytes, as: UTF8.self) else {
            fatal(stage: Setup.stage, "the message on stdin is not UTF-8 text", status: .badInput)
        }
        while text.last == "\n" || text.last == "\r\n" { text.removeLast() }
        guard text.contains(where: { !$0.isWhitespace }) else {
            throw ValidationError("no message: stdin was empty")
        }
        return text
    }
}

extension TurnOptions {
    /// The usual turn's command line read without the argument parser,
    /// whose reflection costs about a fifth of a turn's CPU time; nil for
    /// anything else (help, a subcommand, an unknown or repeated option, a
    /// missing value), which the parser then reads and, if need be, refuses.
    /// A test checks that both readings agree.
    static func quicklyParsed(_ arguments: [String]) -> TurnOptions? {
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
                if argument.hasPrefix("--") || argument == "-h" || (k == 1 && Mira.subcommandNames.contains(argument)) { return nil }
                options.words.append(argument)
            }
        }
        return options
    }
}

/// `mira --explain`: the same turn as the filters would run it.
enum Explanation {
    /// With memory on (an embedding model configured), recall sits between
    /// the prompt and the model, as in the turn itself.
    static func pipeline(session: String, message: String, persona: String?, model: String?,
                         memory: Bool = EmbeddingServer.isConfigured(.process)) -> String {
        var prompt = "mira-prompt"
        if let persona { prompt += " --persona \(shellQuoted(persona))" }
        if let model { prompt += " --model \(shellQuoted(model))" }
        prompt += " -- \(shellQuoted(message))"
        let recall = memory ? " | mira-memory recall" : ""
        return "mira-store load \(session) | \(prompt)\(recall) | mira-llm | mira-store save \(session)"
    }

    /// Single quotes, safe for any text in sh.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}
