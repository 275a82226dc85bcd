import Testing
@testable import MiraSQLite
import MiraShared
import MiraSystem
import MiraTestSupport

// In SessionStoreBehaviour, which is serialized (opening a store sets the umask).
extension SessionStoreBehaviour {
    @Test func aWebSessionBelongsToTheIdentityThatStartedItAndNoOther() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let mine = try store.startWebSession(identity: "alice")
        let theirs = try store.startWebSession(identity: "bob")
        #expect(mine != theirs)
        #expect(try store.webSession(mine, isOwnedBy: "alice"))
        #expect(try !store.webSession(mine, isOwnedBy: "bob"))
        #expect(try !store.webSession("never-started", isOwnedBy: "alice"))
        #expect(try store.webSessions(identity: "alice").map(\.session) == [mine])
        #expect(try store.webSessions(identity: "carol").isEmpty)
    }

    @Test func webSessionsCountMessagesAndPutTheLatestFirst() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let older = try store.startWebSession(identity: "alice")
        let newer = try store.startWebSession(identity: "alice")
        // A turn in the older session makes it the most recently active.
        let user = Message(role: .user, content: "hi", time: "2999-01-01T00:00:00.000Z")
        let reply = Message(role: .assistant, content: "hey", persona: "haven", mood: "soft", time: "2999-01-01T00:00:01.000Z")
        #expect(try store.save(session: older, turn: "t1", messages: [user, reply]))
        let listed = try store.webSessions(identity: "alice")
        #expect(listed.map(\.session) == [older, newer])
        #expect(listed.map(\.messages) == [2, 0])
        #expect(listed[0].lastActivity == "2999-01-01T00:00:01.000Z")
    }

    @Test func removingASessionForgetsWhoOwnedIt() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let id = try store.startWebSession(identity: "alice")
        try store.remove(session: id)
        #expect(try !store.webSession(id, isOwnedBy: "alice"))
        #expect(try store.webSessions(identity: "alice").isEmpty)
    }
}
