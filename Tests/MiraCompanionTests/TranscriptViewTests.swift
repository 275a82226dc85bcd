import MiraCompanion
import MiraShared
import MiraSystem
import MiraTestSupport
import Testing

@Suite struct TranscriptViewTests {
    let plain = TranscriptView(colour: false)

    @Test func headingsNameWhoWhenAndForMiraThePersonaAndMood() {
        #expect(plain.heading(Message(role: .user, content: "hi", time: "2026-12-06T20:41:07.123Z")) == "you · 2026-12-06 20:41")
        let reply = Message(role: .assistant, content: "hey", persona: "haven", mood: "tender", time: "2026-12-06T20:41:09.000Z")
        #expect(plain.heading(reply) == "mira · 2026-12-06 20:41 · haven · tender")
    }

    @Test func aTimeThatIsNotOursIsShownAsItIsWithItsControlsVisible() {
        #expect(plain.heading(Message(role: .user, content: "x", time: "last tuesday")) == "you · last tuesday")
        #expect(plain.heading(Message(role: .user, content: "x", time: "\u{1B}[2J")) == "you · ^[[2J")
        #expect(plain.heading(Message(role: .user, content: "x")) == "you")
    }

    @Test func colourWrapsEachPartAndResets() {
        let painted = TranscriptView(colour: true).heading(Message(role: .user, content: "x", time: "2026-12-06T20:41:07Z"))
        #expect(painted == "\u{1B}[1m\u{1B}[36myou\u{1B}[0m\u{1B}[2m · \u{1B}[0m\u{1B}[2m2026-12-06 20:41\u{1B}[0m")
        #expect(TranscriptView(colour: true).replyNote(Reply(output: "o", persona: "haven", mood: "calm")) == "\u{1B}[2m  haven · calm\u{1B}[0m")
        #expect(plain.replyNote(Reply(output: "o", persona: "haven", mood: "calm")) == "  haven · calm")
    }

    @Test func colourOnlyOnATerminalWithoutNoColor() {
        #expect(TranscriptView.wantsColour(terminal: true, environment: Environment(["TERM": "xterm"])))
        #expect(!TranscriptView.wantsColour(terminal: false, environment: Environment(["TERM": "xterm"])))
        #expect(!TranscriptView.wantsColour(terminal: true, environment: Environment(["TERM": "xterm", "NO_COLOR": "1"])))
        #expect(!TranscriptView.wantsColour(terminal: true, environment: Environment(["TERM": "dumb"])))
    }
}

@Suite struct CurrentSessionTests {
    @Test func rememberedSessionReadsBackAndIsReplacedWhole() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let current = CurrentSession(path: dir.path + "/state/mira/current-session")
        #expect(current.read() == nil)
        if case .failure(let problem) = current.remember("s1") { Issue.record("\(problem)") }
        #expect(current.read() == "s1")
        _ = current.remember("another")
        #expect(current.read() == "another")
        #expect(Files.read(path: current.path, limit: 100) == Array("another\n".utf8))
    }

    @Test func aFileThatHoldsNoValidIdMeansNoCurrentSession() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("current-session", "not a valid id!\n")
        #expect(CurrentSession(path: dir.path + "/current-session").read() == nil)
    }

    @Test func theStateFolderFollowsXDG() {
        #expect(CurrentSession.located(environment: Environment(["XDG_STATE_HOME": "/s", "HOME": "/h"]))?.path == "/s/mira/current-session")
        #expect(CurrentSession.located(environment: Environment(["HOME": "/h"]))?.path == "/h/.local/state/mira/current-session")
        #expect(CurrentSession.located(environment: Environment(["XDG_STATE_HOME": "relative", "HOME": "/h"]))?.path == "/h/.local/state/mira/current-session")
        #expect(CurrentSession.located(environment: Environment([:])) == nil)
    }
}
