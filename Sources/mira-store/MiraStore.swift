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
            }) { record, line throws(StageError) in
                let saved = try store.save(record: record, session: id)
                // A fact the message does not ground is not kept; said, not dropped silently.
                if saved, let input = record.input, let reply = try record.reply() {
                    for fact in reply.remember where !fact.isGrounded(in: input) {
                        report(stage: "mira-store save", line: line,
                               "not kept as a fact (the message does not say it): \(TerminalText.field(fact.text))")
                    }
                }
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
            abstract: "Import messages: JSON Lines from stdin (as export writes them), or a ChatGPT export; all or nothing.",
            discussion: """
                Everything is read and checked before anything is stored, so a slow or typed
                import never holds the database while chat turns are saved. Messages already
                stored (same turn id, or for messages without one the same time, role and
                content) are skipped, so importing the same input twice adds nothing.

                --from chatgpt FILE reads a ChatGPT data export's conversations.json (FILE, or
                stdin when absent; at most 1 GiB): one session per conversation, named
                chatgpt-<conversation id>, holding the user and assistant messages of the
                conversation's current branch with their text (string parts joined by line
                breaks). Left out and counted in the summary on stderr: messages on other
                branches (edited questions, regenerated replies), hidden ones, system and tool
                messages, messages without text, and images and other non-text parts.
                Exit 65 names the bad conversation (index from 0, and its id); 66 when the
                file cannot be read.
                """)

        enum Source: String, ExpressibleByArgument, CaseIterable { case jsonl, chatgpt }

        @OptionGroup var database: DatabaseOption
        @Option(help: "What to read: jsonl (mira-store export's lines, from stdin) or chatgpt (conversations.json).")
        var from: Source = .jsonl
        @Option(help: "Put every message into this session, whatever its line says (--from jsonl only).", completion: .custom(Completions.sessions))
        var session: String?
        @Argument(help: "--from chatgpt: the conversations.json file (default: stdin).", completion: .file())
        var file: String?

        func validate() throws {
            if from == .jsonl, file != nil {
                throw ValidationError("--from jsonl reads standard input: mira-store import < FILE")
            }
            if from == .chatgpt, session != nil {
                throw ValidationError("--session is for --from jsonl: a ChatGPT export makes one session per conversation")
            }
        }

        func run() throws {
            switch from {
            case .jsonl: importLines()
            case .chatgpt: importChatGPT()
            }
        }

        func importLines() {
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

        func importChatGPT() {
            let stage = "mira-store import"
            var reader: ChatGPTImportReader
            if let file {
                switch ChatGPTImportReader.open(path: file) {
                case .success(let opened): reader = opened
                case .failure(let problem): fatal(stage: stage, "cannot read \(file): \(problem.reason) (nothing imported)", status: .noInput)
                }
            } else {
                guard let bytes = Files.read(fd: 0, limit: ChatGPTImportReader.maxFileBytes) else {
                    fatal(stage: stage, "cannot read standard input, or it is over the \(ChatGPTImportReader.maxFileBytes)-byte limit (nothing imported)", status: .noInput)
                }
                reader = ChatGPTImportReader(bytes: bytes)
            }
            let store = database.open()
            do {
                let count = try store.importMessages { () throws(StageError) in try reader.next() }
                report(stage: stage, line: nil, ChatGPTImportReader.describe(reader.summary, added: count.added))
            } catch {
                fatal(stage: stage, error.message + " (nothing imported)", status: error.code.exitStatus)
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
                // The words leave the keyword index's old segments and the
                // log file too, not only the rows (forget does the same).
                if try !MemoryStore(store).scrub() {
                    report(stage: "mira-store rm", line: nil,
                           "warning: another process is reading the database; the removed text leaves its log file at the next checkpoint")
                }
                report(stage: "mira-store rm", line: nil, "removed \(removed) messages of \(id)")
            } catch {
                fatal(stage: "mira-store rm", error.message, status: error.code.exitStatus)
            }
        }
    }
}
