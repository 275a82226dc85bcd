import Foundation
import Synchronization
import Testing
@testable import MiraSystem
import MiraTestSupport

@Suite struct FileCreation {
    /// A file is made only where there is none: the second maker is told
    /// and the first one's bytes stay (what keeps two mira-serve started
    /// together from giving the owner two identities).
    @Test func aFileIsMadeOnceAndNeverReplaced() throws {
        let folder = TemporaryDirectory(prefix: "mira-create")
        defer { folder.remove() }
        let path = folder.path + "/owner"
        #expect(try Files.create(path: path, with: Array("first\n".utf8)).get() == true)
        #expect(try Files.create(path: path, with: Array("second\n".utf8)).get() == false)
        #expect(Files.read(path: path, limit: 100) == Array("first\n".utf8))
        var status = stat()
        #expect(stat(path, &status) == 0)
        #expect(status.st_mode & 0o777 == 0o600)
        // No temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["owner"])
    }

    @Test func ofManyMakersAtOnceExactlyOneMakesIt() throws {
        let folder = TemporaryDirectory(prefix: "mira-create")
        defer { folder.remove() }
        let path = folder.path + "/owner"
        let made = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 16) { k in
            if case .success(true) = Files.create(path: path, with: Array("maker \(k)\n".utf8)) {
                made.withLock { $0.append(k) }
            }
        }
        let winners = made.withLock { $0 }
        #expect(winners.count == 1)
        #expect(Files.read(path: path, limit: 100) == Array("maker \(winners.first ?? -1)\n".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["owner"])
    }
}

@Suite struct RegularFileReading {
    /// The read buffer is sized by the file (not a fixed 64 KiB): files of
    /// every size around those edges still come back whole, and one over
    /// the limit is refused.
    @Test func filesOfEverySizeAreReadWhole() throws {
        let folder = TemporaryDirectory(prefix: "mira-read")
        defer { folder.remove() }
        for size in [0, 1, 4095, 65535, 65536, 65537, 200_000] {
            let path = folder.path + "/f\(size)"
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            #expect(try Files.create(path: path, with: bytes).get() == true)
            #expect(try Files.readRegularFile(path: path, limit: 1 << 20).get() == bytes, "size \(size)")
        }
        guard case .failure = Files.readRegularFile(path: folder.path + "/f65537", limit: 65536) else {
            Issue.record("a file over the limit was read")
            return
        }
    }
}
