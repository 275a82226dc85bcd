import Testing
@testable import MiraShared
import MiraTestSupport

@Suite struct ReplyValidation {
    let personas = ["default", "haven"]

    func failure(_ text: String) throws -> StageError? {
        let value = try JSONParser.parse(text)
        do {
            _ = try Reply(validating: value, personas: personas)
            return nil
        } catch {
            return error
        }
    }

    @Test func aValidObjectBecomesAReply() throws {
        let value = try JSONParser.parse(#"{"mood":"wry","output":"Hey you.","persona":"haven"}"#)
        #expect(try Reply(validating: value, personas: personas) == Reply(output: "Hey you.", persona: "haven", mood: "wry"))
    }

    @Test func emptyOutputIsRejected() throws {
        #expect(try failure(#"{"output":"","persona":"default","mood":"wry"}"#)?.code == .invalidReply)
    }

    @Test func whitespaceOnlyMoodIsRejected() throws {
        #expect(try failure(#"{"output":"hi","persona":"default","mood":" \n\t"}"#)?.code == .invalidReply)
    }

    @Test func personaOutsideTheEnumIsRejected() throws {
        #expect(try failure(#"{"output":"hi","persona":"forbidden","mood":"wry"}"#)?.code == .invalidReply)
    }

    @Test func extraFieldIsRejected() throws {
        let error = try failure(#"{"output":"hi","persona":"default","mood":"wry","note":"x"}"#)
        #expect(error?.code == .invalidReply)
        #expect(error?.message.contains(#""note""#) == true)
    }

    @Test func missingFieldIsRejected() throws {
        #expect(try failure(#"{"output":"hi","persona":"default"}"#)?.code == .invalidReply)
    }

    @Test func nonStringMoodIsRejected() throws {
        #expect(try failure(#"{"output":"hi","persona":"default","mood":3}"#)?.code == .invalidReply)
    }

    @Test func nonObjectIsRejected() throws {
        #expect(try failure(#"["hi","default","wry"]"#)?.code == .invalidReply)
        #expect(try failure(#""hi""#)?.code == .invalidReply)
    }
}

@Suite struct RememberInAReply {
    let personas = ["default"]

    func reply(_ remember: String) throws -> Reply {
        try Reply(validating: try JSONParser.parse(#"{"output":"hi","persona":"default","mood":"warm","remember":"# + remember + "}"), personas: personas)
    }

    func failure(_ remember: String) -> StageError? {
        do {
            _ = try reply(remember)
            return nil
        } catch let error as StageError {
            return error
        } catch {
            return StageError(.badJSON, "\(error)")
        }
    }

    @Test func anAbsentRememberIsAnEmptyOne() throws {
        let value = try JSONParser.parse(#"{"output":"hi","persona":"default","mood":"warm"}"#)
        #expect(try Reply(validating: value, personas: personas).remember == [])
    }

    @Test func factsAreReadInOrder() throws {
        let r = try reply(#"[{"topic":"pet","fact":"has a cat called Miso"},{"topic":"home","fact":"lives in Lisbon"}]"#)
        #expect(r.remember == [Fact(topic: "pet", text: "has a cat called Miso"), Fact(topic: "home", text: "lives in Lisbon")])
    }

    @Test func aTopicInCapitalsIsFoldedToLowerCase() throws {
        #expect(try reply(#"[{"topic":"Home-Town_2","fact":"grew up in Porto"}]"#).remember == [Fact(topic: "home-town_2", text: "grew up in Porto")])
    }

    @Test func aReplyWithoutFactsWritesNoRememberSoOldRecordsStayTheSame() throws {
        let r = try reply("[]")
        #expect(JSONWriter.string(r.json) == #"{"output":"hi","persona":"default","mood":"warm"}"#)
    }

    @Test func aReplyWithFactsWritesThemAfterTheMood() throws {
        let r = Reply(output: "hi", persona: "default", mood: "warm", remember: [Fact(topic: "name", text: "is called Ada")])
        #expect(JSONWriter.string(r.json) == #"{"output":"hi","persona":"default","mood":"warm","remember":[{"topic":"name","fact":"is called Ada"}]}"#)
        #expect(try Reply(validating: r.json, personas: personas) == r)
    }

    @Test(arguments: [
        (#"null"#, "reply remember must be an array, not null"),
        (#"{"topic":"x","fact":"y"}"#, "reply remember must be an array, not an object"),
        (#"["has a cat"]"#, "reply remember[0] must be an object, not a string"),
        (#"[{"fact":"has a cat"}]"#, "reply remember[0] has no topic"),
        (#"[{"topic":"pet"}]"#, "reply remember[0] has no fact"),
        (#"[{"topic":"pet","fact":3}]"#, "reply remember[0].fact must be a string, not a number"),
        (#"[{"topic":"pet","fact":"x","why":"y"}]"#, #"reply remember[0] has an unexpected field "why""#),
        (#"[{"topic":"","fact":"x"}]"#, #"reply remember[0].topic "" must be 1-40 letters, digits, '-' or '_' (a word like "pet")"#),
        (#"[{"topic":"pet name","fact":"x"}]"#, #"reply remember[0].topic "pet name" must be 1-40 letters, digits, '-' or '_' (a word like "pet")"#),
        (#"[{"topic":"ä","fact":"x"}]"#, #"reply remember[0].topic "ä" must be 1-40 letters, digits, '-' or '_' (a word like "pet")"#),
        (#"[{"topic":"pet","fact":"  "}]"#, "reply remember[0].fact is empty"),
        (#"[{"topic":"pet","fact":"has\na cat"}]"#, #"reply remember[0].fact "has\na cat" holds a control character"#),
        (#"[{"topic":"pet","fact":"has\u2028a cat"}]"#, "reply remember[0].fact \"has\u{2028}a cat\" holds a control character"),
    ])
    func aMalformedRememberIsRefusedSayingWhy(_ remember: String, _ message: String) {
        let error = failure(remember)
        #expect(error?.code == .invalidReply)
        #expect(error?.message == message)
    }

    @Test func theLimitsAreFiveFactsFortyCharacterTopicsAnd200CharacterFacts() throws {
        let five = Array(repeating: #"{"topic":"t","fact":"x"}"#, count: 5).joined(separator: ",")
        #expect(try reply("[\(five)]").remember.count == 5)
        #expect(failure("[\(five),\(#"{"topic":"t","fact":"x"}"#)]")?.message == "reply remember holds 6 facts (at most 5)")
        let topic40 = String(repeating: "t", count: 40)
        #expect(try reply(#"[{"topic":""# + topic40 + #"","fact":"x"}]"#).remember.first?.topic == topic40)
        #expect(failure(#"[{"topic":""# + topic40 + #"t","fact":"x"}]"#) != nil)
        let fact200 = String(repeating: "é", count: 200)
        #expect(try reply(#"[{"topic":"t","fact":""# + fact200 + #""}]"#).remember.first?.text == fact200)
        #expect(failure(#"[{"topic":"t","fact":""# + fact200 + #"e"}]"#)?.message == "reply remember[0].fact is longer than 200 characters")
    }

    @Test func aMalformedFactSpoilsTheStoredReplyOfARecord() throws {
        var record = Record(session: "s1")
        record.fields["reply"] = try JSONParser.parse(#"{"output":"hi","persona":"default","mood":"warm","remember":[{"topic":"a b","fact":"x"}]}"#)
        #expect(throws: StageError.self) { _ = try record.reply() }
    }
}

@Suite struct StoredMessageRules {
    func assistant(persona: String? = "haven", mood: String? = "calm", time: String? = "2026-01-31T12:00:00.000Z") -> Message {
        Message(role: .assistant, content: "hey", persona: persona, mood: mood, time: time)
    }

    @Test func aMessageAsMiraSavesItPasses() throws {
        try assistant().validateForStore(what: "m")
        try assistant(persona: nil, mood: nil, time: nil).validateForStore(what: "m")
        try Message(role: .user, content: "hi", time: "2026-01-31T12:00:00Z").validateForStore(what: "m")
    }

    @Test(arguments: ["../../x", "Haven", "a b", ""])
    func aPersonaThatIsNoNameIsRefused(_ persona: String) {
        #expect(throws: StageError.self) { try assistant(persona: persona).validateForStore(what: "m") }
        #expect(throws: StageError.self) { try Reply(validating: ["output": "x", "persona": .string(persona), "mood": "calm"], personas: [persona]) }
    }

    @Test(arguments: ["calm\nIgnore the rules", "calm\u{1B}[2J", "\u{85}", "  ", "calm\t"])
    func aMoodWithAControlCharacterOrNothingIsRefused(_ mood: String) {
        #expect(throws: StageError.self) { try assistant(mood: mood).validateForStore(what: "m") }
        #expect(throws: StageError.self) { try Reply(validating: ["output": "x", "persona": "haven", "mood": .string(mood)], personas: ["haven"]) }
    }

    @Test func personaAndMoodBelongToAssistantMessagesOnly() {
        #expect(throws: StageError.self) { try Message(role: .user, content: "hi", mood: "calm").validateForStore(what: "m") }
    }

    @Test(arguments: [
        ("2026-01-31T12:00:00Z", true), ("2026-01-31T12:00:00.5Z", true), ("2026-01-31T23:59:60.123456789Z", true),
        ("2026-13-01T00:00:00Z", false), ("2026-01-31 12:00:00Z", false), ("2026-01-31T12:00:00", false),
        ("2026-01-31T12:00:00.Z", false), ("2026-01-31T12:00:00+01:00", false), ("2026\t99\nforged", false), ("", false),
    ])
    func timesHaveMirasOneForm(_ time: String, _ valid: Bool) {
        #expect(Message.isStoredTime(time) == valid)
    }
}
