import Testing
@testable import MiraPrompt
import MiraShared
import MiraSystem
import MiraTestSupport


let builtinNames = ["default", "forbidden", "hallow", "haven"]

@Suite struct ChatRequestInToolsMode {
    @Test func forcesTheFormatResponseFunction() throws {
        let request = try buildRequest()
        let function = request["tools"]?.arrayValue?.first?["function"]
        #expect(request["tools"]?.arrayValue?.count == 1)
        #expect(request["tools"]?.arrayValue?.first?["type"] == "function")
        #expect(function?["name"] == "format_response")
        #expect(function?["strict"] == true)
        #expect(request["tool_choice"] == ["type": "function", "function": ["name": "format_response"]])
        #expect(request["parallel_tool_calls"] == false)
        #expect(request["response_format"] == nil)
    }

    @Test func toolSchemaIsStrictAboutTheFourFields() throws {
        let schema = try buildRequest()["tools"]?.arrayValue?.first?["function"]?["parameters"]
        #expect(schema?["required"] == ["output", "persona", "mood", "remember"])
        #expect(schema?["additionalProperties"] == false)
        #expect(schema?["properties"]?.objectValue?.keys == ["output", "persona", "mood", "remember"])
    }

    @Test func rememberIsAListOfClosedTopicFactObjects() throws {
        let schema = try buildRequest()["tools"]?.arrayValue?.first?["function"]?["parameters"]
        let remember = schema?["properties"]?["remember"]
        #expect(remember?["type"] == "array")
        let item = remember?["items"]
        #expect(item?["type"] == "object")
        #expect(item?["required"] == ["topic", "fact"])
        #expect(item?["additionalProperties"] == false)
        #expect(item?["properties"]?.objectValue?.keys == ["topic", "fact"])
        #expect(ReplyContract.asksForFacts(schema))
    }

    @Test func theLengthCapsForGrammarServersCoverTheFacts() throws {
        let capped = ReplyContract.replySchema(personas: ["default"], maxOutput: 280)
        let remember = capped["properties"]?["remember"]
        #expect(remember?["maxItems"] == .int(Reply.cappedFacts))
        #expect(remember?["items"]?["properties"]?["topic"]?["maxLength"] == .int(Fact.cappedTopicLength))
        #expect(remember?["items"]?["properties"]?["topic"]?["pattern"] == "^[a-z0-9_-]{1,20}$")
        // No line break, control character, quote or backslash, 1-80 of them (tried on llama.cpp's server).
        #expect(remember?["items"]?["properties"]?["fact"]?["pattern"] == #"^[^\x00-\x1f\x7f"\\]{1,80}$"#)
        // The longest reply the grammar allows, JSON and all, stays under the
        // 640 tokens local-server.sh sets (a token is at least a character):
        // a small model that fills every field still closes its JSON.
        let facts = Reply.cappedFacts * (Fact.cappedTopicLength + Fact.cappedTextLength + #"{"topic":"","fact":""},"#.count)
        let longest = 280 + 40 + "haven".count + #"{"output":"","persona":"","mood":"","remember":[]}"#.count + facts
        #expect(longest < 640, "\(longest) characters")
        // OpenAI is sent no caps (none is set without a maximum reply length).
        let plain = ReplyContract.replySchema(personas: ["default"])
        #expect(plain["properties"]?["remember"]?["maxItems"] == nil)
    }

    @Test func personaEnumIsTheFourBuiltInsInOrder() throws {
        #expect(ReplyContract.personaEnum(in: try buildRequest()) == builtinNames)
    }

    @Test func messagesAreSystemThenHistoryRoleAndContentThenUser() throws {
        let history = [
            Message(role: .user, content: "hi", time: "2026-01-01T00:00:00.000Z"),
            Message(role: .assistant, content: "hey", persona: "haven", mood: "soft", time: "2026-01-01T00:00:01.000Z"),
        ]
        let messages = try #require(try buildRequest(history: history, input: "again")["messages"]?.arrayValue)
        #expect(messages.count == 4)
        #expect(messages[0]["role"] == "system")
        #expect(messages[1] == ["role": "user", "content": "hi"])
        #expect(messages[2] == ["role": "assistant", "content": "hey"])
        #expect(messages[3] == ["role": "user", "content": "again"])
    }

    @Test func modelComesFromTheSettings() throws {
        #expect(try buildRequest()["model"] == "gpt-test")
    }

    // OpenAI refuses a request holding both names (invalid_parameter_combination).
    @Test func maxTokensIsSetUnderOneNameOnly() throws {
        let request = try buildRequest(settings: PromptSettings(model: "m", temperature: 0.7, maxTokens: 300))
        #expect(request["temperature"] == .number("0.7"))
        #expect(request["max_completion_tokens"] == 300)
        #expect(request["max_tokens"] == nil)
    }

    @Test func temperatureAndMaxTokensAreLeftOutWhenNotGiven() throws {
        let request = try buildRequest()
        #expect(request["temperature"] == nil)
        #expect(request["max_tokens"] == nil)
        #expect(request["max_completion_tokens"] == nil)
    }

    @Test func systemPromptStatesTheToolContract() throws {
        let system = try #require(systemPrompt(try buildRequest()))
        #expect(system.contains("Answer only by calling format_response"))
        #expect(system.contains("one of: default, forbidden, hallow, haven"))
    }

    @Test func systemPromptSaysWhatToRememberAndWhatNot() throws {
        let system = try #require(systemPrompt(try buildRequest()))
        #expect(system.contains("- remember: facts the user stated about themselves in this message"))
        #expect(system.contains("only what the user said about themselves in this very message"))
        #expect(system.contains("never a guess, never what you said, never an instruction"))
        #expect(system.contains("Most turns it is empty"))
        #expect(system.contains("use the same word for the same kind"))
        // The contract is still what the prompt ends with.
        #expect(system.hasSuffix("(\"has a cat called Miso\")."))
    }
}

@Suite struct ChatRequestInJSONSchemaMode {
    let settings = PromptSettings(model: "m", structured: .jsonSchema)

    @Test func asksForAJSONSchemaResponseFormatAndNoTools() throws {
        let request = try buildRequest(settings: settings)
        #expect(request["response_format"]?["type"] == "json_schema")
        #expect(request["response_format"]?["json_schema"]?["strict"] == true)
        #expect(request["response_format"]?["json_schema"]?["schema"]?["properties"]?["persona"]?["enum"]
            == .array(builtinNames.map { .string($0) }))
        #expect(request["tools"] == nil)
        #expect(request["tool_choice"] == nil)
        #expect(request["parallel_tool_calls"] == nil)
    }

    @Test func personaEnumIsReadFromTheResponseFormat() throws {
        #expect(ReplyContract.personaEnum(in: try buildRequest(settings: settings)) == builtinNames)
    }

    @Test func systemPromptStatesTheJSONContract() throws {
        let system = try #require(systemPrompt(try buildRequest(settings: settings)))
        #expect(system.contains("Answer only with one JSON object"))
        #expect(!system.contains("Answer only by calling"))
    }

    @Test func modeIsReadBackFromTheRequest() throws {
        #expect(ReplyContract.mode(of: try buildRequest(settings: settings)) == .jsonSchema)
        #expect(ReplyContract.mode(of: try buildRequest()) == .tools)
        #expect(ReplyContract.mode(of: JSONObject()) == nil)
    }
}

@Suite struct ChatRequestWithAForcedPersona {
    @Test func enumHoldsOnlyTheForcedPersona() throws {
        #expect(ReplyContract.personaEnum(in: try buildRequest(forcedPersona: "haven")) == ["haven"])
    }

    @Test func systemPromptCarriesOnlyThatPersona() throws {
        let system = try #require(systemPrompt(try buildRequest(forcedPersona: "haven")))
        #expect(system.contains("## Overlay for this turn: haven"))
        #expect(system.contains(BuiltinPersonas.haven.text))
        for other in [BuiltinPersonas.defaultVoice, BuiltinPersonas.forbidden, BuiltinPersonas.hallow] {
            #expect(!system.contains(other.text))
        }
        #expect(system.contains("one of: haven\n"))
    }

    @Test func unknownPersonaIsAnInvalidPersona() {
        #expect {
            try buildRequest(forcedPersona: "nobody")
        } throws: { ($0 as? StageError)?.code == .invalidPersona }
    }

    @Test func malformedPersonaIsAnInvalidPersona() {
        #expect {
            try buildRequest(forcedPersona: "../x")
        } throws: { ($0 as? StageError)?.code == .invalidPersona }
    }
}

@Suite struct SystemPromptContinuity {
    @Test func namesTheLastAssistantMessagesPersonaAndMood() throws {
        let history = [
            Message(role: .assistant, content: "old", persona: "hallow", mood: "raw"),
            Message(role: .user, content: "hi"),
            Message(role: .assistant, content: "hey", persona: "forbidden", mood: "playful"),
            Message(role: .user, content: "and?"),
        ]
        let system = try #require(systemPrompt(try buildRequest(history: history)))
        #expect(system.contains("## Where you left off\nYour last reply used the forbidden overlay with a mood of \"playful\"."))
        #expect(!system.contains("hallow overlay"))
    }

    @Test func saysItIsTheStartOfTheConversationWithoutHistory() throws {
        let system = try #require(systemPrompt(try buildRequest()))
        #expect(system.contains("## Where you left off\nThis is the start of the conversation."))
    }

    @Test func coreVoiceComesFirst() throws {
        let system = try #require(systemPrompt(try buildRequest()))
        #expect(system.hasPrefix(BuiltinPersonas.core))
    }
}

@Suite struct SwitchingToJSONSchema {
    @Test func removesTheToolFields() throws {
        let switched = try #require(ChatRequest.switchingToJSONSchema(try buildRequest()))
        #expect(switched["tools"] == nil)
        #expect(switched["tool_choice"] == nil)
        #expect(switched["parallel_tool_calls"] == nil)
    }

    @Test func addsAResponseFormatWithTheSameEnum() throws {
        let switched = try #require(ChatRequest.switchingToJSONSchema(try buildRequest(forcedPersona: "hallow")))
        #expect(ReplyContract.mode(of: switched) == .jsonSchema)
        #expect(ReplyContract.personaEnum(in: switched) == ["hallow"])
    }

    @Test func rewritesTheSystemPromptsContract() throws {
        let original = try buildRequest()
        let switched = try #require(ChatRequest.switchingToJSONSchema(original))
        let system = try #require(systemPrompt(switched))
        #expect(system.contains("Answer only with one JSON object"))
        #expect(!system.contains("Answer only by calling"))
        #expect(system == systemPrompt(try buildRequest(settings: PromptSettings(model: "gpt-test", structured: .jsonSchema))))
    }

    @Test func keepsTheOtherMessagesAndFields() throws {
        let original = try buildRequest(history: [Message(role: .user, content: "a")], input: "b")
        let switched = try #require(ChatRequest.switchingToJSONSchema(original))
        #expect(switched["model"] == original["model"])
        #expect(switched["messages"]?.arrayValue?.dropFirst() == original["messages"]?.arrayValue?.dropFirst())
    }

    @Test func theSchemaKeepsAskingForFacts() throws {
        let switched = try #require(ChatRequest.switchingToJSONSchema(try buildRequest()))
        #expect(ReplyContract.asksForFacts(ReplyContract.schema(in: switched)))
        #expect(systemPrompt(switched)?.contains("- remember:") == true)
    }

    @Test func aRequestFromBeforeFactsIsSwitchedWithoutThem() throws {
        // Built by an older mira-prompt: no remember in the schema or the prompt.
        var request = try buildRequest()
        var tools = try #require(request["tools"]?.arrayValue)
        var tool = try #require(tools[0].objectValue)
        var function = try #require(tool["function"]?.objectValue)
        var schema = try #require(function["parameters"]?.objectValue)
        var properties = try #require(schema["properties"]?.objectValue)
        properties["remember"] = nil
        schema["properties"] = .object(properties)
        schema["required"] = ["output", "persona", "mood"]
        function["parameters"] = .object(schema)
        tool["function"] = .object(function)
        tools[0] = .object(tool)
        request["tools"] = .array(tools)
        var messages = try #require(request["messages"]?.arrayValue)
        let prompt = try #require(systemPrompt(request))
        let withFacts = SystemPrompt.contract(builtinNames, structured: .tools)
        let without = SystemPrompt.contract(builtinNames, structured: .tools, remember: false)
        messages[0] = ["role": "system", "content": .string(String(prompt.dropLast(withFacts.count)) + without)]
        request["messages"] = .array(messages)

        let switched = try #require(ChatRequest.switchingToJSONSchema(request))
        let system = try #require(systemPrompt(switched))
        #expect(system.hasSuffix(SystemPrompt.contract(builtinNames, structured: .jsonSchema, remember: false)))
        #expect(!ReplyContract.asksForFacts(ReplyContract.schema(in: switched)))
    }

    @Test func aRequestAlreadyInJSONSchemaModeIsNotSwitched() throws {
        let request = try buildRequest(settings: PromptSettings(model: "m", structured: .jsonSchema))
        #expect(ChatRequest.switchingToJSONSchema(request) == nil)
    }
}

