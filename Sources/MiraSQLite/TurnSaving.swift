import MiraShared
import MiraSystem

extension SessionStore {
    /// Stores a finished turn: its user message, its reply, and the facts
    /// the reply remembered that the message grounds (`Fact.isGrounded`),
    /// together or not at all. Returns false when the turn was already saved.
    /// `opening`: the realm of a session this turn starts (a browser's
    /// first turn): its `web_sessions` row goes in with the turn, so a turn
    /// that fails leaves no empty conversation behind.
    package func save(record: Record, session explicit: String?, opening realm: Realm? = nil) throws(StageError) -> Bool {
        let rows = try TurnRows(record: record, session: explicit, opening: realm)
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
                case .turn(let record, let session): checked.append(.turn(try TurnRows(record: record, session: session)))
                case .rows(let rows): checked.append(.turn(rows))
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
                    try db.executeKept("SAVEPOINT one")
                    do throws(SQLiteError) {
                        switch write {
                        case .turn(let rows): outcomes[k] = .success(try insertTurn(rows))
                        case .webSession(let id, let realm):
                            try insertWebSession(id, realm: realm)
                            outcomes[k] = .success(true)
                        }
                        try db.executeKept("RELEASE one")
                    } catch {
                        try db.executeKept("ROLLBACK TO one")
                        try db.executeKept("RELEASE one")
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
}

/// A write that may share a transaction with others (`write(together:)`).
package enum GroupedWrite: Sendable {
    /// A finished turn, as `save(record:session:)` takes it.
    case turn(Record, session: String?)
    /// A finished turn checked already, on the caller's thread: the group's
    /// one thread then only writes (mira-serve).
    case rows(TurnRows)
    /// A new web session with this id, owned by this realm (`startWebSession`).
    case webSession(String, Realm)
}

enum CheckedWrite {
    case turn(TurnRows)
    case webSession(String, Realm)
}

/// What one turn adds to the store, checked: its session, turn id, input and reply.
package struct TurnRows: Sendable {
    var session: String
    var turn: String
    var messages: [Message]
    var facts: [Fact]
    var time: String
    /// The realm of the session when this turn starts it (nil: it exists).
    var opening: Realm?

    init(session: String, turn: String, messages: [Message], facts: [Fact], time: String, opening: Realm? = nil) {
        self.session = session
        self.turn = turn
        self.messages = messages
        self.facts = facts
        self.time = time
        self.opening = opening
    }

    /// Checks a finished record: it names a session and has a turn id, an
    /// input and a reply. Only the facts its input grounds are kept.
    package init(record: Record, session explicit: String?, opening: Realm? = nil) throws(StageError) {
        guard let session = explicit ?? record.session else {
            throw StageError(.badRecord, "not saved: the record names no session (give one: mira-store save ID)")
        }
        try Identifiers.validateSession(session)
        guard let turn = record.turn else { throw StageError(.badRecord, "not saved: the record has no turn id") }
        guard let input = record.input else { throw StageError(.noInput, "not saved: the record has no input") }
        guard let reply = try record.reply() else { throw StageError(.noReply, "not saved: the record has no reply") }
        let now = SystemTime.nowISO8601()
        self.init(session: session, turn: turn, messages: [
            Message(role: .user, content: input, time: now),
            Message(role: .assistant, content: reply.output, persona: reply.persona, mood: reply.mood, time: now),
        ], facts: reply.remember.filter { $0.isGrounded(in: input) }, time: now, opening: opening)
    }
}
