import MiraShared
import MiraSystem

/// The checks mira-eval runs on a result record. The raw value is the name
/// written into `eval.failed` and the report.
package enum Check: String, Sendable, CaseIterable {
    /// The record carries an `error` (or the line was not a record at all).
    case error
    /// No reply, and no error to explain it.
    case noReply = "no_reply"
    /// The reply breaks the {output, persona, mood, remember} contract (other than the three below).
    case invalidReply = "invalid_reply"
    /// The reply's output is empty or only whitespace.
    case emptyOutput = "empty_output"
    /// The reply's persona is not one the request allowed.
    case unknownPersona = "unknown_persona"
    /// The reply's `remember` is not a list of at most 5 `{topic, fact}`
    /// facts by the contract's rules (an absent one is an empty list).
    case invalidRemember = "invalid_remember"
    /// `expect.persona` named other personas.
    case personaMismatch = "persona_mismatch"
    /// `expect.mood` named other moods.
    case moodMismatch = "mood_mismatch"
    /// `expect` is not `{persona?, mood?}` of strings or lists of strings.
    case badExpect = "bad_expect"
    /// The output sounds like a generic assistant, not Mira.
    case characterBreak = "character_break"
    /// The output is longer than the limit.
    case overlongOutput = "overlong_output"
    /// `usage` token counts or `latency_ms` are not whole numbers of 0 or more.
    case invalidUsage = "invalid_usage"
}

/// What the checks compare against.
package struct EvalSettings: Sendable {
    /// Phrases that give an assistant away; matched case-insensitively anywhere in the output.
    package var breakPhrases: [String]
    package var maxOutputCharacters: Int

    package init(breakPhrases: [String] = Self.defaultBreakPhrases, maxOutputCharacters: Int = 1200) {
        self.breakPhrases = breakPhrases.map(Self.normalized)
        self.maxOutputCharacters = maxOutputCharacters
    }

    package static let defaultBreakPhrases = [
        "as an ai", "language model", "i cannot assist", "i can't assist", "i'm just an ai",
        "as a large language model", "openai", "i do not have feelings", "i don't have feelings",
    ]

    /// Reads a phrase list: one a line; blank lines and `#` comments skipped.
    package static func phrases(fromFile text: String) -> [String] {
        // Split on any line break: "\r\n" is one Character, never equal to "\n".
        text.split(whereSeparator: \.isNewline).compactMap { raw in
            let line = Expectation.folded(String(raw))
            return line.isEmpty || line.hasPrefix("#") ? nil : line
        }
    }

    /// Lower case, and typographic apostrophes made plain, so "I can’t assist" is caught too.
    static func normalized(_ text: String) -> String {
        String(text.lowercased().map { $0 == "\u{2019}" || $0 == "\u{2018}" ? "'" : $0 })
    }
}

/// One record's verdict and the facts the report counts.
package struct Score: Equatable, Sendable {
    package var failed: [Check] = []
    /// The error's code when the record failed upstream (or could not be read).
    package var errorCode: String?
    package var persona: String?
    package var mood: String?
    /// The persona `expect` named first, for the confusion table.
    package var expectedPersona: String?
    package var latencyMilliseconds: Int?
    package var cached = false
    package var promptTokens = 0
    package var completionTokens = 0

    package init() {}

    package var passed: Bool { failed.isEmpty }

    /// The `eval` member --annotate adds.
    package var json: JSON {
        var o = JSONObject()
        o["pass"] = .bool(passed)
        o["failed"] = .array(failed.map { .string($0.rawValue) })
        if let errorCode { o["error"] = .string(errorCode) }
        return .object(o)
    }

    /// A line that is not a record: it fails, under its error's code.
    package init(unreadable error: StageError) {
        failed = [.error]
        errorCode = error.code.rawValue
    }

    /// Runs every check that applies to `record`.
    package init(record: Record, settings: EvalSettings) {
        let fields = record.fields
        var numbersValid = true
        /// A count from the record: a whole number of 0 or more, else noted and counted as 0.
        func count(_ value: JSON?) -> Int? {
            guard let value, !value.isNull else { return nil }
            guard let n = value.intValue, n >= 0 else { numbersValid = false; return nil }
            return n
        }
        if let usage = fields["usage"]?.objectValue {
            promptTokens = count(usage["prompt_tokens"]) ?? 0
            completionTokens = count(usage["completion_tokens"]) ?? 0
        }
        let latency = count(fields["latency_ms"])
        defer { if !numbersValid { failed.append(.invalidUsage) } }
        cached = fields["cached"]?.boolValue == true
        var expectation: Expectation?
        if let expect = fields["expect"], !expect.isNull {
            expectation = Expectation(json: expect)
            if expectation == nil { failed.append(.badExpect) }
            expectedPersona = expectation?.primaryPersona
        }
        if record.hasError {
            failed.insert(.error, at: 0)
            errorCode = record.error?["code"]?.stringValue ?? "unknown"
            return
        }
        latencyMilliseconds = latency
        guard let reply = fields["reply"], !reply.isNull else {
            failed.insert(.noReply, at: 0)
            return
        }
        checkReply(reply, allowed: ReplyContract.allowedPersonas(in: record.request),
                   expectation: expectation, settings: settings)
    }

    mutating func checkReply(_ reply: JSON, allowed: [String], expectation: Expectation?, settings: EvalSettings) {
        var found: [Check] = []
        let output = reply["output"]?.stringValue
        persona = reply["persona"]?.stringValue
        mood = reply["mood"]?.stringValue.map(Expectation.folded)
        // The contract, with the output, persona and remember checks left to their own names.
        var shape = reply
        if case .object(var o) = reply {
            if let output, !output.contains(where: { !$0.isWhitespace }) {
                found.append(.emptyOutput)
                o["output"] = "-"
            }
            if let remember = o["remember"] {
                do {
                    _ = try Reply.facts(remember)
                } catch {
                    found.append(.invalidRemember)
                }
                o["remember"] = nil
            }
            shape = .object(o)
        }
        do {
            _ = try Reply(validating: shape, personas: [persona ?? ""])
        } catch {
            found.append(.invalidReply)
        }
        if let persona, !persona.isEmpty, !allowed.contains(persona) { found.append(.unknownPersona) }
        if let expectation {
            if let persona, !expectation.personaMatches(persona) { found.append(.personaMismatch) }
            if let mood, !expectation.moodMatches(mood) { found.append(.moodMismatch) }
        }
        if let output {
            let said = EvalSettings.normalized(output)
            if settings.breakPhrases.contains(where: { !$0.isEmpty && said.contains($0) }) { found.append(.characterBreak) }
            if output.count > settings.maxOutputCharacters { found.append(.overlongOutput) }
        }
        failed = found + failed
    }
}
