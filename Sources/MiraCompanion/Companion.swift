import MiraBatch
import MiraCurl
import MiraLLM
import MiraPrompt
import MiraRecall
import MiraShared
import MiraSQLite
import MiraSystem

/// One chat turn in one process, for people: the session's history loaded,
/// the request built, the reply asked for and validated, the turn saved.
/// The same library calls the four-stage pipeline makes
/// (`mira-store load | mira-prompt | mira-llm | mira-store save`), so the
/// record, the request and what is stored are the same.
package final class Companion {
    package let store: SessionStore
    package var preparer: TurnPreparer
    /// Asks the model and checks its reply (the turn's wait on the network);
    /// its `onText` and `onRetry` are where a display hears of the turn.
    package let model: ModelCaller
    /// How many earlier messages a turn carries (mira-store load's default).
    package var historyWindow = 15
    /// Long-term memory, when an embedding model is configured: each turn
    /// recalls before it asks (as `mira-memory recall` in the pipeline).
    package var recaller: Recaller?
    /// Writes a session's summaries when memory is on (mira-serve runs it
    /// after a turn; `mira` runs itself in the background instead).
    package var summarizer: Summarizer?
    /// Stores a finished turn, whole or not at all (by default with this
    /// companion's own connection; mira-serve hands it to a group commit);
    /// with the realm of its session when the turn starts that session.
    package var saveTurn: (Record, String, Realm?) throws(StageError) -> Void
    /// Hears why memory was left out of a turn: a memory failure costs the
    /// turn its memories, never the reply.
    package var onMemoryProblem: (StageError) -> Void = { _ in }

    /// `stream`: ask the server to stream, so `onText` sees the reply as it is written.
    /// `shouldStop` cancels a turn in flight (checked during the transfer and between retries).
    package init(store: SessionStore, preparer: TurnPreparer, server: ServerSettings, retries: Int = 3,
                 stream: Bool, shouldStop: (() -> Bool)? = nil, sleep: ((Int) -> Void)? = nil) {
        self.store = store
        self.preparer = preparer
        saveTurn = { (record, session, opening) throws(StageError) in
            _ = try store.save(record: record, session: session, opening: opening)
        }
        model = ModelCaller(server: server, retries: retries, stream: stream, shouldStop: shouldStop, sleep: sleep)
    }

    /// The record the turn would have as it leaves `mira-store load` and
    /// `mira-prompt`: history, input, turn id, forced persona, request.
    package func prepare(message: String, session: String, persona: String?) throws(StageError) -> Record {
        var record = Record(session: session, history: try store.load(session: session, last: historyWindow))
        var preparer = self.preparer
        preparer.forcedPersona = persona
        try preparer.prepare(&record, message: message)
        return record
    }

    /// Asks for the reply and saves the turn, whole or not at all. Returns
    /// the finished record, as `mira-store save` passes it on. `opening`:
    /// the realm of a session this turn starts (stored with the turn).
    package func take(message: String, session: String, persona: String?, opening realm: Realm? = nil) throws(StageError) -> Record {
        var record = try prepared(message: message, session: session, persona: persona, opening: realm)
        try model.answer(&record)
        try saveTurn(record, session, realm)
        return record
    }

    /// The turn's record ready to be asked: `prepare`, then what memory
    /// recalls for it. The part of a turn that reads the database.
    package func prepared(message: String, session: String, persona: String?, opening realm: Realm? = nil) throws(StageError) -> Record {
        var record = try prepare(message: message, session: session, persona: persona)
        if let recaller {
            var recalled = record
            do {
                // A session not stored yet has no realm to look up: it is given.
                try recaller.recall(&recalled, realm: realm)
                record = recalled
            } catch {
                onMemoryProblem(error)
            }
        }
        return record
    }

    /// Whether the session has enough older messages for its next summary
    /// (a cheap look: the summary itself is written in the background).
    package func summaryIsDue(session: String) -> Bool {
        guard let recaller else { return false }
        return (try? Summarizer.isDue(session: session, memory: recaller.memory)) ?? false
    }
}
