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

    /// Runs several writes in one transaction: one commit, one `fdatasync`.
    /// Each is still whole or not at all: it goes in under a savepoint of its
    /// own, so one that fails is rolled back alone and the others are kept.
    /// Returns each write's outcome, in order (for a turn, false: it was
    /// saved already). If the commit itself fails, every write failed.
    package func write(together writes: [GroupedWrite]) -> [Result<Bool, StageError>] {
        var outcomes: [Result<Bool, StageError>] = []
        var checked: [CheckedWrite?] = []
        for write in writes {
            do throws(StageError) {
                switch write {
                case .turn(let record, let session): checked.append(.turn(try Self.rows(of: record, session: session)))
                case .webSession(let id, let realm): checked.append(.webSession(id, realm))
                }
                outcomes.append(.success(false))
            } catch {
                checked.append(nil)
                outcomes.append(.failure(error))
            }
        }
        guard checked.contains(where: { $0 != nil }) else { return outcomes }
        do {
            try db.writeTransaction { () throws(SQLiteError) in
                for (k, write) in checked.enumerated() {
                    guard let write else { continue }
                    try db.execute("SAVEPOINT one")
                    do throws(SQLiteError) {
                        switch write {
                        case .turn(let rows): outcomes[k] = .success(try insertTurn(rows))
                        case .webSession(let id, let realm):
                            try insertWebSession(id, realm: realm)
                            outcomes[k] = .success(true)
                        }
                        try db.execute("RELEASE one")
                    } catch {
                        try db.execute("ROLLBACK TO one")
                        try db.execute("RELEASE one")
                        outcomes[k] = .failure(StageError(.storeFailed, "save: \(error.message)"))
                    }
                }
            }
        } catch {
            let failure = StageError(.storeFailed, "save: \(error.message)")
            for k in checked.indices where checked[k] != nil { outcomes[k] = .failure(failure) }
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

/// A write that may share a transaction with others (`write(together:)`).
package enum GroupedWrite: Sendable {
    /// A finished turn, as `save(record:session:)` takes it.
    case turn(Record, session: String?)
    /// A new web session with this id, owned by this realm (`startWebSession`).
    case webSession(String, Realm)
}

enum CheckedWrite {
    case turn(TurnRows)
    case webSession(String, Realm)
}

/// What one turn adds to the store.
struct TurnRows {
    var session: String
    var turn: String
    var messages: [Message]
    var facts: [Fact]
    var time: String
}
