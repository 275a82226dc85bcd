import Testing
@testable import MiraMemory

/// A deterministic pseudo-random unit vector (xorshift), so failures repeat.
func randomUnitVector(_ dimension: Int, seed: UInt64) -> [Float] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    let raw = (0..<dimension).map { _ -> Float in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Float(Double(state % 2_000_001) / 1_000_000 - 1)
    }
    return Vectors.normalized(raw)!
}

@Suite struct VectorArithmetic {
    @Test func normalisingGivesUnitLengthAndKeepsDirection() throws {
        let v = try #require(Vectors.normalized([3, 4]))
        #expect(abs(v[0] - 0.6) < 1e-6 && abs(v[1] - 0.8) < 1e-6)
    }

    @Test func zeroEmptyOrNonFiniteVectorsCannotBeNormalised() {
        #expect(Vectors.normalized([]) == nil)
        #expect(Vectors.normalized([0, 0, 0]) == nil)
        #expect(Vectors.normalized([1, .nan]) == nil)
        #expect(Vectors.normalized([1, .infinity]) == nil)
    }

    @Test func simdDotAgreesWithAPlainLoopForEveryLength() {
        for n in [1, 3, 15, 16, 17, 63, 64, 65, 384, 1536] {
            let a = (0..<n).map { Float($0 % 7) - 3 }
            let b = (0..<n).map { Float($0 % 5) * 0.5 }
            var plain: Float = 0
            for i in 0..<n { plain += a[i] * b[i] }
            #expect(abs(Vectors.dot(a, b) - plain) <= 1e-3 * max(1, abs(plain)), "length \(n)")
        }
    }

    @Test func aVectorRoundTripsThroughItsLittleEndianBlob() throws {
        let v: [Float] = [1, -2.5, .pi, 0, -0, 1e-30]
        let blob = Vectors.encode(v)
        #expect(blob.count == 24)
        #expect(Array(blob[0..<4]) == [0x00, 0x00, 0x80, 0x3F])  // 1.0f, little-endian
        #expect(try #require(Vectors.decode(blob)).map(\.bitPattern) == v.map(\.bitPattern))
    }

    @Test func aBlobThatIsNotWholeFloatsIsRefused() {
        #expect(Vectors.decode([1, 2, 3]) == nil)
    }

    @Test func int8CodesApproximateTheFloatDot() {
        let a = randomUnitVector(384, seed: 1), b = randomUnitVector(384, seed: 2)
        let (sa, qa) = Quantization.quantize(a), (sb, qb) = Quantization.quantize(b)
        let rough = qa.withUnsafeBytes { pa in qb.withUnsafeBytes { pb in
            Float(Quantization.dot(pa.baseAddress!, pb.baseAddress!, count: 384)) * sa * sb
        } }
        #expect(abs(rough - Vectors.dot(a, b)) < 0.01)
        let same = qa.withUnsafeBytes { p in Float(Quantization.dot(p.baseAddress!, p.baseAddress!, count: 384)) * sa * sa }
        #expect(abs(same - 1) < 0.01)
    }

    @Test func int8DotAgreesWithAPlainLoopForOddLengths() {
        for n in [1, 31, 32, 33, 100] {
            let a = (0..<n).map { Int8(truncatingIfNeeded: $0 * 37 - 127) }
            let b = (0..<n).map { Int8(truncatingIfNeeded: 127 - $0 * 11) }
            var plain: Int32 = 0
            for i in 0..<n { plain += Int32(a[i]) * Int32(b[i]) }
            let simd = a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in Quantization.dot(pa.baseAddress!, pb.baseAddress!, count: n) } }
            #expect(simd == plain, "length \(n)")
        }
    }
}

@Suite struct TopKSelection {
    @Test func keepsTheBestKBestFirstWhateverTheOrder() {
        let scores: [Float] = [0.1, 0.9, 0.3, 0.7, 0.5, 0.8, 0.2]
        var top = TopK(3)
        for (i, s) in scores.enumerated() { top.add(id: Int64(i), score: s) }
        #expect(top.sorted().map(\.id) == [1, 5, 3])
        var reversed = TopK(3)
        for (i, s) in scores.enumerated().reversed() { reversed.add(id: Int64(i), score: s) }
        #expect(reversed.sorted() == top.sorted())
    }

    @Test func tiesGoToTheSmallerId() {
        var top = TopK(2)
        for id in [5, 3, 9, 1] as [Int64] { top.add(id: id, score: 0.5) }
        #expect(top.sorted().map(\.id) == [1, 3])
    }

    @Test func fewerItemsThanKAreAllKeptAndZeroKeepsNone() {
        var top = TopK(10)
        top.add(id: 1, score: 0.2)
        #expect(top.sorted().map(\.id) == [1])
        var none = TopK(0)
        #expect(none.threshold == .infinity)
        none.add(id: 1, score: 1)
        #expect(none.sorted().isEmpty)
        var two = TopK(2)
        #expect(two.threshold == -.infinity)
        two.add(id: 1, score: 0.5)
        two.add(id: 2, score: 0.25)
        #expect(two.threshold == 0.25)
    }

    @Test func exactTopKMatchesAFullSortOnRandomVectors() {
        let vectors = (0..<2000).map { (id: Int64($0), vector: randomUnitVector(64, seed: UInt64($0) + 10)) }
        let query = randomUnitVector(64, seed: 7)
        let sorted = vectors.map { Scored(id: $0.id, score: Vectors.dot(query, $0.vector)) }.sorted { $0.isBetter(than: $1) }
        #expect(Vectors.topK(query: query, vectors: vectors, k: 10) == Array(sorted.prefix(10)))
    }

    @Test func excludedIdsAreLeftOut() {
        let vectors = (0..<50).map { (id: Int64($0), vector: randomUnitVector(16, seed: UInt64($0))) }
        let query = vectors[7].vector
        #expect(Vectors.topK(query: query, vectors: vectors, k: 1).first?.id == 7)
        #expect(Vectors.topK(query: query, vectors: vectors, k: 5, excluding: [7]).allSatisfy { $0.id != 7 })
    }
}
