import Foundation
import Testing

/// The chat turn as a pipeline, run as a user types it, against a fake server.
@Suite struct ChatTurnTests {
    @Test func aTwoTurnConversationIsRememberedAndCarriedIntoTheNextRequest() throws {
        let world = try World()
        let first = try world.sh(turn("s1", "rough day, my boss yelled at me", save: "--format text"))
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "echo: rough day, my boss yelled at me (2 messages)\n")

        let second = try world.sh(turn("s1", "thanks for listening"))
        #expect(second.status == 0, "\(second.stderr)")
        let record = try #require(try second.records().first)
        let reply = try #require(record["reply"] as? [String: Any])
        #expect(reply["persona"] as? String == "default")
        #expect(reply["mood"] as? String == "curious")

        let requests = try world.requests()
        try #require(requests.count == 2)
        let carried = World.messages(of: requests[1])
        #expect(carried.map { $0["role"] as? String } == ["system", "user", "assistant", "user"])
        #expect(carried[1]["content"] as? String == "rough day, my boss yelled at me")
        #expect(carried[2]["content"] as? String == "echo: rough day, my boss yelled at me (2 messages)")
        // The persona and mood of the last reply are fed back to the model.
        let system = try #require(carried[0]["content"] as? String)
        #expect(system.contains("Your last reply used the default overlay with a mood of \"curious\""))

        let stored = try world.exported("s1")
        #expect(stored.map { $0["role"] as? String } == ["user", "assistant", "user", "assistant"])
        #expect(stored[3]["persona"] as? String == "default")
    }

    @Test func theRequestForcesTheFormatResponseFunctionWithAStrictSchema() throws {
        let world = try World()
        #expect(try world.sh(turn("s1", "hi")).status == 0)
        let request = try #require(try world.requests().first)
        let tools = try #require(request["tools"] as? [[String: Any]])
        let function = try #require(tools.first?["function"] as? [String: Any])
        #expect(function["name"] as? String == "format_response")
        #expect(function["strict"] as? Bool == true)
        let properties = try #require((function["parameters"] as? [String: Any])?["properties"] as? [String: Any])
        #expect((properties["persona"] as? [String: Any])?["enum"] as? [String] == ["default", "forbidden", "hallow", "haven"])
        let choice = try #require(request["tool_choice"] as? [String: Any])
        #expect((choice["function"] as? [String: Any])?["name"] as? String == "format_response")
    }

    @Test func theUserCanSwitchThePersonaMidSession() throws {
        let world = try World()
        #expect(try world.sh(turn("s1", "hello")).status == 0)
        let switched = try world.sh("mira-store load s1 | mira-prompt --persona haven 'I am overwhelmed' | mira-llm | mira-store save s1")
        #expect(switched.status == 0, "\(switched.stderr)")
        let record = try #require(try switched.records().first)
        #expect((record["reply"] as? [String: Any])?["persona"] as? String == "haven")
        #expect(record["persona"] as? String == "haven")
        let request = try #require(try world.requests().last)
        let schema = try #require(((request["tools"] as? [[String: Any]])?.first?["function"] as? [String: Any])?["parameters"] as? [String: Any])
        #expect(((schema["properties"] as? [String: Any])?["persona"] as? [String: Any])?["enum"] as? [String] == ["haven"])
        #expect(try world.exported("s1").last?["persona"] as? String == "haven")
    }

    @Test func aPersonaFileAddsAPersonaWithoutRecompiling() throws {
        let world = try World()
        let folder = world.dir + "/config/mira/personas"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "# Tender\nMira at her most tender.\n".write(toFile: folder + "/tender.md", atomically: true, encoding: .utf8)
        let listed = try world.sh("mira-prompt --list-personas")
        #expect(listed.status == 0)
        #expect(listed.stdoutLines.map { $0.split(separator: "\t").first.map(String.init) } == ["default", "forbidden", "hallow", "haven", "tender"])

        let forced = try world.sh(turn("s1", "hold me").replacingOccurrences(of: "mira-prompt", with: "mira-prompt --persona tender"))
        #expect(forced.status == 0, "\(forced.stderr)")
        let request = try #require(try world.requests().first)
        let system = try #require(World.messages(of: request).first?["content"] as? String)
        #expect(system.contains("Mira at her most tender."))
    }

    @Test func aPersonaNameWithAPathTrickIsRefused() throws {
        let world = try World()
        let result = try world.sh("mira-prompt --persona ../../etc/passwd hi")
        #expect(result.status == 64)
        #expect(result.stderr.contains("persona name"))
        #expect(result.stdout.isEmpty)
    }

    @Test func streamingShowsTheReplyTextOnStderrAndTheRecordOnStdout() throws {
        let world = try World()
        let result = try world.sh(turn("s1", "héllo ✓", llm: "mira-llm --stream"))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr == "echo: héllo ✓ (2 messages)\n")
        let record = try #require(try result.records().first)
        #expect((record["reply"] as? [String: Any])?["output"] as? String == "echo: héllo ✓ (2 messages)")
        #expect((record["usage"] as? [String: Any])?["total_tokens"] != nil)
        #expect(try world.requests().first?["stream"] as? Bool == true)
    }

    @Test func fieldsTheStagesDoNotKnowAreCarriedThrough() throws {
        let world = try World()
        let result = try world.sh("mira-store load s1 | sed 's/^{/{\"label\":\"case-7\",/' | mira-prompt hi | mira-llm | mira-store save s1")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try result.records().first?["label"] as? String == "case-7")
    }

    @Test func savingTheSameTurnTwiceStoresItOnce() throws {
        let world = try World()
        #expect(try world.sh("mira-store load s1 | mira-prompt hi | mira-llm > turn.jsonl").status == 0)
        #expect(try world.sh("mira-store save s1 < turn.jsonl").status == 0)
        #expect(try world.sh("mira-store save s1 < turn.jsonl").status == 0)
        #expect(try world.exported("s1").count == 2)
    }

    @Test func theDatabaseIsReadableByItsOwnerOnly() throws {
        let world = try World()
        let result = try world.sh(turn("s1", "hi"))
        #expect(result.status == 0, "\(result.stderr)")
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: world.database)[.posixPermissions] as? Int)
        #expect(mode & 0o077 == 0)
    }

    @Test func theMessageIsReadFromTheTerminalWhenNoneIsGiven() throws {
        let world = try World()
        // `script` gives the pipeline a real terminal and types the line into it.
        let pipeline = "mira-store load s1 | mira-prompt | mira-llm | mira-store save s1"
        let result = try world.sh("script -qec \(shellQuote(pipeline)) /dev/null", stdin: "typed at the prompt\n")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("echo: typed at the prompt (2 messages)"))
        #expect(try world.exported("s1").first?["content"] as? String == "typed at the prompt")
    }

    @Test func theMessageCanComeFromAFileOrStdin() throws {
        let world = try World()
        let result = try world.sh("printf 'from a file\\n' | mira-prompt --message-file - | mira-llm | mira-store save s1")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try world.exported("s1").first?["content"] as? String == "from a file")
    }

    @Test func aBatchOfRecordsUsesEachRecordsOwnInput() throws {
        let world = try World()
        let batch = #"{"session":"a","input":"one"}\#n{"session":"b","input":"two"}\#n"#
        let result = try world.sh("mira-prompt | mira-llm | mira-store save", stdin: batch)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try world.exported("a").first?["content"] as? String == "one")
        #expect(try world.exported("b").first?["content"] as? String == "two")
    }

    @Test func storeCommandsListExportImportAndRemoveSessions() throws {
        let world = try World()
        #expect(try world.sh(turn("s1", "hi")).status == 0)
        let id = try world.sh("mira-store new").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 12)
        let listed = try world.sh("mira-store list")
        #expect(listed.stdout.hasPrefix("s1\t2\t"))
        let before = try world.sh("mira-store export s1").stdout
        #expect(try world.sh("mira-store export s1 > s1.jsonl && mira-store rm s1 && mira-store import < s1.jsonl").status == 0)
        #expect(try world.sh("mira-store export s1").stdout == before)
        let loaded = try world.sh("mira-store load s1 --last 1").records().first?["history"] as? [[String: Any]]
        #expect(loaded?.count == 1)
        #expect(loaded?.first?["role"] as? String == "assistant")
    }
}
