#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// Ctrl-C for an interactive chat: the signal only raises a flag, which the
/// turn in flight checks (its transfer and its waits), so the chat cancels
/// that turn and carries on instead of dying. Installed without SA_RESTART,
/// so a read at the prompt returns at once with EINTR.
package enum TurnInterrupt {
    static let raised = Atomic<Bool>(false)

    /// From now on SIGINT raises the flag instead of ending the process.
    package static func install() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in TurnInterrupt.raised.store(true, ordering: .relaxed) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
    }

    /// Whether Ctrl-C came since the last `reset`.
    package static var isRaised: Bool { raised.load(ordering: .relaxed) }

    package static func reset() { raised.store(false, ordering: .relaxed) }

    /// Sleeps up to `milliseconds`, waking early when Ctrl-C comes.
    package static func sleep(milliseconds: Int) {
        var left = milliseconds
        while left > 0 && !isRaised {
            let slice = min(left, 50)
            SystemTime.sleep(milliseconds: slice)
            left -= slice
        }
    }
}
