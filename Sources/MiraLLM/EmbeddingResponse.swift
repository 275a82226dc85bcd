import MiraShared

/// What one embeddings request came to.
enum EmbeddingAttempt {
    /// One unit-length vector per input, in input order.
    case vectors([[Double]])
    case retryable(StageError, retryAfterMilliseconds: Int?, cause: RetryCause)
    case failure(StageError)

    /// A chat verdict for the same HTTP answer (status, transport, reported error).
    init(_ verdict: Verdict, cause: RetryCause) {
        switch verdict {
        case .retryable(let error, let after): self = .retryable(error, retryAfterMilliseconds: after, cause: cause)
        case .failure(let error), .unsupported(_, let error): self = .failure(error)
        // Only a chat completion can succeed or ignore tools; neither comes here.
        case .success, .ignoredTools: self = .failure(StageError(.badResponse, "embeddings server gave an answer that is not embeddings"))
        }
    }
}

/// Reads an embeddings answer (`{"data": [{"index", "embedding"}…], "model",
/// "usage"}`) strictly: exactly one non-empty vector of finite numbers per
/// input, every index once, one dimension throughout, none all zeros.
/// Anything else is the server's fault, named, never a guess.
package enum EmbeddingResponse {
    /// The vectors of a 2xx body for `inputs` inputs, each scaled to unit
    /// length, in input order. `dimension` is the one earlier answers of the
    /// same call had (nil for the first).
    static func read(_ body: [UInt8], inputs: Int, dimension: Int?) -> EmbeddingAttempt {
        let json: JSON
        do {
            json = try JSONParser.parse(body)
        } catch {
            return .failure(StageError(.badResponse, "embeddings server answered a body that is not JSON (\(error)): \(CompletionReader.snippet(body))"))
        }
        if let reported = json["error"], !reported.isNull {
            return EmbeddingAttempt(CompletionReader.verdict(reportedError: reported), cause: ChatClient.cause(reported))
        }
        do {
            return .vectors(try vectors(in: json, inputs: inputs, dimension: dimension))
        } catch {
            return .failure(error)
        }
    }

    /// The checked, unit-length vectors of a parsed answer, in input order.
    package static func vectors(in json: JSON, inputs: Int, dimension: Int?) throws(StageError) -> [[Double]] {
        func bad(_ why: String) -> StageError { StageError(.badResponse, "embeddings server answered " + why) }
        guard let object = json.objectValue else { throw bad("\(json.typeName), not an embeddings list") }
        guard let data = object["data"]?.arrayValue else { throw bad("an object with no data array") }
        guard data.count == inputs else {
            throw bad("\(data.count) embedding\(data.count == 1 ? "" : "s") for \(inputs) input\(inputs == 1 ? "" : "s")")
        }
        var vectors = [[Double]?](repeating: nil, count: inputs)
        var dimension = dimension
        for (position, item) in data.enumerated() {
            guard let index = item["index"]?.intValue else { throw bad("data item \(position) with no whole-number index") }
            guard (0..<inputs).contains(index) else { throw bad("index \(index), out of range for \(inputs) input\(inputs == 1 ? "" : "s")") }
            guard vectors[index] == nil else { throw bad("index \(index) twice") }
            guard let values = item["embedding"]?.arrayValue else {
                let found = item["embedding"].map { $0.typeName } ?? "nothing"
                throw bad("\(found) as embedding \(index), not an array of numbers"
                    + (found == "a string" ? " (base64? Mira asks for floats)" : ""))
            }
            guard !values.isEmpty else { throw bad("an empty embedding \(index)") }
            if let dimension, values.count != dimension {
                throw bad("embedding \(index) with \(values.count) dimensions where the others have \(dimension)")
            }
            dimension = values.count
            var vector = [Double](repeating: 0, count: values.count)
            var squares = 0.0
            for (k, value) in values.enumerated() {
                // Stored as Float: a number finite only as a Double is as unusable as NaN.
                guard let number = value.doubleValue, Float(number).isFinite else {
                    throw bad("embedding \(index) with \(value.typeName == "a number" ? "a number out of range" : value.typeName) at position \(k)")
                }
                vector[k] = number
                squares += number * number
            }
            let norm = squares.squareRoot()
            guard norm > 0, norm.isFinite else { throw bad("embedding \(index) of all zeros, which points nowhere") }
            vectors[index] = vector.map { $0 / norm }
        }
        return vectors.map { $0! }  // every index in range was seen once, and there are `inputs` items
    }
}
