import ArgumentParser
import MiraCLI
import MiraShared
import MiraSystem

/// `mira config`: the settings file every tool reads, seen and changed
/// without an editor. It runs even when the file holds a wrong line, so
/// `mira config unset NAME` can mend it.
struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "See and change the settings file every Mira tool reads.",
        discussion: """
            The file holds NAME=value lines with the environment variables' names. A flag
            beats the environment, which beats the file. Names: \(KnownSetting.names.joined(separator: ", ")).
            """,
        subcommands: [Set.self, Get.self, Unset.self, List.self, Path.self])

    static func store() -> ConfigStore {
        guard let store = ConfigStore.located() else {
            fatal(stage: "mira config", "no config folder: set XDG_CONFIG_HOME or HOME", status: .usage)
        }
        return store
    }

    /// A problem's one line, and the status that fits it.
    static func fail(_ problem: ConfigProblem) -> Never {
        let status: Sysexit = switch problem.kind {
        case .unreadable, .badLine: .config
        case .badSetting: .usage
        case .unwritable: .ioError
        }
        fatal(stage: "mira config", problem.described(home: Environment.variables["HOME"]), status: status)
    }

    static func write(_ line: String) {
        if !LineWriter.standardOutput.writeLine(line) {
            fatal(stage: "mira config", "cannot write to standard output", status: .ioError)
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Set NAME to VALUE in the file (created 0600 when absent).")
        @Argument(help: "The setting's name, e.g. OPENAI_BASE_URL.", completion: .list(KnownSetting.names)) var name: String
        @Argument(help: "Its value, exactly as it should be read.") var value: String

        func run() {
            do { try Config.store().set(name, to: value) } catch { Config.fail(error) }
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "get",
            abstract: "Print the value NAME has for the tools (the environment's, else the file's).",
            discussion: "Exit 1 when neither sets it. A secret is printed only with --show-secret.")
        @Argument(help: "The setting's name.", completion: .list(KnownSetting.names)) var name: String
        @Flag(help: "Print a secret (such as OPENAI_API_KEY) in full.") var showSecret = false

        func run() throws {
            // The file is read first, so a wrong name or line is said, not taken for "unset".
            do { _ = try Config.store().get(name) } catch { Config.fail(error) }
            guard let value = Environment.process[name] else { throw ExitCode(1) }
            Config.write(KnownSetting.isSecret(name) && !showSecret ? KnownSetting.redacted(value) : value)
        }
    }

    struct Unset: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "unset", abstract: "Remove NAME from the file.")
        @Argument(help: "The setting's name.", completion: .list(KnownSetting.names)) var name: String

        func run() {
            do {
                if try !Config.store().unset(name) {
                    report(stage: "mira config", line: nil, "\(name) was not set in the file")
                }
            } catch {
                Config.fail(error)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Print the file's settings as NAME=value lines, secrets hidden.")
        @Flag(help: "Show secrets in full.") var showSecrets = false

        func run() {
            do {
                for entry in try Config.store().list(redacted: !showSecrets) { Config.write("\(entry.name)=\(entry.value)") }
            } catch {
                Config.fail(error)
            }
        }
    }

    struct Path: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "path", abstract: "Print the file's path (it may not exist yet).")
        func run() { Config.write(Config.store().path) }
    }
}
