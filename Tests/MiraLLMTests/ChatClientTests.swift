import Testing
@testable import MiraLLM
import MiraPrompt
import MiraShared
import MiraSystem
import MiraTestSupport

@Suite struct ChatClientRetries {
    @Test func aServerErrorIsRetriedOnceThenSucceeds() throws {
        let waits = Waits()
        let transport = ScriptedTransport([
            .http(status: 500, chunks: [Array("oops".utf8)]),
            ok(completionBody(toolArguments: validArguments)),
        ])
        let (completion, _) = try client(waits: waits).complete(try buildRequest(), transport: transport)
        #expect(completion.reply.output == "Hey.")
        #expect(transport.bodies.count == 2)
        #expect(waits.milliseconds == [500])
    }

    @Test func retriesWaitTheServersRetryAfter() throws {
        let waits = Waits()
        let transport = ScriptedTransport([
            .http(status: 429, headers: ["retry-after-ms": "50"], chunks: []),
            ok(completionBody(toolArguments: validArguments)),
        ])
        _ = try client(waits: waits).complete(try buildRequest(), transport: transport)
        #expect(waits.milliseconds == [50])
    }

    @Test func givesUpAfterMaxRetries() throws {
        let waits = Waits()
        let transport = ScriptedTransport([.http(status: 503, chunks: [])], repeatLast: true)
        let request = try buildRequest()
        let error = failureCode { _ = try client(maxRetries: 2, waits: waits).complete(request, transport: transport) }
        #expect(error?.code == .gaveUp)
        #expect(error?.message.contains("gave up after 3 attempts") == true)
        #expect(transport.bodies.count == 3)
        #expect(waits.milliseconds == [500, 1000])
    }

    @Test func connectionRefusedEveryTimeIsUnreachable() throws {
        let transport = ScriptedTransport([.broken(TransportFailure(.unreachable, "connection refused"))], repeatLast: true)
        let request = try buildRequest()
        let error = failureCode { _ = try client(maxRetries: 1).complete(request, transport: transport) }
        #expect(error?.code == .unreachable)
        #expect(transport.bodies.count == 2)
    }

    @Test func aRejectedKeyIsNotRetried() throws {
        let waits = Waits()
        let transport = ScriptedTransport([.http(status: 401, chunks: [])], repeatLast: true)
        let request = try buildRequest()
        let error = failureCode { _ = try client(waits: waits).complete(request, transport: transport) }
        #expect(error?.code == .rejectedKey)
        #expect(transport.bodies.count == 1)
        #expect(waits.milliseconds.isEmpty)
    }

    @Test func aFatalTransportFailureIsNotRetried() throws {
        let transport = ScriptedTransport([.broken(TransportFailure(.fatal, "bad URL"))], repeatLast: true)
        let request = try buildRequest()
        let error = failureCode { _ = try client().complete(request, transport: transport) }
        #expect(error?.code == .unreachable)
        #expect(transport.bodies.count == 1)
    }

    @Test func anAnswerOverTheSizeLimitIsRefused() throws {
        var small = client()
        small.maxResponseBytes = 10
        let transport = ScriptedTransport([ok(completionBody(toolArguments: validArguments))])
        let request = try buildRequest()
        let error = failureCode { _ = try small.complete(request, transport: transport) }
        #expect(error?.code == .replyTooLarge)
    }
}

@Suite struct ChatClientFallback {
    @Test func plainTextInToolsModeIsAskedAgainWithAJSONSchema() throws {
        let transport = ScriptedTransport([
            ok(completionBody(content: "Hey, no tools here.")),
            ok(completionBody(content: validArguments)),
        ])
        let (completion, sent) = try client().complete(try buildRequest(), transport: transport)
        #expect(completion.reply == Reply(output: "Hey.", persona: "default", mood: "wry"))
        #expect(transport.bodies.count == 2)
        #expect(transport.bodies[0]["tools"] != nil)
        #expect(transport.bodies[1]["tools"] == nil)
        #expect(transport.bodies[1]["response_format"]?["type"] == "json_schema")
        #expect(ReplyContract.mode(of: sent) == .jsonSchema)
    }

    @Test func plainTextTwiceIsAnInvalidReply() throws {
        let transport = ScriptedTransport([ok(completionBody(content: "Just words."))], repeatLast: true)
        let request = try buildRequest()
        let error = failureCode { _ = try client().complete(request, transport: transport) }
        #expect(error?.code == .invalidReply)
        #expect(transport.bodies.count == 2)
    }
}

@Suite struct ChatClientServerLimitations {
    func answer400(_ message: String, param: String? = nil) -> ScriptedTransport.Answer {
        let param = param.map { #""\#($0)""# } ?? "null"
        return .http(status: 400, chunks: [Array(#"{"error":{"message":"\#(message)","type":"invalid_request_error","param":\#(param),"code":null}}"#.utf8)])
    }

    // Ollama and others answer a request with tools by 400, not by plain text.
    @Test func aServerWithoutToolsIsAskedAgainWithAJSONSchema() throws {
        let transport = ScriptedTransport([
            answer400("registry.ollama.ai/library/gemma:2b does not support tools"),
            ok(completionBody(content: validArguments)),
        ])
        let (completion, sent) = try client().complete(try buildRequest(), transport: transport)
        #expect(completion.reply.output == "Hey.")
        #expect(transport.bodies.count == 2)
        #expect(transport.bodies[1]["tools"] == nil && transport.bodies[1]["tool_choice"] == nil)
        #expect(transport.bodies[1]["response_format"]?["type"] == "json_schema")
        #expect(ReplyContract.mode(of: sent) == .jsonSchema)
    }

    @Test func aSecondRefusalIsABadRequest() throws {
        let transport = ScriptedTransport([answer400("model does not support tools")], repeatLast: true)
        let request = try buildRequest()
        let error = failureCode { _ = try client().complete(request, transport: transport) }
        #expect(error?.code == .badRequest)
        #expect(error?.message.contains("does not support tools") == true)
        #expect(transport.bodies.count == 2)
    }

    @Test func anOrdinaryBadRequestIsNotAskedAgain() throws {
        let transport = ScriptedTransport([answer400("Invalid value for 'temperature'")], repeatLast: true)
        let request = try buildRequest()
        #expect(failureCode { _ = try client().complete(request, transport: transport) }?.code == .badRequest)
        #expect(transport.bodies.count == 1)
    }

    @Test(arguments: [
        ("Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", "max_tokens" as String?,
         TokenLimitField.maxTokens, TokenLimitField.maxCompletionTokens),
        ("Unrecognized request argument supplied: max_completion_tokens", nil, .maxCompletionTokens, .maxTokens),
    ])
    func theOtherTokenLimitNameIsTriedOnce(message: String, param: String?, sent: TokenLimitField, wanted: TokenLimitField) throws {
        let transport = ScriptedTransport([answer400(message, param: param), ok(completionBody(toolArguments: validArguments))])
        let request = sent.applied(to: try buildRequest(settings: PromptSettings(model: "m", maxTokens: 50)))
        let (_, used) = try client().complete(request, transport: transport)
        #expect(transport.bodies.count == 2)
        #expect(transport.bodies[1][wanted.rawValue] == 50 && transport.bodies[1][sent.rawValue] == nil)
        #expect(used[wanted.rawValue] == 50)
    }
}

@Suite struct ChatClientStreamErrors {
    func streamed(_ events: [String], then tail: String) -> ScriptedTransport.Answer {
        .http(status: 200, chunks: sseChunks(events, pieceSize: 5) + [Array(tail.utf8)])
    }

    // llama.cpp's form: an `error:` line. A prompt over the context size stays over it.
    @Test func anErrorLineWithA400IsNotRetriedAndKeepsTheServersWords() throws {
        let waits = Waits()
        let transport = ScriptedTransport([
            streamed(Array(toolCallChunks.prefix(2)),
                     then: #"error: {"code":400,"message":"the request exceeds the available context size","type":"exceed_context_size_error"}"# + "\n\n"),
        ], repeatLast: true)
        let request = try buildRequest()
        let error = failureCode { _ = try client(stream: true, waits: waits).complete(request, transport: transport) }
        #expect(error?.code == .badRequest)
        #expect(error?.message.contains("exceeds the available context size") == true)
        #expect(transport.bodies.count == 1)
        #expect(waits.milliseconds.isEmpty)
    }

    @Test func anErrorLineWithA503IsRetried() throws {
        let transport = ScriptedTransport([
            streamed([], then: #"error: {"code":503,"message":"Loading model","type":"unavailable_error"}"# + "\n\n"),
            .http(status: 200, chunks: sseChunks(toolCallChunks, pieceSize: 64)),
        ])
        let (completion, _) = try client(stream: true).complete(try buildRequest(), transport: transport)
        #expect(completion.reply.output == "Hi there")
        #expect(transport.bodies.count == 2)
    }

    // OpenAI's form: a data chunk holding an error object.
    @Test func aDataErrorChunkIsReportedWithItsMessage() throws {
        let chunk = #"{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"#
        let transport = ScriptedTransport([.http(status: 200, chunks: sseChunks(Array(toolCallChunks.prefix(2)) + [chunk], pieceSize: 9))],
                                          repeatLast: true)
        let request = try buildRequest()
        let error = failureCode { _ = try client(stream: true, maxRetries: 1).complete(request, transport: transport) }
        #expect(error?.code == .gaveUp)
        #expect(error?.message.contains("The server had an error while processing your request.") == true)
        #expect(error?.message.contains("[DONE]") == false)
        #expect(transport.bodies.count == 2)
    }

    @Test func aDataErrorChunkForABadRequestIsNotRetried() throws {
        let chunk = #"{"error":{"message":"Invalid schema","type":"invalid_request_error","param":null,"code":null}}"#
        let transport = ScriptedTransport([.http(status: 200, chunks: sseChunks([chunk], pieceSize: 9))], repeatLast: true)
        let request = try buildRequest()
        #expect(failureCode { _ = try client(stream: true).complete(request, transport: transport) }?.code == .badRequest)
        #expect(transport.bodies.count == 1)
    }

    @Test func anEventNamedErrorIsReported() throws {
        let transport = ScriptedTransport([.http(status: 200, chunks: [Array("event: error\ndata: {\"message\":\"overloaded\"}\n\n".utf8)])],
                                          repeatLast: true)
        let request = try buildRequest()
        let error = failureCode { _ = try client(stream: true, maxRetries: 0).complete(request, transport: transport) }
        #expect(error?.code == .gaveUp)
        #expect(error?.message.contains("overloaded") == true)
    }
}

@Suite struct ChatClientStreaming {
    @Test func theBodyAsksForAStreamWithUsage() throws {
        let transport = ScriptedTransport([.http(status: 200, chunks: sseChunks(toolCallChunks, pieceSize: 7))])
        _ = try client(stream: true).complete(try buildRequest(), transport: transport)
        #expect(transport.bodies.first?["stream"] == true)
        #expect(transport.bodies.first?["stream_options"]?["include_usage"] == true)
    }

    @Test func smallPiecesOfAStreamGiveTheReplyAndShowItsText() throws {
        let transport = ScriptedTransport([.http(status: 200, chunks: sseChunks(toolCallChunks, pieceSize: 3))])
        var streaming = client(stream: true)
        var shown: [UInt8] = []
        streaming.onText = { shown += $0 }
        let (completion, _) = try streaming.complete(try buildRequest(), transport: transport)
        #expect(completion.reply == Reply(output: "Hi there", persona: "haven", mood: "calm"))
        #expect(completion.usage?["total_tokens"] == 15)
        #expect(String(decoding: shown, as: UTF8.self) == "Hi there\n")
    }

    @Test func aStreamThatEndsBeforeDoneIsRetried() throws {
        let waits = Waits()
        let transport = ScriptedTransport([
            .http(status: 200, chunks: sseChunks(Array(toolCallChunks.dropLast()), pieceSize: 64)),
            .http(status: 200, chunks: sseChunks(toolCallChunks, pieceSize: 64)),
        ])
        let (completion, _) = try client(stream: true, waits: waits).complete(try buildRequest(), transport: transport)
        #expect(completion.reply.output == "Hi there")
        #expect(transport.bodies.count == 2)
        #expect(waits.milliseconds.count == 1)
    }

    @Test func anErrorStatusInStreamModeIsReadAsAnErrorBody() throws {
        let transport = ScriptedTransport([
            .http(status: 401, chunks: [Array(#"{"error":{"message":"bad key"}}"#.utf8)]),
        ])
        let request = try buildRequest()
        let error = failureCode { _ = try client(stream: true).complete(request, transport: transport) }
        #expect(error?.code == .rejectedKey)
        #expect(error?.message.contains("bad key") == true)
    }
}
