import MiraShared
import MiraSystem

/// The session `mira "…"` and `mira chat` continue when none is named: one
/// line in `$XDG_STATE_HOME/mira/current-session`, so "where we left off"
/// survives the shell. Kept out of the database, which other front ends
/// (and the filters) share.
package struct CurrentSession: Sendable {
    package let path: String

    package init(path: String) {
        self.path = path
    }

    /// The file in the state folder; nil when neither XDG_STATE_HOME nor HOME is set.
    package static func located(environment: Environment = .process) -> CurrentSession? {
        MiraFolders.state(environment: environment).map { CurrentSession(path: $0 + "/current-session") }
    }

    /// The remembered id; nil when there is none or the file holds no valid id.
    package func read() -> String? {
        guard case .success(let bytes) = Files.readRegularFile(path: path, limit: 4096) else { return nil }
        var text = String(decoding: bytes, as: UTF8.self)
        while text.last?.isWhitespace == true { text.removeLast() }
        guard (try? Identifiers.validateSession(text)) != nil else { return nil }
        return text
    }

    /// Remembers `session` as the one to continue.
    package func remember(_ session: String) -> Result<Void, FileProblem> {
        let folder = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !folder.isEmpty && !Files.makeDirectories(folder) {
            return .failure(FileProblem(reason: "cannot make the folder \(folder)"))
        }
        return Files.replace(path: path, with: Array((session + "\n").utf8))
    }
}
