import Testing
@testable import MiraSQLite
import MiraShared
import MiraSystem
import MiraTestSupport

let alice = Realm.browser(String(repeating: "a", count: 64))
let bob = Realm.browser(String(repeating: "b", count: 64))

// In SessionStoreBehaviour, which is serialized (opening a store sets the umask).
extension SessionStoreBehaviour {
    @Test func aWebSessionBelongsToTheBrowserThatStartedItAndNoOther() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let mine = try store.startWebSession(realm: alice)
        let theirs = try store.startWebSession(realm: bob)
        #expect(mine != theirs)
        #expect(try store.webSession(mine, isIn: alice))
        #expect(try !store.webSession(mine, isIn: bob))
        #expect(try !store.webSession(mine, isIn: .local))
        #expect(try !store.webSession("never-started", isIn: alice))
        #expect(try store.webSessions(realm: alice).map(\.session) == [mine])
        #expect(try store.webSessions(realm: .browser(String(repeating: "c", count: 64))).isEmpty)
        #expect(try store.realm(of: mine) == alice)
    }

    @Test func theLocalPersonSeesEverySessionNoBrowserOwnsAndNoBrowserSeesTheirs() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        // A session of `mira` (no web_sessions row), one the owner started in a browser, one of a stranger's.
        #expect(try store.save(session: "cli1", turn: "t1", messages: [Message(role: .user, content: "from the shell")]))
        let ownersNew = try store.startWebSession(realm: .local)
        let strangers = try store.startWebSession(realm: alice)
        #expect(try store.save(session: strangers, turn: "t1", messages: [Message(role: .user, content: "hello")]))
        #expect(try Set(store.webSessions(realm: .local).map(\.session)) == ["cli1", ownersNew])
        #expect(try store.webSession("cli1", isIn: .local))
        #expect(try store.webSession(ownersNew, isIn: .local))
        #expect(try !store.webSession(strangers, isIn: .local))
        #expect(try !store.webSession("cli1", isIn: alice))
        #expect(try !store.webSession("nosuch", isIn: .local))
        #expect(try store.realm(of: "cli1") == .local)
        #expect(try store.realm(of: ownersNew) == .local)
    }

    @Test func webSessionsCountMessagesPutTheLatestFirstAndHaveTheFirstWordsAsTitle() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let older = try store.startWebSession(realm: alice)
        let newer = try store.startWebSession(realm: alice)
        // A turn in the older session makes it the most recently active.
        let long = String(repeating: "é", count: 70)
        let user = Message(role: .user, content: long, time: "2999-01-01T00:00:00.000Z")
        let reply = Message(role: .assistant, content: "hey", persona: "haven", mood: "soft", time: "2999-01-01T00:00:01.000Z")
        #expect(try store.save(session: older, turn: "t1", messages: [user, reply]))
        let listed = try store.webSessions(realm: alice)
        #expect(listed.map(\.session) == [older, newer])
        #expect(listed.map(\.messages) == [2, 0])
        #expect(listed[0].lastActivity == "2999-01-01T00:00:01.000Z")
        #expect(listed.map(\.title) == [String(repeating: "é", count: WebSession.titleLength), ""])
        #expect(try store.webSessions(realm: alice, limit: 1).map(\.session) == [older])
    }

    @Test func removingASessionForgetsWhoOwnedIt() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let id = try store.startWebSession(realm: alice)
        try store.remove(session: id)
        #expect(try !store.webSession(id, isIn: alice))
        #expect(try store.webSessions(realm: alice).isEmpty)
    }
}
