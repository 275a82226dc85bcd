import Foundation
import Testing

/// Facts in the reply contract, end to end: the fake model plants them from
/// sentences like "my name is X", mira-llm checks them, mira-store save keeps
/// them with their turn, and the fake reads remembered facts back from Mira's
/// memory message.
@Suite struct RememberTests {
    /// Rows of the facts table as "topic|text|session|seen|superseded", read
    /// with python's sqlite3 (not through Mira), oldest first.
    static func facts(_ world: World) throws -> [String] {
        let script = """
            import sqlite3,sys
            c = sqlite3.connect(sys.argv[1])
            for r in c.execute("SELECT topic, text, session, seen, superseded_by IS NOT NULL FROM facts ORDER BY id"):
                print("|".join(str(v) for v in r))
            """
        let result = try world.sh("python3 -c \(shellQuote(script)) mira.db")
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdoutLines
    }

    @Test func aFactTheUserStatesIsKeptWithItsTurnAndReinforcedOrSupersededLater() throws {
        let world = try World()
        let first = try world.sh(turn("s1", "hi, my name is Ada and I have a cat called Miso"))
        #expect(first.status == 0, "\(first.stderr)")
        let reply = try #require(try first.records().first?["reply"] as? [String: Any])
        let remember = try #require(reply["remember"] as? [[String: String]])
        #expect(remember == [["topic": "name", "fact": "is called Ada"], ["topic": "pet", "fact": "has a cat called Miso"]])
        #expect(try Self.facts(world) == ["name|is called Ada|s1|1|0", "pet|has a cat called Miso|s1|1|0"])

        // Told again in another session: reinforced. A new name: the old one is kept, superseded.
        #expect(try world.sh(turn("s2", "My name is ada, really")).status == 0)
        #expect(try Self.facts(world) == ["name|is called Ada|s1|2|0", "pet|has a cat called Miso|s1|1|0"])
        #expect(try world.sh(turn("s2", "call me Bea: my name is Bea")).status == 0)
        #expect(try Self.facts(world) == ["name|is called Ada|s1|2|1", "pet|has a cat called Miso|s1|1|0", "name|is called Bea|s2|1|0"])
    }

    @Test func aTurnWithoutAFactReadsAsBeforeAndStoresNone() throws {
        let world = try World()
        let result = try world.sh(turn("s1", "rough day"))
        #expect(result.status == 0, "\(result.stderr)")
        let line = try #require(result.stdoutLines.first)
        // The reply is the three fields it always was: an empty remember is not written.
        #expect(line.contains(#""reply":{"output":"echo: rough day (2 messages)","persona":"default","mood":"curious"}"#), "\(line)")
        #expect(try Self.facts(world) == [])
        // The request asked for remember all the same.
        let request = try #require(try world.requests().first)
        let tools = try #require(request["tools"] as? [[String: Any]])
        let parameters = try #require((tools.first?["function"] as? [String: Any])?["parameters"] as? [String: Any])
        #expect((parameters["required"] as? [String])?.contains("remember") == true)
    }

    @Test func theJSONSchemaFallbackAsksForFactsToo() throws {
        let world = try World(behaviour: "plain")
        let result = try world.sh(turn("s1", "I live in Lisbon."))
        #expect(result.status == 0, "\(result.stderr)")
        let reply = try #require(try result.records().first?["reply"] as? [String: Any])
        #expect(reply["remember"] as? [[String: String]] == [["topic": "home", "fact": "lives in Lisbon"]])
        let requests = try world.requests()
        try #require(requests.count == 2)
        let format = try #require(requests[1]["response_format"] as? [String: Any])
        let schema = try #require((format["json_schema"] as? [String: Any])?["schema"] as? [String: Any])
        #expect((schema["properties"] as? [String: Any])?["remember"] != nil)
        #expect(try Self.facts(world) == ["home|lives in Lisbon|s1|1|0"])
    }

    @Test func aMalformedRememberFailsTheTurnAndSavesNothing() throws {
        let world = try World()
        // A reply record edited to hold a fact with a line break: save refuses it whole.
        let result = try world.sh(#"""
            mira-store load s1 | mira-prompt hi | mira-llm \
              | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r["reply"]["remember"]=[{"topic":"pet","fact":"a\nb"}]; print(json.dumps(r))' \
              | mira-store save s1
            """#)
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stderr.contains(#"reply remember[0].fact "a\nb" holds a control character"#), "\(result.stderr)")
        #expect(try world.exported("s1").isEmpty)
        #expect(try Self.facts(world) == [])
    }

    @Test func aFactTheMessageDoesNotSayIsNotKeptAndSaveSaysSo() throws {
        let world = try World()
        // The reply remembers one fact the message says and one it does not.
        let result = try world.sh(#"""
            mira-store load s1 | mira-prompt "my cat Miso sleeps all day" | mira-llm \
              | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r["reply"]["remember"]=[{"topic":"pet","fact":"has a cat called Miso"},{"topic":"job","fact":"works as a pilot"}]; print(json.dumps(r))' \
              | mira-store save s1 --format json >/dev/null
            """#)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr == "mira-store save: line 1: not kept as a fact (the message does not say it): works as a pilot\n")
        #expect(try Self.facts(world) == ["pet|has a cat called Miso|s1|1|0"])
    }

    @Test func miraEvalNamesAMalformedRemember() throws {
        let world = try World()
        let lines = [
            #"{"turn":"a","reply":{"output":"x","persona":"default","mood":"m","remember":[{"topic":"pet","fact":"has a dog"}]}}"#,
            #"{"turn":"b","reply":{"output":"x","persona":"default","mood":"m","remember":[{"topic":"two words","fact":"y"}]}}"#,
        ]
        let result = try world.sh("mira-eval --annotate", stdin: lines.joined(separator: "\n") + "\n")
        let verdicts = try result.records().map { $0["eval"] as? [String: Any] }
        #expect(verdicts.map { $0?["failed"] as? [String] } == [[], ["invalid_remember"]])
    }

    /// The memory message as MemoryPrompt writes it (its tests pin the form).
    static let memoryMessage = """
        ## What you remember
        These are things you remember from earlier conversations with this person.

        ### What they told you about themselves
        - 2026-11-20, they told you: "has a cat called \\"Miso\\""
        - 2026-11-21, they told you: "lives in Lisbon"

        ### Things said before
        - 2026-11-20, they said: "not a fact"
        """

    @Test func theFakeModelSaysWhichFactsItWasReminded() throws {
        let world = try World()
        var request = try world.miraRequest(mode: "tools")
        var messages = try #require(request["messages"] as? [[String: Any]])
        messages.insert(["role": "system", "content": Self.memoryMessage], at: 1)
        request["messages"] = messages
        let answer = try world.curl(body: request)
        #expect(answer.status == 200, "\(answer.body)")
        let choice = try #require((try answer.json()["choices"] as? [[String: Any]])?.first)
        let call = try #require(((choice["message"] as? [String: Any])?["tool_calls"] as? [[String: Any]])?.first)
        let arguments = try #require((call["function"] as? [String: Any])?["arguments"] as? String)
        let reply = try #require(try JSONSerialization.jsonObject(with: Data(arguments.utf8)) as? [String: Any])
        #expect(reply["output"] as? String == #"echo: hi (3 messages) I remember: has a cat called "Miso"; lives in Lisbon"#)
        #expect(reply["remember"] as? [Any] != nil)
        #expect((reply["remember"] as? [Any])?.isEmpty == true)
    }

    @Test func aRequestThatDoesNotAskForFactsGetsNoRemember() throws {
        let world = try World()
        var request = try world.miraRequest(mode: "json-schema")
        var format = try #require(request["response_format"] as? [String: Any])
        var spec = try #require(format["json_schema"] as? [String: Any])
        var schema = try #require(spec["schema"] as? [String: Any])
        var properties = try #require(schema["properties"] as? [String: Any])
        properties["remember"] = nil
        schema["properties"] = properties
        schema["required"] = ["output", "persona", "mood"]
        spec["schema"] = schema
        format["json_schema"] = spec
        request["response_format"] = format
        var messages = try #require(request["messages"] as? [[String: Any]])
        messages[messages.count - 1] = ["role": "user", "content": "my name is Ada"]
        request["messages"] = messages
        let answer = try world.curl(body: request)
        #expect(answer.status == 200, "\(answer.body)")
        let choice = try #require((try answer.json()["choices"] as? [[String: Any]])?.first)
        let content = try #require((choice["message"] as? [String: Any])?["content"] as? String)
        let reply = try #require(try JSONSerialization.jsonObject(with: Data(content.utf8)) as? [String: Any])
        #expect(Set(reply.keys) == ["output", "persona", "mood"])
    }
}
