import Testing
@testable import MiraShared

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
