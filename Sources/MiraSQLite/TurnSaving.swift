import MiraShared
import MiraSystem

extension SessionStore {
    /// Stores a finished turn: its user message, its reply, and the facts
    /// the reply remembered that the message grounds (`Fact.isGrounded`),
    /// together or not at all. Returns false when the turn was already saved.
    package func save(record: Record, session explicit: String?) throws(StageError) -> Bool {
        let rows = try Self.rows(of: record, session: explicit)
        do {
            return try db.writeTransaction { () throws(SQLiteError) -> Bool in try insertTurn(rows) }
        } catch {
            throw StageError(.storeFailed, "save: \(error.message)")
        }
    }

    /// Saves several finished turns in one transaction: one commit, one
    /// `fdatasync`. Each turn is still whole or not at all: it goes in under
    /// a savepoint of its own, so one that fails is rolled back alone and the
    /// others are kept. Returns each turn's outcome, in order (false: it was
    /// saved already). If the commit itself fails, every turn failed.
    package func save(turns: [(record: Record, session: String?)]) -> [Result<Bool, StageError>] {
        var outcomes: [Result<Bool, StageError>] = []
        var rows: [TurnRows?] = []
        for turn in turns {
            do throws(StageError) {
                rows.append(try Self.rows(of: turn.record, session: turn.session))
                outcomes.append(.success(false))
            } catch {
                rows.append(nil)
                outcomes.append(.failure(error))
            }
        }
        guard rows.contains(where: { $0 != nil }) else { return outcomes }
        do {
            try db.writeTransaction { () throws(SQLiteError) in
                for (k, row) in rows.enumerated() {
                    guard let row else { continue }
                    try db.execute("SAVEPOINT turn")
                    do throws(SQLiteError) {
                        outcomes[k] = .success(try insertTurn(row))
                        try db.execute("RELEASE turn")
                    } catch {
                        try db.execute("ROLLBACK TO turn")
                        try db.execute("RELEASE turn")
                        outcomes[k] = .failure(StageError(.storeFailed, "save: \(error.message)"))
                    }
                }
            }
        } catch {
            let failure = StageError(.storeFailed, "save: \(error.message)")
            for k in rows.indices where rows[k] != nil { outcomes[k] = .failure(failure) }
        }
        return outcomes
    }

    /// The rows a finished record adds, checked: its session, turn id, input and reply.
    static func rows(of record: Record, session explicit: String?) throws(StageError) -> TurnRows {
        guard let session = explicit ?? record.session else {
            throw StageError(.badRecord, "not saved: the record names no session (give one: mira-store save ID)")
        }
        try Identifiers.validateSession(session)
        guard let turn = record.turn else { throw StageError(.badRecord, "not saved: the record has no turn id") }
        guard let input = record.input else { throw StageError(.noInput, "not saved: the record has no input") }
        guard let reply = try record.reply() else { throw StageError(.noReply, "not saved: the record has no reply") }
        let now = SystemTime.nowISO8601()
        return TurnRows(session: session, turn: turn, messages: [
            Message(role: .user, content: input, time: now),
            Message(role: .assistant, content: reply.output, persona: reply.persona, mood: reply.mood, time: now),
        ], facts: reply.remember.filter { $0.isGrounded(in: input) }, time: now)
    }
}

/// What one turn adds to the store.
struct TurnRows {
    var session: String
    var turn: String
    var messages: [Message]
    var facts: [Fact]
    var time: String
}
