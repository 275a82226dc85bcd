import MiraLLM
import MiraShared
import MiraSystem

/// The OpenAI Batch API's files: the input file `--emit-batch` writes, and
/// the output file `--from-batch` merges back by custom_id (the turn id).
package enum BatchRequestLine {
    package static let url = "/v1/chat/completions"

    package static func make(customID: String, body: JSONObject) -> [UInt8] {
        JSONWriter.bytes(["custom_id": .string(customID), "method": "POST", "url": .string(url), "body": .object(body)])
    }
}

/// A Batch API output file, indexed by custom_id. Only each line's place is
/// kept in memory; a line is read again when its turn comes, so a 200 MB
/// file costs a few megabytes.
package final class BatchOutputFile: @unchecked Sendable {
    let fd: Int32
    var places: [String: (offset: Int, length: Int)] = [:]
    /// Lines that were not answers (not JSON, no custom_id) and repeated ids.
    package private(set) var unreadable = 0
    package private(set) var duplicates = 0

    package var count: Int { places.count }

    /// Indexes the file at `path`; throws why it cannot be read.
    package init(path: String) throws(FileProblem) {
        fd = try Files.openForReading(path).get()
        var reader = LineReader(fd: fd)
        var offset = 0
        while let item = reader.next() {
            switch item {
            case .tooLong(let length, _):
                offset += length + 1
                unreadable += 1
            case .line(let bytes):
                defer { offset += bytes.count + 1 }
                if bytes.isBlankLine { continue }
                guard let json = try? JSONParser.parse(bytes), let id = json["custom_id"]?.stringValue else {
                    unreadable += 1
                    continue
                }
                // The first answer for an id wins; Batch API files hold one per id.
                if places[id] != nil { duplicates += 1; continue }
                places[id] = (offset, bytes.count)
            }
        }
        // Thrown after every member is set, so deinit still closes fd.
        if let problem = reader.readError { throw problem }
    }

    deinit { Files.close(fd) }

    /// The answer for `turn`, validated against the request that asked it.
    package func completion(for turn: String, request: JSONObject) throws(StageError) -> Completion {
        guard let place = places[turn] else {
            throw StageError(.notInBatch, "the batch output has no answer for turn \(Identifiers.quoted(turn))")
        }
        guard let bytes = Files.read(fd: fd, offset: place.offset, count: place.length), let line = try? JSONParser.parse(bytes) else {
            throw StageError(.badResponse, "cannot read the batch output's answer for turn \(Identifiers.quoted(turn))")
        }
        return try Self.completion(line: line, request: request)
    }

    /// Reads one output line: `{custom_id, response: {status_code, body} | null, error: {code, message} | null}`.
    package static func completion(line: JSON, request: JSONObject) throws(StageError) -> Completion {
        if let error = line["error"], !error.isNull {
            let code = error["code"]?.stringValue ?? "error"
            let message = error["message"]?.stringValue ?? ""
            throw StageError(.gaveUp, "the batch request failed (\(code)): \(CompletionReader.clip(message))")
        }
        guard let response = line["response"]?.objectValue,
            let status = response["status_code"]?.intValue, let body = response["body"]
        else {
            throw StageError(.badResponse, "the batch output line has neither a response nor an error")
        }
        let verdict = (200..<300).contains(status)
            ? CompletionReader.verdict(completion: body, request: request)
            : CompletionReader.verdict(status: status, headers: [:], body: JSONWriter.bytes(body), now: 0)
        switch verdict {
        case .success(let completion):
            return completion
        case .ignoredTools(let content):
            throw StageError(.invalidReply, "server answered plain text instead of a structured reply: \(CompletionReader.clip(content))")
        case .failure(let error), .retryable(let error, _), .unsupported(_, let error):
            throw error
        }
    }
}
