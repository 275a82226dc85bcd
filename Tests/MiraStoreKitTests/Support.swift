#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiraShared
@testable import MiraStoreKit

/// A database in a fresh folder under /tmp, removed with its folder by `remove()`.
struct TemporaryDatabase {
    let directory: String
    var path: String { directory + "/mira.db" }

    init() {
        var template = Array("/tmp/mira-store-tests-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
        guard let made else { fatalError("mkdtemp failed") }
        directory = made
    }

    func open() throws -> SessionStore { try SessionStore(path: path) }

    func remove() {
        for name in Files.list(directory: directory) { unlink(directory + "/" + name) }
        rmdir(directory)
    }
}

let personas = ["default", "forbidden", "hallow", "haven"]

/// A finished turn as mira-llm hands it to mira-store save.
func finishedRecord(session: String? = "s1", turn: String? = "t1", input: String? = "hi", reply: Reply? = nil) -> Record {
    var record = Record(session: session)
    record.turn = turn
    record.input = input
    if let reply { record.setReply(reply) }
    return record
}

let aReply = Reply(output: "Hey you.", persona: "haven", mood: "soft")

func exportLines(_ store: SessionStore, session: String) throws -> [String] {
    var lines: [String] = []
    try store.export(session: session) { message in
        lines.append(JSONWriter.string(message.json))
        return true
    }
    return lines
}

/// Feeds lines to `importMessages` through the reader `mira-store import`
/// uses (reading a file, as its stdin may be); returns how many were added.
func importLines(_ store: SessionStore, _ lines: [String], session: String? = nil) throws(StageError) -> Int {
    var template = Array("/tmp/mira-import-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    precondition(fd >= 0, "mkstemp failed")
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    defer { close(fd) }
    let text = Array(lines.map { $0 + "\n" }.joined().utf8)
    text.withUnsafeBytes { precondition(write(fd, $0.baseAddress, $0.count) == $0.count) }
    lseek(fd, 0, SEEK_SET)
    var messages = ImportReader(reader: LineReader(fd: fd), session: session)
    return try store.importMessages { () throws(StageError) in try messages.next() }.added
}
