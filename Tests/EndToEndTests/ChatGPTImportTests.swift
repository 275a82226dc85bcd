import Foundation
import Testing

/// `mira-store import --from chatgpt`: a ChatGPT export written by
/// Tests/Support/chatgpt_export.py, imported by the built binary.
@Suite struct ChatGPTImportTests {
    static let maker = packageRoot + "/Tests/Support/chatgpt_export.py"

    func make(_ world: World, _ kind: String, _ file: String) throws {
        let made = try world.sh("python3 \(shellQuote(Self.maker)) \(kind) \(file)")
        try #require(made.status == 0, "\(made.stderr)")
    }

    @Test func theCurrentBranchesAreImportedOnceWithTheirTextAndTimes() throws {
        let world = try World()
        try make(world, "good", "conversations.json")
        let first = try world.sh("mira-store import --from chatgpt conversations.json")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr == """
            mira-store import: read 2 ChatGPT conversations: 2 sessions, imported 6 messages (0 already stored, skipped); \
            left out 2 off the current branch, 1 hidden, 1 system or tool, 0 without text, \
            and 1 non-text parts (images, files) of kept messages

            """)

        let list = try world.sh("mira-store list")
        #expect(list.stdoutLines == ["chatgpt-conv-a\t4\t2023-11-14T22:13:24.000Z", "chatgpt-conv-b\t2\t2020-09-13T12:26:44.000Z"])

        let a = try world.exported("chatgpt-conv-a")
        #expect(a.map { $0["role"] as? String } == ["user", "assistant", "user", "assistant"])
        #expect(a.map { $0["content"] as? String }.dropFirst() == ["Hi there", "what is this?", "print(1)"])
        #expect(a.map { $0["time"] as? String } == [
            "2023-11-14T22:13:21.250Z", "2023-11-14T22:13:23.000Z", "2023-11-14T22:13:24.000Z", "2023-11-14T22:13:20.000Z",
        ])
        #expect(a.map { $0["turn"] as? String } == ["chatgpt-u1", "chatgpt-a1b", "chatgpt-u2", "chatgpt-a2"])
        #expect(a.allSatisfy { $0["persona"] == nil && $0["mood"] == nil })
        let b = try world.exported("chatgpt-conv-b")
        #expect(b.map { $0["content"] as? String } == ["second wording", "  \nan answer"])
        #expect(b.map { $0["role"] as? String } == ["user", "assistant"])

        // The NUL and the odd UTF-8 come back byte for byte (compared by Python, not by Swift's canonical equality).
        let exact = try world.sh(#"""
            mira-store export chatgpt-conv-a | head -1 | python3 -c '
            import json, sys
            odd = "NUL\u0000here, e\u0301, \u202eRTL\u202c, \U0001F600, \uffff, \u2028end"
            print(json.loads(sys.stdin.buffer.read())["content"].encode() == ("Hello " + odd).encode())'
            """#)
        #expect(exact.stdout == "True\n", "\(exact.stderr)")

        let again = try world.sh("mira-store import --from chatgpt < conversations.json")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("imported 0 messages (6 already stored, skipped)"), "\(again.stderr)")
        #expect(try world.sh("mira-store list").stdoutLines == list.stdoutLines)
        #expect(try world.exported("chatgpt-conv-a").count == 4)
    }

    @Test func aMalformedExportImportsNothingAndNamesTheProblem() throws {
        let world = try World()
        let cases: [(kind: String, words: String)] = [
            ("notarray", "not a ChatGPT conversations.json: the file must be a JSON array of conversations at byte 1"),
            ("missingcurrent", #"conversation 1 (id "conv-m"): current_node "gone" is not in "mapping""#),
            ("cycle", #"conversation 1 (id "conv-c"): the parents of node "x" form a cycle"#),
        ]
        for c in cases {
            try make(world, c.kind, c.kind + ".json")
            let result = try world.sh("mira-store import --from chatgpt \(c.kind).json")
            #expect(result.status == 65, "\(c.kind): \(result.stderr)")
            #expect(result.stderr.hasPrefix("mira-store import: " + c.words), "\(c.kind): \(result.stderr)")
            #expect(result.stderr.hasSuffix("(nothing imported)\n"), "\(c.kind): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(c.kind): \(result.stderr)")
            // The good conversation before the bad one was not stored either.
            #expect(try world.sh("mira-store list").stdout == "", "\(c.kind)")
        }
        let missing = try world.sh("mira-store import --from chatgpt no-such.json")
        #expect(missing.status == 66)
        #expect(missing.stderr.hasPrefix("mira-store import: cannot read no-such.json: "), "\(missing.stderr)")
        let usage = try world.sh("mira-store import conversations.json < /dev/null")
        #expect(usage.status == 64, "\(usage.stderr)")
    }

    @Test func aTenThousandDeepBranchImportsWhole() throws {
        let world = try World()
        try make(world, "deep", "deep.json")
        let result = try world.sh("mira-store import --from chatgpt deep.json")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("imported 10000 messages"), "\(result.stderr)")
        #expect(try world.sh("mira-store list").stdoutLines == ["chatgpt-conv-deep\t10000\t2020-09-13T15:13:19.000Z"])
    }
}
