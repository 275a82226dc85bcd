import Foundation
import Testing

/// The real local model (llama.cpp's server with SmolLM2-135M), built into
/// the cache when absent. Asserts structure, never wording: a 135M model's
/// words are poor, its JSON under a grammar is not.
@Suite(.serialized) struct LocalModelTests {
    static let personas: Set<String> = ["default", "forbidden", "hallow", "haven"]
    /// A first build compiles llama.cpp (about 11 minutes on 2 cores; make
    /// test does it before the tests, so here it is usually a quick check).
    static let buildTime: Double = 3600

    @Test func aMultiTurnConversationWithTheRealLocalModelIsValidAndRemembered() throws {
        let world = try World()
        let script = packageRoot + "/scripts/local-server.sh"
        let build = try world.sh("\(shellQuote(script)) build", timeout: Self.buildTime)
        try #require(build.status == 0, "local server build failed: \(build.stderr.suffix(2000))")

        // Use a server that is already running (the user's); else start one and stop it after.
        let wasRunning = try world.sh("\(shellQuote(script)) status").status == 0
        let start = try world.sh("\(shellQuote(script)) start")
        try #require(start.status == 0, "local server did not start: \(start.stderr.suffix(2000))")
        defer { if !wasRunning { _ = try? world.sh("\(shellQuote(script)) stop") } }
        // `start` prints `export NAME=value …`: the settings this server needs.
        var local = ["OPENAI_API_KEY": ""]
        for pair in start.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").dropFirst() {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { local[parts[0]] = parts[1] }
        }
        #expect(local["OPENAI_BASE_URL"]?.hasPrefix("http://127.0.0.1:") == true)
        #expect(local["MIRA_STRUCTURED"] == "json-schema")
        let messages = ["rough day, my boss yelled at me", "I keep replaying it", "tell me something kind"]
        var records: [[String: Any]] = []
        for (k, message) in messages.enumerated() {
            // The last turn uses the default forced-tool request: this server
            // ignores it, so it exercises mira-llm's json-schema fallback.
            let structured = k == messages.count - 1 ? "--structured tools" : ""
            let result = try world.sh(
                "mira-store load s1 | mira-prompt \(structured) \(shellQuote(message)) | mira-llm --timeout 120 | mira-store save s1",
                extraEnvironment: local)
            try #require(result.status == 0, "turn \(k + 1) failed: \(result.stderr)")
            let record = try #require(try result.records().first)
            let reply = try #require(record["reply"] as? [String: Any])
            #expect(!((reply["output"] as? String) ?? "").isEmpty)
            #expect(Self.personas.contains(reply["persona"] as? String ?? ""))
            #expect(!((reply["mood"] as? String) ?? "").isEmpty)
            records.append(record)
        }

        // The second request carried the first turn.
        let second = try #require((records[1]["request"] as? [String: Any])?["messages"] as? [[String: Any]])
        let firstReply = try #require((records[0]["reply"] as? [String: Any])?["output"] as? String)
        #expect(second.map { $0["role"] as? String } == ["system", "user", "assistant", "user"])
        #expect(second[1]["content"] as? String == messages[0])
        #expect(second[2]["content"] as? String == firstReply)

        let stored = try world.exported("s1")
        #expect(stored.count == 6)
        #expect(stored.map { $0["role"] as? String } == ["user", "assistant", "user", "assistant", "user", "assistant"])
    }
}

/// The real local embedding server (a second llama-server with --embeddings
/// serving all-MiniLM-L6-v2), built and started the way the chat model's test
/// does it, in the same serialized suite: each test stops the servers it
/// started, so the two must never run at once. Its vectors were compared with
/// a reference computed from the original weights when it was built
/// (scripts/embed-check.py); this asserts what Mira relies on over HTTP.
extension LocalModelTests {
    static let paraphrases = ["My sister lives in Lisbon and works as a nurse.", "My sister is a nurse; she lives in Lisbon."]
    static let unrelated = ["The stock market fell sharply on Tuesday.", "How long should sourdough bread rise?"]

    @Test func theEmbeddingServerAnswersUnitVectorsWhereAParaphraseIsNearest() throws {
        let world = try World()
        let script = packageRoot + "/scripts/local-server.sh"
        let build = try world.sh("\(shellQuote(script)) build", timeout: Self.buildTime)
        try #require(build.status == 0, "local server build failed: \(build.stderr.suffix(2000))")

        let wasRunning = try world.sh("\(shellQuote(script)) status").status == 0
        let start = try world.sh("\(shellQuote(script)) start")
        try #require(start.status == 0, "local servers did not start: \(start.stderr.suffix(2000))")
        defer { if !wasRunning { _ = try? world.sh("\(shellQuote(script)) stop") } }
        var settings: [String: String] = [:]
        for pair in start.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").dropFirst() {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { settings[parts[0]] = parts[1] }
        }
        let base = try #require(settings["MIRA_EMBED_BASE_URL"])
        #expect(base.hasPrefix("http://127.0.0.1:") && base.hasSuffix("/v1"))
        #expect(base != settings["OPENAI_BASE_URL"])
        #expect(settings["MIRA_EMBED_MODEL"] == "all-MiniLM-L6-v2")
        #expect(settings["MIRA_EMBED_MAX_INPUT"] == "500")

        // The longest input Mira sends in the worst case: 500 bytes that are
        // each a token of their own (500 + [CLS] + [SEP] of the 512 allowed).
        let longest = String(repeating: "!", count: 500)
        let inputs = Self.paraphrases + Self.unrelated + [longest]
        let batch = try embeddings(inputs, base: base, world: world)
        try #require(batch.count == inputs.count)
        for (k, vector) in batch.enumerated() {
            #expect(vector.count == 384, "input \(k): \(vector.count) dimensions")
            #expect(vector.allSatisfy { $0.isFinite })
            let norm = sqrt(vector.reduce(0) { $0 + $1 * $1 })
            #expect(abs(norm - 1) < 1e-3, "input \(k): norm \(norm)")
        }
        let paraphrase = cosine(batch[0], batch[1])
        let nearestUnrelated = max(cosine(batch[0], batch[2]), cosine(batch[0], batch[3]))
        #expect(paraphrase > nearestUnrelated + 0.3, "paraphrase \(paraphrase), unrelated \(nearestUnrelated)")

        // An input alone gets the vector it got in the batch (batching mixes nothing).
        let alone = try embeddings([Self.unrelated[0]], base: base, world: world)
        try #require(alone.count == 1)
        #expect(cosine(alone[0], batch[2]) > 0.9999)
    }

    /// POSTs the inputs to BASE/embeddings with curl; the vectors in input order.
    func embeddings(_ inputs: [String], base: String, world: World) throws -> [[Double]] {
        let body = try JSONSerialization.data(withJSONObject: ["input": inputs, "model": "all-MiniLM-L6-v2"])
        let file = world.dir + "/embed-request-\(UUID().uuidString).json"
        try body.write(to: URL(fileURLWithPath: file))
        let result = try world.sh(
            "curl -sS --noproxy '*' --max-time 60 -H 'Content-Type: application/json' --data-binary @\(shellQuote(file)) -w '\\n%{http_code}' \(shellQuote(base + "/embeddings"))")
        try #require(result.status == 0, "curl failed: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        try #require(lines.last == "200", "HTTP \(lines.last ?? "?"): \(result.stdout.prefix(500))")
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(lines.dropLast().joined(separator: "\n").utf8)) as? [String: Any])
        let data = try #require(answer["data"] as? [[String: Any]])
        var vectors = [[Double]?](repeating: nil, count: inputs.count)
        for item in data {
            let index = try #require(item["index"] as? Int)
            try #require(vectors.indices.contains(index) && vectors[index] == nil, "bad or repeated index \(index)")
            vectors[index] = try #require(item["embedding"] as? [Double])
        }
        return vectors.compactMap { $0 }
    }

    func cosine(_ a: [Double], _ b: [Double]) -> Double {
        let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        let na = sqrt(a.reduce(0) { $0 + $1 * $1 }), nb = sqrt(b.reduce(0) { $0 + $1 * $1 })
        return dot / (na * nb)
    }
}

extension LocalModelTests {
    /// Memory offline: with the real all-MiniLM-L6-v2 server, a question in
    /// other words finds, in a new session, what was said in an old one.
    @Test func recallWithTheLocalEmbeddingServerFindsAFactFromAnotherSession() throws {
        let world = try World()
        let script = packageRoot + "/scripts/local-server.sh"
        let build = try world.sh("\(shellQuote(script)) build", timeout: Self.buildTime)
        try #require(build.status == 0, "local server build failed: \(build.stderr.suffix(2000))")
        let wasRunning = try world.sh("\(shellQuote(script)) status").status == 0
        let start = try world.sh("\(shellQuote(script)) start")
        try #require(start.status == 0, "local servers did not start: \(start.stderr.suffix(2000))")
        defer { if !wasRunning { _ = try? world.sh("\(shellQuote(script)) stop") } }
        var settings: [String: String] = ["OPENAI_API_KEY": ""]
        for pair in start.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").dropFirst() {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { settings[parts[0]] = parts[1] }
        }

        let said = [
            "I have a ginger cat called Miso who sleeps on my keyboard.",
            "The bus was late again this morning.", "I finished a book about the history of salt.",
            "Work was fine, nothing special.", "My back hurts from sitting all day.",
            "Coffee or tea, what's your vote?", "The wifi died twice today.",
        ]
        let lines = said.enumerated().map { k, text in
            #"{"session":"old","turn":"t\#(k)","role":"user","content":"\#(text)","time":"2026-01-0\#(k + 1)T10:00:00Z"}"#
        }
        let imported = try world.sh("mira-store import", stdin: lines.joined(separator: "\n") + "\n")
        try #require(imported.status == 0, "\(imported.stderr)")

        let recalled = try world.sh(
            "mira-store load new | mira-prompt 'what was the name of my pet again?' | mira-memory recall", extraEnvironment: settings)
        try #require(recalled.status == 0, "\(recalled.stderr)")
        let record = try #require(try recalled.records().first)
        let memories = try #require(record["memories"] as? [[String: Any]])
        let first = memories.first { $0["kind"] as? String == "message" }
        #expect((first?["text"] as? String)?.contains("Miso") == true, "recalled first: \(memories.map { $0["text"] ?? "" })")
        #expect(first?["session"] as? String == "old")
        let request = try #require(record["request"] as? [String: Any])
        let system = (request["messages"] as? [[String: Any]])?.compactMap { $0["content"] as? String } ?? []
        #expect(system.contains { $0.hasPrefix("## What you remember") && $0.contains("Miso") })
        // Every imported message got its vector from the real server.
        let stats = try world.sh("mira-memory stats --json", extraEnvironment: settings)
        #expect(stats.stdout.contains(#""indexed":7"#) && stats.stdout.contains("all-MiniLM-L6-v2"), "\(stats.stdout)")
    }
}
