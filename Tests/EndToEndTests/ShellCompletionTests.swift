import Foundation
import Testing

/// The completion scripts the tools generate, driven as bash drives them at
/// a TAB: the script is sourced, COMP_WORDS and COMP_CWORD are set, and the
/// function `complete -p` names is called. Session ids come live from the
/// test's database (MIRA_DB), persona names from the built-ins and the
/// test's personas folder.
@Suite struct ShellCompletionTests {
    static let tools = ["mira", "mira-store", "mira-prompt", "mira-llm", "mira-eval"]

    /// A world with two sessions in its database and a persona of the person's own.
    func seededWorld() throws -> World {
        let world = try World()
        let seeded = try world.sh("""
            printf '%s\\n' '{"session":"alpha-1","role":"user","content":"hi","time":"2024-01-01T00:00:00Z"}' \
              '{"session":"beta-2","role":"user","content":"yo","time":"2024-01-02T00:00:00Z"}' | mira-store import
            mkdir -p "$XDG_CONFIG_HOME/mira/personas"
            printf 'A pirate, for the test.\\n' > "$XDG_CONFIG_HOME/mira/personas/pirate.md"
            """)
        #expect(seeded.status == 0, "\(seeded.stderr)")
        return world
    }

    /// What bash offers at TAB after `words` (the last word is the one being
    /// completed; "" for a fresh word).
    func bashCompletions(_ world: World, _ words: [String]) throws -> [String] {
        let tool = words[0]
        let result = try world.sh("""
            source <(\(tool) --generate-completion-script bash) || exit 70
            fn=$(complete -p \(tool) | sed -E 's/.* -F ([^ ]+) .*/\\1/')
            COMP_WORDS=(\(words.map(shellQuote).joined(separator: " ")))
            COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
            COMP_LINE="${COMP_WORDS[*]}"
            COMP_POINT=${#COMP_LINE}
            COMPREPLY=()
            "$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            printf '%s\\n' "${COMPREPLY[@]}"
            """)
        #expect(result.status == 0, "\(words): \(result.stderr)")
        return result.stdoutLines.filter { !$0.isEmpty }
    }

    /// The persona names mira-prompt lists in this world.
    func personaNames(_ world: World) throws -> [String] {
        let listed = try world.sh("mira-prompt --list-personas | cut -f1")
        #expect(listed.status == 0, "\(listed.stderr)")
        return listed.stdoutLines
    }

    @Test func miraCompletesSessionIdsAndPersonaNames() throws {
        let world = try seededWorld()
        let personas = try personaNames(world)
        #expect(personas.contains("pirate") && personas.contains("default"), "\(personas)")

        #expect(try bashCompletions(world, ["mira", "chat", ""]) == ["beta-2", "alpha-1"])
        #expect(try bashCompletions(world, ["mira", "chat", "al"]) == ["alpha-1"])
        #expect(try bashCompletions(world, ["mira", "log", ""]) == ["beta-2", "alpha-1"])
        #expect(try bashCompletions(world, ["mira", "--session", ""]) == ["beta-2", "alpha-1"])
        #expect(try bashCompletions(world, ["mira", "say", "-s", "b"]) == ["beta-2"])
        // `say` is the default command: its options come straight after `mira`.
        #expect(try bashCompletions(world, ["mira", "--persona", ""]) == personas)
        #expect(try bashCompletions(world, ["mira", "say", "--persona", ""]) == personas)
        #expect(try bashCompletions(world, ["mira", "chat", "--persona", ""]) == personas)
        #expect(try bashCompletions(world, ["mira", "--persona", "pi"]) == ["pirate"])
    }

    /// `mira` completes from a shape with Say's options at the top; it must
    /// offer exactly what `mira say` offers there, plus the subcommands.
    @Test func miraOffersSaysOptionsAtTheTop() throws {
        let world = try World()
        let top = try bashCompletions(world, ["mira", "--"])
        let say = try bashCompletions(world, ["mira", "say", "--"])
        #expect(!say.isEmpty && Set(top) == Set(say), "mira: \(top); mira say: \(say)")
        let words = try bashCompletions(world, ["mira", ""])
        #expect(Set(["say", "chat", "log", "sessions", "--persona"]).isSubset(of: Set(words)), "\(words)")
    }

    @Test func storeCompletesSessionIdsAndPromptCompletesPersonas() throws {
        let world = try seededWorld()
        for command in ["export", "load", "save", "rm"] {
            #expect(try bashCompletions(world, ["mira-store", command, ""]) == ["beta-2", "alpha-1"], "\(command)")
        }
        #expect(try bashCompletions(world, ["mira-store", "export", "be"]) == ["beta-2"])
        #expect(try bashCompletions(world, ["mira-store", "import", "--session", ""]) == ["beta-2", "alpha-1"])

        // --db on the line names the database to read, not $MIRA_DB's.
        let other = try world.sh("""
            echo '{"session":"other-9","role":"user","content":"x","time":"2024-01-01T00:00:00Z"}' | mira-store import --db other.db
            """)
        #expect(other.status == 0, "\(other.stderr)")
        #expect(try bashCompletions(world, ["mira-store", "export", "--db", world.dir + "/other.db", ""]) == ["other-9"])
        #expect(try bashCompletions(world, ["mira-store", "export", "--db=" + world.dir + "/other.db", ""]) == ["other-9"])
        // A database that is not there offers nothing, and is not created.
        #expect(try bashCompletions(world, ["mira-store", "export", "--db", world.dir + "/none.db", ""]) == [])
        #expect(!FileManager.default.fileExists(atPath: world.dir + "/none.db"))

        #expect(try bashCompletions(world, ["mira-prompt", "--persona", ""]) == personaNames(world))
        #expect(try bashCompletions(world, ["mira-prompt", "--persona", "ha"]) == ["hallow", "haven"])
    }

    @Test func everyToolPrintsScriptsForEveryShell() throws {
        let world = try World()
        let hasZsh = try world.sh("command -v zsh").status == 0
        let hasFish = try world.sh("command -v fish").status == 0
        for tool in Self.tools {
            let bash = try world.sh("\(tool) --generate-completion-script bash")
            #expect(bash.status == 0 && bash.stdout.contains("complete -o filenames -F _\(tool) \(tool)"), "\(tool): \(bash.stderr)")
            let zsh = try world.sh("\(tool) --generate-completion-script zsh")
            #expect(zsh.status == 0 && zsh.stdout.hasPrefix("#compdef \(tool)\n"), "\(tool): \(zsh.stdout.prefix(80)) \(zsh.stderr)")
            let fish = try world.sh("\(tool) --generate-completion-script fish")
            #expect(fish.status == 0 && fish.stdout.contains("complete -c '\(tool)'"), "\(tool): \(fish.stdout.prefix(80)) \(fish.stderr)")
            // The shells read them (scripts/install-deps.sh installs zsh and fish).
            if hasZsh {
                let parsed = try world.sh("\(tool) --generate-completion-script zsh > _\(tool) && zsh -n _\(tool)")
                #expect(parsed.status == 0, "\(tool) zsh: \(parsed.stderr)")
            }
            if hasFish {
                let parsed = try world.sh("\(tool) --generate-completion-script fish > \(tool).fish && fish --no-execute \(tool).fish")
                #expect(parsed.status == 0, "\(tool) fish: \(parsed.stderr)")
            }
        }
    }
}
