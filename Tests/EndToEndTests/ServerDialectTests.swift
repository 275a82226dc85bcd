import Foundation
import Testing

/// What real servers refuse or report differently from OpenAI, end to end
/// against the fake in its strict mode: the token-limit name, servers
/// without tools, and errors sent inside a stream.
@Suite struct ServerDialectTests {
    // OpenAI answers 400 to a request holding both names; compatible servers
    // read max_tokens. The strict fake refuses both at once.
    @Test func aTokenLimitGoesUnderTheOneNameTheServerReads() throws {
        let world = try World()
        let result = try world.sh("mira-prompt --max-tokens 100 hi | mira-llm")
        #expect(result.status == 0, "\(result.stderr)")
        let sent = try #require(try world.requests().first)
        #expect(sent["max_tokens"] as? Int == 100)
        #expect(sent["max_completion_tokens"] == nil)
        let record = try #require(try result.records().first)
        #expect((record["request"] as? [String: Any])?["max_completion_tokens"] == nil)

        let chosen = try world.sh("MIRA_MAX_TOKENS=50 mira-prompt hi | mira-llm --token-limit-field max_completion_tokens")
        #expect(chosen.status == 0, "\(chosen.stderr)")
        let second = try #require(try world.requests().last)
        #expect(second["max_completion_tokens"] as? Int == 50)
        #expect(second["max_tokens"] == nil)
    }

    @Test func anUnknownTokenLimitNameIsAUsageError() throws {
        let world = try World()
        let result = try world.sh("mira-prompt hi | MIRA_TOKEN_LIMIT_FIELD=max_tokenz mira-llm")
        #expect(result.status == 64)
        #expect(result.stderr.contains("max_tokenz"))
        #expect(try world.requests().isEmpty)
    }

    // OpenAI's own API reads max_completion_tokens; --emit-batch files go there.
    @Test func aBatchFileForOpenAICarriesMaxCompletionTokens() throws {
        let world = try World()
        let result = try world.sh("mira-prompt --max-tokens 70 hi | mira-llm --emit-batch --base-url https://api.openai.com/v1")
        #expect(result.status == 0, "\(result.stderr)")
        let body = try #require(try result.records().first?["body"] as? [String: Any])
        #expect(body["max_completion_tokens"] as? Int == 70)
        #expect(body["max_tokens"] == nil)
    }

    // A reasoning model refuses max_tokens; a compatible server may refuse the
    // new name. Either way the turn goes through with one more request.
    @Test(arguments: [("refuse-max-tokens", "max_tokens", "max_completion_tokens"),
                      ("refuse-max-completion-tokens", "max_completion_tokens", "max_tokens")])
    func aRefusedTokenLimitNameIsAskedOnceMoreWithTheOther(behaviour: String, refused: String, wanted: String) throws {
        let world = try World(behaviour: behaviour)
        let result = try world.sh("mira-prompt --max-tokens 90 hi | mira-llm --token-limit-field \(refused) --verbose")
        #expect(result.status == 0, "\(result.stderr)")
        let sent = try world.requests()
        #expect(sent.count == 2)
        #expect(sent.last?[wanted] as? Int == 90 && sent.last?[refused] == nil)
        #expect(result.stderr.contains("retrying once with the token limit as \(wanted)"), "\(result.stderr)")
    }

    // Ollama and others answer a request with tools by 400.
    @Test func aServerWithoutToolsGetsTheJSONSchemaForm() throws {
        let world = try World(behaviour: "no-tools")
        let result = try world.sh(turn("s1", "hello there"))
        #expect(result.status == 0, "\(result.stderr)")
        let sent = try world.requests()
        try #require(sent.count == 2)
        #expect(sent[0]["tools"] != nil)
        #expect(sent[1]["tools"] == nil && sent[1]["tool_choice"] == nil)
        #expect((sent[1]["response_format"] as? [String: Any])?["type"] as? String == "json_schema")
        #expect(try world.exported("s1").count == 2)
    }

    // llama.cpp reports a prompt over its context as an `error:` line in the
    // stream. Retrying cannot help, and the server's words must reach the user.
    @Test func aStreamErrorLineForABadRequestFailsAtOnceWithTheServersWords() throws {
        let world = try World(behaviour: "sse-error-line:400")
        let result = try world.sh("mira-prompt hi | mira-llm --stream")
        #expect(result.status == 1, "\(result.stderr)")
        let error = try #require(try result.records().first?["error"] as? [String: Any])
        #expect(error["code"] as? String == "bad_request")
        #expect((error["message"] as? String)?.contains("context size") == true, "\(error)")
        #expect(!result.stderr.contains("[DONE]"))
        #expect(try world.requests().count == 1)
    }

    @Test func aStreamErrorLineForAnUnavailableServerIsRetried() throws {
        let world = try World(behaviour: "sse-error-line:503,normal")
        let result = try world.sh("mira-prompt hi | mira-llm --stream")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try world.requests().count == 2)
        #expect(try result.records().first?["reply"] != nil)
    }

    // OpenAI's form: a data chunk holding an error object.
    @Test func aStreamErrorChunkIsReportedWithTheServersMessage() throws {
        let world = try World(behaviour: "sse-error-data")
        let result = try world.sh("mira-prompt hi | mira-llm --stream --retries 1")
        #expect(result.status == 1, "\(result.stderr)")
        let error = try #require(try result.records().first?["error"] as? [String: Any])
        #expect(error["code"] as? String == "gave_up")
        #expect((error["message"] as? String)?.contains("The server had an error while processing your request.") == true, "\(error)")
        #expect(try world.requests().count == 2)
    }
}
