import MiraShared
import MiraSystem
import CSQLite

// The only file that speaks SQLite's C API: the stores see values, statements
// and errors with names.

/// A value bound to a statement's parameter or read from a column.
enum SQLValue: Equatable, Sendable {
    case integer(Int64)
    case real(Double)
    /// Stored byte-exact, U+0000 and all.
    case text(String)
    case blob([UInt8])
    case null

    /// Text, or NULL for an optional column left empty.
    init(_ text: String?) { self = text.map(SQLValue.text) ?? .null }

    init(_ number: Int) { self = .integer(Int64(number)) }
}

/// A failure inside SQLite (or a file the wrapper refused), by kind, with
/// SQLite's words. It stays in this module: the stores turn it into a StageError.
struct SQLiteError: Error, CustomStringConvertible {
    enum Kind: Equatable, Sendable {
        /// Another connection holds the lock.
        case busy
        case locked
        case constraint
        case readOnly
        case cantOpen
        /// Not a database, or not the one we expected.
        case notADatabase
        /// Written by a newer build: more migrations than this one knows.
        case newerSchema
        case corrupt
        case full
        case other
    }

    var kind: Kind
    var message: String
    var description: String { message }

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// A result code's kind. Extended codes carry their primary one in the low byte.
    fileprivate init(code: Int32, message: String) {
        let kind: Kind = switch code & 0xFF {
        case SQLITE_BUSY: .busy
        case SQLITE_LOCKED: .locked
        case SQLITE_CONSTRAINT: .constraint
        case SQLITE_READONLY: .readOnly
        case SQLITE_CANTOPEN: .cantOpen
        case SQLITE_NOTADB: .notADatabase
        case SQLITE_CORRUPT: .corrupt
        case SQLITE_FULL: .full
        default: .other
        }
        self.init(kind, message)
    }

    /// Why a file cannot be opened as a database; nil when it can (or is missing).
    init?(_ status: FileStatus) {
        switch status {
        case .missing, .regularFile: return nil
        case .notRegular: self.init(.cantOpen, "not a regular file")
        case .unreachable(let problem): self.init(.cantOpen, "cannot open it: \(problem)")
        }
    }
}

/// Which database a file must be to be opened as Mira's: its
/// `application_id`, and the tables a file from before that id had.
struct DatabaseIdentity {
    var applicationID: Int32
    var tables: [String]
    var what: String
}

/// A thin handle on one SQLite connection: just what the store needs.
final class Connection {
    private let handle: OpaquePointer
    /// Where this process's writers of the same file wait their turn.
    private let writers: Monitor
    /// Statements of `reusing`, prepared once; none of them is running.
    private var kept: [String: Statement] = [:]

    init(path: String, readOnly: Bool = false, immutable: Bool = false) throws(SQLiteError) {
        var db: OpaquePointer?
        var flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        var name = path
        if immutable {
            // A read-only mount: nobody can write the file, so SQLite may skip
            // the -shm it could not create there.
            flags |= SQLITE_OPEN_URI
            name = "file:" + Self.uriEscaped(path) + "?immutable=1"
        }
        let rc = sqlite3_open_v2(name, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw SQLiteError(code: rc, message: "cannot open \(path): \(message)")
        }
        handle = db
        writers = WriterLine.line(for: path)
    }

    deinit { sqlite3_close_v2(handle) }

    static func uriEscaped(_ path: String) -> String {
        var out = ""
        for b in path.utf8 {
            if b == UInt8(ascii: "%") || b == UInt8(ascii: "?") || b == UInt8(ascii: "#") || b < 0x21 || b >= 0x7F {
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 0xF)]], as: UTF8.self)
            } else {
                out.unicodeScalars.append(Unicode.Scalar(b))
            }
        }
        return out
    }

    /// Opens (creating when absent, with its folder) a database that several
    /// processes share: owner-only whatever form the path takes, checked to
    /// be this `identity`'s before anything is changed in it, then WAL and a
    /// 60 s busy wait so writers queue instead of failing "database is locked".
    static func shared(path: String, identity: DatabaseIdentity) throws(SQLiteError) -> Connection {
        var prepared = Files.prepareOwnerOnly(path)
        // The folders are made only when the file cannot be: walking the
        // path to make them cost a turn 0.2 million instructions.
        if case .unreachable = prepared, let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            _ = Files.makeDirectories(String(path[..<slash]))
            prepared = Files.prepareOwnerOnly(path)
        }
        if let refusal = SQLiteError(prepared) { throw refusal }
        let db = try Connection(path: path)
        try db.execute("PRAGMA busy_timeout = 60000")
        try db.retryingWhileBusy { () throws(SQLiteError) in
            try db.check(identity)
            try db.execute("PRAGMA journal_mode = WAL")
        }
        return db
    }

    /// Runs `body` again while another process holds the lock, for up to the
    /// busy timeout. The opening steps need it: on a new file several first
    /// writers switch it to WAL at once, each must promote its read lock,
    /// and SQLite answers BUSY at once to all but one (deadlock avoidance)
    /// instead of waiting on the busy timeout.
    func retryingWhileBusy(_ body: () throws(SQLiteError) -> Void) throws(SQLiteError) {
        var waited = 0
        var pause = 1
        while true {
            do {
                try body()
                return
            } catch let error where error.kind == .busy && waited < 60_000 {
                SystemTime.sleep(milliseconds: pause)
                waited += pause
                pause = min(pause * 2, 100)
            }
        }
    }

    /// Opens an existing database only to read it: nothing is created,
    /// nothing changed, and a file on a read-only mount can still be read.
    /// (A file we may not write opens read-only.)
    /// nil when there is no file at all (nothing stored yet).
    static func reading(path: String, identity: DatabaseIdentity) throws(SQLiteError) -> Connection? {
        let status = Files.status(of: path)
        if status == .missing { return nil }
        if let refusal = SQLiteError(status) { throw refusal }
        do {
            // Opened for writing when the file allows it (nothing is written:
            // no CREATE, no WAL switch), because a read-only connection may
            // meet a WAL file being checkpointed away by the last writer and
            // fail "database is locked" without waiting on the busy timeout.
            let db = try Connection(path: path, readOnly: !Files.isWritable(path))
            try db.execute("PRAGMA busy_timeout = 60000")
            try db.retryingWhileBusy { () throws(SQLiteError) in try db.check(identity) }
            return db
        } catch let error where error.kind == .cantOpen && Files.isOnReadOnlyMount(path) {
            // A WAL database whose -shm cannot be made beside it.
            let db = try Connection(path: path, readOnly: true, immutable: true)
            try db.check(identity)
            return db
        }
    }

    /// Refuses a file that belongs to another program: an application id
    /// that is not ours, or tables but neither our id nor our tables. A new,
    /// empty file is ours.
    func check(_ identity: DatabaseIdentity) throws(SQLiteError) {
        let id = Int32(truncatingIfNeeded: try intPragma("application_id"))
        if id == identity.applicationID { return }
        let refusal = SQLiteError(.notADatabase, "not \(identity.what) (another program's database?): refusing to touch it")
        guard id == 0 else { throw refusal }
        let tables = try prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
        var names: Set<String> = []
        while try tables.step() { names.insert(tables.text(0) ?? "") }
        guard names.isEmpty || Set(identity.tables).isSubset(of: names) else { throw refusal }
    }

    fileprivate var lastError: SQLiteError {
        SQLiteError(code: sqlite3_errcode(handle), message: String(cString: sqlite3_errmsg(handle)))
    }

    func execute(_ sql: String) throws(SQLiteError) {
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else { throw lastError }
    }

    func prepare(_ sql: String, kept: Bool = false) throws(SQLiteError) -> Statement {
        var stmt: OpaquePointer?
        let flags = kept ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        guard sqlite3_prepare_v3(handle, sql, -1, flags, &stmt, nil) == SQLITE_OK, let stmt else { throw lastError }
        return Statement(stmt, connection: self)
    }

    /// Runs `body` with a statement for `sql` that this connection prepares
    /// once and keeps, for the few statements every turn runs: mira-serve's
    /// connections run them thousands of times, and preparing one costs
    /// more than running it. It is reset after `body`, so it never holds a
    /// read open (an old snapshot) between uses; a use of the same `sql`
    /// inside `body` gets a statement of its own.
    func reusing<T>(_ sql: String, _ body: (Statement) throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        let stmt: Statement
        if let ready = kept.removeValue(forKey: sql) { stmt = ready } else { stmt = try prepare(sql, kept: true) }
        defer {
            stmt.reset()
            stmt.clearBindings()
            kept[sql] = stmt
        }
        return try body(stmt)
    }

    /// `execute` for a statement without parameters or rows that runs often.
    func executeKept(_ sql: String) throws(SQLiteError) {
        try reusing(sql) { (stmt) throws(SQLiteError) in try stmt.run([]) }
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction: the write lock is taken
    /// up front, so concurrent writers wait on the busy timeout instead of
    /// failing part-way with "database is locked". Writers in this process
    /// take turns first (`WriterLine`).
    func writeTransaction<T>(_ body: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        let outcome = writers.locked {
            Result { () throws(SQLiteError) -> T in
                try executeKept("BEGIN IMMEDIATE")
                do throws(SQLiteError) {
                    let result = try body()
                    try executeKept("COMMIT")
                    return result
                } catch {
                    try? executeKept("ROLLBACK")
                    throw error
                }
            }
        }
        return try outcome.get()
    }

    /// Rows the last INSERT, UPDATE or DELETE changed.
    var changes: Int { Int(sqlite3_changes(handle)) }

    func intPragma(_ name: String) throws(SQLiteError) -> Int {
        let stmt = try prepare("PRAGMA \(name)")
        guard try stmt.step() else { return 0 }
        return stmt.int(0)
    }
}

/// Schema versions: `user_version` counts the migrations that have run.
extension Connection {
    /// The file's schema version, refused when a newer build has taken it
    /// past the `known` migrations.
    func schemaVersion(known: Int) throws(SQLiteError) -> Int {
        let version = try intPragma("user_version")
        if version > known {
            throw SQLiteError(.newerSchema, "schema version \(version) is newer than this build knows (\(known)); upgrade Mira")
        }
        return version
    }

    /// Runs the steps the file has not had yet, all in one write transaction.
    func migrate(_ steps: [String]) throws(SQLiteError) {
        if try intPragma("user_version") == steps.count { return }
        try writeTransaction { () throws(SQLiteError) in
            // Re-read under the lock: another process may have just migrated.
            let version = try schemaVersion(known: steps.count)
            guard version < steps.count else { return }
            for sql in steps[version...] { try execute(sql) }
            try execute("PRAGMA user_version = \(steps.count)")
        }
    }
}

/// A prepared statement: values bound in parameter order, columns read by
/// 0-based index.
final class Statement {
    private let handle: OpaquePointer
    private unowned let connection: Connection

    fileprivate init(_ handle: OpaquePointer, connection: Connection) {
        self.handle = handle
        self.connection = connection
    }

    deinit { sqlite3_finalize(handle) }

    /// Starts the statement over with these parameters.
    func bind(_ values: [SQLValue]) throws(SQLiteError) {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (k, value) in values.enumerated() {
            guard bind(value, at: Int32(k + 1)) == SQLITE_OK else { throw connection.lastError }
        }
    }

    private func bind(_ value: SQLValue, at index: Int32) -> Int32 {
        switch value {
        case .integer(let n):
            return sqlite3_bind_int64(handle, index, n)
        case .real(let x):
            return sqlite3_bind_double(handle, index, x)
        case .text(let text):
            // With its byte length: text may hold U+0000, and -1 would
            // make SQLite stop there and store the rest of nothing.
            // (A NUL after the bytes keeps the pointer valid for "", which
            // SQLite would otherwise store as NULL.)
            let bytes = Array(text.utf8) + [0]
            return bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) {
                    sqlite3_bind_text(handle, index, $0.baseAddress, Int32(buffer.count - 1), mira_sqlite_transient())
                }
            }
        case .blob(let bytes):
            // An empty array has no pointer, and a null one would bind NULL.
            if bytes.isEmpty { return sqlite3_bind_zeroblob(handle, index, 0) }
            return bytes.withUnsafeBytes {
                sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), mira_sqlite_transient())
            }
        case .null:
            return sqlite3_bind_null(handle, index)
        }
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
    func run(_ values: [SQLValue]) throws(SQLiteError) {
        try bind(values)
        while try step() {}
    }

    /// A column of the current row, as stored (no conversion).
    func value(_ column: Int) -> SQLValue {
        let c = Int32(column)
        switch sqlite3_column_type(handle, c) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(handle, c))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(handle, c))
        case SQLITE_TEXT:
            // To its byte length, not to its first NUL.
            guard let p = sqlite3_column_text(handle, c) else { return .text("") }
            let count = Int(sqlite3_column_bytes(handle, c))
            return .text(String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            guard let p = sqlite3_column_blob(handle, c) else { return .blob([]) }
            let count = Int(sqlite3_column_bytes(handle, c))
            return .blob(Array(UnsafeRawBufferPointer(start: p, count: count)))
        default:
            return .null
        }
    }

    /// A text column; nil for NULL (or a value of another type).
    func text(_ column: Int) -> String? {
        if case .text(let text) = value(column) { return text }
        return nil
    }

    /// An integer column; 0 for NULL (or a value of another type).
    func int(_ column: Int) -> Int {
        if case .integer(let n) = value(column) { return Int(n) }
        return 0
    }

    /// Ends the statement's read, so a kept statement does not pin an old snapshot.
    func reset() { sqlite3_reset(handle) }

    /// Lets go of the bound values (copies of text and blobs).
    func clearBindings() { sqlite3_clear_bindings(handle) }

    /// A BLOB column's bytes in place, valid only inside `body` (no copy: a
    /// memory search reads megabytes of vectors this way). Empty for NULL.
    func withBlob<T>(_ column: Int, _ body: (UnsafeRawBufferPointer) throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        let c = Int32(column)
        let p = sqlite3_column_blob(handle, c)
        let count = Int(sqlite3_column_bytes(handle, c))
        return try body(UnsafeRawBufferPointer(start: count > 0 ? p : nil, count: p == nil ? 0 : count))
    }
}
