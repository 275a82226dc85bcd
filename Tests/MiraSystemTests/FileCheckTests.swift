#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Testing
import MiraShared
@testable import MiraSystem
import MiraTestSupport

@Suite struct DatabaseFileChecks {
    func mode(_ path: String) -> mode_t {
        var info = stat()
        precondition(stat(path, &info) == 0)
        return info.st_mode & 0o777
    }

    @Test func aRegularFileIsOneAndStaysOwnerOnly() {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        folder.write("mira.db", "")
        let path = folder.path + "/mira.db"
        #expect(Files.status(of: path) == .regularFile)
        #expect(Files.prepareOwnerOnly(path) == .regularFile)
        #expect(mode(path) == 0o600)
        #expect(Files.isWritable(path))
        #expect(!Files.isOnReadOnlyMount(path))
    }

    @Test func aMissingFileIsMissingUntilPreparedThenCreatedOwnerOnly() {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.path + "/new.db"
        #expect(Files.status(of: path) == .missing)
        #expect(!Files.isWritable(path))
        #expect(Files.prepareOwnerOnly(path) == .regularFile)
        #expect(mode(path) == 0o600)
    }

    @Test func aFolderIsNotADatabaseFile() {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        #expect(Files.status(of: folder.path) == .notRegular)
        // Opening a folder to write fails before it can be looked at.
        #expect(Files.prepareOwnerOnly(folder.path) == .unreachable(FileProblem(errno: EISDIR)))
    }

    @Test func aPathThroughAFileIsUnreachable() {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        folder.write("plain", "")
        #expect(Files.status(of: folder.path + "/plain/mira.db") == .unreachable(FileProblem(errno: ENOTDIR)))
    }

    @Test func aFileOthersCanReadIsClosedUpTo0600() {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        folder.write("mira.db", "")
        let path = folder.path + "/mira.db"
        #expect(chmod(path, 0o644) == 0)
        #expect(Files.prepareOwnerOnly(path) == .regularFile)
        #expect(mode(path) == 0o600)
    }
    @Test func preparingAFileThatIsReadyKeepsThisProcesssLocksOnIt() {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        folder.write("mira.db", "")
        let path = folder.path + "/mira.db"
        #expect(chmod(path, 0o600) == 0)
        // A lock as SQLite takes it (POSIX, per process) on one descriptor...
        let holder = open(path, O_RDWR)
        defer { close(holder) }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_len = 1
        #expect(fcntl(holder, F_SETLK, &lock) == 0)
        #expect(Files.prepareOwnerOnly(path) == .regularFile)
        // ...is still there afterwards: an open file description's own query
        // (F_OFD_GETLK, 36 on Linux) sees this process's locks as others would.
        let probe = open(path, O_RDWR)
        defer { close(probe) }
        var query = flock()
        query.l_type = Int16(F_WRLCK)
        query.l_whence = Int16(SEEK_SET)
        query.l_len = 1
        #expect(fcntl(probe, 36, &query) == 0)
        #expect(query.l_type == Int16(F_WRLCK))
    }
}
