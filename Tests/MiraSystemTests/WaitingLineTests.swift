import Testing
@testable import MiraSystem

@Suite struct WaitingLineDrawing {
    /// What reached the screen, and the clock it reads.
    final class Screen {
        var bytes: [UInt8] = []
        var now = 0.0
        var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    func line(_ screen: Screen) -> WaitingLine {
        WaitingLine(prefix: "mira-llm: ", write: { screen.bytes += $0 }, clock: { screen.now })
    }

    let erase = "\r\u{1B}[K"

    @Test func nothingShowsInTheFirstSecondThenTheCounterRedrawsOnceASecond() {
        let screen = Screen()
        var waiting = line(screen)
        waiting.begin()
        for t in [0.0, 250, 500, 999] {
            screen.now = t
            waiting.tick()
        }
        #expect(screen.bytes.isEmpty)
        for t in [1000.0, 1250, 1999, 2000, 12_400] {
            screen.now = t
            waiting.tick()
        }
        #expect(screen.text == erase + "mira-llm: waiting for the model… 1 s"
            + erase + "mira-llm: waiting for the model… 2 s"
            + erase + "mira-llm: waiting for the model… 12 s")
    }

    @Test func endErasesWhatIsShownAndStopsTheCounter() {
        let screen = Screen()
        var waiting = line(screen)
        waiting.begin()
        screen.now = 1500
        waiting.tick()
        screen.bytes = []
        waiting.end()
        #expect(screen.text == erase)
        #expect(!waiting.isWaiting && waiting.shown == nil)
        screen.now = 5000
        waiting.tick()
        #expect(screen.text == erase, "nothing after the end")
    }

    @Test func aTurnAnsweredWithinTheSecondLeavesNoByteOnTheScreen() {
        let screen = Screen()
        var waiting = line(screen)
        waiting.begin()
        screen.now = 800
        waiting.tick()
        waiting.end()
        #expect(screen.bytes.isEmpty)
    }

    @Test func aRetryShowsAtOnceAndKeepsTheSecondsCounting() {
        let screen = Screen()
        var waiting = line(screen)
        waiting.begin()
        screen.now = 300
        waiting.note("server busy (429), retrying in 2 s, 1 of 3")
        screen.now = 2100
        waiting.tick()
        waiting.end()
        #expect(screen.text == erase + "mira-llm: server busy (429), retrying in 2 s, 1 of 3"
            + erase + "mira-llm: server busy (429), retrying in 2 s, 1 of 3 · 2 s"
            + erase)
    }

    @Test func aNoteOutsideAWaitIsDropped() {
        let screen = Screen()
        var waiting = line(screen)
        waiting.note("server error (503), retrying in 1 s, 1 of 3")
        waiting.tick()
        #expect(screen.bytes.isEmpty)
    }

    @Test func clearMakesRoomForALineAndTheNextTickDrawsAgain() {
        let screen = Screen()
        var waiting = line(screen)
        waiting.begin()
        screen.now = 1000
        waiting.tick()
        waiting.clear()
        waiting.clear()
        waiting.tick()
        #expect(screen.text == erase + "mira-llm: waiting for the model… 1 s" + erase
            + erase + "mira-llm: waiting for the model… 1 s")
    }

    @Test func aNewWaitStartsFromZero() {
        let screen = Screen()
        var waiting = line(screen)
        waiting.begin()
        screen.now = 3000
        waiting.note("connection broken, retrying in 0.5 s, 1 of 3")
        waiting.begin()
        screen.now = 3500
        waiting.tick()
        screen.now = 4000
        waiting.tick()
        #expect(screen.text == erase + "mira-llm: connection broken, retrying in 0.5 s, 1 of 3 · 3 s"
            + erase + erase + "mira-llm: waiting for the model… 1 s")
    }
}
