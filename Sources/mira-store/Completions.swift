import MiraSQLite
import MiraShared
import MiraSystem

/// Candidates for the shell completion scripts (`mira-store --generate-completion-script`):
/// the generated script asks the binary, which reads them live.
enum Completions {
    /// Session ids in the database, most recent first; none when it cannot be
    /// read. The database is the one the command line names with `--db`
    /// (as typed, `~/` expanded), else $MIRA_DB, else the default.
    @Sendable static func sessions(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        guard let path = StoreLocation.resolve(explicit: database(in: words, before: index)),
              let store = try? SessionStore(path: path, access: .readOnly),
              let sessions = try? store.list()
        else { return [] }
        return sessions.map(\.session).filter { $0.hasPrefix(prefix) }
    }

    /// The value of `--db PATH` or `--db=PATH` among the words before the one
    /// being completed. Shells pass words verbatim: a quoted path is not
    /// unquoted here, and then no session is offered.
    static func database(in words: [String], before index: Int) -> String? {
        var found: String?
        let given = Array(words.prefix(max(0, index)))
        for (i, word) in given.enumerated() {
            if word == "--db", i + 1 < given.count {
                found = given[i + 1]
            } else if word.hasPrefix("--db=") {
                found = String(word.dropFirst("--db=".count))
            }
        }
        guard var path = found, !path.isEmpty else { return nil }
        if path.hasPrefix("~/"), let home = Environment.process["HOME"] {
            path = home + path.dropFirst(1)
        }
        return path
    }
}
