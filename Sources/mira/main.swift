#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiraCLI
import MiraFront
import MiraShared
import MiraSystem

// `mira`: the usual turn (`mira "message"` with -s, --new, --persona,
// --model, --explain) runs in this process. Everything else (help, the
// version, chat, log, sessions, config, completions, a command line to
// refuse with its usage) is `mira-commands`, which takes this process's
// place. The split keeps the argument parser, and the Foundation it links,
// out of a turn: loading them was about 5% of a turn's CPU (bench/README.md).

/// Runs `mira-commands` with this command line, in this process; it is
/// found beside this program (a build folder, or bin/ in an older install)
/// or in ../libexec/mira/ (`make install`).
func handOver() -> Never {
    let folder = ExecutablePath.folder() ?? "."
    let candidates = [folder + "/mira-commands", folder + "/../libexec/mira/mira-commands"]
    for path in candidates where access(path, X_OK) == 0 {
        execv(path, CommandLine.unsafeArgv)
        fatal(stage: Setup.stage, "cannot start \(path): \(Files.describe(errno: errno))", status: .software)
    }
    fatal(stage: Setup.stage, "mira-commands is missing (looked in \(folder) and \(folder)/../libexec/mira): build or install Mira again (make install)", status: .software)
}

let given = Array(CommandLine.arguments.dropFirst())
if let first = given.first, TurnOptions.subcommandNames.contains(first) || first.hasPrefix("---") { handOver() }
if given.contains("--generate-completion-script") || given.contains("--experimental-dump-help") { handOver() }
Startup.prepare(stage: Setup.stage)
guard let turn = TurnOptions.quicklyParsed(given), (try? turn.validate(quietly: true)) != nil else { handOver() }
// A usage error comes before the turn changes anything (no message given):
// mira-commands says it with the usage.
do { try turn.run() } catch { handOver() }
// The reply is written and the database closed (its checkpoint done): what
// is left, libcurl's and OpenSSL's clean-up and the libraries' destructors,
// only frees memory the kernel takes back anyway (a few percent of a turn's
// CPU time: bench/README.md).
exitAtOnce(0)
