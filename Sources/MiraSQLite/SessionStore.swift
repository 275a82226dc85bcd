import MiraShared
import MiraSystem

/// One message as `mira-store export` writes it and `import` reads it.
package struct StoredMessage: Equatable, Sendable {
    package var session: String
    package var turn: String?
    package var message: Message

    package init(session: String, turn: String?, message: Message) {
        self.session = session
        self.turn = turn
        self.message = message
    }

    package var json: JSON {
        var o = JSONObject()
        o["session"] = .string(session)
        if let turn { o["turn"] = .string(turn) }
        for member in message.json.objectValue! { o[member.key] = member.value }
        return .object(o)
    }

    /// Reads an export line; `session` fills in when the line has none.
    package init(json: JSON, session fallback: String?) throws(StageError) {
        guard let o = json.objectValue else { throw StageError(.badRecord, "a message must be a JSON object, not \(json.typeName)") }
        let named = o["session"]?.stringValue
        guard let session = fallback ?? named else { throw StageError(.badRecord, "message has no session (give --session)") }
        try Identifiers.validateSession(session)
        let turn = o["turn"]?.stringValue
        if let turn { try Identifiers.validateTurn(turn) }
        let message = try Message(json: json, what: "message")
        try message.validateForStore(what: "message")
        self.init(session: session, turn: turn, message: message)
    }
}

/// A line of `mira-store list`.
package struct SessionSummary: Equatable, Sendable {
    package var session: String
    package var messages: Int
    package var lastActivity: String
}

/// Every session's messages in one SQLite file, safe for many processes at once.
package final class SessionStore {
    let db: Connection

    /// Schema changes, in order; the database's `user_version` counts how
    /// many have run. Never edit one that has shipped: add the next.
    static let migrations: [String] = [
        """
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            session TEXT NOT NULL,
            turn TEXT,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
            content TEXT NOT NULL,
            persona TEXT,
            mood TEXT,
            time TEXT NOT NULL
        ) STRICT;
        CREATE INDEX messages_by_session ON messages (session, id);
        CREATE UNIQUE INDEX messages_by_turn ON messages (session, turn, role) WHERE turn IS NOT NULL;
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            messages INTEGER NOT NULL,
            last_activity TEXT NOT NULL
        ) STRICT, WITHOUT ROWID;
        """,
        // Mira's mark in the file header, so another program's database is
        // refused; and an index to find an imported message without a turn
        // id, so importing the same export twice adds nothing.
        """
        PRAGMA application_id = 1298756193;
        CREATE INDEX messages_without_turn ON messages (session, time) WHERE turn IS NULL;
        """,
        // Long-term memory. Everything but the facts is derived from the
        // messages and can be rebuilt: the keyword index follows every insert
        // and delete through triggers (so a save stays free of HTTP), the
        // vectors are filled by mira-memory. Deleting a message takes its
        // vector with it (foreign key); deleting a session takes its facts
        // and summaries (SessionStore.remove).
        """
        CREATE VIRTUAL TABLE message_words USING fts5(
            content, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2');
        CREATE TRIGGER message_words_add AFTER INSERT ON messages BEGIN
            INSERT INTO message_words (rowid, content) VALUES (new.id, new.content);
        END;
        CREATE TRIGGER message_words_remove AFTER DELETE ON messages BEGIN
            INSERT INTO message_words (message_words, rowid, content) VALUES ('delete', old.id, old.content);
        END;
        INSERT INTO message_words (message_words) VALUES ('rebuild');
        CREATE TABLE message_vectors (
            message INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            dimension INTEGER NOT NULL,
            vector BLOB NOT NULL,
            block INTEGER
        ) STRICT;
        CREATE INDEX message_vectors_by_block ON message_vectors (block, message);
        -- What a search scans instead of one row per message (100,000
        -- sqlite3_step calls and copies are too slow): 256 vectors a row as
        -- int8 codes with a scale each; the best candidates are then
        -- re-ranked with message_vectors' exact floats (MemoryStore).
        CREATE TABLE vector_blocks (
            id INTEGER PRIMARY KEY,
            model TEXT NOT NULL,
            dimension INTEGER NOT NULL,
            messages BLOB NOT NULL,
            scales BLOB NOT NULL,
            codes BLOB NOT NULL
        ) STRICT;
        -- A vector deleted (forget, rm, a message's cascade) takes its whole
        -- block (overwritten: secure_delete); the others wait to be packed again.
        CREATE TRIGGER message_vectors_unpack AFTER DELETE ON message_vectors WHEN old.block IS NOT NULL BEGIN
            DELETE FROM vector_blocks WHERE id = old.block;
            UPDATE message_vectors SET block = NULL WHERE block = old.block;
        END;
        CREATE TABLE facts (
            id INTEGER PRIMARY KEY,
            session TEXT NOT NULL,
            turn TEXT,
            topic TEXT NOT NULL,
            text TEXT NOT NULL,
            time TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            seen INTEGER NOT NULL DEFAULT 1,
            superseded_by INTEGER REFERENCES facts (id) ON DELETE SET NULL
        ) STRICT;
        CREATE INDEX facts_by_topic ON facts (topic, id);
        CREATE INDEX facts_by_session ON facts (session);
        CREATE TABLE fact_vectors (
            fact INTEGER PRIMARY KEY REFERENCES facts (id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            dimension INTEGER NOT NULL,
            vector BLOB NOT NULL
        ) STRICT;
        CREATE TABLE summaries (
            id INTEGER PRIMARY KEY,
            session TEXT NOT NULL,
            first_message INTEGER NOT NULL,
            last_message INTEGER NOT NULL,
            text TEXT NOT NULL,
            model TEXT NOT NULL,
            time TEXT NOT NULL
        ) STRICT;
        CREATE INDEX summaries_by_session ON summaries (session, last_message);
        -- Who is embedding what (MemoryIndexing): a claim per message in
        -- flight, until a time (epoch seconds) after which another process
        -- may take it; and the mark below which every message has its vector.
        CREATE TABLE index_claims (
            message INTEGER PRIMARY KEY,
            until INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE fact_claims (
            fact INTEGER PRIMARY KEY,
            until INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE memory_progress (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        -- Deleting the newest message frees its id for the next insert:
        -- the mark goes back below it, so that message is not skipped.
        CREATE TRIGGER memory_mark_back AFTER DELETE ON messages
        WHEN old.id > (SELECT coalesce(max(id), 0) FROM messages) BEGIN
            UPDATE memory_progress SET value = min(value, old.id - 1) WHERE name = 'indexed_through';
        END;
        """,
        // Whose session is whose on the web (WebSessions): a browser's
        // identity owns the sessions it started. The command line sees them all.
        """
        CREATE TABLE web_sessions (
            session TEXT PRIMARY KEY,
            identity TEXT NOT NULL,
            created TEXT NOT NULL
        ) STRICT;
        CREATE INDEX web_sessions_by_identity ON web_sessions (identity, created);
        """,
    ]

    /// "Mira" in ASCII: the file header's application_id.
    static let identity = DatabaseIdentity(applicationID: 0x4D69_7261, tables: ["messages", "sessions"], what: "a Mira database")

    /// Reading commands (load, list, export) create nothing and change
    /// nothing (no WAL switch, no migration), and work on a read-only mount.
    package enum Access: Sendable {
        case readWrite
        case readOnly
    }

    package static var schemaVersion: Int { migrations.count }

    /// Opens the database at `path`: to write, creating it (owner-only)
    /// when absent; to read, as it is (no file yet reads as an empty store).
    package init(path: String, access: Access = .readWrite) throws(StageError) {
        do throws(SQLiteError) {
            switch access {
            case .readWrite:
                // Owner-only, WAL, and a busy wait: a turn is never dropped
                // for "database is locked".
                db = try Connection.shared(path: path, identity: Self.identity)
                try db.execute("PRAGMA synchronous = FULL")
                try db.execute("PRAGMA foreign_keys = ON")
                // Deleted text (rm, forget) is overwritten, not left in free pages.
                try db.execute("PRAGMA secure_delete = ON")
                try db.retryingWhileBusy { () throws(SQLiteError) in try db.migrate(Self.migrations) }
            case .readOnly:
                // No file, or one a first writer has only just created (a
                // chat turn's save opens it while its load reads): nothing stored yet.
                let file = try Connection.reading(path: path, identity: Self.identity)
                if let file, try file.schemaVersion(known: Self.schemaVersion) > 0 {
                    db = file
                } else {
                    db = try Connection(path: ":memory:")
                    try db.migrate(Self.migrations)
                }
            }
        } catch {
            throw StageError(.storeFailed, "database \(path): \(error.message)")
        }
    }

    /// The last `last` messages of a session, oldest first.
    package func load(session: String, last: Int) throws(StageError) -> [Message] {
        do {
            return try db.reusing("""
                SELECT role, content, persona, mood, time FROM messages
                WHERE session = ? ORDER BY id DESC LIMIT ?
                """) { (stmt) throws(SQLiteError) in
                try stmt.bind([.text(session), SQLValue(last)])
                var messages: [Message] = []
                while try stmt.step() {
                    messages.append(Self.message(stmt, from: 0))
                }
                return messages.reversed()
            }
        } catch {
            throw StageError(.storeFailed, "load: \(error.message)")
        }
    }

    static func message(_ stmt: Statement, from c: Int) -> Message {
        Message(
            role: Role(rawValue: stmt.text(c) ?? "") ?? .user, content: stmt.text(c + 1) ?? "",
            persona: stmt.text(c + 2), mood: stmt.text(c + 3), time: stmt.text(c + 4))
    }

    /// Appends a turn's user message and reply in one transaction. Saving the
    /// same turn again changes nothing and returns false.
    @discardableResult
    package func save(session: String, turn: String, messages: [Message]) throws(StageError) -> Bool {
        do {
            return try db.writeTransaction { () throws(SQLiteError) -> Bool in
                let seen = try db.prepare("SELECT 1 FROM messages WHERE session = ? AND turn = ? LIMIT 1")
                try seen.bind([.text(session), .text(turn)])
                if try seen.step() { return false }
                try insert(messages.map { StoredMessage(session: session, turn: turn, message: $0) })
                return true
            }
        } catch {
            throw StageError(.storeFailed, "save: \(error.message)")
        }
    }

    /// Inserts messages inside the caller's transaction and returns how many
    /// were new. A message already stored is skipped: by (session, turn,
    /// role) when it has a turn id, else by session, time, role and content
    /// among the rows up to `storedUpTo` (what was there before an import:
    /// the same words said twice within one import are two messages).
    @discardableResult
    func insert(_ messages: [StoredMessage], storedUpTo: Int = .max) throws(SQLiteError) -> Int {
        // Prepared only for a message without a turn id (an import's).
        var stored: Statement?
        var added = 0
        try db.reusing("""
            INSERT INTO messages (session, turn, role, content, persona, mood, time)
            VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
            """) { (add) throws(SQLiteError) in
            try db.reusing("""
                INSERT INTO sessions (id, messages, last_activity) VALUES (?, 1, ?)
                ON CONFLICT (id) DO UPDATE SET messages = messages + 1,
                    last_activity = max(last_activity, excluded.last_activity)
                """) { (touch) throws(SQLiteError) in
                for m in messages {
                    let time = m.message.time ?? SystemTime.nowISO8601()
                    if m.turn == nil {
                        let check: Statement
                        if let stored { check = stored } else {
                            check = try db.prepare("""
                                SELECT 1 FROM messages WHERE session = ? AND turn IS NULL AND time = ? AND role = ? AND content = ? AND id <= ? LIMIT 1
                                """)
                            stored = check
                        }
                        try check.bind([.text(m.session), .text(time), .text(m.message.role.rawValue), .text(m.message.content), SQLValue(storedUpTo)])
                        let seen = try check.step()
                        check.reset()
                        if seen { continue }
                    }
                    try add.run(Self.row(m, time: time))
                    if db.changes > 0 {
                        try touch.run([.text(m.session), .text(time)])
                        added += 1
                    }
                }
            }
        }
        return added
    }

    /// A message as the seven columns of `messages` (and of an import's
    /// staging table): session, turn, role, content, persona, mood, time.
    static func row(_ m: StoredMessage, time: String) -> [SQLValue] {
        [.text(m.session), SQLValue(m.turn), .text(m.message.role.rawValue), .text(m.message.content),
         SQLValue(m.message.persona), SQLValue(m.message.mood), .text(time)]
    }

    /// What an import did.
    package struct ImportCount: Equatable, Sendable {
        /// Messages read.
        package var read = 0
        /// Messages stored; the rest were stored already.
        package var added = 0
    }

    /// Imports messages all or nothing. Every line is read and checked first
    /// into a temporary table (on disk, so memory stays flat), with no lock
    /// on the database, however slowly stdin arrives; then one short write
    /// transaction stores them. A bad line from `next` stores nothing and is
    /// thrown as it came.
    package func importMessages(_ next: () throws(StageError) -> StoredMessage?) throws(StageError) -> ImportCount {
        var count = ImportCount()
        let staged: Result<Int, StageError>
        do {
            staged = try stage(next)
        } catch {
            throw StageError(.storeFailed, "import: \(error.message)")
        }
        count.read = try staged.get()
        do {
            count.added = try storeStaged()
            try db.execute("DROP TABLE temp.staged")
        } catch {
            throw StageError(.storeFailed, "import: \(error.message)")
        }
        return count
    }

    /// Reads every message into `temp.staged` and returns how many; a bad
    /// line is the failure, with nothing staged.
    func stage(_ next: () throws(StageError) -> StoredMessage?) throws(SQLiteError) -> Result<Int, StageError> {
        try db.execute("PRAGMA temp_store = FILE")
        try db.execute("""
            CREATE TEMP TABLE IF NOT EXISTS staged (session TEXT NOT NULL, turn TEXT, role TEXT NOT NULL,
                content TEXT NOT NULL, persona TEXT, mood TEXT, time TEXT NOT NULL)
            """)
        try db.execute("DELETE FROM temp.staged")
        let staging = try db.prepare("INSERT INTO temp.staged VALUES (?, ?, ?, ?, ?, ?, ?)")
        // Staging touches only the connection's own temp database: the
        // shared file stays free for every chat turn meanwhile.
        try db.execute("BEGIN")
        var read = 0
        do {
            while true {
                switch Result(catching: next) {
                case .failure(let badLine):
                    // The line's error is the one to report, whatever the cleanup says.
                    try? db.execute("ROLLBACK")
                    try? db.execute("DROP TABLE temp.staged")
                    return .failure(badLine)
                case .success(nil):
                    try db.execute("COMMIT")
                    return .success(read)
                case .success(let m?):
                    try staging.run(Self.row(m, time: m.message.time ?? SystemTime.nowISO8601()))
                    read += 1
                }
            }
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }

    /// Stores the staged messages in one short write transaction; returns how many were new.
    func storeStaged() throws(SQLiteError) -> Int {
        try db.writeTransaction { () throws(SQLiteError) -> Int in
            let before = try db.prepare("SELECT coalesce(max(id), 0) FROM messages")
            let storedUpTo = try before.step() ? before.int(0) : 0
            let rows = try db.prepare("SELECT session, turn, role, content, persona, mood, time FROM temp.staged ORDER BY rowid")
            var added = 0
            var batch: [StoredMessage] = []
            while try rows.step() {
                batch.append(StoredMessage(session: rows.text(0) ?? "", turn: rows.text(1), message: Self.message(rows, from: 2)))
                if batch.count == 1000 {
                    added += try insert(batch, storedUpTo: storedUpTo)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            return added + (try insert(batch, storedUpTo: storedUpTo))
        }
    }

    /// Every message of a session, oldest first, one at a time.
    package func export(session: String, _ each: (StoredMessage) -> Bool) throws(StageError) {
        do {
            let stmt = try db.prepare("""
                SELECT turn, role, content, persona, mood, time FROM messages WHERE session = ? ORDER BY id
                """)
            try stmt.bind([.text(session)])
            while try stmt.step() {
                let m = StoredMessage(session: session, turn: stmt.text(0), message: Self.message(stmt, from: 1))
                if !each(m) { return }
            }
        } catch {
            throw StageError(.storeFailed, "export: \(error.message)")
        }
    }

    /// Whether the session has a message: the store keeps nothing else of a
    /// session, so one without messages does not exist.
    package func contains(session: String) throws(StageError) -> Bool {
        do {
            let stmt = try db.prepare("SELECT 1 FROM messages WHERE session = ? LIMIT 1")
            try stmt.bind([.text(session)])
            return try stmt.step()
        } catch {
            throw StageError(.storeFailed, "look-up: \(error.message)")
        }
    }

    /// Sessions, most recently active first.
    package func list() throws(StageError) -> [SessionSummary] {
        do {
            let stmt = try db.prepare("SELECT id, messages, last_activity FROM sessions ORDER BY last_activity DESC, id")
            var out: [SessionSummary] = []
            while try stmt.step() {
                out.append(SessionSummary(session: stmt.text(0) ?? "", messages: stmt.int(1), lastActivity: stmt.text(2) ?? ""))
            }
            return out
        } catch {
            throw StageError(.storeFailed, "list: \(error.message)")
        }
    }

    /// Deletes a session; returns how many messages went with it.
    @discardableResult
    package func remove(session: String) throws(StageError) -> Int {
        do {
            return try db.writeTransaction { () throws(SQLiteError) -> Int in
                let delete = try db.prepare("DELETE FROM messages WHERE session = ?")
                try delete.run([.text(session)])
                let removed = db.changes
                try db.prepare("DELETE FROM sessions WHERE id = ?").run([.text(session)])
                // What memory kept of the session goes with it.
                try db.prepare("DELETE FROM facts WHERE session = ?").run([.text(session)])
                try db.prepare("DELETE FROM summaries WHERE session = ?").run([.text(session)])
                try db.prepare("DELETE FROM web_sessions WHERE session = ?").run([.text(session)])
                return removed
            }
        } catch {
            throw StageError(.storeFailed, "rm: \(error.message)")
        }
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    package func integrityCheck() throws(StageError) -> String {
        do {
            let stmt = try db.prepare("PRAGMA integrity_check")
            return try stmt.step() ? (stmt.text(0) ?? "") : ""
        } catch {
            throw StageError(.storeFailed, "integrity check: \(error.message)")
        }
    }
}

/// Where the database lives: `--db`, else `MIRA_DB`, else
/// `$XDG_DATA_HOME/mira/mira.db`, else `~/.local/share/mira/mira.db`.
package enum StoreLocation {
    package static func resolve(explicit: String?, environment: Environment = .process) -> String? {
        if let explicit, !explicit.isEmpty { return explicit }
        if let path = environment["MIRA_DB"] { return path }
        return MiraFolders.data(environment: environment).map { $0 + "/mira.db" }
    }
}
