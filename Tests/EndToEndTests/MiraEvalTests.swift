import Foundation
import Testing

/// The built mira-eval on the hand-checked result set and on a real replay.
@Suite struct MiraEvalTests {
    static let fixture = packageRoot + "/Tests/Support/eval-results.jsonl"

    func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func theJSONReportCountsTheResultsAndABadLineMakesExit65() throws {
        let world = try World()
        let result = try world.sh("mira-eval --json --price-in 2 --price-out 8 < \(shellQuote(Self.fixture))")
        #expect(result.status == 65)
        #expect(result.stderr == "mira-eval: line 10: not JSON: unexpected character at byte 1\n")
        let report = try object(result.stdout)
        #expect(report["records"] as? Int == 11)
        #expect(report["passed"] as? Int == 4)
        #expect(report["errors"] as? [String: Int] == ["bad_json": 1, "timeout": 1])
        #expect((report["latency_ms"] as? [String: Any])?["p50"] as? Int == 400)
        #expect((report["cost_usd"] as? [String: Any])?["total"] as? Double == 0.01008)
    }

    @Test func annotateWritesEachRecordBackWithItsVerdict() throws {
        let world = try World()
        let result = try world.sh("mira-eval --annotate \(shellQuote(Self.fixture))")
        #expect(result.status == 65)
        let records = try result.records()
        try #require(records.count == 11)
        #expect(records.map { $0["id"] as? String }.prefix(3) == ["t1", "t2", "t3"])
        let verdicts = records.map { $0["eval"] as? [String: Any] ?? [:] }
        #expect(verdicts.map { $0["pass"] as? Bool } == [true, true, false, true, false, false, false, true, false, false, false])
        #expect(verdicts[4]["failed"] as? [String] == ["mood_mismatch"])
        #expect(verdicts[6]["error"] as? String == "timeout")
    }

    @Test func theMarkdownReportHasATablePerSection() throws {
        let world = try World()
        let result = try world.sh("grep -v '^not json' \(shellQuote(Self.fixture)) | mira-eval --markdown")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("## Mira eval\n"))
        #expect(result.stdout.contains("| passed | 4 (40.0%) |"))
        #expect(result.stdout.contains("| persona_mismatch | 1 |"))
    }

    @Test func thePassRateGateSetsTheExitStatus() throws {
        let world = try World()
        let good = "grep -v '^not json' \(shellQuote(Self.fixture))"
        #expect(try world.sh("\(good) | mira-eval --min-pass-rate 0.4 > /dev/null").status == 0)
        let below = try world.sh("\(good) | mira-eval --min-pass-rate 50% > /dev/null")
        #expect(below.status == 1)
        #expect(below.stderr == "mira-eval: pass rate 40.0% is below the minimum 50.0%\n")
        // The gate decides before a bad line does.
        #expect(try world.sh("mira-eval --min-pass-rate 0.9 \(shellQuote(Self.fixture)) > /dev/null").status == 1)
        #expect(try world.sh("mira-eval --min-pass-rate 0.9 < /dev/null > /dev/null").status == 1)
    }

    // The hostile corpus: a record the parser refuses is a failed record and
    // one stderr line giving its reason; a readable record with a bad reply
    // fails the reply's own check, never passes.
    @Test func everyHostileLineFailsForItsOwnReason() throws {
        let world = try World()
        try HostileInputTests.baseRecord(world)
        let defects = try HostileInputTests.corpus(world, "records base.json bad.jsonl")
        let result = try world.sh("mira-eval --annotate < bad.jsonl")
        #expect(result.status == 65)
        let unreadable = defects.indices.filter { defects[$0].codes["mira-llm"] ?? nil != nil }
        let errors = result.stderr.split(separator: "\n").map(String.init).filter { !$0.contains("left out") }
        #expect(errors.count == unreadable.count, "\(result.stderr)")
        for (line, k) in zip(errors, unreadable) {
            #expect(line.hasPrefix("mira-eval: line \(k + 1): "), "\(defects[k].name): \(line)")
            #expect(line.contains(defects[k].reason), "\(defects[k].name): \(line)")
        }
        // Every line has the same turn id, so only the last one is scored; all are annotated.
        let records = try result.records()
        #expect(records.count == defects.count)
        #expect(records.allSatisfy { ($0["eval"] as? [String: Any])?["pass"] as? Bool == false })
        for (record, defect) in zip(records, defects) where defect.codes["mira-llm"] ?? nil == nil {
            let failed = (record["eval"] as? [String: Any])?["failed"] as? [String] ?? []
            #expect(failed == ["invalid_reply"] || failed == ["unknown_persona"], "\(defect.name): \(failed)")
        }
    }

    @Test func usageErrorsAndMissingFilesHaveTheirStatuses() throws {
        let world = try World()
        #expect(try world.sh("mira-eval --json --markdown < /dev/null").status == 64)
        #expect(try world.sh("mira-eval --min-pass-rate 1.5 < /dev/null").status == 64)
        #expect(try world.sh("mira-eval --annotate --json < /dev/null").status == 64)
        let missing = try world.sh("mira-eval no-such-file.jsonl")
        #expect(missing.status == 66)
        #expect(missing.stderr == "mira-eval: cannot read results file no-such-file.jsonl: No such file or directory\n")
    }

    @Test func aReplayedConversationIsScoredAgainstItsExpectations() throws {
        let world = try World()
        // The fake server always answers as default with a curious mood.
        let transcripts = [
            #"{"id":"a","expect":{"persona":"default","mood":"curious"},"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hey","persona":"default","mood":"warm"},{"role":"user","content":"how are you"}]}"#,
            #"{"id":"b","expect":{"persona":"haven"},"messages":[{"role":"user","content":"I am scared"}]}"#,
        ].joined(separator: "\n") + "\n"
        let result = try world.sh("mira-prompt --replay | mira-llm | mira-eval --json --min-pass-rate 0.6", stdin: transcripts)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try object(result.stdout)
        #expect(report["records"] as? Int == 3)
        #expect(report["passed"] as? Int == 2)
        #expect(report["failures"] as? [String: Int] == ["persona_mismatch": 1])
        #expect(report["confusion"] as? [String: [String: Int]] == ["default": ["default": 2], "haven": ["default": 1]])
        #expect(report["gate_passed"] as? Bool == true)
    }
}
