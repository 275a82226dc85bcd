/// Rules for the names users and records carry: session ids, turn ids, persona names.
package enum Identifiers {
    package static let maxSessionLength = 128
    package static let maxTurnLength = 200

    /// Letters, digits, `-`, `_`, `.`; not starting with `-` or `.` so an id
    /// is never mistaken for an option or a hidden path.
    package static func validateSession(_ id: String) throws(StageError) {
        let bytes = Array(id.utf8)
        guard !bytes.isEmpty else { throw StageError(.invalidSession, "session id is empty") }
        guard bytes.count <= maxSessionLength else {
            throw StageError(.invalidSession, "session id is longer than \(maxSessionLength) characters")
        }
        guard bytes[0] != UInt8(ascii: "-"), bytes[0] != UInt8(ascii: ".") else {
            throw StageError(.invalidSession, "session id \(quoted(id)) must not start with '-' or '.'")
        }
        for b in bytes where !(isAlnum(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".")) {
            throw StageError(.invalidSession, "session id \(quoted(id)) may hold only letters, digits, '-', '_' and '.'")
        }
    }

    /// Persona names are file names under the personas folder: lower-case
    /// letters, digits, `-`, `_`, starting with a letter, at most 32.
    package static func validatePersonaName(_ name: String) throws(StageError) {
        let bytes = Array(name.utf8)
        let ok = !bytes.isEmpty && bytes.count <= 32
            && (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[0])
            && bytes.allSatisfy { b in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
                    || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
            }
        guard ok else {
            throw StageError(.invalidPersona, "persona name \(quoted(name)) must be 1-32 lower-case letters, digits, '-' or '_', starting with a letter")
        }
    }

    /// Turn ids come from users' own batches, so any printable text is fine.
    package static func validateTurn(_ id: String) throws(StageError) {
        guard !id.isEmpty, id.utf8.count <= maxTurnLength,
            !id.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else {
            throw StageError(.badRecord, "turn id must be 1-\(maxTurnLength) bytes of printable text")
        }
    }

    /// A random 128-bit id in UUID v4 form.
    package static func newTurnID() -> String {
        // Two draws of 64 bits: each draw is a system call (getrandom), and
        // one per byte made 16 of a turn's few hundred.
        var g = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        for word in [g.next() as UInt64, g.next() as UInt64] {
            for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: word >> (8 * UInt64(k)))) }
        }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for (k, b) in bytes.enumerated() {
            if k == 4 || k == 6 || k == 8 || k == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A fresh session id: 12 characters from an alphabet without look-alikes.
    package static func newSessionID() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789".utf8)
        // The 12 characters are the digits, base 31, of one uniform number
        // below 31^12 (under 2^60): one 64-bit draw, not one per character.
        let size = UInt64(alphabet.count)
        let count = (0..<12).reduce(UInt64(1)) { product, _ in product * size }
        var g = SystemRandomNumberGenerator()
        var number = UInt64(0)
        repeat { number = g.next() } while number >= UInt64.max - UInt64.max % count
        number %= count
        var id: [UInt8] = []
        for _ in 0..<12 {
            id.append(alphabet[Int(number % size)])
            number /= size
        }
        return String(decoding: id, as: UTF8.self)
    }

    static func isAlnum(_ b: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
    }

    /// The text as a JSON string literal, so quotes and control characters in
    /// hostile input cannot break the one-line error message.
    package static func quoted(_ s: String) -> String {
        let shown = s.utf8.count > 80 ? String(s.prefix(80)) + "…" : s
        return JSONWriter.string(.string(shown))
    }
}
