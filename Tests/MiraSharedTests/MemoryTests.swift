import Testing
@testable import MiraShared
import MiraTestSupport

@Suite struct RecalledMemories {
    let message = RecalledMemory(kind: .message, id: 42, session: "s1", turn: "t-9", role: "user",
                                 text: "I have a cat called Miso", time: "2026-11-20T10:00:00.000Z", score: 0.8125)

    @Test func aMemoryWritesItsFieldsInOrderAndReadsBackTheSame() throws {
        #expect(JSONWriter.string(message.json)
            == #"{"kind":"message","id":42,"session":"s1","turn":"t-9","role":"user","text":"I have a cat called Miso","time":"2026-11-20T10:00:00.000Z","score":0.8125}"#)
        #expect(try RecalledMemory(json: message.json, what: "m") == message)
    }

    @Test func aFactOrSummaryHasNoTurnOrRole() throws {
        let fact = RecalledMemory(kind: .summary, id: 3, session: "s1", text: "they moved", time: "2026-11-20T10:00:00Z", score: 1)
        #expect(JSONWriter.string(fact.json) == #"{"kind":"summary","id":3,"session":"s1","text":"they moved","time":"2026-11-20T10:00:00Z","score":1.0}"#)
        #expect(try RecalledMemory(json: fact.json, what: "m") == fact)
        #expect(fact.day == "2026-11-20")
    }

    @Test(arguments: [
        ("kind", JSON.string("dream"), #"m.kind must be "message", "fact" or "summary", not "dream""#),
        ("kind", nil, "m has no kind"),
        ("id", "42", "m.id must be a whole number"),
        ("id", .number("4.5"), "m.id must be a whole number"),
        ("id", .number("99999999999999999999"), "m.id must be a whole number"),
        ("session", "../x", #"m.session: session id "../x" must not start with '-' or '.'"#),
        ("turn", 7, "m.turn must be a string, not a number"),
        ("role", "narrator", #"m.role must be "user", "assistant" or "system""#),
        ("text", nil, "m has no text"),
        ("time", "yesterday", #"m.time "yesterday" is not a UTC time like 2026-01-31T12:00:00.000Z"#),
        ("score", "high", "m.score must be a number"),
    ] as [(String, JSON?, String)])
    func aBadFieldIsRefusedByName(_ key: String, _ value: JSON?, _ why: String) throws {
        var o = try #require(message.json.objectValue)
        o[key] = value
        #expect(throws: StageError(.badRecord, why)) { try RecalledMemory(json: .object(o), what: "m") }
    }

    @Test func aRecordCarriesItsMemoriesAndChecksThem() throws {
        var record = Record(session: "s1")
        #expect(try record.memories() == [])
        record.setMemories([message])
        let line = record.line
        #expect(try Record(line: line).memories() == [message])
        record.setMemories([])
        #expect(String(decoding: record.line, as: UTF8.self) == #"{"mira":1,"session":"s1","history":[],"memories":[]}"#)
    }

    @Test func aRecordWithMemoriesOfTheWrongShapeIsABadRecord() {
        for line in [#"{"memories":{}}"#, #"{"memories":[1]}"#, #"{"memories":[{"kind":"fact"}]}"#] {
            #expect(throws: StageError.self) { try Record(line: Array(line.utf8)) }
            do {
                _ = try Record(line: Array(line.utf8))
            } catch {
                #expect(error.code == .badRecord)
            }
        }
        #expect(throws: Never.self) { try Record(line: Array(#"{"memories":null}"#.utf8)) }
    }
}
