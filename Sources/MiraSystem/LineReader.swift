#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiraShared

/// Reads newline-terminated lines from a file descriptor in a fixed buffer,
/// so memory stays flat however long the input runs. A line over the limit is
/// skipped to its end and reported, not held.
package struct LineReader {
    package enum Item: Equatable, Sendable {
        case line([UInt8])
        /// A line longer than the limit; its bytes were dropped.
        case tooLong(bytes: Int, limit: Int)
    }

    package static let defaultMaxLine = 32 * 1024 * 1024

    let fd: Int32
    package let maxLine: Int
    var buffer: [UInt8]
    var start = 0
    var end = 0
    var eof = false
    /// The number of the line last returned, counting from 1.
    package private(set) var lineNumber = 0
    /// Why reading stopped early (a folder, an I/O error): nil at a true end
    /// of input. Callers check it after the last line, so a failed read is
    /// never taken for an input that simply ended.
    package private(set) var readError: FileProblem?

    package init(fd: Int32 = 0, maxLine: Int = defaultMaxLine, bufferSize: Int = 256 * 1024) {
        self.fd = fd
        self.maxLine = maxLine
        buffer = [UInt8](repeating: 0, count: bufferSize)
    }

    /// The next line without its newline, or nil at the end of input.
    package mutating func next() -> Item? {
        var pending: [UInt8] = []
        var dropped = 0
        while true {
            if let nl = buffer[start..<end].firstIndex(of: 0x0A) {
                let piece = buffer[start..<nl]
                start = nl + 1
                lineNumber += 1
                if dropped > 0 || pending.count + piece.count > maxLine {
                    return .tooLong(bytes: dropped + pending.count + piece.count, limit: maxLine)
                }
                pending.append(contentsOf: piece)
                return .line(pending)
            }
            // No newline in the buffer: keep what we have (or count it as
            // dropped when the line is already too long) and read more.
            let piece = end - start
            if dropped > 0 || pending.count + piece > maxLine {
                dropped += pending.count + piece
                pending = []
            } else {
                pending.append(contentsOf: buffer[start..<end])
            }
            start = 0
            end = 0
            if eof || !fill() {
                if pending.isEmpty && dropped == 0 { return nil }
                lineNumber += 1
                return dropped > 0 ? .tooLong(bytes: dropped, limit: maxLine) : .line(pending)
            }
        }
    }

    /// Reads more into the empty buffer; false at end of input.
    mutating func fill() -> Bool {
        while true {
            let n = buffer.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if n > 0 { end = n; return true }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { readError = FileProblem(errno: errno) }
            eof = true
            return false
        }
    }
}

extension Array where Element == UInt8 {
    /// True for a line of only spaces and tabs (and a CR): such lines are skipped.
    package var isBlankLine: Bool {
        allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }
}
