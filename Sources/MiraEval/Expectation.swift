import MiraShared

/// What a turn's `expect` says a good reply looks like: any of some
/// personas, any of some moods. Either may be absent.
package struct Expectation: Equatable, Sendable {
    package var personas: [String]?
    package var moods: [String]?

    package init(personas: [String]? = nil, moods: [String]? = nil) {
        self.personas = personas
        self.moods = moods
    }

    /// Reads `{"persona": name or [names], "mood": word or [words]}`; nil
    /// when the value is not that shape (scored as `bad_expect`).
    package init?(json: JSON) {
        guard let o = json.objectValue else { return nil }
        func names(_ key: String) -> [String]?? {
            switch o[key] {
            case nil, .null?: return .some(nil)
            case .string(let s)?: return .some([s])
            case .array(let items)?:
                let strings = items.compactMap(\.stringValue)
                return strings.count == items.count && !strings.isEmpty ? .some(strings) : nil
            default: return nil
            }
        }
        guard let personas = names("persona"), let moods = names("mood") else { return nil }
        self.init(personas: personas, moods: moods)
    }

    /// The persona the confusion table files this turn under: the first one named.
    package var primaryPersona: String? { personas?.first.map(Self.folded) }

    package func personaMatches(_ actual: String) -> Bool {
        guard let personas else { return true }
        return personas.contains { Self.folded($0) == Self.folded(actual) }
    }

    /// A mood matches when it is an expected word or holds one as whole
    /// words: "gently playful" matches "playful", "unplayful" does not, and
    /// neither does a negated one ("not playful", "never playful").
    package func moodMatches(_ actual: String) -> Bool {
        guard let moods else { return true }
        let said = Self.words(actual)
        return moods.contains { expected in
            let wanted = Self.words(expected)
            guard !wanted.isEmpty, wanted.count <= said.count else { return false }
            return (0...(said.count - wanted.count)).contains { start in
                Array(said[start..<(start + wanted.count)]) == wanted && !said[..<start].contains(where: Self.negations.contains)
            }
        }
    }

    /// Words that turn the mood after them around.
    static let negations: Set<Substring> = ["not", "no", "never", "non", "un", "hardly", "barely", "without", "nor"]

    static func folded(_ s: String) -> String {
        String(s.lowercased().drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    /// Lower-cased runs of letters and digits.
    static func words(_ s: String) -> [Substring] {
        let lowered = s.lowercased()
        return lowered.split(whereSeparator: { !($0.isLetter || $0.isNumber) })
    }
}
