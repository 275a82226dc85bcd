import Glibc
import Testing
@testable import MiraSQLite
import MiraShared
import MiraSystem
import MiraTestSupport

// In SessionStoreBehaviour, which is serialized (opening a store sets the umask).
extension SessionStoreBehaviour {
    /// A kept statement is reset after each use: one that stopped at its
    /// first row (LIMIT 1) would otherwise keep its connection's read open,
    /// and that connection would go on seeing the database as it was.
    @Test func aKeptStatementSeesWhatAnotherConnectionWroteSinceItsLastUse() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let server = try db.open()
        let other = try db.open()
        let first = try other.startWebSession(realm: alice)
        #expect(try server.latestWebSession(realm: alice) == first)
        #expect(try server.webSession(first, isIn: alice))
        // A later session, with a turn, written by another connection (times
        // are in milliseconds: a tie would be broken by the ids).
        usleep(5_000)
        let later = try other.startWebSession(realm: alice)
        #expect(try other.save(record: finishedRecord(session: later, turn: "t1", reply: aReply), session: nil))
        #expect(try server.latestWebSession(realm: alice) == later)
        #expect(try server.webSession(later, isIn: alice))
        #expect(try server.load(session: later, last: 15).count == 2)
    }

    /// The same SQL used again inside a use of it gets a statement of its own.
    @Test func aKeptStatementUsedInsideItselfGetsItsOwn() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        #expect(try store.save(record: finishedRecord(session: "s1", turn: "t1", reply: aReply), session: nil))
        let sql = "SELECT content FROM messages WHERE session = ? ORDER BY id"
        let pairs = try store.db.reusing(sql) { (outer) throws(SQLiteError) -> [String] in
            try outer.bind([.text("s1")])
            var seen: [String] = []
            while try outer.step() {
                let text = outer.text(0) ?? ""
                let inner = try store.db.reusing(sql) { (inner) throws(SQLiteError) -> Int in
                    try inner.bind([.text("s1")])
                    var n = 0
                    while try inner.step() { n += 1 }
                    return n
                }
                seen.append("\(text):\(inner)")
            }
            return seen
        }
        #expect(pairs == ["hi:2", "\(aReply.output):2"])
    }
}
