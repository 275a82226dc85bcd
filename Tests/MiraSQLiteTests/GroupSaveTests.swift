import Testing
@testable import MiraSQLite
import MiraShared
import MiraSystem
import MiraTestSupport

// In SessionStoreBehaviour, which is serialized (opening a store sets the umask).
extension SessionStoreBehaviour {
    @Test func writesTogetherAreEachWholeOrNotAtAll() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        #expect(try store.save(record: finishedRecord(session: "s1", turn: "old", reply: aReply), session: nil))
        // A turn whose insert fails part-way (after its user message went in).
        try store.db.execute("""
            CREATE TEMP TRIGGER refuse BEFORE INSERT ON messages WHEN new.content = 'refused words'
            BEGIN SELECT RAISE(ABORT, 'refused'); END
            """)
        let outcomes = store.write(together: [
            .turn(finishedRecord(session: "s1", turn: "a", input: "first", reply: aReply), session: nil),
            .turn(finishedRecord(session: "s1", turn: "b", input: "no reply"), session: nil),
            .turn(finishedRecord(session: "s1", turn: "c", input: "third", reply: Reply(output: "refused words", persona: "haven", mood: "soft")), session: nil),
            .turn(finishedRecord(session: "s1", turn: "old", reply: aReply), session: nil),
            .turn(finishedRecord(session: "s2", turn: "d", input: "fifth", reply: aReply), session: nil),
            .webSession("w1", alice),
            .webSession("w1", bob),
        ])
        #expect(outcomes.count == 7)
        #expect((try? outcomes[0].get()) == true)
        #expect(throws: StageError.self) { try outcomes[1].get() }
        #expect(throws: StageError.self) { try outcomes[2].get() }
        #expect((try? outcomes[3].get()) == false)
        #expect((try? outcomes[4].get()) == true)
        #expect((try? outcomes[5].get()) == true)
        // The same id twice: the second is refused alone.
        #expect(throws: StageError.self) { try outcomes[6].get() }
        #expect(try store.webSession("w1", isIn: alice))
        // Turn c left nothing behind, not even its user message.
        #expect(try exportLines(store, session: "s1").count == 4)
        #expect(try !exportLines(store, session: "s1").contains { $0.contains("third") })
        #expect(try exportLines(store, session: "s2").count == 2)
        #expect(try store.list().first(where: { $0.session == "s1" })?.messages == 4)
    }

    /// A browser's first turn stores its new session with it: both, or
    /// neither when the turn fails; and its facts are kept in that realm.
    @Test func aTurnThatOpensItsSessionStoresTheSessionWithIt() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        try store.db.execute("""
            CREATE TEMP TRIGGER refuse BEFORE INSERT ON messages WHEN new.content = 'refused words'
            BEGIN SELECT RAISE(ABORT, 'refused'); END
            """)
        let named = Reply(output: "hello Alice", persona: "default", mood: "warm",
                          remember: [Fact(topic: "name", text: "is called Alice")])
        let outcomes = store.write(together: [
            .rows(try TurnRows(record: finishedRecord(session: "w1", turn: "a", input: "my name is Alice", reply: named),
                               session: nil, opening: alice)),
            .rows(try TurnRows(record: finishedRecord(session: "w2", turn: "b", input: "hi",
                                                      reply: Reply(output: "refused words", persona: "haven", mood: "soft")),
                               session: nil, opening: bob)),
        ])
        #expect((try? outcomes[0].get()) == true)
        #expect(throws: StageError.self) { try outcomes[1].get() }
        #expect(try store.webSession("w1", isIn: alice))
        #expect(try !store.webSession("w1", isIn: bob))
        #expect(try exportLines(store, session: "w1").count == 2)
        // The failed turn took its session with it.
        #expect(try store.webSessions(realm: bob).isEmpty)
        #expect(try exportLines(store, session: "w2").isEmpty)
        // The fact was compared and kept within Alice's realm, not the local one.
        #expect(try MemoryStore(store).currentFacts(limit: 10, realm: alice).map(\.text) == ["is called Alice"])
        #expect(try MemoryStore(store).currentFacts(limit: 10, realm: .local).isEmpty)
    }
}
