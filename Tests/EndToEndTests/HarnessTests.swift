import Foundation
import Testing

/// The harness itself: what every end-to-end test relies on to end.
@Suite struct HarnessTests {
    /// A descriptor this process has open without close-on-exec (any of
    /// Foundation's pipes, any test's) is not in a command's shell: a
    /// long-lived process there would keep the other test's pipe open.
    @Test func aCommandHoldsNoneOfTheTestProcesssDescriptors() throws {
        let world = try World()
        let pipe = Pipe()
        let fd = pipe.fileHandleForWriting.fileDescriptor
        try #require(fcntl(fd, F_GETFD) & FD_CLOEXEC == 0, "the check below would prove nothing")
        let result = try world.sh("[ -e /proc/$$/fd/\(fd) ] && echo inherited || echo closed")
        #expect(result.stdout == "closed\n")
    }

    /// A command still running at its deadline is killed with what it
    /// started, and the test fails naming it, instead of the run hanging.
    @Test func aCommandPastItsDeadlineIsKilledAndNamed() throws {
        let world = try World()
        do {
            let result = try world.sh("echo started; sleep 300 & sleep 300; echo never", timeout: 1)
            Issue.record("returned instead of throwing: \(result)")
        } catch let error as WorldError {
            #expect(error.message.hasPrefix("still running after 1 s, killed: "), "\(error.message)")
            #expect(error.message.contains("sleep 300 & sleep 300") && error.message.contains("its stdout: started\n"))
        }
    }
}
