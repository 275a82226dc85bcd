import MiraBatch
import MiraCurl
import MiraLLM
import MiraShared

/// Asks the model for a turn's reply and checks it: the part of a turn that
/// waits on the network, with no database. A `Companion` has one; mira-serve
/// has one on each thread that waits on the model, so a turn waiting there
/// holds no SQLite connection.
package final class ModelCaller {
    var caller: TurnCaller
    let listeners = Listeners()
    /// Receives the reply's text while it streams in (only when streaming).
    package var onText: ([UInt8]) -> Void {
        get { listeners.text }
        set { listeners.text = newValue }
    }
    /// Hears of each retry before its wait (a live display says why the turn takes longer).
    package var onRetry: (RetryNotice) -> Void {
        get { listeners.retry }
        set { listeners.retry = newValue }
    }
    /// The server's time limit for one answer, for the words of a retry.
    package let timeoutMilliseconds: Int

    /// `stream`: ask the server to stream, so `onText` sees the reply as it is written.
    /// `shouldStop` cancels a turn in flight (checked during the transfer and between retries).
    package init(server: ServerSettings, retries: Int = 3, stream: Bool,
                 shouldStop: (() -> Bool)? = nil, sleep: ((Int) -> Void)? = nil) {
        var client = ChatClient(policy: RetryPolicy(maxRetries: retries), stream: stream)
        let listeners = self.listeners
        client.onText = { listeners.text($0) }
        client.onRetry = { listeners.retry($0) }
        if let shouldStop { client.isCancelled = shouldStop }
        if let sleep { client.sleep = sleep }
        let endpoint = server.endpoint
        timeoutMilliseconds = endpoint.timeoutMilliseconds
        caller = TurnCaller(
            stage: "mira", source: .server(client, makeTransport: {
                let transport = CurlTransport(endpoint: endpoint)
                transport.shouldStop = shouldStop
                return transport
            }),
            cacheScope: endpoint.completionsURL, report: { _, _ in })
        caller.tokenLimitField = server.tokenLimitField
        CurlTransport.prepare()
    }

    /// Whether the next turns ask the server to stream (so `onText` sees the
    /// words as they come). mira-serve asks without streaming when its
    /// client did not ask for a stream: one answer to read, not some forty
    /// pieces, for the same reply.
    package var streams: Bool {
        get {
            guard case .server(let client, _) = caller.source else { return false }
            return client.stream
        }
        set {
            guard case .server(var client, let makeTransport) = caller.source, client.stream != newValue else { return }
            client.stream = newValue
            caller.source = .server(client, makeTransport: makeTransport)
        }
    }

    /// Asks for `record`'s reply and puts it in, checked (as mira-llm does).
    package func answer(_ record: inout Record) throws(StageError) {
        try caller.answer(&record)
    }
}

/// Where the client's callbacks go: set per turn, after the client was made.
final class Listeners {
    var text: ([UInt8]) -> Void = { _ in }
    var retry: (RetryNotice) -> Void = { _ in }
}
