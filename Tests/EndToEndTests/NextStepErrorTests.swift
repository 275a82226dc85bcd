import Foundation
import Testing

/// Common mistakes end with one stderr line that names the tool, the cause
/// and what to do next; the mistakes that used to pass silently fail.
@Suite struct NextStepErrorTests {
    /// The lines of stderr, for "exactly one line" checks.
    func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    // MARK: 1. No key, and the default server

    @Test func noKeyAndNoServerIsAUsageErrorBeforeAnyRequest() throws {
        let world = try World()
        for unset in [
            "env -u OPENAI_API_KEY -u OPENAI_BASE_URL mira-llm", "env -u OPENAI_BASE_URL OPENAI_API_KEY= mira-llm",
            "env -u OPENAI_API_KEY mira-llm --base-url https://api.openai.com/v1",
        ] {
            // From a file: in a pipe, mira-prompt would add its own line about the pipe mira-llm closed.
            let result = try world.sh("mira-prompt hi > turn.jsonl && \(unset) --retries 0 < turn.jsonl")
            #expect(result.status == 64, "\(unset): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(unset)")
            let errors = lines(result.stderr)
            #expect(errors.count == 1, "\(unset): \(result.stderr)")
            #expect(errors.first == "mira-llm: no OPENAI_API_KEY for https://api.openai.com/v1: set OPENAI_API_KEY (mira config set OPENAI_API_KEY …), "
                + "or point OPENAI_BASE_URL at another server (the local one: scripts/local-server.sh start --save)",
                "\(unset): \(result.stderr)")
        }
    }

    @Test func noKeyIsFineForALocalServerAndForBatchFiles() throws {
        let world = try World()
        // The World points OPENAI_BASE_URL at the fake server: a keyless local server.
        let local = try world.sh("mira-prompt hi | env -u OPENAI_API_KEY mira-llm")
        #expect(local.status == 0, "\(local.stderr)")
        #expect(try world.requests().count == 1)

        // Batch API files send nothing, so they need no key and no server.
        let emit = try world.sh("mira-prompt hi > turn.jsonl && env -u OPENAI_API_KEY -u OPENAI_BASE_URL mira-llm --emit-batch < turn.jsonl > batch.jsonl")
        #expect(emit.status == 0, "\(emit.stderr)")
        let merge = try world.sh(": > out.jsonl && env -u OPENAI_API_KEY -u OPENAI_BASE_URL mira-llm --from-batch out.jsonl < turn.jsonl")
        #expect(merge.status == 1, "\(merge.stderr)")  // one turn, not in the (empty) batch output
        #expect((try merge.records().first?["error"] as? [String: Any])?["code"] as? String == "not_in_batch")
        #expect(!merge.stderr.contains("OPENAI_API_KEY"), "\(merge.stderr)")
        #expect(try world.requests().count == 1)
    }

    // MARK: 2. A refused connection

    @Test func aRefusedConnectionSaysTheServerIsNotAnsweringAndWhatToDo() throws {
        let world = try World()
        let result = try world.sh(
            "mira-store load s1 | mira-prompt hi | mira-llm --retries 0 --base-url 'http://me:pw-s3cret@127.0.0.1:9/v1' | mira-store save s1; echo \"llm=${PIPESTATUS[2]} save=${PIPESTATUS[3]}\"")
        #expect(result.stdout == "llm=1 save=69\n", "\(result.stdout)")
        let message = "the server at http://***@127.0.0.1:9/v1 is not answering (connection refused): start it, or check OPENAI_BASE_URL"
        let errors = lines(result.stderr)
        #expect(errors.first == "mira-llm: line 1: " + message, "\(result.stderr)")
        #expect(!result.stderr.contains("s3cret"))

        let record = try #require(try world.sh("mira-prompt hi | mira-llm --retries 0 --base-url http://127.0.0.1:9/v1").records().first)
        let error = try #require(record["error"] as? [String: Any])
        #expect(error["code"] as? String == "unreachable")
        #expect(error["message"] as? String == message.replacingOccurrences(of: "***@", with: ""))
    }

    // MARK: 3. A 404

    @Test func aNotFoundShowsTheRequestURLAndHintsAtV1() throws {
        let world = try World()
        let server = "127.0.0.1:\(world.port)"
        let bare = try world.sh("mira-prompt hi | mira-llm --base-url 'http://me:pw-s3cret@\(server)/'")
        #expect(bare.status == 1, "\(bare.stderr)")
        let error = try #require(try bare.records().first?["error"] as? [String: Any])
        #expect(error["code"] as? String == "bad_request")
        let message = try #require(error["message"] as? String)
        #expect(message.hasPrefix("server answered 404 for http://***@\(server)/chat/completions: "), "\(message)")
        #expect(message.hasSuffix("; the base URL usually ends in /v1 (check OPENAI_BASE_URL or --base-url)"), "\(message)")
        #expect(bare.stderr == "mira-llm: line 1: \(message)\n")
        #expect(!bare.stderr.contains("s3cret") && !bare.stdout.contains("s3cret"))

        // A base that ends in /v1 gets the URL, not the hint.
        let wrong = try world.sh("mira-prompt hi | mira-llm --base-url http://\(server)/api/v1")
        #expect(wrong.status == 1, "\(wrong.stderr)")
        #expect(wrong.stderr.hasPrefix("mira-llm: line 1: server answered 404 for http://\(server)/api/v1/chat/completions: "), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("usually ends in /v1"), "\(wrong.stderr)")
    }

    // MARK: 4. An unknown session

    @Test func exportAndRmOfAnUnknownSessionExit66AndSaySo() throws {
        let world = try World()
        try #require(try world.sh(turn("s1", "hi")).status == 0)
        for command in ["export", "rm"] {
            let result = try world.sh("mira-store \(command) nosuch")
            #expect(result.status == 66, "\(command): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(command)")
            #expect(result.stderr == "mira-store \(command): no session nosuch (mira-store list shows the sessions)\n")
        }
        let removed = try world.sh("mira-store rm s1")
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(removed.stderr == "mira-store rm: removed 2 messages of s1\n")
        // Gone now, so a second rm is told so.
        #expect(try world.sh("mira-store rm s1").status == 66)
        #expect(try world.sh("mira-store export s1").status == 66)
        // Loading a session never seen is still a new, empty session.
        #expect(try world.sh("mira-store load nosuch").status == 0)
    }

    // MARK: 5. An absent database

    @Test func noCommandCreatesAnAbsentDatabaseToReadOrRemove() throws {
        let world = try World()
        let env = ["MIRA_DB": world.dir + "/nonexistent/dir/x.db"]
        let list = try world.sh("mira-store list", extraEnvironment: env)
        #expect(list.status == 0 && list.stdout.isEmpty && list.stderr.isEmpty, "\(list.stderr)")
        let load = try world.sh("mira-store load s1", extraEnvironment: env)
        #expect(load.status == 0, "\(load.stderr)")
        #expect((try load.records().first?["history"] as? [Any])?.isEmpty == true)
        for command in ["export", "rm"] {
            let result = try world.sh("mira-store \(command) s1", extraEnvironment: env)
            #expect(result.status == 66, "\(command): \(result.stderr)")
            #expect(result.stderr == "mira-store \(command): no session s1 (mira-store list shows the sessions)\n")
        }
        #expect(!FileManager.default.fileExists(atPath: world.dir + "/nonexistent"), "a folder was created")
    }

    // MARK: 6. mira-eval over what is not results

    @Test func scoringRecordsThatAreNotResultsSaysWhatToFeedIt() throws {
        let world = try World()
        try #require(try world.sh(turn("s1", "hi")).status == 0)
        let hint = "mira-eval: none of the 2 records has a reply or an error, so these are not mira-llm results: "
            + "score mira-llm's output, e.g. mira-store export SESSION | mira-prompt --replay | mira-llm | mira-eval"
        let export = try world.sh("mira-store export s1 | mira-eval --json")
        #expect(export.status == 65, "\(export.stderr)")
        #expect(export.stderr == hint + "\n")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(export.stdout.utf8)) as? [String: Any], "the report is still written")
        // Each line counts: an export's user and assistant lines share a turn id but are not re-runs.
        #expect(report["records"] as? Int == 2)
        #expect(report["superseded"] as? Int == 0)

        // Turns not yet sent to the model are not results either.
        let unsent = try world.sh("printf '%s\\n' '{\"input\":\"a\"}' '{\"input\":\"b\"}' | mira-prompt | mira-eval")
        #expect(unsent.status == 65, "\(unsent.stderr)")
        #expect(unsent.stderr == hint + "\n")

        // Results, even failed ones, get no such line.
        let results = try world.sh("mira-prompt hi | mira-llm --retries 0 --base-url http://127.0.0.1:9/v1 2>/dev/null | mira-eval")
        #expect(results.status == 0, "\(results.stderr)")
        #expect(results.stderr.isEmpty, "\(results.stderr)")
    }

    // MARK: 7. --version

    /// `NAME 0.5.0`: the number in MiraShared's Version.swift, for all five.
    @Test func everyToolPrintsItsVersion() throws {
        let world = try World()
        let source = try String(contentsOfFile: packageRoot + "/Sources/MiraShared/Protocol/Version.swift", encoding: .utf8)
        let declaration = source.split(separator: "\n").first { $0.contains("static let number") } ?? ""
        let number = declaration.split(separator: "\"").dropFirst().first.map(String.init) ?? "?"
        #expect(number.split(separator: ".").count == 3, "no version number in Version.swift")
        var versions: Set<String> = []
        for tool in ["mira", "mira-store", "mira-prompt", "mira-llm", "mira-eval"] {
            let result = try world.sh("\(tool) --version < /dev/null")
            #expect(result.status == 0, "\(tool): \(result.stderr)")
            #expect(result.stderr.isEmpty, "\(tool): \(result.stderr)")
            let words = result.stdout.split(separator: " ")
            #expect(result.stdout.hasSuffix("\n") && lines(result.stdout).count == 1, "\(tool): \(result.stdout)")
            #expect(words.first.map(String.init) == tool, "\(tool): \(result.stdout)")
            let version = words.dropFirst().first.map { $0.trimmingCharacters(in: .newlines) } ?? ""
            #expect(version.split(separator: ".").count == 3 && version.split(separator: ".").allSatisfy { Int($0) != nil }, "\(tool): \(result.stdout)")
            #expect(result.stdout == "\(tool) \(number)\n", "\(tool): \(result.stdout)")
            versions.insert(version)
        }
        #expect(versions.count == 1, "one version for every tool: \(versions)")
    }
}
