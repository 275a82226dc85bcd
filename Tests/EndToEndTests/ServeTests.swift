import Foundation
import Testing

/// `mira-serve --port 0` in a World (its fake model server and database),
/// stopped when the test ends: by SIGTERM from the wrapping shell when the
/// lifeline closes, even if this test process dies first.
final class Served {
    let world: World
    let process: Child
    let port: Int
    /// The owner link's path and key (`/own?key=…`) from the second line, if printed.
    let ownerPath: String?

    init(_ world: World, arguments: [String] = [], environment extra: [String: String] = [:]) throws {
        self.world = world
        var env = ProcessInfo.processInfo.environment
        env["OPENAI_BASE_URL"] = world.baseURL
        env["MIRA_DB"] = world.database
        env["XDG_CONFIG_HOME"] = world.dir + "/config"
        env["XDG_DATA_HOME"] = world.dir + "/data"
        env["XDG_STATE_HOME"] = world.dir + "/state"
        env["OPENAI_API_KEY"] = world.apiKey ?? "sk-test-not-a-real-key"
        env["MIRA_MODEL"] = nil
        for (k, v) in extra { env[k] = v }
        // The shell waits for its stdin to end, then stops the server (SIGKILL
        // if it has not gone 10 s after SIGTERM) and exits with its status.
        let script = """
            "$0" --port 0 "${@:2}" </dev/null 2>"$1" & pid=$!
            cat >/dev/null
            kill -TERM $pid
            for i in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
            kill -KILL $pid 2>/dev/null; wait $pid
            """
        process = try Child("/bin/bash", ["-c", script, binDirectory + "/mira-serve", world.dir + "/serve.err"] + arguments,
                            environment: env)
        let text = try process.readLine()
        let prefix = "mira-serve: listening on http://127.0.0.1:"
        guard text.hasPrefix(prefix), let port = Int(text.dropFirst(prefix.count)) else {
            process.stop()
            let errors = (try? String(contentsOfFile: world.dir + "/serve.err", encoding: .utf8)) ?? ""
            throw WorldError(message: "mira-serve did not start: \(text) \(errors)")
        }
        self.port = port
        // Both lines are written at once, when the port is bound.
        let link = try process.readLine()
        ownerPath = link.range(of: "/own?key=").map { String(link[$0.lowerBound...]) }
    }

    deinit { process.stop() }

    /// Stops the server and returns its exit status (0: a clean shutdown).
    func stop() -> Int32 { process.stop() }

    var origin: String { "http://127.0.0.1:\(port)" }

    /// One request with curl: `cookie` is a mira_id, `origin` the Origin header.
    func request(_ method: String, _ path: String, body: String? = nil, cookie: String? = nil, origin: String? = nil) throws -> Answer {
        let name = UUID().uuidString
        var command = "curl -sS -X \(method) -D \(name).head -o \(name).body -w '%{http_code}'"
        if let cookie { command += " -H " + shellQuote("Cookie: mira_id=\(cookie)") }
        if let origin { command += " -H " + shellQuote("Origin: \(origin)") }
        if body != nil { command += " -H 'Content-Type: application/json' --data-binary @-" }
        command += " " + shellQuote("http://127.0.0.1:\(port)\(path)")
        let result = try world.sh(command, stdin: body)
        #expect(result.status == 0, "curl failed: \(result.stderr)")
        let head = try String(contentsOfFile: world.dir + "/\(name).head", encoding: .utf8)
        let text = try String(contentsOfFile: world.dir + "/\(name).body", encoding: .utf8)
        return Answer(status: Int(result.stdout) ?? -1, head: head, body: text)
    }

    /// A fresh identity: the cookie a first visit is given.
    func newIdentity() throws -> String {
        let answer = try request("GET", "/healthz")
        return try #require(answer.cookie)
    }
}

/// What came back: the status, the header block and the body.
struct Answer {
    var status: Int
    var head: String
    var body: String

    /// The value of a header (the first of that name), without the name.
    func header(_ name: String) -> String? {
        for line in head.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// The mira_id a Set-Cookie header gives, if any.
    var cookie: String? {
        guard let value = header("Set-Cookie"), value.hasPrefix("mira_id=") else { return nil }
        return String(value.dropFirst("mira_id=".count).prefix { $0 != ";" })
    }

    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else {
            throw WorldError(message: "not a JSON object: \(body)")
        }
        return object
    }

    /// The `error.code` of an error answer.
    var errorCode: String? {
        ((try? json())?["error"] as? [String: Any])?["code"] as? String
    }

    /// Server-sent events as (name, data object) in order.
    func events() throws -> [(String, [String: Any])] {
        try body.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { block in
            var name = "", data = ""
            for line in block.split(separator: "\n") {
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
            }
            guard let object = try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] else {
                throw WorldError(message: "event data is not an object: \(block)")
            }
            return (name, object)
        }
    }
}

@Suite struct ServeTests {
    @Test func healthzAnswersAndAFirstVisitGetsAnHttpOnlyStrictCookie() throws {
        let served = try Served(World())
        let first = try served.request("GET", "/healthz")
        #expect(first.status == 200)
        #expect(try first.json()["status"] as? String == "ok")
        let setCookie = try #require(first.header("Set-Cookie"))
        #expect(setCookie.contains("HttpOnly"))
        #expect(setCookie.contains("SameSite=Strict"))
        #expect(setCookie.contains("Path=/"))
        let id = try #require(first.cookie)
        #expect(id.count == 64 && id.allSatisfy { $0.isHexDigit })
        // A known identity is kept; another visit gets a different one.
        #expect(try served.request("GET", "/healthz", cookie: id).header("Set-Cookie") == nil)
        #expect(try served.newIdentity() != id)
        // A cookie not of our form is replaced, not trusted.
        #expect(try served.request("GET", "/healthz", cookie: "guessable").cookie != nil)
        #expect(served.stop() == 0)
    }

    @Test func aTurnIsAnsweredAndThenInTheHistoryAndTheDatabase() throws {
        let served = try Served(World())
        let me = try served.newIdentity()
        let answer = try served.request("POST", "/chat", body: #"{"message": "rough day"}"#, cookie: me, origin: served.origin)
        #expect(answer.status == 200, "\(answer.body)")
        let reply = try answer.json()
        let output = try #require(reply["output"] as? String)
        #expect(output.contains("rough day"))
        #expect(reply["persona"] is String && reply["mood"] is String && reply["turn"] is String)
        let session = try #require(reply["session"] as? String)

        let history = try served.request("GET", "/history?session=\(session)", cookie: me)
        #expect(history.status == 200)
        let messages = try #require(try history.json()["messages"] as? [[String: Any]])
        #expect(messages.map { $0["role"] as? String } == ["user", "assistant"])
        #expect(messages.map { $0["content"] as? String } == ["rough day", output])
        #expect(messages[1]["persona"] as? String == reply["persona"] as? String)

        let sessions = try #require(try served.request("GET", "/sessions", cookie: me).json()["sessions"] as? [[String: Any]])
        #expect(sessions.map { $0["session"] as? String } == [session])
        #expect(sessions.first?["messages"] as? Int == 2)
        // The same database as mira's: the turn is there whole.
        #expect(try served.world.exported(session).count == 2)
        #expect(try served.world.halfTurns(session).isEmpty)

        // No session named: the next turn goes on in the most recent one.
        let next = try served.request("POST", "/chat", body: #"{"message": "still here"}"#, cookie: me)
        #expect(try next.json()["session"] as? String == session)
        // POST /sessions starts another, and a turn can name it.
        let started = try served.request("POST", "/sessions", cookie: me, origin: served.origin)
        #expect(started.status == 201)
        let fresh = try #require(try started.json()["session"] as? String)
        #expect(fresh != session)
        let there = try served.request("POST", "/chat", body: #"{"message": "new page", "session": "\#(fresh)"}"#, cookie: me)
        #expect(try there.json()["session"] as? String == fresh)
        // Read by another process while the server's connections stay open.
        #expect(try served.world.exported(fresh).count == 2)
        #expect(try served.world.exported(session).count == 4)
        #expect(served.stop() == 0)
    }

    @Test func anotherIdentitySeesNothingOfTheFirstsAndGets404() throws {
        let served = try Served(World())
        let alice = try served.newIdentity()
        let bob = try served.newIdentity()
        let turn = try served.request("POST", "/chat", body: #"{"message": "my secret"}"#, cookie: alice)
        let session = try #require(try turn.json()["session"] as? String)

        let listed = try served.request("GET", "/sessions", cookie: bob)
        #expect(listed.status == 200)
        #expect((try listed.json()["sessions"] as? [Any])?.isEmpty == true)
        let peek = try served.request("GET", "/history?session=\(session)", cookie: bob)
        #expect(peek.status == 404)
        #expect(peek.errorCode == "no_session")
        #expect(!peek.body.contains("my secret"))
        let post = try served.request("POST", "/chat", body: #"{"message": "me too", "session": "\#(session)"}"#, cookie: bob)
        #expect(post.status == 404)
        #expect(post.errorCode == "no_session")
        // Nor does a session made by the command line (no owner) show to anyone.
        #expect(try served.world.sh("mira -s clisession hello").status == 0)
        #expect(try served.request("GET", "/history?session=clisession", cookie: alice).status == 404)
        // Alice's session is as she left it, and bob's turn never reached the model.
        #expect(try served.world.exported(session).count == 2)
        #expect(try served.world.askedMessages() == ["my secret", "hello"])
        #expect(served.stop() == 0)
    }

    @Test func badBodiesAreRefusedWithJSONErrorsBeforeTheModelIsAsked() throws {
        let served = try Served(World())
        let me = try served.newIdentity()
        let cases: [(String, Int, String)] = [
            ("not json", 400, "bad_json"),
            ("[1, 2]", 400, "bad_json"),
            ("{}", 400, "no_input"),
            (#"{"message": "   "}"#, 400, "no_input"),
            (#"{"message": 7}"#, 400, "no_input"),
            (#"{"message": "hi", "persona": "nobody"}"#, 400, "invalid_persona"),
            (#"{"message": "hi", "session": "../etc"}"#, 400, "invalid_session"),
            (#"{"message": "hi", "session": "nosuchsession"}"#, 404, "no_session"),
            (#"{"message": ""# + String(repeating: "a", count: 70_000) + #""}"#, 413, "body_too_large"),
        ]
        for (body, status, code) in cases {
            let answer = try served.request("POST", "/chat", body: body, cookie: me)
            #expect(answer.status == status, "\(body.prefix(40)): \(answer.body)")
            #expect(answer.errorCode == code, "\(body.prefix(40)): \(answer.body)")
            #expect(answer.header("Content-Type")?.hasPrefix("application/json") == true)
        }
        #expect(try served.request("GET", "/history", cookie: me).status == 400)
        #expect(try served.request("GET", "/nowhere", cookie: me).errorCode == "not_found")
        #expect(try served.world.logEntries().isEmpty)
        #expect(served.stop() == 0)
    }

    @Test func aForeignOriginMayNotChangeAnything() throws {
        let served = try Served(World())
        let me = try served.newIdentity()
        for origin in ["http://evil.example", "null", "http://127.0.0.1:\(served.port + 1)"] {
            let chat = try served.request("POST", "/chat", body: #"{"message": "hi"}"#, cookie: me, origin: origin)
            #expect(chat.status == 403, "\(origin)")
            #expect(chat.errorCode == "forbidden_origin")
            #expect(try served.request("POST", "/sessions", cookie: me, origin: origin).status == 403)
        }
        #expect(try served.world.logEntries().isEmpty)
        #expect((try served.request("GET", "/sessions", cookie: me).json()["sessions"] as? [Any])?.isEmpty == true)
        // The server's own names for itself are welcome.
        for origin in [served.origin, "http://localhost:\(served.port)"] {
            #expect(try served.request("POST", "/chat", body: #"{"message": "hi"}"#, cookie: me, origin: origin).status == 200)
        }
        #expect(served.stop() == 0)
    }

    @Test func theStreamCarriesTextEventsThenTheWholeReply() throws {
        let served = try Served(World())
        let me = try served.newIdentity()
        let answer = try served.request("POST", "/chat?stream=1", body: #"{"message": "tell me slowly"}"#, cookie: me, origin: served.origin)
        #expect(answer.status == 200)
        #expect(answer.header("Content-Type")?.hasPrefix("text/event-stream") == true)
        let events = try answer.events()
        let names = events.map(\.0)
        #expect(names.count >= 3, "\(answer.body)")
        #expect(names.last == "reply")
        #expect(names.dropLast().allSatisfy { $0 == "text" }, "\(names)")
        let reply = try #require(events.last?.1)
        let output = try #require(reply["output"] as? String)
        let streamed = events.dropLast().map { $0.1["text"] as? String ?? "?" }.joined()
        #expect(streamed.trimmingCharacters(in: .newlines) == output)
        let session = try #require(reply["session"] as? String)
        let history = try served.request("GET", "/history?session=\(session)", cookie: me)
        #expect((try history.json()["messages"] as? [[String: Any]])?.last?["content"] as? String == output)
        #expect(served.stop() == 0)
    }

    @Test func aModelFailureIsA502ThatSavesNothingAndNeverShowsTheKey() throws {
        let key = "sk-serve-test-key-4f1c"
        let served = try Served(World(apiKey: key))
        let me = try served.newIdentity()
        try served.world.setBehaviour("401")
        let answer = try served.request("POST", "/chat", body: #"{"message": "hello?"}"#, cookie: me)
        #expect(answer.status == 502)
        #expect(answer.errorCode == "rejected_key")
        #expect(!answer.body.contains(key) && !answer.head.contains(key))
        let stream = try served.request("POST", "/chat?stream=1", body: #"{"message": "hello?"}"#, cookie: me)
        let events = try stream.events()
        #expect(events.last?.0 == "error")
        #expect(events.last?.1["code"] as? String == "rejected_key")
        #expect(!stream.body.contains(key))
        // Nor the conversation those turns would have started.
        let sessions = try #require(try served.request("GET", "/sessions", cookie: me).json()["sessions"] as? [[String: Any]])
        #expect(sessions.isEmpty)
        #expect(served.stop() == 0)
    }

    @Test func thePageIsServedUnderAStrictPolicyAndPutsModelTextInAsText() throws {
        let served = try Served(World())
        let page = try served.request("GET", "/")
        #expect(page.status == 200)
        #expect(page.header("Content-Type")?.hasPrefix("text/html") == true)
        let policy = try #require(page.header("Content-Security-Policy"))
        #expect(policy.contains("default-src 'none'") && policy.contains("script-src 'self'"))
        #expect(!policy.contains("unsafe"))
        #expect(page.body.contains(#"<script src="/app.js""#))
        #expect(!page.body.contains("<script>"))
        let script = try served.request("GET", "/app.js")
        #expect(script.status == 200)
        #expect(script.header("Content-Type")?.hasPrefix("text/javascript") == true)
        #expect(script.body.contains("textContent"))
        #expect(!script.body.contains("innerHTML") && !script.body.contains("insertAdjacentHTML") && !script.body.contains("eval("))
        // It parses (node only checks the syntax here; Tests/Browser runs it in Chromium).
        let check = try served.world.sh("command -v node >/dev/null || exit 0; curl -s http://127.0.0.1:\(served.port)/app.js > app.js && node --check app.js")
        #expect(check.status == 0, "\(check.stderr)")
        #expect(try served.request("GET", "/app.css").status == 200)
        #expect(served.stop() == 0)
    }
}
