import MiraShared
import MiraSystem


/// `mira-llm --cache`: validated answers in SQLite, keyed by a hash of the
/// server and the exact request. Shared by a batch's workers (one
/// connection behind a lock) and safe for several processes (WAL, busy wait).
package final class ReplyCacheStore: ReplyCache, @unchecked Sendable {
    let db: Connection
    let monitor = Monitor()
    let lookup: Statement
    let insert: Statement
    /// Called once if writing to the cache fails; the run goes on uncached.
    let onWriteFailure: (String) -> Void
    var writeFailed = false

    package init(path: String, onWriteFailure: @escaping (String) -> Void) throws(StageError) {
        do {
            db = try Connection.shared(path: path, identity: Self.identity)
            // A cache may lose its last answers in a power cut: they are asked again.
            try db.execute("PRAGMA synchronous = NORMAL")
            try db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, answer TEXT NOT NULL, time TEXT NOT NULL) STRICT, WITHOUT ROWID")
            if try db.intPragma("application_id") == 0 { try db.execute("PRAGMA application_id = \(Self.identity.applicationID)") }
            lookup = try db.prepare("SELECT answer FROM answers WHERE key = ?")
            insert = try db.prepare("INSERT OR REPLACE INTO answers (key, answer, time) VALUES (?, ?, ?)")
        } catch {
            throw StageError(.storeFailed, "cache \(path): \(error.message)")
        }
        self.onWriteFailure = onWriteFailure
    }

    /// "MirC" in ASCII: the cache file's application_id.
    static let identity = DatabaseIdentity(applicationID: 0x4D69_7243, tables: ["answers"], what: "a Mira reply cache")

    /// `MIRA_REPLY_CACHE`, else `cache.db` in Mira's data folder. (Not
    /// `MIRA_CACHE`: that names the folder the local model server is built in.)
    package static func location(environment: Environment = .process) -> String? {
        if let path = environment["MIRA_REPLY_CACHE"], !path.isEmpty { return path }
        return MiraFolders.data(environment: environment).map { $0 + "/cache.db" }
    }

    package func answer(for key: String) -> JSONObject? {
        monitor.locked {
            guard (try? lookup.bind([.text(key)])) != nil, (try? lookup.step()) == true, let text = lookup.text(0) else {
                lookup.reset()
                return nil
            }
            lookup.reset()
            return (try? JSONParser.parse(Array(text.utf8)))?.objectValue
        }
    }

    package func keep(_ answer: JSONObject, for key: String) {
        monitor.locked {
            do {
                try insert.run([.text(key), .text(JSONWriter.string(.object(answer))), .text(SystemTime.nowISO8601())])
            } catch {
                if !writeFailed { onWriteFailure("\(error)") }
                writeFailed = true
            }
        }
    }
}
