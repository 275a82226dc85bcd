import Testing
import MiraShared
import MiraSystem
@testable import MiraLLM

@Suite struct TokenLimitFields {
    @Test(arguments: [
        ("https://api.openai.com/v1", TokenLimitField.maxCompletionTokens),
        ("https://user:pw@API.OpenAI.com:443/v1?x=1", .maxCompletionTokens),
        ("http://127.0.0.1:8080/v1", .maxTokens),
        ("https://api.openai.com.evil.example/v1", .maxTokens),
        ("https://openrouter.ai/api/v1", .maxTokens),
        ("not a url", .maxTokens),
    ])
    func theServerDecidesTheName(url: String, field: TokenLimitField) {
        #expect(TokenLimitField.forServer(baseURL: url) == field)
    }

    @Test func applyingKeepsOneNameWithTheLimit() {
        let both: JSONObject = ["model": "m", "max_tokens": 10, "max_completion_tokens": 20]
        #expect(TokenLimitField.maxTokens.applied(to: both) == ["model": "m", "max_tokens": 20])
        #expect(TokenLimitField.maxCompletionTokens.applied(to: ["max_tokens": 7]) == ["max_completion_tokens": 7])
        #expect(TokenLimitField.maxTokens.applied(to: ["model": "m"]) == ["model": "m"])
    }
}
