#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes whole lines straight to a descriptor: one line is one write call
/// (looped only for very long lines), so a reader downstream never sees half
/// a record and nothing waits in a buffer when the process dies.
///
/// On a terminal every byte written is shown harmlessly (`TerminalText`):
/// whatever Mira writes may hold text from a model or a server. Into a pipe
/// or a file the bytes go exactly as given.
public struct LineWriter: Sendable {
    public let fd: Int32
    /// The descriptor is a terminal (checked once, when the writer is made).
    public let isTerminal: Bool

    public init(fd: Int32 = 1) {
        self.fd = fd
        isTerminal = isatty(fd) == 1
    }

    public static let standardOutput = LineWriter(fd: 1)
    public static let standardError = LineWriter(fd: 2)

    /// Writes the bytes and a newline; false when the descriptor is gone.
    @discardableResult
    public func writeLine(_ bytes: [UInt8]) -> Bool {
        var line = bytes
        line.append(0x0A)
        return write(line)
    }

    @discardableResult
    public func writeLine(_ text: String) -> Bool {
        writeLine(Array(text.utf8))
    }

    /// Writes text: shown harmlessly on a terminal, exact elsewhere.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        writeRaw(isTerminal ? TerminalText.visible(bytes) : bytes)
    }

    /// Writes bytes as they are: only for Mira's own control sequences
    /// (the progress line's carriage return and erase).
    @discardableResult
    public func writeRaw(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
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

/// One line on stderr: `STAGE: line N: cause`.
public func report(stage: String, line: Int?, _ message: String) {
    let prefix = line.map { "\(stage): line \($0): " } ?? "\(stage): "
    LineWriter.standardError.writeLine(prefix + message)
}

/// Reports a failure that ends the command and exits with its status.
public func fatal(stage: String, _ message: String, status: ExitStatus) -> Never {
    report(stage: stage, line: nil, message)
    exit(status.rawValue)
}
