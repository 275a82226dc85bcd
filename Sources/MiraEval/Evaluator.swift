import MiraShared
import MiraSystem

/// mira-eval's loop: scores every record of one or more inputs, adding each
/// score to the report and, when annotating, writing the record back out
/// with its `eval` member.
package struct Evaluator {
    package static let stage = "mira-eval"

    package var settings: EvalSettings
    package var annotate: Bool
    let diagnostics: Diagnostics
    /// Scores of records without a turn id, and of lines that were not records.
    var scored = EvalReport()
    /// The latest score of each turn id: after `mira-llm --resume ... >> out`
    /// a turn's failed record and its later answer are both in the file, and
    /// only the last one says how the turn went.
    var latest: [String: Score] = [:]
    /// Earlier records of a turn that a later record of the same turn replaced.
    package private(set) var superseded = 0
    /// Inputs whose reading failed part-way (an I/O error, a folder as stdin).
    package private(set) var readFailures = 0
    /// Lines that were not records (not JSON, not an object, a bad field, too long).
    package private(set) var unreadableLines = 0
    package private(set) var outputBroken = false
    /// Lines that were records, and those of them that are results: with a
    /// `reply` or an `error`. Records that are none (`mira-store export`
    /// lines, turns never sent to mira-llm) all fail no_reply, and when no
    /// record is a result the input was not mira-llm's output at all.
    package private(set) var recordsRead = 0
    package private(set) var resultsRead = 0

    package init(settings: EvalSettings, annotate: Bool, diagnostics: Diagnostics) {
        self.settings = settings
        self.annotate = annotate
        self.diagnostics = diagnostics
    }

    /// Scores every line of `reader`; `source` names a file in stderr lines.
    package mutating func read(_ reader: inout LineReader, source: String? = nil, writer: LineWriter = .standardOutput) {
        var lines = RecordLines(reader)
        defer { reader = lines.reader }
        while !outputBroken, let (line, input) = lines.next() {
            var record: Record
            switch input {
            case .unreadable(let error):
                unreadable(error, line: line, source: source, writer: writer)
                continue
            // A failed record is scored like any other: its failure is the score.
            case .record(let read), .failed(let read, _):
                record = read
            }
            recordsRead += 1
            let isResult = record.fields["reply"] != nil || record.fields["error"] != nil
            if isResult { resultsRead += 1 }
            let score = Score(record: record, settings: settings)
            // Only results replace earlier results of their turn: lines that
            // are not (an export's two messages share a turn id) each count.
            add(score, turn: isResult ? record.turn : nil)
            if annotate {
                record.fields["eval"] = score.json
                write(record, writer)
            }
        }
        if let problem = lines.readError {
            readFailures += 1
            diagnostics.report(stage: Self.stage, line: nil, "cannot read \(source ?? "standard input"): \(problem)")
        }
    }

    /// Records were read and not one is a result: the input is not what
    /// mira-eval scores.
    package var readNoResults: Bool { recordsRead > 0 && resultsRead == 0 }

    /// The report: every score that counts, the last one of each turn.
    package var results: EvalReport {
        var report = scored
        for score in latest.values { report.add(score) }
        report.superseded = superseded
        return report
    }

    mutating func add(_ score: Score, turn: String?) {
        guard let turn else { return scored.add(score) }
        if latest.updateValue(score, forKey: turn) != nil { superseded += 1 }
    }

    /// A line that is not a record counts as a failed one, under its code.
    mutating func unreadable(_ error: StageError, line: Int, source: String?, writer: LineWriter) {
        unreadableLines += 1
        diagnostics.report(stage: source.map { "\(Self.stage): \($0)" } ?? Self.stage, line: line, error.message)
        let score = Score(unreadable: error)
        scored.add(score)
        guard annotate else { return }
        var record = Record(failure: error, stage: Self.stage)
        record.fields["eval"] = score.json
        write(record, writer)
    }

    mutating func write(_ record: Record, _ writer: LineWriter) {
        if !writer.writeLine(record.line) { outputBroken = true }
    }
}
