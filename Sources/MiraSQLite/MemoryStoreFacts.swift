#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiraMemory
import MiraShared
import MiraSystem

/// A fact about the person, as stored.
package struct StoredFact: Equatable, Sendable {
    package var id: Int64
    package var session: String
    package var turn: String?
    package var topic: String
    package var text: String
    package var time: String
    package var lastSeen: String
    package var seen: Int
    /// The fact that replaced this one (a correction or a near duplicate); nil while current.
    package var supersededBy: Int64?
    /// That fact's text.
    package var supersededByText: String?
}

/// A summary of a run of a session's messages.
package struct StoredSummary: Equatable, Sendable {
    package var id: Int64
    package var session: String
    package var firstMessage: Int64
    package var lastMessage: Int64
    package var text: String
    package var model: String
    package var time: String
}

extension MemoryStore {
    // MARK: Facts

    static let factColumns = """
        f.id, f.session, f.turn, f.topic, f.text, f.time, f.last_seen, f.seen, f.superseded_by, s.text
        FROM facts f LEFT JOIN facts s ON s.id = f.superseded_by
        """

    static func fact(_ stmt: Statement) -> StoredFact {
        let by = stmt.value(8)
        return StoredFact(
            id: Int64(stmt.int(0)), session: stmt.text(1) ?? "", turn: stmt.text(2), topic: stmt.text(3) ?? "",
            text: stmt.text(4) ?? "", time: stmt.text(5) ?? "", lastSeen: stmt.text(6) ?? "", seen: stmt.int(7),
            supersededBy: by == .null ? nil : Int64(stmt.int(8)), supersededByText: stmt.text(9))
    }

    func facts(_ sql: String, _ values: [SQLValue], what: String) throws(StageError) -> [StoredFact] {
        do {
            let stmt = try db.prepare("SELECT " + Self.factColumns + " " + sql)
            try stmt.bind(values)
            var out: [StoredFact] = []
            while try stmt.step() { out.append(Self.fact(stmt)) }
            return out
        } catch {
            throw Self.failure(what, error)
        }
    }

    /// Facts not superseded, most recently seen first, at most `limit`;
    /// only `realm`'s when one is given.
    package func currentFacts(limit: Int, realm: Realm? = nil) throws(StageError) -> [StoredFact] {
        guard let realm else {
            return try facts("WHERE f.superseded_by IS NULL ORDER BY f.last_seen DESC, f.id DESC LIMIT ?", [SQLValue(max(0, limit))], what: "facts")
        }
        return try facts("WHERE f.superseded_by IS NULL AND \(Realm.keyOf("f.session")) = ? ORDER BY f.last_seen DESC, f.id DESC LIMIT ?",
                         [.text(realm.key), SQLValue(max(0, limit))], what: "facts")
    }

    /// Whether fact `id` exists and is `realm`'s.
    package func fact(_ id: Int64, isIn realm: Realm) throws(StageError) -> Bool {
        try exists("SELECT 1 FROM facts f WHERE f.id = ?1 AND \(Realm.keyOf("f.session")) = ?2", id, realm, what: "fact look-up")
    }

    /// Whether summary `id` exists and is `realm`'s.
    package func summary(_ id: Int64, isIn realm: Realm) throws(StageError) -> Bool {
        try exists("SELECT 1 FROM summaries s WHERE s.id = ?1 AND s.text <> '' AND \(Realm.keyOf("s.session")) = ?2", id, realm, what: "summary look-up")
    }

    private func exists(_ sql: String, _ id: Int64, _ realm: Realm, what: String) throws(StageError) -> Bool {
        do {
            let stmt = try db.prepare(sql)
            try stmt.bind([.integer(id), .text(realm.key)])
            return try stmt.step()
        } catch {
            throw Self.failure(what, error)
        }
    }

    /// Every fact, superseded ones too (with what superseded them), oldest first.
    package func allFacts() throws(StageError) -> [StoredFact] {
        try facts("ORDER BY f.id", [], what: "facts")
    }

    /// Stores fact vectors like `storeVectors` stores messages': normalised,
    /// once, skipping facts deleted meanwhile, refusing another model.
    @discardableResult
    package func storeFactVectors(_ vectors: [(Int64, [Float])], model: String) throws(StageError) -> Int {
        try store(vectors, model: model, into: .facts)
    }

    /// Folds near duplicates among the current facts: a fact whose vector has
    /// at least `threshold` cosine with an older current fact is marked
    /// superseded by it (kept, never deleted), and the older one is
    /// reinforced: `seen` grows by the newer's count (1 for a fact said once)
    /// and `last_seen` becomes the later of the two. Facts of different
    /// realms are never folded together. Returns how many were folded.
    @discardableResult
    package func mergeNearDuplicateFacts(threshold: Float) throws(StageError) -> Int {
        do {
            return try db.writeTransaction { () throws(SQLiteError) -> Int in
                let stmt = try db.prepare("""
                    SELECT f.id, f.seen, f.last_seen, v.vector, \(Realm.keyOf("f.session")) FROM facts f
                    JOIN fact_vectors v ON v.fact = f.id WHERE f.superseded_by IS NULL ORDER BY f.id
                    """)
                var keptByRealm: [String: [(id: Int64, vector: [Float])]] = [:]
                var folds: [(newer: Int64, older: Int64, seen: Int, lastSeen: String)] = []
                while try stmt.step() {
                    guard let v = try stmt.withBlob(3, { Vectors.decode($0) }) else { continue }
                    let id = Int64(stmt.int(0))
                    let realm = stmt.text(4) ?? ""
                    let best = Vectors.topK(query: v, vectors: keptByRealm[realm] ?? [], k: 1).first
                    if let best, best.score >= threshold {
                        folds.append((id, best.id, stmt.int(1), stmt.text(2) ?? ""))
                    } else {
                        keptByRealm[realm, default: []].append((id, v))
                    }
                }
                stmt.reset()
                let reinforce = try db.prepare("UPDATE facts SET seen = seen + ?, last_seen = max(last_seen, ?) WHERE id = ?")
                let supersede = try db.prepare("UPDATE facts SET superseded_by = ? WHERE id = ?")
                for fold in folds {
                    try reinforce.run([SQLValue(fold.seen), .text(fold.lastSeen), .integer(fold.older)])
                    try supersede.run([.integer(fold.older), .integer(fold.newer)])
                }
                return folds.count
            }
        } catch {
            throw Self.failure("merging facts", error)
        }
    }

    // MARK: Summaries

    /// A summary from the columns id, session, first_message, last_message, text, model, time.
    static func summary(_ stmt: Statement) -> StoredSummary {
        StoredSummary(
            id: Int64(stmt.int(0)), session: stmt.text(1) ?? "", firstMessage: Int64(stmt.int(2)), lastMessage: Int64(stmt.int(3)),
            text: stmt.text(4) ?? "", model: stmt.text(5) ?? "", time: stmt.text(6) ?? "")
    }

    /// `realm`'s summaries, newest first.
    package func summaries(realm: Realm) throws(StageError) -> [StoredSummary] {
        do {
            let stmt = try db.prepare("""
                SELECT s.id, s.session, s.first_message, s.last_message, s.text, s.model, s.time FROM summaries s
                WHERE s.text <> '' AND \(Realm.keyOf("s.session")) = ? ORDER BY s.time DESC, s.id DESC
                """)
            try stmt.bind([.text(realm.key)])
            var out: [StoredSummary] = []
            while try stmt.step() { out.append(Self.summary(stmt)) }
            return out
        } catch {
            throw Self.failure("summaries", error)
        }
    }

    /// The session's summary that reaches furthest; nil when it has none.
    package func latestSummary(session: String) throws(StageError) -> StoredSummary? {
        do {
            let stmt = try db.prepare("""
                SELECT id, session, first_message, last_message, text, model, time FROM summaries
                WHERE session = ? ORDER BY last_message DESC, id DESC LIMIT 1
                """)
            try stmt.bind([.text(session)])
            guard try stmt.step() else { return nil }
            defer { stmt.reset() }
            return Self.summary(stmt)
        } catch {
            throw Self.failure("summary", error)
        }
    }

    /// The session's user and assistant messages that no summary covers yet
    /// and that are older than its last `window` messages (what a load
    /// shows), oldest first, at most `limit`.
    package func unsummarized(session: String, keepingLast window: Int, limit: Int = 1000) throws(StageError) -> [RecalledMessage] {
        let covered = try latestSummary(session: session)?.lastMessage ?? 0
        do {
            // The oldest message the load window shows: everything older may be summarized.
            let edge = try db.prepare("SELECT id FROM messages WHERE session = ? ORDER BY id DESC LIMIT 1 OFFSET ?")
            try edge.bind([.text(session), SQLValue(max(0, window - 1))])
            let before: Int64
            if window <= 0 {
                before = .max
            } else if try edge.step() {
                before = Int64(edge.int(0))
            } else {
                return []
            }
            edge.reset()
            let stmt = try db.prepare("""
                SELECT id, session, turn, role, content, time FROM messages
                WHERE session = ? AND id > ? AND id < ? AND role IN ('user', 'assistant') ORDER BY id LIMIT ?
                """)
            try stmt.bind([.text(session), .integer(covered), .integer(before), SQLValue(max(0, limit))])
            var out: [RecalledMessage] = []
            while try stmt.step() {
                out.append(RecalledMessage(
                    id: Int64(stmt.int(0)), session: stmt.text(1) ?? "", turn: stmt.text(2), role: Role(rawValue: stmt.text(3) ?? "") ?? .user,
                    text: stmt.text(4) ?? "", time: stmt.text(5) ?? ""))
            }
            return out
        } catch {
            throw Self.failure("unsummarized messages", error)
        }
    }

    /// Stores a summary of the session's messages `first`...`last`. Returns
    /// false, storing nothing, when another summary already covers part of
    /// that run (two summarizers at once: the second one's is dropped).
    @discardableResult
    package func addSummary(session: String, first: Int64, last: Int64, text: String, model: String) throws(StageError) -> Bool {
        guard first <= last else { throw StageError(.badRecord, "summary: first message \(first) is after last \(last)") }
        guard !text.allSatisfy(\.isWhitespace) else { throw StageError(.invalidReply, "summary: the model's summary is empty") }
        do {
            return try db.writeTransaction { () throws(SQLiteError) -> Bool in
                let overlap = try db.prepare("SELECT 1 FROM summaries WHERE session = ? AND last_message >= ? LIMIT 1")
                try overlap.bind([.text(session), .integer(first)])
                if try overlap.step() { return false }
                overlap.reset()
                try db.prepare("""
                    INSERT INTO summaries (session, first_message, last_message, text, model, time) VALUES (?, ?, ?, ?, ?, ?)
                    """).run([.text(session), .integer(first), .integer(last), .text(text), .text(model), .text(SystemTime.nowISO8601())])
                return true
            }
        } catch {
            throw Self.failure("adding a summary", error)
        }
    }

    // MARK: Forgetting

    /// Deletes a message for good: its row, its vector (cascade) and its
    /// keyword index entry (trigger), with the index rewritten in the same
    /// transaction so its words are gone from the file too (see `scrub`),
    /// then checkpoints the WAL. Returns false when there was no such message.
    /// With another process reading at that moment the WAL cannot be
    /// truncated, and its old frames keep the text until a later checkpoint
    /// overwrites them.
    @discardableResult
    package func forget(message id: Int64) throws(StageError) -> Bool {
        do {
            let found = try db.writeTransaction { () throws(SQLiteError) -> Bool in
                let owner = try db.prepare("SELECT session FROM messages WHERE id = ?")
                try owner.bind([.integer(id)])
                guard try owner.step(), let session = owner.text(0) else { return false }
                owner.reset()
                try db.prepare("DELETE FROM messages WHERE id = ?").run([.integer(id)])
                // The session's count in `sessions`; a session left empty no longer exists.
                try db.prepare("UPDATE sessions SET messages = messages - 1 WHERE id = ?").run([.text(session)])
                try db.prepare("DELETE FROM sessions WHERE id = ? AND messages <= 0").run([.text(session)])
                try clearDeletedWords()
                return true
            }
            if found { _ = try checkpoint() }
            return found
        } catch {
            throw Self.failure("forget message \(id)", error)
        }
    }

    /// Deletes a fact and its vector, then checkpoints the WAL (as `forget(message:)`).
    /// A fact it had superseded becomes current again (the schema's ON
    /// DELETE SET NULL). Returns false when there was no such fact.
    @discardableResult
    package func forget(fact id: Int64) throws(StageError) -> Bool {
        do {
            let found = try db.writeTransaction { () throws(SQLiteError) -> Bool in
                try db.prepare("DELETE FROM facts WHERE id = ?").run([.integer(id)])
                return db.changes > 0
            }
            if found { _ = try checkpoint() }
            return found
        } catch {
            throw Self.failure("forget fact \(id)", error)
        }
    }

    /// Forgets a summary's words, then checkpoints the WAL (as
    /// `forget(message:)`). The row stays with empty text, which no summary
    /// may have (`addSummary`): it still marks its messages as summed up,
    /// so the next summary run does not write the same memory again; the
    /// messages themselves stay. Returns false when there was no such summary.
    @discardableResult
    package func forget(summary id: Int64) throws(StageError) -> Bool {
        do {
            let found = try db.writeTransaction { () throws(SQLiteError) -> Bool in
                try db.prepare("UPDATE summaries SET text = '' WHERE id = ? AND text <> ''").run([.integer(id)])
                return db.changes > 0
            }
            if found { _ = try checkpoint() }
            return found
        } catch {
            throw Self.failure("forget summary \(id)", error)
        }
    }

    /// Makes deleted text unreadable in the files, after `mira-store rm`
    /// (forget does it itself): rewrites the keyword index, packs vectors
    /// left loose by deleted blocks, then checkpoints the WAL and truncates
    /// it. Freed pages are overwritten (secure_delete). Returns false when
    /// another connection's open read kept the WAL from being truncated: the
    /// text is then gone from the database file but may remain in the WAL
    /// until a later checkpoint overwrites it.
    @discardableResult
    package func scrub() throws(StageError) -> Bool {
        do {
            try db.writeTransaction { () throws(SQLiteError) in try clearDeletedWords() }
            return try checkpoint()
        } catch {
            throw Self.failure("scrub", error)
        }
    }

    /// Inside the caller's write transaction: merges the keyword index into
    /// one segment, which drops deleted messages' words (FTS5 in SQLite 3.40
    /// has no secure-delete option: they stay in old segments until merged;
    /// about 0.26 s at 100,000 messages), and packs loose vectors.
    func clearDeletedWords() throws(SQLiteError) {
        try db.execute("INSERT INTO message_words (message_words) VALUES ('optimize')")
        if let model = try storedModel()?.model { try pack(model: model) }
    }

    /// Copies the WAL into the database and truncates it; false when a reader kept it from completing.
    func checkpoint() throws(SQLiteError) -> Bool {
        let checkpoint = try db.prepare("PRAGMA wal_checkpoint(TRUNCATE)")
        let complete = try checkpoint.step() && checkpoint.int(0) == 0
        checkpoint.reset()
        return complete
    }

    // MARK: Stats

    /// Counts, the indexing model, and the size on disk.
    package func stats() throws(StageError) -> MemoryStats {
        let indexed = try indexedModels()
        do {
            func count(_ sql: String) throws(SQLiteError) -> Int {
                let stmt = try db.prepare(sql)
                return try stmt.step() ? stmt.int(0) : 0
            }
            let messages = try count("SELECT count(*) FROM messages")
            let current = try count("SELECT count(*) FROM facts WHERE superseded_by IS NULL")
            let superseded = try count("SELECT count(*) FROM facts WHERE superseded_by IS NOT NULL")
            let summaries = try count("SELECT count(*) FROM summaries")
            let pages = try count("PRAGMA page_count") * (try count("PRAGMA page_size"))
            let bytes = path.map { Self.fileSize($0) + Self.fileSize($0 + "-wal") } ?? pages
            return MemoryStats(
                messages: messages, indexed: indexed, currentFacts: current, supersededFacts: superseded,
                summaries: summaries, bytesOnDisk: bytes)
        } catch {
            throw Self.failure("stats", error)
        }
    }

    static func fileSize(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }
}
