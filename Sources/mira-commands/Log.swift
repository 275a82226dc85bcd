import ArgumentParser
import MiraCLI
import MiraCompanion
import MiraFront
import MiraSQLite
import MiraShared
import MiraSystem

/// `mira log [ID]`: a session as a person reads it.
struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Show a session's conversation (default: the current session).",
        discussion: "Colour on a terminal unless NO_COLOR is set. --json writes the lines of mira-store export.")

    @Argument(help: "The session id.", completion: .custom(Completions.sessions)) var session: String?
    @Flag(help: "One JSON object per message, as mira-store export writes them.") var json = false
    @Option(help: "Only the last N messages.") var last: Int?

    func validate() throws {
        if let session { _ = try Setup.validated(session: session) }
        if let last, last < 1 { throw ValidationError("--last must be 1 or more") }
    }

    func run() throws {
        guard let id = session ?? Setup.currentSession().read() else {
            fatal(stage: Setup.stage, "no current session yet: talk first (mira \"hi\"), or name one (mira sessions lists them)", status: .noInput)
        }
        let out = LineWriter.standardOutput
        let view = TranscriptView(colour: !json && TranscriptView.wantsColour(terminal: out.isTerminal))
        switch Transcript.write(session: id, store: Setup.store(.readOnly), view: json ? nil : view, last: last, to: out) {
        case .written: return
        case .noSession: fatal(stage: Setup.stage, "no session \(id) (mira sessions lists them)", status: .noInput)
        case .outputClosed: fatal(stage: Setup.stage, "cannot write to standard output", status: .ioError)
        case .failed(let error): fatal(stage: Setup.stage, error.message, status: error.code.exitStatus)
        }
    }
}

/// Writes a session's messages, readable (`view`) or as export lines.
enum Transcript {
    enum Outcome { case written, noSession, outputClosed, failed(StageError) }

    static func write(session: String, store: SessionStore, view: TranscriptView?, last: Int?, to out: LineWriter) -> Outcome {
        var messages: [StoredMessage] = []
        do {
            try store.export(session: session) { messages.append($0); return true }
        } catch {
            return .failed(error)
        }
        if messages.isEmpty { return .noSession }
        let shown = last.map { messages.suffix($0) } ?? messages[...]
        var ok = true
        if let view {
            ok = ok && out.writeRaw(Array((view.title(session: session, messages: messages.count) + "\n\n").utf8))
            for stored in shown {
                ok = ok && out.writeRaw(Array((view.heading(stored.message) + "\n").utf8))
                ok = ok && out.writeLine(stored.message.content) && out.writeLine("")
            }
        } else {
            for stored in shown { ok = ok && out.writeLine(JSONWriter.bytes(stored.json)) }
        }
        return ok ? .written : .outputClosed
    }
}

/// `mira sessions`: every session, the current one marked.
struct Sessions: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sessions", abstract: "List the sessions, most recent first; * marks the current one.")

    @Flag(help: "One JSON object per session, as mira-store list --json writes them.") var json = false

    func run() throws {
        let current = Setup.currentSession().read()
        let out = LineWriter.standardOutput
        let ok: Bool
        do {
            ok = SessionTable.write(try Setup.store(.readOnly).list(), current: current, json: json, to: out)
        } catch {
            fatal(stage: Setup.stage, error.message, status: error.code.exitStatus)
        }
        if !ok { fatal(stage: Setup.stage, "cannot write to standard output", status: .ioError) }
    }
}

enum SessionTable {
    static func write(_ sessions: [SessionSummary], current: String?, json: Bool, to out: LineWriter) -> Bool {
        if sessions.isEmpty && !json {
            return out.writeLine("no sessions yet: mira \"hi\" starts one")
        }
        for s in sessions {
            let line = json
                ? JSONWriter.string(["session": .string(s.session), "messages": .int(s.messages), "last_activity": .string(s.lastActivity),
                                     "current": .bool(s.session == current)])
                : "\(s.session == current ? "*" : " ") \(s.session)\t\(s.messages) messages\t\(TerminalText.field(s.lastActivity))"
            if !out.writeLine(line) { return false }
        }
        return true
    }
}
