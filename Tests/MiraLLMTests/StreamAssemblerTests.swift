import Testing
@testable import MiraLLM
import MiraPrompt
import MiraShared
import MiraSystem
import MiraTestSupport

/// Streamed chunks of a forced tool call answering {"output":"Hi there","persona":"haven","mood":"calm"}.
let toolCallChunks = [
    #"{"id":"c1","model":"gpt-test","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"format_response","arguments":""}}]}}]}"#,
    #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"output\":\"Hi "}}]}}]}"#,
    #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"there\",\"persona\":\"haven\","}}]}}]}"#,
    #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"mood\":\"calm\"}"}}]}}]}"#,
    #"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
    #"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}"#,
    "[DONE]",
]

@Suite struct StreamAssembly {
    func assembled(_ events: [String]) throws -> (StreamAssembler, String) {
        var assembler = StreamAssembler()
        var shown: [UInt8] = []
        for event in events { shown += try assembler.add(event: event) }
        return (assembler, String(decoding: shown, as: UTF8.self))
    }

    func firstChoice(_ completion: JSON) -> JSON? {
        completion["choices"]?.arrayValue?.first
    }

    @Test func toolCallArgumentFragmentsAreJoined() throws {
        let (assembler, _) = try assembled(toolCallChunks)
        let call = firstChoice(assembler.completion())?["message"]?["tool_calls"]?.arrayValue?.first
        #expect(call?["id"] == "call_1")
        #expect(call?["function"]?["name"] == "format_response")
        #expect(call?["function"]?["arguments"] == #"{"output":"Hi there","persona":"haven","mood":"calm"}"#)
    }

    @Test func fragmentsOfDifferentCallsStayApartByIndex() throws {
        let (assembler, _) = try assembled([
            #"{"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"name":"b","arguments":"B1"}}]}}]}"#,
            #"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"a","arguments":"A1"}}]}}]}"#,
            #"{"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":"B2"}},{"index":0,"function":{"arguments":"A2"}}]}}]}"#,
        ])
        let calls = firstChoice(assembler.completion())?["message"]?["tool_calls"]?.arrayValue
        #expect(calls?.map { $0["function"]?["name"] } == ["a", "b"])
        #expect(calls?.map { $0["function"]?["arguments"] } == ["A1A2", "B1B2"])
    }

    @Test func theFirstCallsOutputTextIsShownAsItArrives() throws {
        let (_, shown) = try assembled(toolCallChunks)
        #expect(shown == "Hi there")
    }

    @Test func contentFragmentsAreJoinedAndTheirOutputShown() throws {
        let (assembler, shown) = try assembled([
            #"{"choices":[{"index":0,"delta":{"content":"{\"output\":\"Yo"}}]}"#,
            #"{"choices":[{"index":0,"delta":{"content":"!\",\"persona\":\"haven\",\"mood\":\"x\"}"}}]}"#,
        ])
        #expect(firstChoice(assembler.completion())?["message"]?["content"] == #"{"output":"Yo!","persona":"haven","mood":"x"}"#)
        #expect(shown == "Yo!")
    }

    @Test func aUsageChunkWithNoChoicesIsKept() throws {
        let (assembler, _) = try assembled(toolCallChunks)
        #expect(assembler.completion()["usage"]?["total_tokens"] == 15)
    }

    @Test func finishReasonAndModelAreKept() throws {
        let (assembler, _) = try assembled(toolCallChunks)
        #expect(firstChoice(assembler.completion())?["finish_reason"] == "stop")
        #expect(assembler.completion()["model"] == "gpt-test")
    }

    @Test func doneSetsSawDone() throws {
        #expect(try assembled(Array(toolCallChunks.dropLast())).0.sawDone == false)
        #expect(try assembled(toolCallChunks).0.sawDone == true)
    }

    @Test func anErrorChunkSurfacesInTheCompletion() throws {
        let (assembler, _) = try assembled([#"{"error":{"message":"overloaded","type":"server_error"}}"#])
        #expect(assembler.completion()["error"]?["message"] == "overloaded")
        let verdict = CompletionReader.verdict(completion: assembler.completion(), request: try buildRequest())
        guard case .retryable(let error, _) = verdict else {
            Issue.record("expected a retryable verdict, got \(verdict)")
            return
        }
        #expect(error.message.contains("overloaded"))
    }

    @Test func anEventThatIsNotJSONIsABadResponse() {
        var assembler = StreamAssembler()
        #expect { try assembler.add(event: "{oops") } throws: { ($0 as? StageError)?.code == .badResponse }
    }

    @Test func theAssembledCompletionReadsAsASuccess() throws {
        let (assembler, _) = try assembled(toolCallChunks)
        let verdict = CompletionReader.verdict(completion: assembler.completion(), request: try buildRequest())
        #expect(verdict == .success(Completion(
            reply: Reply(output: "Hi there", persona: "haven", mood: "calm"), model: "gpt-test",
            usage: ["prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15])))
    }
}
