/// The reply contract: what a chat request asks the model to return and how
/// a request says so. Mira builds it (MiraPrompt), the client enforces it
/// (MiraLLM), the store and the evaluator check replies against it; this is
/// the one place its names and rules live.
/// How the reply's shape is enforced on the server.
package enum StructuredMode: String, Sendable, CaseIterable {
    /// A forced call of the `format_response` function (OpenAI's strongest guarantee).
    case tools
    /// `response_format` json_schema, for servers that ignore forced tools.
    case jsonSchema = "json-schema"
}

package enum ReplyContract {
    /// The function the model is made to call (also the json_schema's name).
    package static let functionName = "format_response"

    /// The personas every build knows, in order: the ones a reply may
    /// name when its request carries no enum.
    package static let builtinPersonas = ["default", "forbidden", "hallow", "haven"]

    /// The strict schema of `{output, persona, mood, remember}`. Strict mode
    /// wants every property required and closed objects at every depth, so
    /// `remember` is always there (an empty list most turns). `maxOutput`
    /// adds length caps for servers that decode under a grammar (llama.cpp),
    /// so a small model always closes the JSON within budget.
    package static func replySchema(personas: [String], maxOutput: Int? = nil) -> JSON {
        var output: JSONObject = ["type": "string", "description": "What Mira says to the user, in her own voice."]
        var mood: JSONObject = ["type": "string", "description": "Mira's emotional tone in a word or two."]
        var topic: JSONObject = ["type": "string",
                                 "description": "A short lower-case word for the kind of fact (name, pet, home, job); the same word for the same kind."]
        var fact: JSONObject = ["type": "string",
                                "description": "The fact as a short sentence about the user in the third person, e.g. \"has a cat called Miso\"."]
        var remember: JSONObject = ["type": "array",
                                    "description": "Facts the user stated about themselves in this message; usually empty."]
        if let maxOutput {
            output["maxLength"] = .int(maxOutput)
            mood["maxLength"] = 40
            // Under a grammar the whole reply must fit the token limit, or
            // the JSON is cut off unclosed: 280 characters of output, 40 of
            // mood and at most 2 facts of 20 + 80 fit the 640 tokens
            // local-server.sh sets (for text of one-byte characters; a token
            // holds at least one byte). With 5 facts of 40 + 200 (the
            // contract's own limits) SmolLM2 filling them ran out of tokens.
            topic["maxLength"] = .int(Fact.cappedTopicLength)
            topic["pattern"] = .string("^[a-z0-9_-]{1,\(Fact.cappedTopicLength)}$")
            // A grammar allows escaped line breaks in a string, and a fact may
            // hold none: the pattern keeps them (and quotes, which a grammar
            // built from a pattern would not escape) out of the decoding.
            fact["pattern"] = .string(#"^[^\x00-\x1f\x7f"\\]{1,\#(Fact.cappedTextLength)}$"#)
            remember["maxItems"] = .int(Reply.cappedFacts)
        }
        remember["items"] = [
            "type": "object",
            "properties": ["topic": .object(topic), "fact": .object(fact)],
            "required": ["topic", "fact"],
            "additionalProperties": false,
        ]
        return [
            "type": "object",
            "properties": [
                "output": .object(output),
                "persona": ["type": "string", "enum": .array(personas.map { .string($0) }),
                            "description": "The overlay that shaped this reply."],
                "mood": .object(mood),
                "remember": .object(remember),
            ],
            "required": ["output", "persona", "mood", "remember"],
            "additionalProperties": false,
        ]
    }

    /// Whether a reply schema asks for `remember` (a request built before
    /// facts existed, or by hand, may not).
    package static func asksForFacts(_ schema: JSON?) -> Bool {
        schema?["properties"]?["remember"] != nil
    }

    /// The reply schema a request carries, in either mode.
    package static func schema(in request: JSONObject) -> JSON? {
        request["tools"] != nil ? toolSchema(in: request) : request["response_format"]?["json_schema"]?["schema"]
    }

    package static func applyTools(to body: inout JSONObject, schema: JSON) {
        body["tools"] = [[
            "type": "function",
            "function": [
                "name": .string(functionName),
                "description": "Deliver Mira's reply with the overlay and mood that shaped it, and any facts the user stated about themselves.",
                "parameters": schema,
                "strict": true,
            ],
        ]]
        body["tool_choice"] = ["type": "function", "function": ["name": .string(functionName)]]
        body["parallel_tool_calls"] = false
    }

    package static func applyJSONSchema(to body: inout JSONObject, schema: JSON) {
        body["response_format"] = [
            "type": "json_schema",
            "json_schema": ["name": .string(functionName), "strict": true, "schema": schema],
        ]
    }

    /// Which mode a request asks for.
    package static func mode(of request: JSONObject) -> StructuredMode? {
        if request["tools"] != nil { return .tools }
        if request["response_format"]?["json_schema"] != nil { return .jsonSchema }
        return nil
    }

    /// The reply schema of a request's format_response tool.
    package static func toolSchema(in request: JSONObject) -> JSON? {
        request["tools"]?.arrayValue?
            .first(where: { $0["function"]?["name"]?.stringValue == functionName })?["function"]?["parameters"]
    }

    /// The personas a reply to this request may name: the request's enum, or
    /// the built-in personas when it has none (a request Mira did not build).
    /// The one answer for the client, the store and the evaluator.
    package static func allowedPersonas(in request: JSONObject?) -> [String] {
        personaEnum(in: request) ?? builtinPersonas
    }

    /// The persona enum a request allowed, from its tool or its response_format.
    package static func personaEnum(in request: JSONObject?) -> [String]? {
        guard let request else { return nil }
        guard let values = schema(in: request)?["properties"]?["persona"]?["enum"]?.arrayValue else { return nil }
        let names = values.compactMap(\.stringValue)
        return names.isEmpty ? nil : names
    }
}
