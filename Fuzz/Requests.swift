import MiraBatch
import MiraLLM
import MiraPrompt
import MiraShared

// Requests built the way mira-prompt builds them, once: the readers take the
// persona enum and the structured mode from the request they answer.
let toolsRequest = fuzzRequest(.tools)
let jsonSchemaRequest = fuzzRequest(.jsonSchema)

private func fuzzRequest(_ structured: StructuredMode) -> JSONObject {
    do {
        return try ChatRequest.build(
            history: [], input: "rough day", forcedPersona: nil, registry: PersonaRegistry(),
            settings: PromptSettings(model: "gpt-4.1", maxTokens: 512, structured: structured))
    } catch {
        fatalError("cannot build the fuzz request: \(error)")
    }
}

/// Whatever the server sent, a success carries a persona the request allowed.
func checkVerdict(_ verdict: Verdict, request: JSONObject) {
    guard case .success(let completion) = verdict else { return }
    let allowed = ReplyContract.personaEnum(in: request) ?? []
    check(allowed.contains(completion.reply.persona), "a reply with a persona the request did not offer passed")
}
