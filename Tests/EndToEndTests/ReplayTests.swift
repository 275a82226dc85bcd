import Foundation
import Testing

/// mira-prompt --replay: whole conversations regenerated turn by turn.
@Suite struct ReplayTests {
    static let transcripts = [
        #"{"id":"t1","suite":"grief","expect":{"persona":["haven","default"]},"messages":[{"role":"user","content":"my cat died"},{"role":"assistant","content":"oh no","persona":"haven","mood":"tender"},{"role":"user","content":"I miss her","expect":{"mood":"gentle"}}]}"#,
        #"{"messages":[{"role":"system","content":"keep it short"},{"role":"user","content":"hi"}]}"#,
    ].joined(separator: "\n") + "\n"

    func history(_ record: [String: Any]) -> [[String: Any]] {
        record["history"] as? [[String: Any]] ?? []
    }

    @Test func transcriptsBecomeOneTurnPerUserMessageWithTheirIdsAndExpectations() throws {
        let world = try World()
        let result = try world.sh("mira-prompt --replay", stdin: Self.transcripts)
        #expect(result.status == 0, "\(result.stderr)")
        let records = try result.records()
        try #require(records.count == 3)
        #expect(records.map { $0["turn"] as? String } == ["t1:1", "t1:2", "line-2:1"])
        #expect(records.map { $0["input"] as? String } == ["my cat died", "I miss her", "hi"])
        #expect(records[0]["suite"] as? String == "grief")
        #expect(records[0]["expect"] as? [String: [String]] == ["persona": ["haven", "default"]])
        #expect(records[1]["expect"] as? [String: String] == ["mood": "gentle"])
        #expect(records[2]["expect"] == nil)
        #expect(history(records[1]).map { $0["role"] as? String } == ["user", "assistant"])
        #expect(history(records[1])[1]["persona"] as? String == "haven")
        #expect(history(records[2]).map { $0["role"] as? String } == ["system"])
        // The request holds the history as mira-prompt sends it.
        let messages = (records[1]["request"] as? [String: Any])?["messages"] as? [[String: Any]] ?? []
        #expect(messages.map { $0["content"] as? String }.dropFirst() == ["my cat died", "oh no", "I miss her"])
    }

    @Test func replayedTurnsRunThroughTheModelAndKeepTheirIdsForResume() throws {
        let world = try World()
        try Self.transcripts.write(toFile: world.dir + "/t.jsonl", atomically: true, encoding: .utf8)
        let first = try world.sh("mira-prompt --replay < t.jsonl | mira-llm > results.jsonl")
        #expect(first.status == 0, "\(first.stderr)")
        let results = try world.sh("cat results.jsonl").records()
        #expect(results.map { $0["turn"] as? String } == ["t1:1", "t1:2", "line-2:1"])
        #expect(results.allSatisfy { $0["reply"] != nil && $0["id"] != nil })
        #expect(results[0]["id"] as? String == "t1")
        #expect(results[1]["expect"] as? [String: String] == ["mood": "gentle"])
        // A second replay makes the same turn ids, so --resume has nothing left to do.
        let again = try world.sh("mira-prompt --replay < t.jsonl | mira-llm --resume results.jsonl")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.isEmpty)
        #expect(try world.requests().count == 3)
    }

    @Test func storedSessionsExportedTogetherAreReplayedOnePerSession() throws {
        let world = try World()
        #expect(try world.sh(turn("s1", "first")).status == 0)
        #expect(try world.sh(turn("s1", "second")).status == 0)
        #expect(try world.sh(turn("s2", "other")).status == 0)
        let result = try world.sh("{ mira-store export s1; mira-store export s2; } | mira-prompt --replay --persona haven")
        #expect(result.status == 0, "\(result.stderr)")
        let records = try result.records()
        #expect(records.map { $0["turn"] as? String } == ["s1:1", "s1:2", "s2:1"])
        #expect(records.map { $0["id"] as? String } == ["s1", "s1", "s2"])
        #expect(records.map { $0["input"] as? String } == ["first", "second", "other"])
        #expect(history(records[1]).map { $0["role"] as? String } == ["user", "assistant"])
        #expect(history(records[1])[1]["persona"] as? String == "default")
        #expect(history(records[1])[0]["time"] is String)
        // Replayed turns belong to no session, so saving them cannot touch the originals.
        #expect(records.allSatisfy { $0["session"] == nil })
        #expect(records.allSatisfy { $0["persona"] as? String == "haven" })
    }

    @Test func aBadTranscriptIsOneErrorRecordAndTheRunGoesOnWithExitStatus65() throws {
        let world = try World()
        let input = #"{"id":"empty","messages":[]}"# + "\nnot json\n" + Self.transcripts
        let result = try world.sh("mira-prompt --replay", stdin: input)
        #expect(result.status == 65)
        let records = try result.records()
        #expect(records.count == 5)
        #expect((records[0]["error"] as? [String: Any])?["code"] as? String == "no_input")
        #expect((records[1]["error"] as? [String: Any])?["code"] as? String == "bad_json")
        #expect(records[4]["turn"] as? String == "line-4:1")
        #expect(result.stderr.contains("mira-prompt: line 1: "))
        #expect(result.stderr.contains("mira-prompt: line 2: not JSON"))
    }

    // Each line is a good transcript but for one defect: the code and the
    // reason must be that defect's.
    @Test func everyHostileLineGetsItsOwnErrorRecordAndStderrLine() throws {
        let world = try World()
        let defects = try HostileInputTests.corpus(world, "transcripts bad.jsonl")
        let result = try world.sh("mira-prompt --replay < bad.jsonl")
        #expect(result.status == 65)
        let errors = result.stderr.split(separator: "\n").map(String.init)
        #expect(errors.count == defects.count, "\(result.stderr)")
        for (k, (line, defect)) in zip(errors, defects).enumerated() {
            #expect(line.hasPrefix("mira-prompt: line \(k + 1): "), "\(defect.name): \(line)")
            #expect(line.contains(defect.reason), "\(defect.name): \(line)")
        }
        let records = try result.records()
        #expect(records.count == defects.count)
        for (record, defect) in zip(records, defects) {
            let error = record["error"] as? [String: Any]
            #expect(error?["stage"] as? String == "mira-prompt", "\(defect.name)")
            #expect(error?["code"] as? String == defect.codes["mira-prompt --replay"] ?? nil, "\(defect.name): \(record)")
        }
    }

    @Test func replayWithAMessageArgumentIsAUsageError() throws {
        let world = try World()
        let result = try world.sh("mira-prompt --replay hi", stdin: Self.transcripts)
        #expect(result.status == 64)
        #expect(result.stdout.isEmpty)
    }
}
