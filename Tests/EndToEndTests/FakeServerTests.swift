import Foundation
import Testing

/// The fake server's own tests: each behaviour does what its docstring says,
/// seen from the wire with curl, not through Mira's client. (mira-prompt only
/// builds the well-formed requests a strict server must accept.)
@Suite struct FakeServerTests {
    // MARK: - Breaking off

    @Test func resetIsATCPResetNotACleanClose() throws {
        let world = try World(behaviour: "reset,normal")
        let broken = try world.curl("-o half.json", body: Self.minimal)
        // 56: "Recv failure: Connection reset by peer". A FIN before the close gives 18.
        #expect(broken.exit == 56, "\(broken.stderr)")
        #expect(broken.stderr.contains("Connection reset by peer"), "\(broken.stderr)")
        // The server survives closing the socket itself: the next request is answered.
        let next = try world.curl(body: Self.minimal)
        #expect(next.exit == 0 && next.status == 200, "\(next.stderr)")
        #expect(try world.logEntries().count == 2)
    }

    @Test func stallGoesSilentUntilTheClientGivesUp() throws {
        let world = try World(behaviour: "stall")
        let started = Date()
        let stalled = try world.curl("--max-time 1", body: Self.minimal)
        #expect(stalled.exit == 28, "\(stalled.stderr)")  // operation timed out
        let waited = Date().timeIntervalSince(started)
        #expect(waited >= 1 && waited < 4.5, "curl gave up after \(waited) s")
    }

    // MARK: - Strict mode

    @Test(arguments: ["tools", "json-schema"])
    func strictModeAcceptsWhatMiraPromptBuilds(_ mode: String) throws {
        let world = try World()
        let request = try world.miraRequest(mode: mode)
        let reply = try world.curl(body: request)
        #expect(reply.status == 200, "\(reply.body)")
        let message = try #require(((try reply.json()["choices"] as? [[String: Any]])?.first)?["message"] as? [String: Any])
        if mode == "tools" {
            let call = try #require((message["tool_calls"] as? [[String: Any]])?.first?["function"] as? [String: Any])
            #expect(call["name"] as? String == "format_response")
        } else {
            #expect((message["content"] as? String)?.hasPrefix(#"{"output": "echo: hi (2 messages)""#) == true)
        }
    }

    /// One way to break a request mira-prompt built, and OpenAI's answer to it.
    struct Breakage: CustomTestStringConvertible, Sendable {
        var name: String
        var mode: String
        var param: String?
        var code: String?
        var message: String
        var testDescription: String { name }
    }

    static let breakages: [Breakage] = [
        Breakage(name: "both token limits", mode: "tools", param: "max_tokens", code: "invalid_parameter_combination",
                 message: "Setting 'max_tokens' and 'max_completion_tokens' at the same time is not supported."),
        Breakage(name: "json_schema without a name", mode: "json-schema", param: "response_format.json_schema.name",
                 code: "missing_required_parameter",
                 message: "Missing required parameter: 'response_format.json_schema.name'."),
        Breakage(name: "json_schema name with a space", mode: "json-schema", param: "response_format.json_schema.name",
                 code: "invalid_value",
                 message: "Invalid 'response_format.json_schema.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'."),
        Breakage(name: "json_schema name of 65 characters", mode: "json-schema", param: "response_format.json_schema.name",
                 code: "string_above_max_length",
                 message: "Invalid 'response_format.json_schema.name': string too long. Expected a string with maximum length 64, but got a string with length 65 instead."),
        Breakage(name: "strict json_schema open to more properties", mode: "json-schema", param: "response_format", code: nil,
                 message: "Invalid schema for response_format 'format_response': In context=(), 'additionalProperties' is required to be supplied and to be false."),
        Breakage(name: "strict tool with a property not required", mode: "tools", param: "tools[0].function.parameters",
                 code: "invalid_function_parameters",
                 message: "Invalid schema for function 'format_response': In context=(), 'required' is required to be supplied and to be an array including every key in properties. Missing 'mood'."),
        Breakage(name: "strict tool with an open nested object", mode: "tools", param: "tools[0].function.parameters",
                 code: "invalid_function_parameters",
                 message: "Invalid schema for function 'format_response': In context=('properties', 'extra'), 'additionalProperties' is required to be supplied and to be false."),
        Breakage(name: "strict json_schema with a nested object not all required", mode: "json-schema", param: "response_format",
                 code: nil,
                 message: "Invalid schema for response_format 'format_response': In context=('properties', 'extra', 'items'), 'required' is required to be supplied and to be an array including every key in properties. Missing 'b'."),
        Breakage(name: "tool_choice forcing an unknown function", mode: "tools", param: "tool_choice", code: "invalid_value",
                 message: "Invalid value for 'tool_choice': function 'other_function' not found in 'tools'."),
        Breakage(name: "tool_choice without tools", mode: "tools", param: "tool_choice", code: nil,
                 message: "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified."),
    ]

    /// The request with this breakage applied.
    static func broken(_ request: [String: Any], _ name: String) -> [String: Any] {
        var body = request
        var format = body["response_format"] as? [String: Any] ?? [:]
        var spec = format["json_schema"] as? [String: Any] ?? [:]
        var tools = body["tools"] as? [[String: Any]] ?? []
        var function = tools.first?["function"] as? [String: Any] ?? [:]
        var schema = (spec["schema"] ?? function["parameters"]) as? [String: Any] ?? [:]
        var properties = schema["properties"] as? [String: Any] ?? [:]
        // Mira's own required list, whatever fields the contract has grown.
        let required = schema["required"] as? [String] ?? []
        switch name {
        case "both token limits":
            body["max_tokens"] = 100
            body["max_completion_tokens"] = 100
        case "json_schema without a name": spec["name"] = nil
        case "json_schema name with a space": spec["name"] = "format response"
        case "json_schema name of 65 characters": spec["name"] = String(repeating: "n", count: 65)
        case "strict json_schema open to more properties": schema["additionalProperties"] = true
        case "strict tool with a property not required": schema["required"] = required.filter { $0 != "mood" }
        case "strict tool with an open nested object":
            properties["extra"] = ["type": "object", "properties": ["a": ["type": "string"]], "required": ["a"]] as [String: Any]
            schema["required"] = required + ["extra"]
        case "strict json_schema with a nested object not all required":
            properties["extra"] = ["type": "array", "items": [
                "type": "object", "properties": ["a": ["type": "string"], "b": ["type": "string"]],
                "required": ["a"], "additionalProperties": false,
            ] as [String: Any]] as [String: Any]
            schema["required"] = required + ["extra"]
        case "tool_choice forcing an unknown function":
            body["tool_choice"] = ["type": "function", "function": ["name": "other_function"]] as [String: Any]
        case "tool_choice without tools":
            body["tools"] = nil
            return body
        default: Issue.record("unknown breakage \(name)")
        }
        schema["properties"] = properties
        if body["response_format"] != nil {
            spec["schema"] = schema
            format["json_schema"] = spec
            body["response_format"] = format
        } else if !tools.isEmpty {
            function["parameters"] = schema
            tools[0]["function"] = function
            body["tools"] = tools
        }
        return body
    }

    @Test(arguments: breakages)
    func strictModeRefusesWhatOpenAIRefuses(_ breakage: Breakage) throws {
        let world = try World()
        let request = Self.broken(try world.miraRequest(mode: breakage.mode), breakage.name)
        let reply = try world.curl(body: request)
        #expect(reply.status == 400, "\(reply.body)")
        let error = try #require(try reply.json()["error"] as? [String: Any], "\(reply.body)")
        #expect(Set(error.keys) == ["message", "type", "param", "code"])
        #expect(error["message"] as? String == breakage.message)
        #expect(error["type"] as? String == "invalid_request_error")
        #expect(error["param"] as? String == breakage.param)
        if let code = breakage.code {
            #expect(error["code"] as? String == code)
        } else {
            #expect(error["code"] is NSNull)
        }
        // Logged before it was refused, as sent.
        let logged = try world.requests()
        #expect(logged.count == 1)
        #expect(try logged.first.map(canonical) == canonical(request))
    }

    @Test func lenientModeAnswersWhatStrictModeRefuses() throws {
        let world = try World(serverArguments: ["--lenient"])
        var request = try world.miraRequest(mode: "tools")
        request["max_tokens"] = 100
        request["max_completion_tokens"] = 100
        let both = try world.curl(body: request)
        #expect(both.status == 200, "\(both.body)")
        #expect(((try both.json()["choices"] as? [[String: Any]])?.first)?["finish_reason"] as? String == "tool_calls")
        let unnamed = Self.broken(try world.miraRequest(mode: "json-schema"), "json_schema without a name")
        #expect(try world.curl(body: unnamed).status == 200)
    }

    // MARK: - Errors inside a stream

    struct StreamFault: CustomTestStringConvertible, Sendable {
        var behaviour: String
        var status: Int
        /// The SSE line's prefix: "error: " (llama.cpp) or "data: " (OpenAI).
        var prefix: String
        var type: String
        var message: String
        var testDescription: String { behaviour }
    }

    static let streamFaults: [StreamFault] = [
        StreamFault(behaviour: "sse-error-line:400", status: 400, prefix: "error: ", type: "exceed_context_size_error",
                    message: "the request exceeds the available context size, try increasing it"),
        StreamFault(behaviour: "sse-error-line:500", status: 500, prefix: "error: ", type: "server_error", message: "Compute error."),
        StreamFault(behaviour: "sse-error-line:503", status: 503, prefix: "error: ", type: "unavailable_error", message: "Loading model"),
        StreamFault(behaviour: "sse-error-data", status: 500, prefix: "data: ", type: "server_error",
                    message: "The server had an error while processing your request."),
        StreamFault(behaviour: "sse-error-data:500", status: 500, prefix: "data: ", type: "server_error",
                    message: "The server had an error while processing your request."),
        StreamFault(behaviour: "sse-error-data:400", status: 400, prefix: "data: ", type: "invalid_request_error",
                    message: "Invalid prompt: your prompt was flagged as potentially violating our usage policy."),
    ]

    @Test(arguments: streamFaults)
    func aStreamEndsWithItsErrorLineAndNoDone(_ fault: StreamFault) throws {
        let world = try World(behaviour: fault.behaviour)
        var request = Self.minimal
        request["stream"] = true
        let reply = try world.curl("-N", body: request)
        #expect(reply.exit == 0, "the stream ends cleanly: \(reply.stderr)")
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type") == "text/event-stream; charset=utf-8")
        let lines = reply.body.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.hasPrefix(":") }
        #expect(!reply.body.contains("[DONE]"))
        // Three normal chunks, then the error as the last line.
        #expect(lines.count == 4, "\(lines)")
        #expect(lines.dropLast().allSatisfy { $0.hasPrefix("data: {\"id\": \"chatcmpl-1\"") }, "\(lines)")
        let last = try #require(lines.last)
        #expect(last.hasPrefix(fault.prefix), "\(last)")
        #expect(reply.body.hasSuffix(last + "\n\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(last.dropFirst(fault.prefix.count).utf8)) as? [String: Any])
        // llama.cpp sends the error object itself, OpenAI wraps it in {"error": ...}.
        let error = try #require(fault.prefix == "error: " ? object : object["error"] as? [String: Any])
        #expect(error["type"] as? String == fault.type)
        #expect(error["message"] as? String == fault.message)
        if fault.prefix == "error: " {
            #expect(error["code"] as? Int == fault.status)
            #expect(last.hasPrefix(#"error: {"code": "#))
            if fault.status == 400 { #expect(error["n_ctx"] as? Int == 4096) }
        } else {
            #expect(last.hasPrefix(#"data: {"error": {"#))
            #expect(error["param"] is NSNull)
            #expect(fault.status == 400 ? error["code"] as? String == "invalid_prompt" : error["code"] is NSNull)
        }
        // Without "stream": that status, with the same error object.
        let plain = try world.curl(body: Self.minimal)
        #expect(plain.status == fault.status)
        let plainError = try #require(try plain.json()["error"] as? [String: Any])
        #expect(try canonical(plainError) == canonical(error))
    }

    // MARK: - Servers narrower than OpenAI

    @Test func noToolsRefusesToolsButAnswersAJSONSchemaRequest() throws {
        let world = try World(behaviour: "no-tools")
        var tools = try world.miraRequest(mode: "tools")
        tools["model"] = "llama3.2:1b"
        let refused = try world.curl(body: tools)
        #expect(refused.status == 400)
        let error = try #require(try refused.json()["error"] as? [String: Any])
        #expect(error["message"] as? String == "llama3.2:1b does not support tools")
        #expect(error["type"] as? String == "invalid_request_error")
        #expect(error["param"] is NSNull && error["code"] is NSNull)

        let schema = try world.curl(body: try world.miraRequest(mode: "json-schema"))
        #expect(schema.status == 200, "\(schema.body)")
        let message = ((try schema.json()["choices"] as? [[String: Any]])?.first)?["message"] as? [String: Any]
        #expect((message?["content"] as? String)?.contains(#""persona": "#) == true)
    }

    struct TokenField: CustomTestStringConvertible, Sendable {
        var behaviour: String
        var refused: String
        var accepted: String
        var message: String
        var param: String?
        var code: String?
        var testDescription: String { behaviour }
    }

    @Test(arguments: [
        TokenField(behaviour: "refuse-max-tokens", refused: "max_tokens", accepted: "max_completion_tokens",
                   message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                   param: "max_tokens", code: "unsupported_parameter"),
        TokenField(behaviour: "refuse-max-completion-tokens", refused: "max_completion_tokens", accepted: "max_tokens",
                   message: "Unrecognized request argument supplied: max_completion_tokens", param: nil, code: nil),
    ])
    func aTokenFieldTheServerDoesNotKnowIsRefused(_ field: TokenField) throws {
        let world = try World(behaviour: field.behaviour)
        var refusedRequest = Self.minimal
        refusedRequest[field.refused] = 50
        let refused = try world.curl(body: refusedRequest)
        #expect(refused.status == 400)
        let error = try #require(try refused.json()["error"] as? [String: Any])
        #expect(error["message"] as? String == field.message)
        #expect(error["type"] as? String == "invalid_request_error")
        #expect(field.param.map { error["param"] as? String == $0 } ?? (error["param"] is NSNull))
        #expect(field.code.map { error["code"] as? String == $0 } ?? (error["code"] is NSNull))

        var acceptedRequest = Self.minimal
        acceptedRequest[field.accepted] = 50
        #expect(try world.curl(body: acceptedRequest).status == 200)
        #expect(try world.curl(body: Self.minimal).status == 200)
    }

    // MARK: - Headers on the wire

    struct Headers: CustomTestStringConvertible, Sendable {
        var behaviour: String
        var status: Int
        /// Header lines exactly as they must arrive (CRLF added by the test).
        var lines: [String]
        var testDescription: String { behaviour }
    }

    @Test(arguments: [
        Headers(behaviour: "ratelimit-exhausted:3", status: 200,
                lines: ["X-RateLimit-Remaining-Requests: 0", "X-RateLimit-Reset-Requests: 3s"]),
        Headers(behaviour: "ratelimit-tokens-exhausted:7", status: 200,
                lines: ["X-RateLimit-Remaining-Tokens: 0", "X-RateLimit-Reset-Tokens: 7s"]),
        Headers(behaviour: "retry-after:2", status: 429, lines: ["Retry-After: 2"]),
        Headers(behaviour: "retry-after-ms:250", status: 429, lines: ["Retry-After-Ms: 250"]),
        Headers(behaviour: "429", status: 429, lines: ["retry-after-ms: 10", "retry-after: 1"]),
        Headers(behaviour: "should-not-retry", status: 500, lines: ["X-Should-Retry: false", "retry-after-ms: 10"]),
        Headers(behaviour: "should-retry-400", status: 400, lines: ["X-Should-Retry: true"]),
    ])
    func headersArriveInTheirCaseWithCRLF(_ expected: Headers) throws {
        let world = try World(behaviour: expected.behaviour)
        let reply = try world.curl(body: Self.minimal)
        #expect(reply.status == expected.status)
        let head = reply.headBytes
        for line in expected.lines {
            #expect(occurs(Array(("\r\n" + line + "\r\n").utf8), in: head), "no \(line) in \(reply.headText)")
        }
        // Every line of the head ends in CRLF, and the head ends in a blank line.
        #expect(head.indices.allSatisfy { head[$0] != 0x0A || ($0 > 0 && head[$0 - 1] == 0x0D) }, "\(reply.headText)")
        #expect(Array(head.suffix(4)) == [0x0D, 0x0A, 0x0D, 0x0A])
        // Only the header, and no other of that name in another case.
        for line in expected.lines {
            let name = String(line.prefix { $0 != ":" }).lowercased()
            #expect(reply.headerLines.filter { $0.lowercased().hasPrefix(name + ":") }.count == 1)
        }
    }

    @Test func shouldRetry400ThenNormalAnswersTheRetry() throws {
        let world = try World(behaviour: "should-retry-400,normal")
        let first = try world.curl(body: Self.minimal)
        #expect(first.status == 400 && first.header("X-Should-Retry") == "true")
        #expect(((try first.json()["error"] as? [String: Any])?["type"] as? String) == "invalid_request_error")
        let second = try world.curl(body: Self.minimal)
        #expect(second.status == 200 && second.header("X-Should-Retry") == nil)
    }

    // MARK: - Timing and the log

    @Test func holdDelaysOnlyTheKthRequest() throws {
        let world = try World(behaviour: "hold:2:1500")
        for _ in 1...4 { #expect(try world.curl(body: Self.minimal).status == 200) }
        let arrivals = try world.logEntries().compactMap { $0["t"] as? Double }
        try #require(arrivals.count == 4)
        // Requests go one after another, so a gap is the previous one's answer time.
        let gaps = zip(arrivals.dropFirst(), arrivals).map { $0 - $1 }
        #expect(gaps[0] < 1.0, "\(gaps)")
        #expect(gaps[1] >= 1.5, "\(gaps)")
        #expect(gaps[2] < 1.0, "\(gaps)")
    }

    @Test func logEntriesCarryIncreasingArrivalTimes() throws {
        let world = try World()
        let started = ProcessInfo.processInfo.systemUptime
        for _ in 1...3 { #expect(try world.curl(body: Self.minimal).status == 200) }
        let elapsed = ProcessInfo.processInfo.systemUptime - started
        let entries = try world.logEntries()
        #expect(entries.compactMap { $0["n"] as? Int } == [1, 2, 3])
        #expect(entries.allSatisfy { $0["path"] as? String == "/v1/chat/completions" })
        let times = entries.compactMap { $0["t"] as? Double }
        try #require(times.count == 3)
        #expect(times[0] < times[1] && times[1] < times[2], "\(times)")
        // Seconds on a monotonic clock: the span fits inside what the test waited.
        #expect(times[2] - times[0] < elapsed, "\(times) within \(elapsed) s")
    }

    // MARK: - What the benchmarks use

    @Test func normalAnswersAtOnceAndStatsCountWholeReplies() throws {
        let world = try World()
        let started = Date()
        let first = try world.curl(body: Self.minimal)
        #expect(first.status == 200 && first.exit == 0, "\(first.stderr)")
        // At once: nowhere near a delay behaviour's wait (a loose bound, for a loaded machine).
        #expect(Date().timeIntervalSince(started) < 3, "took \(Date().timeIntervalSince(started)) s")
        #expect(try world.curl(body: try world.miraRequest(mode: "tools")).status == 200)
        var streamed = Self.minimal
        streamed["stream"] = true
        #expect(try world.curl("-N", body: streamed).body.hasSuffix("data: [DONE]\n\n"))
        // A refusal is no completion.
        var refused = Self.minimal
        refused["max_tokens"] = 5
        refused["max_completion_tokens"] = 5
        #expect(try world.curl(body: refused).status == 400)
        let stats = try world.getJSON("/stats")
        #expect(stats["completions"] as? Int == 3, "\(stats)")
        #expect(stats["served"] as? Int == 0 && stats["rejected"] as? Int == 0, "\(stats)")
    }

    @Test func modelsListsOneModel() throws {
        let world = try World()
        let models = try world.getJSON("/v1/models")
        #expect(models["object"] as? String == "list")
        let data = try #require(models["data"] as? [[String: Any]])
        #expect(data.map { $0["id"] as? String } == ["fake-openai"])
        #expect(try world.logEntries().isEmpty, "a GET is not a chat request")
    }

    @Test func delayAnswersEveryRequestAfterItsMilliseconds() throws {
        let world = try World(behaviour: "delay:400")
        let started = Date()
        for _ in 1...3 { #expect(try world.curl(body: Self.minimal).status == 200) }
        #expect(Date().timeIntervalSince(started) >= 1.2)
        // One after another, so each gap between arrivals holds the previous answer's wait.
        let gaps = try world.arrivalGaps()
        #expect(gaps.count == 2 && gaps.allSatisfy { $0 >= 0.4 }, "\(gaps)")
        #expect(try world.getJSON("/stats")["completions"] as? Int == 3)
    }

    @Test func sixtyFourKeepAliveConnectionsAreServedAtOnce() throws {
        let world = try World(behaviour: "delay:500")
        let urls = Array(repeating: world.baseURL + "/chat/completions", count: 64).joined(separator: " ")
        let discard = Array(repeating: "-o /dev/null", count: 64).joined(separator: " ")
        let body = String(decoding: try JSONSerialization.data(withJSONObject: Self.minimal), as: UTF8.self)
        let started = Date()
        let result = try world.sh("/usr/bin/curl -sS --fail --parallel --parallel-immediate --parallel-max 64 "
                                  + "-H 'Content-Type: application/json' -H 'Expect:' -d \(shellQuote(body)) "
                                  + "-w '%{http_code}\\n' \(discard) \(urls)")
        let took = Date().timeIntervalSince(started)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutLines.filter { $0 == "200" }.count == 64, "\(result.stdout)")
        // One after another they would take 32 s; side by side about half a second.
        #expect(took < 16, "64 requests of 0.5 s took \(took) s")
        #expect(try world.logEntries().count == 64)
    }

    @Test func aConnectionCarriesOneRequestAfterAnother() throws {
        let world = try World()
        let url = world.baseURL + "/chat/completions"
        let body = String(decoding: try JSONSerialization.data(withJSONObject: Self.minimal), as: UTF8.self)
        let result = try world.sh("/usr/bin/curl -sS -v -H 'Content-Type: application/json' -d \(shellQuote(body)) -o /dev/null -o /dev/null \(url) \(url)")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("Re-using existing connection"), "\(result.stderr)")
        #expect(try world.logEntries().count == 2)
    }

    @Test func chunkedBodiesAndExpectContinueAreRead() throws {
        let world = try World()
        let data = try JSONSerialization.data(withJSONObject: Self.minimal)
        let chunked = try world.sh("/usr/bin/curl -sS -i -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @- \(world.baseURL)/chat/completions",
                                   stdin: String(decoding: data, as: UTF8.self))
        #expect(chunked.stdout.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(chunked.stdout)")
        let continued = try world.sh("/usr/bin/curl -sS -i -H 'Content-Type: application/json' -H 'Expect: 100-continue' --data-binary @- \(world.baseURL)/chat/completions",
                                     stdin: String(decoding: data, as: UTF8.self))
        #expect(continued.stdout.hasPrefix("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"), "\(continued.stdout)")
        let logged = try world.requests()
        #expect(logged.count == 2)
        #expect(try logged.map(canonical) == [canonical(Self.minimal), canonical(Self.minimal)])
    }

    @Test func streamGapZeroSendsTheSameStream() throws {
        var request = try World().miraRequest(mode: "tools")
        request["stream"] = true
        request["stream_options"] = ["include_usage": true]
        func stream(_ arguments: [String]) throws -> String {
            let world = try World(serverArguments: arguments)
            let reply = try world.curl("-N", body: request)
            #expect(reply.exit == 0 && reply.status == 200, "\(reply.stderr)")
            return reply.body.replacingOccurrences(of: #""created": [0-9]+"#, with: #""created": 0"#, options: .regularExpression)
        }
        let paced = try stream([])
        let fast = try stream(["--stream-gap", "0"])
        #expect(fast == paced)
        #expect(fast.hasSuffix("data: [DONE]\n\n") && fast.contains(#""finish_reason": "tool_calls""#))
    }

    @Test func exitWithParentStopsWhenTheParentIsGone() throws {
        let world = try World()
        // The parent: a shell that starts the server, waits for its port, and exits.
        let started = try world.sh("""
            sh -c 'python3 "$FAKE_OPENAI" --exit-with-parent > port.txt 2> /dev/null < /dev/null & echo $! > pid.txt
              for i in $(seq 400); do grep -q PORT= port.txt && break; sleep 0.05; done'
            cat port.txt
            """, extraEnvironment: ["FAKE_OPENAI": packageRoot + "/Tests/Support/fake_openai.py"])
        #expect(started.stdout.hasPrefix("PORT="), "\(started.stdout) \(started.stderr)")
        // Its parent is gone: it stops within a second or so (it looks twice a second).
        let gone = try world.sh("""
            pid=$(cat pid.txt)
            for i in $(seq 200); do kill -0 "$pid" 2> /dev/null || exit 0; sleep 0.05; done
            kill "$pid"; exit 1
            """)
        #expect(gone.status == 0, "the server outlived its parent by 10 s")
    }

    /// A chat request the strict server accepts, with no tools or token limits.
    static var minimal: [String: Any] {
        ["model": "gpt-4.1", "messages": [["role": "user", "content": "hi"]]]
    }
}

/// A JSON object's bytes with sorted keys, for comparing two objects.
func canonical(_ object: [String: Any]) throws -> Data {
    try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
}

func occurs(_ needle: [UInt8], in haystack: [UInt8]) -> Bool {
    guard needle.count <= haystack.count else { return false }
    return (0...(haystack.count - needle.count)).contains { haystack[$0..<$0 + needle.count].elementsEqual(needle) }
}

/// What curl saw of one exchange: its exit status, the head and the body as sent.
struct CurlReply {
    var exit: Int32
    var stderr: String
    var bytes: [UInt8]

    /// Status line and headers, up to and with the blank line.
    var headBytes: [UInt8] {
        guard let end = (0..<max(0, bytes.count - 3)).first(where: { bytes[$0..<$0 + 4].elementsEqual([13, 10, 13, 10]) })
        else { return bytes }
        return Array(bytes[..<(end + 4)])
    }
    var headText: String { String(decoding: headBytes, as: UTF8.self) }
    var body: String { String(decoding: bytes.dropFirst(headBytes.count), as: UTF8.self) }
    /// The head's lines without their CRLF.
    var headerLines: [String] {
        headBytes.split(separator: 10).map { String(decoding: $0.last == 13 ? $0.dropLast() : $0, as: UTF8.self) }
            .filter { !$0.isEmpty }
    }
    var status: Int? { headerLines.first?.split(separator: " ").dropFirst().first.flatMap { Int($0) } }
    func header(_ name: String) -> String? {
        headerLines.dropFirst().first { $0.lowercased().hasPrefix(name.lowercased() + ":") }
            .map { String($0.drop { $0 != ":" }.dropFirst()).trimmingCharacters(in: .whitespaces) }
    }
    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else {
            throw WorldError(message: "not a JSON object: \(body.prefix(200))")
        }
        return object
    }
}

extension World {
    /// POSTs `body` to the chat endpoint with /usr/bin/curl, `-i` so the head
    /// arrives byte for byte; `flags` go before the URL.
    func curl(_ flags: String = "", body: [String: Any]) throws -> CurlReply {
        let curl = "/usr/bin/curl"
        try #require(FileManager.default.isExecutableFile(atPath: curl), "no curl: scripts/install-deps.sh installs it")
        let data = try JSONSerialization.data(withJSONObject: body)
        // No "Expect: 100-continue" for big bodies: one head per answer.
        let result = try sh("\(curl) -sS -i -H 'Content-Type: application/json' -H 'Expect:' --data-binary @- \(flags) \(baseURL)/chat/completions",
                            stdin: String(decoding: data, as: UTF8.self))
        return CurlReply(exit: result.status, stderr: result.stderr, bytes: Array(result.stdout.utf8))
    }

    /// GETs `path` from the fake server with curl and parses the JSON object it answers.
    func getJSON(_ path: String) throws -> [String: Any] {
        let result = try sh("/usr/bin/curl -sS --fail http://127.0.0.1:\(port)\(path)")
        try #require(result.status == 0, "\(result.stderr)")
        return try #require(try result.records().first, "\(result.stdout)")
    }

    /// The chat request `mira-prompt hi` builds in this mode (tools or json-schema).
    func miraRequest(mode: String) throws -> [String: Any] {
        let result = try sh("mira-prompt --structured \(mode) hi")
        try #require(result.status == 0, "\(result.stderr)")
        return try #require(try result.records().first?["request"] as? [String: Any])
    }
}
