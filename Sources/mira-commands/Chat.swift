import ArgumentParser
import MiraCLI
import MiraCompanion
import MiraFront
import MiraPrompt
import MiraShared
import MiraSystem

/// `mira chat [ID]`: turn after turn on one session, with line editing,
/// input history and the reply streamed as it is written.
struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Talk to Mira turn after turn (default: the current session).",
        discussion: "Commands inside: /help. Ctrl-C stops a reply in flight (nothing is saved); Ctrl-D leaves.")

    @Argument(help: "The session to continue (it becomes the current one).", completion: .custom(Completions.sessions))
    var session: String?
    @Option(help: ArgumentHelp("Force this persona (also /persona NAME inside).", valueName: "name"), completion: .custom(Completions.personas))
    var persona: String?
    @Option(help: "The model to ask (default: MIRA_MODEL, else gpt-4.1).") var model: String?

    func validate() throws {
        if let session { _ = try Setup.validated(session: session) }
        if let persona, let problem = Setup.personas().problem(with: persona) { throw ValidationError(problem) }
    }

    func run() throws {
        let registry = Setup.personas()
        let current = Setup.currentSession()
        let id = session ?? current.read() ?? Identifiers.newSessionID()
        TurnInterrupt.install()
        var chat = ChatLoop(
            session: id, persona: persona, registry: registry, current: current,
            companion: Setup.companion(model: model, stream: true, interruptible: true))
        chat.run()
    }
}

/// The chat's state and its loop: read a line, run a command or a turn.
struct ChatLoop {
    var session: String
    var persona: String?
    let registry: PersonaRegistry
    let current: CurrentSession
    let companion: Companion
    let out = LineWriter.standardOutput
    let screen = TurnScreen()
    let view = TranscriptView(colour: TranscriptView.wantsColour(terminal: LineWriter.standardOutput.isTerminal))

    init(session: String, persona: String?, registry: PersonaRegistry, current: CurrentSession, companion: Companion) {
        self.session = session
        self.persona = persona
        self.registry = registry
        self.current = current
        self.companion = companion
    }

    mutating func run() {
        Setup.remember(session, in: current)
        let state = MiraFolders.state()
        if let state { _ = Files.makeDirectories(state) }
        let editor = LineEditor(program: "mira", historyPath: state.map { $0 + "/chat-history" })
        if let unavailable = editor.unavailable { complain(unavailable) }
        note("session \(session)\(persona.map { " · persona \($0)" } ?? "") · /help for commands · Ctrl-D leaves")
        while true {
            TurnInterrupt.reset()
            switch editor.read(prompt: "you> ") {
            case .end:
                out.writeLine("")
                return
            case .interrupted:
                out.writeLine("")
                continue
            case .refused(let reason):
                complain(reason)
            case .unreadable(let reason):
                complain(reason)
                return
            case .line(let line):
                editor.remember(line)
                if !handle(ChatCommand(line)) { return }
            }
        }
    }

    /// False when the chat should end.
    mutating func handle(_ command: ChatCommand) -> Bool {
        switch command {
        case .nothing: break
        case .quit: return false
        case .help: note(ChatCommand.helpText)
        case .message(let text): take(text)
        case .showPersona:
            note("persona: \(persona ?? "auto (Mira picks)") · choices: \(registry.names.joined(separator: ", ")), auto")
        case .persona(nil):
            persona = nil
            note("Mira picks the persona again")
        case .persona(let name?):
            if let problem = registry.problem(with: name) {
                complain(problem)
            } else {
                persona = name
                note("persona \(name) until /persona auto")
            }
        case .newSession:
            session = Identifiers.newSessionID()
            Setup.remember(session, in: current)
            note("new session \(session)")
        case .switchTo(let id):
            switchSession(to: id)
        case .sessions:
            do {
                _ = SessionTable.write(try companion.store.list(), current: session, json: false, to: out)
            } catch {
                complain(error.message)
            }
        case .log:
            switch Transcript.write(session: session, store: companion.store, view: view, last: nil, to: out) {
            case .noSession: note("nothing said in session \(session) yet")
            case .failed(let error): complain(error.message)
            case .written, .outputClosed: break
            }
        case .mistake(let text): complain(text)
        }
        return true
    }

    mutating func switchSession(to id: String) {
        do {
            try Identifiers.validateSession(id)
            guard try companion.store.contains(session: id) else {
                complain("no session \(id) (/sessions lists them; /new starts one)")
                return
            }
        } catch {
            complain(error.message)
            return
        }
        session = id
        Setup.remember(session, in: current)
        note("session \(session)")
    }

    /// One turn: the reply streams onto the screen, then its persona and
    /// mood; what is typed meanwhile waits for the next prompt.
    func take(_ text: String) {
        TypeAhead.heldWhile { takeTurn(text) }
    }

    func takeTurn(_ text: String) {
        let screen = self.screen
        companion.model.onText = { screen.text($0) }
        companion.model.onRetry = { [timeout = companion.model.timeoutMilliseconds] in screen.retried($0, timeoutMilliseconds: timeout) }
        screen.begin()
        do {
            let record = try companion.take(message: text, session: session, persona: persona)
            let shown = screen.end()
            guard let reply = try record.reply() else { return }
            if !shown { out.writeLine(reply.output) }
            out.writeRaw(Array((view.replyNote(reply) + "\n").utf8))
            Setup.summarizeLater(companion, session: session)
        } catch {
            // A cut stream ends its line; after a bare ^C the note starts its own.
            if !screen.end(cut: true) && TurnInterrupt.isRaised { out.writeRaw([0x0A]) }
            if TurnInterrupt.isRaised {
                note("stopped: that turn was not saved")
            } else {
                complain(error.message)
            }
        }
    }

    /// Mira's own words about the chat, quiet.
    func note(_ text: String) {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            out.writeRaw(Array((view.colour ? "\u{1B}[2m\(line)\u{1B}[0m\n" : "\(line)\n").utf8))
        }
    }

    /// A mistake or a failed turn: one line on stderr; the chat goes on.
    func complain(_ text: String) {
        report(stage: Setup.stage, line: nil, text)
    }
}
