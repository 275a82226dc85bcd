#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Ctrl-C and SIGTERM for a batch: every thread blocks them and one thread
/// waits for them, so a signal is handled between writes, never inside one.
package enum Interruptions {
    static var signals: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        return set
    }

    /// Call before any thread starts, so every thread inherits the mask.
    package static func block() {
        var set = signals
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Starts the thread that waits for a signal, calling `body(signal)`; with
    /// `every`, it also calls `body(nil)` at that many milliseconds (progress).
    package static func watch(every milliseconds: Int?, _ body: @escaping @Sendable (Int32?) -> Void) {
        startThread {
            var set = signals
            while true {
                if let milliseconds {
                    var wait = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
                    let signal = sigtimedwait(&set, nil, &wait)
                    body(signal > 0 ? signal : nil)
                } else {
                    var signal: Int32 = 0
                    if sigwait(&set, &signal) == 0 { body(signal) }
                }
            }
        }
    }

    /// Parks the calling thread until a signal arrives: for the main thread
    /// while the signal's thread writes the summary and ends the process.
    package static func park() {
        pause()
    }
}
