#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiraShared
import MiraSystem

/// One line on stderr, `STAGE: line N: cause`: the executables' diagnostics.
package func report(stage: String, line: Int?, _ message: String) {
    Diagnostics.standardError.report(stage: stage, line: line, message)
}

/// Ends a command that cannot go on: one line on stderr and the status a
/// script can act on. Only the executables decide to exit; this is theirs.
package func fatal(stage: String, _ message: String, status: Sysexit) -> Never {
    report(stage: stage, line: nil, message)
    exit(status.rawValue)
}

/// Ends the process now, without running exit handlers or flushing
/// anything: for a signal's thread while other threads may be writing.
package func exitAtOnce(_ status: Int32) -> Never {
    _exit(status)
}
