/// Compact JSON text: one line, members in order, non-ASCII kept as UTF-8.
package enum JSONWriter {
    package static func bytes(_ value: JSON) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out)
        return out
    }

    package static func string(_ value: JSON) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    package static func write(_ value: JSON, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (k, item) in items.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (k, member) in object.members.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(member.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static let hexDigits = Array("0123456789abcdef".utf8)

    package static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var utf8 = s.utf8
        // Runs of bytes that need no escape are copied whole: per-byte
        // appends cost most of a turn's JSON time on long prompts.
        if utf8.withContiguousStorageIfAvailable({ escaping($0, into: &out) }) == nil {
            var contiguous = s
            contiguous.makeContiguousUTF8()
            utf8 = contiguous.utf8
            _ = utf8.withContiguousStorageIfAvailable { escaping($0, into: &out) }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func escaping(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        var start = 0
        for k in 0..<bytes.count {
            let b = bytes[k]
            // The escape's second byte; 0 for the \u00XX form. Appended byte
            // by byte: an array literal per escape was an allocation for every
            // newline of a prompt.
            let short: UInt8
            switch b {
            case UInt8(ascii: "\""): short = UInt8(ascii: "\"")
            case UInt8(ascii: "\\"): short = UInt8(ascii: "\\")
            case 0x0A: short = UInt8(ascii: "n")
            case 0x0D: short = UInt8(ascii: "r")
            case 0x09: short = UInt8(ascii: "t")
            case 0..<0x20, 0x7F: short = 0
            default: continue
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<k]))
            out.append(0x5C)
            if short != 0 {
                out.append(short)
            } else {
                out.append(UInt8(ascii: "u"))
                out.append(0x30)
                out.append(0x30)
                out.append(hexDigits[Int(b >> 4)])
                out.append(hexDigits[Int(b & 0xF)])
            }
            start = k + 1
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<bytes.count]))
    }
}
