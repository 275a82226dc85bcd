import Foundation
import Testing

/// The reading commands work on a database that cannot be written at all.
/// Root ignores file modes, so the test makes a real read-only mount, in a
/// mount namespace of its own (`unshare -m`, as root), that vanishes with it.
@Suite struct ReadOnlyMountTests {
    @Test func loadListAndExportReadADatabaseOnAReadOnlyMount() throws {
        let world = try World()
        let saved = try world.sh("mkdir -p src ro && export MIRA_DB=$PWD/src/mira.db && \(turn("s1", "hello there")) > /dev/null")
        #expect(saved.status == 0, "\(saved.stderr)")
        let result = try world.sh("""
            unshare -m sh -c 'mount --bind src ro && mount -o remount,bind,ro ro || exit 99
              touch ro/probe 2>/dev/null && exit 98
              mira-store list --db ro/mira.db || exit 1
              mira-store export s1 --db ro/mira.db || exit 2
              mira-store load s1 --db ro/mira.db || exit 3'
            """)
        try #require(result.status != 99 && result.status != 98, "no read-only mount could be made here: \(result.stderr)")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdoutLines
        #expect(lines.first?.hasPrefix("s1\t2\t") == true, "\(result.stdout)")
        #expect(lines.filter { $0.contains("\"content\":\"hello there\"") }.count == 2, "export and load: \(result.stdout)")
    }
}
