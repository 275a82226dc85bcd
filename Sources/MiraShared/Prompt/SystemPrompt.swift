/// The system message: Mira's core voice, the overlays, where the last turn
/// left off, and the output contract.
public enum SystemPrompt {
    static let contractHeading = "## How to answer"

    public static func text(
        overlays: [Persona], forced: Bool, lastAssistant: Message?, structured: StructuredMode
    ) -> String {
        var parts = [BuiltinPersonas.core]
        if forced, let only = overlays.first {
            parts.append("## Overlay for this turn: \(only.name)\nThe user asked for this overlay; speak through it.\n\n\(only.text)")
        } else {
            var block = "## Overlays\nEach turn, speak through the one overlay the moment calls for."
            for p in overlays { block += "\n\n### \(p.name)\n\(p.text)" }
            parts.append(block)
        }
        parts.append(context(lastAssistant: lastAssistant, forced: forced))
        parts.append(contract(overlays.map(\.name), structured: structured))
        return parts.joined(separator: "\n\n")
    }

    /// Carries the overlay across turns: the model sees where it left off.
    static func context(lastAssistant: Message?, forced: Bool) -> String {
        guard let last = lastAssistant, let persona = last.persona else {
            return "## Where you left off\nThis is the start of the conversation."
        }
        var line = "## Where you left off\nYour last reply used the \(persona) overlay"
        if let mood = last.mood { line += " with a \(mood) mood" }
        line += "."
        if !forced { line += " Stay in it unless the moment calls for another." }
        return line
    }

    static func contract(_ names: [String], structured: StructuredMode) -> String {
        let how = switch structured {
        case .tools: "Answer only by calling \(ChatRequest.functionName)"
        case .jsonSchema: "Answer only with one JSON object"
        }
        return """
            \(contractHeading)
            \(how) with exactly these fields:
            - output: your reply to the user, in your own voice
            - persona: the overlay you used, one of: \(names.joined(separator: ", "))
            - mood: your emotional tone in a word or two
            """
    }

    /// The prompt with its contract section swapped for another mode's.
    static func replacingContract(in text: String, personas: [String], with structured: StructuredMode) -> String {
        guard let range = text.firstRange(of: contractHeading) else { return text }
        return String(text[..<range.lowerBound]) + contract(personas, structured: structured)
    }
}
