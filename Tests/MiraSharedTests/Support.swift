#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
@testable import MiraShared

/// A fresh folder under /tmp, removed with everything in it by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() {
        var template = Array("/tmp/mira-tests-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
        guard let made else { fatalError("mkdtemp failed") }
        path = made
    }

    func write(_ name: String, _ text: String) {
        let fd = open(path + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot create \(name)")
        _ = LineWriter(fd: fd).write(Array(text.utf8))
        close(fd)
    }

    func remove() {
        for name in Files.list(directory: path) { unlink(path + "/" + name) }
        rmdir(path)
    }
}

/// A pipe whose read end holds `bytes` followed by end of input.
func pipeHolding(_ bytes: [UInt8]) -> Int32 {
    var fds: [Int32] = [0, 0]
    precondition(pipe(&fds) == 0)
    precondition(LineWriter(fd: fds[1]).write(bytes))
    close(fds[1])
    return fds[0]
}

/// A pipe for a stage to write into; `collect()` closes the write end and
/// returns what was written.
struct OutputPipe {
    let readEnd: Int32
    let writeEnd: Int32

    init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0)
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    var writer: LineWriter { LineWriter(fd: writeEnd) }

    func collect() -> [String] {
        close(writeEnd)
        defer { close(readEnd) }
        let bytes = Files.read(fd: readEnd, limit: 1 << 20) ?? []
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast().map(String.init)
    }
}

/// Parses `text`, failing the test's expectation with the syntax error.
func json(_ text: String) throws -> JSON {
    try JSONParser.parse(text)
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
