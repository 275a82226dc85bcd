import MiraShared
import MiraSystem

/// A session as one web identity sees it: its own sessions only, with
/// those that have no message yet (a conversation just started).
package struct WebSession: Equatable, Sendable {
    package var session: String
    package var messages: Int
    /// The last message's time, else when the session was started.
    package var lastActivity: String
}

/// Which web identity owns which session (table `web_sessions`). A session
/// belongs to the identity that started it and to no other; sessions never
/// started on the web belong to no identity, so no browser can read them.
extension SessionStore {
    /// Starts a session owned by `identity` and returns its id.
    package func startWebSession(identity: String) throws(StageError) -> String {
        let id = Identifiers.newSessionID()
        do {
            try db.writeTransaction { () throws(SQLiteError) in
                try db.prepare("INSERT INTO web_sessions (session, identity, created) VALUES (?, ?, ?)")
                    .run([.text(id), .text(identity), .text(SystemTime.nowISO8601())])
            }
        } catch {
            throw StageError(.storeFailed, "new web session: \(error.message)")
        }
        return id
    }

    /// Whether `session` is `identity`'s own.
    package func webSession(_ session: String, isOwnedBy identity: String) throws(StageError) -> Bool {
        do {
            let stmt = try db.prepare("SELECT 1 FROM web_sessions WHERE session = ? AND identity = ?")
            try stmt.bind([.text(session), .text(identity)])
            return try stmt.step()
        } catch {
            throw StageError(.storeFailed, "web session look-up: \(error.message)")
        }
    }

    /// The identity's sessions, most recently active first.
    package func webSessions(identity: String) throws(StageError) -> [WebSession] {
        do {
            let stmt = try db.prepare("""
                SELECT w.session, coalesce(s.messages, 0), coalesce(s.last_activity, w.created) AS last
                FROM web_sessions w LEFT JOIN sessions s ON s.id = w.session
                WHERE w.identity = ? ORDER BY last DESC, w.session
                """)
            try stmt.bind([.text(identity)])
            var out: [WebSession] = []
            while try stmt.step() {
                out.append(WebSession(session: stmt.text(0) ?? "", messages: stmt.int(1), lastActivity: stmt.text(2) ?? ""))
            }
            return out
        } catch {
            throw StageError(.storeFailed, "web sessions: \(error.message)")
        }
    }
}
