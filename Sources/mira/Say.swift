import ArgumentParser
import MiraCLI
import MiraCompanion
import MiraShared
import MiraSystem

/// `mira "message"`: one turn on the current session, the reply on stdout.
struct Say: ParsableCommand {
    static let configuration = CommandConfiguration(
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
            print(Explanation.pipeline(session: id, message: text, persona: persona, model: model))
            return
        }
        Setup.remember(id, in: current)

        let output = LineWriter.standardOutput
        let companion = Setup.companion(model: model, stream: output.isTerminal, interruptible: false)
        let screen = TurnScreen(out: output)
        companion.onText = { screen.text($0) }
        companion.onRetry = { [timeout = companion.timeoutMilliseconds] in screen.retried($0, timeoutMilliseconds: timeout) }
        screen.begin()
        let record: Record
        do {
            record = try companion.take(message: text, session: id, persona: persona)
        } catch {
            screen.end(cut: true)
            fatal(stage: Setup.stage, Setup.failure(error), status: error.code.exitStatus)
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
    }

    /// The words, else stdin when it is not a terminal (a message of up to 16 MiB).
    func typedMessage() throws -> String {
        if !message.isEmpty { return message.joined(separator: " ") }
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

/// `mira --explain`: the same turn as the filters would run it.
enum Explanation {
    static func pipeline(session: String, message: String, persona: String?, model: String?) -> String {
        var prompt = "mira-prompt"
        if let persona { prompt += " --persona \(shellQuoted(persona))" }
        if let model { prompt += " --model \(shellQuoted(model))" }
        prompt += " -- \(shellQuoted(message))"
        return "mira-store load \(session) | \(prompt) | mira-llm | mira-store save \(session)"
    }

    /// Single quotes, safe for any text in sh.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}
