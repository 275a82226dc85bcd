import MiraShared

/// An HTTP answer's header fields, read from the raw lines a transport hands
/// over (`Name: value\r\n`). Work is done on bytes, not Characters: in Swift
/// `"\r\n"` is one Character, so trimming a CR or an LF by Character misses
/// the pair that ends every real header line.
package struct ResponseHeaders: Equatable, Sendable {
    /// Lower-cased names; the last value wins for a repeated name.
    package private(set) var fields: [String: String] = [:]

    /// Header values longer than this are cut: nothing Mira reads is long,
    /// and a hostile server must not make us hold megabytes per header.
    package static let maxValueBytes = 8192

    package init() {}

    /// Reads one line. A status line (`HTTP/1.1 200 OK`) starts a new
    /// response (after a redirect or a 100 Continue) and drops what came before.
    package mutating func add(line bytes: some Collection<UInt8>) {
        let line = Array(bytes)
        if line.starts(with: Self.statusPrefix) {
            fields = [:]
            return
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return }
        let name = line[..<colon]
        // A field name is a token: no spaces, no controls (RFC 9110 5.1).
        guard name.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return }
        var value = line[(colon + 1)...]
        while let first = value.first, Self.isSpace(first) { value = value.dropFirst() }
        while let last = value.last, Self.isSpace(last) || last == 0x0D || last == 0x0A { value = value.dropLast() }
        let kept = value.prefix(Self.maxValueBytes)
        fields[String(decoding: name, as: UTF8.self).lowercased()] = String(decoding: kept, as: UTF8.self)
    }

    package subscript(name: String) -> String? { fields[name] }

    static let statusPrefix = Array("HTTP/".utf8)

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
}
