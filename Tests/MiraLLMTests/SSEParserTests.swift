import Testing
@testable import MiraLLM
import MiraPrompt
import MiraShared
import MiraSystem
import MiraTestSupport

@Suite struct SSEParsing {
    let sample = Array("""
        : keep-alive

        data: {"a":1}

        event: message
        id: 7
        data: first
        data: second

        data: caf\u{E9} \u{2713}

        data: [DONE]


        """.utf8)

    let expected: [SSEEvent] = [.data(#"{"a":1}"#), .data("first\nsecond"), .data("café ✓"), .data("[DONE]")]

    func events(_ pieces: [[UInt8]]) -> [SSEEvent] {
        var parser = SSEParser()
        return pieces.flatMap { parser.feed($0) }
    }

    @Test func aWholeStreamGivesEachEventsData() {
        #expect(events([sample]) == expected)
    }

    @Test func splittingTheStreamAtAnyByteGivesTheSameEvents() {
        for cut in 0...sample.count {
            let pieces = [Array(sample[..<cut]), Array(sample[cut...])]
            #expect(events(pieces) == expected, "split at byte \(cut)")
        }
    }

    @Test func feedingOneByteAtATimeGivesTheSameEvents() {
        #expect(events(sample.map { [$0] }) == expected)
    }

    @Test func crlfLineEndingsWork() {
        #expect(events([Array("data: a\r\n\r\ndata: b\r\n\r\n".utf8)]) == [.data("a"), .data("b")])
    }

    @Test func crlfSplitBetweenCRAndLFCountsAsOneLineEnd() {
        #expect(events([Array("data: a\r".utf8), Array("\n\r".utf8), Array("\n".utf8)]) == [.data("a")])
    }

    @Test func loneCRLineEndingsWork() {
        #expect(events([Array("data: a\r\rdata: b\r\r".utf8)]) == [.data("a"), .data("b")])
    }

    @Test func commentLinesAreIgnored() {
        #expect(events([Array(": ping\ndata: x\n: pong\n\n".utf8)]) == [.data("x")])
    }

    @Test func multipleDataLinesAreJoinedWithNewlines() {
        #expect(events([Array("data: one\ndata:two\ndata\n\n".utf8)]) == [.data("one\ntwo\n")])
    }

    @Test func aMultiByteCharacterSplitAcrossFeedsDecodes() {
        let bytes = Array("data: ✓é\n\n".utf8)  // ✓ is 3 bytes at offset 6
        #expect(events([Array(bytes[..<7]), Array(bytes[7..<10]), Array(bytes[10...])]) == [.data("✓é")])
    }

    @Test func doneComesThroughAsAnEvent() {
        #expect(events([Array("data: [DONE]\n\n".utf8)]) == [.data("[DONE]")])
    }

    @Test func otherFieldsAloneMakeNoEvent() {
        #expect(events([Array("event: ping\nid: 3\nretry: 10\n\n".utf8)]) == [])
    }

    @Test func anUnfinishedEventAtFinishIsDropped() {
        var parser = SSEParser()
        #expect(parser.feed(Array("data: complete\n\ndata: cut off\n".utf8)) == [.data("complete")])
        #expect(parser.finish() == nil)
        #expect(parser.feed(Array("\n".utf8)) == [])
    }

    // llama.cpp's server reports a failure mid-stream as an `error:` field.
    @Test func anErrorFieldIsAnErrorEvent() {
        let stream = "data: {\"a\":1}\n\nerror: {\"code\":400,\"message\":\"too long\"}\n\n"
        #expect(events([Array(stream.utf8)]) == [.data(#"{"a":1}"#), .error(#"{"code":400,"message":"too long"}"#)])
    }

    @Test func anEventNamedErrorIsAnErrorEvent() {
        let stream = "event: error\ndata: {\"error\":{\"message\":\"boom\"}}\n\ndata: next\n\n"
        #expect(events([Array(stream.utf8)]) == [.error(#"{"error":{"message":"boom"}}"#), .data("next")])
    }

    @Test func anErrorCutOffAtTheEndIsStillReported() {
        var parser = SSEParser()
        #expect(parser.feed(Array("error: {\"message\":\"gone\"}".utf8)) == [])
        #expect(parser.finish() == .error(#"{"message":"gone"}"#))
    }

    @Test func anErrorEventSplitAtAnyByteGivesTheSameEvent() {
        let stream = Array("error: {\"code\":500}\r\n\r\n".utf8)
        for cut in 0...stream.count {
            #expect(events([Array(stream[..<cut]), Array(stream[cut...])]) == [.error(#"{"code":500}"#)], "split at byte \(cut)")
        }
    }
}
