import MiraLLM
import MiraShared

// Test doubles for the chat client: a scripted server, recorded waits, and
// the completion bodies a server sends. The LLM and batch tests share them.

/// A server in a box: answers each POST with the next scripted result and
/// keeps every body it was sent.
package final class ScriptedTransport: ChatTransport {
    package enum Answer {
        case http(status: Int, headers: [String: String] = [:], chunks: [[UInt8]])
        case broken(TransportFailure)
    }

    package var script: [Answer]
    package var repeatLast: Bool
    package private(set) var bodies: [JSON] = []

    package init(_ script: [Answer], repeatLast: Bool = false) {
        self.script = script
        self.repeatLast = repeatLast
    }

    package func post(
        body: [UInt8], onChunk: (Int, UnsafeRawBufferPointer) -> Bool
    ) -> Result<(status: Int, headers: [String: String]), TransportFailure> {
        bodies.append((try? JSONParser.parse(body)) ?? .null)
        let answer = script.count > 1 || !repeatLast ? script.removeFirst() : script[0]
        switch answer {
        case .broken(let failure):
            return .failure(failure)
        case .http(let status, let headers, let chunks):
            for chunk in chunks {
                let more = chunk.withUnsafeBytes { onChunk(status, $0) }
                if !more { return .failure(TransportFailure(.aborted, "receiver stopped")) }
            }
            return .success((status, headers))
        }
    }
}

/// The waits a client asked for, in place of sleeping.
package final class Waits {
    package init() {}
    package var milliseconds: [Int] = []
}

package func client(stream: Bool = false, maxRetries: Int = 3, waits: Waits = Waits()) -> ChatClient {
    var client = ChatClient(policy: RetryPolicy(maxRetries: maxRetries), stream: stream)
    client.sleep = { waits.milliseconds.append($0) }
    client.jitter = { 0 }
    client.now = { 0 }
    return client
}

package func ok(_ body: [UInt8]) -> ScriptedTransport.Answer { .http(status: 200, chunks: [body]) }

package func sseChunks(_ events: [String], pieceSize: Int) -> [[UInt8]] {
    let stream = Array(events.map { "data: \($0)\n\n" }.joined().utf8)
    return stride(from: 0, to: stream.count, by: pieceSize).map { Array(stream[$0..<min($0 + pieceSize, stream.count)]) }
}

package func failureCode(_ body: () throws -> Void) -> StageError? {
    do {
        try body()
        return nil
    } catch {
        return error as? StageError
    }
}

package func completionBody(toolArguments: String, model: String = "gpt-test") -> [UInt8] {
    let message: JSON = [
        "role": "assistant", "content": nil,
        "tool_calls": [["id": "call_1", "type": "function",
                        "function": ["name": "format_response", "arguments": .string(toolArguments)]]],
    ]
    return JSONWriter.bytes([
        "id": "x", "model": .string(model),
        "choices": [["index": 0, "message": message, "finish_reason": "stop"]],
        "usage": ["prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7],
    ])
}

package func completionBody(content: String) -> [UInt8] {
    JSONWriter.bytes([
        "model": "gpt-test",
        "choices": [["index": 0, "message": ["role": "assistant", "content": .string(content)], "finish_reason": "stop"]],
    ])
}

/// Arguments of a valid format_response call.
package let validArguments = #"{"output":"Hey.","persona":"default","mood":"wry"}"#

/// Response headers parsed from raw lines, as the transport feeds them in.
package func parsedHeaders(_ lines: String...) -> [String: String] {
    var parsed = ResponseHeaders()
    for line in lines { parsed.add(line: Array(line.utf8)) }
    return parsed.fields
}
