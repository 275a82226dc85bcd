import MiraPrompt
import MiraSQLite
import MiraShared
import MiraSystem

/// Candidates for the shell completion scripts (`mira --generate-completion-script`):
/// the generated script asks the binary, which reads them live.
enum Completions {
    /// Session ids in the database, most recent first; none when it cannot be read.
    @Sendable static func sessions(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        guard let path = StoreLocation.resolve(explicit: nil),
              let store = try? SessionStore(path: path, access: .readOnly),
              let sessions = try? store.list()
        else { return [] }
        return sessions.map(\.session).filter { $0.hasPrefix(prefix) }
    }

    /// The persona names (built-in and the person's folder). Not `auto`: that is
    /// a word of /persona inside a chat, not a value of --persona.
    @Sendable static func personas(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        var registry = PersonaRegistry()
        if let dir = PersonaRegistry.userDirectory() { _ = registry.load(directory: dir) }
        return registry.names.filter { $0.hasPrefix(prefix) }
    }
}
