import Foundation
import Testing

/// `mira` runs the usual turn itself and hands every other command line to
/// `mira-commands`, so that a turn's process loads neither the argument
/// parser nor FoundationEssentials (bench/README.md).
@Suite struct MiraSplitTests {
    /// What a tool of binutils (readelf, nm) prints about a program.
    static func inspect(_ tool: String, _ arguments: [String]) throws -> String {
        let command = ([tool] + arguments).map(shellQuote).joined(separator: " ")
        let result = try spawnBash(command, stdin: nil, environment: ProcessInfo.processInfo.environment)
        try #require(result.status == 0, "\(command): status \(result.status): \(result.stderr)")
        return result.stdout
    }

    /// What the dynamic loader is asked to load for a program.
    static func neededLibraries(_ path: String) throws -> String {
        let text = try inspect("readelf", ["-d", path])
        try #require(text.contains("NEEDED"), "readelf -d \(path): \(text)")
        return text
    }

    /// In a debug build the Swift libraries are shared, so what each program
    /// links shows in what it needs.
    @Test func theTurnsProgramLinksNoFoundationAndTheCommandsDo() throws {
        #expect(!(try Self.neededLibraries(binDirectory + "/mira")).contains("Foundation"))
        #expect(try Self.neededLibraries(binDirectory + "/mira-commands").contains("FoundationEssentials"))
    }

    /// The release build (`make test` makes it first), where the Swift
    /// libraries are linked in: the turn's program holds no code of the
    /// argument parser, of FoundationEssentials, or of the regex engine
    /// (_StringProcessing, which one `firstRange(of:)` would bring back).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: releaseMira)))
    func theReleaseTurnProgramLinksNoParserFoundationOrRegexEngine() throws {
        let symbols = try Self.inspect("nm", [releaseMira])
        try #require(symbols.contains("mira_main"))
        for module in ["14ArgumentParser", "20FoundationEssentials", "17_StringProcessing", "12_RegexParser"] {
            #expect(!symbols.contains(module), "\(module) is linked into \(releaseMira)")
        }
    }

    /// The release `mira` takes its arguments from glibc (CArguments): the
    /// runtime's probe of /proc/self/maps is not linked in, and the program
    /// exports none of its own symbols. A turn with spaces, quotes and
    /// non-ASCII in its words still sends them as typed.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: releaseMira)))
    func theReleaseTurnProgramHasItsArgumentsWithoutTheRuntimesProbe() throws {
        let symbols = try Self.inspect("nm", [releaseMira])
        try #require(symbols.contains("mira_main"))
        #expect(!symbols.contains("argvGrabber"))
        #expect(symbols.contains("_swift_stdlib_getUnsafeArgvArgc"))
        let exported = try Self.inspect("readelf", ["--dyn-syms", "-W", releaseMira])
        #expect(!exported.contains("mira_main") && !exported.contains("$s9MiraFront"))

        let world = try World()
        let message = "  two  spaces, a 'quote' and ünïcödé "
        let turn = try world.sh("\(shellQuote(releaseMira)) -s args \(shellQuote(message))")
        #expect(turn.status == 0, "\(turn.stderr)")
        #expect(try world.exported("args").first?["content"] as? String == message)
    }

    /// As `make install` lays them out: bin/mira finds libexec/mira/mira-commands.
    /// (Copied by cp, not in this process: a child another test forks meanwhile
    /// would inherit a descriptor open for writing, and the copy could not run.)
    @Test func anInstalledMiraFindsItsCommandsInLibexec() throws {
        let world = try World()
        let layout = try world.sh(
            "mkdir -p prefix/bin prefix/libexec/mira && cp \(shellQuote(binDirectory + "/mira")) prefix/bin/"
                + " && cp \(shellQuote(binDirectory + "/mira-commands")) prefix/libexec/mira/")
        try #require(layout.status == 0, "\(layout.stderr)")
        let version = try world.sh("prefix/bin/mira --version")
        #expect(version.status == 0, "\(version.stderr)")
        #expect(version.stdout.hasPrefix("mira "), "\(version.stdout)")
        let turn = try world.sh("prefix/bin/mira -s s1 hello")
        #expect(turn.status == 0, "\(turn.stderr)")
        #expect(turn.stdout == "echo: hello (2 messages)\n")
    }

    /// Without mira-commands a turn still works; anything else says what is
    /// missing and what to do, with status 70.
    @Test func withoutItsCommandsMiraSaysWhatIsMissing() throws {
        let world = try World()
        let layout = try world.sh("mkdir alone && cp \(shellQuote(binDirectory + "/mira")) alone/")
        try #require(layout.status == 0, "\(layout.stderr)")
        let turn = try world.sh("alone/mira -s s1 hello")
        #expect(turn.status == 0, "\(turn.stderr)")
        let log = try world.sh("alone/mira log s1")
        #expect(log.status == 70)
        #expect(log.stderr.hasPrefix("mira: mira-commands is missing (looked in \(world.dir)/alone and"), "\(log.stderr)")
        #expect(log.stderr.contains("make install"))
        #expect(log.stderr.split(separator: "\n").count == 1)
    }
}
