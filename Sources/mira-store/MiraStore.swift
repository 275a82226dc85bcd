import ArgumentParser
import MiraCLI
import MiraShared
import MiraSystem
import MiraSQLite

/// Loads and saves Mira's memory: every session's messages in one SQLite file.
@main
struct MiraStore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mira-store",
        abstract: "Load and save Mira's chat sessions (SQLite).",
        discussion: "Database: --db, else $MIRA_DB, else $XDG_DATA_HOME/mira/mira.db (~/.local/share/mira/mira.db).",
        version: MiraVersion.line("mira-store"),
        subcommands: [New.self, Load.self, Save.self, List.self, Export.self, Import.self, Remove.self])

    static func main() {
        Startup.prepare(stage: "mira-store")
        main(nil)
    }
}

struct DatabaseOption: ParsableArguments {
    @Option(name: .long, help: "The SQLite database file.")
    var db: String?

    /// The store; `.readOnly` for commands that only read (they create and change nothing).
    func open(_ access: SessionStore.Access = .readWrite) -> SessionStore {
        guard let path = StoreLocation.resolve(explicit: db) else {
            fatal(stage: "mira-store", "no database path: set --db, MIRA_DB or HOME", status: .usage)
        }
        do {
            return try SessionStore(path: path, access: access)
        } catch {
            fatal(stage: "mira-store", error.message, status: error.code.exitStatus)
        }
    }
}

/// `export` and `rm` of a session that has no messages (none was ever
/// saved, it was removed, or there is no database yet): a typo, most often.
/// `load` is different: a session never seen loads as a new, empty one.
func unknownSession(_ id: String, stage: String) -> Never {
    fatal(stage: stage, "no session \(id) (mira-store list shows the sessions)", status: .noInput)
}

/// A session id from the command line, checked before anything is opened.
func checkedSession(_ id: String) -> String {
    do {
        try Identifiers.validateSession(id)
    } catch {
        fatal(stage: "mira-store", error.message, status: .usage)
    }
    return id
}

extension MiraStore {
    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "new", abstract: "Print a fresh random session id.")

        func run() {
            if !LineWriter.standardOutput.writeLine(Identifiers.newSessionID()) {
                fatal(stage: "mira-store new", "cannot write to standard output", status: .ioError)
            }
        }
    }

    struct Load: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "load",
            abstract: "Emit one record holding the session's recent history (empty for a new session).")

        @OptionGroup var database: DatabaseOption
        @Argument(help: "The session id.", completion: .custom(Completions.sessions)) var session: String
        @Option(help: "How many of the latest messages to load.") var last: Int = 15

        func validate() throws {
            guard last >= 0 else { throw ValidationError("--last must be 0 or more") }
        }

        func run() throws {
            let id = checkedSession(session)
            let store = database.open(.readOnly)
            do {
                let history = try store.load(session: id, last: last)
                if !LineWriter.standardOutput.writeLine(Record(session: id, history: history).line) {
                    fatal(stage: "mira-store load", "cannot write to standard output", status: .ioError)
                }
            } catch {
                fatal(stage: "mira-store load", error.message, status: error.code.exitStatus)
            }
        }
    }

    struct Save: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "save",
            abstract: "Store each finished turn (input and reply) and pass it on.",
            discussion: """
                Prints the reply text when stdout is a terminal and the record when piped;
                a reply mira-llm --stream already showed on the terminal is not shown again.
                Records without a reply, or with an error, are not saved: each is named on
                stderr and the exit status is non-zero at the end.
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

        @OptionGroup var database: DatabaseOption
        @Argument(help: "The session id (default: each record's own session).", completion: .custom(Completions.sessions))
        var session: String?
        @Option(help: "Output: text (the reply) or json (the record). Default: text on a terminal, else json.")
        var format: Format?

        func run() throws {
            let id = session.map(checkedSession)
            let store = database.open()
            let asText = (format ?? (Files.isTerminal(1) ? .text : .json)) == .text
            // Storing is save's work: a reader that goes away (`| head -1`)
            // stops the writing, never the storing.
            var stage = Stage(name: "mira-store save", diagnostics: .standardError, upstreamErrors: .refuse, closedOutput: .keepWorking)
            var reader = LineReader()
            stage.run(reader: &reader, render: { record in
                guard asText else { return record.line }
                // `mira-llm --stream` already showed this reply on the terminal, line end included.
                if record.fields["streamed"]?.boolValue == true { return nil }
                let reply: Reply?? = try? record.reply()
                return (reply ?? nil).map { Array($0.output.utf8) }
            }) { record, _ throws(StageError) in
                _ = try store.save(record: record, session: id)
            }
            if stage.status != .ok { throw ExitCode(stage.status.rawValue) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List sessions: id, message count, last activity (tab-separated).")

        @OptionGroup var database: DatabaseOption
        @Flag(help: "One JSON object per session instead of a table.") var json = false

        func run() throws {
            let store = database.open(.readOnly)
            do {
                for s in try store.list() {
                    // A stored time is imported text: in the table its tabs,
                    // line breaks and escapes are shown, so it cannot forge a row.
                    let line = json
                        ? JSONWriter.string(["session": .string(s.session), "messages": .int(s.messages), "last_activity": .string(s.lastActivity)])
                        : "\(s.session)\t\(s.messages)\t\(TerminalText.field(s.lastActivity))"
                    if !LineWriter.standardOutput.writeLine(line) {
                        fatal(stage: "mira-store list", "cannot write to standard output", status: .ioError)
                    }
                }
            } catch {
                fatal(stage: "mira-store list", error.message, status: error.code.exitStatus)
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write a session's messages as JSON Lines, oldest first.",
            discussion: "A session with no messages is not there: exit 66 (mira-store list shows the sessions).")

        @OptionGroup var database: DatabaseOption
        @Argument(help: "The session id.", completion: .custom(Completions.sessions)) var session: String

        func run() throws {
            let id = checkedSession(session)
            let store = database.open(.readOnly)
            var broken = false
            var exported = 0
            do {
                try store.export(session: id) { message in
                    exported += 1
                    broken = !LineWriter.standardOutput.writeLine(JSONWriter.bytes(message.json))
                    return !broken
                }
            } catch {
                fatal(stage: "mira-store export", error.message, status: error.code.exitStatus)
            }
            if broken { fatal(stage: "mira-store export", "cannot write to standard output", status: .ioError) }
            if exported == 0 { unknownSession(id, stage: "mira-store export") }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Read messages (JSON Lines, as export writes them) from stdin; all or nothing.",
            discussion: """
                Every line is read and checked before anything is stored, so a slow or typed
                import never holds the database while chat turns are saved. Messages already
                stored (same turn id, or for messages without one the same time, role and
                content) are skipped, so importing an export twice adds nothing.
                """)

        @OptionGroup var database: DatabaseOption
        @Option(help: "Put every message into this session, whatever its line says.", completion: .custom(Completions.sessions))
        var session: String?

        func run() throws {
            let id = session.map(checkedSession)
            let store = database.open()
            var messages = ImportReader(reader: LineReader(), session: id)
            do {
                let count = try store.importMessages { () throws(StageError) in try messages.next() }
                let already = count.read - count.added
                report(stage: "mira-store import", line: nil,
                       "imported \(count.added) messages" + (already > 0 ? " (\(already) already stored, skipped)" : ""))
            } catch {
                fatal(stage: "mira-store import", error.message + " (nothing imported)", status: error.code.exitStatus)
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Delete a session and all its messages.",
            discussion: "A session with no messages is not there: exit 66, and nothing is created.")

        @OptionGroup var database: DatabaseOption
        @Argument(help: "The session id.", completion: .custom(Completions.sessions)) var session: String

        func run() throws {
            let id = checkedSession(session)
            // Looked up read-only first: removing what is not there creates no
            // database (nor its folder) and says so instead of "removed 0".
            do {
                guard try database.open(.readOnly).contains(session: id) else { unknownSession(id, stage: "mira-store rm") }
            } catch {
                fatal(stage: "mira-store rm", error.message, status: error.code.exitStatus)
            }
            let store = database.open()
            do {
                let removed = try store.remove(session: id)
                // Another rm may have taken it between the look-up and the lock.
                if removed == 0 { unknownSession(id, stage: "mira-store rm") }
                report(stage: "mira-store rm", line: nil, "removed \(removed) messages of \(id)")
            } catch {
                fatal(stage: "mira-store rm", error.message, status: error.code.exitStatus)
            }
        }
    }
}
