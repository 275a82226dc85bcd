import Foundation
import Testing

/// mira-llm as a batch engine: many requests in flight, output in input
/// order, resumable, polite under rate limits, and round trips through the
/// OpenAI Batch API's files.
@Suite struct BatchRunTests {
    /// `count` prepared turns t1…tN in prepared.jsonl.
    func prepare(_ world: World, count: Int) throws {
        let batch = (1...count).map { #"{"turn":"t\#($0)","input":"question \#($0)"}"# }.joined(separator: "\n") + "\n"
        let result = try world.sh("mira-prompt > prepared.jsonl", stdin: batch)
        try #require(result.status == 0, "\(result.stderr)")
    }

    @Test func outputKeepsInputOrderUnderRandomLatencies() throws {
        let world = try World(behaviour: "jitter:60")
        try prepare(world, count: 150)
        let result = try world.sh("mira-llm -j 16 < prepared.jsonl")
        #expect(result.status == 0, "\(result.stderr)")
        let records = try result.records()
        #expect(records.compactMap { $0["turn"] as? String } == (1...150).map { "t\($0)" })
        #expect(records.allSatisfy { $0["reply"] != nil })
        // Each reply is the answer to its own question, not a neighbour's.
        #expect(records.enumerated().allSatisfy { k, r in
            ((r["reply"] as? [String: Any])?["output"] as? String)?.hasPrefix("echo: question \(k + 1) (") == true
        })
        #expect(result.stderr.contains("150 records in"), "\(result.stderr)")
        #expect(try world.requests().count == 150)
    }

    @Test func unorderedOutputHoldsEveryTurnOnce() throws {
        let world = try World(behaviour: "jitter:40")
        try prepare(world, count: 80)
        let result = try world.sh("mira-llm -j 16 --unordered < prepared.jsonl")
        #expect(result.status == 0, "\(result.stderr)")
        let turns = try result.records().compactMap { $0["turn"] as? String }
        #expect(turns.count == 80 && Set(turns) == Set((1...80).map { "t\($0)" }))
    }

    @Test(arguments: ["TERM", "KILL"])
    func aParallelRunKilledMidwayResumesWithNoTurnLostOrDoneTwice(_ signal: String) throws {
        let world = try World(behaviour: "delay:50")
        try prepare(world, count: 200)
        let first = try world.sh("""
            mira-llm -j 8 < prepared.jsonl > first.jsonl & pid=$!
            while kill -0 $pid 2>/dev/null && [ "$(wc -l < first.jsonl 2>/dev/null || echo 0)" -lt 20 ]; do sleep 0.02; done
            kill -\(signal) $pid; wait $pid; echo "status=$?"
            """)
        #expect(first.stdout.contains(signal == "TERM" ? "status=143" : "status=137"), "\(first.stdout)")
        if signal == "TERM" { #expect(first.stderr.contains("stopped by signal 15"), "\(first.stderr)") }
        let firstText = try String(contentsOfFile: world.dir + "/first.jsonl", encoding: .utf8)
        #expect(firstText.isEmpty || firstText.hasSuffix("\n"), "the output ends with a whole line")
        let done = try world.sh("cat first.jsonl").records()
        #expect(done.count > 0 && done.count < 200, "killed midway: \(done.count) of 200")

        let second = try world.sh("mira-llm -j 8 --resume first.jsonl < prepared.jsonl > second.jsonl")
        #expect(second.status == 0, "\(second.stderr)")
        let all = try world.sh("cat first.jsonl second.jsonl").records()
        let turns = all.compactMap { $0["turn"] as? String }
        #expect(turns.count == 200, "every turn once")
        #expect(Set(turns) == Set((1...200).map { "t\($0)" }))
        #expect(all.allSatisfy { $0["reply"] != nil })
        // Asked twice at most: the eight requests in flight at the kill, and
        // with SIGKILL also the answers waiting in the reorder buffer (4 × 8)
        // behind an unfinished one, which only a clean stop can still write.
        #expect((200...(signal == "TERM" ? 208 : 240)).contains(try world.requests().count))
    }

    /// Proves --resume asks again exactly the turns that failed or whose line was cut, and none of the good ones.
    @Test func resumeAsksAgainOnlyTheFailedTurnsAndTheOneCutOff() throws {
        // Requests 2 and 4 fail (no retries): t2 and t4 become error records.
        let world = try World(behaviour: "normal,500,normal,500,normal")
        try prepare(world, count: 6)
        let first = try world.sh("mira-llm -j 1 --retries 0 < prepared.jsonl > first.jsonl")
        #expect(first.status == 2, "\(first.stderr)")
        let records = try world.sh("cat first.jsonl").records()
        try #require(records.count == 6)
        #expect(records.map { $0["error"] != nil } == [false, true, false, true, false, false])
        // The previous output: five whole lines, then t6's line cut off mid-JSON (a kill).
        #expect(try world.sh("head -5 first.jsonl > prev.jsonl; sed -n 6p first.jsonl | head -c 300 >> prev.jsonl").status == 0)
        try world.setBehaviour("normal")
        let before = try world.requests().count

        let resumed = try world.sh("mira-llm -j 1 --resume prev.jsonl < prepared.jsonl")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming: 3 turns in prev.jsonl"), "\(resumed.stderr)")
        let asked = try world.askedMessages().dropFirst(before)
        #expect(Array(asked) == ["question 2", "question 4", "question 6"])
        let again = try resumed.records()
        #expect(again.map { $0["turn"] as? String } == ["t2", "t4", "t6"])
        #expect(again.allSatisfy { $0["reply"] != nil && $0["error"] == nil })
    }

    @Test func rateLimitsHalveTheConcurrencyAndEveryTurnGetsThrough() throws {
        // The server takes three requests at once and answers 429 beyond that.
        let world = try World(behaviour: "limit:3")
        try prepare(world, count: 120)
        // The throttle probes one slot above the server's cap now and then,
        // and each probe's 429 lands on some request: over 120 turns one can
        // meet three, so this run allows more retries than the default.
        let result = try world.sh("mira-llm -j 24 --retries 8 < prepared.jsonl")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try result.records().count == 120)
        #expect(try result.records().allSatisfy { $0["reply"] != nil })
        #expect(result.stderr.contains("backed off"), "\(result.stderr)")
        let script = "import sys,urllib.request;print(urllib.request.urlopen(sys.argv[1]).read().decode())"
        let stats = try world.sh("python3 -c \(shellQuote(script)) http://127.0.0.1:\(world.port)/stats")
        let numbers = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Int] ?? [:]
        #expect(numbers["served"] == 120)
        // Backing off keeps the 429s to a fraction of the requests; without it
        // 21 of every 24 would be refused again and again until retries ran out.
        #expect((1..<60).contains(numbers["rejected"] ?? 0), "\(numbers)")
    }

    @Test func failedLinesBecomeErrorRecordsAndTheStatusCountsThem() throws {
        let world = try World()
        try prepare(world, count: 10)
        let result = try world.sh("(head -3 prepared.jsonl; echo 'not json'; echo '{\"turn\":\"x\"}'; echo '[1]'; tail -4 prepared.jsonl) | mira-llm -j 4")
        #expect(result.status == 3)
        let records = try result.records()
        #expect(records.count == 10)
        #expect(records[3...5].map { ($0["error"] as? [String: Any])?["code"] as? String } == ["bad_json", "no_request", "bad_record"])
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 4, "\(result.stderr)")
        #expect(lines[0].hasPrefix("mira-llm: line 4: ") && lines[1].hasPrefix("mira-llm: line 5: ") && lines[2].hasPrefix("mira-llm: line 6: "))
        #expect(lines[3].contains("10 records") && lines[3].contains("3 failed (bad_json 1, bad_record 1, no_request 1)"))
    }

    @Test func failFastStopsAtTheFirstFailure() throws {
        let world = try World(behaviour: "delay:20")
        try prepare(world, count: 300)
        let result = try world.sh("(head -5 prepared.jsonl; echo 'not json'; tail -n +6 prepared.jsonl) | mira-llm -j 4 --fail-fast > out.jsonl")
        #expect(result.status == 1)
        #expect(result.stderr.contains("mira-llm: line 6: not JSON"))
        let records = try world.sh("cat out.jsonl").records()
        #expect(records.count < 40, "stopped soon after the failure: \(records.count)")
        #expect(records.contains { ($0["error"] as? [String: Any])?["code"] as? String == "bad_json" })
        #expect(try world.requests().count < 40)
    }

    @Test func theCacheAnswersARerunWithoutTheServerAndNeverKeepsErrors() throws {
        let world = try World(behaviour: "500-always")
        try prepare(world, count: 12)
        let failed = try world.sh("mira-llm --retries 0 --cache-file cache.db < prepared.jsonl")
        #expect(failed.status == 12)
        try world.setBehaviour("normal")
        let before = try world.requests().count

        let first = try world.sh("mira-llm --cache-file cache.db < prepared.jsonl > first.jsonl")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try world.requests().count == before + 12, "failures were not cached: all 12 asked again")
        let second = try world.sh("mira-llm --cache-file cache.db < prepared.jsonl > second.jsonl")
        #expect(second.status == 0)
        #expect(try world.requests().count == before + 12, "the rerun asked the server nothing")
        #expect(second.stderr.contains("12 from cache"), "\(second.stderr)")
        let a = try world.sh("cat first.jsonl").records(), b = try world.sh("cat second.jsonl").records()
        #expect(b.allSatisfy { $0["cached"] as? Bool == true })
        #expect(zip(a, b).allSatisfy { NSDictionary(dictionary: $0["reply"] as! [String: Any]).isEqual(to: $1["reply"] as! [String: Any]) })
        #expect(try world.sh("stat -c %a cache.db").stdout == "600\n")
    }

    @Test func aBatchAPIRoundTripMergesShuffledAnswersByCustomID() throws {
        let world = try World()
        try prepare(world, count: 40)
        let emitted = try world.sh("mira-llm --emit-batch < prepared.jsonl > batch-input.jsonl")
        #expect(emitted.status == 0, "\(emitted.stderr)")
        #expect(try world.requests().isEmpty, "--emit-batch calls nothing")
        let input = try world.sh("cat batch-input.jsonl").records()
        #expect(input.count == 40)
        #expect(input.map { $0["custom_id"] as? String } == (1...40).map { "t\($0)" })
        #expect(input.allSatisfy { $0["method"] as? String == "POST" && $0["url"] as? String == "/v1/chat/completions" && $0["body"] is [String: Any] })

        // Play the Batch API: answer each request, shuffle, lose one, fail one.
        let script = #"""
            import json, random, sys
            random.seed(7)
            out = []
            for line in open("batch-input.jsonl"):
                req = json.loads(line)
                cid = req["custom_id"]
                if cid == "t13":
                    continue
                if cid == "t21":
                    out.append({"id": "b21", "custom_id": cid, "response": None, "error": {"code": "batch_expired", "message": "ran out of time"}})
                    continue
                args = json.dumps({"output": "answer for " + cid, "persona": "default", "mood": "calm"})
                body = {"id": "c", "object": "chat.completion", "model": req["body"]["model"],
                        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": None,
                                     "tool_calls": [{"id": "call", "type": "function", "function": {"name": "format_response", "arguments": args}}]}}],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}
                out.append({"id": "b", "custom_id": cid, "response": {"status_code": 200, "request_id": "r", "body": body}, "error": None})
            random.shuffle(out)
            with open("batch-output.jsonl", "w") as f:
                for o in out:
                    f.write(json.dumps(o) + "\n")
            """#
        #expect(try world.sh("python3 -c \(shellQuote(script))").status == 0)

        let merged = try world.sh("mira-llm --from-batch batch-output.jsonl < prepared.jsonl")
        #expect(merged.status == 2, "\(merged.stderr)")
        #expect(try world.requests().isEmpty, "--from-batch calls nothing")
        let records = try merged.records()
        #expect(records.map { $0["turn"] as? String } == (1...40).map { "t\($0)" })
        for (k, record) in records.enumerated() {
            let turn = "t\(k + 1)"
            let code = (record["error"] as? [String: Any])?["code"] as? String
            switch turn {
            case "t13": #expect(code == "not_in_batch")
            case "t21": #expect(code == "gave_up")
            default: #expect((record["reply"] as? [String: Any])?["output"] as? String == "answer for \(turn)")
            }
        }
        // The merged turns save like any other.
        let saved = try world.sh("mira-llm --from-batch batch-output.jsonl < prepared.jsonl | grep -v '\"error\"' | sed 's/^{/{\"session\":\"b\",/' | mira-store save b --format json > /dev/null")
        #expect(saved.status == 0, "\(saved.stderr)")
        #expect(try world.exported("b").count == 76)
    }

    @Test func aTerminalSeesProgressAndEveryRunEndsWithASummary() throws {
        let world = try World(behaviour: "delay:30")
        try prepare(world, count: 60)
        // `script` gives mira-llm a terminal for stderr; stdout still goes to a file.
        let shown = try world.sh("script -qec 'mira-llm -j 2 < prepared.jsonl > out.jsonl' /dev/null")
        #expect(shown.status == 0, "\(shown.stdout)")
        #expect(shown.stdout.contains("\r\u{1B}[Kmira-llm: "), "redrawn in place")
        #expect(shown.stdout.contains("/60 · "), "done/total: \(shown.stdout)")
        #expect(shown.stdout.contains("ETA"))
        #expect(shown.stdout.contains("60 records in"))
        #expect(try world.sh("cat out.jsonl").records().count == 60)

        let piped = try world.sh("mira-llm -j 2 < prepared.jsonl > out.jsonl")
        #expect(!piped.stderr.contains("\u{1B}"), "no progress when stderr is not a terminal")
        #expect(piped.stderr.split(separator: "\n").count == 1 && piped.stderr.contains("60 records in"))
        let quiet = try world.sh("mira-llm -j 2 --quiet < prepared.jsonl > out.jsonl")
        #expect(quiet.stderr.isEmpty)
    }

    @Test func memoryStaysFlatOverALongInput() throws {
        // 1,500 records of 80 KB (120 MB) that pass straight through: a queue
        // that kept even a thousand finished lines would climb past 100 MB.
        let world = try World()
        let make = #"python3 -c 'import json; pad="x"*80000; [print(json.dumps({"turn":"t%d"%k,"pad":pad,"error":{"stage":"mira-prompt","code":"bad_json","message":"m"}})) for k in range(1500)]' > long.jsonl"#
        #expect(try world.sh(make).status == 0)
        let measure = #"python3 -c 'import resource,subprocess,sys; r=subprocess.run(sys.argv[1:], stdin=open("long.jsonl","rb"), stdout=subprocess.DEVNULL); print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' mira-llm -j 16 --quiet"#
        let figures = try world.sh(measure).stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(figures.first == 0)
        #expect((figures.last ?? .max) < 64 * 1024, "peak \(figures.last ?? -1) KiB")
    }

    @Test func streamingWantsOneJobAtATime() throws {
        let world = try World()
        let result = try world.sh("mira-prompt hi | mira-llm --stream -j 4")
        #expect(result.status == 64)
        #expect(result.stderr.contains("--stream"))
    }
}
