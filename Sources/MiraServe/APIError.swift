import Hummingbird
import MiraShared

/// A failure as the API answers it: a status and
/// `{"error": {"code", "message"}}`, words a person can act on.
package struct APIError: Error, Sendable {
    package var status: HTTPResponse.Status
    package var code: String
    package var message: String
    /// Seconds to wait before asking again (a Retry-After header), for 429.
    package var retryAfter: Int?

    package init(_ status: HTTPResponse.Status, _ code: String, _ message: String, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    /// A turn's or the store's failure. Model failures are the gateway's
    /// (502, or 504 when the model took too long); what the caller sent
    /// wrong is 400; the database is ours (500).
    package init(_ error: StageError) {
        let status: HTTPResponse.Status
        switch error.code {
        case .badJSON, .badRecord, .unsupportedVersion, .lineTooLong, .invalidSession, .invalidPersona,
            .noInput, .noRequest, .noReply:
            status = .badRequest
        case .timeout:
            status = .gatewayTimeout
        case .unreachable, .gaveUp, .rejectedKey, .insufficientQuota, .badRequest, .badResponse,
            .replyTooLarge, .invalidReply:
            status = .badGateway
        case .storeFailed, .notInBatch:
            status = .internalServerError
        }
        self.init(status, error.code.rawValue, error.message)
    }

    static let busy = APIError(.serviceUnavailable, "busy", "too many turns are waiting; try again in a moment")

    static func noSession(_ id: String) -> APIError {
        APIError(.notFound, "no_session", "no session \(id) here (GET /sessions lists yours; POST /sessions starts one)")
    }

    /// The error object, with `secret` (the API key) blotted out wherever a
    /// server or library might have echoed it.
    func json(hiding secret: String?) -> JSON {
        var text = message
        if let secret, secret.utf8.count >= 4 { text = text.replacing(secret, with: "[API key]") }
        return ["code": .string(code), "message": .string(text)]
    }
}
