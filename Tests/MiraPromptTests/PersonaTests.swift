import Testing
@testable import MiraPrompt
import MiraShared
import MiraSystem
import MiraTestSupport

@Suite struct PersonaRegistryLoading {
    @Test func aNewFileAddsAPersonaAfterTheBuiltIns() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("tender.md", "# Tender\nSoft and slow.\n")
        var registry = PersonaRegistry()
        let result = registry.load(directory: dir.path)
        #expect(result.loaded == ["tender"])
        #expect(registry.names == builtinNames + ["tender"])
        #expect(registry["tender"]?.text == "# Tender\nSoft and slow.\n")
        #expect(registry["tender"]?.source == dir.path + "/tender.md")
    }

    @Test func aFileNamedLikeABuiltInReplacesItsTextInPlace() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("haven.md", "My own haven.")
        var registry = PersonaRegistry()
        _ = registry.load(directory: dir.path)
        #expect(registry.names == builtinNames)
        #expect(registry["haven"]?.text == "My own haven.")
    }

    @Test func filesWithInvalidNamesAreSkippedAndReported() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("Bad Name.md", "x")
        dir.write("..md", "x")
        dir.write("UPPER.md", "x")
        dir.write("ok.md", "fine")
        var registry = PersonaRegistry()
        let result = registry.load(directory: dir.path)
        #expect(result.loaded == ["ok"])
        #expect(Set(result.skipped.map(\.file)) == ["Bad Name.md", "..md", "UPPER.md"])
        #expect(registry.names == builtinNames + ["ok"])
    }

    @Test func emptyFilesAreSkipped() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("blank.md", " \n\t\n")
        var registry = PersonaRegistry()
        let result = registry.load(directory: dir.path)
        #expect(result.loaded == [])
        #expect(result.skipped.map(\.file) == ["blank.md"])
    }

    @Test func filesWithoutTheMarkdownSuffixAreIgnored() {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("notes.txt", "x")
        var registry = PersonaRegistry()
        let result = registry.load(directory: dir.path)
        #expect(result.loaded.isEmpty && result.skipped.isEmpty)
        #expect(registry.names == builtinNames)
    }

    @Test func aMissingDirectoryLoadsNothing() {
        var registry = PersonaRegistry()
        let result = registry.load(directory: "/nonexistent/mira-personas-\(Identifiers.newSessionID())")
        #expect(result.loaded.isEmpty && result.skipped.isEmpty)
        #expect(registry.personas == BuiltinPersonas.all)
    }

    @Test func userDirectoryPrefersAnAbsoluteXDGConfigHome() {
        #expect(PersonaRegistry.userDirectory(environment: Environment(["XDG_CONFIG_HOME": "/cfg", "HOME": "/h"]))
            == "/cfg/mira/personas")
        #expect(PersonaRegistry.userDirectory(environment: Environment(["XDG_CONFIG_HOME": "rel", "HOME": "/h"]))
            == "/h/.config/mira/personas")
        #expect(PersonaRegistry.userDirectory(environment: Environment([:])) == nil)
    }
}

@Suite struct PersonaSummary {
    @Test func isTheFirstNonEmptyLineWithoutHeadingMarks() {
        let persona = Persona(name: "x", text: "\n\n## Tender and slow\nbody\n", source: "t")
        #expect(persona.summary == "Tender and slow")
    }

    @Test func isThePlainFirstLineWhenThereIsNoHeading() {
        #expect(BuiltinPersonas.haven.summary == "Mira as a safe landing: soft, patient, grounding. When you are")
    }

    @Test func isTheFirstLineOfAFileWithCRLFLineEndings() {
        let persona = Persona(name: "x", text: "# Tender\r\nbody\r\n", source: "t")
        #expect(persona.summary == "Tender")
    }
}

@Suite struct PersonaFolder {
    @Test func personaFilesLiveInMirasConfigFolder() {
        let set = Environment(["XDG_CONFIG_HOME": "/c", "HOME": "/h"])
        #expect(PersonaRegistry.userDirectory(environment: set) == "/c/mira/personas")
    }

    @Test func theBuiltInsAreTheOnesTheReplyContractAllows() {
        #expect(BuiltinPersonas.all.map(\.name) == ReplyContract.builtinPersonas)
    }
}
