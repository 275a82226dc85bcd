import MiraShared
import MiraSystem

/// An overlay on Mira's voice: a name and the prompt text that shapes it.
package struct Persona: Equatable, Sendable {
    package var name: String
    /// The prompt block, in Markdown.
    package var text: String
    /// Where it came from: "built-in" or the file that defines it.
    package var source: String

    package init(name: String, text: String, source: String) {
        self.name = name
        self.text = text
        self.source = source
    }

    /// The first non-empty line, without Markdown heading marks, for `--list-personas`.
    package var summary: String {
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.drop(while: { $0 == "#" || $0 == " " })
            if !trimmed.isEmpty { return String(trimmed) }
        }
        return ""
    }
}

/// The personas a turn may use: the four built in, then the user's own
/// `NAME.md` files, which add new ones or replace built-ins of the same name.
package struct PersonaRegistry: Sendable {
    package private(set) var personas: [Persona]

    package init(personas: [Persona] = BuiltinPersonas.all) {
        self.personas = personas
    }

    package var names: [String] { personas.map(\.name) }

    package subscript(name: String) -> Persona? {
        personas.first { $0.name == name }
    }

    /// Adds or replaces one persona.
    package mutating func install(_ persona: Persona) {
        if let i = personas.firstIndex(where: { $0.name == persona.name }) {
            personas[i] = persona
        } else {
            personas.append(persona)
        }
    }

    /// The most a persona file may hold: it goes into the system prompt.
    package static let maxFileBytes = 256 * 1024

    /// Loads `NAME.md` files from `directory` (missing folder: nothing to do).
    /// Only plain files are read: no symbolic link is followed and no FIFO
    /// waited on. Files whose names are not valid persona names are never
    /// read, so no name can reach outside the folder. Each file skipped comes
    /// back with the reason.
    package mutating func load(directory: String) -> (loaded: [String], skipped: [(file: String, reason: String)]) {
        var loaded: [String] = [], skipped: [(file: String, reason: String)] = []
        for file in Files.list(directory: directory).sorted() where file.hasSuffix(".md") {
            let name = String(file.dropLast(3))
            do {
                try Identifiers.validatePersonaName(name)
            } catch {
                skipped.append((file, "not a valid persona name (1-32 lower-case letters, digits, '-' or '_', starting with a letter)"))
                continue
            }
            let path = directory + "/" + file
            let bytes: [UInt8]
            switch Files.readRegularFile(path: path, limit: Self.maxFileBytes) {
            case .success(let read): bytes = read
            case .failure(let problem):
                skipped.append((file, problem.reason))
                continue
            }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                skipped.append((file, "not UTF-8 text"))
                continue
            }
            guard text.contains(where: { !$0.isWhitespace }) else {
                skipped.append((file, "empty"))
                continue
            }
            install(Persona(name: name, text: text, source: path))
            loaded.append(name)
        }
        return (loaded, skipped)
    }

    /// `$XDG_CONFIG_HOME/mira/personas`, else `~/.config/mira/personas`.
    package static func userDirectory(environment: Environment = .process) -> String? {
        MiraFolders.config(environment: environment).map { $0 + "/personas" }
    }
}

extension PersonaRegistry {
    /// The built-in personas and the user's folder, each skipped file
    /// handed to `skipped` with its reason (the caller says it on stderr).
    package static func withUserFolder(skipped: (_ path: String, _ reason: String) -> Void) -> PersonaRegistry {
        var registry = PersonaRegistry()
        if let dir = userDirectory() {
            for (file, reason) in registry.load(directory: dir).skipped { skipped("\(dir)/\(file)", reason) }
        }
        return registry
    }

    /// A persona name a person typed, checked: nil when it is one of these,
    /// else the reason with the list of known names.
    package func problem(with name: String) -> String? {
        do {
            try Identifiers.validatePersonaName(name)
        } catch {
            return error.message
        }
        return self[name] == nil ? "unknown persona \(Identifiers.quoted(name)) (known: \(names.joined(separator: ", ")))" : nil
    }
}
