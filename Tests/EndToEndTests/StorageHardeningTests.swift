import Foundation
import Testing

/// The store keeps every byte it is given, every turn it is handed, its file
/// private and other programs' files alone; and a stdout that goes away is an
/// I/O error (74), never a silent SIGPIPE death.
@Suite struct StorageHardeningTests {
    /// Fifty prompted records of session "p", one line each.
    static let fiftyRecords = #"for i in $(seq 50); do printf '{"session":"p","input":"m%s"}\n' $i; done"#

    /// The hex of a stored column, read with python's sqlite3 (not through Mira).
    static func storedHex(_ world: World, _ query: String) throws -> [String] {
        let script = "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); [print(r[0]) for r in c.execute(sys.argv[2])]"
        let result = try world.sh("python3 -c \(shellQuote(script)) mira.db \(shellQuote(query))")
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdoutLines
    }

    static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    // MARK: 1. U+0000

    @Test func aNULCharacterIsStoredByteExactFromAFileARecordAndAnImport() throws {
        let world = try World()
        let fromFile = try world.sh("printf 'keep this\\0tail' > m.txt && mira-store load nul | mira-prompt --message-file m.txt | mira-llm | mira-store save nul")
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        let fromRecord = try world.sh(#"printf '{"session":"nul2","input":"keep this\\u0000tail"}\n' | mira-prompt | mira-llm | mira-store save nul2"#)
        #expect(fromRecord.status == 0, "\(fromRecord.stderr)")

        for session in ["nul", "nul2"] {
            let stored = try world.exported(session)
            #expect(stored.map { $0["role"] as? String } == ["user", "assistant"], "\(session)")
            #expect(stored.first?["content"] as? String == "keep this\u{0}tail", "\(session)")
            // The fake model echoes the message: the reply carries the NUL too.
            #expect(stored.last?["content"] as? String == "echo: keep this\u{0}tail (2 messages)", "\(session)")
        }
        // The model was sent the whole message, not the part before the NUL.
        let sent = try world.requests().map { World.messages(of: $0).last?["content"] as? String }
        #expect(sent == ["keep this\u{0}tail", "keep this\u{0}tail"])
        // And the database holds the bytes themselves.
        let hex = try Self.storedHex(world, "SELECT hex(CAST(content AS BLOB)) FROM messages WHERE role = 'user' ORDER BY id")
        #expect(hex == ["6B6565702074686973007461696C", "6B6565702074686973007461696C"])

        let imported = try world.sh(#"printf '%s\n' '{"session":"nul3","role":"user","content":"a\u0000b","time":"2024-01-01T00:00:00Z"}' | mira-store import"#)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try world.exported("nul3").map { $0["content"] as? String } == ["a\u{0}b"])
        #expect(try world.sh("mira-store export nul3").stdout.contains(#""content":"a\u0000b""#))
    }

    // MARK: 2. A slow import

    @Test func anImportReadingASlowStdinDoesNotHoldUpAChatTurn() throws {
        let world = try World()
        let first = #"{"session":"imp","role":"user","content":"one","time":"2024-01-01T00:00:00Z"}"#
        let second = #"{"session":"imp","role":"assistant","content":"two","time":"2024-01-01T00:00:01Z"}"#
        let result = try world.sh("""
            (echo \(shellQuote(first)); sleep 6; echo \(shellQuote(second))) | mira-store import 2> import.err &
            sleep 1
            timeout 4 bash -c \(shellQuote(turn("s2", "hello"))) > turn.out 2> turn.err
            echo "turn=$?"
            wait $!
            echo "import=$?"
            """)
        let errors = try world.sh("cat turn.err import.err").stdout
        #expect(result.stdoutLines == ["turn=0", "import=0"], "\(result.stdout) \(errors)")
        #expect(try world.exported("s2").map { $0["role"] as? String } == ["user", "assistant"])
        #expect(try world.exported("imp").map { $0["content"] as? String } == ["one", "two"])
        #expect(try world.sh("cat import.err").stdout == "mira-store import: imported 2 messages\n")
    }

    // MARK: 3. A reader that goes away

    @Test func saveStoresEveryTurnWhenItsReaderGoesAway() throws {
        let world = try World()
        let made = try world.sh(Self.fiftyRecords + " | mira-prompt | mira-llm -j 4 > done.jsonl")
        try #require(made.status == 0, "\(made.stderr)")
        try #require(try world.sh("wc -l < done.jsonl").stdout.trimmingCharacters(in: .whitespaces) == "50\n")

        let result = try world.sh(#"mira-store save p < done.jsonl 2> save.err | head -1 > /dev/null; echo "${PIPESTATUS[0]}""#)
        #expect(result.stdout == "74\n")
        #expect(try world.sh("cat save.err").stdout == "mira-store save: cannot write to standard output\n")
        #expect(try world.exported("p").count == 100)
        #expect(try world.halfTurns("p").isEmpty)
    }

    @Test func saveStoresEveryTurnWhenItsOutputIsAFullDisk() throws {
        let world = try World()
        try #require(try world.sh(Self.fiftyRecords + " | mira-prompt | mira-llm -j 4 > done.jsonl").status == 0)

        let result = try world.sh("mira-store save q < done.jsonl > /dev/full")
        #expect(result.status == 74)
        #expect(result.stderr == "mira-store save: cannot write to standard output\n")
        #expect(try world.exported("q").count == 100)
        #expect(try world.halfTurns("q").isEmpty)
        #expect(try world.exported("p").isEmpty)
    }

    @Test func theFiltersExitWithAnIOErrorNotSIGPIPEWhenTheirReaderGoesAway() throws {
        let world = try World()
        try #require(try world.sh(Self.fiftyRecords + " | mira-prompt > prompted.jsonl").status == 0)

        let llm = try world.sh(#"mira-llm -j 2 < prompted.jsonl 2> llm.err | head -1 > /dev/null; echo "${PIPESTATUS[0]}""#)
        #expect(llm.stdout == "74\n")
        #expect(try world.sh("cat llm.err").stdout.contains("mira-llm: cannot write to standard output\n"))

        let prompt = try world.sh(Self.fiftyRecords + #" | mira-prompt 2> prompt.err | head -1 > /dev/null; echo "${PIPESTATUS[1]}""#)
        #expect(prompt.stdout == "74\n" || prompt.stdout == "0\n", "mira-prompt exited \(prompt.stdout)")
        if prompt.stdout == "74\n" {
            #expect(try world.sh("cat prompt.err").stdout == "mira-prompt: cannot write to standard output\n")
        }
    }

    // MARK: 4. A full disk on stdout

    @Test func commandsThatOnlyPrintExitWithAnIOErrorOnAFullDisk() throws {
        let world = try World()
        let new = try world.sh("mira-store new > /dev/full")
        #expect(new.status == 74)
        #expect(new.stderr == "mira-store new: cannot write to standard output\n")

        let personas = try world.sh("mira-prompt --list-personas > /dev/full")
        #expect(personas.status == 74)
        #expect(personas.stderr == "mira-prompt: cannot write to standard output\n")
    }

    // MARK: 5. Owner-only, whatever the path

    @Test func aDatabaseReachedThroughASymlinkIsOwnerOnly() throws {
        let world = try World()
        #expect(try world.sh("ln -s target.db link.db").status == 0)
        let viaOption = try world.sh("mira-store load s --db link.db | mira-prompt hi | mira-llm | mira-store save s --db link.db")
        #expect(viaOption.status == 0, "\(viaOption.stderr)")
        let viaEnvironment = try world.sh(turn("s", "again"), extraEnvironment: ["MIRA_DB": "link.db"])
        #expect(viaEnvironment.status == 0, "\(viaEnvironment.stderr)")

        // The link is still a link, and the file it names holds both turns.
        #expect(try world.sh("test -L link.db && test -f target.db").status == 0)
        #expect(try world.sh("mira-store export s --db target.db").stdoutLines.count == 4)
        #expect(try world.sh("stat -c %a target.db").stdout == "600\n")
        for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: world.dir + "/target.db" + suffix) {
            #expect(try Self.mode(world.dir + "/target.db" + suffix) == 0o600, "target.db\(suffix)")
        }
        #expect(!FileManager.default.fileExists(atPath: world.database))
    }

    @Test func aWorldReadableDatabaseIsMadeOwnerOnlyAgainBySaving() throws {
        let world = try World()
        #expect(try world.sh(turn("s1", "hi")).status == 0)
        #expect(try world.sh("chmod 644 mira.db && stat -c %a mira.db").stdout == "644\n")
        let again = try world.sh(turn("s1", "again"))
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try world.sh("stat -c %a mira.db").stdout == "600\n")
        #expect(try world.exported("s1").count == 4)
    }

    // MARK: 6. Importing twice

    @Test func reimportingAnExportAddsNothing() throws {
        let world = try World()
        #expect(try world.sh(turn("r", "one")).status == 0)
        #expect(try world.sh(turn("r", "two")).status == 0)
        #expect(try world.sh("mira-store export r > e.jsonl").status == 0)

        let again = try world.sh("mira-store import < e.jsonl")
        #expect(again.status == 0)
        #expect(again.stderr == "mira-store import: imported 0 messages (4 already stored, skipped)\n")
        #expect(try world.sh("mira-store export r | cmp - e.jsonl").status == 0)
        #expect(try world.sh("mira-store list").stdout.hasPrefix("r\t4\t"))
    }

    @Test func aMessageWithoutATurnIdImportedTwiceIsStoredOnceButTwiceInOneImportIsKeptTwice() throws {
        let world = try World()
        let line = #"{"session":"nt","role":"user","content":"hello","time":"2024-01-01T00:00:00Z"}"#
        let first = try world.sh("echo \(shellQuote(line)) | mira-store import")
        #expect(first.status == 0)
        #expect(first.stderr == "mira-store import: imported 1 messages\n")
        let second = try world.sh("echo \(shellQuote(line)) | mira-store import")
        #expect(second.status == 0)
        #expect(second.stderr == "mira-store import: imported 0 messages (1 already stored, skipped)\n")
        #expect(try world.exported("nt").count == 1)
        #expect(try world.sh("mira-store list").stdout == "nt\t1\t2024-01-01T00:00:00Z\n")

        // But the same words twice within one import, with no time, are two messages.
        let twice = #"{"session":"nt2","role":"user","content":"hello"}"#
        let result = try world.sh("printf '%s\\n%s\\n' \(shellQuote(twice)) \(shellQuote(twice)) | mira-store import")
        #expect(result.status == 0)
        #expect(result.stderr == "mira-store import: imported 2 messages\n")
        #expect(try world.exported("nt2").map { $0["content"] as? String } == ["hello", "hello"])
    }

    // MARK: 7. Another program's database

    @Test func aDatabaseThatIsNotMirasIsRefusedAndLeftUntouched() throws {
        let world = try World()
        let create = #"python3 -c 'import sqlite3; c=sqlite3.connect("other.sqlite"); c.execute("create table notes(x)"); c.execute("insert into notes values (1)"); c.commit(); c.close()' && cp other.sqlite other.orig"#
        try #require(try world.sh(create).status == 0)
        try #require(try world.sh("mira-store load s | mira-prompt hi | mira-llm > one.jsonl").status == 0)

        for command in ["mira-store list --db other.sqlite", "mira-store save s --db other.sqlite < one.jsonl"] {
            let result = try world.sh(command)
            #expect(result.status == 74, "\(command): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(command)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("other.sqlite: not a Mira database"), "\(command): \(result.stderr)")
        }

        let inspect = #"python3 -c 'import sqlite3; c=sqlite3.connect("other.sqlite"); print([r[0] for r in c.execute("select name from sqlite_master")]); print(c.execute("pragma journal_mode").fetchone()[0]); print(c.execute("select x from notes").fetchall())'"#
        // Compare the bytes before python opens the file.
        #expect(try world.sh("cmp other.sqlite other.orig").status == 0)
        #expect(try world.sh("ls other.sqlite-wal other.sqlite-shm other.sqlite-journal 2>/dev/null").stdout.isEmpty)
        #expect(try world.sh(inspect).stdoutLines == ["['notes']", "delete", "[(1,)]"])

        // A path where nothing is yet is still a new Mira database.
        let fresh = try world.sh("mira-store load s --db fresh.db | mira-prompt hi | mira-llm | mira-store save s --db fresh.db")
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(try world.sh("mira-store export s --db fresh.db").stdoutLines.count == 2)
    }

    // MARK: 8. Reading creates nothing

    @Test func readingCommandsCreateNeitherTheFolderNorTheFile() throws {
        let world = try World()
        let list = try world.sh("mira-store list --db nothere/x.db")
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.isEmpty)

        let load = try world.sh("mira-store load s --db nothere2/y.db")
        #expect(load.status == 0, "\(load.stderr)")
        let records = try load.records()
        #expect(records.count == 1)
        #expect(records.first?["session"] as? String == "s")
        #expect((records.first?["history"] as? [Any])?.isEmpty == true)

        // No database holds no session: export says so, and creates nothing either.
        let export = try world.sh("mira-store export s --db nothere3/z.db")
        #expect(export.status == 66, "\(export.stderr)")
        #expect(export.stdout.isEmpty)

        let inPlace = try world.sh("mira-store list --db absent.db && mira-store load s --db absent.db && mira-store export s --db absent.db")
        #expect(inPlace.status == 66, "\(inPlace.stderr)")

        for path in ["nothere", "nothere2", "nothere3", "absent.db", "absent.db-wal", "absent.db-shm", "absent.db-journal", "mira.db"] {
            #expect(!FileManager.default.fileExists(atPath: world.dir + "/" + path), "\(path) was created")
        }
    }

    // MARK: 9. A forged time

    @Test func anImportedTimeCannotForgeALineOfTheList() throws {
        let world = try World()
        let line = #"{"session":"forge","role":"user","content":"x","time":"2026\t99\nforged\u001b[2J"}"#
        let imported = try world.sh("printf '%s\\n' \(shellQuote(line)) | mira-store import")
        #expect(imported.status == 65, "\(imported.stderr)")
        #expect(imported.stderr.contains("line 1: message.time"), "\(imported.stderr)")
        #expect(try world.exported("forge").isEmpty)

        // A database written by an older build may still hold such a time:
        // the list shows it harmlessly, on one line.
        let good = #"{"session":"forge","role":"user","content":"x","time":"2026-01-01T00:00:00Z"}"#
        #expect(try world.sh("printf '%s\\n' \(shellQuote(good)) | mira-store import").status == 0)
        let forge = #"import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); db.execute("UPDATE sessions SET last_activity=?", ("2026\t99\nforged\x1b[2J",)); db.commit()"#
        #expect(try world.sh("python3 -c \(shellQuote(forge)) \"$MIRA_DB\"").status == 0)
        let list = try world.sh("mira-store list")
        #expect(list.status == 0)
        #expect(list.stdout == "forge\t1\t2026^I99^Jforged^[[2J\n")
        #expect(list.stdoutLines.count == 1)
    }

    // MARK: 10. A directory is not a file

    @Test func evalAndResumeRefuseADirectory() throws {
        let world = try World()
        let eval = try world.sh("mira-eval /tmp")
        #expect(eval.status == 66)
        #expect(eval.stderr.split(separator: "\n").count == 1, "\(eval.stderr)")
        #expect(eval.stderr.hasPrefix("mira-eval: "), "\(eval.stderr)")
        #expect(eval.stderr.contains("/tmp") && eval.stderr.contains("directory"), "\(eval.stderr)")

        let resume = try world.sh(#"mira-prompt hi 2> /dev/null | mira-llm --resume /tmp; echo "llm=${PIPESTATUS[1]}""#)
        #expect(resume.stdout == "llm=66\n")
        #expect(resume.stderr.contains("mira-llm: "), "\(resume.stderr)")
        #expect(resume.stderr.contains("/tmp") && resume.stderr.contains("directory"), "\(resume.stderr)")
        #expect(try world.requests().isEmpty)
    }
}
