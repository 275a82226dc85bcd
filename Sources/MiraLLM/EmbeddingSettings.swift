import MiraShared
import MiraSystem

/// Which embedding model to ask, and how much to send it at once.
package struct EmbeddingSettings: Equatable, Sendable {
    /// Sent as `model`; also what the stored vectors are labelled with.
    package var model: String
    /// The most UTF-8 bytes of one input sent as one piece; longer texts are
    /// split (a local MiniLM server answers 500 past 512 tokens).
    package var maxInputBytes: Int
    /// Inputs (pieces) per request.
    package var batchSize: Int

    package static let defaultModel = "text-embedding-3-small"
    package static let defaultMaxInputBytes = 8000
    package static let defaultBatchSize = 64
    /// A piece must hold any one Unicode scalar (4 bytes) and a word or two.
    package static let maxInputBytesRange = 16...(16 << 20)
    /// OpenAI takes at most 2048 inputs in one request.
    package static let batchSizeRange = 1...2048

    package init(model: String = defaultModel, maxInputBytes: Int = defaultMaxInputBytes, batchSize: Int = defaultBatchSize) {
        self.model = model
        self.maxInputBytes = maxInputBytes
        self.batchSize = batchSize
    }

    /// `MIRA_EMBED_MODEL`, `MIRA_EMBED_MAX_INPUT` (bytes), `MIRA_EMBED_BATCH`
    /// (inputs per request); unset or empty means the default. A number that
    /// is not a whole number in its range is refused before any request.
    package init(environment: Environment) throws(UsageError) {
        model = environment["MIRA_EMBED_MODEL"] ?? Self.defaultModel
        maxInputBytes = try Self.number(environment, "MIRA_EMBED_MAX_INPUT", Self.maxInputBytesRange, what: "UTF-8 bytes of one input")
            ?? Self.defaultMaxInputBytes
        batchSize = try Self.number(environment, "MIRA_EMBED_BATCH", Self.batchSizeRange, what: "inputs per request")
            ?? Self.defaultBatchSize
        if model.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw UsageError("MIRA_EMBED_MODEL holds a control character: fix the variable")
        }
    }

    static func number(_ environment: Environment, _ name: String, _ range: ClosedRange<Int>, what: String) throws(UsageError) -> Int? {
        guard let text = environment[name] else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound) (\(what)), not \(Identifiers.quoted(text))")
        }
        return value
    }
}
