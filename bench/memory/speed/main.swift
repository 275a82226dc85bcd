// mira-memory-bench: how fast recall searches memory at 10 thousand to 1
// million stored messages (bench/memory/speed.md). Not a test: it prints
// medians, asserts nothing, and keeps its databases outside the repository.
//
//     swift build -c release --product mira-memory-bench
//     .build/release/mira-memory-bench [--dir DIR] [--runs N] [SIZE...]

#if canImport(Glibc)
import Glibc
#endif
import MiraMemory
import MiraShared
import MiraSQLite
import MiraSystem

let dimension = 384
let model = "bench-random-384"

struct Options {
    var sizes = [10_000, 100_000, 1_000_000]
    var directory = (Environment.process["HOME"] ?? "/tmp") + "/.cache/mira/bench/memory"
    var runs = 15
    var k = 50

    init(_ arguments: [String]) {
        var rest = arguments[...]
        var sizes: [Int] = []
        while let a = rest.popFirst() {
            switch a {
            case "--dir": directory = rest.popFirst() ?? directory
            case "--runs": runs = rest.popFirst().flatMap { Int($0) }.map { max(1, $0) } ?? runs
            case "--k": k = rest.popFirst().flatMap { Int($0) }.map { max(1, $0) } ?? k
            default:
                guard let n = Int(a), n > 0, n <= 10_000_000 else {
                    complain("not a size: \(a) (a count of messages, 1 to 10000000)")
                    exit(64)
                }
                sizes.append(n)
            }
        }
        if !sizes.isEmpty { self.sizes = sizes }
    }
}

/// A reproducible stream of numbers (xorshift64*).
struct Random {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func vector() -> [Float] {
        // Sums of uniforms: close enough to Gaussian for directions spread over the sphere.
        Vectors.normalized((0..<dimension).map { _ in Float(unit() + unit() + unit() - 1.5) })!
    }
}

/// Made-up words with a Zipf-like frequency, so some are in half the
/// messages (as "the" is) and most are rare: BM25 sees realistic postings.
struct Vocabulary {
    let words: [String]
    init() {
        var random = Random(seed: 42)
        let syllables = ["ka", "lo", "mi", "ren", "tu", "sa", "vel", "or", "in", "dra", "po", "li", "ne", "ash", "qu", "ber"]
        words = (0..<20_000).map { _ in
            (0..<(2 + Int(random.next() % 3))).map { _ in syllables[Int(random.next() % UInt64(syllables.count))] }.joined()
        }
    }
    func word(_ random: inout Random) -> String {
        // Rank r with probability about 1/r: exp of a uniform over log(ranks).
        let r = Int(expApprox(random.unit() * 9.9))
        return words[min(words.count - 1, r)]
    }
    func sentence(_ random: inout Random, words n: Int) -> String {
        (0..<n).map { _ in word(&random) }.joined(separator: " ")
    }
}

func expApprox(_ x: Double) -> Double {
    var term = 1.0, sum = 1.0
    for n in 1...40 {
        term *= x / Double(n)
        sum += term
    }
    return sum
}

func complain(_ message: String) {
    let line = Array("mira-memory-bench: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func ms(_ x: Double) -> String {
    let tenths = Int((x * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}

func fail(_ error: StageError) -> Never {
    complain(error.message)
    exit(74)
}

/// Fills a database with `size` messages (two a turn, 500 a session) and
/// their random vectors, unless one of that size is already there.
func fill(path: String, size: Int, vocabulary: Vocabulary) throws(StageError) -> SessionStore {
    let store = try SessionStore(path: path)
    let memory = MemoryStore(store)
    let have = try memory.stats().messages
    if have == size, try memory.pendingMessages(limit: 1).isEmpty { return store }
    guard have == 0 else { throw StageError(.storeFailed, "\(path) holds \(have) messages, not \(size): remove it") }
    let start = SystemTime.monotonicMilliseconds()
    var random = Random(seed: UInt64(size))
    var made = 0
    // Times a day apart per session, so recency has something to weigh.
    let count = try store.importMessages { () throws(StageError) -> StoredMessage? in
        guard made < size else { return nil }
        defer { made += 1 }
        let session = made / 500
        let time = SystemTime.iso8601(seconds: 1_700_000_000 + session * 86_400 + (made % 500) * 60, milliseconds: 0)
        let text = vocabulary.sentence(&random, words: 8 + Int(random.next() % 23))
        return StoredMessage(
            session: "s\(session)", turn: "t\(made / 2)",
            message: Message(role: made % 2 == 0 ? .user : .assistant, content: text, time: time))
    }
    let stored = SystemTime.monotonicMilliseconds()
    var after: Int64 = 0
    while true {
        let batch = try memory.pendingMessages(limit: 4096, after: after)
        guard let last = batch.last else { break }
        try memory.storeVectors(batch.map { ($0.id, random.vector()) }, model: model)
        after = last.id
    }
    let indexed = SystemTime.monotonicMilliseconds()
    _ = try memory.scrub()  // checkpoint, so searches read the file, not a 1 GB WAL
    print("filled \(count.added) messages in \(ms((stored - start) / 1000)) s, vectors in \(ms((indexed - stored) / 1000)) s")
    return store
}

/// The arithmetic alone, on vectors already in memory: what a scan costs
/// before SQLite adds reading the blobs.
func kernels(count: Int) {
    var random = Random(seed: 3)
    let floats = (0..<count).flatMap { _ in random.vector() }
    let codes: [Int8] = floats.map { Int8(max(-127, min(127, ($0 * 1270).rounded()))) }
    let query = random.vector()
    let qCodes = Quantization.quantize(query).codes
    var floatTimes: [Double] = [], int8Times: [Double] = [], scalarTimes: [Double] = []
    var sink: Float = 0
    for _ in 0..<7 {
        let t0 = SystemTime.monotonicMilliseconds()
        floats.withUnsafeBufferPointer { all in
            query.withUnsafeBufferPointer { q in
                var best = TopK(50)
                for i in 0..<count { best.add(id: Int64(i), score: Vectors.dot(q, UnsafeBufferPointer(rebasing: all[i * dimension..<(i + 1) * dimension]))) }
                sink += best.sorted()[0].score
            }
        }
        let t1 = SystemTime.monotonicMilliseconds()
        codes.withUnsafeBytes { all in
            qCodes.withUnsafeBytes { q in
                var best = TopK(120)
                for i in 0..<count { best.add(id: Int64(i), score: Float(Quantization.dot(q.baseAddress!, all.baseAddress! + i * dimension, count: dimension))) }
                sink += best.sorted()[0].score
            }
        }
        let t2 = SystemTime.monotonicMilliseconds()
        var best: Float = -1
        for i in 0..<count {
            var s: Float = 0
            for j in 0..<dimension { s += floats[i * dimension + j] * query[j] }
            best = max(best, s)
        }
        sink += best
        let t3 = SystemTime.monotonicMilliseconds()
        floatTimes.append(t1 - t0)
        int8Times.append(t2 - t1)
        scalarTimes.append(t3 - t2)
    }
    print("kernels over \(count) vectors in memory (median of 7, ms): scalar float loop \(ms(median(scalarTimes))), SIMD float \(ms(median(floatTimes))), SIMD int8 \(ms(median(int8Times)))")
    // Uses the results, so the optimiser cannot drop the loops.
    if sink.isNaN { print("(no result)") }
}

if CommandLine.arguments.dropFirst().first == "--kernels" {
    kernels(count: 100_000)
    exit(0)
}

/// The 1, 5 and 15 minute load averages: other work on the 2 cores shows in every figure.
func loadAverage() -> String {
    guard let bytes = Files.read(path: "/proc/loadavg", limit: 256) else { return "unknown" }
    return String(decoding: bytes, as: UTF8.self).split(separator: " ").prefix(3).joined(separator: " ")
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
_ = Files.makeDirectories(options.directory)
print("load average before: \(loadAverage())")
let vocabulary = Vocabulary()
print("memory search, \(dimension) dimensions, k \(options.k) per ranking, median of \(options.runs) queries (ms)")
print("| messages | vector (int8 pass + exact re-rank) | keyword (BM25) | fusion + budget | recall total | exhaustive float scan | top-10 same as exhaustive | db bytes/message |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
for size in options.sizes {
    let path = options.directory + "/speed-\(size).db"
    let store: SessionStore
    do { store = try fill(path: path, size: size, vocabulary: vocabulary) } catch { fail(error) }
    let memory = MemoryStore(store)
    var random = Random(seed: 7)
    var vectorTimes: [Double] = [], keywordTimes: [Double] = [], fusionTimes: [Double] = [], totals: [Double] = []
    var exhaustiveTimes: [Double] = []
    var sameTop10 = 0
    let now = SystemTime.wallSeconds()
    do {
        // One warm-up query: the first reads the file into the page cache.
        _ = try memory.vectorSearch(query: random.vector(), model: model, session: nil, excluding: [], k: options.k)
        for _ in 0..<options.runs {
            let query = random.vector()
            let words = vocabulary.sentence(&random, words: 12)
            // What recall leaves out: the last 15 messages (the history).
            let history = Set((0..<15).map { Int64(size - $0) })
            let t0 = SystemTime.monotonicMilliseconds()
            let byVector = try memory.vectorSearch(query: query, model: model, session: nil, excluding: history, k: options.k)
            let t1 = SystemTime.monotonicMilliseconds()
            let byWords = try memory.keywordSearch(words, session: nil, excluding: history, k: options.k)
            let t2 = SystemTime.monotonicMilliseconds()
            let found = try memory.messages(ids: byVector.map(\.id) + byWords.map(\.id))
            var ages: [Int64: Double] = [:], tokens: [Int64: Int] = [:]
            for m in found {
                ages[m.id] = Recency.ageDays(m.time, now: now)
                tokens[m.id] = Tokens.estimate(m.text)
            }
            let p = RankingParameters()
            let ranked = Ranking.rank(vector: byVector.map(\.id), keyword: byWords.map(\.id), ages: ages, p)
            let kept = Ranking.select(ranked, tokens: tokens, budget: p.budget, top: p.top)
            let t3 = SystemTime.monotonicMilliseconds()
            precondition(!kept.isEmpty)
            vectorTimes.append(t1 - t0)
            keywordTimes.append(t2 - t1)
            fusionTimes.append(t3 - t2)
            totals.append(t3 - t0)
            let e0 = SystemTime.monotonicMilliseconds()
            let exact = try memory.vectorSearch(query: query, model: model, session: nil, excluding: history, k: 10, exhaustive: true)
            exhaustiveTimes.append(SystemTime.monotonicMilliseconds() - e0)
            if exact.map(\.id) == Array(byVector.prefix(10)).map(\.id) { sameTop10 += 1 }
        }
    } catch {
        fail(error)
    }
    let bytes = (try? memory.stats().bytesOnDisk) ?? 0
    print("| \(size) | \(ms(median(vectorTimes))) | \(ms(median(keywordTimes))) | \(ms(median(fusionTimes))) | \(ms(median(totals))) | \(ms(median(exhaustiveTimes))) | \(sameTop10)/\(options.runs) | \(bytes / size) |")
}
print("load average after: \(loadAverage())")
