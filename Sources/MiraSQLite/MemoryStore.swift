import MiraMemory
import MiraShared
import MiraSystem

/// A stored message as recall hands it on.
package struct RecalledMessage: Equatable, Sendable {
    package var id: Int64
    package var session: String
    package var turn: String?
    package var role: Role
    package var text: String
    package var time: String
}

/// Which embedding model the stored vectors came from, and how many there are.
package struct IndexedModel: Equatable, Sendable {
    package var model: String
    package var dimension: Int
    package var count: Int
}

/// What `mira-memory stats` shows.
package struct MemoryStats: Equatable, Sendable {
    package var messages: Int
    /// Messages with a vector, per model (one model at most: mixing is refused).
    package var indexed: [IndexedModel]
    package var currentFacts: Int
    package var supersededFacts: Int
    package var summaries: Int
    /// The database file and its WAL, in bytes.
    package var bytesOnDisk: Int
}

/// Long-term memory over a session database: message vectors and keyword
/// search, facts, summaries, forgetting. It shares the SessionStore's
/// connection (and so its WAL, busy wait, foreign keys and secure delete).
package final class MemoryStore {
    let db: Connection
    let path: String?

    /// Vectors a `vector_blocks` row holds. 256 × 384 int8 codes is 96 KiB a
    /// row: few rows to step through, and a forget rewrites little.
    package static let blockSize = 256

    package init(_ store: SessionStore) {
        db = store.db
        // Blocks are read through the page cache's memory map, not copied by read().
        try? db.execute("PRAGMA mmap_size = 4294967296")
        path = Self.mainFile(db)
    }

    static func mainFile(_ db: Connection) -> String? {
        guard let stmt = try? db.prepare("SELECT file FROM pragma_database_list WHERE name = 'main'"),
            (try? stmt.step()) == true, let file = stmt.text(0), !file.isEmpty
        else { return nil }
        return file
    }

    static func failure(_ what: String, _ error: SQLiteError) -> StageError {
        StageError(.storeFailed, "\(what): \(error.message)")
    }

    // MARK: Indexing messages

    /// Messages that still need a vector: said by the user or Mira, not
    /// blank, with no vector yet; in id order after `after`, at most `limit`.
    /// From the start this looks at every message (0.3 s at 100,000, 1.7 s
    /// at a million, all indexed): indexing claims through
    /// `claimPendingMessages`, which starts after a mark (MemoryIndexing).
    package func pendingMessages(limit: Int, after: Int64 = 0) throws(StageError) -> [(id: Int64, text: String)] {
        do {
            let stmt = try db.prepare("""
                SELECT m.id, m.content FROM messages m
                WHERE m.id > ? AND m.role IN ('user', 'assistant')
                    AND NOT EXISTS (SELECT 1 FROM message_vectors v WHERE v.message = m.id)
                    AND trim(m.content, ' ' || char(9, 10, 13)) <> ''
                ORDER BY m.id LIMIT ?
                """)
            try stmt.bind([.integer(after), SQLValue(max(0, limit))])
            var out: [(id: Int64, text: String)] = []
            while try stmt.step() { out.append((Int64(stmt.int(0)), stmt.text(1) ?? "")) }
            return out
        } catch {
            throw Self.failure("pending messages", error)
        }
    }

    /// Stores message vectors (normalised) in one short write transaction and
    /// returns how many were new. A message deleted meanwhile, or indexed by
    /// another process first, is skipped. Vectors of another model or
    /// dimension than those stored are refused: mixed, they would compare
    /// meaningless numbers.
    @discardableResult
    package func storeVectors(_ vectors: [(Int64, [Float])], model: String) throws(StageError) -> Int {
        try store(vectors, model: model, into: .messages)
    }

    /// Where vectors go: a message's or a fact's table (fixed SQL, never from input).
    enum VectorTable {
        case messages, facts

        var insert: String {
            switch self {
            case .messages:
                "INSERT INTO message_vectors (message, model, dimension, vector) SELECT id, ?, ?, ? FROM messages WHERE id = ? ON CONFLICT DO NOTHING"
            case .facts:
                "INSERT INTO fact_vectors (fact, model, dimension, vector) SELECT id, ?, ?, ? FROM facts WHERE id = ? ON CONFLICT DO NOTHING"
            }
        }
    }

    /// The one writer of vectors: checked, in one short write transaction,
    /// refusing another model; message vectors are then packed into blocks.
    func store(_ vectors: [(Int64, [Float])], model: String, into table: VectorTable) throws(StageError) -> Int {
        let checked = try Self.checked(vectors, model: model)
        guard let dimension = checked.first?.1.count else { return 0 }
        let outcome: Result<Int, StageError>
        do {
            outcome = try db.writeTransaction { () throws(SQLiteError) -> Result<Int, StageError> in
                if let refusal = try mismatch(model: model, dimension: dimension) { return .failure(refusal) }
                let add = try db.prepare(table.insert)
                var added = 0
                for (id, v) in checked {
                    try add.run([.text(model), SQLValue(dimension), .blob(Vectors.encode(v)), .integer(id)])
                    added += db.changes
                }
                if table == .messages { try pack(model: model) }
                return .success(added)
            }
        } catch {
            throw Self.failure(table == .messages ? "storing vectors" : "storing fact vectors", error)
        }
        return try outcome.get()
    }

    /// Every vector normalised, all of one dimension; a bad one (from the
    /// embedding server) is named.
    static func checked(_ vectors: [(Int64, [Float])], model: String) throws(StageError) -> [(Int64, [Float])] {
        guard !model.isEmpty else { throw StageError(.badRecord, "storing vectors: no embedding model named") }
        var out: [(Int64, [Float])] = []
        out.reserveCapacity(vectors.count)
        for (id, v) in vectors {
            guard let unit = Vectors.normalized(v) else {
                throw StageError(.badResponse, "embedding for message \(id) is empty, zero or not finite")
            }
            if let first = out.first, first.1.count != unit.count {
                throw StageError(.badResponse, "embeddings of \(first.1.count) and \(unit.count) dimensions in one batch")
            }
            out.append((id, unit))
        }
        return out
    }

    /// The refusal when vectors of `model`/`dimension` would mix with what is stored.
    func mismatch(model: String, dimension: Int) throws(SQLiteError) -> StageError? {
        guard let stored = try storedModel(), stored.model != model || stored.dimension != dimension else { return nil }
        return StageError(.storeFailed, """
            memory is indexed with \(stored.model) (\(stored.dimension) dimensions), not \(model) (\(dimension)): \
            run `mira-memory reindex` to rebuild it with the new model
            """)
    }

    /// The model and dimension of the stored vectors (messages' or facts'), if any.
    func storedModel() throws(SQLiteError) -> (model: String, dimension: Int)? {
        for table in ["message_vectors", "fact_vectors"] {
            let stmt = try db.prepare("SELECT model, dimension FROM \(table) LIMIT 1")
            if try stmt.step() { return (stmt.text(0) ?? "", stmt.int(1)) }
        }
        return nil
    }

    /// Packs loose vectors (new, or left by a deleted block) into full blocks,
    /// inside the caller's write transaction. Fewer than a block's worth stay
    /// loose: a search reads them row by row.
    func pack(model: String) throws(SQLiteError) {
        let loose = try db.prepare("""
            SELECT message, vector FROM message_vectors WHERE block IS NULL AND model = ? ORDER BY message LIMIT ?
            """)
        let insert = try db.prepare("""
            INSERT INTO vector_blocks (model, dimension, messages, scales, codes) VALUES (?, ?, ?, ?, ?)
            """)
        let claim = try db.prepare("UPDATE message_vectors SET block = ? WHERE message = ?")
        let lastBlock = try db.prepare("SELECT last_insert_rowid()")
        while true {
            try loose.bind([.text(model), SQLValue(Self.blockSize)])
            var ids: [Int64] = []
            var vectors: [[Float]] = []
            while try loose.step() {
                guard let v = try loose.withBlob(1, { Vectors.decode($0) }) else { continue }
                ids.append(Int64(loose.int(0)))
                vectors.append(v)
            }
            loose.reset()
            guard ids.count == Self.blockSize, let dimension = vectors.first?.count,
                vectors.allSatisfy({ $0.count == dimension })
            else { return }
            let block = VectorBlock(ids: ids, vectors: vectors)
            try insert.run([.text(model), SQLValue(dimension), .blob(block.messages), .blob(block.scales), .blob(block.codes)])
            try lastBlock.bind([])
            _ = try lastBlock.step()
            let blockID = Int64(lastBlock.int(0))
            lastBlock.reset()
            for id in ids { try claim.run([.integer(blockID), .integer(id)]) }
        }
    }

    /// Which model the stored message vectors came from, with their count
    /// (one model at most: mixing is refused). The count comes from the
    /// small block index, not the 2 GB of vectors a million messages have
    /// (a GROUP BY over them took 1.8 s).
    package func indexedModels() throws(StageError) -> [IndexedModel] {
        do {
            let first = try db.prepare("SELECT model, dimension FROM message_vectors LIMIT 1")
            guard try first.step(), let model = first.text(0) else { return [] }
            let dimension = first.int(1)
            first.reset()
            let count = try db.prepare("SELECT count(*) FROM message_vectors INDEXED BY message_vectors_by_block")
            return [IndexedModel(model: model, dimension: dimension, count: try count.step() ? count.int(0) : 0)]
        } catch {
            throw Self.failure("indexed models", error)
        }
    }

    /// Deletes every message and fact vector (for `mira-memory reindex`);
    /// returns how many message vectors went.
    @discardableResult
    package func dropVectors() throws(StageError) -> Int {
        do {
            return try db.writeTransaction { () throws(SQLiteError) -> Int in
                // Blocks first, so the trigger finds nothing to unpack row by row.
                try db.execute("DELETE FROM vector_blocks")
                try db.execute("UPDATE message_vectors SET block = NULL WHERE block IS NOT NULL")
                try db.execute("DELETE FROM message_vectors")
                let dropped = db.changes
                try db.execute("DELETE FROM fact_vectors")
                try resetIndexedMark()
                return dropped
            }
        } catch {
            throw Self.failure("dropping vectors", error)
        }
    }

    // MARK: Searching

    /// How many candidates the int8 pass hands to the exact re-ranking:
    /// twice k and 20 more (top-10 agreement with an exhaustive float scan
    /// is in bench/memory/speed.md); each costs a row look-up.
    static func candidates(for k: Int) -> Int { 2 * k + 20 }

    /// The `k` stored messages nearest to `query` by cosine, best first,
    /// leaving out `excluding` (what is already in the history).
    ///
    /// In one session: exact over all its vectors. Over the whole database:
    /// an int8 pass over every vector picks `candidates(for: k)`, which are
    /// then scored exactly with their float vectors, so the result is exact
    /// re-ranking of candidates, not exact over all (bench/memory/speed.md
    /// measures how often it differs).
    /// `exhaustive` scores every stored float vector instead (slower; for
    /// checks and the benchmark's comparison).
    ///
    /// `realm` (nil: every realm) keeps the search within one person's
    /// sessions: a browser's few are searched exactly; the local person's
    /// (nearly the whole database) by the int8 pass, leaving browsers' out.
    package func vectorSearch(
        query: [Float], model: String, session: String?, realm: Realm? = nil, excluding: Set<Int64>, k: Int,
        exhaustive: Bool = false
    ) throws(StageError) -> [Scored] {
        guard k > 0 else { return [] }
        guard let unit = Vectors.normalized(query) else {
            throw StageError(.badResponse, "the query's embedding is empty, zero or not finite")
        }
        let refusal: StageError?
        do {
            refusal = try mismatch(model: model, dimension: unit.count)
        } catch {
            throw Self.failure("vector search", error)
        }
        if let refusal { throw refusal }
        do {
            var excluding = excluding
            if let realm, session == nil {
                if case .browser = realm { return try exactSearch(unit, model: model, realm: realm, excluding: excluding, k: k) }
                excluding.formUnion(try db.messageIDs(outside: realm))
            }
            if session != nil || exhaustive { return try exactSearch(unit, model: model, session: session, excluding: excluding, k: k) }
            return try blockSearch(unit, model: model, excluding: excluding, k: k)
        } catch {
            throw Self.failure("vector search", error)
        }
    }

    /// Scores every vector of one session, of one browser's realm, or (both
    /// nil) of the whole database.
    func exactSearch(
        _ query: [Float], model: String, session: String? = nil, realm: Realm? = nil, excluding: Set<Int64>, k: Int
    ) throws(SQLiteError) -> [Scored] {
        let stmt: Statement
        if let session {
            stmt = try db.prepare("""
                SELECT v.message, v.vector FROM message_vectors v JOIN messages m ON m.id = v.message
                WHERE m.session = ?1 AND v.model = ?2
                """)
            try stmt.bind([.text(session), .text(model)])
        } else if let realm {
            stmt = try db.prepare("""
                SELECT v.message, v.vector FROM web_sessions w JOIN messages m ON m.session = w.session
                JOIN message_vectors v ON v.message = m.id WHERE w.identity = ?1 AND v.model = ?2
                """)
            try stmt.bind([.text(realm.key), .text(model)])
        } else {
            stmt = try db.prepare("SELECT message, vector FROM message_vectors WHERE model = ?")
            try stmt.bind([.text(model)])
        }
        var best = TopK(k)
        let q = UnsafeMutableBufferPointer<Float>.allocate(capacity: query.count)
        defer { q.deallocate() }
        _ = q.initialize(from: query)
        do {
            while try stmt.step() {
                let id = Int64(stmt.int(0))
                if excluding.contains(id) { continue }
                try stmt.withBlob(1) { bytes in
                    guard bytes.count == q.count * 4 else { return }
                    best.add(id: id, score: Self.dot(UnsafeBufferPointer(q), bytes))
                }
            }
        }
        return best.sorted()
    }

    /// The dot of a query with a stored float32 BLOB, in place where the
    /// platform is little-endian (every one Swift runs this on).
    static func dot(_ q: UnsafeBufferPointer<Float>, _ bytes: UnsafeRawBufferPointer) -> Float {
        #if _endian(little)
        if let base = bytes.baseAddress, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
            return Vectors.dot(q, UnsafeBufferPointer(start: base.assumingMemoryBound(to: Float.self), count: q.count))
        }
        #endif
        return Vectors.decode(bytes).map { v in v.withUnsafeBufferPointer { Vectors.dot(q, $0) } } ?? 0
    }

    func blockSearch(_ query: [Float], model: String, excluding: Set<Int64>, k: Int) throws(SQLiteError) -> [Scored] {
        let dimension = query.count
        let (queryScale, queryCodes) = Quantization.quantize(query)
        var rough = TopK(Self.candidates(for: k))
        var exact: [Int64: Float] = [:]
        let blocks = try db.prepare("SELECT id, messages, scales, codes FROM vector_blocks WHERE model = ? AND dimension = ?")
        try blocks.bind([.text(model), SQLValue(dimension)])
        // Owned copies, read in typed-throwing loops (Array's closures rethrow untyped).
        let qBase = UnsafeMutableRawPointer.allocate(byteCount: dimension, alignment: 16)
        defer { qBase.deallocate() }
        queryCodes.withUnsafeBytes { qBase.copyMemory(from: $0.baseAddress!, byteCount: dimension) }
        let q = UnsafeMutableBufferPointer<Float>.allocate(capacity: dimension)
        defer { q.deallocate() }
        _ = q.initialize(from: query)
        do {
            while try blocks.step() {
                let blockID = blocks.int(0)
                try blocks.withBlob(1) { (ids) throws(SQLiteError) in
                    try blocks.withBlob(2) { (scales) throws(SQLiteError) in
                        try blocks.withBlob(3) { (codes) throws(SQLiteError) in
                            let n = ids.count / 8
                            guard n > 0, ids.count == n * 8, scales.count == n * 4, codes.count == n * dimension,
                                let codeBase = codes.baseAddress
                            else { throw SQLiteError(.corrupt, "vector block \(blockID) is damaged: run `mira-memory reindex`") }
                            for i in 0..<n {
                                let scale = Float(bitPattern: UInt32(littleEndian: scales.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                                let score = Float(Quantization.dot(qBase, codeBase + i * dimension, count: dimension)) * scale * queryScale
                                guard score > rough.threshold else { continue }
                                // The exclusion is looked up only for the few that could enter.
                                let id = Int64(littleEndian: ids.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))
                                if !excluding.contains(id) { rough.add(id: id, score: score) }
                            }
                        }
                    }
                }
            }
        }
        blocks.reset()
        let loose = try db.prepare("SELECT message, vector FROM message_vectors WHERE block IS NULL AND model = ?")
        try loose.bind([.text(model)])
        do {
            while try loose.step() {
                let id = Int64(loose.int(0))
                if excluding.contains(id) { continue }
                try loose.withBlob(1) { bytes in
                    guard bytes.count == q.count * 4 else { return }
                    let score = Self.dot(UnsafeBufferPointer(q), bytes)
                    exact[id] = score
                    rough.add(id: id, score: score)
                }
            }
        }
        // Exact scores for the candidates from the blocks.
        let one = try db.prepare("SELECT vector FROM message_vectors WHERE message = ?")
        var best = TopK(k)
        do {
            for candidate in rough.sorted() {
                if let score = exact[candidate.id] {
                    best.add(id: candidate.id, score: score)
                    continue
                }
                try one.bind([.integer(candidate.id)])
                // Gone since the scan (a forget in another process): skipped.
                guard try one.step() else { continue }
                try one.withBlob(0) { bytes in
                    if bytes.count == q.count * 4 { best.add(id: candidate.id, score: Self.dot(UnsafeBufferPointer(q), bytes)) }
                }
            }
        }
        one.reset()
        return best.sorted()
    }

    /// The words of a user's text for a keyword search: runs of letters and
    /// digits, the first `maxWords` distinct ones (case-insensitively), each
    /// cut to 100 characters, so a megabyte of input makes a small query.
    package static func queryWords(_ text: String, maxWords: Int = 64) -> [String] {
        var words: [String] = []
        var seen: Set<String> = []
        var current = ""
        func flush() {
            defer { current = "" }
            guard !current.isEmpty, words.count < maxWords else { return }
            let word = String(current.prefix(100))
            if seen.insert(word.lowercased()).inserted { words.append(word) }
        }
        for scalar in text.unicodeScalars {
            if words.count >= maxWords { break }
            let p = scalar.properties
            if p.isAlphabetic || p.numericType != nil || p.generalCategory == .nonspacingMark {
                current.unicodeScalars.append(scalar)
            } else {
                flush()
            }
        }
        flush()
        return words
    }

    /// English function words: a small store has too few messages to tell
    /// by counting that "what" or "the" says nothing about a message (a new
    /// person's first fifty), so they are named. Searched only when a query
    /// has nothing else.
    static let glueWords: Set<String> = [
        "a", "about", "again", "all", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can",
        "could", "did", "do", "does", "for", "from", "had", "has", "have", "he", "her", "him", "his", "how", "i",
        "if", "in", "into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "she", "so", "than",
        "that", "the", "their", "them", "then", "there", "they", "this", "to", "too", "us", "was", "we", "were",
        "what", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your",
    ]

    static func isGlue(_ word: String) -> Bool { glueWords.contains(word.lowercased()) }

    /// The FTS5 query for words: each quoted as a string (quotes doubled),
    /// OR-ed; nil when there are none. The user's text is never FTS syntax.
    package static func matchExpression(words: [String]) -> String? {
        guard !words.isEmpty else { return nil }
        return words.map { "\"" + $0.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" }
            .joined(separator: " OR ")
    }

    package static func matchExpression(_ text: String) -> String? {
        matchExpression(words: queryWords(text))
    }

    /// About how many postings (message, word) a keyword search may score.
    /// FTS5 computes bm25 row by row (about 4 µs each here: it reads each
    /// row's size), so a word in a large share of the messages ("the", "I"),
    /// whose BM25 weight is near zero anyway, made one search take 24 ms at
    /// 10,000 messages (bench/memory/speed.md). Rarer words are what find a memory.
    package static let postingBudget = 2000
    /// A word in more than 1 in this many messages is common (5 %; the
    /// largest id stands in for the count, which would cost a scan)...
    static let commonShare = 20
    /// ...but never below this many messages, so a small store keeps its words.
    static let commonFloor = 20

    /// The words worth searching: rarest first while their messages add up
    /// to at most `postingBudget`, and always the rarest one. How many
    /// messages hold a word is counted only up to the budget (a word past it
    /// is left out unless it is the rarest): counting all of a common
    /// word's postings would cost what leaving it out saves. A word in more
    /// than one message in `commonShare` ("what", "my", "do") is left out
    /// too, unless it is the rarest: OR-ed in, such words rank noise first,
    /// and fused with the vector ranking that noise displaced good matches
    /// (bench/memory/RESULTS.md, quality).
    func worthSearching(_ words: [String]) throws(SQLiteError) -> [String] {
        let count = try db.prepare("""
            SELECT count(*) FROM (SELECT rowid FROM message_words WHERE message_words MATCH ? LIMIT ?)
            """)
        var counted: [(word: String, messages: Int)] = []
        for word in words {
            guard let expression = Self.matchExpression(words: [word]) else { continue }
            try count.bind([.text(expression), SQLValue(Self.postingBudget + 1)])
            let messages = try count.step() ? count.int(0) : 0
            if messages > 0 { counted.append((word, messages)) }
        }
        count.reset()
        // Words that carry meaning first, rarest first within each kind.
        counted.sort { a, b in
            let (glueA, glueB) = (Self.isGlue(a.word), Self.isGlue(b.word))
            return glueA != glueB ? !glueA : a.messages < b.messages
        }
        let stored = try db.prepare("SELECT coalesce(max(id), 0) FROM messages")
        let common = max(Self.commonFloor, (try stored.step() ? stored.int(0) : 0) / Self.commonShare)
        var kept: [String] = []
        var postings = 0
        // A query with words of meaning never falls back to its glue words,
        // even when none of its words of meaning was ever said.
        let onlyGlue = words.allSatisfy(Self.isGlue)
        for (word, messages) in counted
        where (onlyGlue || !Self.isGlue(word)) && (kept.isEmpty || (postings + messages <= Self.postingBudget && messages <= common)) {
            kept.append(word)
            postings += messages
        }
        return kept
    }

    /// The `k` best messages for the words of `text` by BM25 (score: the
    /// negated bm25, so higher is better), best first, leaving out
    /// `excluding`. Over the whole database, the best 2 × (k + excluded)
    /// by BM25 are fetched and then filtered to user and assistant messages.
    /// `realm` (nil: every realm) keeps it within one person's sessions, as
    /// for `vectorSearch`.
    package func keywordSearch(_ text: String, session: String?, realm: Realm? = nil, excluding: Set<Int64>, k: Int) throws(StageError) -> [Scored] {
        let words = Self.queryWords(text)
        guard k > 0, !words.isEmpty else { return [] }
        do {
            guard let expression = Self.matchExpression(words: try worthSearching(words)) else { return [] }
            var excluding = excluding
            let sql: String
            let scope: SQLValue
            if let session {
                sql = """
                    SELECT m.id, bm25(message_words) AS score FROM message_words JOIN messages m ON m.id = message_words.rowid
                    WHERE message_words MATCH ?1 AND m.role IN ('user', 'assistant') AND m.session = ?2
                    ORDER BY score, m.id LIMIT ?3
                    """
                scope = .text(session)
            } else if let realm, case .browser = realm {
                sql = """
                    SELECT m.id, bm25(message_words) AS score FROM message_words JOIN messages m ON m.id = message_words.rowid
                    JOIN web_sessions w ON w.session = m.session
                    WHERE message_words MATCH ?1 AND m.role IN ('user', 'assistant') AND w.identity = ?2
                    ORDER BY score, m.id LIMIT ?3
                    """
                scope = .text(realm.key)
            } else {
                // The local person's: everything but the browsers' sessions.
                if let realm { excluding.formUnion(try db.messageIDs(outside: realm)) }
                sql = """
                    SELECT w.id, w.score FROM (
                        SELECT rowid AS id, bm25(message_words) AS score FROM message_words
                        WHERE message_words MATCH ?1 ORDER BY score LIMIT ?3 * 2
                    ) w JOIN messages m ON m.id = w.id
                    WHERE m.role IN ('user', 'assistant') AND ?2 IS NULL ORDER BY w.score, w.id
                    """
                scope = .null
            }
            let stmt = try db.prepare(sql)
            try stmt.bind([.text(expression), scope, SQLValue(k + excluding.count)])
            var out: [Scored] = []
            while try stmt.step(), out.count < k {
                let id = Int64(stmt.int(0))
                guard !excluding.contains(id), case .real(let bm25) = stmt.value(1) else { continue }
                out.append(Scored(id: id, score: Float(-bm25)))
            }
            stmt.reset()
            return out
        } catch {
            throw Self.failure("keyword search", error)
        }
    }

    /// The messages with these ids, in id order; ids not stored are left out.
    package func messages(ids: [Int64]) throws(StageError) -> [RecalledMessage] {
        do {
            let stmt = try db.prepare("SELECT id, session, turn, role, content, time FROM messages WHERE id = ?")
            var out: [RecalledMessage] = []
            for id in Set(ids).sorted() {
                try stmt.bind([.integer(id)])
                if try stmt.step() {
                    out.append(RecalledMessage(
                        id: id, session: stmt.text(1) ?? "", turn: stmt.text(2), role: Role(rawValue: stmt.text(3) ?? "") ?? .user,
                        text: stmt.text(4) ?? "", time: stmt.text(5) ?? ""))
                }
            }
            stmt.reset()
            return out
        } catch {
            throw Self.failure("reading messages", error)
        }
    }
}

/// Up to `MemoryStore.blockSize` vectors as one `vector_blocks` row: the
/// message ids (int64 LE), each vector's scale (float32 LE) and its int8 codes.
struct VectorBlock {
    var messages: [UInt8] = []
    var scales: [UInt8] = []
    var codes: [UInt8] = []

    init(ids: [Int64], vectors: [[Float]]) {
        for id in ids { withUnsafeBytes(of: id.littleEndian) { messages.append(contentsOf: $0) } }
        for v in vectors {
            let (scale, q) = Quantization.quantize(v)
            withUnsafeBytes(of: scale.bitPattern.littleEndian) { scales.append(contentsOf: $0) }
            q.withUnsafeBytes { codes.append(contentsOf: $0) }
        }
    }
}
