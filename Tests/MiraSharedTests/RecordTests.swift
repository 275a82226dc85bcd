import Testing
@testable import MiraShared
import MiraTestSupport

@Suite struct RecordParsing {
    func failure(_ line: String) -> StageError? {
        do {
            _ = try Record(line: Array(line.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test func unknownFieldsSurviveSettingAReplyInTheirOriginalOrder() throws {
        let line = #"{"zeta":{"k":[1,2.50]},"mira":1,"session":"s1","extra":"x","history":[]}"#
        var record = try Record(line: Array(line.utf8))
        record.setReply(Reply(output: "hi", persona: "default", mood: "warm"))
        let written = String(decoding: record.line, as: UTF8.self)
        #expect(written == #"{"zeta":{"k":[1,2.50]},"mira":1,"session":"s1","extra":"x","history":[],"reply":{"output":"hi","persona":"default","mood":"warm"}}"#)
    }

    @Test func aFreshRecordCarriesTheVersionSessionAndHistory() {
        let record = Record(session: "abc", history: [Message(role: .user, content: "hey")])
        #expect(String(decoding: record.line, as: UTF8.self)
            == #"{"mira":1,"session":"abc","history":[{"role":"user","content":"hey"}]}"#)
    }

    @Test func historyMessagesAreReadWithTheirPersonaAndMood() throws {
        let line = #"{"history":[{"role":"assistant","content":"yo","persona":"haven","mood":"calm"}]}"#
        let history = try Record(line: Array(line.utf8)).history()
        #expect(history == [Message(role: .assistant, content: "yo", persona: "haven", mood: "calm")])
    }

    @Test func sessionThatIsANumberIsABadRecord() {
        #expect(failure(#"{"session":5}"#)?.code == .badRecord)
    }

    @Test func historyThatIsNotAnArrayIsABadRecord() {
        #expect(failure(#"{"history":{"role":"user"}}"#)?.code == .badRecord)
    }

    @Test func historyItemWithoutContentIsABadRecord() {
        #expect(failure(#"{"history":[{"role":"user"}]}"#)?.code == .badRecord)
    }

    @Test func historyItemWithAnUnknownRoleIsABadRecord() {
        #expect(failure(#"{"history":[{"role":"robot","content":"x"}]}"#)?.code == .badRecord)
    }

    @Test func requestThatIsNotAnObjectIsABadRecord() {
        #expect(failure(#"{"request":"POST"}"#)?.code == .badRecord)
    }

    @Test func aLineThatIsNotAnObjectIsABadRecord() {
        #expect(failure("[1,2]")?.code == .badRecord)
    }

    @Test func anotherProtocolVersionIsUnsupported() {
        #expect(failure(#"{"mira":2}"#)?.code == .unsupportedVersion)
    }

    @Test func sessionWithPathCharactersIsAnInvalidSession() {
        #expect(failure(#"{"session":"../etc"}"#)?.code == .invalidSession)
    }

    @Test func personaWithPathCharactersIsAnInvalidPersona() {
        #expect(failure(#"{"persona":"../x"}"#)?.code == .invalidPersona)
    }

    @Test func textThatIsNotJSONIsBadJSON() {
        let error = failure("hello there")
        #expect(error?.code == .badJSON)
        #expect(error?.message.contains("at byte 1") == true)
    }

    @Test func nullFieldsCountAsAbsent() throws {
        let record = try Record(line: Array(#"{"session":null,"history":null,"reply":null}"#.utf8))
        #expect(record.session == nil)
        #expect(try record.history() == [])
        #expect(try record.reply() == nil)
    }

    @Test func replyIsCheckedAgainstTheRequestsPersonaEnum() throws {
        var request: JSONObject = ["model": "m"]
        ReplyContract.applyTools(to: &request, schema: ReplyContract.replySchema(personas: ["haven"]))
        var record = Record(session: "s")
        record.request = request
        record.setReply(Reply(output: "hello", persona: "default", mood: "warm"))
        #expect(throws: StageError.self) { try record.reply() }
    }

    @Test func failingARecordSetsItsErrorWithStageAndCode() {
        var record = Record(session: "s")
        record.fail(StageError(.timeout, "slow"), stage: "mira-llm")
        #expect(record.hasError)
        #expect(record.error?["stage"] == "mira-llm")
        #expect(record.error?["code"] == "timeout")
        #expect(record.error?["message"] == "slow")
    }
}

