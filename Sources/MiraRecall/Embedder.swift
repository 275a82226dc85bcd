import MiraLLM
import MiraShared

/// Turns texts into vectors at the configured embeddings endpoint: the
/// client (batches, splitting, retries, checks) and a way to open a
/// connection, so the recall and index code never sees libcurl.
// Shared by index workers: each embed call opens its own transport, and the
// client is a value whose closures are set before the workers start.
package struct Embedder: @unchecked Sendable {
    package var client: EmbeddingClient
    package let makeTransport: () -> any ChatTransport

    package init(client: EmbeddingClient, makeTransport: @escaping () -> any ChatTransport) {
        self.client = client
        self.makeTransport = makeTransport
    }

    /// The model the vectors come from, stored with each one.
    package var model: String { client.settings.model }

    /// One unit vector per text, in order; a blank text's slot is empty.
    package func embed(_ texts: [String]) throws(StageError) -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        let transport = makeTransport()
        return try client.embed(texts, transport: transport)
    }
}
