#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CCurl
import MiraLLM
import MiraShared
import MiraSystem

/// Where and how to reach an OpenAI-compatible server.
package struct Endpoint: Sendable {
    /// `…/v1`; requests go to `{base}/chat/completions` or `{base}/embeddings`.
    package var baseURL: String
    /// Sent as a bearer token; never printed.
    package var apiKey: String?
    /// Whole milliseconds, at least 1: libcurl reads 0 as "no limit at all".
    package var timeoutMilliseconds: Int
    package var connectTimeoutMilliseconds: Int
    /// Skip TLS certificate checks (an explicit, warned-about choice).
    package var insecure: Bool
    /// PEM certificates to trust instead of the system's (a private CA).
    package var caFile: String?

    package init(baseURL: String, apiKey: String?, timeoutMilliseconds: Int = 120_000, connectTimeoutMilliseconds: Int = 10_000,
                insecure: Bool = false, caFile: String? = nil) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.timeoutMilliseconds = max(1, timeoutMilliseconds)
        self.connectTimeoutMilliseconds = max(1, connectTimeoutMilliseconds)
        self.insecure = insecure
        self.caFile = caFile
    }

    package static let defaultBaseURL = "https://api.openai.com/v1"

    /// Which API under the base URL a transport posts to.
    package enum Route: String, Sendable {
        case chatCompletions = "/chat/completions"
        case embeddings = "/embeddings"

        /// The setting that names this route's base URL, for advice in errors.
        package var baseURLSetting: String {
            switch self {
            case .chatCompletions: "OPENAI_BASE_URL"
            case .embeddings: "MIRA_EMBED_BASE_URL"
            }
        }
    }

    /// `{base}{route}`, with any slashes the base ends in dropped.
    package func url(_ route: Route) -> String {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return base + route.rawValue
    }

    package var completionsURL: String { url(.chatCompletions) }
    package var embeddingsURL: String { url(.embeddings) }

    /// The base URL as it may be shown: no password, user or query values.
    package var shownURL: String { URLText.redacted(baseURL) }
}

/// Posts requests (chat completions, or embeddings) through libcurl's easy
/// interface, reusing one handle (and so its connection) for every request
/// of the process.
package final class CurlTransport: ChatTransport {
    let endpoint: Endpoint
    /// What every request of this transport posts to.
    package let route: Endpoint.Route
    let handle: UnsafeMutableRawPointer
    var headerList: UnsafeMutablePointer<curl_slist>?
    /// libcurl's own words for a failure ("no alternative certificate subject
    /// name matches target host name …"), more precise than its error code's.
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
    /// Asked while a transfer runs (at least once a second): true stops it
    /// (Ctrl-C in `mira chat` cancels the turn in flight).
    package var shouldStop: (() -> Bool)?

    /// libcurl's global set-up, run once however many workers make transports.
    static let globalSetUp: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Runs libcurl's global set-up (TLS library start-up, milliseconds) now,
    /// while the input is still on its way, instead of on the first request.
    package static func prepare() { globalSetUp }

    package init(endpoint: Endpoint, route: Endpoint.Route = .chatCompletions) {
        Self.globalSetUp
        self.endpoint = endpoint
        self.route = route
        handle = curl_easy_init()
        var headers: UnsafeMutablePointer<curl_slist>? = nil
        headers = curl_slist_append(headers, "Content-Type: application/json")
        headers = curl_slist_append(headers, "Accept: application/json, text/event-stream")
        headers = curl_slist_append(headers, "Expect:")  // no 100-continue round trip
        if let key = endpoint.apiKey {
            headers = curl_slist_append(headers, "Authorization: Bearer " + key)
        }
        headerList = headers
    }

    deinit {
        curl_slist_free_all(headerList)
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// State shared with the C callbacks for one transfer.
    final class Transfer {
        var headers = ResponseHeaders()
        var onChunk: (Int, UnsafeRawBufferPointer) -> Bool
        var handle: UnsafeMutableRawPointer
        var stopped = false
        var shouldStop: (() -> Bool)?

        init(handle: UnsafeMutableRawPointer, onChunk: @escaping (Int, UnsafeRawBufferPointer) -> Bool) {
            self.handle = handle
            self.onChunk = onChunk
        }

        var status: Int {
            var code: Int = 0
            _ = mira_curl_get_long(handle, CURLINFO_RESPONSE_CODE, &code)
            return code
        }
    }

    package var requestURL: String? { endpoint.url(route) }

    package func post(
        body: [UInt8], onChunk: (Int, UnsafeRawBufferPointer) -> Bool
    ) -> Result<(status: Int, headers: [String: String]), TransportFailure> {
        withoutActuallyEscaping(onChunk) { onChunk in
            let transfer = Transfer(handle: handle, onChunk: onChunk)
            transfer.shouldStop = shouldStop
            return body.withUnsafeBytes { raw in
                perform(body: raw, transfer: transfer)
            }
        }
    }

    func perform(body: UnsafeRawBufferPointer, transfer: Transfer) -> Result<(status: Int, headers: [String: String]), TransportFailure> {
        let h = handle
        _ = mira_curl_set_ptr(h, CURLOPT_URL, endpoint.url(route))
        _ = mira_curl_set_long(h, CURLOPT_POST, 1)
        _ = mira_curl_set_ptr(h, CURLOPT_POSTFIELDS, body.baseAddress)
        _ = mira_curl_set_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
        _ = mira_curl_set_ptr(h, CURLOPT_HTTPHEADER, headerList)
        _ = mira_curl_set_long(h, CURLOPT_NOSIGNAL, 1)
        _ = mira_curl_set_long(h, CURLOPT_TIMEOUT_MS, endpoint.timeoutMilliseconds)
        _ = mira_curl_set_long(h, CURLOPT_CONNECTTIMEOUT_MS, endpoint.connectTimeoutMilliseconds)
        _ = mira_curl_set_long(h, CURLOPT_TCP_KEEPALIVE, 1)
        _ = mira_curl_set_ptr(h, CURLOPT_USERAGENT, "mira/" + MiraVersion.number)
        // Only http and https: a base URL cannot make us read files or talk other protocols.
        _ = mira_curl_set_ptr(h, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = mira_curl_set_long(h, CURLOPT_SSL_VERIFYPEER, endpoint.insecure ? 0 : 1)
        _ = mira_curl_set_long(h, CURLOPT_SSL_VERIFYHOST, endpoint.insecure ? 0 : 2)
        if let caFile = endpoint.caFile { _ = mira_curl_set_ptr(h, CURLOPT_CAINFO, caFile) }
        errorBuffer[0] = 0
        _ = mira_curl_set_ptr(h, CURLOPT_ERRORBUFFER, errorBuffer)
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        _ = mira_curl_set_ptr(h, CURLOPT_WRITEDATA, context)
        _ = mira_curl_set_data_cb(h, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            let keepGoing = transfer.onChunk(transfer.status, UnsafeRawBufferPointer(start: data, count: length))
            if !keepGoing { transfer.stopped = true }
            return keepGoing ? length : 0
        }
        _ = mira_curl_set_ptr(h, CURLOPT_HEADERDATA, context)
        _ = mira_curl_set_data_cb(h, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            transfer.headers.add(line: UnsafeRawBufferPointer(start: data, count: length))
            return length
        }

        _ = mira_curl_set_long(h, CURLOPT_NOPROGRESS, transfer.shouldStop == nil ? 1 : 0)
        if transfer.shouldStop != nil {
            _ = mira_curl_set_ptr(h, CURLOPT_XFERINFODATA, context)
            _ = mira_curl_set_xfer_cb(h, CURLOPT_XFERINFOFUNCTION) { context, _, _, _, _ in
                let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
                guard transfer.shouldStop?() == true else { return 0 }
                transfer.stopped = true
                return 1
            }
        }

        let rc = curl_easy_perform(h)
        _ = mira_curl_set_ptr(h, CURLOPT_POSTFIELDS, nil)
        if rc == CURLE_OK {
            return .success((transfer.status, transfer.headers.fields))
        }
        let reason = failureText(rc)
        switch rc {
        case CURLE_WRITE_ERROR where transfer.stopped, CURLE_ABORTED_BY_CALLBACK where transfer.stopped:
            return .failure(TransportFailure(.aborted, "transfer stopped"))
        case CURLE_COULDNT_CONNECT where osErrno == ECONNREFUSED:
            // Nothing listens there: most often a local server not started yet.
            return .failure(TransportFailure(.unreachable,
                "the server at \(endpoint.shownURL) is not answering (connection refused): start it, or check \(route.baseURLSetting)"))
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .failure(TransportFailure(.unreachable, "cannot reach \(endpoint.shownURL): \(reason)"))
        case CURLE_OPERATION_TIMEDOUT:
            return .failure(TransportFailure(.timeout, "no complete answer within \(Self.seconds(milliseconds: endpoint.timeoutMilliseconds))"))
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE:
            return .failure(TransportFailure(.fatal, "TLS with \(endpoint.shownURL) failed: \(reason)"))
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            return .failure(TransportFailure(.fatal, "base URL \(endpoint.shownURL) is not an http(s) URL: \(reason)"))
        default:
            return .failure(TransportFailure(.broken, "connection to \(endpoint.shownURL) broke: \(reason)"))
        }
    }

    /// The system's errno of the last transfer's failed connect (ECONNREFUSED…).
    var osErrno: Int32 {
        var code: Int = 0
        _ = mira_curl_get_long(handle, CURLINFO_OS_ERRNO, &code)
        return Int32(truncatingIfNeeded: code)
    }

    /// libcurl's detailed message when it wrote one, else its code's text.
    /// A detail that could quote the URL's user info or query (an "@" or a
    /// "?") is not used: those may hold secrets.
    func failureText(_ rc: CURLcode) -> String {
        let detail = String(cString: errorBuffer).trimmingSuffix(while: { $0 == "\n" || $0 == " " })
        if detail.isEmpty || detail.contains("@") || detail.contains("?") {
            return String(cString: curl_easy_strerror(rc))
        }
        return detail
    }

    /// `120 s`, `1.5 s`, `40 ms`.
    static func seconds(milliseconds: Int) -> String {
        if milliseconds < 1000 { return "\(milliseconds) ms" }
        let tenths = milliseconds / 100
        return tenths % 10 == 0 ? "\(tenths / 10) s" : "\(tenths / 10).\(tenths % 10) s"
    }
}

extension String {
    func trimmingSuffix(while drop: (Character) -> Bool) -> String {
        var text = Substring(self)
        while let last = text.last, drop(last) { text.removeLast() }
        return String(text)
    }
}
