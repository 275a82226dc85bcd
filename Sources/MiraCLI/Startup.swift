import MiraShared
import MiraSystem

/// What every executable does first, before it parses its command line.
package enum Startup {
    /// Sets the process up (`Platform.prepareProcess`) and checks the config
    /// file: one that cannot be read, or holds a wrong line, ends the command
    /// with one stderr line naming the file, the line and the cause, and
    /// status 78, before a setting from it could be half used. An absent file
    /// is fine.
    package static func prepare(stage: String) {
        Platform.prepareProcess()
        if case .failure(let problem) = ConfigFile.ofThisProcess {
            fatal(stage: stage, message(for: problem), status: .config)
        }
    }

    /// `~/.config/mira/config line 3: unknown setting MIRA_MODLE (did you
    /// mean MIRA_MODEL?)`, and what to do about it.
    package static func message(for problem: ConfigProblem) -> String {
        let next = problem.line == nil
            ? "make it a readable plain file, or remove it" : "fix the line (NAME=value) or remove it"
        return problem.described(home: Environment.variables["HOME"]) + "; " + next
    }
}
