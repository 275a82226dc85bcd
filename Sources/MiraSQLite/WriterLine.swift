import MiraSystem
import Synchronization

/// This process's writers of one database file, one at a time. SQLite's
/// busy wait polls with sleeps of up to 100 ms, so when many connections of
/// one process write at once (mira-serve's workers, each with its own), a
/// writer can sleep through many chances and wait seconds while later ones
/// go first; waiting here instead, the next writer wakes as soon as the last
/// one is done. Other processes still meet at SQLite's lock and busy wait.
enum WriterLine {
    private static let lines = Mutex<[String: Monitor]>([:])

    /// The line for the file at `path` (one per path as given).
    static func line(for path: String) -> Monitor {
        lines.withLock { lines in
            if let line = lines[path] { return line }
            let line = Monitor()
            lines[path] = line
            return line
        }
    }
}
