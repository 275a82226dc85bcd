/// The structured answer every turn must end in: what Mira says, which
/// persona shaped it, its emotional tone, and the facts the user stated
/// about themselves in this turn.
package struct Reply: Equatable, Sendable {
    package var output: String
    package var persona: String
    package var mood: String
    /// Usually empty: most turns tell Mira nothing lasting about the user.
    package var remember: [Fact]

    package init(output: String, persona: String, mood: String, remember: [Fact] = []) {
        self.output = output
        self.persona = persona
        self.mood = mood
        self.remember = remember
    }

    /// `remember` is written only when it holds a fact, so a turn without one
    /// reads byte for byte as it did before facts existed.
    package var json: JSON {
        var o: JSONObject = ["output": .string(output), "persona": .string(persona), "mood": .string(mood)]
        if !remember.isEmpty { o["remember"] = .array(remember.map(\.json)) }
        return .object(o)
    }

    package static let fields: Set<String> = ["output", "persona", "mood", "remember"]

    /// At most this many facts in one reply.
    package static let maxFacts = 5
    /// At most this many under a grammar's length caps (ReplyContract).
    package static let cappedFacts = 2

    /// Checks a reply object against the contract, whatever the model was
    /// talked into: only the contract's fields, non-empty strings, a persona
    /// from `personas` (the request's enum), and `remember` (when present)
    /// a list of well-formed facts. An absent `remember` is an empty one:
    /// older records and servers asked without it.
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
        let remember = try o["remember"].map { v throws(StageError) in try Self.facts(v) } ?? []
        self.init(output: output, persona: persona, mood: mood, remember: remember)
    }

    /// Reads a reply's `remember`: an array of at most `maxFacts` facts.
    package static func facts(_ value: JSON) throws(StageError) -> [Fact] {
        guard let items = value.arrayValue else {
            throw StageError(.invalidReply, "reply remember must be an array, not \(value.typeName)")
        }
        guard items.count <= maxFacts else {
            throw StageError(.invalidReply, "reply remember holds \(items.count) facts (at most \(maxFacts))")
        }
        var facts: [Fact] = []
        for (k, item) in items.enumerated() {
            facts.append(try Fact(json: item, what: "reply remember[\(k)]"))
        }
        return facts
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

/// A fact the user stated about themselves, as a reply's `remember` holds
/// it: `{"topic": "pet", "fact": "has a cat called Miso"}`. The topic is the
/// key a later fact of the same kind replaces this one by.
package struct Fact: Equatable, Sendable {
    package var topic: String
    package var text: String

    package static let maxTopicLength = 40
    package static let maxTextLength = 200
    /// The tighter limits a grammar-decoding server is given (ReplyContract).
    package static let cappedTopicLength = 20
    package static let cappedTextLength = 80

    package init(topic: String, text: String) {
        self.topic = topic
        self.text = text
    }

    package var json: JSON { ["topic": .string(topic), "fact": .string(text)] }

    /// Reads and checks one fact; `what` names it in the error. A topic in
    /// capitals is folded to lower case (a model's "Name" means "name"); any
    /// other break of the rules is refused.
    package init(json: JSON, what: String) throws(StageError) {
        guard let o = json.objectValue else {
            throw StageError(.invalidReply, "\(what) must be an object, not \(json.typeName)")
        }
        if let extra = o.keys.first(where: { $0 != "topic" && $0 != "fact" }) {
            throw StageError(.invalidReply, "\(what) has an unexpected field \(Identifiers.quoted(extra))")
        }
        func string(_ key: String) throws(StageError) -> String {
            guard let v = o[key] else { throw StageError(.invalidReply, "\(what) has no \(key)") }
            guard let s = v.stringValue else { throw StageError(.invalidReply, "\(what).\(key) must be a string, not \(v.typeName)") }
            return s
        }
        let topic = try string("topic")
        let text = try string("fact")
        if let problem = Self.topicProblem(topic) ?? Self.textProblem(text) {
            throw StageError(.invalidReply, "\(what).\(problem)")
        }
        self.init(topic: topic.lowercased(), text: text)
    }

    /// Why a topic is no topic, or nil: 1-40 ASCII letters, digits, `-`, `_`.
    package static func topicProblem(_ topic: String) -> String? {
        let bytes = Array(topic.utf8)
        let slug = bytes.allSatisfy { b in
            Identifiers.isAlnum(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
        }
        guard !bytes.isEmpty, bytes.count <= maxTopicLength, slug else {
            return "topic \(Identifiers.quoted(topic)) must be 1-\(maxTopicLength) letters, digits, '-' or '_' (a word like \"pet\")"
        }
        return nil
    }

    /// Why a fact's text cannot be kept, or nil: a short line of text, not
    /// blank, at most 200 characters, no control characters (it is quoted
    /// into later prompts, where a line break would start a line of its own).
    package static func textProblem(_ text: String) -> String? {
        if !text.contains(where: { !$0.isWhitespace }) { return "fact is empty" }
        if text.count > maxTextLength { return "fact is longer than \(maxTextLength) characters" }
        if hasControl(text) { return "fact \(Identifiers.quoted(text)) holds a control character" }
        return nil
    }

    /// C0 controls (tab and line breaks among them), DEL, C1 controls, and
    /// the Unicode line and paragraph separators.
    static func hasControl(_ text: String) -> Bool {
        text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0.value == 0x2028 || $0.value == 0x2029 })
    }
}

extension Fact {
    /// Words too common to tie a fact to what was said.
    static let glue: Set<String> = [
        "the", "and", "has", "have", "had", "his", "her", "hers", "their", "they", "them", "with", "was", "were",
        "are", "who", "that", "this", "for", "from", "user", "person", "called", "named", "name", "not", "but",
        "its", "she", "him", "about", "into", "will", "would", "does", "did", "very", "really",
    ]

    /// Whether the user's message holds a word of this fact (ignoring case,
    /// a plural's s, and glue words): a fact is what the user said, never
    /// something a model made up or took from its own reply. A small model
    /// told "tell me something to make me smile" returned "has a cat named
    /// Miso"; nothing in the message grounds it.
    package func isGrounded(in message: String) -> Bool {
        let said = message.lowercased()
        var word = ""
        func grounds(_ w: String) -> Bool {
            guard w.count >= 3, !Self.glue.contains(w) else { return false }
            let stem = w.count > 3 && w.hasSuffix("s") ? String(w.dropLast()) : w
            return said.containsText(stem)
        }
        for c in text.lowercased() {
            if c.isLetter || c.isNumber {
                word.append(c)
            } else {
                if grounds(word) { return true }
                word = ""
            }
        }
        return grounds(word)
    }
}
