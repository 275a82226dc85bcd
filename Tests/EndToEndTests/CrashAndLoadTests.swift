import Foundation
import Testing

/// Processes killed mid-write and many writers at once never lose or split a turn.
@Suite struct CrashAndLoadTests {
    /// SIGKILL `mira-store save` at random moments while it writes: the file
    /// stays sound and every turn is whole or absent. MIRA_KILL_ROUNDS sets
    /// the rounds (200 in `make reliability`).
    /// Proves the kills land mid-write: at least a third of the rounds stored some of their turns but not all.
    @Test func savesKilledAtRandomMomentsNeverLeaveHalfATurn() throws {
        let world = try World()
        let rounds = Int(ProcessInfo.processInfo.environment["MIRA_KILL_ROUNDS"] ?? "") ?? 40
        let result = try world.sh("python3 \(shellQuote(packageRoot + "/Tests/Support/kill_save.py")) \(rounds) \(shellQuote(world.database))")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("integrity ok"), "\(result.stdout)")
        #expect(try world.halfTurns("k").isEmpty)
        // "40 rounds, 39 killed, 1 finished, 31 mid-write (unkilled save 170 ms); ..."
        let words = result.stdout.split(separator: " ")
        let midWrite = words.firstIndex(of: "mid-write").flatMap { Int(words[$0 - 1]) }
        #expect((midWrite ?? 0) * 3 >= rounds, "kills that landed mid-write: \(result.stdout)")
    }

    /// A batch run killed midway, then resumed from its own output: every
    /// turn is answered exactly once across the two outputs, and no line is cut.
    @Test(arguments: ["TERM", "KILL"])
    func aBatchKilledMidwayAndResumedAnswersEveryTurnOnce(_ signal: String) throws {
        let world = try World(behaviour: "delay:40")
        let batch = (1...30).map { #"{"session":"b","turn":"t\#($0)","input":"question \#($0)"}"# }.joined(separator: "\n") + "\n"
        #expect(try world.sh("mira-prompt > prepared.jsonl", stdin: batch).status == 0)
        let first = try world.sh("""
            mira-llm -j 1 < prepared.jsonl > first.jsonl & pid=$!
            # Kill once a few answers are out (polling, so a loaded machine is no different).
            while kill -0 $pid 2>/dev/null && [ "$(wc -l < first.jsonl 2>/dev/null || echo 0)" -lt 3 ]; do sleep 0.02; done
            kill -\(signal) $pid; wait $pid; echo "status=$?"
            """)
        #expect(first.stdout.contains(signal == "TERM" ? "status=143" : "status=137"), "\(first.stdout)")
        let firstLines = try world.sh("cat first.jsonl").stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(firstLines.last == "", "the output ends with a whole line")
        let done = firstLines.filter { !$0.isEmpty }.count
        #expect(done > 0 && done < 30, "killed midway: \(done) of 30 done; \(first.stdout)")

        let second = try world.sh("mira-llm -j 1 --resume first.jsonl < prepared.jsonl > second.jsonl")
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("resuming: \(done) turns"))
        let all = try world.sh("cat first.jsonl second.jsonl").records()
        let turns = all.compactMap { $0["turn"] as? String }
        #expect(turns.count == 30)
        #expect(Set(turns) == Set((1...30).map { "t\($0)" }))
        #expect(all.allSatisfy { $0["reply"] != nil })
        // Nothing done twice: the first run's answers plus at most the one in
        // flight when it was killed, then only the rest.
        #expect((30...31).contains(try world.requests().count))
    }

    static func loadScript(sessions: String) -> String {
        """
        for p in $(seq 1 16); do
          ( for t in $(seq 1 50); do
              s=\(sessions)
              mira-store load $s | mira-prompt "pipeline $p turn $t" | mira-llm | mira-store save $s >/dev/null || echo "FAILED $p $t"
            done ) &
          pids="$pids $!"
        done
        # Readers run the whole time the writers do. Until its first turn is
        # saved the session does not exist, and export says so with 66.
        ( while [ ! -e done ]; do
            mira-store load shared >/dev/null || echo READFAILED
            mira-store export shared 2>/dev/null >/dev/null || [ $? = 66 ] || echo READFAILED
            mira-store list >/dev/null || echo READFAILED
          done ) &
        wait $pids
        touch done
        wait
        """
    }

    @Test func sixteenPipelinesOfFiftyTurnsOnOneSessionWithReadersLoseNothing() throws {
        let world = try World()
        let result = try world.sh(Self.loadScript(sessions: "shared"))
        #expect(!result.stdout.contains("FAILED"), "\(result.stdout)")
        #expect(result.stderr.isEmpty, "\(result.stderr.prefix(2000))")
        let stored = try world.exported("shared")
        #expect(stored.count == 1600)
        #expect(try world.halfTurns("shared").isEmpty)
        // Each pipeline's turns are stored in the order it made them.
        for p in 1...16 {
            let mine = stored.compactMap { $0["content"] as? String }.filter { $0.hasPrefix("pipeline \(p) turn ") }
            #expect(mine == (1...50).map { "pipeline \(p) turn \($0)" })
        }
    }

    @Test func sixteenPipelinesOfFiftyTurnsOnSixteenSessionsLoseNothing() throws {
        let world = try World()
        let result = try world.sh(Self.loadScript(sessions: "s$p"))
        #expect(!result.stdout.contains("FAILED"), "\(result.stdout)")
        #expect(result.stderr.isEmpty, "\(result.stderr.prefix(2000))")
        for p in 1...16 {
            let stored = try world.exported("s\(p)")
            #expect(stored.count == 100)
            #expect(stored.compactMap { $0["content"] as? String }.filter { $0.hasPrefix("pipeline") }
                == (1...50).map { "pipeline \(p) turn \($0)" })
        }
    }
}
