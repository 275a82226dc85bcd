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
}
