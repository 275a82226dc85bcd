/// Splits a Server-Sent Events byte stream into the `data` of each event.
///
/// Bytes may arrive cut anywhere (inside a line, inside a UTF-8 character,
/// between CR and LF), so the parser keeps the unfinished line as bytes and
/// only decodes whole lines.
public struct SSEParser {
    var line: [UInt8] = []
    var data: [UInt8] = []
    var hasData = false
    var skipLF = false

    public init() {}

    /// The events completed by these bytes, each as its data text.
    public mutating func feed<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> [String] {
        var events: [String] = []
        for b in bytes {
            if skipLF {
                skipLF = false
                if b == 0x0A { continue }
            }
            if b == 0x0A || b == 0x0D {
                skipLF = b == 0x0D
                if let event = endLine() { events.append(event) }
            } else {
                line.append(b)
            }
        }
        return events
    }

    /// At the end of the stream an unfinished event is dropped, as the SSE
    /// rules say: a cut stream never yields half an event.
    public mutating func finish() {
        line = []
        data = []
        hasData = false
    }

    mutating func endLine() -> String? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            guard hasData else { return nil }
            let event = String(decoding: data, as: UTF8.self)
            data.removeAll(keepingCapacity: true)
            hasData = false
            return event
        }
        if line[0] == UInt8(ascii: ":") { return nil }  // a comment, often a keep-alive
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
        guard line[..<colon].elementsEqual("data".utf8) else { return nil }  // event, id, retry: unused
        var value = colon < line.endIndex ? line.index(after: colon) : colon
        if value < line.endIndex, line[value] == 0x20 { value += 1 }
        if hasData { data.append(0x0A) }
        data.append(contentsOf: line[value...])
        hasData = true
        return nil
    }
}
