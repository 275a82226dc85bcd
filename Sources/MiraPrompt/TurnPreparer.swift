import MiraShared

/// What mira-prompt does to each record: settles the turn's input, id and
/// forced persona, and builds the exact request.
package struct TurnPreparer: Sendable {
    package var registry: PersonaRegistry
    package var settings: PromptSettings
    /// `--persona`: forces this persona on every record.
    package var forcedPersona: String?

    package init(registry: PersonaRegistry, settings: PromptSettings, forcedPersona: String? = nil) {
        self.registry = registry
        self.settings = settings
        self.forcedPersona = forcedPersona
    }

    /// Adds `input`, `turn` (when absent), `persona` (when forced) and `request`.
    /// `message` overrides the record's own input.
    package func prepare(_ record: inout Record, message: String?) throws(StageError) {
        guard let input = message ?? record.input else {
            throw StageError(.noInput, "no user message: give one as an argument, with --message-file, or in the record's input")
        }
        guard input.contains(where: { !$0.isWhitespace }) else {
            throw StageError(.noInput, "the user message is empty")
        }
        let persona = forcedPersona ?? record.persona
        let request = try ChatRequest.build(
            history: try record.history(), input: input, forcedPersona: persona,
            registry: registry, settings: settings)
        record.input = input
        if record.turn == nil { record.turn = Identifiers.newTurnID() }
        if let persona { record.persona = persona }
        record.request = request
    }
}
