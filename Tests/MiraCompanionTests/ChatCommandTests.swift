import MiraCompanion
import Testing

@Suite struct ChatCommandTests {
    @Test func aLineWithoutASlashIsAMessageAsTyped() {
        #expect(ChatCommand("  hi there ") == .message("  hi there "))
        #expect(ChatCommand("   ") == .nothing)
        #expect(ChatCommand("") == .nothing)
    }

    @Test func slashCommandsAndTheirArguments() {
        #expect(ChatCommand("/help") == .help)
        #expect(ChatCommand("/persona haven") == .persona("haven"))
        #expect(ChatCommand("/persona auto") == .persona(nil))
        #expect(ChatCommand("/persona") == .showPersona)
        #expect(ChatCommand("/new") == .newSession)
        #expect(ChatCommand("/sessions") == .sessions)
        #expect(ChatCommand("/switch abc") == .switchTo("abc"))
        #expect(ChatCommand("/log") == .log)
        #expect(ChatCommand("/quit") == .quit)
        #expect(ChatCommand(" /exit ") == .quit)
    }

    @Test func twoSlashesSendTheRestAsAMessage() {
        #expect(ChatCommand("//etc/passwd is a file") == .message("/etc/passwd is a file"))
    }

    @Test func mistakesSayWhatToDo() {
        guard case .mistake(let unknown) = ChatCommand("/nope") else { Issue.record("not a mistake"); return }
        #expect(unknown.contains("unknown command /nope") && unknown.contains("/help"))
        guard case .mistake(let missing) = ChatCommand("/switch") else { Issue.record("not a mistake"); return }
        #expect(missing.contains("needs a session id"))
        guard case .mistake(let extra) = ChatCommand("/quit now") else { Issue.record("not a mistake"); return }
        #expect(extra.contains("takes no argument"))
    }
}
