#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiraShared

/// What every Mira process sets up before it reads a line.
package enum Platform {
    /// A closed pipe downstream (`| head -1`) must be a write error the
    /// command reports (exit 74, one stderr line), never SIGPIPE killing it
    /// between two records, or in save's case between two stored turns.
    package static func prepareProcess() {
        signal(SIGPIPE, SIG_IGN)
    }
}
