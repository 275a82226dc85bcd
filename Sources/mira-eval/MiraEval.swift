import ArgumentParser
import MiraEval
import MiraCLI
import MiraShared
import MiraSystem

/// Scores result records (mira-llm's output) and reports how the model did.
@main
struct MiraEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mira-eval",
        abstract: "Score result records and report pass rate, personas, moods, latency and cost.",
        discussion: """
            Reads mira-llm's output (JSON Lines) from the files given, else stdin:
              mira-prompt --replay < t.jsonl | mira-llm | mira-eval --min-pass-rate 0.9

            A record passes when it has no error and every check that applies passes:
              no_reply, invalid_reply, empty_output, unknown_persona (not in the request's
              enum), invalid_remember (a malformed remember list), persona_mismatch and mood_mismatch (against expect), bad_expect,
              character_break (assistant-speak in the output), overlong_output,
              invalid_usage (usage tokens or latency_ms that are not whole numbers >= 0).

            When a turn id appears more than once (a run resumed with >> into the same
            file), only its last record counts; the report says how many were left out.
            --annotate marks every record as it stands.
            A line that is not a record counts as a failed record (its error code:
            bad_json, bad_record, line_too_long...) and gets one line on stderr.

            Exit status: 0 done (and the gate met); 1 the pass rate is below
            --min-pass-rate (or there were no records); 65 some lines were not
            records, or no record is a result (none has a reply or an error: not
            mira-llm's output), when the gate, if any, was met; 64 usage; 66 a file cannot be
            read; 74 stdout cannot be written or an input failed part-way. Records carrying an error from an
            earlier stage only lower the pass rate.
            """,
        version: MiraVersion.line("mira-eval"))

    @Argument(help: "Result files to read ('-' is stdin; default: stdin).") var files: [String] = []
    @Flag(help: "Write every record back with an eval member {pass, failed, error?} instead of a report.") var annotate = false
    @Flag(help: "Write the report as one JSON object.") var json = false
    @Flag(help: "Write the report as Markdown tables.") var markdown = false
    @Option(help: "Exit 1 when the pass rate is below this: a fraction (0.9) or a percentage (90%).")
    var minPassRate: PassRate?
    @Option(help: "A reply output longer than this many characters fails overlong_output.") var maxOutputChars = 1200
    @Option(help: "Replace the assistant-speak phrases with this file's (one a line, # comments).") var breakPhrases: String?
    @Option(help: "USD per million input tokens, for the cost line.") var priceIn: Double?
    @Option(help: "USD per million output tokens, for the cost line.") var priceOut: Double?
    @Option(help: "How many moods the report lists.") var topMoods = 10

    func validate() throws {
        if json && markdown { throw ValidationError("choose one of --json and --markdown") }
        if annotate && (json || markdown) { throw ValidationError("--annotate writes records, not a report: drop --json/--markdown") }
        if maxOutputChars < 1 { throw ValidationError("--max-output-chars must be 1 or more") }
        if topMoods < 1 { throw ValidationError("--top-moods must be 1 or more") }
        for price in [priceIn, priceOut].compactMap({ $0 }) where !(price >= 0 && price <= Self.maxPrice) {
            throw ValidationError("prices must be between 0 and \(Int(Self.maxPrice)) USD per million tokens")
        }
    }

    static func main() {
        Startup.prepare(stage: "mira-eval")
        main(nil)
    }

    func run() throws {
        let settings = EvalSettings(breakPhrases: try breakPhrases.map(readPhrases) ?? EvalSettings.defaultBreakPhrases,
                                    maxOutputCharacters: maxOutputChars)
        let inputs = files.isEmpty ? ["-"] : files
        // Every file opens before any is scored, so a typo never yields half a report.
        let descriptors = inputs.map { path -> Int32 in
            if path == "-" { return 0 }
            switch Files.openForReading(path) {
            case .success(let fd): return fd
            case .failure(let problem): fatal(stage: Self.stage, "cannot read results file \(path): \(problem)", status: .noInput)
            }
        }
        var evaluator = Evaluator(settings: settings, annotate: annotate, diagnostics: .standardError)
        for (path, fd) in zip(inputs, descriptors) {
            var reader = LineReader(fd: fd)
            evaluator.read(&reader, source: inputs.count > 1 ? path : nil)
        }
        let options = ReportOptions(topMoods: topMoods, prices: prices, minPassRate: minPassRate?.value)
        let results = evaluator.results
        if results.superseded > 0 {
            report(stage: Self.stage, line: nil,
                   "\(results.superseded) earlier record\(results.superseded == 1 ? "" : "s") of re-run turns left out: each turn counts by its last record")
        }
        if evaluator.readNoResults {
            let none = evaluator.recordsRead == 1
                ? "the record has neither a reply nor an error"
                : "none of the \(evaluator.recordsRead) records has a reply or an error"
            report(stage: Self.stage, line: nil, none + ", so these are not mira-llm results: "
                + "score mira-llm's output, e.g. mira-store export SESSION | mira-prompt --replay | mira-llm | mira-eval")
        }
        if evaluator.outputBroken || !annotate && !LineWriter.standardOutput.write(Array(rendered(results, options).utf8)) {
            fatal(stage: Self.stage, "cannot write to standard output", status: .ioError)
        }
        if let gate = minPassRate, !results.meetsGate(gate.value) {
            let rate = results.passRate.map(DecimalText.percent) ?? "nothing (no records)"
            report(stage: Self.stage, line: nil, "pass rate \(rate) is below the minimum \(DecimalText.percent(gate.value))")
            throw ExitCode(1)
        }
        if evaluator.readFailures > 0 { throw ExitCode(Sysexit.ioError.rawValue) }
        if evaluator.unreadableLines > 0 || evaluator.readNoResults { throw ExitCode(Sysexit.badInput.rawValue) }
    }

    static let stage = Evaluator.stage
    /// USD per million tokens: far above any real price, low enough that a
    /// cost stays a finite number whatever the token counts.
    static let maxPrice = 1_000_000.0

    func rendered(_ report: EvalReport, _ options: ReportOptions) -> String {
        if json { return JSONWriter.string(report.json(options)) + "\n" }
        return markdown ? report.markdown(options) : report.text(options)
    }

    var prices: Prices? {
        priceIn == nil && priceOut == nil ? nil : Prices(input: priceIn ?? 0, output: priceOut ?? 0)
    }

    func readPhrases(_ path: String) throws -> [String] {
        guard let bytes = Files.read(path: path, limit: 16 << 20) else {
            fatal(stage: Self.stage, "cannot read break phrases file \(path)", status: .noInput)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            fatal(stage: Self.stage, "break phrases file \(path) is not UTF-8 text", status: .badInput)
        }
        return EvalSettings.phrases(fromFile: text)
    }
}

/// A pass rate from the command line: 0.9 or 90%.
struct PassRate: ExpressibleByArgument {
    var value: Double

    init?(argument: String) {
        let percent = argument.hasSuffix("%")
        guard let number = Double(percent ? String(argument.dropLast()) : argument) else { return nil }
        let value = percent ? number / 100 : number
        guard (0...1).contains(value) else { return nil }
        self.value = value
    }
}
