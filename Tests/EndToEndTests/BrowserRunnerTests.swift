import Foundation
import Testing

/// Tests/Browser/run.sh's clean-up, apart from the browser.
@Suite struct BrowserRunnerTests {
    /// A script set up as run.sh is: `set -e`, a process group of tests
    /// (here a short sleep) and a scratch folder whose path it writes down,
    /// then `ending`.
    static func runner(ending: String) -> String {
        """
        set -euo pipefail
        source \(shellQuote(packageRoot + "/Tests/Browser/group.sh"))
        scratch=$(mktemp -d "$PWD/scratch.XXXXXX")
        echo "$scratch" > scratch-path
        setsid sleep 0.05 &
        tests=$!
        trap stop_tests EXIT
        \(ending)
        """
    }

    /// When the tests' process group has ended by the time run.sh exits (the
    /// usual case after a clean run), the clean-up neither fails the script
    /// under `set -e` nor skips removing the scratch folder. Before, `make
    /// test` failed after "browser: 14 passed, 0 failed".
    @Test func aFinishedGroupLeavesTheStatusAndTheScratchFolderClean() throws {
        let world = try World()
        let run = try world.sh("bash -c \(shellQuote(Self.runner(ending: "wait \"$tests\"; sleep 0.2; exit 0")))")
        #expect(run.status == 0, "\(run.stderr)")
        let scratch = try String(contentsOfFile: world.dir + "/scratch-path", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!FileManager.default.fileExists(atPath: scratch), "\(scratch) was left behind")
    }

    /// A failing run keeps its own status.
    @Test func aFailedRunKeepsItsStatus() throws {
        let world = try World()
        #expect(try world.sh("bash -c \(shellQuote(Self.runner(ending: "exit 3")))").status == 3)
    }
}
