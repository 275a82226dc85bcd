import Testing
@testable import MiraMemory
@testable import MiraSQLite
import MiraShared
import MiraSystem
import MiraTestSupport

/// A deterministic unit vector for a seed (xorshift), so failures repeat.
func unitVector(_ dimension: Int, seed: UInt64) -> [Float] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    let raw = (0..<dimension).map { _ -> Float in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Float(Double(state % 2_000_001) / 1_000_000 - 1)
    }
    return Vectors.normalized(raw)!
}

/// Saves `count` one-message turns in `session` and returns their ids.
@discardableResult
func saveMessages(_ store: SessionStore, session: String, _ texts: [String], role: Role = .user) throws -> [Int64] {
    var ids: [Int64] = []
    for (k, text) in texts.enumerated() {
        _ = try store.save(session: session, turn: "t\(k)-\(text.utf8.count)-\(session)", messages: [Message(role: role, content: text)])
        let stmt = try store.db.prepare("SELECT max(id) FROM messages")
        _ = try stmt.step()
        ids.append(Int64(stmt.int(0)))
    }
    return ids
}

func addFact(_ store: SessionStore, topic: String, text: String, lastSeen: String = "2026-01-01T00:00:00.000Z") throws -> Int64 {
    try store.db.prepare("INSERT INTO facts (session, topic, text, time, last_seen) VALUES ('s', ?, ?, ?, ?)")
        .run([.text(topic), .text(text), .text(lastSeen), .text(lastSeen)])
    let stmt = try store.db.prepare("SELECT max(id) FROM facts")
    _ = try stmt.step()
    return Int64(stmt.int(0))
}

func fileContains(_ path: String, _ word: String) -> Bool {
    guard let bytes = Files.read(path: path, limit: 1 << 30) else { return false }
    let needle = Array(word.utf8)
    guard bytes.count >= needle.count else { return false }
    for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
        if Array(bytes[start..<start + needle.count]) == needle { return true }
    }
    return false
}

// Serialized: SessionStore.init changes the process-wide umask while it opens.
@Suite(.serialized) struct MemoryStoreIndexing {
    @Test func pendingMessagesAreUnindexedNonBlankUserAndAssistantOnesInIdOrder() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let ids = try saveMessages(store, session: "s", ["one", "  \n\t", "two"])
        let system = try saveMessages(store, session: "s", ["a system note"], role: .system)
        let memory = MemoryStore(store)
        #expect(try memory.pendingMessages(limit: 10).map(\.id) == [ids[0], ids[2]])
        #expect(try memory.pendingMessages(limit: 1).map(\.text) == ["one"])
        #expect(try memory.pendingMessages(limit: 10, after: ids[0]).map(\.id) == [ids[2]])
        #expect(!(try memory.pendingMessages(limit: 10).map(\.id).contains(system[0])))
        #expect(try memory.storeVectors([(ids[0], [1, 0, 0])], model: "m") == 1)
        #expect(try memory.pendingMessages(limit: 10).map(\.id) == [ids[2]])
    }

    @Test func aClaimedMessageIsNotClaimedAgainAndTheMarkSkipsWhatIsIndexed() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let ids = try saveMessages(store, session: "s", ["one", "two", "three"])
        let memory = MemoryStore(store)
        #expect(try memory.claimPendingMessages(limit: 2).map(\.id) == [ids[0], ids[1]])
        // Claimed by this process: another round takes only the rest.
        #expect(try memory.claimPendingMessages(limit: 10).map(\.id) == [ids[2]])
        try memory.storeVectors(ids.map { ($0, [1, 0, 0]) }, model: "m")
        try memory.release(ids)
        #expect(try memory.claimPendingMessages(limit: 10).isEmpty)
        #expect(try memory.pendingCount() == 0)
        // The newest message forgotten frees its id; the next message takes
        // it and must still be indexed, though it sits at the old mark.
        #expect(try memory.forget(message: ids[2]))
        let again = try saveMessages(store, session: "s", ["four"])
        #expect(again == [ids[2]])
        #expect(try memory.claimPendingMessages(limit: 10).map(\.text) == ["four"])
    }

    @Test func storingTheSameVectorTwiceKeepsOneAndADeletedMessageIsSkipped() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let ids = try saveMessages(store, session: "s", ["a", "b"])
        let memory = MemoryStore(store)
        #expect(try memory.storeVectors([(ids[0], [1, 0])], model: "m") == 1)
        #expect(try memory.storeVectors([(ids[0], [0, 1]), (ids[1], [0, 2]), (999, [1, 1])], model: "m") == 1)
        #expect(try memory.indexedModels() == [IndexedModel(model: "m", dimension: 2, count: 2)])
    }

    @Test func vectorsOfAnotherModelOrDimensionAreRefusedWithTheReindexCommand() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let ids = try saveMessages(store, session: "s", ["a", "b"])
        let memory = MemoryStore(store)
        try memory.storeVectors([(ids[0], [1, 0])], model: "mini")
        for (model, vector) in [("other", [Float(1), 0]), ("mini", [Float(1), 0, 0])] {
            #expect {
                try memory.storeVectors([(ids[1], vector)], model: model)
            } throws: {
                ($0 as? StageError)?.code == .storeFailed && ($0 as? StageError)?.message.contains("mira-memory reindex") == true
            }
        }
        #expect(throws: StageError.self) { try memory.vectorSearch(query: [1, 0], model: "other", session: nil, excluding: [], k: 3) }
        #expect(try memory.dropVectors() == 1)
        #expect(try memory.storeVectors([(ids[1], [1, 0, 0])], model: "other") == 1)
    }

    @Test func badVectorsFromTheServerAreRefusedByName() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let ids = try saveMessages(store, session: "s", ["a", "b"])
        let memory = MemoryStore(store)
        #expect { try memory.storeVectors([(ids[0], [0, 0])], model: "m") } throws: { ($0 as? StageError)?.code == .badResponse }
        #expect { try memory.storeVectors([(ids[0], [1, 0]), (ids[1], [1])], model: "m") } throws: { ($0 as? StageError)?.code == .badResponse }
        #expect(try memory.indexedModels().isEmpty)
    }

    @Test func eightConnectionsStoringTheSameVectorsAtOnceStoreEachOnce() async throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let ids = try saveMessages(try db.open(), session: "s", (0..<300).map { "message \($0)" })
        let path = db.path
        let added = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    let memory = MemoryStore(try SessionStore(path: path))
                    var added = 0
                    // Each worker walks the same messages in its own order, in batches.
                    let order = worker % 2 == 0 ? ids : ids.reversed()
                    for start in stride(from: 0, to: order.count, by: 25) {
                        let batch = order[start..<min(start + 25, order.count)].map { ($0, unitVector(8, seed: UInt64($0))) }
                        added += try memory.storeVectors(batch, model: "m")
                    }
                    return added
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(added == 300)
        let memory = MemoryStore(try db.open())
        #expect(try memory.indexedModels() == [IndexedModel(model: "m", dimension: 8, count: 300)])
        let blocked = try memory.db.prepare("SELECT count(*) FROM message_vectors WHERE block IS NOT NULL")
        _ = try blocked.step()
        #expect(blocked.int(0) == MemoryStore.blockSize)
    }
}

@Suite(.serialized) struct MemoryStoreSearching {
    @Test func theWholeDatabaseSearchMatchesExactTopKAcrossBlocksAndLooseVectors() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let ids = try saveMessages(store, session: "s", (0..<700).map { "m\($0)" })
        let memory = MemoryStore(store)
        let vectors = ids.map { ($0, unitVector(32, seed: UInt64($0))) }
        try memory.storeVectors(vectors, model: "m")
        let query = unitVector(32, seed: 12345)
        let exact = Vectors.topK(query: query, vectors: vectors.map { (id: $0.0, vector: $0.1) }, k: 5, excluding: [ids[3]])
        let found = try memory.vectorSearch(query: query, model: "m", session: nil, excluding: [ids[3]], k: 5)
        #expect(found.map(\.id) == exact.map(\.id))
        for (f, e) in zip(found, exact) { #expect(abs(f.score - e.score) < 1e-5) }
        // A message's own vector finds it first, from a block (id 1) and from the loose tail.
        for id in [ids[0], ids[699]] {
            #expect(try memory.vectorSearch(query: unitVector(32, seed: UInt64(id)), model: "m", session: nil, excluding: [], k: 1).first?.id == id)
        }
    }

    @Test func aSessionScopedSearchSeesOnlyThatSessionAndLeavesOutTheHistory() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let a = try saveMessages(store, session: "a", ["a1", "a2", "a3"])
        let b = try saveMessages(store, session: "b", ["b1"])
        let memory = MemoryStore(store)
        try memory.storeVectors([(a[0], [1, 0]), (a[1], [0.9, 0.1]), (a[2], [0, 1]), (b[0], [1, 0])], model: "m")
        let inA = try memory.vectorSearch(query: [1, 0], model: "m", session: "a", excluding: [a[0]], k: 10)
        #expect(inA.map(\.id) == [a[1], a[2]])
        let everywhere = try memory.vectorSearch(query: [1, 0], model: "m", session: nil, excluding: [], k: 2)
        #expect(Set(everywhere.map(\.id)) == [a[0], b[0]])
        #expect(try memory.vectorSearch(query: [1, 0], model: "m", session: "nobody", excluding: [], k: 3).isEmpty)
    }

    @Test func keywordSearchRanksByBM25InScopeAndLeavesOutTheHistory() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let a = try saveMessages(store, session: "a", ["my cat Miso sleeps all day", "the weather is grey", "Miso Miso Miso"])
        let b = try saveMessages(store, session: "b", ["Miso soup for dinner"])
        let memory = MemoryStore(store)
        let all = try memory.keywordSearch("miso, please?", session: nil, excluding: [], k: 10)
        #expect(Set(all.map(\.id)) == [a[0], a[2], b[0]])
        #expect(all.first?.id == a[2])
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.score >= $1.score })
        #expect(try memory.keywordSearch("miso", session: "a", excluding: [a[2]], k: 10).map(\.id) == [a[0]])
        #expect(try memory.keywordSearch("?!  ...", session: nil, excluding: [], k: 10).isEmpty)
    }

    @Test func hostileQueryTextIsNeverFTSSyntaxAndNeverFails() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let ids = try saveMessages(store, session: "s", ["NEAR the cat", "content column"])
        let memory = MemoryStore(store)
        let hostile = [
            "\"", "cat\" OR \"x", "NEAR(cat dog)", "content:cat", "cat*", "^cat", "-cat", "(cat", "a\u{0}cat",
            "caf\u{FFFD}\u{0301}", "AND", "OR NOT", String(repeating: "é\u{0}\"( ", count: 250_000),
        ]
        for text in hostile {
            _ = try memory.keywordSearch(text, session: nil, excluding: [], k: 5)
        }
        #expect(try memory.keywordSearch("NEAR(cat", session: nil, excluding: [], k: 5).map(\.id) == [ids[0]])
        #expect(try memory.keywordSearch("content:", session: nil, excluding: [], k: 5).map(\.id) == [ids[1]])
        #expect(MemoryStore.matchExpression("say \"hi\" NEAR(x)") == "\"say\" OR \"hi\" OR \"NEAR\" OR \"x\"")
        #expect(MemoryStore.matchExpression(String(repeating: "w ", count: 10) + (0..<200).map { "x\($0)" }.joined(separator: " "))!
            .split(separator: " OR ").count == 64)
    }

    @Test func messagesComeBackWithSessionTurnRoleTextAndTime() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let ids = try saveMessages(store, session: "s", ["hello"])
        let recalled = try MemoryStore(store).messages(ids: [ids[0], 999])
        try #require(recalled.count == 1)
        #expect(recalled[0].session == "s" && recalled[0].role == .user && recalled[0].text == "hello")
        #expect(recalled[0].turn != nil && Recency.epochSeconds(recalled[0].time) != nil)
    }
}

@Suite(.serialized) struct MemoryStoreForgetting {
    @Test func aForgottenMessageLeavesNoTraceInTheFileOrItsWAL() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        // Enough messages for a packed block, and the secret among them.
        var texts = (0..<300).map { "ordinary chatter number \($0)" }
        texts[10] = "my bank pin is zanzibarquux"
        let ids = try saveMessages(store, session: "s", texts)
        let memory = MemoryStore(store)
        try memory.storeVectors(ids.map { ($0, unitVector(16, seed: UInt64($0))) }, model: "m")
        #expect(try memory.keywordSearch("zanzibarquux", session: nil, excluding: [], k: 5).map(\.id) == [ids[10]])
        _ = try store.db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").step()
        #expect(fileContains(db.path, "zanzibarquux"))
        #expect(try memory.forget(message: ids[10]))
        #expect(!(try memory.forget(message: ids[10])))
        #expect(try memory.keywordSearch("zanzibarquux", session: nil, excluding: [], k: 5).isEmpty)
        #expect(try memory.messages(ids: [ids[10]]).isEmpty)
        #expect(try memory.indexedModels().first?.count == 299)
        #expect(!fileContains(db.path, "zanzibarquux"))
        #expect(!fileContains(db.path + "-wal", "zanzibarquux"))
        #expect(try store.list().first?.messages == 299)
        // The block the vector was in was rebuilt: every other message is still found.
        for id in [ids[0], ids[11], ids[299]] {
            #expect(try memory.vectorSearch(query: unitVector(16, seed: UInt64(id)), model: "m", session: nil, excluding: [], k: 1).first?.id == id)
        }
        #expect(try store.integrityCheck() == "ok")
    }

    @Test func aRemovedSessionThenScrubbedLeavesNoTraceAndOthersStaySearchable() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let gone = try saveMessages(store, session: "gone", ["whispered xylophonequartz secret"] + (0..<260).map { "filler \($0)" })
        let kept = try saveMessages(store, session: "kept", ["kept words"])
        let memory = MemoryStore(store)
        try memory.storeVectors((gone + kept).map { ($0, unitVector(16, seed: UInt64($0))) }, model: "m")
        _ = try addFact(store, topic: "x", text: "fact xylophonequartz")
        try store.db.prepare("UPDATE facts SET session = 'gone'").run([])
        _ = try store.db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").step()
        #expect(fileContains(db.path, "xylophonequartz"))
        _ = try store.remove(session: "gone")
        #expect(try memory.scrub())
        #expect(!fileContains(db.path, "xylophonequartz"))
        #expect(!fileContains(db.path + "-wal", "xylophonequartz"))
        #expect(try memory.allFacts().isEmpty)
        #expect(try memory.indexedModels().first?.count == 1)
        #expect(try memory.vectorSearch(query: unitVector(16, seed: UInt64(kept[0])), model: "m", session: nil, excluding: [], k: 3).map(\.id) == [kept[0]])
    }

    @Test func aForgottenFactIsGoneAndWhatItSupersededIsCurrentAgain() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let old = try addFact(store, topic: "city", text: "lives in Lyon")
        let new = try addFact(store, topic: "city", text: "lives in Oslopqrst")
        try store.db.prepare("UPDATE facts SET superseded_by = ? WHERE id = ?").run([.integer(new), .integer(old)])
        let memory = MemoryStore(store)
        #expect(try memory.currentFacts(limit: 10).map(\.id) == [new])
        #expect(try memory.forget(fact: new))
        #expect(!(try memory.forget(fact: new)))
        #expect(try memory.currentFacts(limit: 10).map(\.id) == [old])
        #expect(!fileContains(db.path, "Oslopqrst") && !fileContains(db.path + "-wal", "Oslopqrst"))
    }
}

@Suite(.serialized) struct MemoryStoreFactsAndSummaries {
    @Test func currentFactsAreTheUnsupersededMostRecentlySeenFirst() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let a = try addFact(store, topic: "pet", text: "has a cat", lastSeen: "2026-01-01T00:00:00.000Z")
        let b = try addFact(store, topic: "job", text: "is a nurse", lastSeen: "2026-03-01T00:00:00.000Z")
        let c = try addFact(store, topic: "pet", text: "has two cats", lastSeen: "2026-02-01T00:00:00.000Z")
        try store.db.prepare("UPDATE facts SET superseded_by = ? WHERE id = ?").run([.integer(c), .integer(a)])
        let memory = MemoryStore(store)
        #expect(try memory.currentFacts(limit: 10).map(\.id) == [b, c])
        #expect(try memory.currentFacts(limit: 1).map(\.id) == [b])
        let all = try memory.allFacts()
        #expect(all.map(\.id) == [a, b, c])
        #expect(all[0].supersededBy == c && all[0].supersededByText == "has two cats")
        #expect(try memory.claimPendingFacts(limit: 10).map(\.id) == [b, c])
    }

    @Test func aNearDuplicateFactReinforcesTheOlderAndIsKeptSuperseded() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let older = try addFact(store, topic: "pet", text: "has a cat named Miso", lastSeen: "2026-01-01T00:00:00.000Z")
        let other = try addFact(store, topic: "job", text: "works nights", lastSeen: "2026-01-02T00:00:00.000Z")
        let newer = try addFact(store, topic: "pets", text: "owns a cat called Miso", lastSeen: "2026-05-01T00:00:00.000Z")
        let memory = MemoryStore(store)
        try memory.storeFactVectors([(older, [1, 0, 0]), (other, [0, 1, 0]), (newer, [0.99, 0.05, 0])], model: "m")
        #expect(try memory.mergeNearDuplicateFacts(threshold: 0.9) == 1)
        #expect(try memory.mergeNearDuplicateFacts(threshold: 0.9) == 0)
        let all = try memory.allFacts()
        #expect(all.count == 3)
        #expect(all[0].seen == 2 && all[0].lastSeen == "2026-05-01T00:00:00.000Z" && all[0].supersededBy == nil)
        #expect(all[2].supersededBy == older && all[1].supersededBy == nil)
        #expect(try memory.claimPendingFacts(limit: 10).isEmpty)
    }

    @Test func factVectorsOfAnotherModelThanTheMessagesAreRefused() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let ids = try saveMessages(store, session: "s", ["a"])
        let fact = try addFact(store, topic: "t", text: "x")
        let memory = MemoryStore(store)
        try memory.storeVectors([(ids[0], [1, 0])], model: "m")
        #expect(throws: StageError.self) { try memory.storeFactVectors([(fact, [1, 0])], model: "n") }
    }

    @Test func unsummarizedIsWhatIsOlderThanTheWindowAndAfterTheLatestSummary() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let ids = try saveMessages(store, session: "s", (0..<10).map { "m\($0)" })
        _ = try saveMessages(store, session: "other", ["o"])
        let memory = MemoryStore(store)
        #expect(try memory.latestSummary(session: "s") == nil)
        #expect(try memory.unsummarized(session: "s", keepingLast: 4).map(\.id) == Array(ids[0..<6]))
        #expect(try memory.unsummarized(session: "s", keepingLast: 10).isEmpty)
        #expect(try memory.unsummarized(session: "s", keepingLast: 0).count == 10)
        #expect(try memory.addSummary(session: "s", first: ids[0], last: ids[3], text: "they said hi", model: "chat"))
        #expect(!(try memory.addSummary(session: "s", first: ids[2], last: ids[5], text: "overlap", model: "chat")))
        let latest = try #require(try memory.latestSummary(session: "s"))
        #expect(latest.lastMessage == ids[3] && latest.text == "they said hi" && latest.model == "chat")
        #expect(try memory.unsummarized(session: "s", keepingLast: 4).map(\.id) == Array(ids[4..<6]))
        #expect(throws: StageError.self) { try memory.addSummary(session: "s", first: 9, last: 8, text: "x", model: "m") }
    }

    @Test func statsCountEverything() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let ids = try saveMessages(store, session: "s", ["a", "b", "c"])
        let a = try addFact(store, topic: "t", text: "x")
        let b = try addFact(store, topic: "t", text: "y")
        try store.db.prepare("UPDATE facts SET superseded_by = ? WHERE id = ?").run([.integer(b), .integer(a)])
        let memory = MemoryStore(store)
        try memory.storeVectors([(ids[0], [1, 0]), (ids[1], [0, 1])], model: "m")
        _ = try memory.addSummary(session: "s", first: ids[0], last: ids[0], text: "s", model: "m")
        let stats = try memory.stats()
        #expect(stats.messages == 3 && stats.currentFacts == 1 && stats.supersededFacts == 1 && stats.summaries == 1)
        #expect(stats.indexed == [IndexedModel(model: "m", dimension: 2, count: 2)])
        #expect(stats.bytesOnDisk >= MemoryStore.fileSize(db.path) && stats.bytesOnDisk > 4096)
    }
}
