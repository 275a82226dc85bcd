/// How the reply's shape is enforced on the server.
public enum StructuredMode: String, Sendable, CaseIterable {
    /// A forced call of the `format_response` function (OpenAI's strongest guarantee).
    case tools
    /// `response_format` json_schema, for servers that ignore forced tools.
    case jsonSchema = "json-schema"
}

/// Settings for one request, from the command line.
public struct PromptSettings: Sendable {
    public var model: String
    public var temperature: Double?
    public var maxTokens: Int?
    public var structured: StructuredMode
    /// A `maxLength` for the reply's output in the schema. Servers that decode
    /// under a grammar (llama.cpp) then always close the JSON within budget.
    public var maxReplyCharacters: Int?

    public init(model: String, temperature: Double? = nil, maxTokens: Int? = nil, structured: StructuredMode = .tools,
                maxReplyCharacters: Int? = nil) {
        self.model = model
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.structured = structured
        self.maxReplyCharacters = maxReplyCharacters
    }

    public static let defaultModel = "gpt-4.1"

    /// `MIRA_MODEL`, else gpt-4.1.
    public static func model(from environment: Environment) -> String {
        environment["MIRA_MODEL"] ?? defaultModel
    }
}

/// Builds the chat-completions body for a turn and reads back what it asked for.
public enum ChatRequest {
    public static let functionName = "format_response"

    /// The request: system prompt (persona block, where we left off, output
    /// contract), the history, then the new user message.
    public static func build(
        history: [Message], input: String, forcedPersona: String?,
        registry: PersonaRegistry, settings: PromptSettings
    ) throws(StageError) -> JSONObject {
        let overlays: [Persona]
        if let forcedPersona {
            try Identifiers.validatePersonaName(forcedPersona)
            guard let persona = registry[forcedPersona] else {
                throw StageError(.invalidPersona, "unknown persona \(Identifiers.quoted(forcedPersona)) (known: \(registry.names.joined(separator: ", ")))")
            }
            overlays = [persona]
        } else {
            overlays = registry.personas
        }
        let names = overlays.map(\.name)
        let system = SystemPrompt.text(
            overlays: overlays, forced: forcedPersona != nil,
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
        let schema = replySchema(personas: names, maxOutput: settings.maxReplyCharacters)
        switch settings.structured {
        case .tools: applyTools(to: &body, schema: schema)
        case .jsonSchema: applyJSONSchema(to: &body, schema: schema)
        }
        return body
    }

    /// The strict schema of `{output, persona, mood}`.
    public static func replySchema(personas: [String], maxOutput: Int? = nil) -> JSON {
        var output: JSONObject = ["type": "string", "description": "What Mira says to the user, in her own voice."]
        var mood: JSONObject = ["type": "string", "description": "Mira's emotional tone in a word or two."]
        if let maxOutput {
            output["maxLength"] = .int(maxOutput)
            mood["maxLength"] = 40
        }
        return [
            "type": "object",
            "properties": [
                "output": .object(output),
                "persona": ["type": "string", "enum": .array(personas.map { .string($0) }),
                            "description": "The overlay that shaped this reply."],
                "mood": .object(mood),
            ],
            "required": ["output", "persona", "mood"],
            "additionalProperties": false,
        ]
    }

    static func applyTools(to body: inout JSONObject, schema: JSON) {
        body["tools"] = [[
            "type": "function",
            "function": [
                "name": .string(functionName),
                "description": "Deliver Mira's reply with the overlay and mood that shaped it.",
                "parameters": schema,
                "strict": true,
            ],
        ]]
        body["tool_choice"] = ["type": "function", "function": ["name": .string(functionName)]]
        body["parallel_tool_calls"] = false
    }

    static func applyJSONSchema(to body: inout JSONObject, schema: JSON) {
        body["response_format"] = [
            "type": "json_schema",
            "json_schema": ["name": .string(functionName), "strict": true, "schema": schema],
        ]
    }

    /// Which mode a request asks for.
    public static func mode(of request: JSONObject) -> StructuredMode? {
        if request["tools"] != nil { return .tools }
        if request["response_format"]?["json_schema"] != nil { return .jsonSchema }
        return nil
    }

    /// The reply schema of a request's format_response tool.
    static func toolSchema(in request: JSONObject) -> JSON? {
        request["tools"]?.arrayValue?
            .first(where: { $0["function"]?["name"]?.stringValue == functionName })?["function"]?["parameters"]
    }

    /// The personas a reply to this request may name: the request's enum, or
    /// the built-in overlays when it has none (a request Mira did not build).
    /// The one answer for the client, the store and the evaluator.
    public static func allowedPersonas(in request: JSONObject?) -> [String] {
        personaEnum(in: request) ?? BuiltinPersonas.all.map(\.name)
    }

    /// The persona enum a request allowed, from its tool or its response_format.
    public static func personaEnum(in request: JSONObject?) -> [String]? {
        guard let request else { return nil }
        let schema = request["tools"] != nil ? toolSchema(in: request) : request["response_format"]?["json_schema"]?["schema"]
        guard let values = schema?["properties"]?["persona"]?["enum"]?.arrayValue else { return nil }
        let names = values.compactMap(\.stringValue)
        return names.isEmpty ? nil : names
    }

    /// The same request asking for json-schema output instead of a forced
    /// tool call, with the system prompt's contract rewritten to match.
    public static func switchingToJSONSchema(_ request: JSONObject) -> JSONObject? {
        guard mode(of: request) == .tools, let personas = personaEnum(in: request), let schema = toolSchema(in: request) else {
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
            if let switched = SystemPrompt.replacingContract(in: text, personas: personas, with: .jsonSchema) {
                first["content"] = .string(switched)
                messages[0] = .object(first)
                body["messages"] = .array(messages)
            }
        }
        applyJSONSchema(to: &body, schema: schema)
        return body
    }
}
