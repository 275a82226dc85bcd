import MiraShared

/// Text from outside (a model's reply, a server's error body, an imported
/// field) made harmless to show on a terminal: an escape sequence in it
/// could retitle the window, clear the screen or forge lines. Control
/// characters become visible (`ESC` shows as `^[`, `BEL` as `^G`), C1
/// controls and broken UTF-8 become U+FFFD. Only what is shown changes:
/// stored data and what goes into a pipe stay byte-exact.
package enum TerminalText {
    /// The bytes as a terminal may show them; line breaks and tabs stay
    /// unless `keepingLayout` is false.
    package static func visible(_ bytes: some Collection<UInt8>, keepingLayout: Bool = true) -> [UInt8] {
        // Most text is plain: hand it back untouched.
        if bytes.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || (keepingLayout && ($0 == 0x0A || $0 == 0x09)) }) {
            return Array(bytes)
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 8)
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            let v = scalar.value
            switch v {
            case 0x0A where keepingLayout, 0x09 where keepingLayout:
                out.append(UInt8(v))
            case 0..<0x20:
                out += [UInt8(ascii: "^"), UInt8(v + 0x40)]
            case 0x7F:
                out += [UInt8(ascii: "^"), UInt8(ascii: "?")]
            case 0x80..<0xA0:
                out += replacement
            default:
                out += Array(String(scalar).utf8)
            }
        }
        return out
    }

    /// One field of a tab-separated table: tabs and line breaks shown too.
    package static func field(_ text: String) -> String {
        String(decoding: visible(text.utf8, keepingLayout: false), as: UTF8.self)
    }

    static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
}

/// `TerminalText` for text that arrives in pieces (a streamed reply): a
/// UTF-8 character cut between two pieces waits for its rest instead of
/// showing as two broken halves.
package struct TerminalStreamText: Sendable {
    var pending: [UInt8] = []

    package init() {}

    package mutating func visible(_ piece: [UInt8]) -> [UInt8] {
        var bytes = pending + piece
        pending = Self.unfinishedTail(of: bytes)
        bytes.removeLast(pending.count)
        return TerminalText.visible(bytes)
    }

    /// Whatever is left at the end of the stream.
    package mutating func finish() -> [UInt8] {
        defer { pending = [] }
        return TerminalText.visible(pending)
    }

    /// The last bytes when they start a multi-byte character that is not complete.
    static func unfinishedTail(of bytes: [UInt8]) -> [UInt8] {
        var k = bytes.count - 1
        var seen = 0
        while k >= 0 && seen < 4 {
            let b = bytes[k]
            seen += 1
            if b & 0xC0 == 0x80 { k -= 1; continue }  // a continuation byte: look further back
            let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
            return length > seen ? Array(bytes[k...]) : []
        }
        return []
    }
}
