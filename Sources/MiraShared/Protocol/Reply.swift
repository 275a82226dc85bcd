/// The structured answer every turn must end in: what Mira says, which
/// overlay shaped it, and its emotional tone.
public struct Reply: Equatable, Sendable {
    public var output: String
    public var persona: String
    public var mood: String

    public init(output: String, persona: String, mood: String) {
        self.output = output
        self.persona = persona
        self.mood = mood
    }

    public var json: JSON {
        ["output": .string(output), "persona": .string(persona), "mood": .string(mood)]
    }

    public static let fields: Set<String> = ["output", "persona", "mood"]

    /// Checks a reply object against the contract, whatever the model was
    /// talked into: exactly the three fields, non-empty strings, and a persona
    /// from `personas` (the request's enum).
    public init(validating json: JSON, personas: [String]) throws(StageError) {
        guard let o = json.objectValue else {
            throw StageError(.invalidReply, "reply must be a JSON object, not \(json.typeName)")
        }
        if let extra = o.keys.first(where: { !Self.fields.contains($0) }) {
            throw StageError(.invalidReply, "reply has an unexpected field \(Identifiers.quoted(extra))")
        }
        func text(_ key: String) throws(StageError) -> String {
            guard let v = o[key] else { throw StageError(.invalidReply, "reply has no \(key)") }
            guard let s = v.stringValue else { throw StageError(.invalidReply, "reply \(key) must be a string, not \(v.typeName)") }
            guard s.contains(where: { !$0.isWhitespace }) else { throw StageError(.invalidReply, "reply \(key) is empty") }
            return s
        }
        let output = try text("output")
        let persona = try text("persona")
        let mood = try text("mood")
        guard personas.contains(persona) else {
            throw StageError(.invalidReply, "reply persona \(Identifiers.quoted(persona)) is not one of \(personas.joined(separator: ", "))")
        }
        self.init(output: output, persona: persona, mood: mood)
    }
}
