import Foundation
import Testing

/// mira-serve's people: each browser's memory is its own, the owner link
/// opens the command line's conversations, personas are listed, and one
/// browser cannot flood the model.
@Suite struct ServeRealmTests {
    /// A server with memory on (the fake server embeds too).
    func servedWithMemory(arguments: [String] = []) throws -> Served {
        try Served(World(), arguments: arguments, environment: ["MIRA_EMBED_MODEL": "fake-embed"])
    }

    func facts(_ served: Served, _ cookie: String) throws -> [[String: Any]] {
        let answer = try served.request("GET", "/memory", cookie: cookie)
        #expect(answer.status == 200, "\(answer.body)")
        return try #require(try answer.json()["facts"] as? [[String: Any]])
    }

    @Test func eachBrowserRemembersOnlyItsOwnAndForgetsOnlyItsOwn() throws {
        let served = try servedWithMemory()
        let alice = try served.newIdentity()
        let bob = try served.newIdentity()
        #expect(try served.request("POST", "/chat", body: #"{"message": "hi, my name is Alice"}"#, cookie: alice).status == 200)
        #expect(try served.request("POST", "/chat", body: #"{"message": "I have a dog called Rex"}"#, cookie: alice).status == 200)
        #expect(try served.request("POST", "/chat", body: #"{"message": "hello, my name is Bob"}"#, cookie: bob).status == 200)

        let hers = try facts(served, alice)
        #expect(Set(hers.compactMap { $0["text"] as? String }) == ["is called Alice", "has a dog called Rex"])
        #expect(try facts(served, bob).compactMap { $0["text"] as? String } == ["is called Bob"])
        // Bob's name did not replace hers (same topic, another person), and his
        // next turn recalls his name only: nothing of hers reaches his prompt.
        let next = try served.request("POST", "/chat", body: #"{"message": "what do you know about me?"}"#, cookie: bob)
        let output = try #require(try next.json()["output"] as? String)
        #expect(output.contains("is called Bob"))
        #expect(!output.contains("Alice") && !output.contains("Rex"))
        let request = try #require(try served.world.requests().last)
        let prompt = World.messages(of: request).compactMap { $0["content"] as? String }.joined(separator: "\n")
        #expect(!prompt.contains("Alice") && !prompt.contains("Rex"))

        // Bob cannot forget her fact, nor can a foreign page make her browser do it.
        let rex = try #require(hers.first { ($0["text"] as? String) == "has a dog called Rex" }?["id"] as? Int)
        let refused = try served.request("DELETE", "/memory/facts/\(rex)", cookie: bob)
        #expect(refused.status == 404)
        #expect(refused.errorCode == "no_memory")
        #expect(try served.request("DELETE", "/memory/facts/\(rex)", cookie: alice, origin: "http://evil.example").status == 403)
        #expect(try facts(served, alice).count == 2)
        // She can; then it is gone from the view and the database.
        #expect(try served.request("DELETE", "/memory/facts/\(rex)", cookie: alice, origin: served.origin).status == 204)
        #expect(try facts(served, alice).compactMap { $0["text"] as? String } == ["is called Alice"])
        #expect(try served.request("DELETE", "/memory/facts/\(rex)", cookie: alice).status == 404)
        #expect(try served.request("DELETE", "/memory/facts/nonsense", cookie: alice).status == 404)
        let left = try served.world.sh("mira-memory facts", extraEnvironment: ["MIRA_EMBED_MODEL": "fake-embed"])
        #expect(!left.stdout.contains("Rex"), "\(left.stdout)")
        #expect(served.stop() == 0)
    }

    @Test func theOwnerLinkOpensTheCommandLinesConversationsAndOnlyWithThisRunsKey() throws {
        let served = try servedWithMemory()
        #expect(try served.world.sh("mira -s clisession 'my name is Ada'", extraEnvironment: ["MIRA_EMBED_MODEL": "fake-embed"]).status == 0)
        let path = try #require(served.ownerPath)
        #expect(try served.request("GET", "/own?key=" + String(repeating: "0", count: 64)).status == 403)
        #expect(try served.request("GET", "/own").status == 403)
        let opened = try served.request("GET", path)
        #expect(opened.status == 303)
        #expect(opened.header("Location") == "/")
        let owner = try #require(opened.cookie)
        // The owner sees the shell's session and its facts, and goes on with it.
        let sessions = try #require(try served.request("GET", "/sessions", cookie: owner).json()["sessions"] as? [[String: Any]])
        #expect(sessions.map { $0["session"] as? String } == ["clisession"])
        #expect(sessions.first?["title"] as? String == "my name is Ada")
        #expect(try facts(served, owner).compactMap { $0["text"] as? String } == ["is called Ada"])
        let turn = try served.request("POST", "/chat", body: #"{"message": "still me", "session": "clisession"}"#, cookie: owner)
        #expect(turn.status == 200, "\(turn.body)")
        #expect(try (turn.json()["output"] as? String)?.contains("is called Ada") == true)
        #expect(try served.world.exported("clisession").count == 4)
        // A stranger sees none of it.
        let stranger = try served.newIdentity()
        #expect(try served.request("GET", "/history?session=clisession", cookie: stranger).status == 404)
        #expect(try facts(served, stranger).isEmpty)
        // The owner's identity outlives the server: the next run knows the cookie, with a new key.
        #expect(served.stop() == 0)
        let again = try Served(served.world, environment: ["MIRA_EMBED_MODEL": "fake-embed"])
        #expect(again.ownerPath != path)
        let listed = try #require(try again.request("GET", "/sessions", cookie: owner).json()["sessions"] as? [[String: Any]])
        #expect(listed.map { $0["session"] as? String } == ["clisession"])
        #expect(again.stop() == 0)
    }

    /// Servers started together on one state folder know one owner: the
    /// identity is made by whichever comes first, and the other reads it.
    @Test func serversStartedTogetherKnowOneOwner() throws {
        final class Shared: @unchecked Sendable {
            let world: World
            var servers: [Served] = []
            let lock = NSLock()
            init(_ world: World) { self.world = world }
        }
        let shared = Shared(try World())
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            guard let served = try? Served(shared.world) else { return }
            shared.lock.withLock { shared.servers.append(served) }
        }
        let servers = shared.servers
        #expect(servers.count == 6)
        var owners: Set<String> = []
        for served in servers {
            let opened = try served.request("GET", try #require(served.ownerPath))
            #expect(opened.status == 303)
            owners.insert(try #require(opened.cookie))
        }
        #expect(owners.count == 1)
        for served in servers { #expect(served.stop() == 0) }
    }

    /// A browser's first turn names its new conversation and stores it with
    /// the turn: that turn recalls the browser's realm, never the owner's,
    /// although the session is not stored yet while it recalls.
    @Test func aStrangersFirstTurnRecallsNothingOfTheOwners() throws {
        let served = try servedWithMemory()
        #expect(try served.world.sh("mira -s clisession 'my name is Ada'", extraEnvironment: ["MIRA_EMBED_MODEL": "fake-embed"]).status == 0)
        for path in ["/chat", "/chat?stream=1"] {
            let stranger = try served.newIdentity()
            let first = try served.request("POST", path, body: #"{"message": "what do you know about me?"}"#, cookie: stranger)
            #expect(first.status == 200, "\(first.body)")
            #expect(!first.body.contains("Ada"))
            let request = try #require(try served.world.requests().last)
            let prompt = World.messages(of: request).compactMap { $0["content"] as? String }.joined(separator: "\n")
            #expect(!prompt.contains("Ada"), "\(prompt)")
            let sessions = try #require(try served.request("GET", "/sessions", cookie: stranger).json()["sessions"] as? [[String: Any]])
            #expect(sessions.count == 1)
        }
        #expect(served.stop() == 0)
    }

    /// The owner's list may hold every session the command line stored:
    /// `?limit=N` gives the N most recent, and the page asks for 100.
    @Test func theSessionListCanBeLimitedToTheMostRecent() throws {
        let served = try Served(World())
        let me = try served.newIdentity()
        var started: [String] = []
        for _ in 0..<3 {
            let answer = try served.request("POST", "/sessions", cookie: me, origin: served.origin)
            started.append(try #require(try answer.json()["session"] as? String))
            usleep(5_000)  // created times are in milliseconds
        }
        let all = try #require(try served.request("GET", "/sessions", cookie: me).json()["sessions"] as? [[String: Any]])
        #expect(all.compactMap { $0["session"] as? String } == started.reversed())
        let two = try #require(try served.request("GET", "/sessions?limit=2", cookie: me).json()["sessions"] as? [[String: Any]])
        #expect(two.compactMap { $0["session"] as? String } == Array(started.reversed().prefix(2)))
        for bad in ["0", "1001", "x", "-1", ""] {
            let refused = try served.request("GET", "/sessions?limit=\(bad)", cookie: me)
            #expect(refused.status == 400, "limit=\(bad): \(refused.body)")
            #expect(refused.errorCode == "bad_limit")
        }
        let page = try served.request("GET", "/app.js")
        #expect(page.body.contains("/sessions?limit=100"))
        #expect(served.stop() == 0)
    }

    /// A first turn the model fails leaves no empty conversation behind:
    /// the session is stored with its first turn, or not at all.
    @Test func aFirstTurnThatFailsLeavesNoConversation() throws {
        let served = try Served(World(behaviour: "401,normal"))
        let me = try served.newIdentity()
        let failed = try served.request("POST", "/chat", body: #"{"message": "are you there?"}"#, cookie: me)
        #expect(failed.status >= 400, "\(failed.body)")
        let none = try #require(try served.request("GET", "/sessions", cookie: me).json()["sessions"] as? [[String: Any]])
        #expect(none.isEmpty)
        let again = try served.request("POST", "/chat", body: #"{"message": "are you there?"}"#, cookie: me)
        #expect(again.status == 200, "\(again.body)")
        let one = try #require(try served.request("GET", "/sessions", cookie: me).json()["sessions"] as? [[String: Any]])
        #expect(one.count == 1)
        #expect(one.first?["messages"] as? Int == 2)
        #expect(one.first?["session"] as? String == (try again.json()["session"] as? String))
        #expect(served.stop() == 0)
    }

    @Test func theModelIsAskedToStreamOnlyWhenTheClientAskedForAStream() throws {
        let served = try Served(World())
        let me = try served.newIdentity()
        #expect(try served.request("POST", "/chat", body: #"{"message": "plain"}"#, cookie: me).status == 200)
        #expect(try served.request("POST", "/chat?stream=1", body: #"{"message": "streamed"}"#, cookie: me).status == 200)
        #expect(try served.request("POST", "/chat", body: #"{"message": "plain again"}"#, cookie: me).status == 200)
        let asked = try served.world.requests().map { ($0["stream"] as? Bool) ?? false }
        #expect(asked == [false, true, false])
        #expect(served.stop() == 0)
    }

    @Test func aConversationIsDeletedForGoodOnlyByItsOwner() throws {
        let served = try servedWithMemory()
        let alice = try served.newIdentity()
        let bob = try served.newIdentity()
        let turn = try served.request("POST", "/chat", body: #"{"message": "I have a parrot called Kiwi, my secret"}"#, cookie: alice)
        let session = try #require(try turn.json()["session"] as? String)
        #expect(try facts(served, alice).count == 1)
        let refused = try served.request("DELETE", "/sessions/\(session)", cookie: bob, origin: served.origin)
        #expect(refused.status == 404)
        #expect(refused.errorCode == "no_session")
        #expect(try served.request("DELETE", "/sessions/\(session)", cookie: alice, origin: "http://evil.example").status == 403)
        #expect(try served.request("DELETE", "/sessions/..%2Fetc", cookie: alice).status == 400)
        #expect(try served.world.exported(session).count == 2)

        #expect(try served.request("DELETE", "/sessions/\(session)", cookie: alice, origin: served.origin).status == 204)
        #expect(try served.request("GET", "/history?session=\(session)", cookie: alice).status == 404)
        #expect((try served.request("GET", "/sessions", cookie: alice).json()["sessions"] as? [Any])?.isEmpty == true)
        #expect(try facts(served, alice).isEmpty)
        #expect(try served.request("DELETE", "/sessions/\(session)", cookie: alice).status == 404)
        // Gone from the database file, not only from the lists.
        #expect(served.stop() == 0)
        let grep = try served.world.sh("grep -ail kiwi \(shellQuote(served.world.database))* || true")
        #expect(grep.stdout.isEmpty, "\(grep.stdout)")
    }

    @Test func personasAreListedWithALineEach() throws {
        let served = try Served(World())
        let answer = try served.request("GET", "/personas")
        #expect(answer.status == 200)
        let personas = try #require(try answer.json()["personas"] as? [[String: Any]])
        #expect(personas.compactMap { $0["name"] as? String } == ["default", "forbidden", "hallow", "haven"])
        #expect(personas.allSatisfy { !(($0["summary"] as? String) ?? "").isEmpty })
        #expect(served.stop() == 0)
    }

    @Test func oneBrowserOverItsTurnsIsToldToWaitAndOthersAreNot() throws {
        let served = try Served(World(), arguments: ["--turns-per-minute", "2"])
        let me = try served.newIdentity()
        for _ in 0..<2 { #expect(try served.request("POST", "/chat", body: #"{"message": "hi"}"#, cookie: me).status == 200) }
        let third = try served.request("POST", "/chat", body: #"{"message": "hi"}"#, cookie: me)
        #expect(third.status == 429)
        #expect(third.errorCode == "rate_limited")
        let wait = try #require(third.header("Retry-After").flatMap { Int($0) })
        #expect((1...30).contains(wait))
        #expect(try served.request("POST", "/chat", body: #"{"message": "hi"}"#, cookie: try served.newIdentity()).status == 200)
        #expect(try served.world.askedMessages().count == 3)
        #expect(served.stop() == 0)
    }

    @Test func aLongWebConversationGetsItsSummaryInTheMemoryViewAndItCanBeForgotten() throws {
        let served = try servedWithMemory(arguments: ["--turns-per-minute", "0"])
        let me = try served.newIdentity()
        for k in 0..<18 {
            #expect(try served.request("POST", "/chat", body: #"{"message": "turn \#(k) about gardening"}"#, cookie: me).status == 200)
        }
        var summaries: [[String: Any]] = []
        for _ in 0..<100 where summaries.isEmpty {
            summaries = try #require(try served.request("GET", "/memory", cookie: me).json()["summaries"] as? [[String: Any]])
            if summaries.isEmpty { Thread.sleep(forTimeInterval: 0.1) }
        }
        let summary = try #require(summaries.first)
        let id = try #require(summary["id"] as? Int)
        #expect(try served.request("DELETE", "/memory/summaries/\(id)", cookie: try served.newIdentity()).status == 404)
        #expect(try served.request("DELETE", "/memory/summaries/\(id)", cookie: me).status == 204)
        #expect((try served.request("GET", "/memory", cookie: me).json()["summaries"] as? [Any])?.isEmpty == true)
        #expect(served.stop() == 0)
    }
}

@Suite struct OpenAPIDocument {
    /// Every route the router adds is in docs/openapi.json with its method, and nothing more.
    @Test func theOpenAPIFileDescribesExactlyTheRoutesTheServerHas() throws {
        let source = try String(contentsOfFile: packageRoot + "/Sources/MiraServe/Server.swift", encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"router\.(get|post|delete|put|patch)\("([^"]+)"\)"#)
        var routes: Set<String> = []
        for match in pattern.matches(in: source, range: NSRange(source.startIndex..., in: source)) {
            let method = String(source[Range(match.range(at: 1), in: source)!])
            // Hummingbird's ":id" is OpenAPI's "{id}".
            let path = String(source[Range(match.range(at: 2), in: source)!])
                .replacingOccurrences(of: #":(\w+)"#, with: "{$1}", options: .regularExpression)
            routes.insert(method + " " + path)
        }
        #expect(routes.count >= 12, "\(routes)")
        let data = try Data(contentsOf: URL(fileURLWithPath: packageRoot + "/docs/openapi.json"))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((document["openapi"] as? String)?.hasPrefix("3.") == true)
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let described = Set(paths.flatMap { path, methods in methods.keys.map { $0 + " " + path } })
        #expect(described == routes)
    }
}
