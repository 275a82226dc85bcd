import MiraShared
import MiraSystem

extension SessionStore {
    /// Appends a turn's messages and keeps the facts its reply remembered,
    /// in one transaction: the turn is stored whole or not at all. Saving
    /// the same turn again changes nothing and returns false.
    @discardableResult
    package func save(session: String, turn: String, messages: [Message], facts: [Fact], time: String) throws(StageError) -> Bool {
        do {
            return try db.writeTransaction { () throws(SQLiteError) -> Bool in
                try insertTurn(TurnRows(session: session, turn: turn, messages: messages, facts: facts, time: time))
            }
        } catch {
            throw StageError(.storeFailed, "save: \(error.message)")
        }
    }

    /// Adds a turn inside the caller's transaction; false when it was there already.
    func insertTurn(_ rows: TurnRows) throws(SQLiteError) -> Bool {
        let seen = try db.reusing("SELECT 1 FROM messages WHERE session = ? AND turn = ? LIMIT 1") { (seen) throws(SQLiteError) in
            try seen.bind([.text(rows.session), .text(rows.turn)])
            return try seen.step()
        }
        if seen { return false }
        // First, so the facts below are kept within the new session's realm.
        if let realm = rows.opening { try insertWebSession(rows.session, realm: realm) }
        try insert(rows.messages.map { StoredMessage(session: rows.session, turn: rows.turn, message: $0) })
        try keep(rows.facts, session: rows.session, turn: rows.turn, time: rows.time)
        return true
    }

    /// Stores a turn's facts inside the caller's transaction. A fact whose
    /// topic and words (trimmed, case folded) match a current fact
    /// reinforces it (`seen` + 1, `last_seen`); any other is added, and
    /// every current fact of its topic from another turn is marked
    /// superseded by it: kept, never deleted. Facts of one turn never
    /// supersede each other (a person may name two pets at once). Only the
    /// facts of the session's own realm are compared: one person's words
    /// never reinforce or replace another's.
    func keep(_ facts: [Fact], session: String, turn: String, time: String) throws(SQLiteError) {
        guard !facts.isEmpty else { return }
        let realm = try db.realm(of: session).key
        let current = try db.prepare("""
            SELECT id, text FROM facts WHERE topic = ? AND superseded_by IS NULL AND \(Realm.keyOf("facts.session")) = ? ORDER BY id
            """)
        let reinforce = try db.prepare("UPDATE facts SET seen = seen + 1, last_seen = ? WHERE id = ?")
        let add = try db.prepare("""
            INSERT INTO facts (session, turn, topic, text, time, last_seen, seen) VALUES (?, ?, ?, ?, ?, ?, 1)
            """)
        let lastID = try db.prepare("SELECT last_insert_rowid()")
        let supersede = try db.prepare("""
            UPDATE facts SET superseded_by = ?
            WHERE topic = ? AND superseded_by IS NULL AND id != ? AND NOT (session = ? AND turn IS ?)
                AND \(Realm.keyOf("facts.session")) = ?
            """)
        var told: Set<[String]> = []
        for fact in facts {
            let words = Self.comparable(fact.text)
            // The same fact twice in one reply is told once.
            guard told.insert([fact.topic, words]).inserted else { continue }
            try current.bind([.text(fact.topic), .text(realm)])
            var match: Int64?
            while try current.step() {
                if Self.comparable(current.text(1) ?? "") == words {
                    match = Int64(current.int(0))
                    break
                }
            }
            current.reset()
            if let match {
                try reinforce.run([.text(time), .integer(match)])
                continue
            }
            let text = Self.trimmed(fact.text)
            try add.run([.text(session), .text(turn), .text(fact.topic), .text(text), .text(time), .text(time)])
            guard try lastID.step() else { throw SQLiteError(.other, "no id for the new fact") }
            let id = Int64(lastID.int(0))
            lastID.reset()
            try supersede.run([.integer(id), .text(fact.topic), .integer(id), .text(session), .text(turn), .text(realm)])
        }
    }

    /// A fact's words as compared for a repeat: trimmed and case folded.
    static func comparable(_ text: String) -> String {
        trimmed(text).lowercased()
    }

    static func trimmed(_ text: String) -> String {
        guard let first = text.firstIndex(where: { !$0.isWhitespace }), let last = text.lastIndex(where: { !$0.isWhitespace }) else {
            return ""
        }
        return String(text[first...last])
    }

    /// The stored facts, oldest first: only the current ones (not
    /// superseded), or all of them (without the replacing fact's text:
    /// MemoryStore.allFacts has it).
    package func facts(includingSuperseded: Bool = false) throws(StageError) -> [StoredFact] {
        do {
            let stmt = try db.prepare("""
                SELECT id, session, turn, topic, text, time, last_seen, seen, superseded_by FROM facts
                \(includingSuperseded ? "" : "WHERE superseded_by IS NULL") ORDER BY id
                """)
            var out: [StoredFact] = []
            while try stmt.step() {
                let replacedBy: Int64? = if case .integer(let n) = stmt.value(8) { n } else { nil }
                out.append(StoredFact(
                    id: Int64(stmt.int(0)), session: stmt.text(1) ?? "", turn: stmt.text(2), topic: stmt.text(3) ?? "",
                    text: stmt.text(4) ?? "", time: stmt.text(5) ?? "", lastSeen: stmt.text(6) ?? "",
                    seen: stmt.int(7), supersededBy: replacedBy, supersededByText: nil))
            }
            return out
        } catch {
            throw StageError(.storeFailed, "facts: \(error.message)")
        }
    }
}
