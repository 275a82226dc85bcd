import MiraShared

/// What failed when a request is sent again, in the terms a person is told.
package enum RetryCause: Equatable, Sendable {
    /// The server answered this HTTP status (429, 5xx, 408, 409), or
    /// reported it as the code of an error inside its answer.
    case status(Int)
    /// The server reported an error inside its answer, with no status.
    case reportedError
    /// No complete answer within the time allowed.
    case timeout
    /// Nothing answered: refused, no route, DNS.
    case unreachable
    /// The connection broke, or the stream ended before its end.
    case broken
}

/// One retry as the client decides it: what failed, how long it waits, and
/// which retry of how many comes next. A caller that shows a turn live
/// (mira-llm on a terminal, an in-process chat) tells the person from this.
package struct RetryNotice: Equatable, Sendable {
    package var cause: RetryCause
    package var waitMilliseconds: Int
    /// 1 for the first retry.
    package var retry: Int
    package var maxRetries: Int
    /// The failure as its error message says it (what `--verbose` shows).
    package var message: String

    package init(cause: RetryCause, waitMilliseconds: Int, retry: Int, maxRetries: Int, message: String) {
        self.cause = cause
        self.waitMilliseconds = waitMilliseconds
        self.retry = retry
        self.maxRetries = maxRetries
        self.message = message
    }

    /// `server busy (429), retrying in 2 s, 1 of 3`. `timeoutMilliseconds`
    /// is the limit a timeout hit, when the caller knows it.
    package func words(timeoutMilliseconds: Int? = nil) -> String {
        "\(Self.words(for: cause, timeoutMilliseconds: timeoutMilliseconds)), retrying in \(Self.seconds(waitMilliseconds)), \(retry) of \(maxRetries)"
    }

    package static func words(for cause: RetryCause, timeoutMilliseconds: Int? = nil) -> String {
        switch cause {
        case .status(429): "server busy (429)"
        case .status(408): "server timed out (408)"
        case .status(409): "server busy (409)"
        case .status(let status) where (500...599).contains(status): "server error (\(status))"
        case .status(let status): "server answered \(status)"
        case .reportedError: "server reported an error"
        case .timeout: timeoutMilliseconds.map { "no answer within \(seconds($0))" } ?? "no answer in time"
        case .unreachable: "cannot reach the server"
        case .broken: "connection broken"
        }
    }

    /// `50 ms`, `0.5 s`, `1.9 s`, `2 s`, `120 s`: short waits to the tenth.
    package static func seconds(_ milliseconds: Int) -> String {
        if milliseconds < 100 { return "\(max(milliseconds, 0)) ms" }
        let tenths = (milliseconds + 50) / 100
        if milliseconds >= 10_000 || tenths % 10 == 0 { return "\((milliseconds + 500) / 1000) s" }
        return "\(tenths / 10).\(tenths % 10) s"
    }
}
