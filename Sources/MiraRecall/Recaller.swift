import MiraMemory
import MiraPrompt
import MiraShared
import MiraSQLite
import MiraSystem

/// Which rankings a search uses: both fused (recall's way), or one alone
/// (to compare them, as the quality benchmark does).
package enum RankingMode: String, Sendable, CaseIterable {
    case fused, vector, keyword
}

/// How recall searches and what it keeps.
package struct RecallOptions: Sendable {
    /// Only the record's own session (for evaluations), not the whole database.
    package var sessionOnly = false
    package var parameters = RankingParameters()
    package var mode = RankingMode.fused
    /// Current facts always put in the prompt, newest first.
    package var factLimit = 20
    /// Messages without a vector embedded along with a turn's query; the
    /// rest wait for the next turns or `mira-memory index`.
    package var pendingPerTurn = 256
    /// How deep each ranking looks before fusion.
    package var candidates = 50

    package init() {}
}

/// Finds what Mira remembers: for a turn (`recall`) or for a person's query
/// (`search`), with the same ranking.
package struct Recaller {
    package let memory: MemoryStore
    /// nil: keyword search only (no embeddings server needed).
    package let embedder: Embedder?
    package var options: RecallOptions

    package init(indexer: Indexer, options: RecallOptions = RecallOptions()) {
        memory = indexer.memory
        embedder = indexer.embedder
        self.options = options
    }

    /// A recaller that ranks by keywords alone.
    package static func keywordOnly(memory: MemoryStore, options: RecallOptions) -> Recaller {
        var options = options
        options.mode = .keyword
        return Recaller(memory: memory, embedder: nil, options: options)
    }

    init(memory: MemoryStore, embedder: Embedder?, options: RecallOptions) {
        self.memory = memory
        self.embedder = embedder
        self.options = options
    }

    /// Adds to the record what she remembers: its `memories`, and the
    /// request's own system message saying them. Messages not yet indexed
    /// are embedded in the same request as the turn's input.
    /// `realm`: the person's, when the record's session is not stored yet
    /// (mira-serve stores a new conversation with its first turn); else
    /// the session's own.
    package func recall(_ record: inout Record, historyCount: Int? = nil, realm given: Realm? = nil) throws(StageError) {
        guard let input = record.input else {
            throw StageError(.noInput, "the record has no input (recall runs after mira-prompt)")
        }
        guard let request = record.request else {
            throw StageError(.badRecord, "the record has no request (recall runs after mira-prompt)")
        }
        let session = record.session
        if options.sessionOnly && session == nil {
            throw StageError(.badRecord, "--scope session: the record names no session")
        }
        guard let embedder else { throw StageError(.badRecord, "recall needs an embedding model (MIRA_EMBED_MODEL)") }
        var indexer = Indexer(memory: memory, embedder: embedder)
        indexer.parameters = options.parameters
        let round = try indexer.round(limit: options.pendingPerTurn, alongWith: [input])
        // What mira-store load put in the history is in the prompt already.
        var seen: Set<Int64> = []
        if let session {
            var loaded = historyCount ?? 0
            if historyCount == nil { loaded = try record.history().count }
            seen = try memory.latestMessageIDs(session: session, last: loaded)
        }
        // Only the turn's own realm: the person it is talking to (Realm).
        var realm = given ?? .local
        if given == nil, let session { realm = try memory.realm(of: session) }
        var memories = try facts(realm: realm)
        if let session, let summary = try memory.latestSummary(session: session), !summary.text.isEmpty {
            memories.append(RecalledMemory(kind: .summary, id: summary.id, session: summary.session, text: summary.text,
                                           time: summary.time, score: 1))
        }
        memories += try search(input, vector: round.extra.first, session: options.sessionOnly ? session : nil, realm: realm, excluding: seen)
        record.setMemories(memories)
        if let text = MemoryPrompt.text(memories) {
            record.request = ChatRequest.addingMemories(request, message: text)
        }
    }

    /// The person's current facts, as memories: only `realm`'s when given.
    package func facts(realm: Realm? = nil) throws(StageError) -> [RecalledMemory] {
        try memory.currentFacts(limit: options.factLimit, realm: realm).map {
            RecalledMemory(kind: .fact, id: $0.id, session: $0.session, turn: $0.turn, text: $0.text, time: $0.lastSeen, score: 1)
        }
    }

    /// Stored messages ranked for `query`, best first, within the budget.
    /// `vector` is the query's embedding (nil: embed it now; not needed for
    /// a keyword-only search).
    /// `realm` (nil: every realm) keeps the search within one person's sessions.
    package func search(
        _ query: String, vector: [Float]? = nil, session: String?, realm: Realm? = nil, excluding: Set<Int64> = []
    ) throws(StageError) -> [RecalledMemory] {
        let p = options.parameters
        // The local person's realm is the whole database less the browsers'
        // messages: looked up once here, not once by each ranking.
        var realm = realm
        var excluding = excluding
        if realm == .local, session == nil {
            excluding.formUnion(try memory.messages(outside: .local))
            realm = nil
        }
        var byVector: [Int64] = []
        if options.mode != .keyword, let embedder {
            let queryVector: [Float]
            if let vector, !vector.isEmpty {
                queryVector = vector
            } else {
                queryVector = try embedder.embed([query]).first ?? []
            }
            if !queryVector.isEmpty {
                byVector = try memory.vectorSearch(
                    query: queryVector, model: embedder.model, session: session, realm: realm, excluding: excluding,
                    k: options.candidates
                ).map(\.id)
            }
        }
        var byKeyword: [Int64] = []
        if options.mode != .vector {
            byKeyword = try memory.keywordSearch(query, session: session, realm: realm, excluding: excluding, k: options.candidates)
                .map(\.id)
        }
        let found = Array(Set(byVector).union(byKeyword))
        guard !found.isEmpty else { return [] }
        var messages: [Int64: RecalledMessage] = [:]
        for m in try memory.messages(ids: found) { messages[m.id] = m }
        let now = SystemTime.wallSeconds()
        let ages = messages.compactMapValues { Recency.ageDays($0.time, now: now) }
        let ranked = Ranking.rank(vector: byVector, keyword: byKeyword, ages: ages, p)
        let tokens = messages.mapValues { Tokens.estimate($0.text) }
        return Ranking.select(ranked, tokens: tokens, budget: p.budget, top: p.top).compactMap { hit in
            messages[hit.id].map {
                RecalledMemory(kind: .message, id: $0.id, session: $0.session, turn: $0.turn, role: $0.role.rawValue,
                               text: $0.text, time: $0.time, score: hit.score)
            }
        }
    }
}
