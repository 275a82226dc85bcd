import MiraShared
import MiraSystem

/// Who embeds what: several processes (eight pipelines recalling at once, an
/// `index -j 4`) each claim the messages they will embed, so no message is
/// sent to the embedding server twice, and a claim left by a process that
/// died runs out and the message is taken again, so none is lost.
extension MemoryStore {
    /// How long a claim holds before another process may take the message.
    package static let claimSeconds = 120

    /// Claims up to `limit` messages that need a vector and no live claim
    /// holds, in id order, in one short write transaction (nothing is held
    /// while they are embedded). Release them with `release` when done,
    /// stored or not.
    package func claimPendingMessages(limit: Int) throws(StageError) -> [(id: Int64, text: String)] {
        guard limit > 0 else { return [] }
        do {
            return try db.writeTransaction { () throws(SQLiteError) -> [(id: Int64, text: String)] in
                let now = Int(SystemTime.wallSeconds())
                try db.prepare("DELETE FROM index_claims WHERE until < ?").run([SQLValue(now)])
                // Everything at or below the mark has its vector (or needs
                // none): the scan starts after it, so a fully indexed store
                // of a million messages costs one index step, not a million.
                let stmt = try db.prepare("""
                    SELECT m.id, m.content FROM messages m
                    WHERE m.id > (SELECT coalesce(max(value), 0) FROM memory_progress WHERE name = 'indexed_through')
                        AND m.role IN ('user', 'assistant')
                        AND NOT EXISTS (SELECT 1 FROM message_vectors v WHERE v.message = m.id)
                        AND NOT EXISTS (SELECT 1 FROM index_claims c WHERE c.message = m.id)
                        AND trim(m.content, ' ' || char(9, 10, 13)) <> ''
                    ORDER BY m.id LIMIT ?
                    """)
                try stmt.bind([SQLValue(limit)])
                var out: [(id: Int64, text: String)] = []
                while try stmt.step() { out.append((Int64(stmt.int(0)), stmt.text(1) ?? "")) }
                let claim = try db.prepare("INSERT OR REPLACE INTO index_claims (message, until) VALUES (?, ?)")
                for item in out { try claim.run([.integer(item.id), SQLValue(now + Self.claimSeconds)]) }
                return out
            }
        } catch {
            throw Self.failure("claiming messages to index", error)
        }
    }

    /// Claims up to `limit` current facts without a vector, as messages are
    /// claimed: eight recalls at once embed a new fact once, not eight times.
    package func claimPendingFacts(limit: Int) throws(StageError) -> [(id: Int64, text: String)] {
        guard limit > 0 else { return [] }
        do {
            return try db.writeTransaction { () throws(SQLiteError) -> [(id: Int64, text: String)] in
                let now = Int(SystemTime.wallSeconds())
                try db.prepare("DELETE FROM fact_claims WHERE until < ?").run([SQLValue(now)])
                let stmt = try db.prepare("""
                    SELECT f.id, f.text FROM facts f
                    WHERE f.superseded_by IS NULL
                        AND NOT EXISTS (SELECT 1 FROM fact_vectors v WHERE v.fact = f.id)
                        AND NOT EXISTS (SELECT 1 FROM fact_claims c WHERE c.fact = f.id)
                    ORDER BY f.id LIMIT ?
                    """)
                try stmt.bind([SQLValue(limit)])
                var out: [(id: Int64, text: String)] = []
                while try stmt.step() { out.append((Int64(stmt.int(0)), stmt.text(1) ?? "")) }
                let claim = try db.prepare("INSERT OR REPLACE INTO fact_claims (fact, until) VALUES (?, ?)")
                for item in out { try claim.run([.integer(item.id), SQLValue(now + Self.claimSeconds)]) }
                return out
            }
        } catch {
            throw Self.failure("claiming facts to index", error)
        }
    }

    /// Lets go of claims (after storing their vectors, or after a failure so
    /// another process may try) and moves the mark past every message that
    /// now has its vector.
    package func release(_ ids: [Int64], facts: [Int64] = []) throws(StageError) {
        do {
            try db.writeTransaction { () throws(SQLiteError) in
                let drop = try db.prepare("DELETE FROM index_claims WHERE message = ?")
                for id in ids { try drop.run([.integer(id)]) }
                let dropFact = try db.prepare("DELETE FROM fact_claims WHERE fact = ?")
                for id in facts { try dropFact.run([.integer(id)]) }
                try advanceIndexedMark()
            }
        } catch {
            throw Self.failure("releasing claims", error)
        }
    }

    /// The mark goes up to just before the first message still needing a vector.
    func advanceIndexedMark() throws(SQLiteError) {
        try db.execute("""
            INSERT INTO memory_progress (name, value) VALUES ('indexed_through', (
                SELECT coalesce((
                    SELECT min(m.id) - 1 FROM messages m
                    WHERE m.id > (SELECT coalesce(max(value), 0) FROM memory_progress WHERE name = 'indexed_through')
                        AND m.role IN ('user', 'assistant')
                        AND NOT EXISTS (SELECT 1 FROM message_vectors v WHERE v.message = m.id)
                        AND trim(m.content, ' ' || char(9, 10, 13)) <> ''),
                    (SELECT coalesce(max(id), 0) FROM messages))))
            ON CONFLICT (name) DO UPDATE SET value = excluded.value
            """)
    }

    /// Forgets the mark (a re-index starts from the first message again).
    func resetIndexedMark() throws(SQLiteError) {
        try db.execute("DELETE FROM memory_progress WHERE name = 'indexed_through'; DELETE FROM index_claims; DELETE FROM fact_claims")
    }

    /// How many messages still need a vector (for progress and stats).
    package func pendingCount() throws(StageError) -> Int {
        do {
            let stmt = try db.prepare("""
                SELECT count(*) FROM messages m
                WHERE m.id > (SELECT coalesce(max(value), 0) FROM memory_progress WHERE name = 'indexed_through')
                    AND m.role IN ('user', 'assistant')
                    AND NOT EXISTS (SELECT 1 FROM message_vectors v WHERE v.message = m.id)
                    AND trim(m.content, ' ' || char(9, 10, 13)) <> ''
                """)
            return try stmt.step() ? stmt.int(0) : 0
        } catch {
            throw Self.failure("counting messages to index", error)
        }
    }

    /// The ids of a session's latest `last` messages: what `mira-store load`
    /// put in the record's history, so recall does not repeat them.
    package func latestMessageIDs(session: String, last: Int) throws(StageError) -> Set<Int64> {
        guard last > 0 else { return [] }
        do {
            let stmt = try db.prepare("SELECT id FROM messages WHERE session = ? ORDER BY id DESC LIMIT ?")
            try stmt.bind([.text(session), SQLValue(last)])
            var ids: Set<Int64> = []
            while try stmt.step() { ids.insert(Int64(stmt.int(0))) }
            return ids
        } catch {
            throw Self.failure("history look-up", error)
        }
    }

    /// Every session's id, most recently active first.
    package func sessionIDs() throws(StageError) -> [String] {
        do {
            let stmt = try db.prepare("SELECT id FROM sessions ORDER BY last_activity DESC, id")
            var out: [String] = []
            while try stmt.step() { out.append(stmt.text(0) ?? "") }
            return out
        } catch {
            throw Self.failure("sessions", error)
        }
    }

    /// The latest remembered messages (those with a vector), newest first.
    package func remembered(session: String?, last: Int) throws(StageError) -> [RecalledMessage] {
        var ids: [Int64] = []
        do {
            let stmt = try db.prepare("""
                SELECT m.id FROM messages m JOIN message_vectors v ON v.message = m.id
                WHERE ?1 IS NULL OR m.session = ?1 ORDER BY m.id DESC LIMIT ?2
                """)
            try stmt.bind([SQLValue(session), SQLValue(last)])
            while try stmt.step() { ids.append(Int64(stmt.int(0))) }
        } catch {
            throw Self.failure("list", error)
        }
        var byID: [Int64: RecalledMessage] = [:]
        for m in try messages(ids: ids) { byID[m.id] = m }
        return ids.compactMap { byID[$0] }
    }
}
