import ArgumentParser
import MiraBatch
import MiraCurl
import MiraLLM
import MiraCLI
import MiraShared
import MiraSystem
import MiraSQLite

/// Sends each record's request to an OpenAI-compatible server and adds the
/// validated reply: one turn, or a batch of thousands with -j.
@main
struct MiraLLM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mira-llm",
        abstract: "Call the model for each record and add reply, usage, model and latency_ms.",
        discussion: """
            Server: --base-url, else $OPENAI_BASE_URL, else https://api.openai.com/v1. Key: $OPENAI_API_KEY (never printed; needed for api.openai.com, where no key is exit 64). Certificates: the system's, or --ca-file / $SSL_CERT_FILE.

            Output is in input order unless --unordered. Records that already carry an error pass through; a record that fails gets an error field and the run goes on.

            Stderr: a single turn (one record, not from a file) gets no progress and no summary; when stderr is a terminal and the answer takes over a second, one line counts the seconds and says each retry, and is erased before the reply. A batch (more than one record, or a file on stdin) gets a progress line on a terminal and a summary line at the end. --quiet drops these; failures are always shown.

            Exit status: 0 when every record went through, else the number that failed (63 means 63 or more); 64 usage; 66 a --resume or --from-batch file cannot be read; 74 output closed or the cache cannot be opened; 78 the config file cannot be read or holds a wrong line; 130/143 stopped by Ctrl-C/SIGTERM (a single turn says it was not answered; a batch writes its complete records whole: run again with --resume to finish).

            --cache keeps validated answers in $MIRA_REPLY_CACHE, else $XDG_DATA_HOME/mira/cache.db.
            """,
        version: MiraVersion.line("mira-llm"))

    @Option(help: "The server's base URL, up to /v1.") var baseURL: String?
    @Option(help: "Send this model instead of the one in the request.") var model: String?
    @Option(help: ArgumentHelp("The name the server reads for the token limit: max_tokens or max_completion_tokens (default: max_completion_tokens at api.openai.com, max_tokens elsewhere; also $MIRA_TOKEN_LIMIT_FIELD).", valueName: "name"))
    var tokenLimitField: String?
    @Option(name: [.short, .customLong("jobs")], help: "Requests in flight at once (1: strictly one after another; default 4, or 1 with --stream).")
    var jobs: Int?
    @Flag(help: "Write each record as soon as it completes instead of in input order.") var unordered = false
    @Option(help: "At most this many requests a minute.") var rpm: Int?
    @Option(help: "At most about this many tokens a minute (request size / 4 + max tokens).") var tpm: Int?
    @Flag(help: "Stop at the first failed record (completed records are still written).") var failFast = false
    @Option(help: "Retries after the first attempt on 408, 409, 429, 5xx and connection errors.") var retries = 3
    @Option(help: "Seconds to wait for a whole answer (0.001 to 86400; read to the millisecond).") var timeout: Double = 120
    @Option(help: "Skip every turn that already has a good record in this earlier output (write the rest).")
    var resume: String?
    @Flag(help: "Answer identical requests from the local reply cache; keep new valid answers there (errors never).")
    var cache = false
    @Option(help: "The reply cache's file (implies --cache).") var cacheFile: String?
    @Flag(help: "Write an OpenAI Batch API input file (custom_id = turn id) instead of calling the server.")
    var emitBatch = false
    @Option(help: "Take the replies from this Batch API output file (matched by custom_id) instead of calling the server.")
    var fromBatch: String?
    @Flag(help: "Stream the reply: its text appears on stderr as it is written (one request at a time); on a terminal the record says \"streamed\": true, so mira-store save does not show it again.")
    var stream = false
    @Flag(help: "Describe each request and answer on stderr (never the key).") var verbose = false
    @Flag(help: "Do not verify TLS certificates (prints a warning).") var insecure = false
    @Option(help: ArgumentHelp("Trust the certificates in this PEM file instead of the system's (a private CA; also $SSL_CERT_FILE).", valueName: "path"))
    var caFile: String?
    @Flag(help: "No progress or waiting line and no summary on stderr.") var quiet = false

    static let stage = "mira-llm"

    func validate() throws {
        guard retries >= 0 else { throw ValidationError("--retries must be 0 or more") }
        guard Self.timeoutMilliseconds(timeout) != nil else {
            throw ValidationError("--timeout must be between 0.001 and 86400 seconds, not \(timeout)")
        }
        if let jobs, !(1...1024).contains(jobs) { throw ValidationError("-j must be between 1 and 1024") }
        if let rpm, rpm < 1 { throw ValidationError("--rpm must be 1 or more") }
        if let tpm, tpm < 1 { throw ValidationError("--tpm must be 1 or more") }
        if stream, let jobs, jobs > 1 { throw ValidationError("--stream shows one reply at a time: use it with -j 1") }
        if emitBatch && fromBatch != nil { throw ValidationError("--emit-batch and --from-batch cannot be used together") }
        if stream && (emitBatch || fromBatch != nil) { throw ValidationError("--stream needs the server: not with --emit-batch or --from-batch") }
        if let name = tokenLimitField ?? Environment.process["MIRA_TOKEN_LIMIT_FIELD"], TokenLimitField(rawValue: name) == nil {
            throw ValidationError("the token limit field must be max_tokens or max_completion_tokens, not \(Identifiers.quoted(name))")
        }
    }

    static func main() {
        Startup.prepare(stage: "mira-llm")
        main(nil)
    }

    func run() throws {
        let started = SystemTime.monotonicMilliseconds()
        let console = Console(quiet: quiet)
        Interruptions.block()

        let settings = BatchRunner.Settings(jobs: emitBatch ? 1 : (jobs ?? (stream ? 1 : 4)), ordered: !unordered, failFast: failFast)
        let runner = BatchRunner(settings: settings, reportWriter: { console.say($0) })
        let gate = ThrottleGate(Throttle(ceiling: settings.jobs, requestsPerMinute: rpm, tokensPerMinute: tpm))
        let caller = makeCaller(console: console, gate: gate)
        let total = console.showsLive && console.stdinIsFile ? Files.linesAhead(fd: 0) : nil

        Interruptions.watch(every: console.showsLive ? 250 : nil) { signal in
            if let signal {
                guard let tally = runner.interrupt() else { return }
                if console.isBatch(read: tally.read) {
                    console.finish(BatchReport.summary(tally, elapsedMilliseconds: SystemTime.monotonicMilliseconds() - started, backoffs: gate.state.backoffs)
                        + "; stopped by signal \(signal): run again with --resume to finish")
                } else {
                    console.say(BatchReport.turnStopped(signal: signal, unanswered: tally.done < tally.read))
                }
                exitAtOnce(128 + signal)
            }
            let tally = runner.snapshot
            guard console.isBatch(read: tally.read) else { return console.tick() }
            console.progress(BatchReport.progress(tally, total: total, elapsedMilliseconds: SystemTime.monotonicMilliseconds() - started))
        }

        var reader = LineReader()
        let tally = runner.run(reader: &reader) { _ in
            var worker = caller
            return { item in
                console.beginTurn(sequence: item.sequence)
                defer { console.endTurn() }
                return worker.handle(item)
            }
        }
        // A signal stopped the run: its thread writes the summary and exits.
        while tally.interrupted { Interruptions.park() }
        if console.isBatch(read: tally.read) {
            console.finish(BatchReport.summary(tally, elapsedMilliseconds: SystemTime.monotonicMilliseconds() - started, backoffs: gate.state.backoffs))
        }
        if emitBatch && tally.answered > 50_000 {
            report(stage: Self.stage, line: nil, "warning: \(tally.answered) requests; the Batch API takes at most 50,000 per file (split it)")
        }
        if tally.outputBroken { report(stage: Self.stage, line: nil, "cannot write to standard output") }
        let status = BatchReport.exitStatus(tally)
        if status != 0 { throw ExitCode(status) }
    }

    /// The worker every thread copies: where answers come from and what to skip.
    func makeCaller(console: Console, gate: ThrottleGate) -> TurnCaller {
        let environment = Environment.process
        let settings: ServerSettings
        do {
            settings = try ServerSettings(
                environment: environment, baseURL: baseURL, caFile: trustedCertificates(environment),
                timeoutMilliseconds: Self.timeoutMilliseconds(timeout) ?? 120_000, insecure: insecure)
        } catch {
            fatal(stage: Self.stage, error.message, status: .usage)
        }
        let endpoint = settings.endpoint
        if insecure { console.say("warning: TLS certificates are not verified (--insecure)") }

        let source: AnswerSource
        if emitBatch {
            source = .emitBatch
        } else if let fromBatch {
            let file: BatchOutputFile
            do {
                file = try BatchOutputFile(path: fromBatch)
            } catch {
                fatal(stage: Self.stage, "cannot read --from-batch file \(fromBatch): \(error)", status: .noInput)
            }
            console.say("merging \(file.count) answers from \(fromBatch)"
                + (file.unreadable > 0 ? " (\(file.unreadable) lines skipped: not answers)" : "")
                + (file.duplicates > 0 ? " (\(file.duplicates) repeated custom_ids ignored)" : ""))
            source = .batchOutput(file)
        } else {
            do { try settings.refuseKeylessOpenAI() } catch { fatal(stage: Self.stage, error.message, status: .usage) }
            var client = ChatClient(policy: RetryPolicy(maxRetries: retries), stream: stream)
            client.onText = { console.stream($0) }
            client.onRetry = { [timeout = endpoint.timeoutMilliseconds] in console.retried($0.words(timeoutMilliseconds: timeout)) }
            client.gate = gate
            source = .server(client, makeTransport: { CurlTransport(endpoint: endpoint) })
            CurlTransport.prepare()
        }
        var caller = TurnCaller(
            stage: Self.stage, source: source, model: model,
            finished: resume.map { Self.finishedTurns(in: $0, console: console) } ?? FinishedTurns(),
            cache: openCache(console: console), cacheScope: endpoint.completionsURL,
            report: { console.say("line \($0): \($1)") })
        caller.verbose = verbose
        caller.marksStreamed = stream && LineWriter.standardError.isTerminal
        caller.tokenLimitField = tokenLimitField.flatMap(TokenLimitField.init(rawValue:)) ?? settings.tokenLimitField
        return caller
    }

    /// `--timeout` in whole milliseconds, rounded up so a tiny value never
    /// becomes 0 (libcurl's "wait forever"); nil when out of range.
    static func timeoutMilliseconds(_ seconds: Double) -> Int? {
        guard seconds.isFinite, seconds >= 0.001, seconds <= 86_400 else { return nil }
        return Int((seconds * 1000).rounded(.up))
    }

    /// `--ca-file`, else `$SSL_CERT_FILE`: checked now, so a wrong path is
    /// one clear error instead of a TLS failure on every record.
    func trustedCertificates(_ environment: Environment) -> String? {
        guard let path = caFile ?? environment["SSL_CERT_FILE"].flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        switch Files.openForReading(path) {
        case .success(let fd): Files.close(fd)
        case .failure(let problem): fatal(stage: Self.stage, "cannot read the certificates file \(path): \(problem)", status: .noInput)
        }
        return path
    }

    func openCache(console: Console) -> ReplyCacheStore? {
        guard (cache || cacheFile != nil) && !emitBatch else { return nil }
        guard let path = cacheFile ?? ReplyCacheStore.location() else {
            fatal(stage: Self.stage, "no cache path: set --cache-file, MIRA_REPLY_CACHE or HOME", status: .usage)
        }
        do {
            return try ReplyCacheStore(path: path) { console.say("warning: cannot write to the cache (\($0)); going on without storing answers") }
        } catch {
            fatal(stage: Self.stage, error.message, status: .ioError)
        }
    }

    static func finishedTurns(in path: String, console: Console) -> FinishedTurns {
        let fd: Int32
        switch Files.openForReading(path) {
        case .success(let opened): fd = opened
        case .failure(let problem): fatal(stage: stage, "cannot read --resume file \(path): \(problem)", status: .noInput)
        }
        defer { Files.close(fd) }
        let finished = FinishedTurns(readingFrom: fd)
        if let problem = finished.readError {
            fatal(stage: stage, "cannot read --resume file \(path): \(problem)", status: .noInput)
        }
        console.say("resuming: \(finished.count) turns in \(path) are done and will be skipped")
        return finished
    }
}
