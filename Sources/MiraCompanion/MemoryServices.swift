import MiraCurl
import MiraLLM
import MiraPrompt
import MiraRecall
import MiraShared
import MiraSQLite
import MiraSystem

/// Memory's connections to servers, made from the settings: the embedder
/// (MIRA_EMBED_*) and the summarizer (the chat server). Shared by `mira`
/// and `mira-memory`, so both talk to the same endpoints the same way.
package enum MemoryServices {
    /// The embedder the settings name; `model` (a flag) beats MIRA_EMBED_MODEL.
    package static func embedder(environment: Environment, model: String? = nil, shouldStop: (() -> Bool)? = nil) throws(UsageError) -> Embedder {
        var server = try EmbeddingServer(environment: environment)
        if let model { server.settings.model = model }
        try server.refuseKeylessOpenAI()
        var client = EmbeddingClient(settings: server.settings)
        if let shouldStop { client.isCancelled = shouldStop }
        CurlTransport.prepare()
        return Embedder(client: client, makeTransport: {
            let transport = server.transport()
            transport.shouldStop = shouldStop
            return transport
        })
    }

    /// A summarizer that asks the chat server of the settings.
    package static func summarizer(memory: MemoryStore, environment: Environment) throws(UsageError) -> Summarizer {
        let server = try ServerSettings(environment: environment)
        try server.refuseKeylessOpenAI()
        let settings = try PromptSettings(environment: environment)
        let endpoint = server.endpoint
        CurlTransport.prepare()
        return Summarizer(memory: memory, client: ChatClient(), settings: settings, makeTransport: { CurlTransport(endpoint: endpoint) })
    }
}
