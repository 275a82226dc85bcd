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
    var caller: TurnCaller
    /// How many earlier messages a turn carries (mira-store load's default).
    package var historyWindow = 15
    let listeners = Listeners()
    /// Receives the reply's text while it streams in (only when streaming).
    package var onText: ([UInt8]) -> Void {
        get { listeners.text }
        set { listeners.text = newValue }
    }
    /// Hears of each retry before its wait (a live display says why the turn takes longer).
    package var onRetry: (RetryNotice) -> Void {
        get { listeners.retry }
        set { listeners.retry = newValue }
    }
    /// The server's time limit for one answer, for the words of a retry.
    package let timeoutMilliseconds: Int
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
        var client = ChatClient(policy: RetryPolicy(maxRetries: retries), stream: stream)
        let listeners = self.listeners
        client.onText = { listeners.text($0) }
        client.onRetry = { listeners.retry($0) }
        if let shouldStop { client.isCancelled = shouldStop }
        if let sleep { client.sleep = sleep }
        let endpoint = server.endpoint
        timeoutMilliseconds = endpoint.timeoutMilliseconds
        caller = TurnCaller(
            stage: "mira", source: .server(client, makeTransport: {
                let transport = CurlTransport(endpoint: endpoint)
                transport.shouldStop = shouldStop
                return transport
            }),
            cacheScope: endpoint.completionsURL, report: { _, _ in })
        caller.tokenLimitField = server.tokenLimitField
        CurlTransport.prepare()
    }

    /// Whether the next turns ask the server to stream (so `onText` sees the
    /// words as they come). mira-serve asks without streaming when its
    /// client did not ask for a stream: one answer to read, not some forty
    /// pieces, for the same reply.
    package var streams: Bool {
        get {
            guard case .server(let client, _) = caller.source else { return false }
            return client.stream
        }
        set {
            guard case .server(var client, let makeTransport) = caller.source, client.stream != newValue else { return }
            client.stream = newValue
            caller.source = .server(client, makeTransport: makeTransport)
        }
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
        try caller.answer(&record)
        try saveTurn(record, session, realm)
        return record
    }

    /// Whether the session has enough older messages for its next summary
    /// (a cheap look: the summary itself is written in the background).
    package func summaryIsDue(session: String) -> Bool {
        guard let recaller else { return false }
        return (try? Summarizer.isDue(session: session, memory: recaller.memory)) ?? false
    }
}

/// Where the client's callbacks go: set per turn, after the client was made.
final class Listeners {
    var text: ([UInt8]) -> Void = { _ in }
    var retry: (RetryNotice) -> Void = { _ in }
}
