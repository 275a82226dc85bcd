import MiraLLM
import MiraShared
import MiraSystem

/// The server as the settings name it (`OPENAI_BASE_URL`, `OPENAI_API_KEY`,
/// `SSL_CERT_FILE`, `MIRA_TOKEN_LIMIT_FIELD`), checked once before any
/// request: the same rules for mira-llm and for `mira`.
package struct ServerSettings: Sendable {
    package var endpoint: Endpoint
    package var tokenLimitField: TokenLimitField

    /// `baseURL` and `caFile` are the command line's, which beat the settings.
    package init(environment: Environment, baseURL: String? = nil, caFile: String? = nil,
                 timeoutMilliseconds: Int = 120_000, insecure: Bool = false) throws(UsageError) {
        let server = baseURL ?? environment["OPENAI_BASE_URL"] ?? Endpoint.defaultBaseURL
        let key = try Self.apiKey(environment)
        endpoint = Endpoint(baseURL: server, apiKey: key, timeoutMilliseconds: timeoutMilliseconds, insecure: insecure,
                            caFile: caFile ?? environment["SSL_CERT_FILE"])
        let field = environment["MIRA_TOKEN_LIMIT_FIELD"]
        if let field, TokenLimitField(rawValue: field) == nil {
            throw UsageError("the token limit field must be max_tokens or max_completion_tokens, not \(Identifiers.quoted(field))")
        }
        tokenLimitField = field.flatMap(TokenLimitField.init(rawValue:)) ?? TokenLimitField.forServer(baseURL: server)
    }

    /// The key, refused when it holds a control character: it goes into an
    /// HTTP header, where a line break would let it forge other headers.
    package static func apiKey(_ environment: Environment) throws(UsageError) -> String? {
        guard let key = environment["OPENAI_API_KEY"] else { return nil }
        if key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw UsageError("OPENAI_API_KEY holds a control character (a line break?): fix the variable")
        }
        return key
    }

    /// Before asking the server: no key for OpenAI itself (most often:
    /// neither a key nor a base URL was set, so the default server is asked)
    /// can only be refused, on every turn, so it is a usage error before any
    /// request. A keyless local server is fine.
    package func refuseKeylessOpenAI() throws(UsageError) {
        guard endpoint.apiKey?.isEmpty ?? true,
              URLText.host(of: endpoint.baseURL) == URLText.host(of: Endpoint.defaultBaseURL) else { return }
        throw UsageError("no OPENAI_API_KEY for \(URLText.redacted(endpoint.baseURL)): set OPENAI_API_KEY (mira config set OPENAI_API_KEY …), "
            + "or point OPENAI_BASE_URL at another server (the local one: scripts/local-server.sh start --save)")
    }
}
