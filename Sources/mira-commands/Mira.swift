import ArgumentParser
import MiraCLI
import MiraFront
import MiraPrompt
import MiraShared
import MiraSystem

/// The front door for people: one turn (`mira "…"`), a chat (`mira chat`),
/// the log, the sessions and the settings. The same library code as the
/// four filters, in one process.
@main
struct Mira: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mira",
        abstract: "Talk to Mira: one turn, a chat, the log of a session, the settings.",
        discussion: """
            mira "message" continues the current session (the first call starts one and remembers it) and prints the reply. mira chat talks turn after turn.

              mira "rough day, my boss yelled at me"
              mira -s work --persona haven "I can't breathe"      (see: mira say --help)
              mira chat
              mira log

            Settings: flags, else the environment, else the config file (mira config path). The same settings as the filters: OPENAI_BASE_URL, OPENAI_API_KEY, MIRA_MODEL, and the rest of the README's table.

            Exit status: 0; 1 mira config get of an unset name; 64 usage; 66 no such session; 69 the server cannot be reached; 70 mira-commands is missing (install again); 74 the database cannot be written; 75 the server kept failing; 76 its answer is not a valid reply; 77 the key was refused; 78 the config file holds a wrong line.
            """,
        version: MiraVersion.line("mira"),
        subcommands: [Say.self, Chat.self, Log.self, Sessions.self, Config.self, SummarizeLater.self],
        defaultSubcommand: Say.self)

    static func main() {
        let given = Array(CommandLine.arguments.dropFirst())
        // `mira config` must run with a broken file: it is how the file is mended.
        if given.first == "config" { Platform.prepareProcess() } else { Startup.prepare(stage: "mira") }
        if CompletionShape.handles(given) { CompletionShape.main(given); return }
        main(arguments(given))
    }

    /// A message is never an option ("-5 degrees out"): for a turn, words
    /// that are not Say's options move behind `--`; subcommands parse as usual.
    static func arguments(_ given: [String]) -> [String] {
        if given.first == "say" { return ["say"] + MessageArguments.rearranged(Array(given.dropFirst()), valueOptions: Say.valueOptions, flags: Say.flags) }
        if let first = given.first, TurnOptions.subcommandNames.contains(first) { return given }
        if given.contains("--generate-completion-script") || given.contains("--experimental-dump-help") || given.first?.hasPrefix("---") == true {
            return given
        }
        return MessageArguments.rearranged(given, valueOptions: Say.valueOptions, flags: Say.flags)
    }
}
