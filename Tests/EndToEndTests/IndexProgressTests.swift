import Foundation
import Testing

/// `mira-memory index` on a real terminal: its progress line redraws in
/// place and is gone at the end, leaving only the summary.
@Suite struct IndexProgressTests {
    @Test func theProgressLineRedrawsInPlaceAndLeavesTheSummary() throws {
        let world = try World()
        let lines = (0..<300).map { #"{"session":"bulk","turn":"t\#($0)","role":"user","content":"message number \#($0)"}"# }
        let imported = try world.sh("mira-store import", stdin: lines.joined(separator: "\n") + "\n")
        try #require(imported.status == 0, "\(imported.stderr)")
        let terminal = try TerminalScreen(
            world: world, command: "mira-memory index --batch 10", extraEnvironment: ["MIRA_EMBED_MODEL": "fake-embed"])
        let screen = try terminal.wait(for: "[exit 0]")
        #expect(screen.contains("mira-memory index: indexed 300 messages and 0 facts with fake-embed in "), "\(screen)")
        // The carriage return and erase reached the terminal as themselves,
        // not shown as text (^M^[[K), and no progress line is left behind.
        #expect(!screen.contains("^M") && !screen.contains("^["), "\(screen)")
        #expect(!screen.contains(" of 300 messages"), "\(screen)")
    }
}
