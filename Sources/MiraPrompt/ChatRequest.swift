import MiraShared
import MiraSystem

/// Settings for one request, from the command line.
package struct PromptSettings: Sendable {
    package var model: String
    package var temperature: Double?
    package var maxTokens: Int?
    package var structured: StructuredMode
    /// A `maxLength` for the reply's output in the schema. Servers that decode
    /// under a grammar (llama.cpp) then always close the JSON within budget.
    package var maxReplyCharacters: Int?

    package init(model: String, temperature: Double? = nil, maxTokens: Int? = nil, structured: StructuredMode = .tools,
                maxReplyCharacters: Int? = nil) {
        self.model = model
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.structured = structured
        self.maxReplyCharacters = maxReplyCharacters
    }

    package static let defaultModel = "gpt-4.1"

    /// `MIRA_MODEL`, else gpt-4.1.
    package static func model(from environment: Environment) -> String {
        environment["MIRA_MODEL"] ?? defaultModel
    }

    /// The settings the environment (and so the config file) gives:
    /// `MIRA_MODEL`, `MIRA_MAX_TOKENS`, `MIRA_STRUCTURED`, `MIRA_MAX_REPLY_CHARS`.
    package init(environment: Environment) throws(UsageError) {
        self.init(
            model: Self.model(from: environment),
            maxTokens: try Self.positive(environment, "MIRA_MAX_TOKENS"),
            structured: try Self.structuredMode(environment),
            maxReplyCharacters: try Self.positive(environment, "MIRA_MAX_REPLY_CHARS"))
    }

    /// A positive whole number from the environment, when set.
    package static func positive(_ environment: Environment, _ name: String) throws(UsageError) -> Int? {
        guard let text = environment[name] else { return nil }
        guard let value = Int(text), value > 0 else {
            throw UsageError("\(name) must be a whole number above 0, not \(Identifiers.quoted(text))")
        }
        return value
    }

    package static func structuredMode(_ environment: Environment) throws(UsageError) -> StructuredMode {
        guard let text = environment["MIRA_STRUCTURED"] else { return .tools }
        guard let mode = StructuredMode(rawValue: text) else {
            throw UsageError("MIRA_STRUCTURED must be tools or json-schema, not \(Identifiers.quoted(text))")
        }
        return mode
    }
}

/// Builds the chat-completions body for a turn and reads back what it asked for.
package enum ChatRequest {
    /// The request: system prompt (persona block, where we left off, output
    /// contract), the history, then the new user message.
    package static func build(
        history: [Message], input: String, forcedPersona: String?,
        registry: PersonaRegistry, settings: PromptSettings
    ) throws(StageError) -> JSONObject {
        let personas: [Persona]
        if let forcedPersona {
            try Identifiers.validatePersonaName(forcedPersona)
            guard let persona = registry[forcedPersona] else {
                throw StageError(.invalidPersona, "unknown persona \(Identifiers.quoted(forcedPersona)) (known: \(registry.names.joined(separator: ", ")))")
            }
            personas = [persona]
        } else {
            personas = registry.personas
        }
        let names = personas.map(\.name)
        let system = SystemPrompt.text(
            personas: personas, forced: forcedPersona != nil,
            lastAssistant: history.last(where: { $0.role == .assistant }),
            structured: settings.structured)

        var messages: [JSON] = [["role": "system", "content": .string(system)]]
        for m in history {
            messages.append(["role": .string(m.role.rawValue), "content": .string(m.content)])
        }
        messages.append(["role": "user", "content": .string(input)])

        var body = JSONObject()
        body["model"] = .string(settings.model)
        body["messages"] = .array(messages)
        if let t = settings.temperature { body["temperature"] = .double(t) }
        if let n = settings.maxTokens {
            // One name only (servers refuse both): OpenAI's. mira-llm renames
            // it for the server it sends to (TokenLimitField).
            body[TokenLimitField.maxCompletionTokens.rawValue] = .int(n)
        }
        let schema = ReplyContract.replySchema(personas: names, maxOutput: settings.maxReplyCharacters)
        switch settings.structured {
        case .tools: ReplyContract.applyTools(to: &body, schema: schema)
        case .jsonSchema: ReplyContract.applyJSONSchema(to: &body, schema: schema)
        }
        return body
    }

    /// The same request asking for json-schema output instead of a forced
    /// tool call, with the system prompt's contract rewritten to match.
    package static func switchingToJSONSchema(_ request: JSONObject) -> JSONObject? {
        guard ReplyContract.mode(of: request) == .tools, let personas = ReplyContract.personaEnum(in: request), let schema = ReplyContract.toolSchema(in: request) else {
            return nil
        }
        var body = request
        body["tools"] = nil
        body["tool_choice"] = nil
        body["parallel_tool_calls"] = nil
        if var messages = body["messages"]?.arrayValue, case .object(var first)? = messages.first,
            first["role"]?.stringValue == "system", let text = first["content"]?.stringValue
        {
            // A prompt not built by mira-prompt keeps its text; the schema still binds.
            let remember = ReplyContract.asksForFacts(schema)
            if let switched = SystemPrompt.replacingContract(in: text, personas: personas, with: .jsonSchema, remember: remember) {
                first["content"] = .string(switched)
                messages[0] = .object(first)
                body["messages"] = .array(messages)
            }
        }
        ReplyContract.applyJSONSchema(to: &body, schema: schema)
        return body
    }

    /// The request with `message` (MemoryPrompt's text) as a system message
    /// of its own right after the first system message (at the start when
    /// there is none), the prompt itself untouched. A memory message already
    /// there is replaced, so recalling twice does not stack two. Nothing to
    /// add, or no messages to add it to: the request as it was.
    package static func addingMemories(_ request: JSONObject, message: String) -> JSONObject {
        guard message.contains(where: { !$0.isWhitespace }), var messages = request["messages"]?.arrayValue else {
            return request
        }
        let memory: JSON = ["role": "system", "content": .string(message)]
        let at = messages.firstIndex(where: { $0["role"]?.stringValue == "system" }).map { $0 + 1 } ?? 0
        if at < messages.count, messages[at]["role"]?.stringValue == "system",
            messages[at]["content"]?.stringValue?.hasPrefix(MemoryPrompt.heading + "\n") == true
        {
            messages[at] = memory
        } else {
            messages.insert(memory, at: at)
        }
        var body = request
        body["messages"] = .array(messages)
        return body
    }
}
