import MiraShared
import MiraSQLite
import MiraSystem

/// mira-serve's writes (finished turns, new sessions), committed in groups
/// on a connection of their own. SQLite has one writer at a time whatever
/// the threads, and each commit pays an `fdatasync`: 200 clients starting
/// together waited in a line of 400 commits (a session, then a turn each),
/// the last some 300 ms. Grouped, the writes that wait while one commit runs
/// go in together in the next, each under its own savepoint (still whole or
/// not at all), and a worker answers its client only once its write is
/// committed.
package final class GroupedWrites: @unchecked Sendable {
    private let group: GroupCommit<GroupedWrite, Result<Bool, StageError>>

    /// `store` is used by the group's thread only, from now on.
    init(store: SessionStore) {
        group = GroupCommit { writes in store.write(together: writes) }
    }

    /// Saves a finished turn; returns once it is committed (or failed).
    /// `opening`: the realm of the session when this turn starts it. The
    /// turn is checked here, on the caller's thread: the group's thread,
    /// which every turn waits for, only writes.
    func save(_ record: Record, session: String, opening realm: Realm?) throws(StageError) {
        let rows = try TurnRows(record: record, session: session, opening: realm)
        _ = try group.submit(.rows(rows)).get()
    }

    /// Starts a session owned by `realm` and returns its id, once committed.
    func startSession(_ realm: Realm) throws(StageError) -> String {
        let id = Identifiers.newSessionID()
        _ = try group.submit(.webSession(id, realm)).get()
        return id
    }
}
