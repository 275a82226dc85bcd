import MiraShared
import MiraSystem

/// How to show a report: how many moods, and the prices for a cost line.
package struct ReportOptions: Sendable {
    package var topMoods: Int
    package var prices: Prices?
    package var minPassRate: Double?

    package init(topMoods: Int = 10, prices: Prices? = nil, minPassRate: Double? = nil) {
        self.topMoods = topMoods
        self.prices = prices
        self.minPassRate = minPassRate
    }
}

extension EvalReport {
    /// True when there is no gate, or the pass rate reaches it. No records never pass a gate.
    package func meetsGate(_ minimum: Double?) -> Bool {
        guard let minimum else { return true }
        guard let passRate else { return false }
        return passRate >= minimum
    }

    func topMoods(_ n: Int) -> [(name: String, count: Int)] { Array(Self.ranked(moods).prefix(n)) }

    static func share(_ count: Int, of total: Int) -> String {
        total == 0 ? "-" : DecimalText.percent(Double(count) / Double(total))
    }

    // MARK: JSON

    /// One object whose members are always present (null when they do not
    /// apply), so scripts can rely on the shape.
    package func json(_ options: ReportOptions) -> JSON {
        func counts(_ ranked: [(name: String, count: Int)]) -> JSON {
            var o = JSONObject()
            for (name, count) in ranked { o[name] = .int(count) }
            return .object(o)
        }
        func number(_ value: Int?) -> JSON { value.map { .int($0) } ?? .null }
        var o = JSONObject()
        o["records"] = .int(total)
        o["superseded"] = .int(superseded)
        o["passed"] = .int(passed)
        o["pass_rate"] = passRate.map { .number(DecimalText.trimmed($0, places: 4)) } ?? .null
        o["min_pass_rate"] = options.minPassRate.map { .number(DecimalText.trimmed($0, places: 4)) } ?? .null
        o["gate_passed"] = options.minPassRate == nil ? .null : .bool(meetsGate(options.minPassRate))
        o["errors"] = counts(Self.ranked(errorsByCode))
        o["failures"] = counts(Self.ranked(failuresByCheck))
        o["personas"] = counts(Self.ranked(personas))
        o["moods"] = counts(topMoods(options.topMoods))
        o["distinct_moods"] = .int(moods.count)
        var table = JSONObject()
        // Every cell, zeros too, so each row has the same columns.
        for row in confusionRows { table[row] = counts(confusionColumns.map { ($0, confusion[row]?[$0] ?? 0) }) }
        o["confusion"] = .object(table)
        o["latency_ms"] = [
            "records": .int(latencyCount), "cached_left_out": .int(cachedLatenciesLeftOut),
            "p50": number(latencyPercentile(50)), "p90": number(latencyPercentile(90)), "p99": number(latencyPercentile(99)),
        ]
        o["tokens"] = ["in": .int(promptTokens), "out": .int(completionTokens)]
        if let prices = options.prices {
            let cost = cost(prices)
            o["cost_usd"] = [
                "input": .number(DecimalText.trimmed(cost.input, places: 6)),
                "output": .number(DecimalText.trimmed(cost.output, places: 6)),
                "total": .number(DecimalText.trimmed(cost.input + cost.output, places: 6)),
                "records": .int(billedRecords), "cached_left_out": .int(cachedRecords),
            ]
        } else {
            o["cost_usd"] = .null
        }
        return .object(o)
    }

    // MARK: Text and Markdown

    /// The sections both readable forms show: a title and rows of cells.
    func sections(_ options: ReportOptions) -> [(title: String, header: [String]?, rows: [[String]])] {
        var out: [(title: String, header: [String]?, rows: [[String]])] = []
        var summary: [[String]] = [
            ["records", String(total) + (superseded > 0 ? " (\(superseded) earlier records of re-run turns left out)" : "")],
            ["passed", "\(passed) (\(passRate.map(DecimalText.percent) ?? "-"))"],
        ]
        if let minimum = options.minPassRate {
            summary.append(["gate", "\(DecimalText.percent(minimum)): \(meetsGate(minimum) ? "met" : "NOT met")"])
        }
        summary.append(["tokens in / out", "\(promptTokens) / \(completionTokens)"])
        if let prices = options.prices {
            let cost = cost(prices)
            let usd = { (value: Double) in "$" + DecimalText.fixed(value, places: 6) }
            summary.append(["cost", "\(usd(cost.input + cost.output)) (in \(usd(cost.input)), out \(usd(cost.output))) over \(billedRecords) uncached records, \(cachedRecords) cached left out"])
        }
        out.append(("summary", nil, summary))
        if !errorsByCode.isEmpty {
            out.append(("errors by code", ["code", "records"], Self.ranked(errorsByCode).map { [$0.name, String($0.count)] }))
        }
        if !failuresByCheck.isEmpty {
            out.append(("failures by check", ["check", "records"], Self.ranked(failuresByCheck).map { [$0.name, String($0.count)] }))
        }
        let replied = personas.values.reduce(0, +)
        if replied > 0 {
            out.append(("personas", ["persona", "records", "share"], Self.ranked(personas).map { [$0.name, String($0.count), Self.share($0.count, of: replied)] }))
        }
        if !moods.isEmpty {
            let title = moods.count > options.topMoods ? "moods (top \(options.topMoods) of \(moods.count))" : "moods"
            out.append((title, ["mood", "records", "share"], topMoods(options.topMoods).map { [$0.name, String($0.count), Self.share($0.count, of: replied)] }))
        }
        if !confusion.isEmpty {
            let columns = confusionColumns
            out.append(("expected persona (rows) x actual persona (columns)", ["expected"] + columns,
                        confusionRows.map { row in [row] + columns.map { String(confusion[row]?[$0] ?? 0) } }))
        }
        let latency = ["p50", "p90", "p99"].map { p in latencyPercentile(Int(p.dropFirst())!).map { "\($0) ms" } ?? "-" }
        let note = "over \(latencyCount) records without error" + (cachedLatenciesLeftOut > 0 ? ", \(cachedLatenciesLeftOut) cached left out" : "")
        out.append(("latency (\(note))", ["p50", "p90", "p99"], [latency]))
        return out
    }

    /// Aligned columns for a terminal: text to the left, numbers to the right.
    package func text(_ options: ReportOptions) -> String {
        var lines: [String] = []
        for (k, section) in sections(options).enumerated() {
            if k > 0 { lines.append(""); lines.append(section.title) }
            let rows = (section.header.map { [$0] } ?? []) + section.rows
            // The summary's values are prose, not a column of numbers.
            lines += Self.aligned(rows, indent: k > 0 ? "  " : "", numbersRight: k > 0)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func aligned(_ rows: [[String]], indent: String, numbersRight: Bool) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            var line = indent
            for (c, cell) in row.enumerated() {
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                let numeric = numbersRight && c > 0 && cell.first.map { $0.isNumber } == true
                line += c == 0 ? cell + pad : "  " + (numeric ? pad + cell : cell + pad)
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }

    /// GitHub-flavoured Markdown: a heading and a table per section.
    package func markdown(_ options: ReportOptions) -> String {
        var lines = ["## Mira eval"]
        for section in sections(options) {
            lines.append("")
            lines.append("### \(section.title)")
            lines.append("")
            let header = section.header ?? ["metric", "value"]
            lines.append("| " + header.map(Self.cell).joined(separator: " | ") + " |")
            lines.append("|" + header.enumerated().map { $0.offset == 0 ? "---|" : "---:|" }.joined())
            for row in section.rows { lines.append("| " + row.map(Self.cell).joined(separator: " | ") + " |") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A pipe inside a cell would end it.
    static func cell(_ text: String) -> String {
        text.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
    }
}
