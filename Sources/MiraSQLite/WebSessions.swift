import MiraShared
import MiraSystem

/// A session as one realm sees it on the web, with those that have no
/// message yet (a conversation just started).
package struct WebSession: Equatable, Sendable {
    package var session: String
    package var messages: Int
    /// The last message's time, else when the session was started.
    package var lastActivity: String
    /// The first thing the person said in it, cut to `WebSession.titleLength`
    /// characters; "" while it is empty.
    package var title: String

    package static let titleLength = 60
}

/// Which realm owns which session (table `web_sessions`, see `Realm`). A
/// session started in a browser belongs to that browser and to no other;
/// the local person (the owner link) sees every session no browser owns,
/// which is every session `mira` started.
extension SessionStore {
    /// Starts a session owned by `realm` and returns its id.
    package func startWebSession(realm: Realm) throws(StageError) -> String {
        let id = Identifiers.newSessionID()
        do {
            try db.writeTransaction { () throws(SQLiteError) in try insertWebSession(id, realm: realm) }
        } catch {
            throw StageError(.storeFailed, "new web session: \(error.message)")
        }
        return id
    }

    /// Records session `id` as `realm`'s, inside the caller's transaction.
    func insertWebSession(_ id: String, realm: Realm) throws(SQLiteError) {
        try db.reusing("INSERT INTO web_sessions (session, identity, created) VALUES (?, ?, ?)") { (insert) throws(SQLiteError) in
            try insert.run([.text(id), .text(realm.key), .text(SystemTime.nowISO8601())])
        }
    }

    /// Whether `session` exists and is `realm`'s own.
    package func webSession(_ session: String, isIn realm: Realm) throws(StageError) -> Bool {
        do {
            return try db.reusing("""
                SELECT 1 WHERE \(Realm.keyOf("?1")) = ?2
                    AND (EXISTS (SELECT 1 FROM web_sessions WHERE session = ?1) OR EXISTS (SELECT 1 FROM sessions WHERE id = ?1))
                """) { (stmt) throws(SQLiteError) in
                try stmt.bind([.text(session), .text(realm.key)])
                return try stmt.step()
            }
        } catch {
            throw StageError(.storeFailed, "web session look-up: \(error.message)")
        }
    }

    /// The realm's sessions, most recently active first; the first `limit`
    /// only when given (a turn asks for the latest alone: the local person's
    /// may be thousands).
    package func webSessions(realm: Realm, limit: Int? = nil) throws(StageError) -> [WebSession] {
        do {
            let stmt = try db.prepare("""
                SELECT o.session, o.messages, o.last,
                    coalesce((SELECT substr(content, 1, \(WebSession.titleLength)) FROM messages
                              WHERE session = o.session AND role = 'user' ORDER BY id LIMIT 1), '')
                FROM (\(Self.sessionsSQL(of: realm))) o ORDER BY o.last DESC, o.session LIMIT ?
                """)
            try stmt.bind([.text(realm.key), SQLValue(limit ?? -1)])
            var out: [WebSession] = []
            while try stmt.step() {
                out.append(WebSession(session: stmt.text(0) ?? "", messages: stmt.int(1), lastActivity: stmt.text(2) ?? "",
                                      title: stmt.text(3) ?? ""))
            }
            return out
        } catch {
            throw StageError(.storeFailed, "web sessions: \(error.message)")
        }
    }

    /// The realm's most recently active session (the first of
    /// `webSessions`), without its title: every turn that names no session
    /// asks for it.
    package func latestWebSession(realm: Realm) throws(StageError) -> String? {
        do {
            return try db.reusing("""
                SELECT o.session FROM (\(Self.sessionsSQL(of: realm))) o ORDER BY o.last DESC, o.session LIMIT 1
                """) { (stmt) throws(SQLiteError) in
                try stmt.bind([.text(realm.key)])
                return try stmt.step() ? stmt.text(0) : nil
            }
        } catch {
            throw StageError(.storeFailed, "web sessions: \(error.message)")
        }
    }

    /// The realm's sessions as rows (session, messages, last), for the realm
    /// key bound to the first parameter. A browser's sessions are all in
    /// web_sessions; the local person's are those plus every stored session
    /// no browser owns.
    static func sessionsSQL(of realm: Realm) -> String {
        let local = realm == .local ? """
            UNION ALL SELECT s.id, s.messages, s.last_activity FROM sessions s
            WHERE NOT EXISTS (SELECT 1 FROM web_sessions w WHERE w.session = s.id)
            """ : ""
        return """
            SELECT w.session, coalesce(s.messages, 0) AS messages, coalesce(s.last_activity, w.created) AS last
            FROM web_sessions w LEFT JOIN sessions s ON s.id = w.session WHERE w.identity = ?1
            \(local)
            """
    }
}
