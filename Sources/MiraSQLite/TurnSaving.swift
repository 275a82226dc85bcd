import MiraShared
import MiraSystem

extension SessionStore {
    /// Stores a finished turn: its user message, its reply, and the facts
    /// the reply remembered that the message grounds (`Fact.isGrounded`),
    /// together or not at all. Returns false when the turn was already saved.
    package func save(record: Record, session explicit: String?) throws(StageError) -> Bool {
        guard let session = explicit ?? record.session else {
            throw StageError(.badRecord, "not saved: the record names no session (give one: mira-store save ID)")
        }
        try Identifiers.validateSession(session)
        guard let turn = record.turn else { throw StageError(.badRecord, "not saved: the record has no turn id") }
        guard let input = record.input else { throw StageError(.noInput, "not saved: the record has no input") }
        guard let reply = try record.reply() else { throw StageError(.noReply, "not saved: the record has no reply") }
        let now = SystemTime.nowISO8601()
        return try save(session: session, turn: turn, messages: [
            Message(role: .user, content: input, time: now),
            Message(role: .assistant, content: reply.output, persona: reply.persona, mood: reply.mood, time: now),
        ], facts: reply.remember.filter { $0.isGrounded(in: input) }, time: now)
    }
}
