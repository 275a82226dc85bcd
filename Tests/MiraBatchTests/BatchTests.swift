#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Testing
@testable import MiraBatch
import MiraLLM
import MiraShared
import MiraSystem
import MiraTestSupport

@Suite struct ThrottleRules {
    @Test func concurrencyIsCappedAndAFinishFreesASlot() {
        var throttle = Throttle(ceiling: 2)
        #expect(throttle.start(now: 0, tokens: 1) == .go(ticket: 0))
        #expect(throttle.start(now: 0, tokens: 1) == .go(ticket: 0))
        #expect(throttle.start(now: 0, tokens: 1) == .full)
        throttle.finish(ticket: 0, status: 200, headers: [:], now: 1)
        #expect(throttle.start(now: 1, tokens: 1) == .go(ticket: 0))
    }

    @Test func a429HalvesOncePerBurstThenSuccessesGrowItBack() {
        var throttle = Throttle(ceiling: 8)
        var tickets: [Int] = []
        for _ in 0..<8 { if case .go(let t) = throttle.start(now: 0, tokens: 1) { tickets.append(t) } }
        #expect(tickets.count == 8)
        // Eight requests of the same burst come back 429: one halving, not three.
        for t in tickets { throttle.finish(ticket: t, status: 429, headers: [:], now: 1) }
        #expect(throttle.concurrency == 4)
        #expect(throttle.backoffs == 1)
        // A new 429 after the halving halves again.
        guard case .go(let t) = throttle.start(now: 2, tokens: 1) else { Issue.record("no start"); return }
        throttle.finish(ticket: t, status: 429, headers: [:], now: 3)
        #expect(throttle.concurrency == 2)
        // Two successes in a row (the current concurrency) add one slot; then three more, another.
        for _ in 0..<2 { _ = throttle.start(now: 4, tokens: 1); throttle.finish(ticket: 2, status: 200, headers: [:], now: 5) }
        #expect(throttle.concurrency == 3)
        for _ in 0..<3 { _ = throttle.start(now: 6, tokens: 1); throttle.finish(ticket: 2, status: 200, headers: [:], now: 7) }
        #expect(throttle.concurrency == 4)
    }

    @Test func concurrencyNeverFallsBelowOneNorGrowsPastTheCeiling() {
        var throttle = Throttle(ceiling: 2)
        for _ in 0..<5 {
            guard case .go(let t) = throttle.start(now: 0, tokens: 1) else { Issue.record("no start"); return }
            throttle.finish(ticket: t, status: 429, headers: [:], now: 0)
        }
        #expect(throttle.concurrency == 1)
        for _ in 0..<50 { _ = throttle.start(now: 0, tokens: 1); throttle.finish(ticket: throttle.backoffs, status: 200, headers: [:], now: 0) }
        #expect(throttle.concurrency == 2)
    }

    @Test func requestsPerMinuteSpaceTheStarts() {
        var throttle = Throttle(ceiling: 10, requestsPerMinute: 600)  // one per 100 ms
        #expect(throttle.start(now: 1000, tokens: 1) == .go(ticket: 0))
        #expect(throttle.start(now: 1000, tokens: 1) == .wait(milliseconds: 100))
        #expect(throttle.start(now: 1060, tokens: 1) == .wait(milliseconds: 40))
        #expect(throttle.start(now: 1100, tokens: 1) == .go(ticket: 0))
    }

    @Test func tokensPerMinuteChargeEachRequestBySize() {
        var throttle = Throttle(ceiling: 10, tokensPerMinute: 60_000)  // 1 token a millisecond
        #expect(throttle.start(now: 0, tokens: 500) == .go(ticket: 0))
        #expect(throttle.start(now: 0, tokens: 10) == .wait(milliseconds: 500))
        #expect(throttle.start(now: 500, tokens: 10) == .go(ticket: 0))
    }

    @Test func retryAfterPausesEveryStart() {
        var throttle = Throttle(ceiling: 4)
        _ = throttle.start(now: 0, tokens: 1)
        throttle.finish(ticket: 0, status: 429, headers: ["retry-after-ms": "250"], now: 10)
        #expect(throttle.start(now: 10, tokens: 1) == .wait(milliseconds: 250))
        #expect(throttle.start(now: 260, tokens: 1) == .go(ticket: 1))
    }

    @Test func anExhaustedQuotaWaitsForItsReset() {
        var throttle = Throttle(ceiling: 4)
        _ = throttle.start(now: 0, tokens: 1)
        throttle.finish(ticket: 0, status: 200, headers: ["x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1.5s"], now: 0)
        #expect(throttle.start(now: 0, tokens: 1) == .wait(milliseconds: 1500))
        _ = throttle.start(now: 1500, tokens: 1)
        // A quota that is not yet used up does not pause.
        throttle.finish(ticket: 0, status: 200, headers: ["x-ratelimit-remaining-tokens": "12", "x-ratelimit-reset-tokens": "6m0s"], now: 1500)
        #expect(throttle.start(now: 1500, tokens: 1) == .go(ticket: 0))
    }

    @Test(arguments: [
        ("1s", 1000), ("6m0s", 360_000), ("20ms", 20), ("1h2m3.5s", 3_723_500), ("0.5", 500), ("2", 2000),
    ])
    func rateLimitResetDurationsAreRead(_ text: String, _ milliseconds: Int) {
        #expect(RateLimitHeaders.duration(text) == milliseconds)
    }

    @Test(arguments: ["", "s", "1x", "abc", "1s2", "-1s"])
    func nonsenseDurationsAreIgnored(_ text: String) {
        #expect(RateLimitHeaders.duration(text) == nil)
    }
}

@Suite struct ReorderBufferRules {
    @Test func resultsLeaveInSequenceOrder() {
        var buffer = ReorderBuffer<String>()
        #expect(buffer.add(2, "c") == [])
        #expect(buffer.add(1, "b") == [])
        #expect(buffer.add(0, "a") == ["a", "b", "c"])
        #expect(buffer.add(3, nil) == [])
        #expect(buffer.add(4, "e") == ["e"])
        #expect(buffer.count == 0)
    }

    @Test func drainGivesWhatIsCompleteAcrossGaps() {
        var buffer = ReorderBuffer<String>()
        _ = buffer.add(1, "b")
        _ = buffer.add(3, "d")
        #expect(buffer.drain() == ["b", "d"])
        #expect(buffer.next == 4)
    }
}

@Suite struct SHA256Digests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func knownVectors(_ text: String, _ digest: String) {
        #expect(SHA256.hex(Array(text.utf8)) == digest)
    }

    @Test func aMillionAs() {
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

/// A file to write a runner's output into and read back.
struct OutputFile {
    let directory = TemporaryDirectory()
    let fd: Int32

    init() {
        fd = open(directory.path + "/out", O_RDWR | O_CREAT | O_TRUNC, 0o600)
    }

    func lines() -> [String] {
        let bytes = Files.read(path: directory.path + "/out", limit: 64 << 20) ?? []
        close(fd)
        directory.remove()
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

/// Collects report lines from several threads.
final class Reports: @unchecked Sendable {
    let monitor = Monitor()
    var lines: [String] = []
    func add(_ line: String) { monitor.locked { lines.append(line) } }
}

@Suite struct BatchRunnerRuns {
    /// Runs `count` lines `{"n":k}` through a runner whose workers sleep a
    /// random time, like a server with uneven latency.
    func run(count: Int, jobs: Int, ordered: Bool = true, failFast: Bool = false, failing: Set<Int> = [],
             maxSleepMicroseconds: UInt32 = 3000) -> (lines: [String], tally: BatchTally, reports: [String]) {
        let input = (0..<count).map { #"{"n":\#($0)}"# }.joined(separator: "\n") + "\n"
        let readEnd = pipeHoldingLarge(Array(input.utf8))
        defer { close(readEnd) }
        let output = OutputFile()
        let reports = Reports()
        let runner = BatchRunner(settings: .init(jobs: jobs, ordered: ordered, failFast: failFast),
                                 writer: LineWriter(fd: output.fd), reportWriter: { reports.add($0) })
        var reader = LineReader(fd: readEnd)
        let tally = runner.run(reader: &reader) { _ in
            return { item in
                usleep(UInt32.random(in: 0...maxSleepMicroseconds))
                guard case .line(let bytes) = item.content else { return TurnOutcome(kind: .failed(.lineTooLong), line: nil) }
                if failing.contains(item.sequence) {
                    return TurnOutcome(kind: .failed(.gaveUp), line: bytes, report: "line \(item.lineNumber): failed")
                }
                return TurnOutcome(kind: .answered, line: bytes, tokensIn: 2, tokensOut: 1)
            }
        }
        return (output.lines(), tally, reports.lines)
    }

    @Test func outputKeepsInputOrderUnderRandomLatencies() {
        let result = run(count: 500, jobs: 16)
        #expect(result.lines == (0..<500).map { #"{"n":\#($0)}"# })
        #expect(result.tally.answered == 500 && result.tally.done == 500 && result.tally.failed == 0)
        #expect(result.tally.tokensIn == 1000 && result.tally.tokensOut == 500)
    }

    @Test func oneJobIsStrictlySequential() {
        let result = run(count: 50, jobs: 1)
        #expect(result.lines == (0..<50).map { #"{"n":\#($0)}"# })
    }

    @Test func unorderedOutputHoldsEveryRecordOnce() {
        let result = run(count: 300, jobs: 16, ordered: false)
        #expect(result.lines.sorted() == (0..<300).map { #"{"n":\#($0)}"# }.sorted())
    }

    @Test func failuresAreCountedReportedInOrderAndTheRunGoesOn() {
        let result = run(count: 100, jobs: 8, failing: [10, 40, 41])
        #expect(result.lines.count == 100)
        #expect(result.tally.failed == 3 && result.tally.failures == ["gave_up": 3])
        #expect(result.reports == ["line 11: failed", "line 41: failed", "line 42: failed"])
        #expect(BatchReport.exitStatus(result.tally) == 3)
    }

    @Test func failFastStopsSoonAfterTheFirstFailure() {
        let result = run(count: 2000, jobs: 4, failFast: true, failing: [20])
        #expect(result.tally.stoppedEarly)
        #expect(result.tally.failed == 1)
        #expect(result.tally.done < 200)
        #expect(result.lines.contains(#"{"n":20}"#))
        #expect(Set(result.lines).count == result.lines.count)
    }

    @Test func theWindowBoundsHowFarReadingRunsAhead() {
        // The first line is slow; the others may not pile up beyond the window.
        let input = (0..<400).map { #"{"n":\#($0)}"# }.joined(separator: "\n") + "\n"
        let readEnd = pipeHoldingLarge(Array(input.utf8))
        defer { close(readEnd) }
        let output = OutputFile()
        let runner = BatchRunner(settings: .init(jobs: 4, window: 16), writer: LineWriter(fd: output.fd), reportWriter: { _ in })
        final class Peak: @unchecked Sendable { let monitor = Monitor(); var value = 0 }
        let peak = Peak()
        var reader = LineReader(fd: readEnd)
        let tally = runner.run(reader: &reader) { _ in
            return { item in
                if item.sequence == 0 { usleep(50_000) }
                let waiting = runner.snapshot.read - runner.monitor.locked { runner.reorder.next }
                peak.monitor.locked { peak.value = max(peak.value, waiting) }
                guard case .line(let bytes) = item.content else { return TurnOutcome(kind: .answered, line: nil) }
                return TurnOutcome(kind: .answered, line: bytes)
            }
        }
        #expect(tally.done == 400)
        #expect(peak.value <= 16)
        #expect(output.lines().count == 400)
    }
}

/// A pipe can hold only 64 KiB: a writer thread feeds bigger inputs.
func pipeHoldingLarge(_ bytes: [UInt8]) -> Int32 {
    var fds: [Int32] = [0, 0]
    precondition(pipe(&fds) == 0)
    let writeEnd = fds[1]
    startThread {
        _ = LineWriter(fd: writeEnd).write(bytes)
        close(writeEnd)
    }
    return fds[0]
}

/// A cache held in memory.
final class MemoryCache: ReplyCache, @unchecked Sendable {
    var answers: [String: JSONObject] = [:]
    func answer(for key: String) -> JSONObject? { answers[key] }
    func keep(_ answer: JSONObject, for key: String) { answers[key] = answer }
}

@Suite struct TurnCallerWork {
    static let request: JSONObject = try! JSONParser.parse(Array(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"format_response","parameters":{"type":"object","properties":{"persona":{"type":"string","enum":["default","haven"]}}}}}]}"#.utf8)).objectValue!

    func item(_ line: String, _ n: Int = 1) -> BatchItem {
        BatchItem(sequence: n - 1, lineNumber: n, content: .line(Array(line.utf8)))
    }

    func turn(_ id: String) -> String {
        JSONWriter.string(["turn": .string(id), "request": .object(Self.request)])
    }

    func caller(_ source: AnswerSource, cache: ReplyCache? = nil, finished: FinishedTurns = FinishedTurns()) -> TurnCaller {
        TurnCaller(stage: "mira-llm", source: source, finished: finished, cache: cache, cacheScope: "http://x/v1/chat/completions", report: { _, _ in })
    }

    @Test func aLineOverTheLimitNamesTheReadersLimitNotTheDefault() throws {
        // Read through a runner with a 64-byte limit, as -j workers get it.
        let readEnd = pipeHolding(Array((String(repeating: "x", count: 100) + "\n").utf8))
        defer { close(readEnd) }
        let output = OutputPipe()
        var reports: [String] = []
        var reader = LineReader(fd: readEnd, maxLine: 64)
        let runner = BatchRunner(settings: .init(jobs: 1), writer: output.writer, reportWriter: { reports.append($0) })
        let worker = caller(.emitBatch)
        let tally = runner.run(reader: &reader) { _ in
            var mine = worker
            return { mine.handle($0) }
        }
        _ = output.collect()
        #expect(tally.failed == 1)
        #expect(reports == ["line 1: line of 100 bytes is over the 64-byte limit"])
    }

    @Test func anIdenticalRequestIsAnsweredFromTheCacheAndErrorsAreNotKept() throws {
        let transport = ScriptedTransport([
            .http(status: 500, chunks: []),
            ok(completionBody(toolArguments: #"{"output":"hey","persona":"haven","mood":"warm"}"#)),
        ])
        let cache = MemoryCache()
        var worker = caller(.server(client(maxRetries: 0), makeTransport: { transport }), cache: cache)

        let failed = worker.handle(item(turn("t1")))
        #expect(failed.kind == .failed(.gaveUp))
        #expect(cache.answers.isEmpty)

        let first = worker.handle(item(turn("t1")))
        #expect(first.kind == .answered)
        #expect(cache.answers.count == 1)
        let second = worker.handle(item(turn("t2")))
        #expect(second.kind == .cached)
        #expect(transport.bodies.count == 2)
        let record = try JSONParser.parse(second.line!)
        #expect(record["turn"] == "t2")
        #expect(record["cached"] == true)
        #expect(record["reply"]?["output"] == "hey")
        #expect(record["latency_ms"] != nil && record["usage"] != nil)
    }

    @Test func theCacheKeyIgnoresStreamFlagsButNotTheServerOrTheBody() {
        let worker = caller(.emitBatch)
        var streamed = Self.request
        streamed["stream"] = true
        #expect(worker.cacheKey(Self.request) == worker.cacheKey(streamed))
        var other = Self.request
        other["model"] = "n"
        #expect(worker.cacheKey(Self.request) != worker.cacheKey(other))
        var elsewhere = worker
        elsewhere.cacheScope = "http://y/v1/chat/completions"
        #expect(worker.cacheKey(Self.request) != elsewhere.cacheKey(Self.request))
    }

    @Test func emitBatchWritesOneRequestLinePerTurnWithUniqueCustomIDs() throws {
        var worker = caller(.emitBatch)
        worker.model = "gpt-batch"
        let line = try JSONParser.parse(worker.handle(item(turn("t1"))).line!)
        #expect(line["custom_id"] == "t1")
        #expect(line["method"] == "POST")
        #expect(line["url"] == "/v1/chat/completions")
        #expect(line["body"]?["model"] == "gpt-batch")
        #expect(line["body"]?["messages"] == .array([["role": "user", "content": "hi"]]))

        let repeated = worker.handle(item(turn("t1"), 2))
        #expect(repeated.kind == .failed(.badRecord) && repeated.line == nil)
        #expect(repeated.report?.hasPrefix("line 2: turn id \"t1\" is already in the batch file") == true)
        let failedEarlier = worker.handle(item(#"{"turn":"t3","error":{"stage":"mira-prompt","code":"bad_json","message":"x"}}"#, 3))
        #expect(failedEarlier.line == nil)
    }

    @Test func aBatchOutputInAnyOrderIsMergedByCustomID() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        func answer(_ id: String, _ output: String) -> String {
            let body = String(decoding: completionBody(toolArguments: #"{"output":"\#(output)","persona":"default","mood":"calm"}"#), as: UTF8.self)
            return #"{"id":"batch_req_\#(id)","custom_id":"\#(id)","response":{"status_code":200,"request_id":"r","body":\#(body)},"error":null}"#
        }
        let lines = [
            answer("t3", "third"),
            #"{"id":"batch_req_x","custom_id":"t2","response":null,"error":{"code":"batch_expired","message":"not done in time"}}"#,
            "not json at all",
            answer("t1", "first"),
            #"{"id":"batch_req_y","custom_id":"t4","response":{"status_code":429,"body":{"error":{"message":"slow down","code":"rate_limit_exceeded"}}},"error":null}"#,
        ]
        directory.write("output.jsonl", lines.joined(separator: "\n") + "\n")
        let file = try BatchOutputFile(path: directory.path + "/output.jsonl")
        #expect(file.count == 4 && file.unreadable == 1)
        var worker = caller(.batchOutput(file))

        let outcomes = ["t1", "t2", "t3", "t4", "t5"].enumerated().map { worker.handle(item(turn($1), $0 + 1)) }
        #expect(outcomes.map(\.kind) == [.answered, .failed(.gaveUp), .answered, .failed(.gaveUp), .failed(.notInBatch)])
        let records = try outcomes.map { try JSONParser.parse($0.line!) }
        #expect(records[0]["reply"]?["output"] == "first")
        #expect(records[2]["reply"]?["output"] == "third")
        #expect(records[1]["error"]?["message"]?.stringValue?.contains("batch_expired") == true)
        #expect(records[3]["error"]?["message"]?.stringValue?.contains("429") == true)
        #expect(records[4]["error"]?["code"] == "not_in_batch")
    }

    @Test func aReplyStreamedOntoTheScreenIsMarkedButNotInTheCache() throws {
        let transport = ScriptedTransport([.http(status: 200, chunks: sseChunks(streamedReply, pieceSize: 16))])
        let cache = MemoryCache()
        var worker = caller(.server(client(stream: true), makeTransport: { transport }), cache: cache)
        worker.marksStreamed = true
        let record = try JSONParser.parse(worker.handle(item(turn("t1"))).line!)
        #expect(record["streamed"] == true)
        #expect(record["reply"]?["output"] == "hey")
        #expect(cache.answers.count == 1 && cache.answers.values.allSatisfy { $0["streamed"] == nil })
        // From the cache nothing streams: save must show that reply.
        let cached = try JSONParser.parse(worker.handle(item(turn("t2"))).line!)
        #expect(cached["cached"] == true && cached["streamed"] == nil)
    }

    @Test func aMarkFromAnEarlierRunIsDropped() throws {
        let transport = ScriptedTransport([ok(completionBody(toolArguments: #"{"output":"hey","persona":"haven","mood":"warm"}"#))])
        var worker = caller(.server(client(), makeTransport: { transport }))
        worker.marksStreamed = true  // streaming asked for, but this client does not stream
        let marked = JSONWriter.string(["turn": "t1", "request": .object(Self.request), "streamed": true])
        let record = try JSONParser.parse(worker.handle(item(marked)).line!)
        #expect(record["reply"]?["output"] == "hey")
        #expect(record["streamed"] == nil)
    }

    @Test func aTurnTheResumeFileAnsweredWritesNothing() {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        directory.write("done.jsonl", #"{"turn":"t1","reply":{"output":"o","persona":"default","mood":"m"}}"# + "\n")
        let fd = open(directory.path + "/done.jsonl", O_RDONLY)
        let finished = FinishedTurns(readingFrom: fd)
        close(fd)
        var worker = caller(.emitBatch, finished: finished)
        let outcome = worker.handle(item(turn("t1")))
        #expect(outcome.kind == .resumed && outcome.line == nil)
    }
}

@Suite struct BatchReportWords {
    @Test func theExitStatusCountsFailuresUpTo63() {
        var tally = BatchTally()
        #expect(BatchReport.exitStatus(tally) == 0)
        tally.failed = 5
        #expect(BatchReport.exitStatus(tally) == 5)
        tally.failed = 500
        #expect(BatchReport.exitStatus(tally) == 63)
        tally.outputBroken = true
        #expect(BatchReport.exitStatus(tally) == 74)
    }

    @Test func theSummarySaysWhatHappened() {
        var tally = BatchTally()
        tally.done = 5000; tally.answered = 4990; tally.cached = 3; tally.failed = 7
        tally.failures = ["gave_up": 5, "invalid_reply": 2]
        tally.tokensIn = 1_234_567; tally.tokensOut = 45_600
        let line = BatchReport.summary(tally, elapsedMilliseconds: 7900, backoffs: 2)
        #expect(line == "5000 records in 7.9s (632.9/s); 4990 answered; 3 from cache; 7 failed (gave_up 5, invalid_reply 2); tokens 1.2M in, 45.6k out; backed off 2 times on 429")
    }

    @Test func aSingleTurnStoppedBySignalGetsOnePlainLine() {
        #expect(BatchReport.turnStopped(signal: 2, unanswered: true) == "stopped (Ctrl-C); the turn was not answered")
        #expect(BatchReport.turnStopped(signal: 15, unanswered: true) == "stopped (SIGTERM); the turn was not answered")
        #expect(BatchReport.turnStopped(signal: 2, unanswered: false) == "stopped (Ctrl-C)")
        #expect(BatchReport.turnStopped(signal: 1, unanswered: true) == "stopped (signal 1); the turn was not answered")
    }

    @Test func progressShowsDoneOfTotalRateAndETA() {
        var tally = BatchTally()
        tally.done = 1200; tally.failed = 2
        #expect(BatchReport.progress(tally, total: 5000, elapsedMilliseconds: 20_000) == "1200/5000 · 60.0/s · ETA 1m03s · 2 failed")
        #expect(BatchReport.progress(tally, total: nil, elapsedMilliseconds: 20_000) == "1200 done · 60.0/s · 2 failed")
    }
}

@Suite struct NumbersFromOutside {
    @Test func tokenCountsSaturateInTheBatchSummary() {
        var tally = BatchTally()
        for _ in 0..<2 { tally.add(TurnOutcome(kind: .answered, line: nil, tokensIn: .max, tokensOut: .max)) }
        tally.add(TurnOutcome(kind: .answered, line: nil, tokensIn: -5, tokensOut: .min))
        #expect(tally.tokensIn == .max && tally.tokensOut == .max)
        #expect(BatchReport.summary(tally, elapsedMilliseconds: 10).contains("tokens"))
    }
}

@Suite struct ResponseHeaderLines {
    @Test func anExhaustedQuotaOnCRLFLinesPausesTheBatch() {
        let parsed = parsedHeaders("HTTP/1.1 200 OK\r\n", "X-RateLimit-Remaining-Requests: 0\r\n", "X-RateLimit-Reset-Requests: 3s\r\n")
        var throttle = Throttle(ceiling: 4)
        guard case .go(let ticket) = throttle.start(now: 1000, tokens: 1) else { Issue.record("should start"); return }
        throttle.finish(ticket: ticket, status: 200, headers: parsed, now: 1000)
        #expect(throttle.start(now: 1000, tokens: 1) == .wait(milliseconds: 3000))
    }
}

/// A streamed tool call whose reply says "hey".
let streamedReply = [
    #"{"model":"gpt-test","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"format_response","arguments":""}}]}}]}"#,
    #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"output\":\"hey\",\"persona\":\"haven\",\"mood\":\"warm\"}"}}]}}]}"#,
    #"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
    "[DONE]",
]
