import Foundation
import Testing

/// `mira`, the front for people, run as a user types it against the fake server.
@Suite struct MiraCommandTests {
    /// The fields of stored messages that do not vary run to run.
    static func lasting(_ messages: [[String: Any]]) -> [String] {
        messages.map { m in
            ["role", "content", "persona", "mood"].map { "\($0)=\(m[$0] as? String ?? "-")" }.joined(separator: " ")
        }
    }

    @Test func aTurnSendsAndSavesExactlyWhatTheFourStagePipelineDoes() throws {
        let world = try World()
        for message in ["rough day", "thanks for listening"] {
            #expect(try world.sh(turn("piped", message)).status == 0)
            let mira = try world.sh("mira -s direct \(shellQuote(message))")
            #expect(mira.status == 0, "\(mira.stderr)")
        }
        let requests = try world.requests()
        try #require(requests.count == 4)
        // Same history, same message: byte for byte the same request body.
        for k in [0, 2] {
            let piped = try JSONSerialization.data(withJSONObject: requests[k], options: [.sortedKeys])
            let direct = try JSONSerialization.data(withJSONObject: requests[k + 1], options: [.sortedKeys])
            #expect(piped == direct, "request \(k) differs")
        }
        #expect(Self.lasting(try world.exported("piped")) == Self.lasting(try world.exported("direct")))
        #expect(try world.exported("direct").count == 4)
        #expect(try world.halfTurns("direct").isEmpty)
    }

    @Test func theReplyGoesToStdoutAndTheFirstCallStartsASessionTheNextOnesContinue() throws {
        let world = try World()
        let first = try world.sh("mira hello there")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "echo: hello there (2 messages)\n")
        #expect(first.stderr == "")
        let second = try world.sh("mira 'and again'")
        #expect(second.stdout == "echo: and again (4 messages)\n")

        let sessions = try world.sh("mira sessions --json")
        let listed = try sessions.records()
        #expect(listed.count == 1)
        #expect(listed.first?["current"] as? Bool == true)
        #expect(listed.first?["messages"] as? Int == 4)

        let fresh = try world.sh("mira --new 'a new start'")
        #expect(fresh.stdout == "echo: a new start (2 messages)\n")
        #expect(try world.sh("mira sessions --json").records().count == 2)
        // The new session is the current one now.
        #expect(try world.sh("mira 'still new'").stdout == "echo: still new (4 messages)\n")
    }

    @Test func theMessageComesFromStdinWhenItIsNotATerminalAndMayStartWithADash() throws {
        let world = try World()
        let piped = try world.sh("echo 'from a pipe' | mira -s s1")
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.stdout == "echo: from a pipe (2 messages)\n")
        let dashed = try world.sh("mira -s s1 -5 degrees out")
        #expect(dashed.stdout == "echo: -5 degrees out (4 messages)\n", "\(dashed.stderr)")
        let empty = try world.sh("mira -s s1 < /dev/null")
        #expect(empty.status == 64)
        #expect(empty.stderr.contains("no message"))
    }

    @Test func aForcedPersonaIsSentAndAnUnknownOneIsRefusedWithTheChoices() throws {
        let world = try World()
        #expect(try world.sh("mira -s s1 --persona haven 'I cannot breathe'").status == 0)
        let request = try #require(try world.requests().first)
        let system = try #require(World.messages(of: request).first?["content"] as? String)
        #expect(system.contains("haven"))
        #expect(!system.contains("## forbidden"))

        let refused = try world.sh("mira -s s1 --persona nope hi")
        #expect(refused.status == 64)
        #expect(refused.stderr.contains(#"unknown persona "nope" (known: default, forbidden, hallow, haven)"#))
        #expect(try world.requests().count == 1)
    }

    @Test func explainPrintsAPipelineThatDoesTheSameTurn() throws {
        let world = try World()
        let explained = try world.sh("mira -s s1 --explain \"it's -5 out\"")
        #expect(explained.status == 0)
        #expect(explained.stdout == "mira-store load s1 | mira-prompt -- 'it'\\''s -5 out' | mira-llm | mira-store save s1\n")
        #expect(try world.requests().isEmpty)
        let ran = try world.sh(explained.stdout)
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(try world.exported("s1").first?["content"] as? String == "it's -5 out")
    }

    @Test func logShowsWhoWhenPersonaAndMoodAndJsonIsTheExport() throws {
        let world = try World()
        #expect(try world.sh("mira -s s1 'hi \u{1B}[2J there'").status == 0)
        let log = try world.sh("mira log")
        #expect(log.status == 0, "\(log.stderr)")
        let lines = log.stdout.components(separatedBy: "\n")
        #expect(lines[0] == "session s1 · 2 messages")
        #expect(lines[2].hasPrefix("you · 20"))
        #expect(lines[3] == "hi \u{1B}[2J there", "into a pipe the text is exact")
        #expect(lines[5].hasPrefix("mira · 20") && lines[5].hasSuffix(" · default · curious"))
        #expect(!log.stdout.contains("\u{1B}[1m"), "no colour into a pipe")

        let json = try world.sh("mira log s1 --json")
        let export = try world.sh("mira-store export s1")
        #expect(json.stdout == export.stdout)

        let missing = try world.sh("mira log nosuch")
        #expect(missing.status == 66)
        #expect(missing.stderr == "mira: no session nosuch (mira sessions lists them)\n")
    }

    @Test func logAndSessionsCreateNothing() throws {
        let world = try World()
        let sessions = try world.sh("mira sessions")
        #expect(sessions.status == 0)
        #expect(sessions.stdout == "no sessions yet: mira \"hi\" starts one\n")
        let log = try world.sh("mira log")
        #expect(log.status == 66)
        #expect(log.stderr.contains("no current session yet"))
        #expect(!FileManager.default.fileExists(atPath: world.database))
    }

    @Test func noKeyForOpenAIIsAUsageErrorBeforeAnyRequest() throws {
        let world = try World()
        let result = try world.sh("mira -s s1 hi", extraEnvironment: ["OPENAI_BASE_URL": "", "OPENAI_API_KEY": ""])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("mira: no OPENAI_API_KEY for https://api.openai.com/v1: set OPENAI_API_KEY"))
        #expect(try world.exported("s1").isEmpty)
    }

    @Test func aServerNotStartedSaysSoAndSavesNothing() throws {
        let world = try World()
        let result = try world.sh("mira -s s1 hi", extraEnvironment: ["OPENAI_BASE_URL": "http://127.0.0.1:9/v1"])
        #expect(result.status == 69)
        #expect(result.stderr.contains("is not answering (connection refused): start it"))
        #expect(result.stdout == "")
        #expect(try world.exported("s1").isEmpty)
    }

    @Test func chatReadsLinesFromAPipeRunsCommandsAndSavesEachTurn() throws {
        let world = try World()
        let typed = ["hi", "/persona nope", "/persona haven", "how are you", "/persona auto", "/nope", "//slash", "/new", "fresh", "/quit", "never sent"]
        let chat = try world.sh("mira chat s1", stdin: typed.joined(separator: "\n") + "\n")
        #expect(chat.status == 0, "\(chat.stderr)")
        #expect(chat.stdout.contains("echo: hi (2 messages)\n  default · curious\n"))
        #expect(chat.stdout.contains("echo: how are you (4 messages)\n  haven · curious\n"))
        #expect(chat.stdout.contains("echo: /slash (6 messages)\n"))
        #expect(chat.stdout.contains("echo: fresh (2 messages)\n"))
        #expect(chat.stderr.contains(#"mira: unknown persona "nope" (known: default, forbidden, hallow, haven)"#))
        #expect(chat.stderr.contains("mira: unknown command /nope"))
        #expect(try world.askedMessages() == ["hi", "how are you", "/slash", "fresh"])
        let forced = World.messages(of: try world.requests()[1]).first?["content"] as? String ?? ""
        #expect(!forced.contains("## forbidden"), "the second turn forced haven")
        #expect(try world.exported("s1").count == 6)
    }

    @Test func configSetsOnceWhatEveryTurnThenUsesAndListHidesTheKey() throws {
        let world = try World(apiKey: "sk-from-the-file-1234")
        let file = world.dir + "/config/mira/config"
        #expect(try world.sh("mira config path").stdout == file + "\n")
        #expect(try world.sh("mira config set OPENAI_BASE_URL \(world.baseURL)").status == 0)
        #expect(try world.sh("mira config set OPENAI_API_KEY sk-from-the-file-1234").status == 0)
        #expect(try world.sh("mira config set MIRA_MODEL model-from-the-file").status == 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        let list = try world.sh("mira config list")
        #expect(list.stdout == "OPENAI_BASE_URL=\(world.baseURL)\nOPENAI_API_KEY=sk-…1234\nMIRA_MODEL=model-from-the-file\n")
        #expect(!list.stdout.contains("from-the-file-1234"))

        // No exports: the file is enough; the environment still beats it.
        let turn = try world.sh("env -u OPENAI_BASE_URL -u OPENAI_API_KEY mira -s s1 hi")
        #expect(turn.status == 0, "\(turn.stderr)")
        #expect(try world.requests().last?["model"] as? String == "model-from-the-file")
        #expect(try world.sh("env -u OPENAI_BASE_URL -u OPENAI_API_KEY MIRA_MODEL=from-env mira -s s1 hi").status == 0)
        #expect(try world.requests().last?["model"] as? String == "from-env")
        #expect(try world.sh("env -u OPENAI_BASE_URL -u OPENAI_API_KEY MIRA_MODEL=from-env mira -s s1 --model from-flag hi").status == 0)
        #expect(try world.requests().last?["model"] as? String == "from-flag")

        #expect(try world.sh("mira config get MIRA_MODEL").stdout == "model-from-the-file\n")
        #expect(try world.sh("mira config unset MIRA_MODEL").status == 0)
        #expect(try world.sh("mira config get MIRA_MODEL").status == 1)
    }

    @Test func aWrongLineStopsEveryCommandButConfigWhichMendsIt() throws {
        let world = try World()
        try FileManager.default.createDirectory(atPath: world.dir + "/config/mira", withIntermediateDirectories: true)
        try "MIRA_MODLE=x\n".write(toFile: world.dir + "/config/mira/config", atomically: true, encoding: .utf8)
        let turn = try world.sh("mira -s s1 hi")
        #expect(turn.status == 78)
        #expect(turn.stderr.contains("line 1: unknown setting MIRA_MODLE (did you mean MIRA_MODEL?)"))
        #expect(try world.requests().isEmpty)
        #expect(try world.sh("mira config unset MIRA_MODLE").status == 0)
        #expect(try world.sh("mira -s s1 hi").status == 0)
        let misspelt = try world.sh("mira config set MIRA_MODLE x")
        #expect(misspelt.status == 64)
        #expect(misspelt.stderr.contains("did you mean MIRA_MODEL?"))
    }

    /// `mira …` reads a usual turn's line without the argument parser (for
    /// speed); `mira say …` always goes through it. Both must read it alike.
    @Test func theQuickReadingOfATurnAgreesWithTheArgumentParser() throws {
        let world = try World()
        let lines = [
            "--explain hi", "--explain -s s1 hi there", "-s s1 --explain -- --new is a word", "--explain --session=s2 hi",
            "--explain --persona haven hi", "--explain --persona=hallow --model m1 -5 degrees out", "hi --explain -s s3 again",
            "--explain -s s1 -s s2 hi", "--explain --new -s s1 hi", "--explain --persona nope hi",
            "--explain -s 'bad id' hi", "--explain --bogus hi", "--explain -s", "--explain -h", "--explain chat about it",
        ]
        // A current session, so a line without -s explains the same session both ways.
        #expect(try world.sh("mira -s current hi").status == 0)
        for line in lines {
            let quick = try world.sh("mira \(line)", stdin: "")
            let parsed = try world.sh("mira say \(line)", stdin: "")
            #expect(quick.status == parsed.status, "\(line): \(quick.stderr) | \(parsed.stderr)")
            #expect(quick.stdout.replacingOccurrences(of: "mira say", with: "mira") == parsed.stdout.replacingOccurrences(of: "mira say", with: "mira"), "\(line)")
        }
        #expect(try world.requests().count == 1)
    }

    /// A chat line that is not UTF-8 would be changed by repairing it: it is
    /// refused with a reason and the chat goes on (it once became U+FFFD and was sent).
    @Test func aChatLineThatIsNotUTF8IsRefusedAndTheChatGoesOn() throws {
        let world = try World()
        let input = Data("first\n".utf8) + Data([0x62, 0x61, 0xFF, 0x64, 0x0A]) + Data("after\r\n".utf8)
        let file = world.dir + "/typed"
        try input.write(to: URL(fileURLWithPath: file))
        let chat = try world.sh("mira chat s1 < typed")
        #expect(chat.status == 0, "\(chat.stderr)")
        #expect(chat.stderr == "mira: that line is not UTF-8 text (check the terminal's encoding); not sent\n")
        #expect(try world.askedMessages() == ["first", "after"])
    }

    /// The personas are read once a process: a skipped file was said two or
    /// three times per turn (checking the name and building the request each read the folder).
    @Test func aSkippedPersonaFileIsSaidOncePerCommand() throws {
        let world = try World()
        let folder = world.dir + "/config/mira/personas"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder + "/odd.md", withDestinationPath: "/etc/hostname")
        let skipped = "mira: skipped persona file \(folder)/odd.md: it is a symbolic link (not followed)\n"
        let turn = try world.sh("mira -s s1 --persona haven hi")
        #expect(turn.status == 0)
        #expect(turn.stderr == skipped)
        let refused = try world.sh("mira -s s1 --persona nope hi")
        #expect(refused.status == 64)
        #expect(refused.stderr.components(separatedBy: "skipped persona file").count == 2, "\(refused.stderr)")
        let chat = try world.sh("mira chat s1 --persona haven", stdin: "hi\n")
        #expect(chat.stderr == skipped)
    }
}
