import Testing
@testable import MiraPrompt
import MiraShared
import MiraSystem
import MiraTestSupport

@Suite struct TurnPreparation {
    let preparer = TurnPreparer(registry: PersonaRegistry(), settings: PromptSettings(model: "m"))

    func lastUserMessage(_ record: Record) -> String? {
        record.request?["messages"]?.arrayValue?.last?["content"]?.stringValue
    }

    @Test func theMessageArgumentWinsOverTheRecordsInput() throws {
        var record = Record(session: "s")
        record.input = "from record"
        try preparer.prepare(&record, message: "from argument")
        #expect(record.input == "from argument")
        #expect(lastUserMessage(record) == "from argument")
    }

    @Test func theRecordsInputIsUsedWhenThereIsNoMessage() throws {
        var record = Record(session: "s")
        record.input = "from record"
        try preparer.prepare(&record, message: nil)
        #expect(lastUserMessage(record) == "from record")
    }

    @Test func noInputAtAllIsNoInput() {
        var record = Record(session: "s")
        #expect { try preparer.prepare(&record, message: nil) } throws: { ($0 as? StageError)?.code == .noInput }
        #expect(record.request == nil)
    }

    @Test func aBlankMessageIsNoInput() {
        var record = Record(session: "s")
        #expect { try preparer.prepare(&record, message: "  \n") } throws: { ($0 as? StageError)?.code == .noInput }
    }

    @Test func aTurnIDIsAddedWhenAbsent() throws {
        var record = Record(session: "s")
        try preparer.prepare(&record, message: "hi")
        #expect(record.turn?.utf8.count == 36)
    }

    @Test func aGivenTurnIDIsKept() throws {
        var record = Record(session: "s")
        record.turn = "my-turn-1"
        try preparer.prepare(&record, message: "hi")
        #expect(record.turn == "my-turn-1")
    }

    @Test func aForcedPersonaIsRecordedAndRestrictsTheRequest() throws {
        var forcing = preparer
        forcing.forcedPersona = "hallow"
        var record = Record(session: "s")
        try forcing.prepare(&record, message: "hi")
        #expect(record.persona == "hallow")
        #expect(ReplyContract.personaEnum(in: record.request) == ["hallow"])
    }

    @Test func theRecordsOwnPersonaIsForcedWhenTheCommandForcesNone() throws {
        var record = Record(session: "s")
        record.persona = "haven"
        try preparer.prepare(&record, message: "hi")
        #expect(ReplyContract.personaEnum(in: record.request) == ["haven"])
    }

    @Test func withoutAForcedPersonaTheRecordNamesNone() throws {
        var record = Record(session: "s")
        try preparer.prepare(&record, message: "hi")
        #expect(record.persona == nil)
        #expect(ReplyContract.personaEnum(in: record.request) == builtinNames)
    }

    @Test func historyFromTheRecordGoesIntoTheRequest() throws {
        var record = Record(session: "s", history: [Message(role: .user, content: "earlier")])
        try preparer.prepare(&record, message: "now")
        #expect(record.request?["messages"]?.arrayValue?.count == 3)
        #expect(record.request?["messages"]?.arrayValue?[1]["content"] == "earlier")
    }
}
