import MiraPrompt

/// Candidates for the shell completion scripts (`mira-prompt --generate-completion-script`):
/// the generated script asks the binary, which reads them live.
enum Completions {
    /// The persona names, built-in and from the person's personas folder
    /// (files it would skip are left out, silently: this is a completion).
    @Sendable static func personas(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        PersonaRegistry.withUserFolder { _, _ in }.names.filter { $0.hasPrefix(prefix) }
    }
}
