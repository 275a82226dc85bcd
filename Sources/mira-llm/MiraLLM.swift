import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import MiraHTTP
import MiraShared

/// Sends each record's request to an OpenAI-compatible server and adds the
/// validated reply.
@main
struct MiraLLM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mira-llm",
        abstract: "Call the model for each record and add reply, usage, model and latency_ms.",
        discussion: """
            Server: --base-url, else $OPENAI_BASE_URL, else https://api.openai.com/v1.
            Key: $OPENAI_API_KEY (never printed). Records that already carry an error pass through.
            """)

    @Option(help: "The server's base URL, up to /v1.") var baseURL: String?
    @Option(help: "Send this model instead of the one in the request.") var model: String?
    @Option(help: "Retries after the first attempt on 408, 409, 429, 5xx and connection errors.") var retries = 3
    @Option(help: "Seconds to wait for a whole answer.") var timeout: Double = 120
    @Flag(help: "Stream the reply: its text appears on stderr as it is written.") var stream = false
    @Flag(help: "Describe each request and answer on stderr (never the key).") var verbose = false
    @Flag(help: "Do not verify TLS certificates (prints a warning).") var insecure = false
    @Option(help: "Skip every turn that already has a good record in this earlier output (write the rest).")
    var resume: String?

    static let stage = "mira-llm"

    func validate() throws {
        guard retries >= 0 else { throw ValidationError("--retries must be 0 or more") }
        guard timeout > 0 else { throw ValidationError("--timeout must be more than 0") }
    }

    func run() throws {
        let environment = Environment.process
        let endpoint = Endpoint(
            baseURL: baseURL ?? environment["OPENAI_BASE_URL"] ?? Endpoint.defaultBaseURL,
            apiKey: environment["OPENAI_API_KEY"], timeoutSeconds: timeout, insecure: insecure)
        if insecure { report(stage: Self.stage, line: nil, "warning: TLS certificates are not verified (--insecure)") }
        let transport = CurlTransport(endpoint: endpoint)
        var client = ChatClient(policy: RetryPolicy(maxRetries: retries), stream: stream)
        client.onText = { LineWriter.standardError.write($0) }

        let finished = resume.map(Self.finishedTurns) ?? FinishedTurns()
        var stage = Stage(name: Self.stage)
        var reader = LineReader()
        stage.run(reader: &reader, render: { finished.contains($0) ? nil : $0.line }) { record, line throws(StageError) in
            if finished.contains(record) { return }
            if verbose { client.log = { report(stage: Self.stage, line: line, $0) } }
            guard var request = record.request else {
                throw StageError(.noRequest, "record has no request (run it through mira-prompt first)")
            }
            if let model { request["model"] = .string(model) }
            let started = Clock.monotonicMilliseconds()
            let (completion, sent) = try client.complete(request, transport: transport)
            record.request = sent
            record.setReply(completion.reply)
            record.fields["usage"] = completion.usage
            record.fields["model"] = completion.model.map { .string($0) } ?? sent["model"]
            record.fields["latency_ms"] = .int(Int(Clock.monotonicMilliseconds() - started))
        }
        if stage.status != .ok { throw ExitCode(stage.status.rawValue) }
    }

    static func finishedTurns(in path: String) -> FinishedTurns {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { fatal(stage: stage, "cannot read --resume file \(path)", status: .noInput) }
        defer { close(fd) }
        let finished = FinishedTurns(readingFrom: fd)
        report(stage: stage, line: nil, "resuming: \(finished.count) turns in \(path) are done and will be skipped")
        return finished
    }
}
