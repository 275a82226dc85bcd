import MiraShared
import MiraSQLite
import MiraSystem

/// mira-serve's saves, committed in groups on a connection of their own.
/// Saves are one at a time whatever the threads (SQLite has one writer),
/// and each commit pays an `fdatasync`: 200 turns finishing together waited
/// in a line of 200 commits, the last some 200 ms. Grouped, the turns that
/// wait while one commit runs go in together in the next (each under its
/// own savepoint, so still whole or not at all), and a worker answers its
/// client only once its turn is committed.
final class TurnSaves: @unchecked Sendable {
    private let group: GroupCommit<(record: Record, session: String?), Result<Bool, StageError>>

    /// `store` is used by the group's thread only, from now on.
    init(store: SessionStore) {
        group = GroupCommit { turns in store.save(turns: turns) }
    }

    /// Saves a finished turn and returns once it is committed (or failed).
    func save(_ record: Record, session: String) throws(StageError) {
        _ = try group.submit((record, session)).get()
    }
}
