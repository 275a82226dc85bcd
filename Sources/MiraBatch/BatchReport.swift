import MiraShared

/// The words a batch shows a person: the live progress line, the summary,
/// and the exit status.
package enum BatchReport {
    /// The highest exit status that counts failed records; 64 and up keep
    /// their sysexits meanings.
    package static let maxFailureStatus: Int32 = 63

    /// 0 when every record went through, else the number that failed (63 for
    /// 63 or more); 74 when the output closed.
    package static func exitStatus(_ tally: BatchTally) -> Int32 {
        if tally.outputBroken { return Sysexit.ioError.rawValue }
        return Int32(min(tally.failed, Int(maxFailureStatus)))
    }

    /// `1200/5000 · 61.3/s · ETA 1m02s · 2 failed`
    package static func progress(_ tally: BatchTally, total: Int?, elapsedMilliseconds: Double) -> String {
        let seconds = max(elapsedMilliseconds / 1000, 0.001)
        let rate = Double(tally.done) / seconds
        var parts = [total.map { "\(tally.done)/\($0)" } ?? "\(tally.done) done"]
        parts.append(decimal(rate) + "/s")
        if let total, rate > 0, total > tally.done {
            parts.append("ETA " + duration(Double(total - tally.done) / rate))
        }
        if tally.failed > 0 { parts.append("\(tally.failed) failed") }
        return parts.joined(separator: " · ")
    }

    /// One line for the end of a run: counts, failures by code, tokens, time.
    package static func summary(_ tally: BatchTally, elapsedMilliseconds: Double, backoffs: Int = 0) -> String {
        let seconds = elapsedMilliseconds / 1000
        var parts = ["\(tally.done) record\(tally.done == 1 ? "" : "s") in \(duration(seconds))"]
        if seconds > 0 && tally.done > 0 { parts[0] += " (\(decimal(Double(tally.done) / seconds))/s)" }
        parts.append("\(tally.answered) answered")
        if tally.cached > 0 { parts.append("\(tally.cached) from cache") }
        if tally.resumed > 0 { parts.append("\(tally.resumed) already done") }
        if tally.passedThrough > 0 { parts.append("\(tally.passedThrough) failed earlier") }
        var failed = "\(tally.failed) failed"
        if !tally.failures.isEmpty {
            failed += " (" + tally.failures.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
                .map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
        }
        parts.append(failed)
        parts.append("tokens \(count(tally.tokensIn)) in, \(count(tally.tokensOut)) out")
        if backoffs > 0 { parts.append("backed off \(backoffs) times on 429") }
        if tally.stoppedEarly { parts.append("stopped early") }
        return parts.joined(separator: "; ")
    }

    /// A single turn stopped by a signal: one plain line, with no batch
    /// advice (a turn not answered is typed again, not resumed).
    package static func turnStopped(signal: Int32, unanswered: Bool) -> String {
        let name = switch signal {
        case 2: "Ctrl-C"
        case 15: "SIGTERM"
        default: "signal \(signal)"
        }
        return "stopped (\(name))" + (unanswered ? "; the turn was not answered" : "")
    }

    static func decimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// `850ms`, `7.9s`, `2m05s`, `1h03m`.
    package static func duration(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        if seconds < 60 { return decimal(seconds) + "s" }
        let whole = Int(seconds.rounded())
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if whole < 3600 { return "\(whole / 60)m\(two(whole % 60))s" }
        return "\(whole / 3600)h\(two(whole % 3600 / 60))m"
    }

    /// `950`, `12.4k`, `3.1M`.
    static func count(_ n: Int) -> String {
        if n < 1000 { return "\(n)" }
        if n < 1_000_000 { return decimal(Double(n) / 1000) + "k" }
        return decimal(Double(n) / 1_000_000) + "M"
    }
}
