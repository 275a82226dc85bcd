import Testing
@testable import MiraMemory
@testable import MiraSQLite
import MiraShared
import MiraSystem
import MiraTestSupport

/// One database, several people: the local person (the shell) and
/// browsers. Each one's facts, summaries and searches stay their own.
// Serialized: SessionStore.init changes the process-wide umask while it opens.
@Suite(.serialized) struct RealmSeparation {
    let time = "2026-12-07T00:00:00.000Z"

    func say(_ store: SessionStore, _ session: String, _ turn: String, _ facts: [Fact]) throws {
        #expect(try store.save(session: session, turn: turn, messages: [Message(role: .user, content: "x")], facts: facts, time: time))
    }

    @Test func aBrowsersFactNeitherReplacesNorReinforcesTheLocalPersonsAndEachSeesOnlyTheirOwn() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let memory = MemoryStore(store)
        try say(store, "cli", "t1", [Fact(topic: "name", text: "is called Ada")])
        let web = try store.startWebSession(realm: alice)
        try say(store, web, "t1", [Fact(topic: "name", text: "is called Bob")])
        // The same words from a third person: a fact of their own, not a repeat of Ada's.
        let other = try store.startWebSession(realm: bob)
        try say(store, other, "t1", [Fact(topic: "name", text: "is called Ada")])

        #expect(try memory.currentFacts(limit: 10, realm: .local).map(\.text) == ["is called Ada"])
        #expect(try memory.currentFacts(limit: 10, realm: .local).map(\.seen) == [1])
        #expect(try memory.currentFacts(limit: 10, realm: alice).map(\.text) == ["is called Bob"])
        #expect(try memory.currentFacts(limit: 10, realm: bob).map(\.text) == ["is called Ada"])
        // The command line's view is everyone's.
        #expect(try memory.currentFacts(limit: 10).count == 3)

        // Within one realm a new fact of the topic still replaces the old.
        try say(store, web, "t2", [Fact(topic: "name", text: "is called Robert")])
        #expect(try memory.currentFacts(limit: 10, realm: alice).map(\.text) == ["is called Robert"])
        #expect(try memory.currentFacts(limit: 10, realm: .local).map(\.text) == ["is called Ada"])
    }

    @Test func nearDuplicateFactsAreFoldedOnlyWithinOneRealm() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let memory = MemoryStore(store)
        try say(store, "cli", "t1", [Fact(topic: "pet", text: "has a cat called Miso")])
        let web = try store.startWebSession(realm: alice)
        try say(store, web, "t1", [Fact(topic: "animal", text: "has a cat named Miso")])
        try say(store, "cli", "t2", [Fact(topic: "animal", text: "owns a cat, Miso")])
        let ids = try memory.allFacts().map(\.id)
        try memory.storeFactVectors(ids.map { ($0, [1, 0, 0]) }, model: "m")
        #expect(try memory.mergeNearDuplicateFacts(threshold: 0.9) == 1)
        #expect(try memory.currentFacts(limit: 10, realm: .local).map(\.text) == ["has a cat called Miso"])
        #expect(try memory.currentFacts(limit: 10, realm: alice).map(\.text) == ["has a cat named Miso"])
    }

    @Test func searchesKeepToTheRealmWhetherExactOrByBlocks() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let memory = MemoryStore(store)
        // Enough vectors for full int8 blocks, so the local search takes the block pass.
        let local = try saveMessages(store, session: "cli", (0..<300).map { "shell message \($0)" })
        let web = try store.startWebSession(realm: alice)
        let strangers = try saveMessages(store, session: web, ["my secret garden is full of tulips", "tulips again"])
        let all = local + strangers
        try memory.storeVectors(all.map { ($0, unitVector(8, seed: UInt64($0))) }, model: "m")
        // The query is the stranger's own message vector: everyone else's nearest is theirs.
        let query = unitVector(8, seed: UInt64(strangers[0]))
        let everyone = try memory.vectorSearch(query: query, model: "m", session: nil, excluding: [], k: 5).map(\.id)
        #expect(everyone.first == strangers[0])
        let shell = try memory.vectorSearch(query: query, model: "m", session: nil, realm: .local, excluding: [], k: 5).map(\.id)
        #expect(shell.count == 5)
        #expect(Set(shell).isDisjoint(with: strangers))
        let hers = try memory.vectorSearch(query: query, model: "m", session: nil, realm: alice, excluding: [], k: 5).map(\.id)
        #expect(Set(hers) == Set(strangers))
        #expect(try memory.vectorSearch(query: query, model: "m", session: nil, realm: bob, excluding: [], k: 5).isEmpty)

        #expect(try memory.keywordSearch("tulips", session: nil, excluding: [], k: 5).count == 2)
        #expect(try memory.keywordSearch("tulips", session: nil, realm: .local, excluding: [], k: 5).isEmpty)
        #expect(try Set(memory.keywordSearch("tulips", session: nil, realm: alice, excluding: [], k: 5).map(\.id)) == Set(strangers))
        #expect(try memory.keywordSearch("shell", session: nil, realm: alice, excluding: [], k: 5).isEmpty)
    }

    @Test func aForgottenSummaryLeavesNoWordsButStillMarksItsMessagesSummedUp() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let memory = MemoryStore(store)
        let web = try store.startWebSession(realm: alice)
        let ids = try saveMessages(store, session: web, (0..<30).map { "line \($0)" })
        #expect(try memory.addSummary(session: web, first: ids[0], last: ids[9], text: "talked about zucchini", model: "m"))
        let summary = try #require(memory.summaries(realm: alice).first)
        #expect(try memory.summaries(realm: .local).isEmpty)
        #expect(try !memory.summary(summary.id, isIn: bob))
        #expect(try memory.summary(summary.id, isIn: alice))
        #expect(try memory.forget(summary: summary.id))
        #expect(try !memory.forget(summary: summary.id))
        #expect(try memory.summaries(realm: alice).isEmpty)
        #expect(try !memory.summary(summary.id, isIn: alice))
        #expect(!fileContains(db.path, "zucchini"))
        // The forgotten run is not offered for summing up again.
        #expect(try memory.unsummarized(session: web, keepingLast: 15).first?.id == ids[10])
    }

    @Test func factMembershipIsPerRealm() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let memory = MemoryStore(store)
        let web = try store.startWebSession(realm: alice)
        try say(store, web, "t1", [Fact(topic: "pet", text: "has a dog")])
        let id = try #require(memory.currentFacts(limit: 1, realm: alice).first?.id)
        #expect(try memory.fact(id, isIn: alice))
        #expect(try !memory.fact(id, isIn: bob))
        #expect(try !memory.fact(id, isIn: .local))
    }
}
