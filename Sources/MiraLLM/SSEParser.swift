import MiraShared

/// One Server-Sent Event, as far as a chat stream is concerned.
package enum SSEEvent: Equatable, Sendable {
    /// A `data` event: a completion chunk or `[DONE]`.
    case data(String)
    /// The server reporting a failure inside the stream, in either form seen
    /// in the wild: an `error:` field (llama.cpp's server) or an event named
    /// `error` (`event: error` then `data:`). Its text is usually a JSON object.
    case error(String)
}

/// Splits a Server-Sent Events byte stream into events.
///
/// Bytes may arrive cut anywhere (inside a line, inside a UTF-8 character,
/// between CR and LF), so the parser keeps the unfinished line as bytes and
/// only decodes whole lines.
package struct SSEParser {
    var line: [UInt8] = []
    var data: [UInt8] = []
    var hasData = false
    var errorText: [UInt8] = []
    var hasError = false
    var isErrorEvent = false
    var skipLF = false

    package init() {}

    /// The events completed by these bytes.
    package mutating func feed<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> [SSEEvent] {
        var events: [SSEEvent] = []
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

    /// At the end of the stream an unfinished data event is dropped, as the
    /// SSE rules say: a cut stream never yields half an event. An unfinished
    /// error is still the server's last word, so it is returned.
    @discardableResult
    package mutating func finish() -> SSEEvent? {
        defer {
            line = []
            data = []
            hasData = false
            errorText = []
            hasError = false
            isErrorEvent = false
        }
        if !line.isEmpty { _ = endLine() }
        if hasError { return .error(String(decoding: errorText, as: UTF8.self)) }
        if isErrorEvent && hasData { return .error(String(decoding: data, as: UTF8.self)) }
        return nil
    }

    mutating func endLine() -> SSEEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty { return dispatch() }
        if line[0] == UInt8(ascii: ":") { return nil }  // a comment, often a keep-alive
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
        let field = line[..<colon]
        var start = colon < line.endIndex ? line.index(after: colon) : colon
        if start < line.endIndex, line[start] == 0x20 { start += 1 }
        let value = line[start...]
        if field.elementsEqual("data".utf8) {
            if hasData { data.append(0x0A) }
            data.append(contentsOf: value)
            hasData = true
        } else if field.elementsEqual("error".utf8) {
            if hasError { errorText.append(0x0A) }
            errorText.append(contentsOf: value)
            hasError = true
        } else if field.elementsEqual("event".utf8) {
            isErrorEvent = value.elementsEqual("error".utf8)
        }
        return nil  // id, retry and unknown fields: unused
    }

    /// A blank line ends an event.
    mutating func dispatch() -> SSEEvent? {
        defer {
            data.removeAll(keepingCapacity: true)
            hasData = false
            errorText.removeAll(keepingCapacity: true)
            hasError = false
            isErrorEvent = false
        }
        if hasError { return .error(String(decoding: errorText, as: UTF8.self)) }
        guard hasData else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        return isErrorEvent ? .error(text) : .data(text)
    }
}
