import Foundation
import Testing

/// A server that fails in every way we know, scripted request by request:
/// each fault has one defined outcome, stdout never holds a partial line, and
/// the database never holds half a turn.
@Suite struct FaultTests {
    struct Fault: CustomTestStringConvertible, Sendable {
        var behaviour: String
        var flags: String
        /// nil: retried and recovered; else the error code the record must carry.
        var code: String?
        var status: Int32
        var requests: Int?
        var testDescription: String { "\(behaviour) \(flags)" }
    }

    static let faults: [Fault] = [
        Fault(behaviour: "429,normal", flags: "", code: nil, status: 0, requests: 2),
        Fault(behaviour: "500,normal", flags: "", code: nil, status: 0, requests: 2),
        Fault(behaviour: "502,503,normal", flags: "", code: nil, status: 0, requests: 3),
        Fault(behaviour: "503", flags: "--retries 2", code: "gave_up", status: 75, requests: 3),
        Fault(behaviour: "reset,normal", flags: "", code: nil, status: 0, requests: 2),
        Fault(behaviour: "reset", flags: "--retries 1", code: "gave_up", status: 75, requests: 2),
        Fault(behaviour: "stall", flags: "--timeout 1 --retries 0", code: "timeout", status: 75, requests: 1),
        Fault(behaviour: "sse-cut,normal", flags: "--stream", code: nil, status: 0, requests: 2),
        Fault(behaviour: "sse-cut", flags: "--stream --retries 1", code: "gave_up", status: 75, requests: 2),
        Fault(behaviour: "not-json", flags: "", code: "bad_response", status: 76, requests: 1),
        Fault(behaviour: "plain-always", flags: "", code: "invalid_reply", status: 76, requests: 2),
        Fault(behaviour: "bad-args", flags: "", code: "invalid_reply", status: 76, requests: 1),
        Fault(behaviour: "huge", flags: "", code: "reply_too_large", status: 76, requests: 1),
        Fault(behaviour: "401", flags: "", code: "rejected_key", status: 77, requests: 1),
    ]

    @Test(arguments: faults)
    func eachFaultHasItsDefinedOutcome(_ fault: Fault) throws {
        let world = try World(behaviour: fault.behaviour)
        let llm = try world.sh("mira-store load s1 | mira-prompt 'hi there' | mira-llm \(fault.flags) > out.jsonl")
        // mira-llm's status counts failed records; save's names the cause.
        #expect(llm.status == (fault.code == nil ? 0 : 1), "\(llm.stderr)")
        let out = try world.sh("cat out.jsonl")
        #expect(out.stdout.hasSuffix("\n") && out.stdoutLines.count == 1, "not one whole line: \(out.stdout.prefix(200))")
        let record = try #require(try out.records().first)
        let save = try world.sh("mira-store save s1 < out.jsonl")
        if let code = fault.code {
            #expect((record["error"] as? [String: Any])?["code"] as? String == code)
            // One error line (after any reply text --stream showed before the cut).
            let errors = llm.stderr.split(separator: "\n").filter { $0.hasPrefix("mira-llm: ") }
            #expect(errors.count == 1 && llm.stderr.split(separator: "\n").last?.hasPrefix("mira-llm: line 1: ") == true,
                    "one error line on stderr: \(llm.stderr)")
            #expect(save.status == fault.status)
            #expect(try world.exported("s1").isEmpty)
        } else {
            #expect(record["reply"] != nil)
            #expect(save.status == 0, "\(save.stderr)")
            #expect(try world.exported("s1").count == 2)
        }
        if let requests = fault.requests { #expect(try world.requests().count == requests) }
        #expect(try world.halfTurns("s1").isEmpty)
    }

    @Test func aRefusedConnectionIsUnreachable() throws {
        let world = try World()
        let result = try world.sh("mira-prompt hi | mira-llm --retries 1 --base-url http://127.0.0.1:9/v1")
        #expect(result.status == 1)
        #expect((try result.records().first?["error"] as? [String: Any])?["code"] as? String == "unreachable")
        #expect(result.stderr.hasPrefix("mira-llm: line 1: gave up after 2 attempts: the server at http://127.0.0.1:9/v1 is not answering"), "\(result.stderr)")
    }
}
