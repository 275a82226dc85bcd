/// One chat turn as it flows between stages: a JSON object on one line.
///
/// The record keeps every member it was given, in order; stages read and set
/// the fields they know and carry the rest through untouched.
package struct Record: Equatable, Sendable {
    /// The protocol version this build writes and reads, in the `mira` field.
    package static let version = 1

    package var fields: JSONObject

    /// A fresh record for `session` (or none) with an empty history.
    package init(session: String? = nil, history: [Message] = []) {
        fields = JSONObject()
        fields["mira"] = .int(Self.version)
        if let session { fields["session"] = .string(session) }
        fields["history"] = .array(history.map(\.json))
    }

    /// A record that stands in for a line that could not be read at all.
    package init(failure: StageError, stage: String) {
        fields = JSONObject()
        fields["mira"] = .int(Self.version)
        fields["error"] = failure.json(stage: stage)
    }

    /// Parses and checks one input line: JSON, an object, a version we speak,
    /// and the right type for every field we know.
    package init(line: [UInt8]) throws(StageError) {
        let json: JSON
        do {
            json = try JSONParser.parse(line)
        } catch {
            throw StageError(.badJSON, "not JSON: \(error)")
        }
        guard let object = json.objectValue else {
            throw StageError(.badRecord, "a record must be a JSON object, not \(json.typeName)")
        }
        fields = object
        try check()
    }

    package func check() throws(StageError) {
        if let v = fields["mira"] {
            guard let n = v.intValue else { throw StageError(.badRecord, "mira (the protocol version) must be a number") }
            guard n == Self.version else {
                throw StageError(.unsupportedVersion, "protocol version \(n) is not supported (this build speaks \(Self.version))")
            }
        }
        for key in ["session", "turn", "input", "persona", "model"] {
            if let v = fields[key], !v.isNull, v.stringValue == nil {
                throw StageError(.badRecord, "\(key) must be a string, not \(v.typeName)")
            }
        }
        for key in ["request", "reply", "error", "usage"] {
            if let v = fields[key], !v.isNull, v.objectValue == nil {
                throw StageError(.badRecord, "\(key) must be an object, not \(v.typeName)")
            }
        }
        if let session { try Identifiers.validateSession(session) }
        if let turn { try Identifiers.validateTurn(turn) }
        if let persona { try Identifiers.validatePersonaName(persona) }
        _ = try history()
        _ = try memories()
    }

    func string(_ key: String) -> String? { fields[key]?.stringValue }

    package var session: String? {
        get { string("session") }
        set { fields["session"] = newValue.map { .string($0) } }
    }

    package var turn: String? {
        get { string("turn") }
        set { fields["turn"] = newValue.map { .string($0) } }
    }

    package var input: String? {
        get { string("input") }
        set { fields["input"] = newValue.map { .string($0) } }
    }

    /// The persona the user forces for this turn.
    package var persona: String? {
        get { string("persona") }
        set { fields["persona"] = newValue.map { .string($0) } }
    }

    package var request: JSONObject? {
        get { fields["request"]?.objectValue }
        set { fields["request"] = newValue.map { .object($0) } }
    }

    /// The error a stage left on this record; later stages pass it through.
    package var error: JSONObject? { fields["error"]?.objectValue }

    package var hasError: Bool {
        if let e = fields["error"], !e.isNull { return true }
        return false
    }

    package mutating func fail(_ failure: StageError, stage: String) {
        fields["error"] = failure.json(stage: stage)
    }

    /// The messages before this turn, oldest first.
    package func history() throws(StageError) -> [Message] {
        guard let v = fields["history"], !v.isNull else { return [] }
        guard let items = v.arrayValue else { throw StageError(.badRecord, "history must be an array, not \(v.typeName)") }
        var messages: [Message] = []
        messages.reserveCapacity(items.count)
        for (k, item) in items.enumerated() {
            messages.append(try Message(json: item, what: "history[\(k)]"))
        }
        return messages
    }

    /// What recall found for this turn (`memories`); none when absent.
    package func memories() throws(StageError) -> [RecalledMemory] {
        guard let v = fields["memories"], !v.isNull else { return [] }
        guard let items = v.arrayValue else { throw StageError(.badRecord, "memories must be an array, not \(v.typeName)") }
        var memories: [RecalledMemory] = []
        memories.reserveCapacity(items.count)
        for (k, item) in items.enumerated() {
            memories.append(try RecalledMemory(json: item, what: "memories[\(k)]"))
        }
        return memories
    }

    /// Sets `memories`, an empty list too: it says recall ran and found nothing.
    package mutating func setMemories(_ memories: [RecalledMemory]) {
        fields["memories"] = .array(memories.map(\.json))
    }

    /// The validated reply, when the record has one. The persona set is
    /// whatever the record's request allowed, so a reply is checked against
    /// what was asked, not what this build knows.
    package func reply() throws(StageError) -> Reply? {
        guard let v = fields["reply"], !v.isNull else { return nil }
        let personas = ReplyContract.allowedPersonas(in: request)
        do {
            return try Reply(validating: v, personas: personas)
        } catch {
            throw StageError(.badRecord, "reply is not valid: \(error.message)")
        }
    }

    package mutating func setReply(_ reply: Reply) {
        fields["reply"] = reply.json
    }

    /// One line of JSON, without the newline.
    package var line: [UInt8] { JSONWriter.bytes(.object(fields)) }
}
