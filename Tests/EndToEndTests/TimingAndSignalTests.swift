import Foundation
import Testing

/// Behaviours whose worth is in their timing: waits the server asks for,
/// rate caps, and what a signal still writes. Times are the server's own
/// arrival times (its log's "t"), not the client's account of itself.
@Suite struct TimingAndSignalTests {
    /// `count` prepared turns t1…tN ("question k") in prepared.jsonl.
    func prepare(_ world: World, count: Int, promptOptions: String = "") throws {
        let batch = (1...count).map { #"{"turn":"t\#($0)","input":"question \#($0)"}"# }.joined(separator: "\n") + "\n"
        let result = try world.sh("mira-prompt \(promptOptions) > prepared.jsonl", stdin: batch)
        try #require(result.status == 0, "\(result.stderr)")
    }

    /// The turn each request asked for ("question k" → "tk"), in arrival order.
    func askedTurns(_ world: World) throws -> [String] {
        try world.askedMessages().map { $0.replacingOccurrences(of: "question ", with: "t") }
    }

    // MARK: Waits the server asks for

    /// Proves an exhausted x-ratelimit-remaining-requests holds the NEXT request back until its reset.
    @Test func anExhaustedRateLimitPausesTheNextRequestUntilItsReset() throws {
        let world = try World(behaviour: "ratelimit-exhausted:2")
        try prepare(world, count: 3)
        let result = try world.sh("mira-llm -j 1 < prepared.jsonl")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try result.records().allSatisfy { $0["reply"] != nil })
        let gaps = try world.arrivalGaps()
        try #require(gaps.count == 2, "three requests, no retries: \(gaps)")
        #expect(gaps.allSatisfy { $0 >= 1.9 && $0 < 5 }, "each request waited out the 2 s reset: \(gaps)")
    }

    // MARK: Rate caps

    /// Proves --rpm 120 spaces request starts 0.5 s apart even with four workers free (no burst allowance).
    @Test func requestsPerMinuteSpaceEveryRequestEvenWithWorkersFree() throws {
        let world = try World()
        try prepare(world, count: 6)
        let result = try world.sh("mira-llm -j 4 --rpm 120 < prepared.jsonl")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try result.records().count == 6)
        let gaps = try world.arrivalGaps()
        try #require(gaps.count == 5)
        // Throttle: a GCRA with no burst, each start pushes the next back by 60000/rpm ms.
        #expect(gaps.allSatisfy { $0 >= 0.45 && $0 < 2 }, "\(gaps)")
    }

    /// Proves --tpm spaces each request by its own estimated tokens (request bytes / 4 + max tokens).
    @Test func tokensPerMinuteSpaceEachRequestByItsEstimatedSize() throws {
        let world = try World()
        try prepare(world, count: 5, promptOptions: "--max-tokens 1000")
        let tpm = 100_000
        let result = try world.sh("mira-llm -j 4 --tpm \(tpm) < prepared.jsonl")
        #expect(result.status == 0, "\(result.stderr)")
        let entries = try world.logEntries()
        try #require(entries.count == 5)
        for (a, b) in zip(entries, entries.dropFirst()) {
            // ChatClient.estimatedTokens, from what the server received.
            let bytes = try #require(Int((a["headers"] as? [String: Any])?["content-length"] as? String ?? ""))
            let body = a["body"] as! [String: Any]
            let maxTokens = try #require(body["max_completion_tokens"] as? Int ?? body["max_tokens"] as? Int)
            let expected = 60 * Double(bytes / 4 + maxTokens) / Double(tpm)
            let gap = (b["t"] as! Double) - (a["t"] as! Double)
            #expect(expected > 0.5, "a spacing big enough to measure: \(expected) s")
            #expect(gap >= expected - 0.05 && gap < expected + 1, "gap \(gap) s, the estimate asks \(expected) s")
        }
    }

    // MARK: Signals

    /// Proves SIGTERM/SIGINT in ordered mode writes the answers queued behind a stalled record, and not the stalled one.
    @Test(arguments: ["TERM", "INT"])
    func aSignalWritesTheAnswersWaitingBehindAStalledRecord(_ signal: String) throws {
        let world = try World(behaviour: "hold:1:10000")
        try prepare(world, count: 40)
        // Line 1 goes alone until the server has it, so request 1 (the stalled one) is t1's.
        let run = try world.sh("""
            (head -1 prepared.jsonl
             for i in $(seq 500); do [ "$(wc -l < requests.jsonl)" -ge 1 ] && break; sleep 0.02; done
             tail -n +2 prepared.jsonl) | mira-llm -j 8 > out.jsonl 2> err.txt & pid=$!
            for i in $(seq 500); do [ "$(wc -l < requests.jsonl)" -ge 30 ] && break; sleep 0.02; done
            sleep 0.5
            kill -\(signal) $pid; wait $pid; echo "status=$?"
            """)
        #expect(run.stdout == "status=\(signal == "TERM" ? 143 : 130)\n", "\(run.stdout)")
        let stderr = try String(contentsOfFile: world.dir + "/err.txt", encoding: .utf8)
        #expect(stderr.contains("stopped by signal \(signal == "TERM" ? 15 : 2)"), "\(stderr)")
        let asked = try askedTurns(world)
        try #require(asked.first == "t1" && asked.count >= 30, "\(asked)")
        let text = try String(contentsOfFile: world.dir + "/out.jsonl", encoding: .utf8)
        #expect(text.isEmpty || text.hasSuffix("\n"), "only whole lines")
        let written = try world.sh("cat out.jsonl").records().compactMap { $0["turn"] as? String }
        // Every answered turn behind t1 is written, in input order; t1 (still
        // in flight) is not. Up to 7 other requests may still have been in flight.
        #expect(!written.contains("t1"))
        #expect(Set(written).isSubset(of: Set(asked)), "\(written)")
        #expect(written == written.sorted { Int($0.dropFirst())! < Int($1.dropFirst())! }, "input order: \(written)")
        #expect(written.count >= asked.count - 8, "\(written.count) written of \(asked.count) asked: \(written)")
    }
}
