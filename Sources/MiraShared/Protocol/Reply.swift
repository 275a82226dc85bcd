/// The structured answer every turn must end in: what Mira says, which
/// persona shaped it, and its emotional tone.
package struct Reply: Equatable, Sendable {
    package var output: String
    package var persona: String
    package var mood: String

    package init(output: String, persona: String, mood: String) {
        self.output = output
        self.persona = persona
        self.mood = mood
    }

    package var json: JSON {
        ["output": .string(output), "persona": .string(persona), "mood": .string(mood)]
    }

    package static let fields: Set<String> = ["output", "persona", "mood"]

    /// Checks a reply object against the contract, whatever the model was
    /// talked into: exactly the three fields, non-empty strings, and a persona
    /// from `personas` (the request's enum).
    package init(validating json: JSON, personas: [String]) throws(StageError) {
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
        if let problem = Self.personaProblem(persona) ?? Self.moodProblem(mood) {
            throw StageError(.invalidReply, "reply " + problem)
        }
        self.init(output: output, persona: persona, mood: mood)
    }

    /// Why a persona cannot be stored with a message, or nil. The same rule
    /// holds for a model's reply and for an imported message: a persona is a
    /// file name under the personas folder, and the next prompt names it.
    package static func personaProblem(_ persona: String) -> String? {
        do {
            try Identifiers.validatePersonaName(persona)
            return nil
        } catch {
            return error.message
        }
    }

    /// Why a mood cannot be stored, or nil: a mood is a word or two of text,
    /// never blank and never holding a control character (a line break in it
    /// would become a line of the next system prompt).
    package static func moodProblem(_ mood: String) -> String? {
        if !mood.contains(where: { !$0.isWhitespace }) { return "mood is empty" }
        if mood.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
            return "mood \(Identifiers.quoted(mood)) holds a control character"
        }
        return nil
    }
}
