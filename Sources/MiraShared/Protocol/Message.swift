/// Who said a message.
public enum Role: String, Sendable, CaseIterable {
    case user, assistant, system
}

/// One remembered message of a session, as it travels in a record's
/// `history` and in `mira-store export`.
public struct Message: Equatable, Sendable {
    public var role: Role
    public var content: String
    /// The overlay that shaped an assistant message.
    public var persona: String?
    public var mood: String?
    /// ISO 8601 UTC.
    public var time: String?

    public init(role: Role, content: String, persona: String? = nil, mood: String? = nil, time: String? = nil) {
        self.role = role
        self.content = content
        self.persona = persona
        self.mood = mood
        self.time = time
    }

    public var json: JSON {
        var o = JSONObject()
        o["role"] = .string(role.rawValue)
        o["content"] = .string(content)
        if let persona { o["persona"] = .string(persona) }
        if let mood { o["mood"] = .string(mood) }
        if let time { o["time"] = .string(time) }
        return .object(o)
    }

    /// Reads a message object; `what` names it in the error ("history[3]").
    public init(json: JSON, what: String) throws(StageError) {
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

    static func optionalString(_ o: JSONObject, _ key: String, _ what: String) throws(StageError) -> String? {
        guard let v = o[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw StageError(.badRecord, "\(what).\(key) must be a string, not \(v.typeName)") }
        return s
    }
}
