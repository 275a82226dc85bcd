import ArgumentParser
import MiraShared

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
            """)

    @Argument(help: "The user's message for this turn.") var message: String?
    @Option(help: "Read the message from a file ('-': stdin, when no records are piped).") var messageFile: String?
    @Option(help: "Force this overlay for the turn (see --list-personas).") var persona: String?
    @Option(help: "The model to ask (default: $MIRA_MODEL, else gpt-4.1).") var model: String?
    @Option(help: "Sampling temperature.") var temperature: Double?
    @Option(help: "Most tokens the reply may use.") var maxTokens: Int?
    @Option(help: "How to enforce the reply shape: tools (a forced function call) or json-schema.")
    var structured: StructuredMode = .tools
    @Flag(help: "List the overlays (built-in and from the personas folder) and exit.") var listPersonas = false

    static let stage = "mira-prompt"

    func run() throws {
        let registry = loadPersonas()
        if listPersonas {
            for p in registry.personas { LineWriter.standardOutput.writeLine("\(p.name)\t\(p.source)\t\(p.summary)") }
            return
        }
        var preparer = TurnPreparer(
            registry: registry,
            settings: PromptSettings(
                model: model ?? PromptSettings.model(from: .process), temperature: temperature,
                maxTokens: maxTokens, structured: structured))
        if let persona { preparer.forcedPersona = try checked(persona, in: registry) }

        let fixedMessage = try message ?? messageFile.map(readMessageFile)
        var stage = Stage(name: Self.stage)
        // Records come from stdin unless it is a terminal (or the message file).
        // Piped input that holds no records at all (`< /dev/null`, cron)
        // still makes one fresh turn when a message was given.
        var sawRecords = false
        if !Files.isTerminal(0) && messageFile != "-" {
            var reader = LineReader()
            stage.run(reader: &reader) { record, _ throws(StageError) in
                let typed = fixedMessage == nil && record.input == nil ? Terminal.readLine(prompt: "you> ") : nil
                try preparer.prepare(&record, message: fixedMessage ?? typed)
            }
            sawRecords = reader.lineNumber > 0
        }
        if !sawRecords {
            guard let text = fixedMessage ?? (Files.isTerminal(0) ? Terminal.readLine(prompt: "you> ") : nil) else {
                throw ValidationError("no message: give it as an argument, with --message-file, or type it at a terminal")
            }
            var record = Record()
            do {
                try preparer.prepare(&record, message: text)
            } catch {
                fatal(stage: Self.stage, error.message, status: error.code == .noInput ? .usage : error.code.exitStatus)
            }
            LineWriter.standardOutput.writeLine(record.line)
        }
        if stage.status != .ok { throw ExitCode(stage.status.rawValue) }
    }

    func loadPersonas() -> PersonaRegistry {
        var registry = PersonaRegistry()
        if let dir = PersonaRegistry.userDirectory() {
            for file in registry.load(directory: dir).skipped {
                report(stage: Self.stage, line: nil, "skipped persona file \(dir)/\(file): not a valid persona name or not UTF-8 text")
            }
        }
        return registry
    }

    func checked(_ name: String, in registry: PersonaRegistry) throws -> String {
        do {
            try Identifiers.validatePersonaName(name)
        } catch {
            throw ValidationError(error.message)
        }
        guard registry[name] != nil else {
            throw ValidationError("unknown persona \(Identifiers.quoted(name)) (known: \(registry.names.joined(separator: ", ")))")
        }
        return name
    }

    func readMessageFile(_ path: String) throws -> String {
        let bytes = path == "-" ? Files.read(fd: 0, limit: 16 << 20) : Files.read(path: path, limit: 16 << 20)
        guard let bytes else { fatal(stage: Self.stage, "cannot read message file \(path)", status: .noInput) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            fatal(stage: Self.stage, "message file \(path) is not UTF-8 text", status: .badInput)
        }
        // A file's final newline is not part of the message.
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }
}

extension StructuredMode: ExpressibleByArgument {}
