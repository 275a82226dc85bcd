/// Who said a message.
package enum Role: String, Sendable, CaseIterable {
    case user, assistant, system
}

/// One remembered message of a session, as it travels in a record's
/// `history` and in `mira-store export`.
package struct Message: Equatable, Sendable {
    package var role: Role
    package var content: String
    /// The persona that shaped an assistant message.
    package var persona: String?
    package var mood: String?
    /// ISO 8601 UTC.
    package var time: String?

    package init(role: Role, content: String, persona: String? = nil, mood: String? = nil, time: String? = nil) {
        self.role = role
        self.content = content
        self.persona = persona
        self.mood = mood
        self.time = time
    }

    package var json: JSON {
        var o = JSONObject()
        o["role"] = .string(role.rawValue)
        o["content"] = .string(content)
        if let persona { o["persona"] = .string(persona) }
        if let mood { o["mood"] = .string(mood) }
        if let time { o["time"] = .string(time) }
        return .object(o)
    }

    /// Reads a message object; `what` names it in the error ("history[3]").
    package init(json: JSON, what: String) throws(StageError) {
        guard let o = json.objectValue else { throw StageError(.badRecord, "\(what) must be an object, not \(json.typeName)") }
        guard let roleText = o["role"]?.stringValue, let role = Role(rawValue: roleText) else {
            throw StageError(.badRecord, "\(what).role must be \"user\", \"assistant\" or \"system\"")
        }
        guard let content = o["content"]?.stringValue else {
            throw StageError(.badRecord, "\(what).content must be a string")
        }
        self.init(role: role, content: content)
        persona = try Self.optionalString(o, "persona", what)
        mood = try Self.optionalString(o, "mood", what)
        time = try Self.optionalString(o, "time", what)
    }

    /// Checks a message from outside (an import) by the rules every saved
    /// turn obeys: persona and mood only on an assistant message, each valid
    /// as a reply's would be, and the time in the form Mira writes
    /// (`2026-01-31T12:00:00.000Z`, fraction optional).
    package func validateForStore(what: String) throws(StageError) {
        if role != .assistant, persona != nil || mood != nil {
            throw StageError(.badRecord, "\(what) is a \(role.rawValue) message: only an assistant message has a persona or a mood")
        }
        if let persona, let problem = Reply.personaProblem(persona) {
            throw StageError(.invalidPersona, "\(what).persona: \(problem)")
        }
        if let mood, let problem = Reply.moodProblem(mood) {
            throw StageError(.badRecord, "\(what).\(problem)")
        }
        if let time, !Self.isStoredTime(time) {
            throw StageError(.badRecord, "\(what).time \(Identifiers.quoted(time)) is not a UTC time like 2026-01-31T12:00:00.000Z")
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS`, an optional `.` and 1-9 digits, then `Z`, with
    /// every field in range: times sort as text, so one form only.
    static func isStoredTime(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard b.count >= 20, b.count <= 30, b.last == UInt8(ascii: "Z") else { return false }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) else { return nil }
                value = value * 10 + Int(b[i] - UInt8(ascii: "0"))
            }
            return value
        }
        let separators: [(Int, Unicode.Scalar)] = [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")]
        guard separators.allSatisfy({ b[$0.0] == UInt8(ascii: $0.1) }),
            number(0..<4) != nil, let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return false }
        if b.count == 20 { return true }
        return b[19] == UInt8(ascii: ".") && b.count >= 22 && number(20..<(b.count - 1)) != nil
    }

    static func optionalString(_ o: JSONObject, _ key: String, _ what: String) throws(StageError) -> String? {
        guard let v = o[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw StageError(.badRecord, "\(what).\(key) must be a string, not \(v.typeName)") }
        return s
    }
}
