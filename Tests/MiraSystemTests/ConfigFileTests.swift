#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Testing
import MiraShared
@testable import MiraSystem
import MiraTestSupport

/// Reading `NAME=value` lines: what counts, and every wrong line named with its cause.
@Suite struct ConfigFileParsing {
    func parsed(_ text: String) -> ConfigFile { ConfigFile(parsing: Array(text.utf8), path: "/c/config") }
    func causes(_ file: ConfigFile) -> [String] { file.problems.map { "line \($0.line ?? 0): \($0.cause)" } }

    @Test func blankLinesAndCommentsAreIgnoredAndValuesAreVerbatimAfterTheFirstEquals() {
        let file = parsed("""
            # my settings

              # indented comment
            \t
            MIRA_MODEL=gpt-4.1-mini
            OPENAI_BASE_URL=http://me:p=w@host/v1?a=b#frag
            OPENAI_API_KEY=sk-abc # not a comment

            """)
        #expect(file.problems.isEmpty, "\(causes(file))")
        #expect(file.entries.map(\.name) == ["MIRA_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY"])
        #expect(file.entries.map(\.line) == [5, 6, 7])
        #expect(file["MIRA_MODEL"] == "gpt-4.1-mini")
        #expect(file["OPENAI_BASE_URL"] == "http://me:p=w@host/v1?a=b#frag")
        #expect(file["OPENAI_API_KEY"] == "sk-abc # not a comment")
        #expect(file["MIRA_DB"] == nil)
    }

    @Test func crlfLineEndsAndAMissingLastNewlineAreFine() {
        let file = parsed("# c\r\nMIRA_MODEL=m\r\n\r\nMIRA_MAX_TOKENS=64")
        #expect(file.problems.isEmpty, "\(causes(file))")
        #expect(file["MIRA_MODEL"] == "m")
        #expect(file["MIRA_MAX_TOKENS"] == "64")
    }

    @Test func anEmptyValueIsASettingThatMeansNotSet() {
        let file = parsed("OPENAI_API_KEY=\n")
        #expect(file.problems.isEmpty)
        #expect(file["OPENAI_API_KEY"] == "")
    }

    @Test func anUnknownNameSuggestsTheClosestKnownOne() {
        let file = parsed("MIRA_MODEL=a\n\nMIRA_MODLE=b\nmira_db=/x\nWHATEVER=1\n")
        #expect(causes(file) == [
            "line 3: unknown setting MIRA_MODLE (did you mean MIRA_MODEL?)",
            "line 4: unknown setting mira_db (did you mean MIRA_DB?)",
            "line 5: unknown setting WHATEVER (known: " + KnownSetting.names.joined(separator: ", ") + ")",
        ])
        #expect(file.entries.map(\.name) == ["MIRA_MODEL"])
    }

    @Test func linesThatAreNotNameEqualsValueAreNamed() {
        let file = parsed("just words\nexport MIRA_MODEL=m\nMIRA_MODEL = m\n=value\n1ABC=x\nMIRA-MODEL=x\n")
        #expect(causes(file) == [
            "line 1: not NAME=value",
            "line 2: not NAME=value (write it without export)",
            "line 3: spaces around MIRA_MODEL (write NAME=value, with no spaces around =)",
            "line 4: not NAME=value",
            "line 5: not NAME=value",
            "line 6: not NAME=value",
        ])
    }

    @Test func quotesAndSpacesAroundAValueAreRefusedNotGuessedAt() {
        let file = parsed("MIRA_MODEL=\"gpt\"\nMIRA_DB='/x'\nMIRA_REPLY_CACHE= /x\nSSL_CERT_FILE=/x \nOPENAI_API_KEY=a\"b\n")
        #expect(causes(file) == [
            "line 1: the value of MIRA_MODEL is in quotes, and values are taken as written: drop the quotes",
            "line 2: the value of MIRA_DB is in quotes, and values are taken as written: drop the quotes",
            "line 3: the value of MIRA_REPLY_CACHE starts or ends with a space, and values are taken as written: remove it",
            "line 4: the value of SSL_CERT_FILE starts or ends with a space, and values are taken as written: remove it",
        ])
        #expect(file["OPENAI_API_KEY"] == "a\"b")
    }

    @Test func aValueMustSuitItsSetting() {
        let file = parsed("""
            MIRA_MAX_TOKENS=lots
            MIRA_MAX_REPLY_CHARS=0
            MIRA_STRUCTURED=grammar
            MIRA_TOKEN_LIMIT_FIELD=tokens
            OPENAI_BASE_URL=localhost:8088/v1
            """)
        #expect(causes(file) == [
            #"line 1: MIRA_MAX_TOKENS must be a whole number above 0, not "lots""#,
            #"line 2: MIRA_MAX_REPLY_CHARS must be a whole number above 0, not "0""#,
            #"line 3: MIRA_STRUCTURED must be tools or json-schema, not "grammar""#,
            #"line 4: MIRA_TOKEN_LIMIT_FIELD must be max_tokens or max_completion_tokens, not "tokens""#,
            #"line 5: OPENAI_BASE_URL must start with http:// or https://, not "localhost:8088/v1""#,
        ])
    }

    @Test func aNameIsSetOnce() {
        let file = parsed("MIRA_MODEL=a\nMIRA_MODEL=b\n")
        #expect(causes(file) == ["line 2: MIRA_MODEL is set again (first on line 1): keep one"])
        #expect(file["MIRA_MODEL"] == "a")
    }

    @Test func controlCharactersAndNULInAValueAreRefusedAndNeverEchoed() {
        let file = ConfigFile(parsing: Array("OPENAI_API_KEY=sk-se\u{1B}[2Jcret\nMIRA_MODEL=a\tb\nMIRA_DB=/x\rno\n".utf8) + Array("MIRA_MODEL=a".utf8) + [0, 0x62, 0x0A],
                              path: "/c/config")
        #expect(causes(file) == [
            "line 1: the value of OPENAI_API_KEY holds a control character (U+001B)",
            "line 2: the value of MIRA_MODEL holds a control character (U+0009)",
            "line 3: the value of MIRA_DB holds a control character (U+000D)",
            "line 4: the value of MIRA_MODEL holds a control character (U+0000)",
        ])
        #expect(!file.problems.map(\.cause).joined().contains("cret"))
    }

    @Test func bytesThatAreNotUTF8AreALineProblemNotACrash() {
        var bytes = Array("MIRA_MODEL=ok\n".utf8)
        bytes += Array("MIRA_DB=/x".utf8) + [0xFF, 0xFE, 0x0A]
        bytes += [0xC3, 0x28, 0x0A, 0x00, 0x00, 0x0A, 0x80]
        let file = ConfigFile(parsing: bytes, path: "/c/config")
        #expect(causes(file) == ["line 2: not UTF-8 text", "line 3: not UTF-8 text", "line 4: not NAME=value", "line 5: not UTF-8 text"])
        #expect(file["MIRA_MODEL"] == "ok")
    }

    @Test func anyBytesAtAllParseWithoutACrash() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let bytes = (0..<Int.random(in: 0..<400, using: &generator)).map { _ in
                [UInt8(0x0A), 0x3D, 0x23, 0x4D, 0x00, 0x0D, UInt8.random(in: 0...255, using: &generator)].randomElement(using: &generator)!
            }
            let file = ConfigFile(parsing: bytes, path: "/c/config")
            #expect(file.entries.allSatisfy { KnownSetting.named($0.name) != nil })
        }
    }

    @Test func aProblemIsShownWithItsFileAndLineAndHomeAsTilde() {
        let problem = ConfigProblem(.badLine, path: "/home/ann/.config/mira/config", line: 3, cause: "unknown setting X")
        #expect(problem.described(home: "/home/ann") == "~/.config/mira/config line 3: unknown setting X")
        #expect(problem.described(home: "/home/an") == "/home/ann/.config/mira/config line 3: unknown setting X")
        #expect(ConfigProblem(.unreadable, path: "/c/config", cause: "cannot read it").description == "/c/config: cannot read it")
    }
}

@Suite struct KnownSettings {
    @Test func theListIsTheREADMEsSettings() {
        #expect(KnownSetting.names == [
            "OPENAI_BASE_URL", "OPENAI_API_KEY", "SSL_CERT_FILE", "MIRA_MODEL", "MIRA_MAX_TOKENS", "MIRA_STRUCTURED",
            "MIRA_MAX_REPLY_CHARS", "MIRA_TOKEN_LIMIT_FIELD", "MIRA_DB", "MIRA_REPLY_CACHE",
            "MIRA_EMBED_MODEL", "MIRA_EMBED_BASE_URL", "MIRA_EMBED_MAX_INPUT", "MIRA_EMBED_BATCH", "MIRA_MEMORY",
        ])
    }

    @Test func onlyKeysAndSecretTokensAreSecrets() {
        let secrets = KnownSetting.names.filter(KnownSetting.isSecret)
        #expect(secrets == ["OPENAI_API_KEY"])
        #expect(KnownSetting.isSecret("GITHUB_TOKEN"))
        #expect(KnownSetting.isSecret("SOME_SECRET"))
        #expect(!KnownSetting.isSecret("MIRA_MAX_TOKENS"))
        #expect(!KnownSetting.isSecret("MIRA_TOKEN_LIMIT_FIELD"))
        #expect(!KnownSetting.isSecret("MONKEY_COUNT"))
    }

    @Test func aRedactedSecretShowsAtMostItsPrefixAndLastFour() {
        #expect(KnownSetting.redacted("sk-proj-abcdefghijklmnop1234") == "sk-…1234")
        #expect(KnownSetting.redacted("abcdefghijklmnop9876") == "…9876")
        #expect(KnownSetting.redacted("sk-short") == "(set)")
        #expect(KnownSetting.redacted("") == "")
    }
}

/// The environment over the file: set variables win, even empty ones.
@Suite struct ConfigLayering {
    let file = ConfigFile(parsing: Array("MIRA_MODEL=from-file\nOPENAI_API_KEY=sk-file\nMIRA_DB=/file.db\n".utf8), path: "/c/config")

    @Test func theEnvironmentBeatsTheFileAndTheFileFillsTheRest() {
        let environment = Environment(Environment(["MIRA_MODEL": "from-env"]), over: file)
        #expect(environment["MIRA_MODEL"] == "from-env")
        #expect(environment["MIRA_DB"] == "/file.db")
        #expect(environment["MIRA_MAX_TOKENS"] == nil)
    }

    @Test func aVariableSetEmptyBeatsTheFile() {
        let environment = Environment(Environment(["OPENAI_API_KEY": ""]), over: file)
        #expect(environment["OPENAI_API_KEY"] == nil)
        #expect(Environment(Environment([:]), over: file)["OPENAI_API_KEY"] == "sk-file")
    }

    @Test func onlyKnownNamesComeFromTheFile() {
        // A file can hold only known names; lookup refuses others all the same.
        let unknown = ConfigFile(parsing: Array("HOME=/evil\nXDG_CONFIG_HOME=/evil\n".utf8), path: "/c/config")
        #expect(unknown.entries.isEmpty)
        let environment = Environment(Environment(["HOME": "/h"]), over: file)
        #expect(environment["HOME"] == "/h")
        #expect(environment["XDG_DATA_HOME"] == nil)
        #expect(environment["PATH"] == nil)
    }

    @Test func theFileIsFoundFromTheVariablesAlone() {
        #expect(ConfigStore.located(environment: Environment(["XDG_CONFIG_HOME": "/x", "HOME": "/h"]))?.path == "/x/mira/config")
        #expect(ConfigStore.located(environment: Environment(["HOME": "/h"]))?.path == "/h/.config/mira/config")
        #expect(ConfigStore.located(environment: Environment([:])) == nil)
    }
}
