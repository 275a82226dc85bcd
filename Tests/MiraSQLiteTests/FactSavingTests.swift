import Testing
@testable import MiraSQLite
import MiraShared
import MiraSystem
import MiraTestSupport

/// A finished turn whose reply remembered `facts`; the user's message says
/// them (a fact the message does not ground is not kept: FactGrounding).
func turn(_ id: String, session: String = "s1", remembering facts: [Fact]) -> Record {
    finishedRecord(session: session, turn: id, input: "about me: " + facts.map(\.text).joined(separator: "; "),
                   reply: Reply(output: "Noted.", persona: "haven", mood: "warm", remember: facts))
}

// Serialized: SessionStore.init changes the process-wide umask while it opens.
@Suite(.serialized) struct FactSaving {
    @Test func aTurnsFactsAreStoredWithItsSessionTurnAndTime() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        #expect(try store.save(record: turn("t1", remembering: [Fact(topic: "pet", text: "has a cat called Miso")]), session: nil))
        let facts = try store.facts()
        try #require(facts.count == 1)
        #expect(facts[0].session == "s1")
        #expect(facts[0].turn == "t1")
        #expect(facts[0].topic == "pet")
        #expect(facts[0].text == "has a cat called Miso")
        #expect(facts[0].seen == 1)
        #expect(facts[0].supersededBy == nil)
        // The fact has the time of the turn's messages.
        #expect(facts[0].time == facts[0].lastSeen)
        #expect(try store.load(session: "s1", last: 2).map(\.time) == [facts[0].time, facts[0].time])
    }

    @Test func aFactTheMessageDoesNotSayIsNotKept() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let said = Fact(topic: "pet", text: "has a cat called Miso"), madeUp = Fact(topic: "job", text: "works as a pilot")
        let record = finishedRecord(input: "my cat Miso is asleep on the keyboard",
                                    reply: Reply(output: "Aw.", persona: "haven", mood: "warm", remember: [said, madeUp]))
        #expect(try store.save(record: record, session: nil))
        #expect(try store.facts(includingSuperseded: true).map(\.text) == ["has a cat called Miso"])
    }

    @Test func aTurnWithoutFactsStoresNone() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        #expect(try store.save(record: finishedRecord(reply: aReply), session: nil))
        #expect(try store.facts(includingSuperseded: true).isEmpty)
    }

    @Test func theSameFactToldAgainIsReinforcedNotCopied() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        _ = try store.save(record: turn("t1", remembering: [Fact(topic: "pet", text: "has a cat called Miso")]), session: nil)
        // Other words of case and space, another session: the same fact.
        _ = try store.save(record: turn("t2", session: "s2", remembering: [Fact(topic: "pet", text: "  Has a CAT called miso ")]), session: nil)
        let facts = try store.facts(includingSuperseded: true)
        try #require(facts.count == 1)
        #expect(facts[0].seen == 2)
        #expect(facts[0].text == "has a cat called Miso")
        #expect(facts[0].session == "s1")
        #expect(facts[0].lastSeen >= facts[0].time)
    }

    @Test func aNewFactOfATopicSupersedesTheCurrentOneWhichIsKept() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        _ = try store.save(record: turn("t1", remembering: [Fact(topic: "home", text: "lives in Lisbon")]), session: nil)
        _ = try store.save(record: turn("t2", remembering: [Fact(topic: "home", text: "lives in Porto"), Fact(topic: "pet", text: "has a dog")]), session: nil)
        let all = try store.facts(includingSuperseded: true)
        #expect(all.map(\.text) == ["lives in Lisbon", "lives in Porto", "has a dog"])
        #expect(all[0].supersededBy == all[1].id)
        #expect(all[1].supersededBy == nil)
        #expect(try store.facts().map(\.text) == ["lives in Porto", "has a dog"])
        // Back to the first: a new fact again, and the old superseded one stays as it was.
        _ = try store.save(record: turn("t3", remembering: [Fact(topic: "home", text: "lives in Lisbon")]), session: nil)
        let after = try store.facts(includingSuperseded: true)
        #expect(after.count == 4)
        #expect(after[0].supersededBy == all[1].id)
        #expect(after[0].seen == 1)
        #expect(after[1].supersededBy == after[3].id)
        #expect(try store.facts().map(\.text) == ["has a dog", "lives in Lisbon"])
    }

    @Test func factsOfOneTurnDoNotSupersedeEachOther() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let two = [Fact(topic: "pet", text: "has a cat called Miso"), Fact(topic: "pet", text: "has a dog called Rex")]
        _ = try store.save(record: turn("t1", remembering: two), session: nil)
        #expect(try store.facts().map(\.text) == ["has a cat called Miso", "has a dog called Rex"])
        _ = try store.save(record: turn("t2", remembering: [Fact(topic: "pet", text: "has a hamster")]), session: nil)
        #expect(try store.facts().map(\.text) == ["has a hamster"])
        #expect(try store.facts(includingSuperseded: true).count == 3)
    }

    @Test func theSameFactTwiceInOneReplyIsToldOnce() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        _ = try store.save(record: turn("t1", remembering: [Fact(topic: "name", text: "is called Ada"), Fact(topic: "name", text: "Is called Ada")]), session: nil)
        let facts = try store.facts(includingSuperseded: true)
        #expect(facts.count == 1)
        #expect(facts.first?.seen == 1)
    }

    @Test func savingTheSameTurnTwiceAddsNoFactAndReinforcesNone() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let record = turn("t1", remembering: [Fact(topic: "name", text: "is called Ada")])
        #expect(try store.save(record: record, session: nil))
        #expect(try store.save(record: record, session: nil) == false)
        let facts = try store.facts(includingSuperseded: true)
        #expect(facts.count == 1)
        #expect(facts.first?.seen == 1)
    }

    @Test func aTurnWhoseFactsCannotBeStoredIsNotStoredAtAll() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        try store.db.execute("CREATE TRIGGER refuse_facts BEFORE INSERT ON facts BEGIN SELECT RAISE(ABORT, 'no facts today'); END")
        #expect(throws: StageError.self) {
            try store.save(record: turn("t1", remembering: [Fact(topic: "name", text: "is called Ada")]), session: nil)
        }
        #expect(try store.load(session: "s1", last: 15).isEmpty)
        #expect(try store.list().isEmpty)
        // Once facts can be stored, the same turn saves whole.
        try store.db.execute("DROP TRIGGER refuse_facts")
        #expect(try store.save(record: turn("t1", remembering: [Fact(topic: "name", text: "is called Ada")]), session: nil))
        #expect(try store.load(session: "s1", last: 15).count == 2)
        #expect(try store.facts().count == 1)
    }

    @Test func removingTheSessionThatToldAFactTakesIt() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        _ = try store.save(record: turn("t1", remembering: [Fact(topic: "name", text: "is called Ada")]), session: nil)
        _ = try store.save(record: turn("t1", session: "s2", remembering: [Fact(topic: "pet", text: "has a dog")]), session: nil)
        try store.remove(session: "s1")
        #expect(try store.facts(includingSuperseded: true).map(\.text) == ["has a dog"])
    }
}
