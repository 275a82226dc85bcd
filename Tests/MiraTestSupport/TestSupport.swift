#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiraPrompt
import MiraShared
import MiraSystem

/// A fresh folder under /tmp, removed with everything in it by `remove()`.
package struct TemporaryDirectory {
    package let path: String

    package init(prefix: String = "mira-tests") {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
        guard let made else { fatalError("mkdtemp failed") }
        path = made
    }

    package func write(_ name: String, _ text: String) {
        let fd = open(path + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot create \(name)")
        _ = LineWriter(fd: fd).write(Array(text.utf8))
        close(fd)
    }

    package func remove() {
        for name in Files.list(directory: path) { unlink(path + "/" + name) }
        rmdir(path)
    }
}

/// A pipe whose read end holds `bytes` followed by end of input.
package func pipeHolding(_ bytes: [UInt8]) -> Int32 {
    var fds: [Int32] = [0, 0]
    precondition(pipe(&fds) == 0)
    precondition(LineWriter(fd: fds[1]).write(bytes))
    close(fds[1])
    return fds[0]
}

/// A pipe for a stage to write into; `collect()` closes the write end and
/// returns what was written.
package struct OutputPipe {
    package let readEnd: Int32
    package let writeEnd: Int32

    package init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0)
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    package var writer: LineWriter { LineWriter(fd: writeEnd) }

    package func collect() -> [String] {
        close(writeEnd)
        defer { close(readEnd) }
        let bytes = Files.read(fd: readEnd, limit: 1 << 20) ?? []
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast().map(String.init)
    }
}

/// Parses `text`, failing the test's expectation with the syntax error.
package func json(_ text: String) throws -> JSON {
    try JSONParser.parse(text)
}

extension String {
    package var bytes: [UInt8] { Array(utf8) }
}

/// Diagnostics that keep every report, for asserting what a stage said.
package final class DiagnosticsLog: @unchecked Sendable {
    private let lock = Monitor()
    private var kept: [String] = []

    package init() {}

    package var diagnostics: Diagnostics {
        Diagnostics { [self] line in lock.locked { kept.append(line) } }
    }

    package var lines: [String] { lock.locked { kept } }
}

/// The request mira-prompt builds for one turn, with test defaults.
package func buildRequest(
    history: [Message] = [], input: String = "hello", forcedPersona: String? = nil,
    registry: PersonaRegistry = PersonaRegistry(), settings: PromptSettings = PromptSettings(model: "gpt-test")
) throws -> JSONObject {
    try ChatRequest.build(history: history, input: input, forcedPersona: forcedPersona, registry: registry, settings: settings)
}

/// A request's system prompt text.
package func systemPrompt(_ request: JSONObject) -> String? {
    request["messages"]?.arrayValue?.first?["content"]?.stringValue
}
