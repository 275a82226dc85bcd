#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSQLite
import MiraShared

/// A failure inside SQLite, with its message.
public struct SQLiteError: Error, CustomStringConvertible {
    public var code: Int32
    public var message: String
    public var description: String { message }
}

/// A thin handle on one SQLite connection: just what the store needs.
final class Connection {
    let handle: OpaquePointer

    init(path: String) throws(SQLiteError) {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw SQLiteError(code: rc, message: "cannot open \(path): \(message)")
        }
        handle = db
    }

    deinit { sqlite3_close_v2(handle) }

    /// Opens (creating when absent, with its folder) a database that several
    /// processes share: created owner-only before SQLite opens it, so the
    /// -wal and -shm files SQLite makes beside it get the same mode; WAL; and
    /// a 60 s busy wait so writers queue instead of failing "database is locked".
    static func shared(path: String) throws(SQLiteError) -> Connection {
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            _ = Files.makeDirectories(String(path[..<slash]))
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
        let db = try Connection(path: path)
        try db.execute("PRAGMA busy_timeout = 60000")
        try db.execute("PRAGMA journal_mode = WAL")
        return db
    }

    var lastError: SQLiteError {
        SQLiteError(code: sqlite3_errcode(handle), message: String(cString: sqlite3_errmsg(handle)))
    }

    func execute(_ sql: String) throws(SQLiteError) {
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else { throw lastError }
    }

    func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &stmt, nil) == SQLITE_OK, let stmt else { throw lastError }
        return Statement(stmt, connection: self)
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction: the write lock is taken
    /// up front, so concurrent writers wait on the busy timeout instead of
    /// failing part-way with "database is locked".
    func writeTransaction<T>(_ body: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    func intPragma(_ name: String) throws(SQLiteError) -> Int {
        let stmt = try prepare("PRAGMA \(name)")
        guard try stmt.step() else { return 0 }
        return stmt.int(0)
    }
}

/// A prepared statement; bind by 1-based index, read columns by 0-based index.
final class Statement {
    let handle: OpaquePointer
    unowned let connection: Connection

    init(_ handle: OpaquePointer, connection: Connection) {
        self.handle = handle
        self.connection = connection
    }

    deinit { sqlite3_finalize(handle) }

    func bind(_ values: [String?]) throws(SQLiteError) {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (k, value) in values.enumerated() {
            let rc: Int32
            if let value {
                rc = sqlite3_bind_text(handle, Int32(k + 1), value, -1, mira_sqlite_transient())
            } else {
                rc = sqlite3_bind_null(handle, Int32(k + 1))
            }
            guard rc == SQLITE_OK else { throw connection.lastError }
        }
    }

    func bind(int value: Int, at index: Int32) throws(SQLiteError) {
        guard sqlite3_bind_int64(handle, index, Int64(value)) == SQLITE_OK else { throw connection.lastError }
    }

    /// True when a row is ready, false when done.
    func step() throws(SQLiteError) -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.lastError
        }
    }

    /// Steps to the end, for statements that return no rows.
    func run(_ values: [String?]) throws(SQLiteError) {
        try bind(values)
        while try step() {}
    }

    func text(_ column: Int32) -> String? {
        guard let p = sqlite3_column_text(handle, column) else { return nil }
        return String(cString: p)
    }

    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }

    /// Ends the statement's read, so a kept statement does not pin an old snapshot.
    func reset() { sqlite3_reset(handle) }
}
