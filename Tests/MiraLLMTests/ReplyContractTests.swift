import Testing
@testable import MiraLLM
import MiraPrompt
import MiraShared
import MiraSystem
import MiraTestSupport

@Suite struct AllowedPersonas {
    // The client, the store and the evaluator give one answer for a request without an enum.
    @Test func aRequestWithoutAnEnumAllowsTheBuiltInsEverywhere() throws {
        let reply: JSON = ["output": "hey", "persona": "pirate", "mood": "calm"]
        #expect(ReplyContract.allowedPersonas(in: ["model": "m"]) == BuiltinPersonas.all.map(\.name))
        var record = Record()
        record.request = ["model": "m"]
        record.fields["reply"] = reply
        #expect(throws: StageError.self) { _ = try record.reply() }
        let call: JSON = ["id": "c1", "type": "function",
                          "function": ["name": .string(ReplyContract.functionName), "arguments": .string(JSONWriter.string(reply))]]
        let body: JSON = ["choices": [["index": 0, "finish_reason": "tool_calls",
                                       "message": ["role": "assistant", "content": .null, "tool_calls": [call]]]]]
        guard case .failure(let error) = CompletionReader.verdict(completion: body, request: ["model": "m"]) else {
            Issue.record("a persona outside the built-ins passed")
            return
        }
        #expect(error.code == .invalidReply)
    }
}
