import MiraLLM
import MiraShared
import MiraSystem

/// The embeddings server as the settings name it, checked once before any
/// request: `MIRA_EMBED_BASE_URL` (else the chat's `OPENAI_BASE_URL`, else
/// OpenAI), the chat's key and certificates, and `EmbeddingSettings`.
package struct EmbeddingServer: Sendable {
    package var endpoint: Endpoint
    package var settings: EmbeddingSettings

    package init(environment: Environment, timeoutMilliseconds: Int = 120_000, insecure: Bool = false) throws(UsageError) {
        let base = environment["MIRA_EMBED_BASE_URL"] ?? environment["OPENAI_BASE_URL"] ?? Endpoint.defaultBaseURL
        endpoint = Endpoint(baseURL: base, apiKey: try ServerSettings.apiKey(environment), timeoutMilliseconds: timeoutMilliseconds,
                            insecure: insecure, caFile: environment["SSL_CERT_FILE"])
        settings = try EmbeddingSettings(environment: environment)
    }

    /// Whether memory is on: an embedding model is named and `MIRA_MEMORY`
    /// is not `off`. Naming the model is the deliberate step: the default
    /// base URL alone would send every message to OpenAI to be embedded.
    package static func isConfigured(_ environment: Environment) -> Bool {
        environment["MIRA_EMBED_MODEL"] != nil && environment["MIRA_MEMORY"]?.lowercased() != "off"
    }

    /// Before the first request, as for chat: OpenAI itself without a key
    /// can only refuse, so that is a usage error now. A keyless local
    /// server is fine.
    package func refuseKeylessOpenAI() throws(UsageError) {
        guard endpoint.apiKey?.isEmpty ?? true,
              URLText.host(of: endpoint.baseURL) == URLText.host(of: Endpoint.defaultBaseURL) else { return }
        throw UsageError("no OPENAI_API_KEY for embeddings at \(URLText.redacted(endpoint.baseURL)): set OPENAI_API_KEY, "
            + "or point MIRA_EMBED_BASE_URL at another embeddings server")
    }

    /// A transport that posts to `{base}/embeddings`.
    package func transport() -> CurlTransport {
        CurlTransport(endpoint: endpoint, route: .embeddings)
    }
}
