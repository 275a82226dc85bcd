import ArgumentParser
import MiraCLI
import MiraServe
import MiraShared
import MiraSystem

/// Mira on the web: the chat API (docs/http.md) for browsers and scripts,
/// on the same turn and database as `mira`.
@main
struct MiraServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mira-serve",
        abstract: "Serve Mira's chat API over HTTP (docs/http.md).",
        discussion: """
            Database: --db, else $MIRA_DB, else $XDG_DATA_HOME/mira/mira.db. The model and server \
            settings are mira's (the config file, MIRA_*, OPENAI_*). Once listening it prints its address, \
            then the owner link: opened in your browser, it shows the conversations and memory of `mira` \
            (every other browser gets its own). Stop it with Ctrl-C or SIGTERM.
            """,
        version: MiraVersion.line("mira-serve"))

    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on (0: a free one, printed once listening).") var port = 8080
    @Option(help: "The SQLite database file.") var db: String?
    @Option(help: ArgumentHelp("The most turns at once (each waiting on the model in a thread of its own, made when needed).", valueName: "n"))
    var turns = 256
    @Option(help: ArgumentHelp("Turns one browser may take a minute, after a first burst of up to 20 (0: no limit).", valueName: "n"))
    var turnsPerMinute = 30

    static func main() async {
        Startup.prepare(stage: Server.stage)
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535, not \(port)") }
        guard (1...1024).contains(turns) else { throw ValidationError("--turns must be 1...1024, not \(turns)") }
        guard (0...100_000).contains(turnsPerMinute) else { throw ValidationError("--turns-per-minute must be 0...100000, not \(turnsPerMinute)") }
        guard !host.isEmpty else { throw ValidationError("--host must not be empty") }
    }

    func run() async throws {
        // Each worker holds about four files (database, WAL, shared memory,
        // the model's socket), each client connection one more.
        OpenFileLimit.raise(toward: turns * 4 + 4096)
        let server: Server
        do {
            server = try Server(host: host, port: port, database: db, turns: turns, turnsPerMinute: Double(turnsPerMinute))
        } catch {
            fatal(stage: Server.stage, error.message, status: error.status)
        }
        do {
            try await server.run()
        } catch {
            fatal(stage: Server.stage, "cannot serve on \(host):\(port): \(error)", status: .unavailable)
        }
    }
}
