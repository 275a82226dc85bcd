import ArgumentParser
import MiraCLI
import MiraCompanion
import MiraCurl
import MiraFront
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

    // The turn's own errors are usage errors; the parser's kind shows the usage with them.
    func validate() throws {
        do { try options.validate() } catch { throw ValidationError(error.message) }
    }

    func run() throws {
        do { try options.run() } catch { throw ValidationError(error.message) }
    }
}

extension Setup {
    /// `checked(session:)` for a command's checks: refused as the parser
    /// refuses a wrong option, with the usage.
    static func validated(session id: String) throws -> String {
        do { return try checked(session: id) } catch { throw ValidationError(error.message) }
    }
}
