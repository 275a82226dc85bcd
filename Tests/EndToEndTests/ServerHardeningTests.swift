import Foundation
import Testing

/// Hostile servers, odd options and odd messages, through the built tools.
@Suite struct ServerHardeningTests {
    func errorCode(_ outcome: Outcome) throws -> String? {
        (try outcome.records().first?["error"] as? [String: Any])?["code"] as? String
    }

    /// Proves a 429's wait (header names in mixed case, on CRLF lines) is
    /// read and really waited: retry-after-ms first, else Retry-After seconds.
    @Test(arguments: [("retry-after-ms:1500", 1500), ("retry-after:1", 1000)])
    func aRetryAfterOnRealCRLFHeadersIsWaitedFor(behaviour: String, asked: Int) throws {
        let world = try World(behaviour: behaviour + ",normal")
        let result = try world.sh("mira-prompt hi | mira-llm --verbose")
        #expect(result.status == 0, "\(result.stderr)")
        // The wait the client chose, from the server's header: what it asked,
        // and at most a tenth more to spread a batch's workers out…
        #expect(result.stderr.contains("server answered 429: Rate limit reached; retrying in"), "\(result.stderr)")
        #expect(result.stderr.contains("(the server asked for \(asked) ms)"), "\(result.stderr)")
        let chosen = try #require(result.stderr.firstMatch(of: /retrying in (\d+) ms/).flatMap { Int($0.1) })
        #expect(chosen >= asked && chosen <= asked + asked / 10, "\(result.stderr)")
        // …and the wait the server saw (a backoff would be 375-500 ms).
        let gaps = try world.arrivalGaps()
        try #require(gaps.count == 1, "\(gaps)")
        #expect(gaps[0] >= Double(asked) / 1000 - 0.05 && gaps[0] < 5, "\(gaps)")
    }

    @Test func aHostileRetryAfterDateCrashesNothing() throws {
        let world = try World(behaviour: "hostile-date")
        let ok = try world.sh("mira-prompt hi | mira-llm")
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try ok.records().first?["reply"] != nil)
        try world.setBehaviour("hostile-date-429,normal")
        let retried = try world.sh("mira-prompt hi | mira-llm")
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(try world.requests().count == 3)
    }

    @Test func hugeNumbersFromTheServerOrARecordLoseNoLine() throws {
        let world = try World(behaviour: "huge-usage")
        let batch = try world.sh("""
            for i in 1 2 3; do printf '{"input":"m%s"}\\n' $i; done | mira-prompt > turns.jsonl
            mira-prompt --max-tokens 9223372036854775807 big >> turns.jsonl
            mira-llm -j 4 < turns.jsonl
            """)
        #expect(batch.status == 0, "\(batch.stderr)")
        #expect(try batch.records().count == 4)
        #expect(batch.stderr.contains("4 records"), "\(batch.stderr)")
    }

    @Test func mirasEvalReportsHugeUsageWithoutTrapping() throws {
        let world = try World()
        let line = #"{"turn":"TURN","reply":{"output":"hi","persona":"default","mood":"calm"},"usage":{"prompt_tokens":9000000000000000000,"completion_tokens":9223372036854775807}}"#
        let result = try world.sh("""
            printf '%s\\n%s\\n' '\(line.replacingOccurrences(of: "TURN", with: "a"))' '\(line.replacingOccurrences(of: "TURN", with: "b"))' > r.jsonl
            mira-eval --price-in 2.5 --price-out 8 --json r.jsonl
            """)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try result.records().first)
        #expect((report["tokens"] as? [String: Any])?["in"] as? Int == Int.max)
        #expect(try world.sh("mira-eval --price-in 1e300 r.jsonl").status == 64)
    }

    @Test func timeoutsOutOfRangeAreUsageErrors() throws {
        let world = try World()
        for value in ["0.0004", "0", "inf", "nan", "1e300", "1e16", "-1"] {
            let result = try world.sh("mira-prompt hi | mira-llm --timeout \(value)")
            #expect(result.status == 64, "--timeout \(value): \(result.stderr)")
        }
        // 1 ms is accepted and enforced: against a server that takes 300 ms
        // the turn times out (an instant server could answer within 1 ms).
        try world.setBehaviour("delay:300")
        let short = try world.sh("mira-prompt hi | mira-llm --timeout 0.001 --retries 0")
        #expect(short.status == 1, "\(short.stderr)")
        #expect(short.stderr.contains("no complete answer within 1 ms"), "\(short.stderr)")
        try world.setBehaviour("normal")
        #expect(try world.sh("mira-prompt hi | mira-llm --timeout 5").status == 0)
        for value in ["nan", "inf", "-0.5", "2.5"] {
            #expect(try world.sh("mira-prompt --temperature \(value) hi").status == 64, "--temperature \(value)")
        }
    }

    @Test func aKeyWithALineBreakIsRefusedBeforeItCanForgeAHeader() throws {
        let world = try World()
        // From a file, not a pipe: mira-llm stops before reading, and a
        // writer upstream would add its own closed-pipe line to stderr.
        let result = try world.sh("mira-prompt hi > turn.jsonl; OPENAI_API_KEY=$'sk-abc\\r\\nX-Forged: 1' mira-llm < turn.jsonl")
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr == "mira-llm: OPENAI_API_KEY holds a control character (a line break?): fix the variable\n")
        #expect(try world.requests().isEmpty)
    }

    @Test func aMessageFilesCRLFEndingIsNotPartOfTheMessage() throws {
        let world = try World()
        let result = try world.sh("printf 'rough day\\r\\n' > m.txt; mira-prompt --message-file m.txt")
        #expect(try result.records().first?["input"] as? String == "rough day")
    }

    @Test func everyOptionThatTakesAValueKeepsItWhateverItLooksLike() throws {
        // MessageArguments has its own list of mira-prompt's options: one
        // missing there would have its value sent as the message instead.
        let world = try World()
        let help = try world.sh("mira-prompt --help").stdout
        let options = help.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            guard let first = words.first, first.hasPrefix("--"), words.count > 1, words[1].hasPrefix("<") else { return nil }
            return String(first)
        }
        #expect(options.count >= 8, "\(help)")
        for option in options {
            let result = try world.sh("mira-prompt \(option) -1 hi < /dev/null")
            #expect(!result.stderr.contains("Missing value"), "\(option): \(result.stderr)")
        }
    }

    @Test func escapeSequencesFromTheModelAreShownHarmlesslyOnATerminalAndStoredExactly() throws {
        let world = try World(behaviour: "escape-reply")
        let pipeline = "mira-store load s1 | mira-prompt hi | mira-llm | mira-store save s1 --format text"
        let shown = try world.sh("script -qec \(shellQuote(pipeline)) /dev/null")
        #expect(shown.stdout.contains("hi ^[]0;PWNED^G^[[2J there"), "\(shown.stdout)")
        #expect(!shown.stdout.contains("\u{1B}]0;PWNED"))
        let stored = try world.exported("s1")
        #expect(stored.last?["content"] as? String == "hi \u{1B}]0;PWNED\u{07}\u{1B}[2J there")
        // Into a pipe the text goes exactly as the model wrote it.
        let piped = try world.sh("mira-store load s2 | mira-prompt hi | mira-llm | mira-store save s2 --format text")
        #expect(piped.stdout == "hi \u{1B}]0;PWNED\u{07}\u{1B}[2J there\n")
    }

    @Test func aStreamedReplyWithEscapesIsShownHarmlessly() throws {
        let world = try World(behaviour: "escape-reply")
        let shown = try world.sh("script -qec \(shellQuote("mira-prompt hi | mira-llm --stream > out.jsonl")) /dev/null")
        #expect(shown.stdout.contains("^[]0;PWNED^G^[[2J"), "\(shown.stdout)")
        #expect(!shown.stdout.contains("\u{1B}]0;PWNED"))
    }

    @Test func aServerErrorWithEscapesIsShownHarmlesslyOnATerminal() throws {
        let world = try World(behaviour: "escape-error")
        let shown = try world.sh("script -qec \(shellQuote("mira-prompt hi | mira-llm > out.jsonl")) /dev/null")
        #expect(shown.stdout.contains("bad ^[]0;PWNED^G^[[2J request"), "\(shown.stdout)")
        #expect(!shown.stdout.contains("\u{1B}]0;PWNED"))
    }

    @Test func credentialsInTheBaseURLAreNeverShown() throws {
        let world = try World()
        let result = try world.sh("mira-prompt hi | mira-llm --retries 0 --base-url 'http://user:hunter2@127.0.0.1:9/v1?api-key=SECRET'")
        #expect(result.status == 1)
        #expect(result.stderr.contains("the server at http://***@127.0.0.1:9/v1?api-key=*** is not answering"), "\(result.stderr)")
        for secret in ["hunter2", "SECRET", "user:"] {
            #expect(!result.stderr.contains(secret) && !result.stdout.contains(secret), "\(secret) leaked")
        }
    }

    @Test func aRedirectSaysWhereTo() throws {
        let world = try World(behaviour: "redirect")
        let result = try world.sh("mira-prompt hi | mira-llm")
        #expect(try errorCode(result) == "bad_request")
        #expect(result.stderr.contains("307, a redirect to http://127.0.0.1:\(world.port)/moved/v1/chat/completions"), "\(result.stderr)")
    }

    @Test func aStreamedRecordRunsAgainAndGoesIntoABatchFileWithoutStreamFlags() throws {
        let world = try World()
        let first = try world.sh("mira-prompt hi | mira-llm --stream > streamed.jsonl 2>/dev/null; mira-llm < streamed.jsonl")
        #expect(first.status == 0, "\(first.stderr)")
        let again = try #require(try first.records().first)
        #expect((again["request"] as? [String: Any])?["stream"] == nil)
        #expect(try world.requests().last?["stream"] == nil)
        let emitted = try world.sh("mira-llm --emit-batch < streamed.jsonl")
        let body = try #require((try emitted.records().first)?["body"] as? [String: Any])
        #expect(body["stream"] == nil && body["stream_options"] == nil)
    }

    @Test func aMessageStartingWithADashIsSent() throws {
        let world = try World()
        for message in ["-the boss yelled at me", "-5 degrees out", "-"] {
            let result = try world.sh("mira-prompt \(shellQuote(message))")
            #expect(result.status == 0, "\(message): \(result.stderr)")
            #expect(try result.records().first?["input"] as? String == message)
        }
        let withOption = try world.sh("mira-prompt '-x marks' --persona haven")
        #expect(try withOption.records().first?["persona"] as? String == "haven")
        #expect(try world.sh("mira-prompt --help").stdout.contains("USAGE"))
    }

    @Test func replayCarriesTheLivePipelinesWindowByDefault() throws {
        let world = try World()
        let messages = (0..<200).map { k in #"{"role":"\#(k % 2 == 0 ? "user" : "assistant")","content":"m\#(k)"}"# }
        let transcript = #"{"id":"long","messages":[\#(messages.joined(separator: ","))]}"#
        let result = try world.sh("printf '%s\\n' \(shellQuote(transcript)) > t.jsonl; mira-prompt --replay < t.jsonl")
        let records = try result.records()
        #expect(records.count == 100)
        #expect(records.map { ($0["history"] as? [Any])?.count ?? -1 }.max() == 15)
        let all = try world.sh("mira-prompt --replay --last all < t.jsonl").records()
        #expect((all.last?["history"] as? [Any])?.count == 198)
        #expect(try world.sh("mira-prompt --last 3 hi").status == 64)
    }

    @Test func theREADMEsResumeWorkflowCountsEachTurnOnce() throws {
        let world = try World(behaviour: "503,normal")
        let result = try world.sh("""
            for i in 1 2 3; do printf '{"turn":"t%s","input":"m%s"}\\n' $i $i; done | mira-prompt > turns.jsonl
            mira-llm -j 1 --retries 0 < turns.jsonl > out.jsonl
            mira-llm --resume out.jsonl < turns.jsonl >> out.jsonl
            mira-eval --json out.jsonl
            """)
        let report = try #require(try result.records().first)
        #expect(report["records"] as? Int == 3)
        #expect(report["passed"] as? Int == 3)
        #expect(report["superseded"] as? Int == 1)
        #expect(result.stderr.contains("1 earlier record of re-run turns left out"), "\(result.stderr)")
    }

    @Test func theReplyCacheHasItsOwnVariable() throws {
        let world = try World()
        // MIRA_CACHE names the local model's folder; the reply cache must not open it.
        let result = try world.sh("""
            mkdir -p modelcache
            mira-prompt hi > t.jsonl
            MIRA_CACHE=$PWD/modelcache mira-llm --cache < t.jsonl > /dev/null && MIRA_REPLY_CACHE=$PWD/replies.db mira-llm --cache < t.jsonl
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: world.dir + "/replies.db"))
        #expect(FileManager.default.fileExists(atPath: world.dir + "/data/mira/cache.db"))
    }

    @Test func thePersonasFolderTakesOnlyPlainFiles() throws {
        let world = try World()
        let result = try world.sh("""
            mkdir -p config/mira/personas
            printf 'PRIVATE KEY\\n' > secret.txt
            ln -s "$PWD/secret.txt" config/mira/personas/shadow.md
            mkfifo config/mira/personas/pipe.md
            timeout 20 mira-prompt hi | mira-llm
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("shadow.md: it is a symbolic link (not followed)"), "\(result.stderr)")
        #expect(result.stderr.contains("pipe.md: it is not a regular file"), "\(result.stderr)")
        let system = World.messages(of: try #require(try world.requests().first)).first?["content"] as? String
        #expect(system?.contains("PRIVATE") == false)
    }
}
