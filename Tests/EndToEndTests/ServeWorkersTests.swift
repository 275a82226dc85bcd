import Foundation
import Testing

/// How many of mira-serve's turns wait on the model at once, seen from the
/// fake model's log: a turn's request arrives there only once a worker runs
/// it, and is answered `delay` after it arrived.
@Suite struct ServeWorkersTests {
    /// `count` POST /chat at once, each from a new browser (no cookie, so its
    /// own identity and session); returns each answer's body.
    func chatAtOnce(_ served: Served, count: Int) throws -> [String] {
        let script = """
            for i in $(seq \(count)); do
              curl -sS -o answer.$i -w '%{http_code}' -H 'Content-Type: application/json' \\
                --data-binary "{\\"message\\": \\"turn $i\\"}" http://127.0.0.1:\(served.port)/chat > status.$i &
            done
            wait
            """
        let result = try served.world.sh(script)
        #expect(result.status == 0, "\(result.stderr)")
        return try (1...count).map { i in
            let status = try String(contentsOfFile: served.world.dir + "/status.\(i)", encoding: .utf8)
            let body = try String(contentsOfFile: served.world.dir + "/answer.\(i)", encoding: .utf8)
            #expect(status == "200", "turn \(i): \(status) \(body)")
            return body
        }
    }

    /// Each answer's session holds exactly its one whole turn.
    func expectSavedWhole(_ served: Served, _ bodies: [String]) throws {
        for body in bodies {
            let reply = try Answer(status: 200, head: "", body: body).json()
            let session = try #require(reply["session"] as? String, "\(body)")
            #expect(try served.world.exported(session).count == 2)
        }
    }

    @Test func manyTurnsWaitOnTheModelTogetherNotFourAtATime() throws {
        // Far longer than 12 curls take to start, even on a loaded machine.
        let delay = 1.5
        let turns = 12
        let served = try Served(World(behaviour: "delay:\(Int(delay * 1000))"))
        let bodies = try chatAtOnce(served, count: turns)
        let arrivals = try served.world.arrivals()
        #expect(arrivals.count == turns)
        // Every turn reached the model before the first answer could come
        // back: none waited for another turn's worker (4 fixed workers sent
        // them in waves, each `delay` after the one before).
        let first = try #require(arrivals.min())
        let last = try #require(arrivals.max())
        #expect(last - first < delay, "arrivals spread over \(last - first) s")
        try expectSavedWhole(served, bodies)
        #expect(served.stop() == 0)
    }

    /// A turn holds an SQLite connection only while it reads: while 16 turns
    /// wait on the model, mira-serve has at most its 8 workers', the group
    /// writer's and the first background thread's open, not one a turn.
    @Test func turnsWaitingOnTheModelHoldNoConnection() throws {
        let served = try Served(World(behaviour: "delay:1500"))
        let database = served.world.database
        let script = """
            for i in $(seq 16); do
              curl -sS -o /dev/null -H 'Content-Type: application/json' \\
                --data-binary "{\\"message\\": \\"turn $i\\"}" http://127.0.0.1:\(served.port)/chat &
            done
            sleep 1
            ls -l /proc/[0-9]*/fd 2>/dev/null | grep -c -- "-> \(database)$" > connections
            wait
            """
        #expect(try served.world.sh(script).status == 0)
        #expect(try served.world.arrivals().count == 16)
        let open = try String(contentsOfFile: served.world.dir + "/connections", encoding: .utf8)
        let connections = try #require(Int(open.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(connections >= 2 && connections <= 10, "\(connections) connections open")
        #expect(served.stop() == 0)
    }

    /// With memory, a turn's recall waits on the embedding server while it
    /// holds a worker: a slow one must not make the turns past 8 queue
    /// behind the first 8 recalls. 12 turns, each recall 1 s: every turn's
    /// question reaches the model within that second of the first.
    @Test func aSlowEmbeddingServerDoesNotQueueTurnsBehindEightRecalls() throws {
        let delay = 1.0
        let served = try Served(World(serverArguments: ["--embed-behaviour", "delay:\(Int(delay * 1000))"]),
                                environment: ["MIRA_EMBED_MODEL": "fake-embed"])
        let bodies = try chatAtOnce(served, count: 12)
        let asked = try served.world.logEntries().filter { ($0["path"] as? String)?.hasSuffix("/chat/completions") == true }
        let times = asked.compactMap { $0["t"] as? Double }
        #expect(times.count == 12)
        let spread = (times.max() ?? 0) - (times.min() ?? 0)
        // Behind 8 recalls, the ninth question would come a whole delay after the first.
        #expect(spread < delay / 2, "questions spread over \(spread) s")
        try expectSavedWhole(served, bodies)
        #expect(served.stop() == 0)
    }

    @Test func turnsBeyondTheLimitWaitForAWorker() throws {
        let delay = 0.3
        let served = try Served(World(behaviour: "delay:\(Int(delay * 1000))"), arguments: ["--turns", "2"])
        let bodies = try chatAtOnce(served, count: 6)
        let arrivals = try served.world.arrivals().sorted()
        #expect(arrivals.count == 6)
        // At most two turns in flight: the third request can only come after
        // one of the first two was answered, and so on down the line.
        for i in 2..<arrivals.count {
            #expect(arrivals[i] - arrivals[i - 2] >= delay - 0.005, "requests \(i - 1) and \(i + 1) overlap: \(arrivals)")
        }
        try expectSavedWhole(served, bodies)
        #expect(served.stop() == 0)
    }
}
