import Testing
@testable import MiraLLM
import MiraShared
import MiraTestSupport

@Suite struct RetryNoticeHook {
    /// The notices a client gave, in order.
    final class Heard {
        var notices: [RetryNotice] = []
    }

    func listening(_ heard: Heard, stream: Bool = false, maxRetries: Int = 3, waits: Waits = Waits()) -> ChatClient {
        var listening = client(stream: stream, maxRetries: maxRetries, waits: waits)
        listening.onRetry = { heard.notices.append($0) }
        return listening
    }

    @Test func eachRetryIsHeardWithItsStatusWaitAndCountBeforeItsWait() throws {
        let heard = Heard()
        let waits = Waits()
        let transport = ScriptedTransport([
            .http(status: 429, headers: ["retry-after-ms": "2000"], chunks: []),
            .http(status: 503, chunks: [Array("down".utf8)]),
            ok(completionBody(toolArguments: validArguments)),
        ])
        _ = try listening(heard, waits: waits).complete(try buildRequest(), transport: transport)
        #expect(heard.notices.map(\.cause) == [.status(429), .status(503)])
        #expect(heard.notices.map(\.waitMilliseconds) == [2000, 1000])
        #expect(heard.notices.map(\.waitMilliseconds) == waits.milliseconds)
        #expect(heard.notices.map(\.retry) == [1, 2])
        #expect(heard.notices.allSatisfy { $0.maxRetries == 3 })
        #expect(heard.notices[1].message == "server answered 503: down")
    }

    @Test func aFailureWithNoRetryLeftIsNotAnnounced() throws {
        let heard = Heard()
        let transport = ScriptedTransport([.http(status: 500, chunks: [])], repeatLast: true)
        let request = try buildRequest()
        _ = failureCode { _ = try listening(heard, maxRetries: 1).complete(request, transport: transport) }
        #expect(heard.notices.map(\.retry) == [1])
        #expect(transport.bodies.count == 2)
    }

    @Test(arguments: [
        (TransportFailure.Kind.timeout, RetryCause.timeout),
        (.unreachable, .unreachable),
        (.broken, .broken),
    ])
    func aTransportFailureNamesItsKind(kind: TransportFailure.Kind, cause: RetryCause) throws {
        let heard = Heard()
        let transport = ScriptedTransport([.broken(TransportFailure(kind, "x")), ok(completionBody(toolArguments: validArguments))])
        _ = try listening(heard).complete(try buildRequest(), transport: transport)
        #expect(heard.notices.map(\.cause) == [cause])
    }

    @Test func aStreamsErrorEventGivesItsCodeAsTheStatus() throws {
        let heard = Heard()
        let transport = ScriptedTransport([
            .http(status: 200, chunks: [Array(#"error: {"code":503,"message":"Loading model","type":"unavailable_error"}"#.utf8) + [0x0A, 0x0A]]),
            .http(status: 200, chunks: sseChunks(Array(toolCallChunks.prefix(2)), pieceSize: 64)),
            .http(status: 200, chunks: sseChunks(toolCallChunks, pieceSize: 64)),
        ])
        _ = try listening(heard, stream: true).complete(try buildRequest(), transport: transport)
        // The second stream ends before [DONE]: cut off, so the connection counts as broken.
        #expect(heard.notices.map(\.cause) == [.status(503), .broken])
    }

    @Test func anErrorInsideAnOKAnswerIsAReportedError() throws {
        let heard = Heard()
        let body = #"{"error":{"message":"overloaded","type":"server_error"}}"#
        let transport = ScriptedTransport([ok(Array(body.utf8)), ok(completionBody(toolArguments: validArguments))])
        _ = try listening(heard).complete(try buildRequest(), transport: transport)
        #expect(heard.notices.map(\.cause) == [.reportedError])
    }
}

@Suite struct RetryWords {
    func notice(_ cause: RetryCause, wait: Int = 2000, retry: Int = 2) -> RetryNotice {
        RetryNotice(cause: cause, waitMilliseconds: wait, retry: retry, maxRetries: 3, message: "m")
    }

    @Test func eachCauseIsSaidPlainly() {
        #expect(notice(.status(429)).words() == "server busy (429), retrying in 2 s, 2 of 3")
        #expect(notice(.status(503)).words() == "server error (503), retrying in 2 s, 2 of 3")
        #expect(notice(.status(500), wait: 500, retry: 1).words() == "server error (500), retrying in 0.5 s, 1 of 3")
        #expect(notice(.status(408)).words() == "server timed out (408), retrying in 2 s, 2 of 3")
        #expect(notice(.status(409)).words() == "server busy (409), retrying in 2 s, 2 of 3")
        #expect(notice(.status(418)).words() == "server answered 418, retrying in 2 s, 2 of 3")
        #expect(notice(.reportedError).words() == "server reported an error, retrying in 2 s, 2 of 3")
        #expect(notice(.timeout).words(timeoutMilliseconds: 120_000) == "no answer within 120 s, retrying in 2 s, 2 of 3")
        #expect(notice(.timeout).words() == "no answer in time, retrying in 2 s, 2 of 3")
        #expect(notice(.unreachable).words() == "cannot reach the server, retrying in 2 s, 2 of 3")
        #expect(notice(.broken).words() == "connection broken, retrying in 2 s, 2 of 3")
    }

    @Test func waitsAreShortToTheTenthAndLongToTheSecond() {
        #expect(RetryNotice.seconds(0) == "0 ms")
        #expect(RetryNotice.seconds(50) == "50 ms")
        #expect(RetryNotice.seconds(375) == "0.4 s")
        #expect(RetryNotice.seconds(1000) == "1 s")
        #expect(RetryNotice.seconds(1875) == "1.9 s")
        #expect(RetryNotice.seconds(1960) == "2 s")
        #expect(RetryNotice.seconds(8800) == "8.8 s")
        #expect(RetryNotice.seconds(12_345) == "12 s")
        #expect(RetryNotice.seconds(120_000) == "120 s")
    }
}
