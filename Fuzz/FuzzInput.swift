import MiraBatch
import MiraLLM
import MiraPrompt
import MiraShared

/// Takes typed values off the front of a fuzzer input; what is left is the
/// payload. A short input yields zeros, so every input is usable and the
/// seeds stay readable (a fixed-size binary prefix, then the text).
struct FuzzInput {
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: [UInt8]) { self.bytes = bytes[...] }

    mutating func byte() -> UInt8 {
        bytes.popFirst() ?? 0
    }

    /// Big-endian, any bit pattern: Int.min and Int.max included.
    mutating func int64() -> Int64 {
        var value: UInt64 = 0
        for _ in 0..<8 { value = value << 8 | UInt64(byte()) }
        return Int64(bitPattern: value)
    }

    mutating func uint16() -> Int {
        Int(byte()) << 8 | Int(byte())
    }

    var rest: [UInt8] { Array(bytes) }
}
