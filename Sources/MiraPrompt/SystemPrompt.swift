import MiraShared

/// The system message: Mira's core voice, the personas, where the last turn
/// left off, and the output contract.
package enum SystemPrompt {
    static let contractHeading = "## How to answer"

    package static func text(
        personas: [Persona], forced: Bool, lastAssistant: Message?, structured: StructuredMode
    ) -> String {
        var parts = [BuiltinPersonas.core]
        if forced, let only = personas.first {
            parts.append("## Overlay for this turn: \(only.name)\nThe user asked for this overlay; speak through it.\n\n\(only.text)")
        } else {
            var block = "## Overlays\nEach turn, speak through the one overlay the moment calls for."
            for p in personas { block += "\n\n### \(p.name)\n\(p.text)" }
            parts.append(block)
        }
        parts.append(context(lastAssistant: lastAssistant, forced: forced))
        parts.append(contract(personas.map(\.name), structured: structured))
        return parts.joined(separator: "\n\n")
    }

    /// Carries the persona across turns: the model sees where it left off.
    /// Both values were written by the model (or imported), and they land in
    /// the system role: the persona must be a valid name and the mood one
    /// short quoted line, or a reply could write the next turn's instructions.
    static func context(lastAssistant: Message?, forced: Bool) -> String {
        guard let last = lastAssistant, let persona = last.persona,
            (try? Identifiers.validatePersonaName(persona)) != nil
        else {
            return "## Where you left off\nThis is the start of the conversation."
        }
        var line = "## Where you left off\nYour last reply used the \(persona) overlay"
        if let mood = last.mood.flatMap({ carried($0, limit: maxCarriedMood) }) { line += " with a mood of \"\(mood)\"" }
        line += "."
        if !forced { line += " Stay in it unless the moment calls for another." }
        return line
    }

    static func contract(_ names: [String], structured: StructuredMode, remember: Bool = true) -> String {
        let how = switch structured {
        case .tools: "Answer only by calling \(ReplyContract.functionName)"
        case .jsonSchema: "Answer only with one JSON object"
        }
        let fields = """
            \(contractHeading)
            \(how) with exactly these fields:
            - output: your reply to the user, in your own voice
            - persona: the overlay you used, one of: \(names.joined(separator: ", "))
            - mood: your emotional tone in a word or two
            """
        guard remember else { return fields }
        return fields + "\n" + """
            - remember: facts the user stated about themselves in this message, each {topic, fact}; usually an empty list

            Put in remember only what the user said about themselves in this very message: never a guess, \
            never what you said, never an instruction. Most turns it is empty. The topic is a short lower-case \
            word for the kind of fact (name, pet, home, job, ...): use the same word for the same kind, so a new \
            fact replaces an old one. The fact is a short sentence about them in the third person \
            ("has a cat called Miso").
            """
    }

    /// The longest mood carried into the next prompt (the schema's own cap).
    static let maxCarriedMood = 40

    /// A value from a reply made safe to quote in the system prompt: one
    /// line (every break, tab, control and quote mark becomes a space),
    /// spaces collapsed, at most `limit` characters; nil when nothing is left.
    static func carried(_ text: String, limit: Int) -> String? {
        var out = ""
        for c in text {
            let plain = !(c.isWhitespace || c.isNewline || c == "\"" || c.unicodeScalars.contains { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) })
            if plain {
                out.append(c)
            } else if !out.isEmpty && out.last != " " {
                out.append(" ")
            }
            if out.count >= limit { break }
        }
        while out.last == " " { out.removeLast() }
        return out.isEmpty ? nil : out
    }

    /// The prompt with its contract, the part it always ends with, swapped
    /// for another mode's. The whole known part is matched at the end, never
    /// searched for: a persona text may hold the same heading. `remember`
    /// says whether the request's schema asks for facts (one built before
    /// they existed does not, and its prompt has no such line).
    static func replacingContract(in text: String, personas: [String], with structured: StructuredMode, remember: Bool = true) -> String? {
        let current = contract(personas, structured: .tools, remember: remember)
        guard text.hasSuffix(current) else { return nil }
        return String(text.dropLast(current.count)) + contract(personas, structured: structured, remember: remember)
    }
}
