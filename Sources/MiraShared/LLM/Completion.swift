/// A reply the server gave and we validated, with what it reported about itself.
public struct Completion: Equatable, Sendable {
    public var reply: Reply
    public var model: String?
    public var usage: JSON?
}

/// What one exchange with the server came to.
public enum Verdict: Equatable, Sendable {
    case success(Completion)
    /// The server answered plain text instead of calling the forced tool.
    case ignoredTools(content: String)
    case retryable(StageError, retryAfterMilliseconds: Int?)
    case failure(StageError)
}

/// Reads chat-completion answers: HTTP status, error bodies, and the
/// structured reply inside a tool call or a json-schema content.
public enum CompletionReader {
    /// An answer that was not 2xx: retry it, or fail with the right code.
    public static func verdict(status: Int, headers: [String: String], body: [UInt8], now: Int) -> Verdict {
        let error = errorDetail(body)
        var cause = "server answered \(status)" + (error.message.map { ": \($0)" } ?? "")
        if (300..<400).contains(status) {
            // Mira does not follow redirects (a POST with a key must not
            // wander); say where the server points, so the base URL can be fixed.
            let target = headers["location"].map { "to " + clip(URLText.redacted($0)) } ?? "with no Location"
            cause = "server answered \(status), a redirect \(target): Mira does not follow redirects: set the base URL to that address, up to /v1"
        }
        if status == 401 || status == 403 {
            return .failure(StageError(.rejectedKey, cause + " (check OPENAI_API_KEY)"))
        }
        if status == 429 && error.code == "insufficient_quota" {
            return .failure(StageError(.insufficientQuota, cause))
        }
        let retryAfter = RetryPolicy.retryAfterMilliseconds(headers: headers, now: now)
        switch headers["x-should-retry"] {
        case "true": return .retryable(StageError(.gaveUp, cause), retryAfterMilliseconds: retryAfter)
        case "false": return .failure(StageError(RetryPolicy.isRetryable(status: status) ? .gaveUp : .badRequest, cause))
        default: break
        }
        if RetryPolicy.isRetryable(status: status) {
            return .retryable(StageError(.gaveUp, cause), retryAfterMilliseconds: retryAfter)
        }
        return .failure(StageError(.badRequest, cause))
    }

    /// A 2xx body: the chat completion and the reply in it.
    public static func verdict(body: [UInt8], request: JSONObject) -> Verdict {
        let json: JSON
        do {
            json = try JSONParser.parse(body)
        } catch {
            return .failure(StageError(.badResponse, "server answered a body that is not JSON (\(error)): \(snippet(body))"))
        }
        return verdict(completion: json, request: request)
    }

    /// A parsed completion (or one assembled from a stream).
    public static func verdict(completion json: JSON, request: JSONObject) -> Verdict {
        guard let object = json.objectValue else {
            return .failure(StageError(.badResponse, "server answered \(json.typeName), not a chat completion"))
        }
        if let e = object["error"], !e.isNull {
            let message = e["message"]?.stringValue ?? JSONWriter.string(e)
            return .retryable(StageError(.gaveUp, "server reported an error: \(clip(message))"), retryAfterMilliseconds: nil)
        }
        guard let choice = object["choices"]?.arrayValue?.first, let message = choice["message"]?.objectValue else {
            return .failure(StageError(.badResponse, "server answered a completion with no choices"))
        }
        let finish = choice["finish_reason"]?.stringValue
        let personas = ChatRequest.personaEnum(in: request) ?? BuiltinPersonas.all.map(\.name)
        let mode = ChatRequest.mode(of: request) ?? .tools

        let structured: String
        if let calls = message["tool_calls"]?.arrayValue, !calls.isEmpty {
            guard let call = calls.first(where: { $0["function"]?["name"]?.stringValue == ChatRequest.functionName }) else {
                let name = calls[0]["function"]?["name"]?.stringValue ?? "?"
                return .failure(StageError(.invalidReply, "model called \(Identifiers.quoted(name)), not \(ChatRequest.functionName)"))
            }
            guard let arguments = call["function"]?["arguments"]?.stringValue else {
                return .failure(StageError(.invalidReply, "the \(ChatRequest.functionName) call has no arguments"))
            }
            structured = arguments
        } else if let refusal = message["refusal"]?.stringValue, !refusal.isEmpty {
            return .failure(StageError(.invalidReply, "model refused: \(clip(refusal))"))
        } else if let content = message["content"]?.stringValue, content.contains(where: { !$0.isWhitespace }) {
            if mode == .tools { return .ignoredTools(content: content) }
            structured = content
        } else {
            return .failure(StageError(.invalidReply, "model gave no tool call and no content (finish_reason \(finish ?? "none"))"))
        }

        let arguments: JSON
        do {
            arguments = try JSONParser.parse(structured)
        } catch {
            let why = finish == "length" ? " (cut off: finish_reason length; raise --max-tokens)" : ""
            return .failure(StageError(.invalidReply, "reply is not JSON\(why): \(error)"))
        }
        do {
            let reply = try Reply(validating: arguments, personas: personas)
            return .success(Completion(reply: reply, model: object["model"]?.stringValue, usage: object["usage"]))
        } catch {
            return .failure(error)
        }
    }

    /// The `error.message` and `error.code` of an error body, when it has them.
    static func errorDetail(_ body: [UInt8]) -> (message: String?, code: String?) {
        guard let json = try? JSONParser.parse(body), let e = json["error"] else {
            return (body.isEmpty ? nil : snippet(body), nil)
        }
        let message = e["message"]?.stringValue.map(clip)
        let code = e["code"]?.stringValue ?? e["type"]?.stringValue
        return (message, code)
    }

    /// A short, one-line, printable piece of a body for an error message.
    static func snippet(_ body: [UInt8]) -> String {
        clip(String(decoding: body.prefix(200), as: UTF8.self))
    }

    static func clip(_ text: String) -> String {
        var flat = String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 })
        if flat.count > 200 { flat = String(flat.prefix(200)) + "…" }
        return flat
    }
}
