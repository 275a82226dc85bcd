#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Testing
import MiraShared
@testable import MiraSystem
import MiraTestSupport

/// Changing one setting: other lines kept, owner-only, atomic, none lost.
@Suite struct ConfigStoreEditing {
    func mode(_ path: String) -> mode_t? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o777
    }

    func text(_ path: String) -> String? {
        Files.read(path: path, limit: 1 << 20).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A store in a folder that does not exist yet, under a fresh one.
    func store(_ root: TemporaryDirectory) -> ConfigStore {
        ConfigStore(path: root.path + "/xdg/mira/config")
    }

    func remove(_ root: TemporaryDirectory) {
        for name in Files.list(directory: root.path + "/xdg/mira") { unlink(root.path + "/xdg/mira/" + name) }
        rmdir(root.path + "/xdg/mira")
        rmdir(root.path + "/xdg")
        root.remove()
    }

    @Test func setCreatesTheFolder0700AndTheFile0600() throws {
        let root = TemporaryDirectory()
        defer { remove(root) }
        let config = store(root)
        #expect(try config.read() == ConfigFile())
        try config.set("MIRA_MODEL", to: "gpt-4.1-mini")
        #expect(text(config.path) == "MIRA_MODEL=gpt-4.1-mini\n")
        #expect(mode(config.path) == 0o600)
        #expect(mode(config.folder) == 0o700)
        #expect(try config.get("MIRA_MODEL") == "gpt-4.1-mini")
        #expect(try config.get("MIRA_DB") == nil)
        // Nothing but the file is left in the folder (no temporary, no lock file).
        #expect(Files.list(directory: config.folder) == ["config"])
    }

    @Test func setReplacesItsLineInPlaceAndKeepsEveryOtherLineByteForByte() throws {
        let root = TemporaryDirectory()
        defer { remove(root) }
        let config = store(root)
        #expect(Files.makeDirectories(config.folder))
        let before = "# mine\r\nMIRA_DB=/x.db\n\n  # note\nMIRA_MODEL = old\nNOT_KNOWN=kept\nMIRA_MODEL=again\nOPENAI_API_KEY=sk-k"
        let fd = open(config.path, O_WRONLY | O_CREAT, 0o640)
        #expect(LineWriter(fd: fd).write(Array(before.utf8)))
        close(fd)
        #expect(chmod(config.path, 0o640) == 0)

        try config.set("MIRA_MODEL", to: "new")
        #expect(text(config.path) == "# mine\r\nMIRA_DB=/x.db\n\n  # note\nMIRA_MODEL=new\nNOT_KNOWN=kept\nOPENAI_API_KEY=sk-k\n")
        try config.set("MIRA_MAX_TOKENS", to: "640")
        #expect(text(config.path)?.hasSuffix("OPENAI_API_KEY=sk-k\nMIRA_MAX_TOKENS=640\n") == true)
        // The mode the owner chose is kept, never loosened to the default or widened.
        #expect(mode(config.path) == 0o640)
    }

    @Test func unsetRemovesTheLineAndSaysWhetherThereWasOne() throws {
        let root = TemporaryDirectory()
        defer { remove(root) }
        let config = store(root)
        try config.set("MIRA_MODEL", to: "m")
        try config.set("MIRA_DB", to: "/x.db")
        #expect(try config.unset("MIRA_MODEL"))
        #expect(try !config.unset("MIRA_MODEL"))
        #expect(text(config.path) == "MIRA_DB=/x.db\n")
        // A misspelt line can be cleared by its name, so the file reads cleanly again.
        let fd = open(config.path, O_WRONLY | O_APPEND)
        #expect(LineWriter(fd: fd).write(Array("MIRA_MODLE=x\n".utf8)))
        close(fd)
        #expect(throws: ConfigProblem.self) { try config.read() }
        #expect(try config.unset("MIRA_MODLE"))
        #expect(try config.read()["MIRA_DB"] == "/x.db")
    }

    @Test func aWrongNameOrValueIsRefusedAndNothingIsWritten() throws {
        let root = TemporaryDirectory()
        defer { remove(root) }
        let config = store(root)
        for (name, value) in [("MIRA_MODLE", "m"), ("MIRA_MODEL", "a\nOPENAI_BASE_URL=http://evil/v1"), ("MIRA_MAX_TOKENS", "-1"),
                              ("MIRA_MODEL", "\"q\""), ("lower-case", "x")] {
            #expect(throws: ConfigProblem.self, "\(name)=\(value)") { try config.set(name, to: value) }
            do {
                try config.set(name, to: value)
            } catch {
                #expect(error.kind == .badSetting)
            }
        }
        #expect(mode(config.path) == nil)
        #expect(throws: ConfigProblem.self) { try config.get("NOPE") }
        #expect(throws: ConfigProblem.self) { try config.unset("no spaces=") }
    }

    @Test func listShowsEverySettingWithSecretsRedacted() throws {
        let root = TemporaryDirectory()
        defer { remove(root) }
        let config = store(root)
        try config.set("OPENAI_API_KEY", to: "sk-proj-0123456789abcdefWXYZ")
        try config.set("MIRA_MAX_TOKENS", to: "640")
        try config.set("MIRA_TOKEN_LIMIT_FIELD", to: "max_tokens")
        let shown = try config.list().map { "\($0.name)=\($0.value)" }
        #expect(shown == ["OPENAI_API_KEY=sk-…WXYZ", "MIRA_MAX_TOKENS=640", "MIRA_TOKEN_LIMIT_FIELD=max_tokens"])
        #expect(try config.list(redacted: false).first?.value == "sk-proj-0123456789abcdefWXYZ")
    }

    @Test func aFileThatIsNotAPlainFileIsUnreadableNotFollowed() throws {
        let root = TemporaryDirectory()
        defer { remove(root) }
        let config = store(root)
        #expect(Files.makeDirectories(config.folder))
        #expect(symlink("/dev/zero", config.path) == 0)
        #expect(throws: ConfigProblem(.unreadable, path: config.path, cause: "cannot read it: it is a symbolic link (not followed)")) {
            try config.read()
        }
        #expect(throws: ConfigProblem.self) { try config.set("MIRA_MODEL", to: "m") }
        unlink(config.path)
        #expect(mkfifo(config.path, 0o600) == 0)
        #expect(throws: ConfigProblem(.unreadable, path: config.path, cause: "cannot read it: it is not a regular file")) {
            try config.read()
        }
        unlink(config.path)
    }

    @Test func aHugeFileIsRefusedByItsSize() throws {
        let root = TemporaryDirectory()
        defer { remove(root) }
        let config = store(root)
        #expect(Files.makeDirectories(config.folder))
        let fd = open(config.path, O_WRONLY | O_CREAT, 0o600)
        #expect(ftruncate(fd, off_t(ConfigFile.sizeLimit + 1)) == 0)
        close(fd)
        #expect(throws: ConfigProblem(.unreadable, path: config.path,
                                      cause: "cannot read it: it is \(ConfigFile.sizeLimit + 1) bytes, over the \(ConfigFile.sizeLimit)-byte limit")) {
            try config.read()
        }
    }

    @Test func concurrentSettersInThreadsAllLand() throws {
        let root = TemporaryDirectory()
        defer { remove(root) }
        let config = store(root)
        let names = KnownSetting.names.filter { KnownSetting.named($0)?.problem(with: "/v") == nil }
        let tally = Tally()
        for name in names {
            startThread {
                var failed = 0
                for round in 0..<20 {
                    do { try config.set(name, to: "/v\(round)") } catch { failed += 1 }
                }
                tally.finish(failures: failed)
            }
        }
        tally.wait(for: names.count)
        #expect(tally.failures == 0)
        let file = try config.read()
        #expect(file.entries.map(\.name).sorted() == names.sorted())
        #expect(file.entries.allSatisfy { $0.value == "/v19" })
        #expect(Files.list(directory: config.folder) == ["config"])
    }
}

/// Threads that finished, and their failures.
final class Tally: @unchecked Sendable {
    private let monitor = Monitor()
    private var finished = 0
    private var failed = 0

    func finish(failures: Int) {
        monitor.locked {
            finished += 1
            failed += failures
            monitor.broadcast()
        }
    }

    func wait(for count: Int) {
        monitor.locked { while finished < count { monitor.wait() } }
    }

    var failures: Int { monitor.locked { failed } }
}
