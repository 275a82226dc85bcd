import Testing
@testable import MiraSQLite
import MiraShared
import MiraSystem
import MiraTestSupport

@Suite struct SQLiteValues {
    /// `value` bound and read back through a STRICT-free column, so its type is kept.
    func roundTrip(_ value: SQLValue) throws -> SQLValue {
        let db = try Connection(path: ":memory:")
        try db.execute("CREATE TABLE t (v)")
        try db.prepare("INSERT INTO t VALUES (?)").run([value])
        let read = try db.prepare("SELECT v FROM t")
        try #require(try read.step())
        return read.value(0)
    }

    @Test func everyKindOfValueComesBackAsItWasBound() throws {
        for value: SQLValue in [
            .integer(0), .integer(.min), .integer(.max), .real(-0.5), .null,
            .blob([]), .blob([0, 1, 0xFF, 0]),
        ] {
            #expect(try roundTrip(value) == value)
        }
    }

    @Test func textIsStoredByteExact() throws {
        for text in ["", "\u{0}", "a\u{0}b", "\u{0}\u{0}", "é", "e\u{301}", "\u{FEFF}bom", "\u{FFFF}", "🦊\u{200D}", "\r\n\t"] {
            // By bytes: String's == would take "é" and "e\u{301}" for one another.
            guard case .text(let read) = try roundTrip(.text(text)) else {
                Issue.record("not read back as text: \(Array(text.utf8))")
                continue
            }
            #expect(Array(read.utf8) == Array(text.utf8))
        }
    }

    @Test func emptyTextIsNotNull() throws {
        let db = try Connection(path: ":memory:")
        try db.execute("CREATE TABLE t (v TEXT NOT NULL)")
        try db.prepare("INSERT INTO t VALUES (?)").run([.text("")])
        let read = try db.prepare("SELECT length(v), typeof(v) FROM t")
        try #require(try read.step())
        #expect(read.int(0) == 0)
        #expect(read.text(1) == "text")
    }

    @Test func anOptionalBindsNullWhenAbsent() throws {
        #expect(SQLValue(nil as String?) == .null)
        #expect(SQLValue("x") == .text("x"))
        #expect(SQLValue(7) == .integer(7))
    }
}

@Suite struct SQLiteErrors {
    @Test func aBrokenConstraintIsNamedSo() throws {
        let db = try Connection(path: ":memory:")
        try db.execute("CREATE TABLE t (v TEXT NOT NULL)")
        #expect { try db.prepare("INSERT INTO t VALUES (?)").run([.null]) } throws: {
            ($0 as? SQLiteError)?.kind == .constraint
        }
    }

    @Test func anotherProgramsDatabaseIsRefused() throws {
        let db = try Connection(path: ":memory:")
        try db.execute("CREATE TABLE notes (x)")
        let identity = DatabaseIdentity(applicationID: 1, tables: ["answers"], what: "a test database")
        #expect { try db.check(identity) } throws: { ($0 as? SQLiteError)?.kind == .notADatabase }
    }

    @Test func aNewerSchemaIsRefusedAndAnOlderOneMigrated() throws {
        let db = try Connection(path: ":memory:")
        let steps = ["CREATE TABLE a (x)", "CREATE TABLE b (x)"]
        try db.migrate(Array(steps.prefix(1)))
        #expect(try db.schemaVersion(known: 2) == 1)
        try db.migrate(steps)
        #expect(try db.schemaVersion(known: 2) == 2)
        #expect { try db.migrate(Array(steps.prefix(1))) } throws: { ($0 as? SQLiteError)?.kind == .newerSchema }
    }

    @Test func aFolderIsNoDatabase() throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let identity = DatabaseIdentity(applicationID: 1, tables: [], what: "a test database")
        #expect { try Connection.reading(path: folder.path, identity: identity) } throws: {
            ($0 as? SQLiteError)?.kind == .cantOpen && ($0 as? SQLiteError)?.message == "not a regular file"
        }
        #expect(try Connection.reading(path: folder.path + "/none.db", identity: identity) == nil)
    }
}
