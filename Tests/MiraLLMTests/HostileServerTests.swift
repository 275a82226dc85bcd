#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MiraLLM
import MiraPrompt
import MiraShared
import MiraSystem
import MiraTestSupport

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

    @Test func aHugeMaxTokensInARecordDoesNotOverflowTheEstimate() {
        let body: JSONObject = ["max_tokens": .int(.max), "max_completion_tokens": .int(.max)]
        #expect(ChatClient.estimatedTokens(body, bytes: 1 << 20) == .max)
        #expect(ChatClient.estimatedTokens(["max_tokens": -7], bytes: 40) == 10)
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

    @Test func aNotFoundNamesTheURLAndHintsAtV1OnlyWhenTheBaseLacksIt() {
        func message(_ url: String) -> String {
            let verdict = CompletionReader.verdict(status: 404, headers: [:], body: Array(#"{"error":{"message":"no"}}"#.utf8), now: 0, url: url)
            guard case .failure(let error) = verdict else { Issue.record("\(verdict)"); return "" }
            #expect(error.code == .badRequest)
            return error.message
        }
        #expect(message("http://u:p@h:1/chat/completions") == "server answered 404 for http://***@h:1/chat/completions: no; the base URL usually ends in /v1 (check OPENAI_BASE_URL or --base-url)")
        #expect(message("http://h/api/v1/chat/completions") == "server answered 404 for http://h/api/v1/chat/completions: no")
        #expect(message("http://h/v1?k=S/chat/completions") == "server answered 404 for http://h/v1?k=***: no")
        #expect(URLText.baseEndsInV1(completionsURL: "http://h/v1/chat/completions"))
        #expect(!URLText.baseEndsInV1(completionsURL: "http://h/v2/chat/completions"))
        #expect(!URLText.baseEndsInV1(completionsURL: "http://h/xv1/chat/completions"))
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

