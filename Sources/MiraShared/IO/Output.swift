#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes whole lines straight to a descriptor: one line is one write call
/// (looped only for very long lines), so a reader downstream never sees half
/// a record and nothing waits in a buffer when the process dies.
public struct LineWriter: Sendable {
    public let fd: Int32

    public init(fd: Int32 = 1) { self.fd = fd }

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

    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
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
