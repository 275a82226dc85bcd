#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How many files this process may have open at once (RLIMIT_NOFILE).
package enum OpenFileLimit {
    /// Raises the soft limit toward `wanted`, as far as the hard limit
    /// allows (a server's threads each hold a few files; many systems start
    /// processes at 1,024). Returns the soft limit in force afterwards.
    @discardableResult
    package static func raise(toward wanted: Int) -> Int {
        #if canImport(Glibc)
        let files = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let files = RLIMIT_NOFILE
        #endif
        var limit = rlimit()
        guard getrlimit(files, &limit) == 0 else { return -1 }
        let target = min(rlim_t(wanted), limit.rlim_max)
        if limit.rlim_cur < target {
            var raised = limit
            raised.rlim_cur = target
            if setrlimit(files, &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }
}
