/// The two names of a request's output-token limit. OpenAI reads
/// `max_completion_tokens` (its reasoning models refuse `max_tokens`) and
/// refuses a request holding both; many compatible servers (llama.cpp, vLLM,
/// Ollama, proxies) read only `max_tokens`, and some refuse the new name.
/// So a request carries exactly one, chosen for the server it goes to.
package enum TokenLimitField: String, CaseIterable, Sendable {
    case maxTokens = "max_tokens"
    case maxCompletionTokens = "max_completion_tokens"

    package var other: TokenLimitField {
        self == .maxTokens ? .maxCompletionTokens : .maxTokens
    }

    /// The request with its limit (from either name; the new one wins when a
    /// record holds both) under this name only. A request with no limit is
    /// returned as it is.
    package func applied(to request: JSONObject) -> JSONObject {
        guard let limit = request[Self.maxCompletionTokens.rawValue] ?? request[Self.maxTokens.rawValue] else {
            return request
        }
        var body = request
        body[other.rawValue] = nil
        body[rawValue] = limit
        return body
    }
}
