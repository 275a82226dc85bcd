#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiraShared

/// Environment variables, passed in so the core can be tested with plain values.
package struct Environment: Sendable {
    let lookup: @Sendable (String) -> String?

    package init(_ values: [String: String]) {
        lookup = { values[$0] }
    }

    init(lookup: @escaping @Sendable (String) -> String?) {
        self.lookup = lookup
    }

    /// This process's variables alone: what finds the config file, which
    /// must not be looked for through itself.
    package static let variables = Environment { name in
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    /// This process's settings: its variables over its config file, what
    /// every tool reads. A file that cannot be used adds nothing here; the
    /// executables refuse to start with it (`Startup.prepare`).
    package static let process = Environment(variables, over: (try? ConfigFile.ofThisProcess.get()) ?? ConfigFile())

    /// `variables` over `file`: a variable that is set wins, even set empty,
    /// so `OPENAI_API_KEY= mira-llm` switches off a key the file holds. Only
    /// the known settings come from the file.
    package init(_ variables: Environment, over file: ConfigFile) {
        lookup = { name in
            if let value = variables.lookup(name) { return value }
            return KnownSetting.named(name) == nil ? nil : file[name]
        }
    }

    /// The value, or nil when unset or empty.
    package subscript(name: String) -> String? {
        guard let v = lookup(name), !v.isEmpty else { return nil }
        return v
    }
}

/// Mira's folders, by the XDG base-directory rules: a variable counts only
/// when it holds an absolute path; else the default under `$HOME`. The one
/// place these paths are worked out.
package enum MiraFolders {
    /// `$XDG_DATA_HOME/mira`, else `~/.local/share/mira`: the store and the reply cache.
    package static func data(environment: Environment = .process) -> String? {
        folder("XDG_DATA_HOME", default: "/.local/share", environment)
    }

    /// `$XDG_CONFIG_HOME/mira`, else `~/.config/mira`: the config file and persona files.
    package static func config(environment: Environment = .process) -> String? {
        folder("XDG_CONFIG_HOME", default: "/.config", environment)
    }

    /// `$XDG_STATE_HOME/mira`, else `~/.local/state/mira`: the current
    /// session and the chat's input history.
    package static func state(environment: Environment = .process) -> String? {
        folder("XDG_STATE_HOME", default: "/.local/state", environment)
    }

    static func folder(_ variable: String, default fallback: String, _ environment: Environment) -> String? {
        if let base = environment[variable], base.hasPrefix("/") { return base + "/mira" }
        guard let home = environment["HOME"] else { return nil }
        return home + fallback + "/mira"
    }
}
