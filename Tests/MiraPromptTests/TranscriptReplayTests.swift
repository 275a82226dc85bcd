#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Testing
@testable import MiraPrompt
import MiraShared
import MiraSystem
import MiraTestSupport

@Suite struct TranscriptReplaying {
    let preparer = TurnPreparer(registry: PersonaRegistry(), settings: PromptSettings(model: "m"))

    /// Replays `input` and returns the output lines parsed, and the status.
    func replay(_ lines: String..., preparer: TurnPreparer? = nil) throws -> (records: [JSON], status: Sysexit) {
        let readEnd = pipeHolding(Array(lines.map { $0 + "\n" }.joined().utf8))
        defer { close(readEnd) }
        let output = OutputPipe()
        var reader = LineReader(fd: readEnd)
        var replay = TranscriptReplay(preparer: preparer ?? self.preparer, stageName: "mira-prompt", diagnostics: .discard)
        replay.run(reader: &reader, writer: output.writer)
        return (try output.collect().map { try json($0) }, replay.status)
    }

    static let conversation = #"""
        {"id":"t1","messages":[{"role":"system","content":"be kind"},{"role":"user","content":"hi"},{"role":"assistant","content":"hey","persona":"haven","mood":"tender"},{"role":"user","content":"bye"}],"label":"x"}
        """#

    func roles(_ record: JSON) -> [String] {
        record["history"]?.arrayValue?.compactMap { $0["role"]?.stringValue } ?? []
    }

    @Test func eachUserMessageBecomesATurnWithEverythingBeforeItAsHistory() throws {
        let result = try replay(Self.conversation)
        try #require(result.records.count == 2)
        #expect(result.records.map { $0["turn"] } == ["t1:1", "t1:2"])
        #expect(result.records.map { $0["input"] } == ["hi", "bye"])
        #expect(roles(result.records[0]) == ["system"])
        #expect(roles(result.records[1]) == ["system", "user", "assistant"])
        #expect(result.records[1]["history"]?.arrayValue?[2] == ["role": "assistant", "content": "hey", "persona": "haven", "mood": "tender"])
        #expect(result.status == .ok)
    }

    @Test func turnRecordsCarryTheTranscriptsIdAndOtherFieldsButNotItsMessages() throws {
        let record = try #require(try replay(Self.conversation).records.first?.objectValue)
        #expect(record.keys == ["mira", "id", "turn", "history", "input", "label", "request"])
        #expect(record["id"] == "t1")
        #expect(record["label"] == "x")
    }

    @Test func theRequestIsTheOneMiraPromptBuildsForTheSameTurn() throws {
        let replayed = try #require(try replay(Self.conversation).records.last)
        var record = Record()
        record.fields["history"] = replayed["history"]
        try preparer.prepare(&record, message: "bye")
        #expect(replayed["request"] == .object(record.request!))
    }

    @Test func turnIDsAreTheSameOnEveryRun() throws {
        #expect(try replay(Self.conversation).records == replay(Self.conversation).records)
    }

    @Test func aTranscriptWithoutAnIDIsNamedForItsLine() throws {
        let result = try replay("", #"{"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(result.records.first?["turn"] == "line-2:1")
        #expect(result.records.first?["id"] == "line-2")
    }

    @Test func aNumericIDStaysANumber() throws {
        let record = try #require(try replay(#"{"id":7,"messages":[{"role":"user","content":"hi"}]}"#).records.first)
        #expect(record["id"] == 7)
        #expect(record["turn"] == "7:1")
    }

    @Test func aUserMessagesOwnExpectWinsOverTheTranscripts() throws {
        let result = try replay(#"""
            {"id":"t","expect":{"persona":"haven"},"messages":[{"role":"user","content":"a"},{"role":"user","content":"b","expect":{"mood":["calm","soft"]}}]}
            """#)
        #expect(result.records.map { $0["expect"] } == [["persona": "haven"], ["mood": ["calm", "soft"]]])
    }

    @Test func anExpectArrayAlignsWithTheUserMessagesAndNullMeansNone() throws {
        let result = try replay(#"""
            {"id":"t","expect":[null,{"persona":"hallow"}],"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"r","persona":"default","mood":"m"},{"role":"user","content":"b"}]}
            """#)
        #expect(result.records.map { $0["expect"] } == [nil, ["persona": "hallow"]])
    }

    @Test func anExpectArrayOfTheWrongLengthIsRefused() throws {
        let result = try replay(#"{"id":"t","expect":[{}],"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}"#)
        try #require(result.records.count == 1)
        #expect(result.records[0]["error"]?["code"] == "bad_record")
        #expect(result.status == .badInput)
    }

    @Test func aTranscriptWithNoUserMessageIsNoInput() throws {
        let result = try replay(#"{"id":"t","messages":[{"role":"assistant","content":"hello","persona":"default","mood":"m"}]}"#)
        try #require(result.records.count == 1)
        #expect(result.records[0]["error"]?["code"] == "no_input")
        #expect(result.records[0]["id"] == "t")
        #expect(result.status == .badInput)
    }

    @Test func anIDTooLongForTurnIDsIsRefusedAndTheRunGoesOn() throws {
        let long = String(repeating: "x", count: Identifiers.maxTurnLength)
        let result = try replay(#"{"id":"\#(long)","messages":[{"role":"user","content":"a"}]}"#, Self.conversation)
        #expect(result.records.count == 3)
        #expect(result.records[0]["error"]?["code"] == "bad_record")
        #expect(result.records[1]["turn"] == "t1:1")
        #expect(result.status == .badInput)
    }

    @Test func aRepeatedIDIsRefusedSoTurnIDsNeverRepeat() throws {
        let result = try replay(Self.conversation, Self.conversation)
        #expect(result.records.count == 3)
        #expect(result.records[2]["error"]?["code"] == "bad_record")
    }

    @Test func aTranscriptCarryingTurnOrHistoryIsRefused() throws {
        let result = try replay(#"{"id":"t","turn":"x","messages":[{"role":"user","content":"a"}]}"#)
        #expect(result.records.first?["error"]?["code"] == "bad_record")
    }

    @Test func exportedLinesOfOneSessionFormOneTranscript() throws {
        let result = try replay(
            #"{"session":"s1","turn":"u1","role":"user","content":"hi","time":"2026-01-01T00:00:00.000Z"}"#,
            #"{"session":"s1","turn":"u1","role":"assistant","content":"hey","persona":"default","mood":"calm","time":"2026-01-01T00:00:01.000Z"}"#,
            #"{"session":"s1","turn":"u2","role":"user","content":"again"}"#,
            #"{"session":"s2","role":"user","content":"other"}"#)
        #expect(result.records.map { $0["turn"] } == ["s1:1", "s1:2", "s2:1"])
        #expect(result.records.map { $0["id"] } == ["s1", "s1", "s2"])
        #expect(roles(result.records[1]) == ["user", "assistant"])
        #expect(result.records[1]["history"]?.arrayValue?[0]["time"] == "2026-01-01T00:00:00.000Z")
        // The replayed turns are not saved into the session they came from.
        #expect(result.records.allSatisfy { $0["session"] == nil })
        #expect(result.status == .ok)
    }

    @Test func aBadLineInsideAnExportedSessionSpoilsThatSessionOnly() throws {
        let result = try replay(
            #"{"session":"s1","role":"user","content":"hi"}"#,
            "{broken",
            #"{"session":"s1","role":"user","content":"again"}"#,
            #"{"session":"s2","role":"user","content":"other"}"#)
        #expect(result.records.map { $0["error"]?["code"] } == ["bad_json", "bad_record", nil])
        #expect(result.records[1]["id"] == "s1")
        #expect(result.records[2]["turn"] == "s2:1")
        #expect(result.status == .badInput)
    }

    @Test func aLineFailedUpstreamPassesThroughUntouched() throws {
        let line = #"{"id":"t","error":{"stage":"x","code":"timeout","message":"m"}}"#
        let result = try replay(line)
        #expect(result.records == [try json(line)])
        #expect(result.status == .ok)
    }

    @Test func aForcedPersonaAppliesToEveryReplayedTurn() throws {
        var forcing = preparer
        forcing.forcedPersona = "haven"
        let result = try replay(Self.conversation, preparer: forcing)
        #expect(result.records.map { ReplyContract.personaEnum(in: $0["request"]?.objectValue) } == [["haven"], ["haven"]])
    }

    @Test func aLineThatIsNeitherShapeIsABadRecord() throws {
        let result = try replay(#"{"input":"hi"}"#)
        #expect(result.records.first?["error"]?["code"] == "bad_record")
    }
}
