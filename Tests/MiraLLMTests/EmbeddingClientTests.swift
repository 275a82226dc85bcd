import Testing
@testable import MiraLLM
import MiraShared
import MiraSystem
import MiraTestSupport

// The embeddings client against scripted servers: what it sends, how it
// reads and checks answers, retries, and splitting long texts.

/// An embeddings answer holding these vectors, with indexes in this order.
func embeddingsBody(_ vectors: [[Double]], indexes: [Int]? = nil, model: String = "embed-test") -> [UInt8] {
    let order = indexes ?? Array(vectors.indices)
    let items: [JSON] = zip(order, vectors).map { index, vector in
        ["object": "embedding", "index": .int(index), "embedding": .array(vector.map { .double($0) })]
    }
    return JSONWriter.bytes(["object": "list", "data": .array(items), "model": .string(model),
                             "usage": ["prompt_tokens": 1, "total_tokens": 1]])
}

/// A server that embeds every input as a vector of its own, worked out from
/// the text (so order and batching can be checked), and keeps the inputs of
/// each request.
final class DerivingEmbeddings: ChatTransport {
    var requests: [[String]] = []
    let vector: (String) -> [Double]

    init(vector: @escaping (String) -> [Double] = DerivingEmbeddings.lengthAndFirst) {
        self.vector = vector
    }

    /// `[UTF-8 length, first byte, 1]`: different for the tests' texts.
    static func lengthAndFirst(_ text: String) -> [Double] {
        [Double(text.utf8.count), Double(text.utf8.first ?? 0), 1]
    }

    func post(body: [UInt8], onChunk: (Int, UnsafeRawBufferPointer) -> Bool)
        -> Result<(status: Int, headers: [String: String]), TransportFailure>
    {
        let inputs = (try? JSONParser.parse(body))?["input"]?.arrayValue?.compactMap(\.stringValue) ?? []
        requests.append(inputs)
        let answer = embeddingsBody(inputs.map(vector))
        _ = answer.withUnsafeBytes { onChunk(200, $0) }
        return .success((200, [:]))
    }
}

func embeddingClient(model: String = "embed-test", maxInputBytes: Int = 8000, batchSize: Int = 64, maxRetries: Int = 3,
                     waits: Waits = Waits()) -> EmbeddingClient {
    var client = EmbeddingClient(settings: EmbeddingSettings(model: model, maxInputBytes: maxInputBytes, batchSize: batchSize),
                                 policy: RetryPolicy(maxRetries: maxRetries))
    client.sleep = { waits.milliseconds.append($0) }
    client.jitter = { 0 }
    client.now = { 0 }
    return client
}

func unit(_ v: [Double]) -> [Float] {
    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return v.map { Float($0 / norm) }
}

func near(_ a: [Float], _ b: [Float], within tolerance: Float = 1e-6) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
}

func length(_ v: [Float]) -> Double {
    v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
}

@Suite struct EmbeddingSettingsFromTheEnvironment {
    @Test func unsetVariablesGiveTheDefaults() throws {
        let settings = try EmbeddingSettings(environment: Environment([:]))
        #expect(settings == EmbeddingSettings(model: "text-embedding-3-small", maxInputBytes: 8000, batchSize: 64))
    }

    @Test func theVariablesAreRead() throws {
        let settings = try EmbeddingSettings(environment: Environment([
            "MIRA_EMBED_MODEL": "all-MiniLM-L6-v2", "MIRA_EMBED_MAX_INPUT": "500", "MIRA_EMBED_BATCH": "32",
        ]))
        #expect(settings == EmbeddingSettings(model: "all-MiniLM-L6-v2", maxInputBytes: 500, batchSize: 32))
    }

    @Test(arguments: [
        ("MIRA_EMBED_MAX_INPUT", "0"), ("MIRA_EMBED_MAX_INPUT", "-5"), ("MIRA_EMBED_MAX_INPUT", "1.5"),
        ("MIRA_EMBED_MAX_INPUT", "8k"), ("MIRA_EMBED_MAX_INPUT", "15"), ("MIRA_EMBED_MAX_INPUT", "99999999999999999999"),
        ("MIRA_EMBED_BATCH", "0"), ("MIRA_EMBED_BATCH", "2049"), ("MIRA_EMBED_BATCH", "many"),
    ])
    func aBadNumberIsAUsageErrorNamingTheVariable(name: String, value: String) {
        do {
            _ = try EmbeddingSettings(environment: Environment([name: value]))
            Issue.record("\(name)=\(value) was taken")
        } catch {
            #expect(error.message.contains(name) && error.message.contains("whole number"))
        }
    }
}

@Suite struct EmbeddingPiecesCutting {
    @Test func aTextThatFitsIsOnePieceExactlyAsGiven() {
        #expect(EmbeddingPieces.pieces(of: "  hello there \n", maxBytes: 16) == ["  hello there \n"])
    }

    @Test func nothingButWhitespaceHasNoPieces() {
        #expect(EmbeddingPieces.pieces(of: "", maxBytes: 16).isEmpty)
        #expect(EmbeddingPieces.pieces(of: " \n\t\u{3000}", maxBytes: 16).isEmpty)
        #expect(EmbeddingPieces.pieces(of: String(repeating: " ", count: 100), maxBytes: 16).isEmpty)
    }

    @Test func aLongTextIsCutAtWhitespaceAndNoWordIsBroken() {
        let words = (1...60).map { "word\($0)" }
        let text = words.joined(separator: " ")
        let pieces = EmbeddingPieces.pieces(of: text, maxBytes: 20)
        #expect(pieces.count > 1)
        #expect(pieces.allSatisfy { $0.utf8.count <= 20 && !$0.hasPrefix(" ") && !$0.hasSuffix(" ") })
        #expect(pieces.flatMap { $0.split(separator: " ").map(String.init) } == words)
    }

    @Test func aRunWithoutWhitespaceIsCutBetweenCharactersNeverInsideOne() {
        // Two-byte "é" and three-byte "中" against an odd limit: a byte cut would land inside one.
        let text = String(repeating: "é中", count: 40)
        let pieces = EmbeddingPieces.pieces(of: text, maxBytes: 17)
        #expect(pieces.count > 1)
        #expect(pieces.allSatisfy { $0.utf8.count <= 17 })
        #expect(pieces.dropLast().allSatisfy { $0.utf8.count >= 17 - 2 })  // full but for less than one Character
        #expect(pieces.joined() == text)
    }

    @Test func aWordIsCutOnlyWhenItIsLongerThanAPiece() {
        let text = "short " + String(repeating: "x", count: 40) + " tail"
        let pieces = EmbeddingPieces.pieces(of: text, maxBytes: 16)
        #expect(pieces == ["short", String(repeating: "x", count: 16), String(repeating: "x", count: 16), "xxxxxxxx tail"])
    }

    @Test func aCharacterLongerThanAPieceIsCutBetweenItsScalars() {
        // One Character: a letter with 30 combining marks (2 bytes each), 61 bytes.
        let text = "a" + String(repeating: "\u{0301}", count: 30)
        #expect(text.count == 1)
        let pieces = EmbeddingPieces.pieces(of: text, maxBytes: 16)
        #expect(pieces.allSatisfy { $0.utf8.count <= 16 && !$0.isEmpty })
        #expect(pieces.flatMap { Array($0.unicodeScalars) } == Array(text.unicodeScalars))
    }

    @Test func nulAndOddCharactersAreKeptInThePieces() {
        let text = "a\u{0}b \u{FEFF}c\u{202E}d " + String(repeating: "🙂", count: 10)
        let pieces = EmbeddingPieces.pieces(of: text, maxBytes: 16)
        let four = String(repeating: "🙂", count: 4)
        #expect(pieces == ["a\u{0}b \u{FEFF}c\u{202E}d", four, four, "🙂🙂"])
    }
}

@Suite struct EmbeddingRequests {
    @Test func manyTextsGoInBatchesAndComeBackInOrder() throws {
        let server = DerivingEmbeddings()
        let texts = ["a", "bb", "ccc", "dddd", "eeeee"]
        let vectors = try embeddingClient(batchSize: 2).embed(texts, transport: server)
        #expect(server.requests == [["a", "bb"], ["ccc", "dddd"], ["eeeee"]])
        #expect(vectors.count == 5)
        for (text, vector) in zip(texts, vectors) {
            #expect(near(vector, unit(DerivingEmbeddings.lengthAndFirst(text))))
        }
    }

    @Test func theRequestNamesTheModelAndListsTheInputs() throws {
        let transport = ScriptedTransport([ok(embeddingsBody([[1, 0], [0, 1]]))])
        _ = try embeddingClient(model: "all-MiniLM-L6-v2").embed(["one", "two"], transport: transport)
        #expect(transport.bodies == [["model": "all-MiniLM-L6-v2", "input": ["one", "two"]]])
    }

    @Test func itemsAreMatchedToInputsByIndexNotByPosition() throws {
        let transport = ScriptedTransport([ok(embeddingsBody([[0, 0, 1], [0, 1, 0], [1, 0, 0]], indexes: [2, 1, 0]))])
        let vectors = try embeddingClient().embed(["x", "y", "z"], transport: transport)
        #expect(vectors == [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    }

    @Test func everyVectorComesBackWithLengthOne() throws {
        let transport = ScriptedTransport([ok(embeddingsBody([[3, 4], [0, -0.001]]))])
        let vectors = try embeddingClient().embed(["x", "y"], transport: transport)
        #expect(near(vectors[0], [0.6, 0.8]))
        #expect(vectors[1] == [0, -1])
    }

    @Test func emptyAndWhitespaceTextsAreNotSentAndGetAnEmptyVector() throws {
        let server = DerivingEmbeddings()
        let vectors = try embeddingClient().embed(["", "hi", " \n ", "there"], transport: server)
        #expect(server.requests == [["hi", "there"]])
        #expect(vectors.map(\.count) == [0, 3, 0, 3])
    }

    @Test func nothingToEmbedSendsNoRequest() throws {
        let transport = ScriptedTransport([])
        #expect(try embeddingClient().embed([], transport: transport).isEmpty)
        #expect(try embeddingClient().embed(["  "], transport: transport) == [[]])
        #expect(transport.bodies.isEmpty)
    }

    @Test func nulAndOddUnicodeAreSentByteForByte() throws {
        let texts = ["nul \u{0} inside", "bidi \u{202E}olleh\u{202C}", "bom \u{FEFF} zwj 👩‍👩‍👧", "quote \" back \\ slash \u{1B}[2J", "\u{10FFFF}"]
        let server = DerivingEmbeddings()
        var sent: [[UInt8]] = []
        final class Recorder: ChatTransport {
            let inner: DerivingEmbeddings
            var onBody: ([UInt8]) -> Void
            init(_ inner: DerivingEmbeddings, onBody: @escaping ([UInt8]) -> Void) { self.inner = inner; self.onBody = onBody }
            func post(body: [UInt8], onChunk: (Int, UnsafeRawBufferPointer) -> Bool)
                -> Result<(status: Int, headers: [String: String]), TransportFailure>
            {
                onBody(body)
                return inner.post(body: body, onChunk: onChunk)
            }
        }
        _ = try embeddingClient().embed(texts, transport: Recorder(server) { sent.append($0) })
        #expect(server.requests == [texts])
        // Valid JSON whose strings are the texts' exact UTF-8; NUL escaped, not dropped.
        let body = try #require(sent.first)
        #expect(String(validating: body, as: UTF8.self) != nil)
        #expect(String(decoding: body, as: UTF8.self).contains(#"nul \u0000 inside"#))
        #expect(try JSONParser.parse(body)["input"]?.arrayValue?.compactMap(\.stringValue).map { Array($0.utf8) } == texts.map { Array($0.utf8) })
    }
}

@Suite struct EmbeddingLongTexts {
    @Test func aTextOverTheLimitIsSentInPiecesAndItsVectorIsTheirNormalisedMean() throws {
        // Each piece embeds as [first letter is "a", is "b", 1]: the pieces differ.
        let server = DerivingEmbeddings { text in [text.hasPrefix("a") ? 2 : 0, text.hasPrefix("b") ? 2 : 0, 1] }
        let long = "aaaa aaaa aaaa bbbb bbbb bbbb"  // 29 bytes; pieces of at most 16
        let vectors = try embeddingClient(maxInputBytes: 16).embed(["short", long], transport: server)
        #expect(server.requests == [["short", "aaaa aaaa aaaa", "bbbb bbbb bbbb"]])
        let a = unit([2, 0, 1]), b = unit([0, 2, 1])
        #expect(near(vectors[1], unit(zip(a, b).map { Double($0) + Double($1) })))
        #expect(abs(length(vectors[1]) - 1) < 1e-6)
        #expect(near(vectors[0], unit([0, 0, 1])))
    }

    @Test func piecesOfOneTextMaySpanBatches() throws {
        let server = DerivingEmbeddings()
        let long = (1...10).map { "w\($0)" }.joined(separator: " ")  // 29 bytes
        let vectors = try embeddingClient(maxInputBytes: 16, batchSize: 1).embed([long, "after"], transport: server)
        #expect(server.requests.count == 3)
        #expect(server.requests.allSatisfy { $0.count == 1 && $0[0].utf8.count <= 16 })
        #expect(vectors.count == 2 && vectors.allSatisfy { abs(length($0) - 1) < 1e-6 })
        #expect(near(vectors[1], unit(DerivingEmbeddings.lengthAndFirst("after"))))
    }

    @Test func multiByteTextIsCutBetweenCharacters() throws {
        let server = DerivingEmbeddings()
        let text = String(repeating: "日本語", count: 20)  // 180 bytes, no whitespace
        _ = try embeddingClient(maxInputBytes: 16).embed([text], transport: server)
        let sent = server.requests.flatMap { $0 }
        #expect(sent.allSatisfy { $0.utf8.count <= 16 })
        #expect(sent.joined() == text)
    }
}

@Suite struct EmbeddingAnswersThatAreWrong {
    static let cases: [(String, String)] = [
        ("<html>oops</html>", "not JSON"),
        ("[1, 2]", "an array, not an embeddings list"),
        (#"{"object": "list"}"#, "no data array"),
        (#"{"data": [{"index": 0, "embedding": [1, 0]}]}"#, "1 embedding for 2 inputs"),
        (#"{"data": [{"index": 0, "embedding": [1, 0]}, {"index": 1, "embedding": [0, 1]}, {"index": 2, "embedding": [1, 1]}]}"#, "3 embeddings for 2 inputs"),
        (#"{"data": [{"embedding": [1, 0]}, {"index": 1, "embedding": [0, 1]}]}"#, "data item 0 with no whole-number index"),
        (#"{"data": [{"index": "0", "embedding": [1, 0]}, {"index": 1, "embedding": [0, 1]}]}"#, "no whole-number index"),
        (#"{"data": [{"index": 0, "embedding": [1, 0]}, {"index": 2, "embedding": [0, 1]}]}"#, "index 2, out of range for 2 inputs"),
        (#"{"data": [{"index": -1, "embedding": [1, 0]}, {"index": 1, "embedding": [0, 1]}]}"#, "index -1, out of range"),
        (#"{"data": [{"index": 0, "embedding": [1, 0]}, {"index": 0, "embedding": [0, 1]}]}"#, "index 0 twice"),
        (#"{"data": [{"index": 0, "embedding": "AACAPw=="}, {"index": 1, "embedding": [0, 1]}]}"#, "a string as embedding 0, not an array of numbers (base64?"),
        (#"{"data": [{"index": 0}, {"index": 1, "embedding": [0, 1]}]}"#, "nothing as embedding 0"),
        (#"{"data": [{"index": 0, "embedding": []}, {"index": 1, "embedding": [0, 1]}]}"#, "an empty embedding 0"),
        (#"{"data": [{"index": 0, "embedding": [1, "2"]}, {"index": 1, "embedding": [0, 1]}]}"#, "embedding 0 with a string at position 1"),
        (#"{"data": [{"index": 0, "embedding": [1, null]}, {"index": 1, "embedding": [0, 1]}]}"#, "embedding 0 with null at position 1"),
        (#"{"data": [{"index": 0, "embedding": [1, 1e39]}, {"index": 1, "embedding": [0, 1]}]}"#, "embedding 0 with a number out of range at position 1"),
        (#"{"data": [{"index": 0, "embedding": [1, 1e999]}, {"index": 1, "embedding": [0, 1]}]}"#, "a number out of range"),
        (#"{"data": [{"index": 0, "embedding": [1, 0]}, {"index": 1, "embedding": [0, 1, 0]}]}"#, "embedding 1 with 3 dimensions where the others have 2"),
        (#"{"data": [{"index": 0, "embedding": [0, 0]}, {"index": 1, "embedding": [0, 1]}]}"#, "embedding 0 of all zeros"),
        (#"{"data": [{"index": 0, "embedding": [1e-300, 0]}, {"index": 1, "embedding": [0, 1]}]}"#, "embedding 0 of all zeros"),
        (#"{"data": [7, {"index": 1, "embedding": [0, 1]}]}"#, "data item 0 with no whole-number index"),
    ]

    @Test(arguments: cases)
    func isABadResponseThatSaysWhatWasWrong(body: String, says: String) {
        let transport = ScriptedTransport([ok(Array(body.utf8))], repeatLast: true)
        let error = failureCode { _ = try embeddingClient().embed(["first", "second"], transport: transport) }
        #expect(error?.code == .badResponse)
        #expect(error?.message.contains(says) == true, "\(error?.message ?? "no error")")
        #expect(transport.bodies.count == 1)  // a wrong answer is not asked again
    }

    @Test func aDimensionThatChangesBetweenBatchesIsRefused() {
        let transport = ScriptedTransport([ok(embeddingsBody([[1, 0, 0]])), ok(embeddingsBody([[1, 0]]))])
        let error = failureCode { _ = try embeddingClient(batchSize: 1).embed(["a", "b"], transport: transport) }
        #expect(error?.code == .badResponse)
        #expect(error?.message.contains("embedding 0 with 2 dimensions where the others have 3") == true)
    }

    @Test func anErrorReportedInsideA200IsRetriedLikeChatsAndItsWordsKept() throws {
        let waits = Waits()
        let transport = ScriptedTransport([
            ok(Array(#"{"error": {"message": "model is loading", "type": "server_error"}}"#.utf8)),
            ok(embeddingsBody([[1, 0]])),
        ])
        let vectors = try embeddingClient(waits: waits).embed(["x"], transport: transport)
        #expect(vectors == [[1, 0]])
        #expect(waits.milliseconds == [500])
        let refused = ScriptedTransport([ok(Array(#"{"error": {"message": "too long", "type": "invalid_request_error"}}"#.utf8))])
        let error = failureCode { _ = try embeddingClient().embed(["x"], transport: refused) }
        #expect(error?.code == .badRequest && error?.message.contains("too long") == true)
    }

    @Test func anAnswerOverTheSizeLimitIsRefused() {
        var client = embeddingClient()
        client.maxResponseBytes = 40
        let transport = ScriptedTransport([ok(embeddingsBody([[1, 0, 0, 0, 0, 0]]))])
        let error = failureCode { _ = try client.embed(["x"], transport: transport) }
        #expect(error?.code == .replyTooLarge)
    }

    @Test func theDefaultSizeLimitGrowsWithTheBatch() {
        #expect(EmbeddingClient.defaultMaxResponseBytes(batchSize: 64) == (1 << 20) + 64 * 256 * 1024)
        #expect(EmbeddingClient(settings: EmbeddingSettings(batchSize: 2048)).maxResponseBytes > 500 << 20)
    }
}

@Suite struct EmbeddingRetries {
    @Test func aRateLimitIsWaitedOutAsTheServerAsksThenRetried() throws {
        let waits = Waits()
        var notices: [RetryNotice] = []
        var client = embeddingClient(waits: waits)
        client.onRetry = { notices.append($0) }
        let transport = ScriptedTransport([
            .http(status: 429, headers: parsedHeaders("retry-after: 2\r\n"), chunks: [Array(#"{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}"#.utf8)]),
            .http(status: 429, headers: ["retry-after-ms": "50"], chunks: []),
            ok(embeddingsBody([[0, 2]])),
        ])
        let vectors = try client.embed(["x"], transport: transport)
        #expect(vectors == [[0, 1]])
        #expect(waits.milliseconds == [2000, 50])
        #expect(notices.map(\.cause) == [.status(429), .status(429)])
        #expect(notices.map(\.retry) == [1, 2])
        #expect(notices.first?.message.contains("Rate limit reached") == true)
        #expect(transport.bodies.count == 3 && transport.bodies[0] == transport.bodies[2])
    }

    @Test func givesUpAfterTheRetriesSayingHowManyAttempts() {
        let waits = Waits()
        let transport = ScriptedTransport([.http(status: 500, chunks: [Array(#"{"error":{"code":500,"message":"input is too large to process"}}"#.utf8)])], repeatLast: true)
        let error = failureCode { _ = try embeddingClient(maxRetries: 2, waits: waits).embed(["x"], transport: transport) }
        #expect(error?.code == .gaveUp)
        #expect(error?.message.contains("gave up after 3 attempts") == true)
        #expect(error?.message.contains("input is too large") == true)
        #expect(waits.milliseconds == [500, 1000])
    }

    @Test func aBrokenConnectionIsRetriedAndAFatalOneIsNot() throws {
        let transport = ScriptedTransport([.broken(TransportFailure(.broken, "reset")), ok(embeddingsBody([[1]]))])
        #expect(try embeddingClient().embed(["x"], transport: transport) == [[1]])
        let fatal = ScriptedTransport([.broken(TransportFailure(.fatal, "bad URL"))], repeatLast: true)
        let error = failureCode { _ = try embeddingClient().embed(["x"], transport: fatal) }
        #expect(error?.code == .unreachable && fatal.bodies.count == 1)
    }

    @Test func aRejectedKeyIsNotRetried() {
        let waits = Waits()
        let transport = ScriptedTransport([.http(status: 401, chunks: [])], repeatLast: true)
        let error = failureCode { _ = try embeddingClient(waits: waits).embed(["x"], transport: transport) }
        #expect(error?.code == .rejectedKey)
        #expect(error?.message.contains("OPENAI_API_KEY") == true)
        #expect(transport.bodies.count == 1 && waits.milliseconds.isEmpty)
    }

    @Test func aMissingEndpointNamesTheEmbeddingsSetting() {
        final class At: ChatTransport {
            let inner = ScriptedTransport([.http(status: 404, chunks: [Array(#"{"error":{"message":"Not Found"}}"#.utf8)])])
            var requestURL: String? { "http://user:secret@h:8/v2/embeddings?key=abc" }
            func post(body: [UInt8], onChunk: (Int, UnsafeRawBufferPointer) -> Bool)
                -> Result<(status: Int, headers: [String: String]), TransportFailure> { inner.post(body: body, onChunk: onChunk) }
        }
        let error = failureCode { _ = try embeddingClient().embed(["x"], transport: At()) }
        #expect(error?.code == .badRequest)
        #expect(error?.message.contains("MIRA_EMBED_BASE_URL") == true)
        #expect(error?.message.contains("/v2/embeddings") == true)
        #expect(error?.message.contains("secret") == false && error?.message.contains("abc") == false)
    }

    @Test func cancellingStopsBeforeTheNextBatch() {
        let server = DerivingEmbeddings()
        var client = embeddingClient(batchSize: 1)
        client.isCancelled = { !server.requests.isEmpty }
        let error = failureCode { _ = try client.embed(["a", "b", "c"], transport: server) }
        #expect(error == StageError(.gaveUp, "cancelled"))
        #expect(server.requests.count == 1)
    }

    @Test func cancellingStopsARetry() {
        let waits = Waits()
        let transport = ScriptedTransport([.http(status: 429, headers: ["retry-after-ms": "50"], chunks: [])], repeatLast: true)
        var client = embeddingClient(waits: waits)
        client.isCancelled = { !transport.bodies.isEmpty }
        let error = failureCode { _ = try client.embed(["x"], transport: transport) }
        #expect(error == StageError(.gaveUp, "cancelled"))
        #expect(transport.bodies.count == 1 && waits.milliseconds.isEmpty)
    }
}
