/// Who a browser is: an unguessable id (32 random bytes as 64 hex digits)
/// in the `mira_id` cookie, given on its first request. Whoever holds the
/// cookie is that person; nothing else about them is known or stored.
package enum Identity {
    package static let cookieName = "mira_id"

    /// A fresh id from the system's random source.
    package static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for _ in 0..<4 {
            var word = generator.next() as UInt64
            for _ in 0..<16 {
                out.append(digits[Int(word & 0xF)])
                word >>= 4
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The id in a Cookie header, when it has one of the right form; any
    /// other value (forged, truncated) counts as none, so a new id is given.
    package static func read(cookieHeader: String?) -> String? {
        guard let cookieHeader else { return nil }
        for pair in cookieHeader.split(separator: ";") {
            let trimmed = pair.drop(while: { $0 == " " })
            guard let equals = trimmed.firstIndex(of: "="), trimmed[..<equals] == cookieName else { continue }
            let value = String(trimmed[trimmed.index(after: equals)...])
            if isWellFormed(value) { return value }
        }
        return nil
    }

    package static func isWellFormed(_ id: String) -> Bool {
        id.utf8.count == 64 && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The Set-Cookie value: script cannot read it (HttpOnly), other sites'
    /// requests do not carry it (SameSite=Strict), and it outlives the
    /// browser's restart (a year), so the conversations stay the person's.
    package static func setCookie(_ id: String) -> String {
        "\(cookieName)=\(id); Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict"
    }
}
