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
}
