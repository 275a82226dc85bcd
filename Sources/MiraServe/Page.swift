import Hummingbird

/// The page at `/`: plain HTML, CSS and JS, no build step (`PageHTML.swift`,
/// `PageStyle.swift`, `PageScript.swift`). The model's words are untrusted,
/// so they only ever go in as text (`textContent`), and the
/// Content-Security-Policy allows nothing but this server's own script,
/// style and requests: no inline script or style, no other origin, no framing.
enum Page {
    static let policy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static func response(_ text: String, type: String) -> Response {
        let headers: HTTPFields = [
            .contentType: type, .contentSecurityPolicy: policy, .cacheControl: "no-cache",
            .xContentTypeOptions: "nosniff",
        ]
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
