import MiraShared

/// Builds one chat completion out of streamed chunks: content and tool-call
/// argument fragments joined per index, finish reason, usage, model.
package struct StreamAssembler {
    package private(set) var sawDone = false
    var content: [UInt8] = []
    var calls: [Int: (id: String?, name: String?, arguments: [UInt8])] = [:]
    var finishReason: String?
    var usage: JSON?
    var model: String?
    /// An error chunk (`data: {"error": …}`) the server sent instead of more reply.
    package private(set) var error: JSON?
    var contentText = OutputTextExtractor()
    var argumentsText = OutputTextExtractor()

    package init() {}

    /// Takes one event's data and returns reply text to show as it arrives.
    package mutating func add(event: String) throws(StageError) -> [UInt8] {
        if event == "[DONE]" {
            sawDone = true
            return []
        }
        let chunk: JSON
        do {
            chunk = try JSONParser.parse(event)
        } catch {
            throw StageError(.badResponse, "stream event is not JSON (\(error))")
        }
        if let e = chunk["error"], !e.isNull {
            error = e
            return []
        }
        if let m = chunk["model"]?.stringValue { model = m }
        if let u = chunk["usage"], !u.isNull { usage = u }
        var shown: [UInt8] = []
        for choice in chunk["choices"]?.arrayValue ?? [] where (choice["index"]?.intValue ?? 0) == 0 {
            if let reason = choice["finish_reason"]?.stringValue { finishReason = reason }
            guard let delta = choice["delta"] else { continue }
            if let text = delta["content"]?.stringValue {
                content.append(contentsOf: text.utf8)
                shown += contentText.feed(text.utf8)
            }
            for call in delta["tool_calls"]?.arrayValue ?? [] {
                let index = call["index"]?.intValue ?? 0
                var entry = calls[index] ?? (nil, nil, [])
                if let id = call["id"]?.stringValue { entry.id = id }
                if let name = call["function"]?["name"]?.stringValue { entry.name = name }
                if let fragment = call["function"]?["arguments"]?.stringValue {
                    entry.arguments.append(contentsOf: fragment.utf8)
                    if index == 0 { shown += argumentsText.feed(fragment.utf8) }
                }
                calls[index] = entry
            }
        }
        return shown
    }

    /// The whole completion, shaped like a non-streamed answer.
    package func completion() -> JSON {
        var message = JSONObject()
        message["role"] = "assistant"
        message["content"] = content.isEmpty ? .null : .string(String(decoding: content, as: UTF8.self))
        if !calls.isEmpty {
            message["tool_calls"] = .array(calls.keys.sorted().map { index in
                let c = calls[index]!
                return [
                    "id": c.id.map { .string($0) } ?? .null, "type": "function",
                    "function": ["name": c.name.map { .string($0) } ?? .null,
                                 "arguments": .string(String(decoding: c.arguments, as: UTF8.self))],
                ]
            })
        }
        var object = JSONObject()
        if let error { object["error"] = error }
        if let model { object["model"] = .string(model) }
        object["choices"] = [["index": 0, "message": .object(message), "finish_reason": finishReason.map { .string($0) } ?? .null]]
        if let usage { object["usage"] = usage }
        return .object(object)
    }
}
