import Hummingbird
import Logging
import MiraCompanion
import MiraCurl
import MiraPrompt
import MiraRecall
import MiraShared
import MiraSQLite
import MiraSystem

/// Why the server could not start, with the exit status to end with.
package struct StartFailure: Error {
    package var message: String
    package var status: Sysexit
}

/// `mira-serve`'s whole life: companions made from the same settings as
/// `mira`'s (the config file, MIRA_*, OPENAI_*), then the API on HOST:PORT
/// until SIGTERM or SIGINT.
package struct Server {
    package static let stage = "mira-serve"

    let host: String
    let port: Int
    let api: API

    /// `database`: `--db`, else MIRA_DB, else the data folder's. `turns`:
    /// the most worker threads, each with its own companion, made as turns
    /// come (so that many turns at once). `turnsPerMinute` per browser (0:
    /// no limit), in bursts of up to `burst`.
    package init(
        host: String, port: Int, database: String?, turns: Int, turnsPerMinute: Double = 30, burst: Double = 20,
        environment: MiraSystem.Environment = .process
    ) throws(StartFailure) {
        self.host = host
        self.port = port
        let prompt: PromptSettings
        let server: ServerSettings
        do throws(UsageError) {
            prompt = try PromptSettings(environment: environment)
            server = try ServerSettings(environment: environment)
            try server.refuseKeylessOpenAI()
        } catch {
            throw StartFailure(message: error.message, status: .usage)
        }
        guard let path = StoreLocation.resolve(explicit: database, environment: environment) else {
            throw StartFailure(message: "no database path: set --db, MIRA_DB or HOME", status: .usage)
        }
        let registry = PersonaRegistry.withUserFolder { path, reason in
            Diagnostics.standardError.report(stage: Self.stage, line: nil, "skipped persona file \(path): \(reason)")
        }
        let memory = EmbeddingServer.isConfigured(environment)
        let writes: GroupedWrites
        do throws(StageError) {
            writes = GroupedWrites(store: try SessionStore(path: path, access: .readWrite))
        } catch {
            throw StartFailure(message: error.message, status: error.code.exitStatus)
        }
        // One for each worker with a connection, made on its own thread when it starts (Workers.swift).
        let makeCompanion = { @Sendable () throws(StartFailure) -> Companion in
            let store: SessionStore
            do throws(StageError) {
                store = try SessionStore(path: path, access: .readWrite)
            } catch {
                throw StartFailure(message: error.message, status: error.code.exitStatus)
            }
            // It makes turns ready and reads; the callers ask the model and
            // hand the turns to `writes` (Server.swift).
            let companion = Companion(store: store, preparer: TurnPreparer(registry: registry, settings: prompt), server: server, stream: true)
            if memory {
                do throws(UsageError) {
                    let embedder = try MemoryServices.embedder(environment: environment)
                    let memory = MemoryStore(store)
                    companion.recaller = Recaller(indexer: Indexer(memory: memory, embedder: embedder))
                    companion.summarizer = try MemoryServices.summarizer(memory: memory, environment: environment)
                } catch {
                    throw StartFailure(message: error.message, status: .usage)
                }
                companion.onMemoryProblem = { problem in
                    Diagnostics.standardError.report(stage: Self.stage, line: nil, "memory left out of a turn: \(problem.message)")
                }
            }
            return companion
        }
        let names = Set(registry.names)
        let owner = MiraFolders.state(environment: environment).flatMap { Owner.load(file: $0 + "/serve-owner") }
        let report: @Sendable (String) -> Void = { Diagnostics.standardError.report(stage: Self.stage, line: nil, $0) }
        let makeOrSay = { @Sendable () -> Companion? in
            do throws(StartFailure) {
                return try makeCompanion()
            } catch {
                report("no new worker: \(error.message)")
                return nil
            }
        }
        api = API(
            workers: Workers(first: try makeCompanion(), limit: Self.workers(turns: turns, memory: memory), make: makeOrSay, onProblem: report),
            callers: Workers(first: ModelCaller(server: server, stream: false), limit: turns,
                             make: { ModelCaller(server: server, stream: false) }, onProblem: report),
            background: memory ? Workers(first: try makeCompanion(), limit: Self.summariesAtOnce, make: makeOrSay, onProblem: report) : nil,
            personas: registry.personas.map { PersonaInfo(name: $0.name, summary: $0.summary) },
            personaProblem: { [registry] name in names.contains(name) ? nil : registry.problem(with: name) },
            secret: server.endpoint.apiKey, owner: owner, writes: writes,
            turnLimit: RateLimit(perMinute: turnsPerMinute, burst: min(burst, max(1, turnsPerMinute))))
    }

    /// The most workers with a database connection. Without memory their
    /// jobs are short reads (a turn's, a route's), so 8 keep two cores busy,
    /// and each connection costs its opening (0.25-0.5 ms of CPU) and
    /// memory. With memory, a turn's recall also waits on the embedding
    /// server, so they may be as many as the turns: a slow embedding server
    /// must not leave 8 turns blocking everyone's reads.
    static func workers(turns: Int, memory: Bool) -> Int {
        memory ? turns : min(turns, 8)
    }
    /// The most summaries written at once, in the background.
    static let summariesAtOnce = 2

    /// Serves until a signal; prints `mira-serve: listening on http://HOST:PORT`
    /// on stdout once the port is bound (the port `--port 0` got, for a script).
    package func run() async throws {
        let origins = Origins(host: host)
        var logger = Logger(label: Self.stage)
        logger.logLevel = .warning
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let app = Application(
            router: api.router(origins: origins),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { [port] channel in
                let bound = channel.localAddress?.port ?? port
                origins.listening(port: bound)
                _ = LineWriter.standardOutput.writeLine("\(Self.stage): listening on http://\(shownHost):\(bound)")
                // Always a second line, so a script reading it never waits.
                if let owner = api.owner {
                    _ = LineWriter.standardOutput.writeLine(
                        "\(Self.stage): your own conversations (mira's) in a browser: http://\(shownHost):\(bound)/own?key=\(owner.key)")
                } else {
                    _ = LineWriter.standardOutput.writeLine(
                        "\(Self.stage): no owner link: the state folder (XDG_STATE_HOME or HOME) cannot keep the owner's identity")
                }
            },
            logger: logger)
        try await app.runService()
    }
}
