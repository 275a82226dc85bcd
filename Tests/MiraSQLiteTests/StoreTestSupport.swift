#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiraShared
import MiraSystem
import MiraTestSupport
@testable import MiraSQLite

/// A database in a fresh folder under /tmp, removed with its folder by `remove()`.
struct TemporaryDatabase {
    let folder = TemporaryDirectory(prefix: "mira-store-tests")
    var directory: String { folder.path }
    var path: String { directory + "/mira.db" }

    func open() throws -> SessionStore { try SessionStore(path: path) }

    func remove() { folder.remove() }
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
