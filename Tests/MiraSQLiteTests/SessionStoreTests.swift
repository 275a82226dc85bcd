#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Testing
@testable import MiraSQLite
import MiraShared
import MiraSystem
import MiraTestSupport

// Serialized: SessionStore.init changes the process-wide umask while it opens.
@Suite(.serialized) struct SessionStoreBehaviour {
    @Test func savedTurnLoadsBackAsUserMessageThenReplyWithPersonaAndMood() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        #expect(try store.save(record: finishedRecord(reply: aReply), session: nil))
        let messages = try store.load(session: "s1", last: 15)
        try #require(messages.count == 2)
        #expect(messages[0].role == .user)
        #expect(messages[0].content == "hi")
        #expect(messages[1].role == .assistant)
        #expect(messages[1].content == "Hey you.")
        #expect(messages[1].persona == "haven")
        #expect(messages[1].mood == "soft")
        #expect(messages[1].time != nil)
    }

    @Test func anExplicitSessionWinsOverTheRecords() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        _ = try store.save(record: finishedRecord(session: "s1", reply: aReply), session: "other")
        #expect(try store.load(session: "s1", last: 15).isEmpty)
        #expect(try store.load(session: "other", last: 15).count == 2)
    }

    @Test func loadLastNGivesTheNewestNOldestFirst() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        for k in 1...3 {
            _ = try store.save(session: "s1", turn: "t\(k)", messages: [
                Message(role: .user, content: "q\(k)"), Message(role: .assistant, content: "a\(k)"),
            ])
        }
        #expect(try store.load(session: "s1", last: 3).map(\.content) == ["a2", "q3", "a3"])
        #expect(try store.load(session: "s1", last: 0).isEmpty)
    }

    @Test func sessionsAreKeptApart() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        _ = try store.save(session: "a", turn: "t", messages: [Message(role: .user, content: "for a")])
        _ = try store.save(session: "b", turn: "t", messages: [Message(role: .user, content: "for b")])
        #expect(try store.load(session: "a", last: 10).map(\.content) == ["for a"])
    }

    @Test func savingTheSameTurnTwiceStoresItOnce() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let record = finishedRecord(reply: aReply)
        #expect(try store.save(record: record, session: nil) == true)
        #expect(try store.save(record: record, session: nil) == false)
        #expect(try store.load(session: "s1", last: 100).count == 2)
        #expect(try store.list().first?.messages == 2)
    }

    @Test func aRecordWithoutAReplyIsNotSaved() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        #expect { try store.save(record: finishedRecord(reply: nil), session: nil) } throws: {
            ($0 as? StageError)?.code == .noReply
        }
        #expect(try store.list().isEmpty)
    }

    @Test func aRecordWithoutASessionIsNotSaved() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        #expect { try store.save(record: finishedRecord(session: nil, reply: aReply), session: nil) } throws: {
            ($0 as? StageError)?.code == .badRecord
        }
        #expect(try store.list().isEmpty)
    }

    @Test func aRecordWithoutATurnIsNotSaved() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        #expect { try store.save(record: finishedRecord(turn: nil, reply: aReply), session: nil) } throws: {
            ($0 as? StageError)?.code == .badRecord
        }
        #expect(try store.load(session: "s1", last: 10).isEmpty)
    }

    @Test func aRecordWithoutInputIsNotSaved() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        #expect { try store.save(record: finishedRecord(input: nil, reply: aReply), session: nil) } throws: {
            ($0 as? StageError)?.code == .noInput
        }
        #expect(try store.load(session: "s1", last: 10).isEmpty)
    }

    @Test func anInvalidExplicitSessionIsRefused() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        #expect { try store.save(record: finishedRecord(reply: aReply), session: "../x") } throws: {
            ($0 as? StageError)?.code == .invalidSession
        }
        #expect(try store.list().isEmpty)
    }

    @Test func exportRemoveImportGivesIdenticalExportLines() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        _ = try store.save(record: finishedRecord(turn: "t1", input: "first \"quoted\" é", reply: aReply), session: nil)
        _ = try store.save(record: finishedRecord(turn: "t2", input: "second\nline", reply: aReply), session: nil)
        let exported = try exportLines(store, session: "s1")
        #expect(exported.count == 4)
        #expect(try store.remove(session: "s1") == 4)
        #expect(try exportLines(store, session: "s1").isEmpty)
        #expect(try importLines(store, exported) == 4)
        #expect(try exportLines(store, session: "s1") == exported)
    }

    @Test func importWithABadLineInTheMiddleImportsNothing() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        // More lines before the bad one than one insert batch holds.
        var lines = (0..<1200).map { #"{"session":"bulk","role":"user","content":"m\#($0)"}"# }
        lines.insert(#"{"session":"bulk","role":"robot","content":"bad"}"#, at: 1100)
        #expect { try importLines(store, lines) } throws: { ($0 as? StageError)?.code == .badRecord }
        #expect(try store.load(session: "bulk", last: 10_000).isEmpty)
        #expect(try store.list().isEmpty)
    }

    @Test func importOfMessagesWithoutTurnsKeepsEveryOne() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let line = #"{"session":"s","role":"user","content":"same"}"#
        #expect(try importLines(store, [line, line]) == 2)
        #expect(try store.load(session: "s", last: 10).count == 2)
    }

    @Test func listShowsEachSessionsCountAndLastActivity() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        _ = try store.save(session: "old", turn: "t", messages: [
            Message(role: .user, content: "a", time: "2026-01-01T00:00:00.000Z"),
            Message(role: .assistant, content: "b", time: "2026-01-01T00:00:05.000Z"),
        ])
        _ = try store.save(session: "new", turn: "t", messages: [
            Message(role: .user, content: "c", time: "2026-02-01T00:00:00.000Z"),
        ])
        #expect(try store.list() == [
            SessionSummary(session: "new", messages: 1, lastActivity: "2026-02-01T00:00:00.000Z"),
            SessionSummary(session: "old", messages: 2, lastActivity: "2026-01-01T00:00:05.000Z"),
        ])
    }

    @Test func removingASessionTakesItOffTheList() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        _ = try store.save(session: "gone", turn: "t", messages: [Message(role: .user, content: "x")])
        _ = try store.remove(session: "gone")
        #expect(try store.list().isEmpty)
    }

    @Test func theDatabaseFileIsOwnerOnly() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        _ = try store.save(session: "s", turn: "t", messages: [Message(role: .user, content: "x")])
        var info = stat()
        try #require(stat(db.path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
    }

    @Test func missingParentFoldersAreCreated() throws {
        let db = TemporaryDatabase()
        defer {
            let nested = db.directory + "/a/b"
            for name in Files.list(directory: nested) { unlink(nested + "/" + name) }
            rmdir(nested)
            rmdir(db.directory + "/a")
            db.remove()
        }
        _ = try SessionStore(path: db.directory + "/a/b/mira.db")
        #expect(access(db.directory + "/a/b/mira.db", F_OK) == 0)
    }

    @Test func schemaVersionIsRecordedInUserVersion() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        #expect(try store.db.intPragma("user_version") == SessionStore.schemaVersion)
        #expect(SessionStore.schemaVersion == SessionStore.migrations.count)
    }

    @Test func theJournalIsWriteAheadLogging() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let stmt = try store.db.prepare("PRAGMA journal_mode")
        #expect(try stmt.step())
        #expect(stmt.text(0) == "wal")
    }

    @Test func reopeningAnExistingDatabaseKeepsItsMessages() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        do {
            let store = try db.open()
            _ = try store.save(record: finishedRecord(reply: aReply), session: nil)
        }
        let reopened = try db.open()
        #expect(try reopened.load(session: "s1", last: 10).count == 2)
        #expect(try reopened.db.intPragma("user_version") == SessionStore.schemaVersion)
    }

    @Test func aDatabaseFromANewerSchemaIsRefused() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        do {
            let store = try db.open()
            try store.db.execute("PRAGMA user_version = \(SessionStore.schemaVersion + 1)")
        }
        #expect { try db.open() } throws: { ($0 as? StageError)?.code == .storeFailed }
    }

    @Test func integrityCheckSaysOK() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        _ = try store.save(record: finishedRecord(reply: aReply), session: nil)
        #expect(try store.integrityCheck() == "ok")
    }

    @Test func twoConnectionsToOneFileCanBothSave() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let first = try db.open()
        let second = try db.open()
        // Keep a read open on the first connection while the second writes.
        let reading = try first.db.prepare("SELECT id FROM messages")
        _ = try reading.step()
        #expect(try second.save(session: "s", turn: "t1", messages: [Message(role: .user, content: "from second")]))
        try reading.bind([])
        #expect(try first.save(session: "s", turn: "t2", messages: [Message(role: .user, content: "from first")]))
        #expect(try second.load(session: "s", last: 10).map(\.content) == ["from second", "from first"])
    }

    @Test func concurrentWritersOnSeparateConnectionsAllSave() async throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        _ = try db.open()
        let path = db.path
        let saved = try await withThrowingTaskGroup(of: Int.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    let store = try SessionStore(path: path)
                    var count = 0
                    for k in 0..<25 where try store.save(
                        session: "s", turn: "w\(writer)-\(k)", messages: [Message(role: .user, content: "x")]) {
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(saved == 100)
        #expect(try db.open().load(session: "s", last: 1000).count == 100)
    }
}

@Suite struct StoredMessageReading {
    @Test func anExportLineReadsBackToTheSameMessage() throws {
        let message = StoredMessage(session: "s", turn: "t", message: Message(
            role: .assistant, content: "hey", persona: "haven", mood: "soft", time: "2026-01-01T00:00:00.000Z"))
        #expect(try StoredMessage(json: message.json, session: nil) == message)
        #expect(JSONWriter.string(message.json)
            == #"{"session":"s","turn":"t","role":"assistant","content":"hey","persona":"haven","mood":"soft","time":"2026-01-01T00:00:00.000Z"}"#)
    }

    @Test func anExplicitSessionReplacesTheLinesOwn() throws {
        let json = try JSONParser.parse(#"{"session":"a","role":"user","content":"x"}"#)
        #expect(try StoredMessage(json: json, session: "b").session == "b")
    }

    @Test func aLineWithoutASessionNeedsOne() throws {
        let json = try JSONParser.parse(#"{"role":"user","content":"x"}"#)
        #expect { try StoredMessage(json: json, session: nil) } throws: { ($0 as? StageError)?.code == .badRecord }
    }

    @Test func aLineWithAnInvalidSessionIsRefused() throws {
        let json = try JSONParser.parse(#"{"session":"../x","role":"user","content":"x"}"#)
        #expect { try StoredMessage(json: json, session: nil) } throws: { ($0 as? StageError)?.code == .invalidSession }
    }
}

@Suite struct StoreLocationResolving {
    @Test func anExplicitPathWins() {
        #expect(StoreLocation.resolve(explicit: "/x.db", environment: Environment(["MIRA_DB": "/y.db"])) == "/x.db")
    }

    @Test func thenMiraDB() {
        #expect(StoreLocation.resolve(explicit: nil, environment: Environment(["MIRA_DB": "/y.db", "HOME": "/h"])) == "/y.db")
    }

    @Test func thenAnAbsoluteXDGDataHome() {
        #expect(StoreLocation.resolve(explicit: nil, environment: Environment(["XDG_DATA_HOME": "/d", "HOME": "/h"]))
            == "/d/mira/mira.db")
        #expect(StoreLocation.resolve(explicit: nil, environment: Environment(["XDG_DATA_HOME": "d", "HOME": "/h"]))
            == "/h/.local/share/mira/mira.db")
    }

    @Test func nothingWithoutHome() {
        #expect(StoreLocation.resolve(explicit: nil, environment: Environment([:])) == nil)
    }
}

@Suite struct ImportReading {
    // The shipped reader: blank lines skipped, errors name their line, --session wins.
    @Test func errorsNameTheirLineAndSessionOverridesTheLine() throws {
        let db = TemporaryDatabase()
        defer { db.remove() }
        let store = try db.open()
        let good = #"{"session":"a","role":"user","content":"hi"}"#
        #expect(try importLines(store, [good, "", "  ", good], session: "b") == 2)
        #expect(try store.load(session: "b", last: 10).count == 2)
        #expect(try store.load(session: "a", last: 10).isEmpty)
        #expect { try importLines(store, [good, "", "not json"]) } throws: {
            ($0 as? StageError)?.code == .badJSON && ($0 as? StageError)?.message.hasPrefix("line 3: not JSON") == true
        }
        #expect { try importLines(store, [#"{"session":"a","role":"user","content":"x","mood":"calm"}"#]) } throws: {
            ($0 as? StageError)?.message.hasPrefix("line 1: message is a user message") == true
        }
    }
}
