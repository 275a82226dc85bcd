#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MiraSystem

@Suite struct OpenFileLimitRaising {
    func hardLimit() -> Int {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        return Int(clamping: limit.rlim_max)
    }

    @Test func itNeverLowersTheLimitAndRaisesItNoFurtherThanTheHardOne() {
        let before = OpenFileLimit.raise(toward: 0)
        #expect(before > 0)
        // Asking for less leaves it as it was.
        #expect(OpenFileLimit.raise(toward: 1) == before)
        // Asking for one more gets it, when the hard limit has room.
        let hard = hardLimit()
        #expect(OpenFileLimit.raise(toward: before + 1) == min(before + 1, hard))
        // Asking for more than there is stops at the hard limit.
        #expect(OpenFileLimit.raise(toward: Int.max) == hard)
    }
}
