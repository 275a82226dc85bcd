import MiraShared

/// A setting the config file may hold. Each is also the environment variable
/// of the same name, read by the tool the README's settings table names.
package struct KnownSetting: Sendable {
    /// What a non-empty value must look like.
    enum Rule: Sendable {
        case text
        case httpURL
        case positiveNumber
        case oneOf([String])
    }

    package let name: String
    let rule: Rule

    /// The one list of the names the config file takes, in the README's order.
    package static let all: [KnownSetting] = [
        KnownSetting(name: "OPENAI_BASE_URL", rule: .httpURL),
        KnownSetting(name: "OPENAI_API_KEY", rule: .text),
        KnownSetting(name: "SSL_CERT_FILE", rule: .text),
        KnownSetting(name: "MIRA_MODEL", rule: .text),
        KnownSetting(name: "MIRA_MAX_TOKENS", rule: .positiveNumber),
        KnownSetting(name: "MIRA_STRUCTURED", rule: .oneOf(StructuredMode.allCases.map(\.rawValue))),
        KnownSetting(name: "MIRA_MAX_REPLY_CHARS", rule: .positiveNumber),
        KnownSetting(name: "MIRA_TOKEN_LIMIT_FIELD", rule: .oneOf(TokenLimitField.allCases.map(\.rawValue))),
        KnownSetting(name: "MIRA_DB", rule: .text),
        KnownSetting(name: "MIRA_REPLY_CACHE", rule: .text),
        KnownSetting(name: "MIRA_EMBED_MODEL", rule: .text),
        KnownSetting(name: "MIRA_EMBED_BASE_URL", rule: .httpURL),
        KnownSetting(name: "MIRA_EMBED_MAX_INPUT", rule: .positiveNumber),
        KnownSetting(name: "MIRA_EMBED_BATCH", rule: .positiveNumber),
        KnownSetting(name: "MIRA_MEMORY", rule: .oneOf(["on", "off"])),
    ]

    package static let names: [String] = all.map(\.name)

    package static func named(_ name: String) -> KnownSetting? {
        all.first { $0.name == name }
    }

    /// Whether a name's value is a secret, shown redacted: a word KEY, SECRET
    /// or PASSWORD in it, or a last word TOKEN (ACCESS_TOKEN). A count of
    /// tokens is no secret: MIRA_MAX_TOKENS and MIRA_TOKEN_LIMIT_FIELD are shown.
    package static func isSecret(_ name: String) -> Bool {
        let words = name.uppercased().split(separator: "_")
        return words.contains { ["KEY", "APIKEY", "SECRET", "PASSWORD"].contains($0) } || words.last == "TOKEN"
    }

    /// A secret for a person's eyes: `sk-…` and the last 4 characters of a
    /// long key (enough to tell two keys apart), else only `(set)`.
    package static func redacted(_ value: String) -> String {
        if value.isEmpty { return "" }
        guard value.count >= 16 else { return "(set)" }
        let prefix = value.hasPrefix("sk-") ? "sk-" : ""
        return prefix + "…" + String(value.suffix(4))
    }

    /// The known name a mistyped one was most likely meant to be: equal but
    /// for case, or at most 2 edits away; nil when none is that close.
    package static func closest(to name: String) -> String? {
        let wanted = Array(name.uppercased().utf8)
        let scored = names.map { ($0, editDistance(wanted, Array($0.utf8))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2 else { return nil }
        return best.0
    }

    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.count > 64 || b.count > 64 { return Int.max }  // no name is that long
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + [Int](repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// Why `value` cannot be this setting's value, or nil. An empty value is
    /// always fine: like an empty variable, it means "not set". A secret's
    /// value is never repeated in the answer.
    package func problem(with value: String) -> String? {
        if let c = value.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            let code = String(c.value, radix: 16, uppercase: true)
            return "the value of \(name) holds a control character (U+\(String(repeating: "0", count: 4 - code.count))\(code))"
        }
        if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
            return "the value of \(name) is in quotes, and values are taken as written: drop the quotes"
        }
        if value.first == " " || value.last == " " {
            return "the value of \(name) starts or ends with a space, and values are taken as written: remove it"
        }
        guard !value.isEmpty else { return nil }
        let shown = KnownSetting.isSecret(name) ? "" : ", not \(Identifiers.quoted(value))"
        switch rule {
        case .text:
            return nil
        case .httpURL:
            return value.hasPrefix("http://") || value.hasPrefix("https://") ? nil : "\(name) must start with http:// or https://\(shown)"
        case .positiveNumber:
            guard let number = Int(value), number > 0 else { return "\(name) must be a whole number above 0\(shown)" }
            return nil
        case .oneOf(let choices):
            return choices.contains(value) ? nil : "\(name) must be \(choices.joined(separator: " or "))\(shown)"
        }
    }
}

/// Why a config file, or a setting for it, cannot be used: which file, which
/// line (nil for the whole file), and why, in words for a person.
package struct ConfigProblem: Error, Equatable, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// The file is there but cannot be read: permissions, not a regular
        /// file, a symbolic link, too big.
        case unreadable
        /// A line of the file is wrong.
        case badLine
        /// A name or value given to `ConfigStore.set`/`get`/`unset` is wrong.
        case badSetting
        /// The file or its folder cannot be written.
        case unwritable
    }

    package var kind: Kind
    package var path: String
    package var line: Int?
    package var cause: String

    package init(_ kind: Kind, path: String, line: Int? = nil, cause: String) {
        self.kind = kind
        self.path = path
        self.line = line
        self.cause = cause
    }

    /// `PATH line N: cause`, or `PATH: cause`.
    package var description: String { described(home: nil) }

    /// The same with `home` shown as `~`, as a person wrote the path.
    package func described(home: String?) -> String {
        var shown = path
        if let home, !home.isEmpty, home != "/", path.hasPrefix(home + "/") { shown = "~" + path.dropFirst(home.count) }
        return shown + (line.map { " line \($0)" } ?? "") + ": " + cause
    }
}

/// The config file: `NAME=value` lines, one setting a line, with the names
/// of the environment variables (`KnownSetting`). Blank lines and lines
/// whose first non-blank character is `#` are ignored. The value is every
/// character after the first `=`, as written: no quotes are removed and no
/// `#` starts a comment there, so a value in quotes, or with a space at
/// either end, is refused rather than guessed at. A CR before the line's
/// LF is dropped (a file saved with CRLF). A name may be set once.
package struct ConfigFile: Sendable, Equatable {
    /// One setting and the line it is on.
    package struct Entry: Sendable, Equatable {
        package var name: String
        package var value: String
        package var line: Int

        package init(name: String, value: String, line: Int) {
            self.name = name
            self.value = value
            self.line = line
        }
    }

    /// The good settings, in the file's order.
    package private(set) var entries: [Entry] = []
    /// Every line that is wrong, in the file's order.
    package private(set) var problems: [ConfigProblem] = []

    /// A config file is a handful of lines; anything bigger is not one.
    package static let sizeLimit = 64 * 1024

    package init() {}

    /// The value the file gives `name`, or nil.
    package subscript(name: String) -> String? {
        entries.first { $0.name == name }?.value
    }

    /// Reads the file's bytes, whatever they are: every wrong line becomes a
    /// problem naming its line and cause, never a crash.
    package init(parsing bytes: [UInt8], path: String) {
        var number = 0
        for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            number += 1
            let content = raw.last == 0x0D ? raw.dropLast() : raw
            guard let text = String(validating: content, as: UTF8.self) else {
                problems.append(ConfigProblem(.badLine, path: path, line: number, cause: "not UTF-8 text"))
                continue
            }
            switch Self.parse(line: text) {
            case .ignored:
                continue
            case .problem(let cause):
                problems.append(ConfigProblem(.badLine, path: path, line: number, cause: cause))
            case .setting(let name, let value):
                if let earlier = entries.first(where: { $0.name == name }) {
                    problems.append(ConfigProblem(.badLine, path: path, line: number, cause: "\(name) is set again (first on line \(earlier.line)): keep one"))
                } else {
                    entries.append(Entry(name: name, value: value, line: number))
                }
            }
        }
    }

    enum Line: Equatable {
        case ignored
        case setting(String, String)
        case problem(String)
    }

    static func parse(line text: String) -> Line {
        let trimmed = text.drop { $0 == " " || $0 == "\t" }
        if trimmed.isEmpty || trimmed.first == "#" { return .ignored }
        if trimmed.hasPrefix("export ") { return .problem("not NAME=value (write it without export)") }
        guard let equals = text.firstIndex(of: "=") else { return .problem("not NAME=value") }
        let name = String(text[..<equals]).trimmingBlanks
        let value = String(text[text.index(after: equals)...])
        guard isName(name) else { return .problem("not NAME=value") }
        if name.utf8.count != text.utf8.distance(from: text.utf8.startIndex, to: equals) {
            return .problem("spaces around \(name) (write NAME=value, with no spaces around =)")
        }
        guard let setting = KnownSetting.named(name) else { return .problem(unknown(name)) }
        if let problem = setting.problem(with: value) { return .problem(problem) }
        return .setting(name, value)
    }

    /// `unknown setting NAME (did you mean …?)`.
    package static func unknown(_ name: String) -> String {
        let shown = name.count > 64 ? String(name.prefix(64)) + "…" : name
        if let near = KnownSetting.closest(to: name) { return "unknown setting \(shown) (did you mean \(near)?)" }
        return "unknown setting \(shown) (known: \(KnownSetting.names.joined(separator: ", ")))"
    }

    /// A variable's shape: a letter or `_`, then letters, digits, `_`.
    package static func isName(_ s: String) -> Bool {
        guard let first = s.utf8.first, first == 0x5F || isLetter(first) else { return false }
        return s.utf8.allSatisfy { $0 == 0x5F || isLetter($0) || (0x30...0x39).contains($0) }
    }

    static func isLetter(_ b: UInt8) -> Bool { (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) }
}

extension String {
    /// Without spaces and tabs at either end.
    var trimmingBlanks: String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(drop(while: blank).reversed().drop(while: blank).reversed())
    }
}
