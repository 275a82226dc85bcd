import CCurl
import MiraShared

/// Where and how to reach an OpenAI-compatible server.
public struct Endpoint: Sendable {
    /// `…/v1`; requests go to `{base}/chat/completions`.
    public var baseURL: String
    /// Sent as a bearer token; never printed.
    public var apiKey: String?
    public var timeoutSeconds: Double
    public var connectTimeoutSeconds: Double
    /// Skip TLS certificate checks (an explicit, warned-about choice).
    public var insecure: Bool

    public init(baseURL: String, apiKey: String?, timeoutSeconds: Double = 120, connectTimeoutSeconds: Double = 10, insecure: Bool = false) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.timeoutSeconds = timeoutSeconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.insecure = insecure
    }

    public static let defaultBaseURL = "https://api.openai.com/v1"

    public var completionsURL: String {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/chat/completions"
    }
}

/// Posts chat requests through libcurl's easy interface, reusing one handle
/// (and so its connection) for every request of the process.
public final class CurlTransport: ChatTransport {
    let endpoint: Endpoint
    let handle: UnsafeMutableRawPointer
    var headerList: UnsafeMutablePointer<curl_slist>?

    /// libcurl's global set-up, run once however many workers make transports.
    static let globalSetUp: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Runs libcurl's global set-up (TLS library start-up, milliseconds) now,
    /// while the input is still on its way, instead of on the first request.
    public static func prepare() { globalSetUp }

    public init(endpoint: Endpoint) {
        Self.globalSetUp
        self.endpoint = endpoint
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
    }

    /// State shared with the C callbacks for one transfer.
    final class Transfer {
        var headers: [String: String] = [:]
        var onChunk: (Int, UnsafeRawBufferPointer) -> Bool
        var handle: UnsafeMutableRawPointer
        var stopped = false

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

    public func post(
        body: [UInt8], onChunk: (Int, UnsafeRawBufferPointer) -> Bool
    ) -> Result<(status: Int, headers: [String: String]), TransportFailure> {
        withoutActuallyEscaping(onChunk) { onChunk in
            let transfer = Transfer(handle: handle, onChunk: onChunk)
            return body.withUnsafeBytes { raw in
                perform(body: raw, transfer: transfer)
            }
        }
    }

    func perform(body: UnsafeRawBufferPointer, transfer: Transfer) -> Result<(status: Int, headers: [String: String]), TransportFailure> {
        let h = handle
        _ = mira_curl_set_ptr(h, CURLOPT_URL, endpoint.completionsURL)
        _ = mira_curl_set_long(h, CURLOPT_POST, 1)
        _ = mira_curl_set_ptr(h, CURLOPT_POSTFIELDS, body.baseAddress)
        _ = mira_curl_set_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
        _ = mira_curl_set_ptr(h, CURLOPT_HTTPHEADER, headerList)
        _ = mira_curl_set_long(h, CURLOPT_NOSIGNAL, 1)
        _ = mira_curl_set_long(h, CURLOPT_TIMEOUT_MS, Int(endpoint.timeoutSeconds * 1000))
        _ = mira_curl_set_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(endpoint.connectTimeoutSeconds * 1000))
        _ = mira_curl_set_long(h, CURLOPT_TCP_KEEPALIVE, 1)
        _ = mira_curl_set_ptr(h, CURLOPT_USERAGENT, "mira/0.2")
        // Only http and https: a base URL cannot make us read files or talk other protocols.
        _ = mira_curl_set_ptr(h, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = mira_curl_set_long(h, CURLOPT_SSL_VERIFYPEER, endpoint.insecure ? 0 : 1)
        _ = mira_curl_set_long(h, CURLOPT_SSL_VERIFYHOST, endpoint.insecure ? 0 : 2)
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
            let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
            if line.hasPrefix("HTTP/") {
                transfer.headers = [:]  // a new response (after a redirect or 100)
            } else if let colon = line.firstIndex(of: ":") {
                let name = String(line[..<colon]).lowercased()
                let value = line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
                transfer.headers[name] = String(value.prefix(while: { $0 != "\r" && $0 != "\n" }))
            }
            return length
        }

        let rc = curl_easy_perform(h)
        _ = mira_curl_set_ptr(h, CURLOPT_POSTFIELDS, nil)
        if rc == CURLE_OK {
            return .success((transfer.status, transfer.headers))
        }
        let reason = String(cString: curl_easy_strerror(rc))
        switch rc {
        case CURLE_WRITE_ERROR where transfer.stopped:
            return .failure(TransportFailure(.aborted, "transfer stopped"))
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .failure(TransportFailure(.unreachable, "cannot reach \(endpoint.baseURL): \(reason)"))
        case CURLE_OPERATION_TIMEDOUT:
            return .failure(TransportFailure(.timeout, "no complete answer within \(Self.seconds(endpoint.timeoutSeconds)) s"))
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE:
            return .failure(TransportFailure(.fatal, "TLS with \(endpoint.baseURL) failed: \(reason)"))
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            return .failure(TransportFailure(.fatal, "base URL \(endpoint.baseURL) is not an http(s) URL: \(reason)"))
        default:
            return .failure(TransportFailure(.broken, "connection to \(endpoint.baseURL) broke: \(reason)"))
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
