import MiraShared
import MiraSystem

/// Turns texts into vectors through any OpenAI-compatible `POST
/// {base}/embeddings` (OpenAI, llama.cpp's llama-server --embeddings,
/// Ollama): many inputs per request, long texts split, every answer checked,
/// and the chat's retries, waits and size cap.
package struct EmbeddingClient {
    package var settings: EmbeddingSettings
    package var policy: RetryPolicy
    /// An answer over this many bytes is refused (a broken or hostile server).
    package var maxResponseBytes: Int
    package var sleep: (Int) -> Void = { SystemTime.sleep(milliseconds: $0) }
    package var jitter: () -> Double = { Double.random(in: 0..<1) }
    package var now: () -> Int = { Int(SystemTime.wallSeconds()) }
    /// Receives one line per request for `--verbose`.
    package var log: ((String) -> Void)?
    /// Hears of each retry before its wait.
    package var onRetry: (RetryNotice) -> Void = { _ in }
    /// Paces requests across concurrent workers (rate caps).
    package var gate: (any AttemptGate)?
    /// Asked before each request and when one fails: true ends the call
    /// with no more requests.
    package var isCancelled: () -> Bool = { false }

    /// A vector written as JSON takes about 20 bytes a dimension: 256 KiB an
    /// input is room for 8,000 dimensions (OpenAI's largest model has 3,072).
    package static func defaultMaxResponseBytes(batchSize: Int) -> Int {
        (1 << 20) + min(max(batchSize, 1), 1 << 20) * (256 << 10)
    }

    package init(settings: EmbeddingSettings, policy: RetryPolicy = RetryPolicy(), maxResponseBytes: Int? = nil) {
        self.settings = settings
        self.policy = policy
        self.maxResponseBytes = maxResponseBytes ?? Self.defaultMaxResponseBytes(batchSize: settings.batchSize)
    }

    /// One unit-length vector per text, in the texts' order, however many
    /// requests it takes (`batchSize` inputs each). A text longer than
    /// `maxInputBytes` is embedded in pieces (`EmbeddingPieces`), and its
    /// vector is the normalised mean of theirs. A text that is empty or all
    /// whitespace is not sent and gets an empty vector: it has nothing to
    /// embed, and the caller leaves it out of any index.
    package func embed(_ texts: [String], transport: some ChatTransport) throws(StageError) -> [[Float]] {
        var pieces: [String] = []
        var owners: [Int] = []  // the text each piece belongs to
        for (index, text) in texts.enumerated() {
            for piece in EmbeddingPieces.pieces(of: text, maxBytes: settings.maxInputBytes) {
                pieces.append(piece)
                owners.append(index)
            }
        }
        var sums = [[Double]](repeating: [], count: texts.count)
        var firsts = [[Double]](repeating: [], count: texts.count)
        var dimension: Int?
        var start = 0
        while start < pieces.count {
            if isCancelled() { throw StageError(.gaveUp, "cancelled") }
            let end = min(start + max(settings.batchSize, 1), pieces.count)
            let vectors = try request(Array(pieces[start..<end]), dimension: dimension, transport: transport)
            dimension = vectors.first?.count ?? dimension
            for (offset, vector) in vectors.enumerated() {
                let owner = owners[start + offset]
                if sums[owner].isEmpty {
                    sums[owner] = vector
                    firsts[owner] = vector
                } else {
                    for k in vector.indices { sums[owner][k] += vector[k] }
                }
            }
            start = end
        }
        return sums.indices.map { index in
            guard !sums[index].isEmpty else { return [] }
            // Pieces that point exactly opposite ways cancel out: the first one stands for the text.
            return Self.unitFloats(sums[index]) ?? Self.unitFloats(firsts[index]) ?? []
        }
    }

    /// The vector scaled to length 1, as Floats; nil for a zero vector.
    static func unitFloats(_ vector: [Double]) -> [Float]? {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0, norm.isFinite else { return nil }
        return vector.map { Float($0 / norm) }
    }

    /// One batch of inputs, tried again as the policy allows.
    func request(_ inputs: [String], dimension: Int?, transport: some ChatTransport) throws(StageError) -> [[Double]] {
        var retries = 0
        while true {
            switch exchange(inputs, dimension: dimension, transport: transport) {
            case .vectors(let vectors):
                return vectors
            case .failure(let error):
                throw error
            case .retryable(let error, let retryAfter, let cause):
                if isCancelled() { throw StageError(.gaveUp, "cancelled") }
                let wait = try policy.wait(after: error, retries: retries, retryAfterMilliseconds: retryAfter, jitter: jitter())
                let asked = policy.honoured(retryAfter).map { " (the server asked for \($0) ms)" } ?? ""
                log?("\(error.message); retrying in \(wait) ms" + asked)
                retries += 1
                onRetry(RetryNotice(cause: cause, waitMilliseconds: wait, retry: retries, maxRetries: policy.maxRetries, message: error.message))
                sleep(wait)
            }
        }
    }

    /// The request body: the model and the inputs, byte for byte.
    package func body(_ inputs: [String]) -> [UInt8] {
        JSONWriter.bytes(["model": .string(settings.model), "input": .array(inputs.map { .string($0) })])
    }

    /// One POST and what it came to.
    func exchange(_ inputs: [String], dimension: Int?, transport: some ChatTransport) -> EmbeddingAttempt {
        let bytes = body(inputs)
        var collected: [UInt8] = []
        var received = 0
        var tooLarge = false
        let ticket = gate?.enter(tokens: bytes.count / 4)
        let started = SystemTime.monotonicMilliseconds()
        let result = transport.post(body: bytes) { _, chunk in
            received += chunk.count
            if received > maxResponseBytes {
                tooLarge = true
                return false
            }
            collected.append(contentsOf: chunk)
            return true
        }
        let elapsed = Int(SystemTime.monotonicMilliseconds() - started)
        if let ticket {
            switch result {
            case .success(let answer): gate?.leave(ticket: ticket, status: answer.status, headers: answer.headers)
            case .failure: gate?.leave(ticket: ticket, status: nil, headers: [:])
            }
        }
        if tooLarge {
            return .failure(StageError(.replyTooLarge, "embeddings server's answer is over the \(maxResponseBytes)-byte limit"))
        }
        let status: Int, headers: [String: String]
        switch result {
        case .failure(let failure):
            log?("embeddings POST of \(inputs.count) inputs failed after \(elapsed) ms: \(failure.message)")
            let (verdict, cause) = ChatClient.verdict(for: failure)
            return EmbeddingAttempt(verdict, cause: cause)
        case .success(let answer):
            (status, headers) = answer
        }
        log?("embeddings POST of \(inputs.count) inputs answered \(status) in \(elapsed) ms (\(received) bytes)")
        guard (200..<300).contains(status) else {
            if status == 404 {
                // Chat's 404 advice names the chat URL; this one is the embeddings URL.
                let url = transport.requestURL.map { " for " + CompletionReader.clip(URLText.redacted($0)) } ?? ""
                let detail = CompletionReader.errorDetail(collected).message.map { ": \($0)" } ?? ""
                return .failure(StageError(.badRequest, "server answered 404\(url)\(detail); "
                    + "check MIRA_EMBED_BASE_URL (it usually ends in /v1) and that the server serves embeddings"))
            }
            let verdict = CompletionReader.verdict(status: status, headers: headers, body: collected, now: now())
            return EmbeddingAttempt(verdict, cause: .status(status))
        }
        return EmbeddingResponse.read(collected, inputs: inputs.count, dimension: dimension)
    }
}
