#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSpawn
import MiraShared

/// Work a person should not wait for (a session's summary after a reply):
/// this very program started again in its own session, detached from the
/// terminal, its stdin /dev/null and its output appended to a log file.
package enum Background {
    /// Starts `/proc/self/exe arguments…`; returns false when it could not.
    /// The child inherits the environment (so the same settings hold) and
    /// is never waited for: it is reparented when this process exits.
    @discardableResult
    package static func start(_ arguments: [String], log: String) -> Bool {
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of its caller's: a pipe the caller gave this process
        // (fd 3, a make jobserver) must not stay open while a summary is written,
        // or whoever reads that pipe waits for the summary too.
        mira_spawn_close_from(&actions, 3)
        // Its own session: a Ctrl-C or a closed terminal does not reach it.
        posix_spawnattr_setflags(&attributes, mira_spawn_new_session)
        let program = "/proc/self/exe"
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        return posix_spawn(&pid, program, &actions, &attributes, argv, environ) == 0
    }
}
