import MiraShared

/// USD per million tokens, for the cost line.
package struct Prices: Equatable, Sendable {
    package var input: Double
    package var output: Double

    package init(input: Double, output: Double) {
        self.input = input
        self.output = output
    }
}

/// The numbers of a whole run, added up one score at a time so the records
/// themselves are never held (latencies are: one integer each).
package struct EvalReport: Sendable {
    package private(set) var total = 0
    package private(set) var passed = 0
    package private(set) var errorsByCode: [String: Int] = [:]
    /// Failures other than `error` (those are counted by code).
    package private(set) var failuresByCheck: [String: Int] = [:]
    package private(set) var personas: [String: Int] = [:]
    package private(set) var moods: [String: Int] = [:]
    /// Expected persona → actual persona → count.
    package private(set) var confusion: [String: [String: Int]] = [:]
    var latencies: [Int] = []
    package private(set) var cachedRecords = 0
    /// Cached records that had a latency and were left out of the percentiles.
    package private(set) var cachedLatenciesLeftOut = 0
    package private(set) var promptTokens = 0
    package private(set) var completionTokens = 0
    package private(set) var billedPromptTokens = 0
    package private(set) var billedCompletionTokens = 0
    /// Records that were not from the cache: what the cost covers.
    package private(set) var billedRecords = 0
    /// Earlier records of re-run turns, left out: only a turn's last record counts.
    package var superseded = 0

    /// The column for a turn with no reply persona.
    package static let noPersona = "(none)"

    package init() {}

    package mutating func add(_ score: Score) {
        total += 1
        if score.passed { passed += 1 }
        if let code = score.errorCode { errorsByCode[code, default: 0] += 1 }
        for check in score.failed where check != .error { failuresByCheck[check.rawValue, default: 0] += 1 }
        if score.errorCode == nil {
            if let persona = score.persona { personas[persona, default: 0] += 1 }
            if let mood = score.mood { moods[mood, default: 0] += 1 }
        }
        if let expected = score.expectedPersona {
            let actual = score.errorCode == nil ? score.persona.map(Expectation.folded) ?? Self.noPersona : Self.noPersona
            confusion[expected, default: [:]][actual, default: 0] += 1
        }
        if score.cached {
            cachedRecords += 1
        } else {
            billedRecords += 1
            billedPromptTokens = billedPromptTokens.addingSaturated(score.promptTokens)
            billedCompletionTokens = billedCompletionTokens.addingSaturated(score.completionTokens)
        }
        if score.errorCode == nil, let ms = score.latencyMilliseconds {
            if score.cached { cachedLatenciesLeftOut += 1 } else { latencies.append(ms) }
        }
        // Token counts come from servers: they saturate, never trap.
        promptTokens = promptTokens.addingSaturated(score.promptTokens)
        completionTokens = completionTokens.addingSaturated(score.completionTokens)
    }

    /// passed / total; nil when there were no records.
    package var passRate: Double? { total == 0 ? nil : Double(passed) / Double(total) }

    package var latencyCount: Int { latencies.count }

    /// Nearest rank: the smallest latency at or above `percent` of them all.
    package func latencyPercentile(_ percent: Int) -> Int? {
        guard !latencies.isEmpty else { return nil }
        let sorted = latencies.sorted()
        let rank = max(1, (percent * sorted.count + 99) / 100)
        return sorted[min(rank, sorted.count) - 1]
    }

    package func cost(_ prices: Prices) -> (input: Double, output: Double) {
        (Double(billedPromptTokens) * prices.input / 1_000_000, Double(billedCompletionTokens) * prices.output / 1_000_000)
    }

    /// Counts largest first, then by name, so reports are stable.
    package static func ranked(_ counts: [String: Int]) -> [(name: String, count: Int)] {
        counts.map { (name: $0.key, count: $0.value) }.sorted { $0.count != $1.count ? $0.count > $1.count : $0.name < $1.name }
    }

    /// The confusion table's columns: every actual persona seen, `(none)` last.
    package var confusionColumns: [String] {
        let seen = Set(confusion.values.flatMap(\.keys))
        return seen.subtracting([Self.noPersona]).sorted() + (seen.contains(Self.noPersona) ? [Self.noPersona] : [])
    }

    package var confusionRows: [String] { confusion.keys.sorted() }
}

/// Fixed-point text for a number, without Foundation's formatters.
package enum DecimalText {
    /// `value` rounded to `places` decimals ("0.125" → "0.13" with 2).
    /// Beyond what whole numbers hold exactly (about 9e15 after scaling) the
    /// value is written as Swift writes a Double ("2.25e+19"): a cost from a
    /// hostile usage count must print, not trap.
    package static func fixed(_ value: Double, places: Int) -> String {
        var scale = 1
        for _ in 0..<places { scale *= 10 }
        guard value.isFinite, abs(value) * Double(scale) < 9e15 else { return String(value) }
        let scaled = Int((abs(value) * Double(scale)).rounded())
        let whole = String(scaled / scale)
        var fraction = String(scaled % scale)
        fraction = String(repeating: "0", count: max(0, places - fraction.count)) + fraction
        let sign = value < 0 && scaled != 0 ? "-" : ""
        return places == 0 ? sign + whole : sign + whole + "." + fraction
    }

    /// As `fixed`, without trailing zeros: a JSON number that reads well ("0.8", "12").
    package static func trimmed(_ value: Double, places: Int) -> String {
        var text = fixed(value, places: places)
        guard text.contains("."), !text.contains("e") else { return text }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// A fraction as a percentage with one decimal: 0.6 → "60.0%".
    package static func percent(_ fraction: Double) -> String { fixed(fraction * 100, places: 1) + "%" }
}
