import MiraShared
import MiraSystem

/// Whose conversations and memories these are. One database serves the
/// person at the command line and, through `mira-serve`, any number of
/// browsers; a turn remembers only within its own realm, so a stranger's
/// "my name is Bob" never replaces the owner's name, and no browser's words
/// reach another's prompt.
///
/// A session's realm is its row in `web_sessions`: a browser's identity
/// there makes it that browser's; no row (every session `mira` and the
/// filters write), or the empty identity (one the owner started in a
/// browser), makes it the local person's. The command-line *views*
/// (`mira-store list`, `mira-memory facts`, …) still show every realm.
package enum Realm: Hashable, Sendable {
    /// The person who runs Mira here: the command line, and a browser that
    /// opened mira-serve's owner link.
    case local
    /// One browser, by the identity in its cookie (64 hex digits).
    case browser(String)

    /// As stored in `web_sessions.identity`: "" for the local person.
    package var key: String {
        switch self {
        case .local: ""
        case .browser(let identity): identity
        }
    }

    package init(key: String) {
        self = key.isEmpty ? .local : .browser(key)
    }

    /// SQL for the realm key of the session named by `column` (a
    /// primary-key look-up per row).
    static func keyOf(_ column: String) -> String {
        "coalesce((SELECT identity FROM web_sessions WHERE session = \(column)), '')"
    }
}

extension Connection {
    /// The realm `session` belongs to (local when no browser owns it).
    func realm(of session: String) throws(SQLiteError) -> Realm {
        let stmt = try prepare("SELECT identity FROM web_sessions WHERE session = ?")
        try stmt.bind([.text(session)])
        guard try stmt.step() else { return .local }
        return Realm(key: stmt.text(0) ?? "")
    }

    /// Every message in sessions of realms other than `realm`: what a
    /// search over the whole database must leave out. Empty, and one index
    /// step, while no browser has talked.
    func messageIDs(outside realm: Realm) throws(SQLiteError) -> Set<Int64> {
        let stmt = try prepare("""
            SELECT m.id FROM web_sessions w JOIN messages m ON m.session = w.session WHERE w.identity <> ?
            """)
        try stmt.bind([.text(realm.key)])
        var ids: Set<Int64> = []
        while try stmt.step() { ids.insert(Int64(stmt.int(0))) }
        return ids
    }
}

extension SessionStore {
    /// The realm `session` belongs to.
    package func realm(of session: String) throws(StageError) -> Realm {
        do {
            return try db.realm(of: session)
        } catch {
            throw StageError(.storeFailed, "realm of \(session): \(error.message)")
        }
    }
}

extension MemoryStore {
    /// The messages of every realm but `realm`, which a search of it over
    /// the whole database leaves out: for a caller that runs both rankings,
    /// so the look-up is made once.
    package func messages(outside realm: Realm) throws(StageError) -> Set<Int64> {
        do {
            return try db.messageIDs(outside: realm)
        } catch {
            throw Self.failure("other people's messages", error)
        }
    }

    /// The realm `session` belongs to.
    package func realm(of session: String) throws(StageError) -> Realm {
        do {
            return try db.realm(of: session)
        } catch {
            throw Self.failure("realm of \(session)", error)
        }
    }
}
