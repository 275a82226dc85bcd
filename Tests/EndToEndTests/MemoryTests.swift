import Foundation
import Testing

/// Long-term memory end to end: the built `mira-memory` between mira-prompt
/// and mira-llm, and its index, search, facts, forget, stats and summarize,
/// against the fake server's hashed-bag-of-words `/v1/embeddings`.
@Suite struct MemoryTests {
    /// A whole turn with recall, every stage's failure visible in the status.
    static func recallTurn(_ session: String, _ message: String, recall: String = "mira-memory recall", tee: String? = nil) -> String {
        "set -o pipefail; mira-store load \(session) | mira-prompt \(shellQuote(message)) | \(recall)"
            + (tee.map { " | tee \($0)" } ?? "") + " | mira-llm | mira-store save \(session) --format json"
    }

    /// Only the recall stage of a turn: its output is the record mira-llm would get.
    static func recallOnly(_ session: String, _ message: String, load: String = "", recall: String = "mira-memory recall") -> String {
        "set -o pipefail; mira-store load \(session) \(load) | mira-prompt \(shellQuote(message)) | \(recall)"
    }

    static func memories(_ record: [String: Any]?) -> [[String: Any]] {
        record?["memories"] as? [[String: Any]] ?? []
    }

    /// The stats' models as "model dimension vectors".
    static func models(_ stats: [String: Any]) -> [String]? {
        (stats["models"] as? [[String: Any]])?.map { "\($0["model"] as? String ?? "?") \($0["dimension"] as? Int ?? -1) \($0["vectors"] as? Int ?? -1)" }
    }

    static func messageMemories(_ record: [String: Any]?) -> [[String: Any]] {
        memories(record).filter { $0["kind"] as? String == "message" }
    }

    // MARK: 1. Facts across sessions

    @Test func aFactToldInOneSessionComesBackInAnotherSessionsReply() throws {
        let world = try World()
        let first = try world.memory(Self.recallTurn("s1", "my name is Ada and I have a cat called Miso"))
        #expect(first.status == 0, "\(first.stderr)")
        let before = try world.requests().count

        let second = try world.memory(Self.recallTurn("s2", "what is my cat called?", tee: "recalled.jsonl"))
        #expect(second.status == 0, "\(second.stderr)")
        let reply = try #require(try second.records().first?["reply"] as? [String: Any])
        let output = try #require(reply["output"] as? String)
        #expect(output.hasPrefix("echo: what is my cat called? (3 messages) I remember: "), "\(output)")
        #expect(output.contains("has a cat called Miso"), "\(output)")
        #expect(output.contains("is called Ada"), "\(output)")

        // The record recall wrote holds the facts and the message they came from, with their session.
        let recalled = try #require(try world.recordsIn("recalled.jsonl").first)
        let memories = Self.memories(recalled)
        #expect(memories.contains { $0["kind"] as? String == "fact" && $0["text"] as? String == "has a cat called Miso" && $0["session"] as? String == "s1" },
                "\(memories)")
        #expect(Self.messageMemories(recalled).contains {
            $0["session"] as? String == "s1" && $0["role"] as? String == "user"
                && $0["text"] as? String == "my name is Ada and I have a cat called Miso"
        }, "\(memories)")
        // The chat request got them as a system message of its own, the prompt's text untouched.
        let chat = try world.logEntries().dropFirst(before).filter { $0["path"] as? String == "/v1/chat/completions" }
        let messages = World.messages(of: try #require(chat.last?["body"] as? [String: Any]))
        #expect(messages.filter { ($0["content"] as? String)?.hasPrefix("## What you remember") == true }.count == 1)
        #expect(messages.last?["content"] as? String == "what is my cat called?")

        let facts = try world.memory("mira-memory facts")
        #expect(facts.status == 0, "\(facts.stderr)")
        #expect(facts.stdoutLines.count == 2, "\(facts.stdout)")
        #expect(facts.stdoutLines.contains { $0.contains("\tpet\thas a cat called Miso\t(said 1×") }, "\(facts.stdout)")
        #expect(facts.stdoutLines.contains { $0.contains("\tname\tis called Ada\t") }, "\(facts.stdout)")
        let json = try world.memory("mira-memory facts --json").records()
        #expect(json.map { $0["session"] as? String } == ["s1", "s1"])
        #expect(Set(json.compactMap { $0["fact"] as? String }) == ["has a cat called Miso", "is called Ada"])
    }

    // MARK: 2. Scope

    @Test func scopeSessionFindsNothingFromAnotherSessionAndTheDefaultScopeDoes() throws {
        let world = try World()
        #expect(try world.memory(Self.recallTurn("s1", "the lighthouse keeper painted the door teal")).status == 0)
        #expect(try world.memory(Self.recallTurn("s2", "I bought rye bread at the market")).status == 0)
        #expect(try world.memory("mira-memory index").status == 0)
        let question = "what colour did the lighthouse keeper paint the door"

        // --last 0: the session's own messages are not in the history, so they may be recalled.
        let own = try world.memory(Self.recallOnly("s2", question, load: "--last 0", recall: "mira-memory recall --scope session"))
        #expect(own.status == 0, "\(own.stderr)")
        let ownFound = Self.messageMemories(try own.records().first)
        #expect(!ownFound.isEmpty, "--scope session found not even its own session's messages")
        #expect(ownFound.allSatisfy { $0["session"] as? String == "s2" }, "\(ownFound)")

        let all = try world.memory(Self.recallOnly("s2", question, load: "--last 0"))
        #expect(all.status == 0, "\(all.stderr)")
        let allFound = Self.messageMemories(try all.records().first)
        #expect(allFound.first?["text"] as? String == "the lighthouse keeper painted the door teal", "\(allFound)")
        #expect(Set(allFound.compactMap { $0["session"] as? String }) == ["s1", "s2"])
    }

    // MARK: 3. History

    @Test func whatLoadPutInTheHistoryIsNotRecalledAgain() throws {
        let world = try World()
        #expect(try world.memory(Self.recallTurn("s1", "the walrus sings opera at dawn")).status == 0)
        #expect(try world.memory(Self.recallTurn("s1", "the heron reads poetry at dusk")).status == 0)
        #expect(try world.memory("mira-memory index").status == 0)
        let stored = try world.exported("s1").compactMap { $0["content"] as? String }
        try #require(stored.count == 4)

        // All four in the history: none comes back as a memory.
        let full = try world.memory(Self.recallOnly("s1", "does the walrus sing opera"))
        #expect(full.status == 0, "\(full.stderr)")
        let record = try #require(try full.records().first)
        let history = (record["history"] as? [[String: Any]] ?? []).compactMap { $0["content"] as? String }
        #expect(history == stored)
        #expect(Self.messageMemories(record).isEmpty, "\(Self.memories(record))")

        // Only the last turn in the history: the walrus turn, older, is recalled.
        let short = try world.memory(Self.recallOnly("s1", "does the walrus sing opera", load: "--last 2"))
        #expect(short.status == 0, "\(short.stderr)")
        let texts = Self.messageMemories(try short.records().first).compactMap { $0["text"] as? String }
        #expect(texts.first == "the walrus sings opera at dawn", "\(texts)")
        #expect(Set(texts) == Set(stored.prefix(2)), "\(texts)")
    }

    // MARK: 4. Model change

    @Test func aChangedEmbeddingModelIsRefusedUntilReindexed() throws {
        let world = try World()
        #expect(try world.sh(turn("s1", "the orchard has seven pear trees")).status == 0)
        let indexed = try world.memory("mira-memory index", model: "a")
        #expect(indexed.status == 0, "\(indexed.stderr)")
        #expect(indexed.stderr.hasPrefix("mira-memory index: indexed 2 messages and 0 facts with a in "), "\(indexed.stderr)")

        let refusal = "memory is indexed with a (256 dimensions), not b (256): run `mira-memory reindex` to rebuild it with the new model"
        let recall = try world.memory(Self.recallOnly("s2", "how many pear trees"), model: "b")
        #expect(recall.status == 74, "\(recall.stderr)")
        #expect(recall.stderr == "mira-memory recall: line 1: \(refusal)\n")
        let failed = try #require(try recall.records().first?["error"] as? [String: Any])
        #expect(failed["stage"] as? String == "mira-memory recall")
        #expect(failed["code"] as? String == "store_failed")

        let search = try world.memory("mira-memory search 'pear trees'", model: "b")
        #expect(search.status == 74, "\(search.stderr)")
        #expect(search.stderr == "mira-memory search: \(refusal)\n")
        #expect(search.stdout.isEmpty)
        #expect(Self.models(try world.memoryStats()) == ["a 256 2"])

        let reindex = try world.memory("mira-memory reindex", model: "b")
        #expect(reindex.status == 0, "\(reindex.stderr)")
        #expect(reindex.stderr.hasPrefix("mira-memory reindex: dropped 2 vectors\nmira-memory reindex: indexed 2 messages and 0 facts with b in "),
                "\(reindex.stderr)")
        let stats = try world.memoryStats()
        #expect(Self.models(stats) == ["b 256 2"])
        #expect(stats["messages"] as? Int == 2 && stats["indexed"] as? Int == 2 && stats["pending"] as? Int == 0, "\(stats)")

        let again = try world.memory(Self.recallOnly("s2", "how many pear trees"), model: "b")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(Self.messageMemories(try again.records().first).first?["text"] as? String == "the orchard has seven pear trees")
    }

    @Test func vectorsOfAnotherDimensionUnderTheSameModelNameAreNeverMixedIn() throws {
        let world = try World()
        #expect(try world.sh(turn("s1", "the orchard has seven pear trees")).status == 0)
        #expect(try world.memory("mira-memory index").status == 0)
        #expect(try world.sh(turn("s1", "the barn has three red doors")).status == 0)
        try world.setEmbedBehaviour("dim:3")
        let index = try world.memory("mira-memory index")
        #expect(index.status == 74, "\(index.stderr)")
        #expect(index.stderr.hasSuffix("""
            mira-memory index: memory is indexed with fake-embed (256 dimensions), not fake-embed (3): run `mira-memory reindex` \
            to rebuild it with the new model (run it again: what was indexed is kept)

            """), "\(index.stderr)")
        let stats = try world.memoryStats()
        #expect(Self.models(stats) == ["fake-embed 256 2"])
        #expect(stats["pending"] as? Int == 2, "\(stats)")
    }

    // MARK: 5. Forgetting leaves no trace

    @Test func removingASessionLeavesNoTraceOfItsWordsInTheFiles() throws {
        let world = try World()
        #expect(try world.memory(Self.recallTurn("keep", "an ordinary day at the office")).status == 0)
        // Older messages, so that the session has a summary to lose too.
        let older = ["we spoke of quokkasummary first"] + (2...16).map { "older remark \($0)" }
        #expect(try world.sh("mira-store import", stdin: Self.jsonl(older, session: "secret")).status == 0)
        #expect(try world.memory(Self.recallTurn("secret", "the pass phrase is quokkazephyr tonight")).status == 0)
        #expect(try world.memory(Self.recallTurn("secret", "I live in quokkaville")).status == 0)
        #expect(try world.memory("mira-memory index").status == 0)
        let summarized = try world.memory("mira-memory summarize secret --force")
        #expect(summarized.status == 0 && summarized.stdout.contains("quokkasummary"), "\(summarized.stdout)\(summarized.stderr)")
        #expect(try world.memoryStats()["facts"] as? Int == 1)
        for word in ["quokkazephyr", "quokkaville", "quokkasummary"] {
            #expect(try world.filesHold(word), "\(word) was never in the files: the check below proves nothing")
        }

        let rm = try world.sh("mira-store rm secret")
        #expect(rm.status == 0, "\(rm.stderr)")
        for word in ["quokkazephyr", "quokkaville", "quokkasummary"] {
            #expect(try !world.filesHold(word), "\(word) is still in mira.db or its WAL after mira-store rm")
        }
        let stats = try world.memoryStats()
        #expect(stats["messages"] as? Int == 2 && stats["indexed"] as? Int == 2 && stats["facts"] as? Int == 0
                && stats["summaries"] as? Int == 0, "\(stats)")
        let search = try world.memory("mira-memory search --json quokkazephyr")
        #expect(search.status == 0, "\(search.stderr)")
        #expect(try search.records().allSatisfy { $0["session"] as? String == "keep" })
    }

    @Test func forgettingAMessageOrAFactLeavesNoTraceOfItsWords() throws {
        let world = try World()
        #expect(try world.memory(Self.recallTurn("s1", "an ordinary day at the office")).status == 0)
        #expect(try world.memory(Self.recallTurn("s1", "the vault code is plughfrobnitz, and I have a cat called zorblaxian")).status == 0)
        #expect(try world.memory("mira-memory index").status == 0)
        #expect(try world.filesHold("plughfrobnitz") && world.filesHold("zorblaxian"))

        // The user's message and Mira's echo of it.
        let listed = try world.memory("mira-memory list --json").records()
        let ids = listed.filter { ($0["text"] as? String)?.contains("plughfrobnitz") == true }.compactMap { ($0["id"] as? Int).map { "m\($0)" } }
        try #require(ids.count == 2, "\(listed)")
        let forget = try world.memory("mira-memory forget \(ids.joined(separator: " "))")
        #expect(forget.status == 0, "\(forget.stderr)")
        #expect(forget.stdoutLines == ids.map { "forgot \($0)" })
        #expect(try !world.filesHold("plughfrobnitz"), "a forgotten message's words are still in the files")
        // The fact still holds its word: the message's forget did not take it.
        #expect(try world.filesHold("zorblaxian"))
        #expect(try world.exported("s1").count == 2)

        let facts = try world.memory("mira-memory facts --json").records()
        let fact = try #require(facts.first { $0["fact"] as? String == "has a cat called zorblaxian" }?["id"] as? String, "\(facts)")
        let forgetFact = try world.memory("mira-memory forget \(fact)")
        #expect(forgetFact.status == 0, "\(forgetFact.stderr)")
        #expect(forgetFact.stdout == "forgot \(fact)\n")
        #expect(try !world.filesHold("zorblaxian"), "a forgotten fact's words are still in the files")
        #expect(try world.memory("mira-memory facts").stdout.isEmpty)
    }

    // MARK: 6. Eight pipelines at once

    @Test func eightPipelinesWithRecallOnOneSessionEmbedEachMessageOnceAndLoseNone() throws {
        let world = try World()
        // A backlog: stored, never indexed.
        let backlog = (1...40).map { "backlog note \($0) about the \(Self.words[$0 % Self.words.count]) number b\($0)" }
        let imported = try world.sh("mira-store import", stdin: Self.jsonl(backlog, session: "old"))
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try world.memoryStats()["pending"] as? Int == 40)

        let inputs = (1...8).map { "pipeline \($0) asks about the \(Self.words[$0]) number p\($0)" }
        var script = ""
        for (i, input) in inputs.enumerated() {
            script += "(\(Self.recallTurn("shared", input)) > out\(i).jsonl 2> err\(i).txt; echo $? > status\(i)) &\n"
        }
        script += "wait\n"
        let run = try world.memory(script)
        #expect(run.status == 0, "\(run.stderr)")
        for i in 0..<8 {
            let status = try String(contentsOfFile: world.dir + "/status\(i)", encoding: .utf8)
            let errors = try String(contentsOfFile: world.dir + "/err\(i).txt", encoding: .utf8)
            #expect(status == "0\n" && errors.isEmpty, "pipeline \(i): \(status) \(errors)")
        }

        let final = try world.memory("mira-memory index")
        #expect(final.status == 0, "\(final.stderr)")
        let stats = try world.memoryStats()
        #expect(stats["messages"] as? Int == 56, "\(stats)")
        #expect(stats["indexed"] as? Int == 56, "\(stats)")
        #expect(stats["pending"] as? Int == 0, "\(stats)")

        let shared = try world.exported("shared")
        #expect(shared.count == 16)
        #expect(try world.halfTurns("shared").isEmpty)
        #expect(Set(shared.filter { $0["role"] as? String == "user" }.compactMap { $0["content"] as? String }) == Set(inputs))

        // Each stored text is embedded once as a message; a turn's input once more, as its query.
        let sent = try world.embeddedInputs().flatMap { $0 }
        var times: [String: Int] = [:]
        for text in sent { times[text, default: 0] += 1 }
        let stored = backlog + shared.compactMap { $0["content"] as? String }
        try #require(Set(stored).count == 56, "message texts must be unique for this check")
        let wrong = stored.filter { times[$0] != (inputs.contains($0) ? 2 : 1) }.map { "\($0): \(times[$0] ?? 0)×" }
        #expect(wrong.isEmpty, "sent for embedding more or less than once as a message: \(wrong)")
    }

    @Test func aFactWaitingForItsVectorIsEmbeddedOnceByEightRecallsAtOnce() throws {
        let world = try World()
        #expect(try world.sh(turn("s0", "I live in Porto")).status == 0)
        var script = ""
        for i in 1...8 { script += "(\(Self.recallTurn("s\(i)", "question \(i)")) > /dev/null 2> err\(i).txt) &\n" }
        let run = try world.memory(script + "wait\n")
        #expect(run.status == 0, "\(run.stderr)")
        let times = try world.embeddedInputs().flatMap { $0 }.filter { $0 == "lives in Porto" }.count
        #expect(times >= 1)
        #expect(try world.memory("mira-memory facts").stdoutLines.count == 1)
        // Facts are claimed before they are embedded, as messages are.
        #expect(times == 1, "the fact was sent for embedding \(times) times")
    }

    // MARK: 7. A backfill

    @Test func indexWithFourJobsEmbedsTwoThousandImportedMessagesOnceAndThenNothing() throws {
        let world = try World()
        let texts = (0..<2000).map { "imported message \($0) mentions \(Self.words[$0 % Self.words.count]) and code k\($0 * 7919 % 10007)" }
        let imported = try world.sh("mira-store import", stdin: Self.jsonl(texts, session: "bulk"))
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stderr == "mira-store import: imported 2000 messages\n")

        let first = try world.memory("mira-memory index -j 4 --batch 100")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.hasPrefix("mira-memory index: indexed 2000 messages and 0 facts with fake-embed in "), "\(first.stderr)")
        let requests = try world.embeddedInputs()
        let sent = requests.flatMap { $0 }
        #expect(sent.count == 2000)
        #expect(Set(sent) == Set(texts))
        #expect(requests.count >= 20, "batches of 100 make at least 20 requests, saw \(requests.count)")
        let stats = try world.memoryStats()
        #expect(stats["indexed"] as? Int == 2000 && stats["pending"] as? Int == 0, "\(stats)")

        let second = try world.memory("mira-memory index -j 4 --batch 100")
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.hasPrefix("mira-memory index: indexed 0 messages and 0 facts with fake-embed in "), "\(second.stderr)")
        #expect(try world.embeddedInputs().count == requests.count, "a second run sent embedding requests")
    }

    // MARK: 8. Hostile input

    /// Texts no layer may change: NUL, right-to-left marks and overrides, terminal escapes, combining marks.
    static let hostile = [
        "nul\u{0}inside the message",
        "right\u{200F}to\u{202E}left override\u{202C} marks",
        "escape \u{1B}]0;PWNED\u{7}\u{1B}[2J sequences",
        "e\u{301} and \u{FFFF} and \u{2028} line separator",
    ]

    @Test func hostileTextsAreStoredByteExactAndRecallNeitherCrashesNorPrintsEscapes() throws {
        let world = try World()
        let big = String(repeating: "megabyte filler words ", count: 48_000)  // 1,056,000 bytes
        let texts = Self.hostile + [big]
        try Self.jsonl(texts, session: "odd").write(toFile: world.dir + "/messages.jsonl", atomically: false, encoding: .utf8)
        let imported = try world.sh("mira-store import < messages.jsonl")
        #expect(imported.status == 0, "\(imported.stderr)")

        // The stored messages embed with the first recall (the megabyte in pieces).
        let recall = try world.memory(Self.recallOnly("s2", "show me the escape sequences"))
        #expect(recall.status == 0, "\(recall.stderr)")
        #expect(recall.stderr.isEmpty)
        #expect(Self.messageMemories(try recall.records().first).contains { $0["text"] as? String == Self.hostile[2] })
        let stats = try world.memoryStats()
        #expect(stats["indexed"] as? Int == 5 && stats["pending"] as? Int == 0, "\(stats)")

        // Each hostile text as the turn's own input, and a megabyte input, through recall, mira-llm and
        // save. A NUL cannot be an argument: the record's input and user message are swapped in by Python.
        let inputs = Self.hostile + [String(repeating: "a megabyte question ", count: 52_000)]
        try String(decoding: JSONSerialization.data(withJSONObject: inputs), as: UTF8.self)
            .write(toFile: world.dir + "/inputs.json", atomically: false, encoding: .utf8)
        let swap = #"import json,sys; r=json.loads(sys.stdin.read()); t=json.load(open("inputs.json"))[int(sys.argv[1])]; r["input"]=t; r["request"]["messages"][-1]["content"]=t; print(json.dumps(r))"#
        for i in inputs.indices {
            let turn = try world.memory("""
                set -o pipefail; mira-store load h\(i) | mira-prompt placeholder | python3 -c \(shellQuote(swap)) \(i) \
                  | mira-memory recall | tee recalled\(i).jsonl | mira-llm | mira-store save h\(i) --format json
                """)
            #expect(turn.status == 0, "\(i): \(turn.stderr)")
            #expect(try world.recordsIn("recalled\(i).jsonl").first?["memories"] != nil, "\(i)")
        }

        // Byte for byte, compared by Python (Swift's String equality is canonical, not exact).
        let compare = try world.sh(#"""
            mira-store export odd | python3 -c '
            import json, sys
            want = [json.loads(l)["content"] for l in open("messages.jsonl", encoding="utf-8").read().split("\n") if l]
            got = [json.loads(l)["content"] for l in sys.stdin.buffer.read().decode().split("\n") if l]
            print([g.encode() == w.encode() for g, w in zip(got, want)], len(got) == len(want))'
            """#)
        #expect(compare.stdout == "[True, True, True, True, True] True\n", "\(compare.stderr)")
        for (i, text) in Self.hostile.enumerated() {
            let exported = try world.sh("mira-store export h\(i) | head -1 | python3 -c 'import json,sys; sys.stdout.buffer.write(json.loads(sys.stdin.read())[\"content\"].encode())'")
            #expect(exported.stdout.utf8.elementsEqual(text.utf8), "h\(i): \(exported.stderr)")
        }

        // Search prints the escape harmlessly as text, and exactly as JSON.
        let shown = try world.memory("mira-memory search --top 20 'pwned escape sequences'")
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("PWNED"), "\(shown.stdout)")
        #expect(!shown.stdout.utf8.contains(0x1B), "raw ESC on stdout")
        #expect(!shown.stdout.utf8.contains(0x07), "raw BEL on stdout")
        let json = try world.memory("mira-memory search --json --top 20 'pwned escape sequences'")
        #expect(try json.records().contains { $0["text"] as? String == Self.hostile[2] })
        let list = try world.memory("mira-memory list --last 50")
        #expect(list.status == 0 && !list.stdout.utf8.contains(0x1B) && !list.stdout.utf8.contains(0))
    }

    @Test func aLoneSurrogateIsRefusedByRecallAndImportAsBadJSON() throws {
        let world = try World()
        let good = try world.sh("mira-store load s1 | mira-prompt hi")
        try #require(good.status == 0)
        let bad = good.stdout.replacingOccurrences(of: #""input":"hi""#, with: #""input":"hi \ud800""#)
        try #require(bad != good.stdout)
        let recall = try world.memory("mira-memory recall", stdin: good.stdout + bad)
        #expect(recall.status == 65, "\(recall.stderr)")
        #expect(recall.stderr.split(separator: "\n").count == 1)
        #expect(recall.stderr.hasPrefix("mira-memory recall: line 2: ") && recall.stderr.contains("unpaired surrogate"), "\(recall.stderr)")
        let records = try recall.records()
        // The good record is recalled, the bad one passed on failed: a line out for every line in.
        #expect(records.count == 2)
        #expect(records.first?["error"] == nil && records.first?["memories"] != nil)
        #expect((records.last?["error"] as? [String: Any])?["code"] as? String == "bad_json")

        let line = #"{"session":"s1","turn":"t1","role":"user","content":"lone \ud800 surrogate","time":"2024-01-01T00:00:00.000Z"}"#
        let imported = try world.sh("mira-store import", stdin: line + "\n")
        #expect(imported.status == 65, "\(imported.stderr)")
        #expect(imported.stderr.contains("unpaired surrogate") && imported.stderr.hasSuffix("(nothing imported)\n"), "\(imported.stderr)")
    }

    // MARK: 9. ChatGPT export

    @Test func anImportedChatGPTExportBecomesSearchableMemory() throws {
        let world = try World()
        let made = try world.sh("python3 \(shellQuote(ChatGPTImportTests.maker)) good conversations.json")
        try #require(made.status == 0, "\(made.stderr)")
        let imported = try world.sh("mira-store import --from chatgpt conversations.json")
        #expect(imported.status == 0, "\(imported.stderr)")
        let index = try world.memory("mira-memory index")
        #expect(index.status == 0, "\(index.stderr)")
        #expect(index.stderr.hasPrefix("mira-memory index: indexed 6 messages and 0 facts with fake-embed in "), "\(index.stderr)")

        let text = try world.memory("mira-memory search 'second wording'")
        #expect(text.status == 0, "\(text.stderr)")
        let fields = try #require(text.stdoutLines.first?.split(separator: "\t", omittingEmptySubsequences: false).map(String.init))
        #expect(fields.count == 6, "\(text.stdout)")
        #expect(fields.first?.hasPrefix("m") == true)
        #expect(Array(fields.dropFirst().prefix(3)) == ["2020-09-13", "chatgpt-conv-b", "user"])
        #expect(fields.last == "second wording")

        let json = try world.memory("mira-memory search --json 'second wording'").records()
        let best = try #require(json.first)
        #expect(best["kind"] as? String == "message" && best["session"] as? String == "chatgpt-conv-b")
        #expect(best["text"] as? String == "second wording" && best["role"] as? String == "user")
        #expect((best["time"] as? String)?.hasPrefix("2020-09-13T12:26:4") == true, "\(best)")
        // What the import left out (another branch, a tool's message) is not remembered.
        let all = try world.memory("mira-memory list --json --last 100").records().compactMap { $0["text"] as? String }
        #expect(all.count == 6)
        #expect(!all.contains("first try") && !all.contains("first wording") && !all.contains("search results"))
    }

    // MARK: 10. Embedding server failures

    @Test func aRateLimitedEmbeddingRequestIsRetriedAndRecallSucceeds() throws {
        let world = try World(serverArguments: ["--embed-behaviour", "429-once"])
        #expect(try world.sh(turn("s1", "the kettle whistles in the morning")).status == 0)
        let recall = try world.memory(Self.recallOnly("s2", "does the kettle whistle"))
        #expect(recall.status == 0, "\(recall.stderr)")
        let record = try #require(try recall.records().first)
        #expect(record["error"] == nil)
        #expect(Self.messageMemories(record).first?["text"] as? String == "the kettle whistles in the morning")
        let embeddings = try world.embeddedInputs()
        #expect(embeddings.count == 2, "the 429 and its retry: \(embeddings.count)")
        #expect(embeddings.first == embeddings.last)
        #expect(try world.memoryStats()["indexed"] as? Int == 2)
    }

    /// Embedding behaviours that never answer right, and the cause recall names
    /// (for the turn's query and the two stored messages, sent in one request).
    static let wrongAnswers = [
        ("wrong-dimension", "embeddings server answered embedding 2 with 255 dimensions where the others have 256"),
        ("wrong-count", "embeddings server answered 2 embeddings for 3 inputs"),
        ("not-json", "embeddings server answered a body that is not JSON (unexpected character at byte 1): <html>oops</html>"),
        ("zero", "embeddings server answered embedding 0 of all zeros, which points nowhere"),
    ]

    @Test(arguments: wrongAnswers)
    func anEmbeddingServerThatAnswersWrongFailsTheTurnAndStoresNoVector(_ behaviour: String, _ cause: String) throws {
        let world = try World(serverArguments: ["--embed-behaviour", behaviour])
        #expect(try world.sh(turn("s1", "the kettle whistles in the morning")).status == 0)
        let pipeline = try world.memory(Self.recallTurn("s2", "does the kettle whistle", tee: "recalled.jsonl"))
        #expect(pipeline.status != 0)
        #expect(pipeline.stderr == """
            mira-memory recall: line 1: \(cause)
            mira-store save: line 1: not saved: the turn failed in mira-memory recall (bad_response)

            """)
        let recalled = try #require(try world.recordsIn("recalled.jsonl").first)
        let error = try #require(recalled["error"] as? [String: Any])
        #expect(error["stage"] as? String == "mira-memory recall")
        #expect(error["code"] as? String == "bad_response")
        #expect(error["message"] as? String == cause)
        #expect(recalled["memories"] == nil)

        // Recall alone says 76 (the server answered with something that is not valid).
        let alone = try world.memory(Self.recallOnly("s2", "does the kettle whistle"))
        #expect(alone.status == 76, "\(alone.stderr)")

        // Nothing half stored; the claims were let go, so a later index takes the messages.
        let stats = try world.memoryStats()
        #expect(stats["indexed"] as? Int == 0 && stats["pending"] as? Int == 2 && Self.models(stats) == [], "\(stats)")
        #expect(try world.exported("s2").isEmpty)
        try world.setEmbedBehaviour("normal")
        let index = try world.memory("mira-memory index")
        #expect(index.status == 0, "\(index.stderr)")
        #expect(index.stderr.hasPrefix("mira-memory index: indexed 2 messages"), "\(index.stderr)")
    }

    // MARK: 11. Usage errors

    @Test func withoutAnEmbeddingModelRecallAsksForTheDefaultModelAtTheChatServer() throws {
        let world = try World()
        let recall = try world.sh("unset MIRA_EMBED_MODEL; " + Self.recallOnly("s1", "hello"))
        #expect(recall.status == 0, "\(recall.stderr)")
        #expect(try recall.records().first?["error"] == nil)
        let models = try world.logEntries().filter { $0["path"] as? String == "/v1/embeddings" }.map { ($0["body"] as? [String: Any])?["model"] as? String }
        #expect(models == ["text-embedding-3-small"])
    }

    @Test func keylessOpenAIEmbeddingsAreAUsageErrorBeforeAnyRequest() throws {
        let world = try World()
        // recall stops before reading: whether mira-prompt then meets a
        // closed pipe is timing, so only recall's own words are compared.
        let recall = try world.sh("mira-store load s1 | mira-prompt hello 2>/dev/null | env -u OPENAI_API_KEY -u OPENAI_BASE_URL mira-memory recall")
        #expect(recall.status == 64, "\(recall.stderr)")
        #expect(recall.stderr == "mira-memory recall: no OPENAI_API_KEY for embeddings at https://api.openai.com/v1: set OPENAI_API_KEY, "
                + "or point MIRA_EMBED_BASE_URL at another embeddings server\n")
        #expect(recall.stdout.isEmpty)
    }

    @Test func forgetNamesABadIdAsUsageAndAMissingOneAsNoInput() throws {
        let world = try World()
        #expect(try world.sh(turn("s1", "hello there")).status == 0)
        for bad in ["x12", "m0", "m-3", "f", "12"] {
            let result = try world.memory("mira-memory forget \(bad)")
            #expect(result.status == 64, "\(bad): \(result.stderr)")
            #expect(result.stderr.contains("is not a memory id"), "\(bad): \(result.stderr)")
        }
        let missing = try world.memory("mira-memory forget m999999")
        #expect(missing.status == 66, "\(missing.stderr)")
        #expect(missing.stderr == "mira-memory forget: no such memory: m999999 (search, list and facts show the ids)\n")
        let missingFact = try world.memory("mira-memory forget f999999")
        #expect(missingFact.status == 66, "\(missingFact.stderr)")
        #expect(try world.exported("s1").count == 2)
        let empty = try world.memory("mira-memory search '  '")
        #expect(empty.status == 64, "\(empty.stderr)")
    }

    @Test func aLongBacklogIsSummarizedInBatchesThatFitASmallModel() throws {
        let world = try World()
        let texts = (0..<100).map { "backlog message \($0)" }
        #expect(try world.sh("mira-store import", stdin: Self.jsonl(texts, session: "long")).status == 0)
        let summarized = try world.sh("mira-memory summarize long")
        #expect(summarized.status == 0, "\(summarized.stderr)")
        // 85 older than the 15 a turn loads: batches of at most 30, so 3 summaries, in order.
        #expect(summarized.stdout.split(separator: "\n").count == 3, "\(summarized.stdout)")
        let stats = try world.memoryStats()
        #expect(stats["summaries"] as? Int == 3, "\(stats)")
    }

    @Test func aBackgroundSummaryWaitsForNoneAlreadyRunning() throws {
        let world = try World()
        let texts = (0..<60).map { "backlog message \($0)" }
        #expect(try world.sh("mira-store import", stdin: Self.jsonl(texts, session: "long")).status == 0)
        // Another summarizer holds the lock: this one leaves at once and asks nothing.
        let state = world.dir + "/state/mira"
        let held = try world.sh("mkdir -p \(state) && flock \(state)/summarize.lock mira _summarize long")
        #expect(held.status == 0, "\(held.stderr)")
        #expect(try world.memoryStats()["summaries"] as? Int == 0)
        let free = try world.sh("mira _summarize long")
        #expect(free.status == 0, "\(free.stderr)")
        #expect(try world.memoryStats()["summaries"] as? Int == 1)
    }

    /// A turn after which a summary is due starts `mira _summarize` in the
    /// background. It writes the summary, and holds none of its caller's
    /// descriptors meanwhile: whoever reads a pipe given to `mira` would
    /// otherwise wait for the summary too.
    @Test func aTurnStartsItsSummaryInTheBackgroundHoldingNoneOfTheCallersFiles() throws {
        // The second chat request, the summary's, waits 5 s: time to look at it.
        let world = try World(behaviour: "hold:2:5000")
        let texts = (0..<40).map { "backlog message \($0)" }
        #expect(try world.sh("mira-store import", stdin: Self.jsonl(texts, session: "long")).status == 0)
        let turn = try world.memory("""
            mira -s long 'one more thing' 7> held.txt > reply.txt || exit
            for p in /proc/[0-9]*; do
              [ "$(tr '\\0' ' ' < $p/cmdline 2>/dev/null)" = "/proc/self/exe _summarize long " ] && pid=${p#/proc/}
            done
            [ -n "$pid" ] || { echo "no summary running"; exit 1; }
            echo "summarizer $pid holds: $(ls -l /proc/$pid/fd | grep -c held.txt)"
            """)
        #expect(turn.status == 0, "\(turn.stdout)\(turn.stderr)")
        #expect(turn.stdout.hasPrefix("summarizer ") && turn.stdout.hasSuffix(" holds: 0\n"), "\(turn.stdout)")
        let deadline = Date().addingTimeInterval(60)
        while try world.memoryStats()["summaries"] as? Int != 1 && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        #expect(try world.memoryStats()["summaries"] as? Int == 1)
    }

    // MARK: 12. Summaries

    @Test func aForcedSummaryIsStoredAndTheNextRecallInTheSessionCarriesIt() throws {
        let world = try World()
        // 20 messages: the 5 older than the 15 a turn loads wait for a summary.
        let texts = (1...20).map { "early remark \($0) about the \(Self.words[$0 % Self.words.count])" }
        #expect(try world.sh("mira-store import", stdin: Self.jsonl(texts, session: "s1")).status == 0)
        let before = try world.memory(Self.recallOnly("s1", "hello again"))
        #expect(before.status == 0, "\(before.stderr)")
        #expect(!Self.memories(try before.records().first).contains { $0["kind"] as? String == "summary" })

        let notDue = try world.memory("mira-memory summarize s1")
        #expect(notDue.status == 0 && notDue.stdout.isEmpty, "\(notDue.stdout)\(notDue.stderr)")
        let forced = try world.memory("mira-memory summarize s1 --force")
        #expect(forced.status == 0, "\(forced.stderr)")
        let line = try #require(forced.stdoutLines.first)
        #expect(line.hasPrefix("s1\techo: "), "\(line)")
        #expect(try world.memoryStats()["summaries"] as? Int == 1)

        let after = try world.memory(Self.recallOnly("s1", "hello again"))
        #expect(after.status == 0, "\(after.stderr)")
        let summaries = Self.memories(try after.records().first).filter { $0["kind"] as? String == "summary" }
        #expect(summaries.count == 1)
        #expect(summaries.first?["session"] as? String == "s1")
        let summary = try #require(summaries.first?["text"] as? String)
        #expect(summary.hasPrefix("echo: [2024-01-01] person: early remark 1 about"), "\(summary)")
        #expect(summary.contains("early remark 5 about") && !summary.contains("early remark 6 about"), "\(summary)")
        // Another session's recall does not carry it.
        let other = try world.memory(Self.recallOnly("s2", "hello again"))
        #expect(!Self.memories(try other.records().first).contains { $0["kind"] as? String == "summary" })
    }

    // MARK: Helpers

    static let words = ["harbour", "violin", "glacier", "saffron", "lantern", "orchid", "compass", "meadow", "falcon", "pebble", "tundra"]

    static func twoDigits(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// Messages as `mira-store export` writes them, alternating user and
    /// assistant (a turn for each pair), a second apart.
    static func jsonl(_ texts: [String], session: String) throws -> String {
        var out = ""
        for (i, text) in texts.enumerated() {
            let message: [String: Any] = [
                "session": session, "turn": "t\(i / 2)", "role": i % 2 == 0 ? "user" : "assistant", "content": text,
                "time": "2024-01-01T\(Self.twoDigits(i / 3600)):\(Self.twoDigits(i / 60 % 60)):\(Self.twoDigits(i % 60)).000Z",
            ]
            out += String(decoding: try JSONSerialization.data(withJSONObject: message, options: [.sortedKeys]), as: UTF8.self) + "\n"
        }
        return out
    }
}

fileprivate extension World {
    /// Runs `command` with memory on: MIRA_EMBED_MODEL names `model`.
    func memory(_ command: String, stdin: String? = nil, model: String = "fake-embed") throws -> Outcome {
        try sh(command, stdin: stdin, extraEnvironment: ["MIRA_EMBED_MODEL": model])
    }

    /// The records in a file of this world.
    func recordsIn(_ file: String) throws -> [[String: Any]] {
        try Outcome(status: 0, stdout: String(contentsOfFile: dir + "/" + file, encoding: .utf8), stderr: "").records()
    }

    /// The inputs of each embedding request the server got, in arrival order.
    func embeddedInputs() throws -> [[String]] {
        try logEntries().filter { $0["path"] as? String == "/v1/embeddings" }.map { entry in
            let input = (entry["body"] as? [String: Any])?["input"]
            if let one = input as? String { return [one] }
            return input as? [String] ?? []
        }
    }

    /// `mira-memory stats --json`.
    func memoryStats() throws -> [String: Any] {
        let result = try memory("mira-memory stats --json")
        #expect(result.status == 0, "\(result.stderr)")
        return try result.records().first ?? [:]
    }

    /// Whether the database file or its WAL holds `word`'s bytes anywhere
    /// (read directly, not through SQLite).
    func filesHold(_ word: String) throws -> Bool {
        var found = false
        for file in [database, database + "-wal"] where FileManager.default.fileExists(atPath: file) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            if bytes.range(of: Data(word.utf8)) != nil { found = true }
        }
        return found
    }

    /// Switches how the fake server answers embeddings.
    func setEmbedBehaviour(_ name: String) throws {
        let script = "import sys,urllib.request;urllib.request.urlopen(urllib.request.Request(sys.argv[1],data=sys.argv[2].encode()))"
        let result = try sh("python3 -c \(shellQuote(script)) http://127.0.0.1:\(port)/control \(shellQuote("{\"embed_behaviour\":\"\(name)\"}"))")
        #expect(result.status == 0, "\(result.stderr)")
    }
}
