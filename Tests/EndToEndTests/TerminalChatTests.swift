import Foundation
import Testing

/// `mira chat` on a real terminal (tmux), against a fake server that streams
/// its reply slowly: what a person sees on the screen.
@Suite(.serialized) struct TerminalChatTests {
    /// Each half event of the stream waits this long, so a reply takes seconds.
    static let slowStream = ["--stream-gap", "120"]

    @Test func theReplyAppearsWhileItStreamsAndStaysWithItsPersonaAndMood() throws {
        let world = try World(serverArguments: Self.slowStream)
        let terminal = try TerminalScreen(world: world, command: "mira chat s1")
        try terminal.wait(for: "you>")
        try terminal.type("tell me about your day")
        try terminal.press("Enter")
        // Part of the reply is on the screen before the turn is over.
        let partial = try terminal.wait(for: "part of the reply") { $0.contains("echo: tell") }
        #expect(!partial.contains("default · curious"), "the turn had already ended:\n\(partial)")
        let done = try terminal.wait(for: "default · curious")
        #expect(done.contains("echo: tell me about your day (2 messages)\n  default · curious\nyou>"), "\(done)")
        #expect(!done.contains("mira-llm"), "no progress or summary line")
        #expect(try world.exported("s1").count == 2)
    }

    /// `mira chat s1` against the slow stream, `message` sent, and its reply
    /// on the screen but not yet whole.
    static func chatWithAReplyStreaming(to message: String) throws -> (World, TerminalScreen) {
        let world = try World(serverArguments: slowStream)
        let terminal = try TerminalScreen(world: world, command: "mira chat s1")
        try terminal.wait(for: "you>")
        try terminal.type(message)
        try terminal.press("Enter")
        try terminal.wait(for: "the reply streaming") { $0.contains("echo: " + message.prefix(4)) }
        return (world, terminal)
    }

    @Test func ctrlCCancelsTheTurnInFlightSavesNothingAndTheChatGoesOn() throws {
        let (world, terminal) = try Self.chatWithAReplyStreaming(to: "a long story please")
        try terminal.press("C-c")
        try terminal.wait(for: "stopped: that turn was not saved\nyou>")
        #expect(try world.exported("s1").isEmpty, "nothing half-saved")

        try terminal.type("still there?")
        try terminal.press("Enter")
        let screen = try terminal.wait(for: "default · curious")
        #expect(screen.contains("echo: still there? (2 messages)"))
        #expect(!screen.contains("[exit"), "the chat is still running:\n\(screen)")
        #expect(try world.askedMessages() == ["a long story please", "still there?"])
        #expect(try world.exported("s1").count == 2)
    }

    /// Keys pressed while a reply streams wait for the next prompt: they are
    /// not echoed into Mira's words, and a Ctrl-D typed ahead still leaves.
    @Test func whatIsTypedWhileAReplyStreamsWaitsForTheNextPrompt() throws {
        let (world, terminal) = try Self.chatWithAReplyStreaming(to: "tell me about your day")
        try terminal.type("next words")
        let done = try terminal.wait(for: "default · curious")
        #expect(done.contains("echo: tell me about your day (2 messages)\n  default · curious"), "\(done)")
        #expect(!done.contains("next wordsecho") && !done.contains("echo: tell me about your day next words"), "\(done)")
        try terminal.wait(for: "you> next words")

        try terminal.press("C-u")
        try terminal.type("and goodbye")
        try terminal.press("Enter")
        try terminal.wait(for: "the second reply streaming") { $0.contains("echo: and") }
        try terminal.press("C-d")
        let left = try terminal.wait(for: "the chat ended") { $0.contains("[exit") }
        #expect(left.contains("echo: and goodbye (4 messages)"), "\(left)")
        #expect(try world.exported("s1").count == 4)
    }

    @Test func personaSwitchesAndABadNameIsRefusedWithTheChoicesWithoutLosingTheNextMessage() throws {
        let world = try World()
        let terminal = try TerminalScreen(world: world, command: "mira chat s1")
        try terminal.wait(for: "you>")
        try terminal.type("/persona nope")
        try terminal.press("Enter")
        try terminal.wait(for: #"unknown persona "nope" (known: default, forbidden, hallow, haven)"#)
        try terminal.type("/persona haven")
        try terminal.press("Enter")
        try terminal.wait(for: "persona haven until /persona auto")
        try terminal.type("hold me")
        try terminal.press("Enter")
        let screen = try terminal.wait(for: "haven · curious")
        #expect(screen.contains("echo: hold me (2 messages)\n  haven · curious"))
        #expect(try world.askedMessages() == ["hold me"])
    }

    @Test func ctrlCAtThePromptDropsTheLineUpBringsBackHistoryAndCtrlDLeaves() throws {
        let world = try World()
        let terminal = try TerminalScreen(world: world, command: "mira chat s1")
        try terminal.wait(for: "you>")
        try terminal.type("first words")
        try terminal.press("Enter")
        // The prompt is drawn once libedit has the terminal: type only then, as a person would.
        try terminal.wait(for: "default · curious\nyou>")
        try terminal.type("half typed")
        try terminal.wait(for: "you> half typed")
        try terminal.press("C-c")
        try terminal.wait(for: "you> half typed\nyou>")
        try terminal.press("Up")
        try terminal.wait(for: "you> half typed\nyou> first words")
        try terminal.press("C-u")
        try terminal.press("C-d")
        try terminal.wait(for: "[exit 0]")
        #expect(try world.askedMessages() == ["first words"])
    }

    @Test func aSlowAnswerShowsTheWaitThenOnlyTheReply() throws {
        let world = try World(behaviour: "delay:2500")
        let terminal = try TerminalScreen(world: world, command: "mira chat s1")
        try terminal.wait(for: "you>")
        try terminal.type("are you there?")
        try terminal.press("Enter")
        try terminal.wait(for: "mira: waiting for the model… 1 s")
        let screen = try terminal.wait(for: "default · curious")
        #expect(!screen.contains("waiting for the model"), "the waiting line is erased before the reply:\n\(screen)")
        #expect(screen.contains("you> are you there?\necho: are you there? (2 messages)\n  default · curious"))
    }

    @Test func examplesChatShowsTheStreamedReplyOnceWithNoProgressOrSummaryLine() throws {
        let world = try World(serverArguments: Self.slowStream)
        let terminal = try TerminalScreen(world: world, command: shellQuote(packageRoot + "/examples/chat.sh") + " s1")
        try terminal.wait(for: "you>")
        try terminal.type("rough day")
        try terminal.press("Enter")
        let partial = try terminal.wait(for: "part of the reply") { $0.contains("echo: rough") }
        #expect(!partial.contains("[default · curious]"))
        let screen = try terminal.wait(for: "[default · curious]")
        #expect(screen.contains("you> rough day\necho: rough day (2 messages)\n  [default · curious]\nyou>"), "\(screen)")
        #expect(screen.components(separatedBy: "echo: rough day").count == 2, "the reply is shown once")
        #expect(!screen.contains("mira-llm"), "no progress or summary line")
        #expect(try world.exported("s1").count == 2)
    }

    /// The release build as `make install` ships it (bench-smoke in `make test`
    /// builds it first). Its optimiser splits a module into several object
    /// files, which once copied the libedit table a header kept, so the
    /// release chat found no libedit and read plain lines with no prompt,
    /// while the debug build worked.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: releaseMira)))
    func theReleaseBuildHasLineEditingToo() throws {
        let world = try World()
        let terminal = try TerminalScreen(world: world, command: shellQuote(releaseMira) + " chat s1")
        try terminal.wait(for: "you>")
        try terminal.type("hello from the release build")
        try terminal.press("Enter")
        try terminal.wait(for: "default · curious\nyou>")
        try terminal.press("Up")
        try terminal.wait(for: "default · curious\nyou> hello from the release build")
    }
}

/// The release build of `mira`, where `make test` leaves it.
let releaseMira = packageRoot + "/.build/release/mira"
