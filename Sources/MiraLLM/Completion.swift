import MiraShared

/// A reply the server gave and we validated, with what it reported about itself.
package struct Completion: Equatable, Sendable {
    package var reply: Reply
    package var model: String?
    package var usage: JSON?
}

/// What one exchange with the server came to.
package enum Verdict: Equatable, Sendable {
    case success(Completion)
    /// The server answered plain text instead of calling the forced tool.
    case ignoredTools(content: String)
    case retryable(StageError, retryAfterMilliseconds: Int?)
    case failure(StageError)
    /// A 400 saying the server lacks something the request used; the client
    /// may ask again without it (once), else it is this failure.
    case unsupported(ServerLimitation, StageError)
}

/// What a server said it cannot take, in the words servers use for it.
package enum ServerLimitation: Equatable, Sendable {
    /// "… does not support tools" (Ollama and others): use json-schema instead.
    case tools
    /// The server reads the other name of the token limit.
    case tokenLimitField(wanted: TokenLimitField)

    /// Recognises the limitation in a 400's error message and `param`.
    static func named(in message: String, param: String?) -> ServerLimitation? {
        let text = message.lowercased()
        let refusal = ["not support", "unsupported", "unrecognized", "unknown", "not allowed", "not permitted"]
        guard refusal.contains(where: { text.containsText($0) }) else { return nil }
        // The field refused is the one named in `param`, else the one named
        // first: "'max_tokens' is not supported … use 'max_completion_tokens'".
        let fields = TokenLimitField.allCases.compactMap { field in
            text.firstOccurrence(of: field.rawValue).map { (field, $0.lowerBound) }
        }
        if let refused = TokenLimitField(rawValue: param ?? "") ?? fields.min(by: { $0.1 < $1.1 })?.0 {
            return .tokenLimitField(wanted: refused.other)
        }
        if text.containsText("tool") || param == "tools" || param == "tool_choice" { return .tools }
        return nil
    }
}

/// Reads chat-completion answers: HTTP status, error bodies, and the
/// structured reply inside a tool call or a json-schema content.
package enum CompletionReader {
    /// An answer that was not 2xx: retry it, or fail with the right code.
    /// `url` is where the request went: a 404 names it (redacted).
    package static func verdict(status: Int, headers: [String: String], body: [UInt8], now: Int, url: String? = nil) -> Verdict {
        let error = errorDetail(body)
        var cause = "server answered \(status)" + (error.message.map { ": \($0)" } ?? "")
        if status == 404, let url {
            cause = "server answered 404 for \(clip(URLText.redacted(url)))" + (error.message.map { ": \($0)" } ?? "")
                + (URLText.baseEndsInV1(completionsURL: url) ? "" : "; the base URL usually ends in /v1 (check OPENAI_BASE_URL or --base-url)")
        }
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
        if status == 400 || status == 422, let message = error.message,
            let limitation = ServerLimitation.named(in: message, param: error.param)
        {
            return .unsupported(limitation, StageError(.badRequest, cause))
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
    package static func verdict(body: [UInt8], request: JSONObject) -> Verdict {
        let json: JSON
        do {
            json = try JSONParser.parse(body)
        } catch {
            return .failure(StageError(.badResponse, "server answered a body that is not JSON (\(error)): \(snippet(body))"))
        }
        return verdict(completion: json, request: request)
    }

    /// A parsed completion (or one assembled from a stream).
    package static func verdict(completion json: JSON, request: JSONObject) -> Verdict {
        guard let object = json.objectValue else {
            return .failure(StageError(.badResponse, "server answered \(json.typeName), not a chat completion"))
        }
        if let e = object["error"], !e.isNull {
            return verdict(reportedError: e)
        }
        guard let choice = object["choices"]?.arrayValue?.first, let message = choice["message"]?.objectValue else {
            return .failure(StageError(.badResponse, "server answered a completion with no choices"))
        }
        let finish = choice["finish_reason"]?.stringValue
        let personas = ReplyContract.allowedPersonas(in: request)
        let mode = ReplyContract.mode(of: request) ?? .tools

        let structured: String
        if let calls = message["tool_calls"]?.arrayValue, !calls.isEmpty {
            guard let call = calls.first(where: { $0["function"]?["name"]?.stringValue == ReplyContract.functionName }) else {
                let name = calls[0]["function"]?["name"]?.stringValue ?? "?"
                return .failure(StageError(.invalidReply, "model called \(Identifiers.quoted(name)), not \(ReplyContract.functionName)"))
            }
            guard let arguments = call["function"]?["arguments"]?.stringValue else {
                return .failure(StageError(.invalidReply, "the \(ReplyContract.functionName) call has no arguments"))
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

    /// An error the server reported inside a 200 answer: a body or stream
    /// chunk `{"error": {…}}`, or llama.cpp's bare `{"code", "message", "type"}`
    /// from an SSE `error:` line. A numeric code is an HTTP status and decides
    /// as a status would; else the type does: a request the server refuses is
    /// not retried (a prompt over the context size stays over it).
    package static func verdict(reportedError reported: JSON) -> Verdict {
        let e = reported["error"].flatMap { $0.isNull ? nil : $0 } ?? reported
        let message = e["message"]?.stringValue ?? e.stringValue ?? JSONWriter.string(e)
        let cause = "server reported an error: \(clip(message))"
        if let status = e["code"]?.intValue, (400...599).contains(status) {
            if status == 401 || status == 403 { return .failure(StageError(.rejectedKey, cause)) }
            return RetryPolicy.isRetryable(status: status)
                ? .retryable(StageError(.gaveUp, cause), retryAfterMilliseconds: nil)
                : .failure(StageError(.badRequest, cause))
        }
        switch e["type"]?.stringValue ?? e["code"]?.stringValue ?? "" {
        case "insufficient_quota":
            return .failure(StageError(.insufficientQuota, cause))
        case "authentication_error", "permission_error", "invalid_api_key":
            return .failure(StageError(.rejectedKey, cause))
        case "invalid_request_error", "exceed_context_size_error", "not_supported_error", "context_length_exceeded":
            return .failure(StageError(.badRequest, cause))
        default:  // server_error, unavailable_error, or nothing said: a retry may help
            return .retryable(StageError(.gaveUp, cause), retryAfterMilliseconds: nil)
        }
    }

    /// The `error.message`, `error.code` (else type) and `error.param` of an error body, when it has them.
    static func errorDetail(_ body: [UInt8]) -> (message: String?, code: String?, param: String?) {
        guard let json = try? JSONParser.parse(body), let e = json["error"] else {
            return (body.isEmpty ? nil : snippet(body), nil, nil)
        }
        let message = e["message"]?.stringValue.map(clip)
        let code = e["code"]?.stringValue ?? e["type"]?.stringValue
        return (message, code, e["param"]?.stringValue)
    }

    /// A short, one-line, printable piece of a body for an error message.
    static func snippet(_ body: [UInt8]) -> String {
        clip(String(decoding: body.prefix(200), as: UTF8.self))
    }

    package static func clip(_ text: String) -> String {
        var flat = String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 })
        if flat.count > 200 { flat = String(flat.prefix(200)) + "…" }
        return flat
    }
}
