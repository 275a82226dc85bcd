import MiraShared

/// URLs as Mira may show them. A base URL can carry secrets (`user:pass@`,
/// `?api-key=…`), and every message that names the server goes to stderr,
/// into error records and into logs.
package enum URLText {
    /// The URL with its user info and every query value replaced by `***`
    /// (and any fragment dropped); names of query parameters stay, so a
    /// person can still see which one is set. A bare `?token` is hidden whole.
    package static func redacted(_ url: String) -> String {
        var rest = Substring(url)
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        var query: Substring?
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var shown = ""
        if let scheme = rest.firstOccurrence(of: "://") {
            shown = String(rest[..<scheme.upperBound])
            rest = rest[scheme.upperBound...]
        }
        // The authority ends at the first slash; user info ends at its last "@".
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        if let at = rest[..<authorityEnd].lastIndex(of: "@") {
            shown += "***@"
            rest = rest[rest.index(after: at)...]
        }
        shown += rest
        if let query {
            let parts = query.split(separator: "&", omittingEmptySubsequences: false).map { part -> String in
                guard let equals = part.firstIndex(of: "=") else { return part.isEmpty ? "" : "***" }
                return part[..<equals] + "=***"
            }
            shown += "?" + parts.joined(separator: "&")
        }
        return shown
    }

    /// Whether the base URL of a chat-completions URL (`{base}/chat/completions`)
    /// ends in `/v1`, as an OpenAI-compatible server's usually does. The
    /// query and fragment do not count.
    package static func baseEndsInV1(completionsURL url: String) -> Bool {
        var path = Substring(url)
        if let end = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<end] }
        if path.hasSuffix("/chat/completions") { path = path.dropLast("/chat/completions".count) }
        while path.hasSuffix("/") { path = path.dropLast() }
        return path.hasSuffix("/v1")
    }

    /// The host of a URL, lower-cased, without user info or port
    /// ("https://u@API.openai.com:443/v1" → "api.openai.com"); nil when there is none.
    package static func host(of url: String) -> String? {
        guard let scheme = url.firstOccurrence(of: "://") else { return nil }
        var authority = url[scheme.upperBound...]
        if let end = authority.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { authority = authority[..<end] }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[...close]).lowercased()  // an IPv6 literal keeps its brackets
        }
        if let colon = authority.lastIndex(of: ":") { authority = authority[..<colon] }
        return authority.isEmpty ? nil : authority.lowercased()
    }
}
