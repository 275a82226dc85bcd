import MiraShared

/// Pulls the text of the top-level `"output"` string out of a JSON object
/// that arrives in fragments, so `--stream` can show the reply as it is
/// written instead of raw JSON.
package struct OutputTextExtractor {
    var depth = 0
    var inString = false
    var stringIsKey = false
    var afterColon = false
    var emitting = false
    var escape = false
    var hex: [UInt8]?
    var highSurrogate: UInt32?
    var key: [UInt8] = []
    var lastKey: [UInt8] = []

    static let outputKey = Array("output".utf8)

    package init() {}

    /// The decoded output text carried by these fragment bytes.
    package mutating func feed<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        var out: [UInt8] = []
        for b in bytes {
            if inString { string(b, into: &out) } else { structure(b) }
        }
        return out
    }

    mutating func structure(_ b: UInt8) {
        switch b {
        case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
        case UInt8(ascii: ":") where depth == 1: afterColon = true
        case UInt8(ascii: ",") where depth == 1: afterColon = false
        case UInt8(ascii: "\""):
            inString = true
            stringIsKey = depth == 1 && !afterColon
            emitting = depth == 1 && afterColon && lastKey == Self.outputKey
            key.removeAll()
        default: break
        }
    }

    mutating func string(_ b: UInt8, into out: inout [UInt8]) {
        if var digits = hex {
            digits.append(b)
            if digits.count < 4 { hex = digits; return }
            hex = nil
            guard let value = UInt32(String(decoding: digits, as: UTF8.self), radix: 16) else { return }
            if (0xD800..<0xDC00).contains(value) { highSurrogate = value; return }
            var scalar = value
            if (0xDC00..<0xE000).contains(value) {
                guard let high = highSurrogate else { return }
                scalar = 0x10000 + ((high - 0xD800) << 10) + (value - 0xDC00)
            }
            highSurrogate = nil
            if let u = Unicode.Scalar(scalar) { char(Array(UTF8.encode(u)!), into: &out) }
            return
        }
        if escape {
            escape = false
            switch b {
            case UInt8(ascii: "n"): char([0x0A], into: &out)
            case UInt8(ascii: "t"): char([0x09], into: &out)
            case UInt8(ascii: "r"): char([0x0D], into: &out)
            case UInt8(ascii: "b"): char([0x08], into: &out)
            case UInt8(ascii: "f"): char([0x0C], into: &out)
            case UInt8(ascii: "u"): hex = []
            default: char([b], into: &out)
            }
            return
        }
        switch b {
        case UInt8(ascii: "\\"): escape = true
        case UInt8(ascii: "\""):
            inString = false
            if stringIsKey { lastKey = key }
            emitting = false
        default: char([b], into: &out)
        }
    }

    mutating func char(_ bytes: [UInt8], into out: inout [UInt8]) {
        if stringIsKey { key.append(contentsOf: bytes) } else if emitting { out.append(contentsOf: bytes) }
    }
}
