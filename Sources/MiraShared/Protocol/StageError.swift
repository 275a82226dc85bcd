/// What went wrong on one line, by kind. The raw value is the `code` written
/// into the record's `error` field.
package enum ErrorCode: String, Sendable, CaseIterable {
    /// The line is not JSON.
    case badJSON = "bad_json"
    /// The line is JSON but not a record (wrong type, bad field).
    case badRecord = "bad_record"
    /// The record names a protocol version this build does not speak.
    case unsupportedVersion = "unsupported_version"
    /// The line is longer than the limit and was skipped.
    case lineTooLong = "line_too_long"
    /// A session id with characters or a length we do not accept.
    case invalidSession = "invalid_session"
    /// A persona name that is malformed or unknown.
    case invalidPersona = "invalid_persona"
    /// No user message for this turn.
    case noInput = "no_input"
    /// mira-llm got a record without `request`.
    case noRequest = "no_request"
    /// mira-store save got a record without `reply`.
    case noReply = "no_reply"
    /// Connection refused, DNS failure, TLS failure.
    case unreachable
    /// The request took longer than --timeout.
    case timeout
    /// Retryable failures until the retries ran out.
    case gaveUp = "gave_up"
    /// 401 or 403.
    case rejectedKey = "rejected_key"
    /// 429 with insufficient_quota: retrying cannot help.
    case insufficientQuota = "insufficient_quota"
    /// The server refused the request itself (400, 404, 422…).
    case badRequest = "bad_request"
    /// The answer body is not a chat completion.
    case badResponse = "bad_response"
    /// The answer is bigger than the limit.
    case replyTooLarge = "reply_too_large"
    /// The model's reply breaks the {output, persona, mood} contract.
    case invalidReply = "invalid_reply"
    /// The database failed.
    case storeFailed = "store_failed"
    /// `mira-llm --from-batch`: the Batch API output holds no answer for this turn.
    case notInBatch = "not_in_batch"

    package var exitStatus: Sysexit {
        switch self {
        case .badJSON, .badRecord, .unsupportedVersion, .lineTooLong, .invalidSession,
            .invalidPersona, .noInput, .noRequest, .noReply:
            .badInput
        case .unreachable: .unavailable
        case .timeout, .gaveUp, .notInBatch: .gaveUp
        case .rejectedKey, .insufficientQuota: .rejected
        case .badRequest, .badResponse, .replyTooLarge, .invalidReply: .badReply
        case .storeFailed: .ioError
        }
    }
}

/// A failure on one record: becomes the record's `error` field and one line on stderr.
package struct StageError: Error, Equatable, Sendable {
    package var code: ErrorCode
    package var message: String

    package init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The one wording for a line over the reader's limit.
    package static func lineTooLong(bytes: Int, limit: Int) -> StageError {
        StageError(.lineTooLong, "line of \(bytes) bytes is over the \(limit)-byte limit")
    }

    package func json(stage: String) -> JSON {
        ["stage": .string(stage), "code": .string(code.rawValue), "message": .string(message)]
    }
}
