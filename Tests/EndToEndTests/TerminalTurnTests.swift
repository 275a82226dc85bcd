import Foundation
import Testing

/// One chat turn typed at a terminal: mira-llm says only what helps while
/// it waits, erases it before the reply, and ends with no batch talk.
/// `script` gives the pipeline a real terminal; its transcript (our stdout)
/// holds every byte the terminal was sent, stderr and save's reply alike.
@Suite struct TerminalTurn {
    let erase = "\r\u{1B}[K"

    @Test func aSingleTurnOnATerminalShowsNoProgressAndNoSummary() throws {
        let world = try World()
        let result = try world.sh("script -qec \(shellQuote("mira-store load s1 | mira-prompt hi | mira-llm | mira-store save s1")) /dev/null")
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout == "echo: hi (2 messages)\r\n", "\(result.stdout.debugDescription)")
    }

    @Test func aSingleTurnWithStderrOnAPipeWritesNoProgressAndNoSummary() throws {
        let world = try World()
        let result = try world.sh(turn("s1", "hi"))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
    }

    @Test func aBatchOfTwoOnAPipeStillEndsWithASummary() throws {
        let world = try World()
        let result = try world.sh(#"printf '%s\n' '{"session":"a","input":"hi"}' '{"session":"b","input":"hey"}' | mira-prompt | mira-llm > out.jsonl"#)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("mira-llm: 2 records in "), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1 && !result.stderr.contains("\u{1B}"))
    }

    @Test func theWaitIsCountedInPlaceAndErasedBeforeTheReply() throws {
        let world = try World(behaviour: "delay:1600")
        let result = try world.sh("script -qec \(shellQuote("mira-store load s1 | mira-prompt hi | mira-llm | mira-store save s1")) /dev/null")
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.hasPrefix(erase + "mira-llm: waiting for the model… 1 s"), "\(result.stdout.debugDescription)")
        #expect(result.stdout.hasSuffix(" s" + erase + "echo: hi (2 messages)\r\n"), "\(result.stdout.debugDescription)")
        #expect(!result.stdout.contains("records in"))
    }

    @Test func aRetryIsSaidInWordsAndErasedBeforeTheReply() throws {
        let world = try World(behaviour: "429-once")
        let result = try world.sh("script -qec \(shellQuote("mira-store load s1 | mira-prompt hi | mira-llm | mira-store save s1")) /dev/null")
        #expect(result.status == 0, "\(result.stdout)")
        // The server asks for 50 ms; up to 10% is added so workers spread out.
        #expect(result.stdout.hasPrefix(erase + "mira-llm: server busy (429), retrying in 5"), "\(result.stdout.debugDescription)")
        #expect(result.stdout.hasSuffix(" ms, 1 of 3" + erase + "echo: hi (2 messages)\r\n"), "\(result.stdout.debugDescription)")
    }

    @Test func aStreamedReplyIsShownOnceThroughSave() throws {
        let world = try World()
        let result = try world.sh("script -qec \(shellQuote("mira-store load s1 | mira-prompt hi | mira-llm --stream | mira-store save s1")) /dev/null")
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout == "echo: hi (2 messages)\r\n", "\(result.stdout.debugDescription)")
        #expect(try world.exported("s1").count == 2)
    }

    @Test func saveInTextFormatDoesNotReprintAStreamedRecordAndJSONPassesItAsItIs() throws {
        let world = try World()
        #expect(try world.sh("mira-store load s1 | mira-prompt hi | mira-llm | sed 's/}$/,\"streamed\":true}/' > turn.jsonl").status == 0)
        let text = try world.sh("mira-store save s1 --format text < turn.jsonl")
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.isEmpty && text.stderr.isEmpty, "\(text.stdout)")
        #expect(try world.exported("s1").count == 2, "stored all the same")
        let json = try world.sh("mira-store save s1 --format json < turn.jsonl")
        #expect(json.stdout == (try String(contentsOfFile: world.dir + "/turn.jsonl", encoding: .utf8)))
        // A record without the mark still shows its reply.
        let plain = try world.sh("mira-store load s2 | mira-prompt hi | mira-llm | mira-store save s2 --format text")
        #expect(plain.stdout == "echo: hi (2 messages)\n")
    }

    @Test(arguments: ["INT", "TERM"])
    func aSingleTurnStoppedBySignalSaysSoInOneLineWithoutBatchAdvice(_ signal: String) throws {
        let world = try World(behaviour: "delay:10000")
        let run = try world.sh("""
            mira-store load s1 | mira-prompt hi | mira-llm > out.jsonl 2> err.txt & pid=$!
            for i in $(seq 500); do [ "$(wc -l < requests.jsonl)" -ge 1 ] && break; sleep 0.02; done
            kill -\(signal) $pid; wait $pid; echo "status=$?"
            """)
        #expect(run.stdout == "status=\(signal == "TERM" ? 143 : 130)\n", "\(run.stdout)")
        let stderr = try String(contentsOfFile: world.dir + "/err.txt", encoding: .utf8)
        #expect(stderr == "mira-llm: stopped (\(signal == "TERM" ? "SIGTERM" : "Ctrl-C")); the turn was not answered\n", "\(stderr)")
    }

    /// A message typed at mira-prompt's terminal prompt that is not UTF-8 was
    /// repaired to U+FFFD and sent changed; now the turn fails with the reason.
    @Test func aTypedMessageThatIsNotUTF8IsRefusedNotRepaired() throws {
        let world = try World()
        let result = try world.sh("printf 'ba\\377d\\n' | script -qec \(shellQuote("mira-store load s1 | mira-prompt | mira-llm | mira-store save s1 --format json")) /dev/null")
        #expect(result.stdout.contains("mira-prompt: line 1: the typed message is not UTF-8 text (check the terminal's encoding)"), "\(result.stdout.debugDescription)")
        #expect(result.stdout.contains(#""code":"no_input""#) || result.stdout.contains("not saved"), "\(result.stdout.debugDescription)")
        #expect(try world.requests().isEmpty)
        #expect(try world.exported("s1").isEmpty)
    }
}
