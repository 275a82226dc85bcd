import ArgumentParser
import MiraPrompt
import MiraCLI
import MiraShared
import MiraSystem

/// Builds each turn's chat-completions request: persona block, where the
/// last turn left off, the output contract, the history, the new message.
@main
struct MiraPrompt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mira-prompt",
        abstract: "Add the user's message and the chat request to each record.",
        discussion: """
            Reads records from stdin (when stdin is a terminal: starts a fresh record).
            The message comes from the argument, else --message-file, else the record's
            own input, else one line typed at the terminal.

            --replay reads transcripts instead of records and writes one turn record per
            user message, with the history before it and the id "<transcript id>:<k>":
              mira-prompt --replay < transcripts.jsonl | mira-llm -j 32 > results.jsonl

            A transcript is {"id", "messages": [...], "expect"?, ...} on one line, or the
            lines of mira-store export (one session is one transcript).
            """,
        version: MiraVersion.line("mira-prompt"))

    @Argument(help: "The user's message for this turn.") var message: String?
    @Option(help: "Read the message from a file ('-': stdin, when no records are piped).") var messageFile: String?
    @Option(help: "Force this persona for the turn (see --list-personas).", completion: .custom(Completions.personas))
    var persona: String?
    @Option(help: "The model to ask (default: $MIRA_MODEL, else gpt-4.1).") var model: String?
    @Option(help: "Sampling temperature.") var temperature: Double?
    @Option(help: "Most tokens the reply may use (default: $MIRA_MAX_TOKENS).") var maxTokens: Int?
    @Option(help: "Cap the reply's output at this many characters in the schema, for servers that decode under a grammar such as llama.cpp (default: $MIRA_MAX_REPLY_CHARS).")
    var maxReplyChars: Int?
    @Option(help: "How to enforce the reply shape: tools (a forced function call) or json-schema (default: $MIRA_STRUCTURED, else tools).")
    var structured: StructuredMode?
    @Flag(help: "List the personas (built-in and from the personas folder) and exit.") var listPersonas = false
    @Flag(help: "Read transcripts from stdin and write a turn record for each of their user messages.") var replay = false
    @Option(help: "With --replay: how many earlier messages each turn carries, a number or 'all' (default: 15, as mira-store load).")
    var last: HistoryWindow?

    static let stage = "mira-prompt"

    /// A message is never an option: "-5 degrees" or "-the boss yelled" is
    /// what the user said, so arguments are sorted before parsing. Not the
    /// shells' requests: `--generate-completion-script fish` keeps its value
    /// (sorted, "fish" became a message and the script came out for bash).
    static func main() {
        Startup.prepare(stage: "mira-prompt")
        let given = Array(CommandLine.arguments.dropFirst())
        if given.contains("--generate-completion-script") || given.first?.hasPrefix("---completion") == true {
            return main(given)
        }
        main(MessageArguments.rearranged(given, valueOptions: valueOptions, flags: flags))
    }

    /// The options that take a value, and the flags: what MessageArguments
    /// must not mistake for a message (a test keeps this list in step with --help).
    static let valueOptions: Set<String> = [
        "--message-file", "--persona", "--model", "--temperature", "--max-tokens", "--max-reply-chars", "--structured", "--last",
    ]
    static let flags: Set<String> = ["--list-personas", "--replay", "-h", "--help", "--version"]

    func validate() throws {
        if let maxTokens, maxTokens < 1 { throw ValidationError("--max-tokens must be 1 or more") }
        if let maxReplyChars, maxReplyChars < 1 { throw ValidationError("--max-reply-chars must be 1 or more") }
        if let temperature, !(temperature.isFinite && (0...2).contains(temperature)) {
            throw ValidationError("--temperature must be between 0 and 2, not \(temperature)")
        }
        if last != nil && !replay { throw ValidationError("--last applies to --replay (mira-store load has its own --last)") }
        if replay && (message != nil || messageFile != nil) {
            throw ValidationError("--replay takes its messages from the transcripts on stdin, not from an argument or --message-file")
        }
    }

    func run() throws {
        let registry = loadPersonas()
        if listPersonas {
            for p in registry.personas where !LineWriter.standardOutput.writeLine("\(p.name)\t\(p.source)\t\(p.summary)") {
                fatal(stage: Self.stage, "cannot write to standard output", status: .ioError)
            }
            return
        }
        let environment = Environment.process
        var preparer = TurnPreparer(
            registry: registry,
            settings: PromptSettings(
                model: model ?? PromptSettings.model(from: environment), temperature: temperature,
                maxTokens: try maxTokens ?? Self.positive(environment, "MIRA_MAX_TOKENS"),
                structured: try structured ?? Self.structuredMode(environment),
                maxReplyCharacters: try maxReplyChars ?? Self.positive(environment, "MIRA_MAX_REPLY_CHARS")))
        if let persona { preparer.forcedPersona = try checked(persona, in: registry) }

        if replay { return try replayTranscripts(preparer) }

        let fixedMessage = try message ?? messageFile.map(readMessageFile)
        var stage = Stage(name: Self.stage, diagnostics: .standardError)
        // Records come from stdin unless it is a terminal (or the message file).
        // Piped input that holds no records at all (`< /dev/null`, cron)
        // still makes one fresh turn when a message was given.
        var sawRecords = false
        if !Files.isTerminal(0) && messageFile != "-" {
            var reader = LineReader()
            stage.run(reader: &reader) { record, _ throws(StageError) in
                let typed = fixedMessage == nil && record.input == nil ? try Terminal.readLine(prompt: "you> ") : nil
                try preparer.prepare(&record, message: fixedMessage ?? typed)
            }
            sawRecords = reader.lineNumber > 0
        }
        if !sawRecords {
            let typed: String?
            do {
                typed = fixedMessage == nil && Files.isTerminal(0) ? try Terminal.readLine(prompt: "you> ") : nil
            } catch {
                fatal(stage: Self.stage, error.message, status: .badInput)
            }
            guard let text = fixedMessage ?? typed else {
                throw ValidationError("no message: give it as an argument, with --message-file, or type it at a terminal")
            }
            var record = Record()
            do {
                try preparer.prepare(&record, message: text)
            } catch {
                fatal(stage: Self.stage, error.message, status: error.code == .noInput ? .usage : error.code.exitStatus)
            }
            if !LineWriter.standardOutput.writeLine(record.line) {
                fatal(stage: Self.stage, "cannot write to standard output", status: .ioError)
            }
        }
        if stage.status != .ok { throw ExitCode(stage.status.rawValue) }
    }

    /// Every user message of every transcript on stdin becomes a turn.
    func replayTranscripts(_ preparer: TurnPreparer) throws {
        var replay = TranscriptReplay(preparer: preparer, stageName: Self.stage, diagnostics: .standardError)
        if let last { replay.historyWindow = last.count }
        var reader = LineReader()
        replay.run(reader: &reader)
        if replay.status != .ok { throw ExitCode(replay.status.rawValue) }
    }

    static func positive(_ environment: Environment, _ name: String) throws -> Int? {
        do { return try PromptSettings.positive(environment, name) } catch { throw ValidationError(error.message) }
    }

    static func structuredMode(_ environment: Environment) throws -> StructuredMode {
        do { return try PromptSettings.structuredMode(environment) } catch { throw ValidationError(error.message) }
    }

    func loadPersonas() -> PersonaRegistry {
        PersonaRegistry.withUserFolder { report(stage: Self.stage, line: nil, "skipped persona file \($0): \($1)") }
    }

    func checked(_ name: String, in registry: PersonaRegistry) throws -> String {
        if let problem = registry.problem(with: name) { throw ValidationError(problem) }
        return name
    }

    func readMessageFile(_ path: String) throws -> String {
        let bytes = path == "-" ? Files.read(fd: 0, limit: 16 << 20) : Files.read(path: path, limit: 16 << 20)
        guard let bytes else { fatal(stage: Self.stage, "cannot read message file \(path)", status: .noInput) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            fatal(stage: Self.stage, "message file \(path) is not UTF-8 text", status: .badInput)
        }
        // A file's final line break (LF or CRLF) is not part of the message.
        // By bytes: in Swift "\r\n" is one Character, so hasSuffix("\n") misses it.
        var end = bytes.count
        if end > 0 && bytes[end - 1] == 0x0A { end -= 1 }
        if end > 0 && end < bytes.count && bytes[end - 1] == 0x0D { end -= 1 }
        return end == bytes.count ? text : String(decoding: bytes[..<end], as: UTF8.self)
    }
}

extension StructuredMode: ExpressibleByArgument {}

/// `--last`: a number of messages, or `all`.
struct HistoryWindow: ExpressibleByArgument {
    /// nil: every earlier message.
    var count: Int?

    init?(argument: String) {
        if argument == "all" { count = nil; return }
        guard let n = Int(argument), n >= 0 else { return nil }
        count = n
    }
}
