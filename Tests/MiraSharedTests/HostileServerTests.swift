#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MiraShared

/// What a server sends is read right, and nothing it sends can trap.
@Suite struct ResponseHeaderLines {
    func headers(_ lines: String...) -> [String: String] {
        var parsed = ResponseHeaders()
        for line in lines { parsed.add(line: Array(line.utf8)) }
        return parsed.fields
    }

    @Test func aCRLFLineGivesTheBareValue() {
        // "\r\n" is one Character in Swift: a Character-wise trim kept it, and Double("1\r\n") is nil.
        let parsed = headers("HTTP/1.1 429 Too Many Requests\r\n", "Retry-After: 1\r\n", "X-Should-Retry: true\r\n", "\r\n")
        #expect(parsed == ["retry-after": "1", "x-should-retry": "true"])
    }

    @Test func aRetryAfterOnCRLFLinesIsWaitedFor() {
        let parsed = headers("HTTP/1.1 429 Too Many Requests\r\n", "Retry-After: 1\r\n")
        let after = RetryPolicy.retryAfterMilliseconds(headers: parsed, now: 0)
        #expect(after == 1000)
        #expect(RetryPolicy().delay(retry: 0, retryAfterMilliseconds: after, jitter: 0) == 1000)
    }

    @Test func anExhaustedQuotaOnCRLFLinesPausesTheBatch() {
        let parsed = headers("HTTP/1.1 200 OK\r\n", "X-RateLimit-Remaining-Requests: 0\r\n", "X-RateLimit-Reset-Requests: 3s\r\n")
        var throttle = Throttle(ceiling: 4)
        guard case .go(let ticket) = throttle.start(now: 1000, tokens: 1) else { Issue.record("should start"); return }
        throttle.finish(ticket: ticket, status: 200, headers: parsed, now: 1000)
        #expect(throttle.start(now: 1000, tokens: 1) == .wait(milliseconds: 3000))
    }

    @Test func aNewStatusLineStartsANewResponse() {
        #expect(headers("HTTP/1.1 307 Temporary Redirect\r\n", "Location: x\r\n", "HTTP/1.1 200 OK\r\n", "A: b\r\n") == ["a": "b"])
    }

    @Test func linesThatAreNotFieldsAreIgnored() {
        #expect(headers(": no name\r\n", "bad name: x\r\n", "no colon at all\r\n").isEmpty)
    }

    @Test func aHugeValueIsCut() {
        let parsed = headers("X-Big: " + String(repeating: "a", count: 100_000) + "\r\n")
        #expect(parsed["x-big"]?.utf8.count == ResponseHeaders.maxValueBytes)
    }
}

@Suite struct HostileRetryAfter {
    @Test func anHTTPDateWithAHugeYearIsNotADate() {
        // Int32(day) trapped on this: one header killed the whole batch.
        #expect(RetryPolicy.httpDate("Wed, 21 Oct 99999999999 07:28:00 GMT") == nil)
        #expect(RetryPolicy.retryAfterMilliseconds(headers: ["retry-after": "Wed, 21 Oct 99999999999 07:28:00 GMT"], now: 0) == nil)
    }

    @Test func fieldsOutOfTheirRangesAreNotADate() {
        for text in ["Wed, 99999999999999 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 99999999999:28:00 GMT",
                     "Wed, 21 Oct 2015 07:61:00 GMT", "Wed, 0 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:28 GMT"] {
            #expect(RetryPolicy.httpDate(text) == nil, "\(text)")
        }
    }

    @Test func realDatesStillRead() {
        #expect(RetryPolicy.httpDate("Wed, 21 Oct 2015 07:28:00 GMT") == 1_445_412_480)
        #expect(RetryPolicy.httpDate("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(RetryPolicy.httpDate("Tue, 29 Feb 2000 12:00:00 GMT") == 951_825_600)
        #expect(RetryPolicy.httpDate("Fri, 31 Dec 9999 23:59:59 GMT") == 253_402_300_799)
    }

    @Test func aDateFarFromAHostileClockIsClampedNotOverflowed() {
        let date = "Fri, 31 Dec 9999 23:59:59 GMT"
        #expect(RetryPolicy.retryAfterMilliseconds(headers: ["retry-after": date], now: Int.min) == 86_400_000)
        #expect(RetryPolicy.retryAfterMilliseconds(headers: ["retry-after": date], now: Int.max) == 0)
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

    @Test func aHugeMaxTokensInARecordDoesNotOverflowTheEstimate() {
        let body: JSONObject = ["max_tokens": .int(.max), "max_completion_tokens": .int(.max)]
        #expect(ChatClient.estimatedTokens(body, bytes: 1 << 20) == .max)
        #expect(ChatClient.estimatedTokens(["max_tokens": -7], bytes: 40) == 10)
    }

    @Test func hugeUsageAndPricesGiveANumberNotATrap() throws {
        var report = EvalReport()
        var score = Score()
        score.promptTokens = 9_000_000_000_000_000_000
        score.completionTokens = .max
        report.add(score)
        report.add(score)
        #expect(report.promptTokens == .max)
        let cost = report.cost(Prices(input: 2.5, output: 1_000_000))
        #expect(cost.input > 0 && cost.input.isFinite)
        let shown = JSONWriter.string(report.json(ReportOptions(prices: Prices(input: 2.5, output: 1_000_000))))
        #expect((try? JSONParser.parse(shown)) != nil, "the report stays JSON: \(shown)")
        _ = report.text(ReportOptions(prices: Prices(input: 2.5, output: 1_000_000)))
    }

    @Test func decimalTextWritesAnyDouble() {
        #expect(DecimalText.fixed(2.25e13, places: 6) == "22500000000000.0")
        #expect(DecimalText.trimmed(2.25e13, places: 6) == "22500000000000")
        #expect(DecimalText.fixed(.infinity, places: 2) == "inf")
        #expect(DecimalText.fixed(0.125, places: 2) == "0.13")
        #expect(DecimalText.trimmed(1e300, places: 6) == "1e+300")
    }

    @Test func negativeUsageOrLatencyFailsInvalidUsage() throws {
        let line = #"{"reply":{"output":"hi","persona":"default","mood":"calm"},"usage":{"prompt_tokens":-5,"completion_tokens":3},"latency_ms":-1}"#
        let score = Score(record: try Record(line: Array(line.utf8)), settings: EvalSettings())
        #expect(score.failed == [.invalidUsage])
        #expect(score.promptTokens == 0 && score.latencyMilliseconds == nil)
    }
}

@Suite struct RedactedURLs {
    @Test func userInfoAndQueryValuesAreHidden() {
        #expect(URLText.redacted("http://user:pass@127.0.0.1:1/v1?api-key=SECRET&x=2#frag") == "http://***@127.0.0.1:1/v1?api-key=***&x=***")
        #expect(URLText.redacted("https://api.example.com/v1?SECRETTOKEN") == "https://api.example.com/v1?***")
        #expect(URLText.redacted("https://api.openai.com/v1") == "https://api.openai.com/v1")
    }

    @Test func anAtSignInThePathIsNotUserInfo() {
        #expect(URLText.redacted("http://host/v1/@me") == "http://host/v1/@me")
    }

    @Test func aRedirectSaysWhereTo() {
        let verdict = CompletionReader.verdict(status: 307, headers: ["location": "http://u:p@127.0.0.1:9/moved/v1/chat/completions?key=S"],
                                               body: Array("Moved.".utf8), now: 0)
        guard case .failure(let error) = verdict else { Issue.record("\(verdict)"); return }
        #expect(error.message.contains("redirect to http://***@127.0.0.1:9/moved/v1/chat/completions?key=***"))
        #expect(!error.message.contains("u:p") && !error.message.contains("=S"))
    }
}

@Suite struct StreamFlagsStayOutOfRecords {
    @Test func aStreamedReplysRequestIsSavedWithoutStreamFlags() throws {
        let chunks = sseChunks([
            #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"format_response","arguments":"{\"output\":\"Hey.\",\"persona\":\"default\",\"mood\":\"wry\"}"}}]}}]}"#,
            "[DONE]",
        ], pieceSize: 13)
        let transport = ScriptedTransport([.http(status: 200, chunks: chunks)])
        let (_, sent) = try client(stream: true).complete(try buildRequest(), transport: transport)
        #expect(transport.bodies.first?["stream"] == true)
        #expect(sent["stream"] == nil && sent["stream_options"] == nil)
    }

    @Test func aRecordThatKeptStreamFlagsIsAskedWithoutThem() throws {
        var request = try buildRequest()
        request["stream"] = true
        request["stream_options"] = ["include_usage": true]
        let transport = ScriptedTransport([ok(completionBody(toolArguments: validArguments))])
        _ = try client().complete(request, transport: transport)
        #expect(transport.bodies.first?["stream"] == nil)
    }
}

@Suite struct TerminalTextIsHarmless {
    @Test func escapesBecomeVisible() {
        let shown = TerminalText.visible(Array("hi \u{1B}]0;PWNED\u{07}\u{1B}[2J there\r\n".utf8))
        #expect(String(decoding: shown, as: UTF8.self) == "hi ^[]0;PWNED^G^[[2J there^M\n")
    }

    @Test func c1ControlsAndBrokenUTF8BecomeReplacementCharacters() {
        let shown = TerminalText.visible([0x61, 0xC2, 0x9B, 0x32, 0x4A, 0xFF, 0x62])
        #expect(String(decoding: shown, as: UTF8.self) == "a\u{FFFD}2J\u{FFFD}b")
    }

    @Test func plainTextAndUnicodeAreUntouched() {
        let text = "Hey, you. café 🌙\n\tok"
        #expect(TerminalText.visible(Array(text.utf8)) == Array(text.utf8))
    }

    @Test func aTableFieldShowsItsTabsAndLineBreaks() {
        #expect(TerminalText.field("2026\t99\nforged") == "2026^I99^Jforged")
    }

    @Test func aCharacterCutBetweenStreamPiecesIsShownWhole() {
        var stream = TerminalStreamText()
        let moon = Array("🌙".utf8)
        let first = stream.visible([0x61] + moon[..<2])
        let second = stream.visible(Array(moon[2...]) + [0x1B])
        #expect(String(decoding: first + second + stream.finish(), as: UTF8.self) == "a🌙^[")
    }

    @Test func aWriterOnAPipeWritesBytesExactly() {
        let output = OutputPipe()
        #expect(!output.writer.isTerminal)
        output.writer.writeLine("a\u{1B}[2Jb")
        #expect(output.collect() == ["a\u{1B}[2Jb"])
    }
}

@Suite struct ReadErrorsAreNotEndsOfInput {
    @Test func aFolderIsRefusedWhenOpened() {
        guard case .failure(let problem) = Files.openForReading("/tmp") else { Issue.record("a folder opened"); return }
        #expect(problem.reason == "it is a directory")
    }

    @Test func readingAFolderIsAnErrorNotAnEmptyInput() {
        let fd = open("/tmp", O_RDONLY)
        defer { close(fd) }
        var reader = LineReader(fd: fd)
        #expect(reader.next() == nil)
        #expect(reader.readError != nil)
    }
}
