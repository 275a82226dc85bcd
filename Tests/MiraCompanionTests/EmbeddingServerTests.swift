import Foundation
import MiraCurl
import MiraLLM
import MiraShared
import MiraSystem
import Testing

// The embeddings client through libcurl against the real fake server
// (Tests/Support/fake_openai.py), and the embedding server's settings. Here
// because this target links MiraCurl; the end-to-end target runs only
// executables.

/// fake_openai.py on a loopback port, stopped when this is released.
final class FakeEmbeddingServer {
    let process = Process()
    let lifeline = Pipe()  // closing it stops the server, even if the test dies
    let folder: String
    let port: Int

    init(arguments: [String]) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        folder = NSTemporaryDirectory() + "mira-embed-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root + "/Tests/Support/fake_openai.py", "--port", "0", "--log", folder + "/requests.jsonl",
                             "--exit-on-stdin-eof"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = lifeline
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT="), let port = Int(text.dropFirst(5)) else {
            process.terminate()
            throw UsageError("the fake server did not start: \(text)")
        }
        self.port = port
    }

    deinit {
        try? lifeline.fileHandleForWriting.close()
        process.terminate()
        try? FileManager.default.removeItem(atPath: folder)
    }

    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// The logged requests, in arrival order.
    func requests() throws -> [JSON] {
        let text = try String(contentsOfFile: folder + "/requests.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }
}

func cosine(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
}

@Suite(.serialized) struct EmbeddingsThroughCurl {
    func client(_ server: EmbeddingServer, waits: @escaping (Int) -> Void = { _ in }) -> EmbeddingClient {
        var client = EmbeddingClient(settings: server.settings, policy: RetryPolicy(maxRetries: 3))
        client.sleep = waits
        client.jitter = { 0 }
        return client
    }

    @Test func longTextsAreSplitSoASmallModelsServerTakesThemAndRateLimitsAreWaitedOut() throws {
        let fake = try FakeEmbeddingServer(arguments: ["--embed-max-input", "60", "--embed-behaviour", "429-once"])
        let server = try EmbeddingServer(environment: Environment([
            "MIRA_EMBED_BASE_URL": fake.baseURL, "MIRA_EMBED_MODEL": "fake-minilm",
            "MIRA_EMBED_MAX_INPUT": "50", "MIRA_EMBED_BATCH": "2", "OPENAI_API_KEY": "sk-test",
        ]))
        try server.refuseKeylessOpenAI()
        var waited: [Int] = []
        let long = String(repeating: "my cats like the warm windowsill in the morning sun ", count: 6)  // 312 bytes
        let texts = ["the cat sat on the mat", "cats sitting on mats", "quantum chromodynamics lecture notes", long, "  ",
                     "nul \u{0} and ünïcödé 🙂"]
        let vectors = try client(server) { waited.append($0) }.embed(texts, transport: server.transport())

        #expect(vectors.map(\.count) == [256, 256, 256, 256, 0, 256])
        for vector in vectors where !vector.isEmpty {
            #expect(abs(cosine(vector, vector) - 1) < 1e-4)
        }
        // Texts that share words are nearer than texts that share none.
        #expect(cosine(vectors[0], vectors[1]) > 0.3)
        #expect(cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.3)
        #expect(cosine(vectors[3], vectors[1]) > cosine(vectors[3], vectors[2]))
        #expect(waited == [50])  // the 429's retry-after-ms

        let requests = try fake.requests()
        #expect(requests.allSatisfy { $0["path"] == "/v1/embeddings" && $0["body"]?["model"] == "fake-minilm" })
        #expect(requests.allSatisfy { $0["headers"]?["authorization"] == "Bearer sk-test" })
        let inputs = requests.dropFirst().flatMap { $0["body"]?["input"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        #expect(requests.dropFirst().allSatisfy { ($0["body"]?["input"]?.arrayValue?.count ?? 0) <= 2 })
        #expect(inputs.allSatisfy { $0.utf8.count <= 50 })
        #expect(inputs.count == 3 + 7 + 1)  // the long text in 7 pieces; the blank one not sent
        #expect(inputs.last == "nul \u{0} and ünïcödé 🙂")
    }

    @Test func unsplitInputsOverTheServersLimitFailAfterTheRetries() throws {
        let fake = try FakeEmbeddingServer(arguments: ["--embed-max-input", "60"])
        let server = try EmbeddingServer(environment: Environment([
            "MIRA_EMBED_BASE_URL": fake.baseURL, "MIRA_EMBED_MODEL": "fake-minilm", "MIRA_EMBED_MAX_INPUT": "1000",
        ]))
        var waited: [Int] = []
        do {
            _ = try client(server) { waited.append($0) }.embed([String(repeating: "word ", count: 20)], transport: server.transport())
            Issue.record("a 100-byte input was taken by a server that takes 60")
        } catch {
            #expect(error.code == .gaveUp)
            #expect(error.message.contains("server answered 500") && error.message.contains("input is too large to process"))
        }
        #expect(try fake.requests().count == 4 && waited.count == 3)
    }

    @Test func aWrongAnswerFromTheServerIsABadResponse() throws {
        let fake = try FakeEmbeddingServer(arguments: ["--embed-behaviour", "wrong-dimension"])
        let server = try EmbeddingServer(environment: Environment(["MIRA_EMBED_BASE_URL": fake.baseURL]))
        do {
            _ = try client(server).embed(["one", "two"], transport: server.transport())
            Issue.record("vectors of two dimensions were taken")
        } catch {
            #expect(error.code == .badResponse)
            #expect(error.message.contains("embedding 1 with 255 dimensions where the others have 256"))
        }
    }

    @Test func aServerThatIsNotThereIsUnreachableAndTheAdviceNamesTheEmbeddingsSetting() throws {
        let server = try EmbeddingServer(environment: Environment(["MIRA_EMBED_BASE_URL": "http://127.0.0.1:1/v1"]))
        var client = client(server)
        client.policy = RetryPolicy(maxRetries: 0)
        do {
            _ = try client.embed(["hello"], transport: server.transport())
            Issue.record("a closed port answered")
        } catch {
            #expect(error.code == .unreachable)
            #expect(error.message.contains("MIRA_EMBED_BASE_URL"))
        }
    }
}

@Suite struct EmbeddingServerSettings {
    @Test func theBaseURLIsTheEmbeddingsOneElseTheChatsElseOpenAIs() throws {
        let own = try EmbeddingServer(environment: Environment(["MIRA_EMBED_BASE_URL": "http://e:1/v1", "OPENAI_BASE_URL": "http://c:2/v1"]))
        #expect(own.endpoint.embeddingsURL == "http://e:1/v1/embeddings")
        #expect(own.transport().requestURL == "http://e:1/v1/embeddings")
        let chats = try EmbeddingServer(environment: Environment(["OPENAI_BASE_URL": "http://c:2/v1/"]))
        #expect(chats.endpoint.embeddingsURL == "http://c:2/v1/embeddings")
        let openAI = try EmbeddingServer(environment: Environment(["OPENAI_API_KEY": "sk-x"]))
        #expect(openAI.endpoint.embeddingsURL == "https://api.openai.com/v1/embeddings")
        #expect(openAI.endpoint.apiKey == "sk-x")
    }

    @Test func aChatTransportStillPostsToChatCompletions() {
        let endpoint = Endpoint(baseURL: "http://c:2/v1", apiKey: nil)
        #expect(CurlTransport(endpoint: endpoint).requestURL == "http://c:2/v1/chat/completions")
        #expect(endpoint.completionsURL == "http://c:2/v1/chat/completions")
    }

    @Test func openAIWithoutAKeyIsRefusedBeforeAnyRequestAndALocalServerIsNot() throws {
        let keyless = try EmbeddingServer(environment: Environment(["MIRA_EMBED_MODEL": "text-embedding-3-small"]))
        #expect(throws: UsageError.self) { try keyless.refuseKeylessOpenAI() }
        let emptyKey = try EmbeddingServer(environment: Environment(["OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
                                                                     "MIRA_EMBED_BASE_URL": "https://API.openai.com/v1"]))
        #expect(throws: UsageError.self) { try emptyKey.refuseKeylessOpenAI() }
        let local = try EmbeddingServer(environment: Environment(["MIRA_EMBED_BASE_URL": "http://127.0.0.1:8081/v1"]))
        try local.refuseKeylessOpenAI()
    }

    @Test func aKeyWithALineBreakAndABadNumberAreUsageErrors() {
        #expect(throws: UsageError.self) { try EmbeddingServer(environment: Environment(["OPENAI_API_KEY": "sk-a\r\nX-Evil: 1"])) }
        #expect(throws: UsageError.self) { try EmbeddingServer(environment: Environment(["MIRA_EMBED_BATCH": "lots"])) }
    }

    @Test func memoryIsOnWhenAModelIsNamedAndMemoryIsNotOff() {
        #expect(EmbeddingServer.isConfigured(Environment(["MIRA_EMBED_MODEL": "all-MiniLM-L6-v2"])))
        #expect(EmbeddingServer.isConfigured(Environment(["MIRA_EMBED_MODEL": "m", "MIRA_MEMORY": "on"])))
        #expect(!EmbeddingServer.isConfigured(Environment(["MIRA_EMBED_MODEL": "m", "MIRA_MEMORY": "off"])))
        #expect(!EmbeddingServer.isConfigured(Environment(["MIRA_EMBED_MODEL": "m", "MIRA_MEMORY": "OFF"])))
        #expect(!EmbeddingServer.isConfigured(Environment(["MIRA_EMBED_MODEL": ""])))
        #expect(!EmbeddingServer.isConfigured(Environment(["MIRA_EMBED_BASE_URL": "http://127.0.0.1:8081/v1"])))
    }
}
