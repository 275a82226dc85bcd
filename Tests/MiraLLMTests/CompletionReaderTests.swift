import Testing
@testable import MiraLLM
import MiraPrompt
import MiraShared
import MiraSystem
import MiraTestSupport

@Suite struct CompletionReading {
    @Test func aToolCallIsASuccessWithReplyModelAndUsage() throws {
        let verdict = CompletionReader.verdict(body: completionBody(toolArguments: validArguments), request: try buildRequest())
        #expect(verdict == .success(Completion(
            reply: Reply(output: "Hey.", persona: "default", mood: "wry"), model: "gpt-test",
            usage: ["prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7])))
    }

    @Test func plainContentInToolsModeMeansTheToolWasIgnored() throws {
        let verdict = CompletionReader.verdict(body: completionBody(content: "just chatting"), request: try buildRequest())
        #expect(verdict == .ignoredTools(content: "just chatting"))
    }

    @Test func jsonContentInJSONSchemaModeIsASuccess() throws {
        let request = try buildRequest(settings: PromptSettings(model: "m", structured: .jsonSchema))
        let verdict = CompletionReader.verdict(body: completionBody(content: validArguments), request: request)
        guard case .success(let completion) = verdict else {
            Issue.record("expected success, got \(verdict)")
            return
        }
        #expect(completion.reply == Reply(output: "Hey.", persona: "default", mood: "wry"))
    }

    @Test func argumentsThatBreakTheContractAreAnInvalidReply() throws {
        let verdict = CompletionReader.verdict(
            body: completionBody(toolArguments: #"{"output":"Hey.","persona":"robot","mood":"wry"}"#), request: try buildRequest())
        #expect(verdict.failureCode == .invalidReply)
    }

    @Test func theFactsARememberHoldsComeWithTheReply() throws {
        let arguments = #"{"output":"Hey.","persona":"default","mood":"wry","remember":[{"topic":"Pet","fact":"has a cat called Miso"}]}"#
        let verdict = CompletionReader.verdict(body: completionBody(toolArguments: arguments), request: try buildRequest())
        guard case .success(let completion) = verdict else {
            Issue.record("expected success, got \(verdict)")
            return
        }
        #expect(completion.reply.remember == [Fact(topic: "pet", text: "has a cat called Miso")])
    }

    @Test func aMalformedRememberIsAnInvalidReplySayingWhy() throws {
        let arguments = #"{"output":"Hey.","persona":"default","mood":"wry","remember":[{"topic":"pet"}]}"#
        let verdict = CompletionReader.verdict(body: completionBody(toolArguments: arguments), request: try buildRequest())
        #expect(verdict == .failure(StageError(.invalidReply, "reply remember[0] has no fact")))
    }

    @Test func argumentsThatAreNotJSONAreAnInvalidReply() throws {
        let verdict = CompletionReader.verdict(body: completionBody(toolArguments: #"{"output":"He"#), request: try buildRequest())
        #expect(verdict.failureCode == .invalidReply)
    }

    @Test func aCallOfAnotherFunctionIsAnInvalidReply() throws {
        var body = String(decoding: completionBody(toolArguments: validArguments), as: UTF8.self)
        body = body.replacing("format_response", with: "other_function")
        let verdict = CompletionReader.verdict(body: Array(body.utf8), request: try buildRequest())
        #expect(verdict.failureCode == .invalidReply)
    }

    @Test func aBodyThatIsNotJSONIsABadResponse() throws {
        let verdict = CompletionReader.verdict(body: Array("<html>oops</html>".utf8), request: try buildRequest())
        #expect(verdict.failureCode == .badResponse)
    }

    @Test func aCompletionWithoutChoicesIsABadResponse() throws {
        let verdict = CompletionReader.verdict(body: Array(#"{"choices":[]}"#.utf8), request: try buildRequest())
        #expect(verdict.failureCode == .badResponse)
    }

    @Test func aRefusalIsAnInvalidReply() throws {
        let body = JSONWriter.bytes(["choices": [["message": ["role": "assistant", "content": nil, "refusal": "no"]]]])
        let verdict = CompletionReader.verdict(body: body, request: try buildRequest())
        #expect(verdict.failureCode == .invalidReply)
    }
}

@Suite struct ErrorStatusReading {
    func verdict(_ status: Int, _ headers: [String: String] = [:], body: String = "") -> Verdict {
        CompletionReader.verdict(status: status, headers: headers, body: Array(body.utf8), now: 1_000_000)
    }

    @Test func unauthorisedIsARejectedKey() {
        let v = verdict(401, body: #"{"error":{"message":"Incorrect API key","code":"invalid_api_key"}}"#)
        #expect(v.failureCode == .rejectedKey)
        #expect(v.failureMessage?.contains("Incorrect API key") == true)
    }

    @Test func forbiddenIsARejectedKey() {
        #expect(verdict(403).failureCode == .rejectedKey)
    }

    @Test func insufficientQuotaIsAFailureNotARetry() {
        let v = verdict(429, body: #"{"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}}"#)
        #expect(v.failureCode == .insufficientQuota)
    }

    @Test func rateLimitIsRetriedAfterTheServersRetryAfterMs() {
        let v = verdict(429, ["retry-after-ms": "50"], body: #"{"error":{"message":"slow down","code":"rate_limit_exceeded"}}"#)
        guard case .retryable(let error, let after) = v else {
            Issue.record("expected retryable, got \(v)")
            return
        }
        #expect(after == 50)
        #expect(error.code == .gaveUp)
    }

    @Test func serverErrorIsRetryable() {
        #expect(verdict(500).isRetryable)
        #expect(verdict(503, body: "upstream down").isRetryable)
    }

    @Test func badRequestIsAFailure() {
        #expect(verdict(400, body: #"{"error":{"message":"bad field"}}"#).failureCode == .badRequest)
        #expect(verdict(404).failureCode == .badRequest)
    }

    @Test func shouldRetryFalseOverridesARetryableStatus() {
        let v = verdict(500, ["x-should-retry": "false"])
        #expect(!v.isRetryable)
        #expect(v.failureCode == .gaveUp)
    }

    @Test func shouldRetryTrueOverridesANonRetryableStatus() {
        #expect(verdict(400, ["x-should-retry": "true"]).isRetryable)
    }
}

extension Verdict {
    var failureCode: ErrorCode? {
        if case .failure(let error) = self { return error.code }
        return nil
    }

    var failureMessage: String? {
        if case .failure(let error) = self { return error.message }
        return nil
    }

    var isRetryable: Bool {
        if case .retryable = self { return true }
        return false
    }
}
