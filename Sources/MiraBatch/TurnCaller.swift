import MiraLLM
import MiraShared
import MiraSystem

/// Where a batch's replies come from.
package enum AnswerSource {
    /// The server, through this worker's own client and connection.
    case server(ChatClient, makeTransport: () -> any ChatTransport)
    /// A Batch API output file (`--from-batch`).
    case batchOutput(BatchOutputFile)
    /// No replies: each record becomes a Batch API input line (`--emit-batch`).
    case emitBatch
}

/// What one mira-llm worker does to each line: read the record, skip it,
/// answer it from the cache, or ask for its reply; and turn a failure into
/// an error record. Each worker thread takes its own copy (and so its own
/// connection); the parts they share (cache, gate, batch file) lock themselves.
package struct TurnCaller: @unchecked Sendable {
    package let stage: String
    package var source: AnswerSource
    /// `--model`: sent instead of the request's model.
    package var model: String?
    /// The name the server reads for the token limit; a request is sent with that one only.
    package var tokenLimitField: TokenLimitField = .maxCompletionTokens
    package var finished: FinishedTurns
    package var cache: (any ReplyCache)?
    /// Part of every cache key: the same request to another server is another answer.
    package var cacheScope: String
    /// Writes a `--verbose` line at once (line number, text).
    package var report: (Int, String) -> Void
    /// `--verbose`: one line per attempt, through `report`.
    package var verbose = false
    /// `--stream` onto a terminal: a record whose reply text was shown as it
    /// arrived says so (`"streamed": true`), so `mira-store save` does not
    /// show it a second time.
    package var marksStreamed = false
    var transport: (any ChatTransport)?
    /// Turn ids already written by --emit-batch: custom_id must be unique.
    var emitted: Set<String> = []

    package init(stage: String, source: AnswerSource, model: String? = nil, finished: FinishedTurns = FinishedTurns(),
                cache: (any ReplyCache)? = nil, cacheScope: String = "", report: @escaping (Int, String) -> Void) {
        self.stage = stage
        self.source = source
        self.model = model
        self.finished = finished
        self.cache = cache
        self.cacheScope = cacheScope
        self.report = report
    }

    package mutating func handle(_ item: BatchItem) -> TurnOutcome {
        var record: Record
        switch RecordInput(item.content) {
        case .unreadable(let error):
            return failure(error, record: nil, line: item.lineNumber)
        case .failed(_, let bytes):
            if case .emitBatch = source {
                return failure(StageError(.badRecord, "not in the batch file: the turn failed in an earlier stage"), record: nil, line: item.lineNumber)
            }
            return TurnOutcome(kind: .passedThrough, line: bytes)
        case .record(let read):
            record = read
        }
        if finished.contains(record) { return TurnOutcome(kind: .resumed, line: nil) }
        do {
            return try answer(&record, line: item.lineNumber)
        } catch {
            return failure(error, record: record, line: item.lineNumber)
        }
    }

    /// One prepared record answered in this process (the `mira` command):
    /// the work of a batch line, with the same fields added.
    package mutating func answer(_ record: inout Record) throws(StageError) {
        _ = try answer(&record, line: 0, writing: false)
    }

    /// `writing`: the outcome carries the record's line (a batch writes it;
    /// one turn in process has no use for the bytes).
    mutating func answer(_ record: inout Record, line: Int, writing: Bool = true) throws(StageError) -> TurnOutcome {
        guard let asked = record.request else {
            throw StageError(.noRequest, "record has no request (run it through mira-prompt first)")
        }
        // A record saved by a streamed run of an older build may still carry
        // the stream flags: they are how a run talks, not what it asks.
        var request = ChatClient.withoutStreamFlags(asked)
        if let model { request["model"] = .string(model) }
        request = tokenLimitField.applied(to: request)

        if case .emitBatch = source {
            guard let turn = record.turn else { throw StageError(.badRecord, "record has no turn id to use as custom_id (run it through mira-prompt first)") }
            guard emitted.insert(turn).inserted else { throw StageError(.badRecord, "turn id \(Identifiers.quoted(turn)) is already in the batch file (custom_id must be unique)") }
            return TurnOutcome(kind: .answered, line: BatchRequestLine.make(customID: turn, body: request))
        }

        // A mark from an earlier run is not this run's: only text shown now counts.
        record.fields["streamed"] = nil
        let key = cache.map { _ in cacheKey(request) }
        if let key, let hit = cache?.answer(for: key), let reply = hit["reply"], !reply.isNull {
            for member in hit { record.fields[member.key] = member.value }
            record.fields["cached"] = true
            return outcome(.cached, record, writing: writing)
        }

        let started = SystemTime.monotonicMilliseconds()
        let completion: Completion
        var streamed = false
        switch source {
        case .server(var client, let makeTransport):
            if verbose { client.log = { [report] in report(line, $0) } }
            let shown = TextShown()
            if marksStreamed {
                let show = client.onText
                client.onText = { shown.any = true; show($0) }
            }
            let transport = self.transport ?? makeTransport()
            self.transport = transport
            let (answer, sent) = try client.complete(request, transport: transport)
            completion = answer
            request = sent
            streamed = shown.any
        case .batchOutput(let file):
            guard let turn = record.turn else { throw StageError(.badRecord, "record has no turn id to find in the batch output") }
            completion = try file.completion(for: turn, request: request)
        case .emitBatch:
            preconditionFailure("handled above")
        }
        record.request = request
        record.setReply(completion.reply)
        record.fields["usage"] = completion.usage
        record.fields["model"] = completion.model.map { .string($0) } ?? request["model"]
        record.fields["latency_ms"] = .int(Int(SystemTime.monotonicMilliseconds() - started))
        if let key, let cache {
            var answer = JSONObject()
            for name in ["request", "reply", "usage", "model", "latency_ms"] { answer[name] = record.fields[name] }
            cache.keep(answer, for: key)
        }
        if streamed { record.fields["streamed"] = true }
        return outcome(.answered, record, writing: writing)
    }

    /// The request under the server's scope; stream flags make no other answer.
    func cacheKey(_ request: JSONObject) -> String {
        let body = ChatClient.withoutStreamFlags(request)
        var hash = SHA256()
        hash.update(cacheScope.utf8)
        hash.update([0x0A])
        hash.update(JSONWriter.bytes(.object(body)))
        return hash.hexDigest()
    }

    func outcome(_ kind: TurnOutcome.Kind, _ record: Record, writing: Bool = true) -> TurnOutcome {
        let usage = record.fields["usage"]
        return TurnOutcome(kind: kind, line: writing ? record.line : nil,
                           tokensIn: Int.count(usage?["prompt_tokens"]?.intValue), tokensOut: Int.count(usage?["completion_tokens"]?.intValue))
    }

    /// An error record for the output and its stderr line (`line N: cause`).
    func failure(_ error: StageError, record: Record?, line: Int) -> TurnOutcome {
        let message = "line \(line): \(error.message)"
        if isEmitting { return TurnOutcome(kind: .failed(error.code), line: nil, report: message) }
        var failed = record ?? Record(failure: error, stage: stage)
        failed.fail(error, stage: stage)
        return TurnOutcome(kind: .failed(error.code), line: failed.line, report: message)
    }

    var isEmitting: Bool {
        if case .emitBatch = source { return true }
        return false
    }
}

/// Whether a turn's reply text reached the screen as it streamed.
final class TextShown: @unchecked Sendable {
    var any = false
}
