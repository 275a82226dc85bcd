import ArgumentParser

/// `mira` as the shells complete it. `say` is the default command, so a
/// turn's options come straight after `mira` (`mira --persona haven "hi"`),
/// but argument parser's completion scripts know nothing of a default
/// command: at `mira --persona <TAB>` they would offer the subcommands.
/// So `mira --generate-completion-script` makes the scripts from this shape,
/// Say's options at the top and then the same subcommands, and it answers
/// the scripts' questions (`mira ---completion ...`) too.
/// Its options must stay Say's; an end-to-end test compares the two.
struct CompletionShape: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mira",
        version: Mira.configuration.version,
        subcommands: Mira.configuration.subcommands)

    // What fish shows beside each option: Say's words, shorter.
    @Option(name: [.short, .customLong("session")], help: ArgumentHelp("Talk in this session.", valueName: "id"), completion: .custom(Completions.sessions))
    var session: String?
    @Flag(help: "Start a new session.") var new = false
    @Option(help: ArgumentHelp("Force this persona for the turn.", valueName: "name"), completion: .custom(Completions.personas))
    var persona: String?
    @Option(help: "The model to ask.") var model: String?
    @Flag(help: "Print the pipeline that does the same turn.") var explain = false

    /// Whether these arguments ask for a completion script or a completion.
    static func handles(_ arguments: [String]) -> Bool {
        arguments.contains("--generate-completion-script") || arguments.first?.hasPrefix("---completion") == true
    }
}
