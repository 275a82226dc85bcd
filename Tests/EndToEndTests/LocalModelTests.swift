import Foundation
import Testing

/// The real local model (llama.cpp's server with SmolLM2-135M), built into
/// the cache when absent. Asserts structure, never wording: a 135M model's
/// words are poor, its JSON under a grammar is not.
@Suite(.serialized) struct LocalModelTests {
    static let personas: Set<String> = ["default", "forbidden", "hallow", "haven"]

    @Test func aMultiTurnConversationWithTheRealLocalModelIsValidAndRemembered() throws {
        let world = try World()
        let script = packageRoot + "/scripts/local-server.sh"
        let build = try world.sh("\(shellQuote(script)) build")
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
