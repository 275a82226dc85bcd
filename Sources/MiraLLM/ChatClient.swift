import MiraPrompt
import MiraShared
import MiraSystem

/// How an HTTP exchange failed below the HTTP level.
package struct TransportFailure: Error, Equatable, Sendable {
    package enum Kind: Sendable, Equatable {
        /// Refused, no route, DNS: nothing answered.
        case unreachable
        /// No answer within the time allowed.
        case timeout
        /// The connection broke while the answer was coming in.
        case broken
        /// TLS failed, or the URL is unusable: retrying will not help.
        case fatal
        /// The receiver stopped the transfer (the answer was too large).
        case aborted
    }

    package var kind: Kind
    package var message: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}

/// One POST of a chat-completions body. The answer's bytes go to `onChunk`
/// as they arrive, with the status already known; returning false stops the
/// transfer.
package protocol ChatTransport {
    /// Where requests go (the full chat-completions URL, unredacted), for
    /// messages that must name it; nil when there is no such URL.
    var requestURL: String? { get }

    func post(
        body: [UInt8],
        onChunk: (_ status: Int, _ bytes: UnsafeRawBufferPointer) -> Bool
    ) -> Result<(status: Int, headers: [String: String]), TransportFailure>
}

extension ChatTransport {
    package var requestURL: String? { nil }
}

/// Lets a batch pace its requests: every attempt enters before it is sent
/// and leaves with what the server answered (nil status: no answer).
package protocol AttemptGate: AnyObject {
    func enter(tokens: Int) -> Int
    func leave(ticket: Int, status: Int?, headers: [String: String])
}

/// Sends a turn's request and brings back a validated reply: retries with
/// backoff, falls back to json-schema when the server ignores the forced
/// tool, and streams the reply text as it arrives.
package struct ChatClient {
    package var policy: RetryPolicy
    package var stream: Bool
    /// An answer over this many bytes is refused (a broken or hostile server).
    package var maxResponseBytes: Int
    package var sleep: (Int) -> Void = { SystemTime.sleep(milliseconds: $0) }
    package var jitter: () -> Double = { Double.random(in: 0..<1) }
    package var now: () -> Int = { Int(SystemTime.wallSeconds()) }
    /// Receives the reply's text as it streams in.
    package var onText: ([UInt8]) -> Void = { _ in }
    /// Receives one line per attempt for `--verbose`.
    package var log: ((String) -> Void)?
    /// Hears of each retry before its wait, so a live display can say why
    /// the turn takes longer.
    package var onRetry: (RetryNotice) -> Void = { _ in }
    /// Paces attempts across a batch's workers (rate caps, adaptive concurrency).
    package var gate: (any AttemptGate)?
    /// Asked when an attempt fails: true ends the turn with no retry (the
    /// person pressed Ctrl-C in `mira chat`).
    package var isCancelled: () -> Bool = { false }

    package init(policy: RetryPolicy = RetryPolicy(), stream: Bool = false, maxResponseBytes: Int = 8 << 20) {
        self.policy = policy
        self.stream = stream
        self.maxResponseBytes = maxResponseBytes
    }

    /// The validated reply and the body that produced it.
    /// `sent` is the request as asked (after any json-schema fallback) without
    /// the stream flags: streaming is how this run talked to the server, not
    /// part of the turn, and a record that kept them would break later runs.
    package func complete(_ request: JSONObject, transport: some ChatTransport) throws(StageError) -> (Completion, sent: JSONObject) {
        var body = Self.withoutStreamFlags(request)
        var retries = 0
        var adapted: [ServerLimitation] = []  // each adaptation is tried once
        while true {
            let (verdict, cause) = exchange(streaming(body), transport: transport)
            if case .success = verdict {} else if isCancelled() { throw StageError(.gaveUp, "cancelled") }
            switch verdict {
            case .success(let completion):
                return (completion, body)
            case .ignoredTools(let content):
                if !adapted.contains(.tools), let fallback = ChatRequest.switchingToJSONSchema(body) {
                    // Small local models ignore forced tools but obey a
                    // json_schema grammar; the fallback is one extra request.
                    log?("server ignored the forced tool call; retrying once with response_format json_schema")
                    body = fallback
                    adapted.append(.tools)
                    continue
                }
                throw StageError(.invalidReply, "server answered plain text instead of a structured reply: \(CompletionReader.clip(content))")
            case .unsupported(let limitation, let error):
                guard !adapted.contains(limitation), let changed = Self.adapting(body, to: limitation) else { throw error }
                log?("\(error.message); retrying once \(Self.describe(limitation))")
                body = changed
                adapted.append(limitation)
            case .failure(let error):
                throw error
            case .retryable(let error, let retryAfter):
                let wait = try policy.wait(after: error, retries: retries, retryAfterMilliseconds: retryAfter, jitter: jitter())
                let asked = policy.honoured(retryAfter).map { " (the server asked for \($0) ms)" } ?? ""
                log?("\(error.message); retrying in \(wait) ms" + asked)
                retries += 1
                onRetry(RetryNotice(cause: cause, waitMilliseconds: wait, retry: retries, maxRetries: policy.maxRetries, message: error.message))
                sleep(wait)
            }
        }
    }

    /// The request changed to do without what the server lacks; nil when it
    /// does not use it (then the 400 stands).
    static func adapting(_ body: JSONObject, to limitation: ServerLimitation) -> JSONObject? {
        switch limitation {
        case .tools:
            return ChatRequest.switchingToJSONSchema(body)
        case .tokenLimitField(let wanted):
            guard body[wanted.other.rawValue] != nil else { return nil }
            return wanted.applied(to: body)
        }
    }

    static func describe(_ limitation: ServerLimitation) -> String {
        switch limitation {
        case .tools: "with response_format json_schema instead of tools"
        case .tokenLimitField(let wanted): "with the token limit as \(wanted.rawValue)"
        }
    }

    /// The request with the stream flags this run wants, and no others.
    func streaming(_ body: JSONObject) -> JSONObject {
        guard stream else { return body }
        var streamed = body
        streamed["stream"] = true
        streamed["stream_options"] = ["include_usage": true]
        return streamed
    }

    /// A request as a record keeps it: without `stream` and `stream_options`.
    package static func withoutStreamFlags(_ request: JSONObject) -> JSONObject {
        var body = request
        body["stream"] = nil
        body["stream_options"] = nil
        return body
    }

    /// What a request may cost against a tokens-per-minute cap before the
    /// server says: about four bytes a token in, plus the most it may write.
    /// The limit comes from the record, so it is clamped, never trusted.
    static func estimatedTokens(_ body: JSONObject, bytes: Int) -> Int {
        let out = body["max_completion_tokens"]?.intValue ?? body["max_tokens"]?.intValue ?? 256
        return (bytes / 4).addingSaturated(Int.count(out))
    }

    /// An SSE error event's text as JSON; text that is not JSON becomes its message.
    package static func errorObject(_ text: String) -> JSON {
        (try? JSONParser.parse(text)).flatMap { $0.objectValue != nil ? $0 : nil } ?? ["message": .string(text)]
    }

    /// One POST, what it came to, and what to call its failure should it be retried.
    func exchange(_ body: JSONObject, transport: some ChatTransport) -> (Verdict, RetryCause) {
        var collected: [UInt8] = []
        var received = 0
        var tooLarge = false
        var sse = SSEParser()
        var assembler = StreamAssembler()
        var streamError: StageError?
        var reportedError: JSON?  // the server's error event, which ends the stream
        var shownText = false
        let bytes = JSONWriter.bytes(.object(body))
        let ticket = gate?.enter(tokens: Self.estimatedTokens(body, bytes: bytes.count))
        let started = SystemTime.monotonicMilliseconds()

        let result = transport.post(body: bytes) { status, bytes in
            received += bytes.count
            if received > maxResponseBytes {
                tooLarge = true
                return false
            }
            guard stream, (200..<300).contains(status) else {
                collected.append(contentsOf: bytes)
                return true
            }
            for event in sse.feed(bytes) {
                let data: String
                switch event {
                case .error(let text):
                    reportedError = Self.errorObject(text)
                    return false
                case .data(let text):
                    data = text
                }
                do {
                    let text = try assembler.add(event: data)
                    if !text.isEmpty {
                        onText(text)
                        shownText = true
                    }
                } catch {
                    streamError = error as? StageError ?? StageError(.badResponse, "\(error)")
                    return false
                }
                if let error = assembler.error {  // `data: {"error": …}`
                    reportedError = error
                    return false
                }
            }
            return true
        }
        if reportedError == nil, case .error(let text)? = sse.finish() { reportedError = Self.errorObject(text) }
        if shownText { onText([0x0A]) }
        let elapsed = Int(SystemTime.monotonicMilliseconds() - started)
        if let ticket {
            switch result {
            case .success(let answer): gate?.leave(ticket: ticket, status: answer.status, headers: answer.headers)
            case .failure: gate?.leave(ticket: ticket, status: nil, headers: [:])
            }
        }

        if tooLarge {
            return (.failure(StageError(.replyTooLarge, "server's answer is over the \(maxResponseBytes)-byte limit")), .broken)
        }
        if let streamError { return (.failure(streamError), .broken) }
        if let reportedError {
            log?("stream stopped by the server's error event after \(elapsed) ms")
            return (CompletionReader.verdict(reportedError: reportedError), Self.cause(reportedError))
        }
        let status: Int, headers: [String: String]
        switch result {
        case .failure(let failure):
            log?("POST failed after \(elapsed) ms: \(failure.message)")
            return Self.verdict(for: failure)
        case .success(let answer):
            (status, headers) = answer
        }
        log?("POST answered \(status) in \(elapsed) ms (\(received) bytes)")
        guard (200..<300).contains(status) else {
            return (CompletionReader.verdict(status: status, headers: headers, body: collected, now: now(), url: transport.requestURL), .status(status))
        }
        guard stream else {
            let verdict = CompletionReader.verdict(body: collected, request: body)
            // A 2xx answer is retried only for an error inside it: read again only then.
            guard case .retryable = verdict else { return (verdict, .reportedError) }
            return (verdict, Self.cause((try? JSONParser.parse(collected))?["error"]))
        }
        guard assembler.sawDone else {
            return (.retryable(StageError(.gaveUp, "stream ended before [DONE]"), retryAfterMilliseconds: nil), .broken)
        }
        let completion = assembler.completion()
        return (CompletionReader.verdict(completion: completion, request: body), Self.cause(completion["error"]))
    }

    /// A failure below HTTP: what is worth another try, and what to call it.
    static func verdict(for failure: TransportFailure) -> (Verdict, RetryCause) {
        switch failure.kind {
        case .unreachable: (.retryable(StageError(.unreachable, failure.message), retryAfterMilliseconds: nil), .unreachable)
        case .timeout: (.retryable(StageError(.timeout, failure.message), retryAfterMilliseconds: nil), .timeout)
        case .broken, .aborted: (.retryable(StageError(.gaveUp, failure.message), retryAfterMilliseconds: nil), .broken)
        case .fatal: (.failure(StageError(.unreachable, failure.message)), .unreachable)
        }
    }

    /// An error the server reported inside its answer: its numeric code is a status.
    static func cause(_ reported: JSON?) -> RetryCause {
        let e = reported?["error"].flatMap { $0.isNull ? nil : $0 } ?? reported
        if let status = e?["code"]?.intValue, (400...599).contains(status) { return .status(status) }
        return .reportedError
    }
}
