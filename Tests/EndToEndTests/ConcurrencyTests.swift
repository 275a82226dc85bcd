import Foundation
import Testing

/// Many writers at once: nothing fails, nothing is lost.
@Suite struct ConcurrencyTests {
    @Test func eightPipelinesOfTwentyFiveTurnsSaveAllFourHundredMessages() throws {
        let world = try World()
        let script = """
            for p in 1 2 3 4 5 6 7 8; do
              ( for t in $(seq 1 25); do
                  mira-store load shared | mira-prompt "pipeline $p turn $t" | mira-llm | mira-store save shared >/dev/null || echo "FAILED $p $t"
                done ) &
            done
            wait
            """
        let result = try world.sh(script)
        #expect(!result.stdout.contains("FAILED"), "\(result.stdout)")
        #expect(!result.stderr.contains("locked"), "\(result.stderr)")
        let stored = try world.exported("shared")
        #expect(stored.count == 400)
        // Each turn is whole: its user message directly followed by its reply.
        for pair in stride(from: 0, to: stored.count - 1, by: 2) {
            #expect(stored[pair]["turn"] as? String == stored[pair + 1]["turn"] as? String)
            #expect(stored[pair]["role"] as? String == "user")
        }
        #expect(Set(stored.compactMap { $0["content"] as? String }.filter { $0.hasPrefix("pipeline") }).count == 200)
    }
}
