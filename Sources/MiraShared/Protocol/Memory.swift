/// What a recalled memory is: a stored message, a fact about the user, or
/// a summary of older messages.
package enum MemoryKind: String, Sendable, CaseIterable {
    case message, fact, summary
}

/// One thing recall found for a turn, as it travels in a record's
/// `memories`: where it came from (kind, row id, session, turn), who said
/// it, its text, when, and how well it matched.
package struct RecalledMemory: Equatable, Sendable {
    package var kind: MemoryKind
    /// The row id in its table (messages, facts or summaries).
    package var id: Int64
    package var session: String
    package var turn: String?
    /// `user`, `assistant` or `system` for a message; nil for a fact or a summary.
    package var role: String?
    package var text: String
    /// ISO 8601 UTC, as the store writes it.
    package var time: String
    package var score: Double

    package init(kind: MemoryKind, id: Int64, session: String, turn: String? = nil, role: String? = nil,
                 text: String, time: String, score: Double) {
        self.kind = kind
        self.id = id
        self.session = session
        self.turn = turn
        self.role = role
        self.text = text
        self.time = time
        self.score = score
    }

    package var json: JSON {
        var o = JSONObject()
        o["kind"] = .string(kind.rawValue)
        o["id"] = .number(String(id))
        o["session"] = .string(session)
        if let turn { o["turn"] = .string(turn) }
        if let role { o["role"] = .string(role) }
        o["text"] = .string(text)
        o["time"] = .string(time)
        o["score"] = .double(score)
        return .object(o)
    }

    /// Reads one memory; `what` names it in the error ("memories[2]"). Every
    /// field is checked: a memory ends up quoted in a system message.
    package init(json: JSON, what: String) throws(StageError) {
        guard let o = json.objectValue else { throw StageError(.badRecord, "\(what) must be an object, not \(json.typeName)") }
        func string(_ key: String) throws(StageError) -> String {
            guard let v = o[key] else { throw StageError(.badRecord, "\(what) has no \(key)") }
            guard let s = v.stringValue else { throw StageError(.badRecord, "\(what).\(key) must be a string, not \(v.typeName)") }
            return s
        }
        let kindText = try string("kind")
        guard let kind = MemoryKind(rawValue: kindText) else {
            throw StageError(.badRecord, "\(what).kind must be \"message\", \"fact\" or \"summary\", not \(Identifiers.quoted(kindText))")
        }
        guard case .number(let idText)? = o["id"], let id = Int64(idText) else {
            throw StageError(.badRecord, "\(what).id must be a whole number")
        }
        let session = try string("session")
        do {
            try Identifiers.validateSession(session)
        } catch {
            throw StageError(.badRecord, "\(what).session: \(error.message)")
        }
        let turn = try Message.optionalString(o, "turn", what)
        if let turn {
            do {
                try Identifiers.validateTurn(turn)
            } catch {
                throw StageError(.badRecord, "\(what).\(error.message)")
            }
        }
        let role = try Message.optionalString(o, "role", what)
        if let role, Role(rawValue: role) == nil {
            throw StageError(.badRecord, "\(what).role must be \"user\", \"assistant\" or \"system\"")
        }
        let text = try string("text")
        let time = try string("time")
        guard Message.isStoredTime(time) else {
            throw StageError(.badRecord, "\(what).time \(Identifiers.quoted(time)) is not a UTC time like 2026-01-31T12:00:00.000Z")
        }
        guard let score = o["score"]?.doubleValue, score.isFinite else {
            throw StageError(.badRecord, "\(what).score must be a number")
        }
        self.init(kind: kind, id: id, session: session, turn: turn, role: role, text: text, time: time, score: score)
    }

    /// The day of `time`, `YYYY-MM-DD`.
    package var day: String { String(time.prefix(10)) }
}
