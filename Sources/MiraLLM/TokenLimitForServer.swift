import MiraShared


extension TokenLimitField {
    /// The name a server at this base URL reads: the new one at OpenAI's own
    /// API, the old one, which every compatible server knows, elsewhere.
    package static func forServer(baseURL: String) -> TokenLimitField {
        URLText.host(of: baseURL) == "api.openai.com" ? .maxCompletionTokens : .maxTokens
    }
}
