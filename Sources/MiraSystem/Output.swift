#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiraShared

/// Writes whole lines straight to a descriptor: one line is one write call
/// (looped only for very long lines), so a reader downstream never sees half
/// a record and nothing waits in a buffer when the process dies.
///
/// On a terminal every byte written is shown harmlessly (`TerminalText`):
/// whatever Mira writes may hold text from a model or a server. Into a pipe
/// or a file the bytes go exactly as given.
package struct LineWriter: Sendable {
    package let fd: Int32
    /// The descriptor is a terminal (checked once, when the writer is made).
    package let isTerminal: Bool

    package init(fd: Int32 = 1) {
        self.fd = fd
        isTerminal = isatty(fd) == 1
    }

    package static let standardOutput = LineWriter(fd: 1)
    package static let standardError = LineWriter(fd: 2)

    /// Writes the bytes and a newline; false when the descriptor is gone.
    @discardableResult
    package func writeLine(_ bytes: [UInt8]) -> Bool {
        var line = bytes
        line.append(0x0A)
        return write(line)
    }

    @discardableResult
    package func writeLine(_ text: String) -> Bool {
        writeLine(Array(text.utf8))
    }

    /// Writes text: shown harmlessly on a terminal, exact elsewhere.
    @discardableResult
    package func write(_ bytes: [UInt8]) -> Bool {
        writeRaw(isTerminal ? TerminalText.visible(bytes) : bytes)
    }

    /// Writes bytes as they are: only for Mira's own control sequences
    /// (the progress line's carriage return and erase).
    @discardableResult
    package func writeRaw(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = systemWrite(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
    }
}

/// Where a command's one-line reports go (`STAGE: line N: cause`). Library
/// code is handed one and never picks stderr itself: the executables pass
/// `.standardError`, tests a collector.
package struct Diagnostics: Sendable {
    let emit: @Sendable (String) -> Void

    package init(_ emit: @escaping @Sendable (String) -> Void) {
        self.emit = emit
    }

    package static let standardError = Diagnostics { LineWriter.standardError.writeLine($0) }

    /// Drops every report (for callers that only want the outcome).
    package static let discard = Diagnostics { _ in }

    package func report(stage: String, line: Int?, _ message: String) {
        emit((line.map { "\(stage): line \($0): " } ?? "\(stage): ") + message)
    }
}
