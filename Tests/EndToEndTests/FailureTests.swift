import Foundation
import Testing

/// Servers that misbehave and input that is wrong: each gets its defined outcome.
@Suite struct FailureTests {
    @Test func aServerThatIgnoresTheForcedToolGetsOneJSONSchemaRetry() throws {
        let world = try World(behaviour: "plain")
        let result = try world.sh(turn("s1", "hello"))
        #expect(result.status == 0, "\(result.stderr)")
        let requests = try world.requests()
        try #require(requests.count == 2)
        #expect(requests[0]["tools"] != nil)
        #expect(requests[1]["tools"] == nil)
        #expect((requests[1]["response_format"] as? [String: Any])?["type"] as? String == "json_schema")
        #expect(try world.exported("s1").count == 2)
    }

    @Test func aReplyThatStaysPlainTextIsAnInvalidReplyAndIsNotSaved() throws {
        let world = try World(behaviour: "plain-always")
        let llm = try world.sh("mira-store load s1 | mira-prompt hi | mira-llm > out.jsonl")
        #expect(llm.status == 1)  // mira-llm counts failed records; save names the cause
        #expect(llm.stderr.contains("mira-llm: line 1: "))
        let record = try #require(try world.sh("cat out.jsonl").records().first)
        #expect((record["error"] as? [String: Any])?["code"] as? String == "invalid_reply")
        #expect(record["reply"] == nil)

        let save = try world.sh("mira-store save s1 < out.jsonl")
        #expect(save.status == 76)
        #expect(save.stderr.contains("not saved"))
        #expect(try world.exported("s1").isEmpty)
    }

    @Test func argumentsThatBreakTheSchemaAreRejectedOnTheClient() throws {
        let world = try World(behaviour: "bad-args")
        let result = try world.sh("mira-store load s1 | mira-prompt hi | mira-llm")
        #expect(result.status == 1)
        #expect((try result.records().first?["error"] as? [String: Any])?["code"] as? String == "invalid_reply")
    }

    /// Proves a 429 is retried after its retry-after-ms (50 ms), which wins over its retry-after (1 s).
    @Test func aRateLimitIsWaitedOutAndTheTurnSucceeds() throws {
        let world = try World(behaviour: "429-once")
        let result = try world.sh(turn("s1", "hi", llm: "mira-llm --verbose"))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("(the server asked for 50 ms)"), "\(result.stderr)")
        let gaps = try world.arrivalGaps()
        try #require(gaps.count == 1)
        #expect(gaps[0] >= 0.045 && gaps[0] < 0.9, "waited the 50 ms, not the 1 s: \(gaps)")
        #expect(try world.exported("s1").count == 2)
    }

    @Test func serverErrorsAreRetriedUntilTheRetriesRunOut() throws {
        let world = try World(behaviour: "500-always")
        let result = try world.sh("mira-store load s1 | mira-prompt hi | mira-llm --retries 2")
        #expect(result.status == 1)
        #expect(try world.requests().count == 3)
        let error = try #require(try result.records().first?["error"] as? [String: Any])
        #expect(error["code"] as? String == "gave_up")
        #expect(error["stage"] as? String == "mira-llm")
        #expect((error["message"] as? String)?.contains("gave up after 3 attempts") == true)
    }

    /// Proves `x-should-retry: false` on a 500 stops retries: one request, gave_up, save says 75.
    @Test func aServerErrorThatSaysDoNotRetryIsAskedOnce() throws {
        let world = try World(behaviour: "should-not-retry")
        let result = try world.sh("mira-store load s1 | mira-prompt hi | mira-llm --verbose | mira-store save s1; echo \"llm=${PIPESTATUS[2]} save=${PIPESTATUS[3]}\"")
        #expect(result.stdout == "llm=1 save=75\n", "\(result.stdout)")
        #expect(try world.requests().count == 1)
        #expect(!result.stderr.contains("retrying"), "\(result.stderr)")
        #expect(result.stderr.contains("mira-llm: line 1: server answered 500: The server had an error while processing your request.\n"), "\(result.stderr)")
        #expect(result.stderr.contains("not saved: the turn failed in mira-llm (gave_up)"), "\(result.stderr)")
        #expect(try world.exported("s1").isEmpty)
    }

    @Test func aRejectedKeyIsNotRetriedAndTheKeyIsNeverShown() throws {
        let key = "sk-secret-0123456789abcdef"
        let world = try World(behaviour: "normal", apiKey: "sk-the-right-one")
        // A good turn first, so there is a database to search.
        try #require(try world.sh(turn("s0", "hi")).status == 0)
        let result = try world.sh("mira-store load s1 | mira-prompt hi | mira-llm --verbose | mira-store save s1; echo \"llm=${PIPESTATUS[2]} save=${PIPESTATUS[3]}\"",
                                  extraEnvironment: ["OPENAI_API_KEY": key])
        #expect(result.stdout.contains("llm=1 save=77"))
        #expect(try world.requests().count == 2)
        #expect(!result.stdout.contains(key) && !result.stderr.contains(key))
        // The database must be there to be searched: a missing file is a failure, not a pass.
        let files = try FileManager.default.contentsOfDirectory(atPath: world.dir).filter { $0.hasPrefix("mira.db") }
        try #require(files.contains("mira.db"), "\(files)")
        for file in files {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: world.dir + "/" + file))
            #expect(bytes.range(of: Data(key.utf8)) == nil, "\(file) holds the key")
        }
    }

    @Test func anUnreachableServerFailsTheTurnWithItsOwnCode() throws {
        let world = try World()
        let result = try world.sh("mira-prompt hi | mira-llm --retries 0 --base-url http://127.0.0.1:9/v1")
        #expect(result.status == 1)
        #expect((try result.records().first?["error"] as? [String: Any])?["code"] as? String == "unreachable")
        #expect(result.stderr.hasPrefix("mira-llm: line 1: the server at http://127.0.0.1:9/v1 is not answering (connection refused)"), "\(result.stderr)")
    }

    @Test func aQuotaErrorIsNotRetried() throws {
        let world = try World(behaviour: "quota")
        let result = try world.sh("mira-prompt hi | mira-llm")
        #expect(result.status == 1)
        #expect((try result.records().first?["error"] as? [String: Any])?["code"] as? String == "insufficient_quota")
        #expect(try world.requests().count == 1)
    }

    @Test func aStalledServerTimesOut() throws {
        let world = try World(behaviour: "slow")
        let result = try world.sh("mira-prompt hi | mira-llm --timeout 0.5 --retries 0")
        #expect(result.status == 1)
        #expect((try result.records().first?["error"] as? [String: Any])?["code"] as? String == "timeout")
    }

    @Test func aBodyThatIsNotJSONIsABadResponse() throws {
        let world = try World(behaviour: "not-json")
        let result = try world.sh("mira-prompt hi | mira-llm")
        #expect(result.status == 1)
        #expect(result.stderr.contains("not JSON"))
    }

    @Test func badInputLinesAreNamedAndTheRestGoOn() throws {
        let world = try World()
        let input = "not json\n[1,2]\n{\"mira\":9}\n{\"session\":\"../x\"}\n{\"session\":\"ok\",\"input\":\"fine\"}\n"
        let result = try world.sh("mira-prompt", stdin: input)
        #expect(result.status == 65)
        let errors = result.stderr.split(separator: "\n").map(String.init)
        #expect(errors.count == 4)
        #expect(errors[0].hasPrefix("mira-prompt: line 1: not JSON"))
        #expect(errors[1].hasPrefix("mira-prompt: line 2: a record must be a JSON object"))
        #expect(errors[2].hasPrefix("mira-prompt: line 3: protocol version 9"))
        #expect(errors[3].hasPrefix("mira-prompt: line 4: session id"))
        let records = try result.records()
        #expect(records.count == 5)
        #expect(records.prefix(4).map { ($0["error"] as? [String: Any])?["code"] as? String }
            == ["bad_json", "bad_record", "unsupported_version", "invalid_session"])
        #expect(records[4]["request"] != nil)
    }

    @Test func aFailedRecordPassesThroughLaterStagesAndIsNeverSaved() throws {
        let world = try World()
        let result = try world.sh("printf 'oops\\n' | mira-prompt | mira-llm | mira-store save s1; echo \"statuses=${PIPESTATUS[*]}\"")
        #expect(result.stdout.contains("statuses=0 65 0 65"))
        #expect(result.stderr.contains("mira-store save: line 1: not saved: the turn failed in mira-prompt (bad_json)"))
        #expect(try world.requests().isEmpty)
        #expect(try world.exported("s1").isEmpty)
    }

    @Test func aRecordWithoutAReplyIsNotSaved() throws {
        let world = try World()
        let result = try world.sh("mira-store load s1 | mira-prompt hi | mira-store save s1")
        #expect(result.status == 65)
        #expect(result.stderr.contains("not saved: the record has no reply"))
        #expect(try world.exported("s1").isEmpty)
    }

    @Test func aBadSessionIdIsAUsageError() throws {
        let world = try World()
        let result = try world.sh("mira-store load \"x'; DROP TABLE messages; --\"")
        #expect(result.status == 64)
        #expect(result.stderr.contains("session id"))
    }
}
