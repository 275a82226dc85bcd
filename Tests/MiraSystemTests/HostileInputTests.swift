#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Testing
import MiraShared
@testable import MiraSystem
import MiraTestSupport

@Suite struct TerminalTextIsHarmless {
    @Test func escapesBecomeVisible() {
        let shown = TerminalText.visible(Array("hi \u{1B}]0;PWNED\u{07}\u{1B}[2J there\r\n".utf8))
        #expect(String(decoding: shown, as: UTF8.self) == "hi ^[]0;PWNED^G^[[2J there^M\n")
    }

    @Test func c1ControlsAndBrokenUTF8BecomeReplacementCharacters() {
        let shown = TerminalText.visible([0x61, 0xC2, 0x9B, 0x32, 0x4A, 0xFF, 0x62])
        #expect(String(decoding: shown, as: UTF8.self) == "a\u{FFFD}2J\u{FFFD}b")
    }

    @Test func plainTextAndUnicodeAreUntouched() {
        let text = "Hey, you. café 🌙\n\tok"
        #expect(TerminalText.visible(Array(text.utf8)) == Array(text.utf8))
    }

    @Test func aTableFieldShowsItsTabsAndLineBreaks() {
        #expect(TerminalText.field("2026\t99\nforged") == "2026^I99^Jforged")
    }

    @Test func aCharacterCutBetweenStreamPiecesIsShownWhole() {
        var stream = TerminalStreamText()
        let moon = Array("🌙".utf8)
        let first = stream.visible([0x61] + moon[..<2])
        let second = stream.visible(Array(moon[2...]) + [0x1B])
        #expect(String(decoding: first + second + stream.finish(), as: UTF8.self) == "a🌙^[")
    }

    @Test func aWriterOnAPipeWritesBytesExactly() {
        let output = OutputPipe()
        #expect(!output.writer.isTerminal)
        output.writer.writeLine("a\u{1B}[2Jb")
        #expect(output.collect() == ["a\u{1B}[2Jb"])
    }
}

@Suite struct ReadErrorsAreNotEndsOfInput {
    @Test func aFolderIsRefusedWhenOpened() {
        guard case .failure(let problem) = Files.openForReading("/tmp") else { Issue.record("a folder opened"); return }
        #expect(problem.reason == "it is a directory")
    }

    @Test func readingAFolderIsAnErrorNotAnEmptyInput() {
        let fd = open("/tmp", O_RDONLY)
        defer { close(fd) }
        var reader = LineReader(fd: fd)
        #expect(reader.next() == nil)
        #expect(reader.readError != nil)
    }
}
