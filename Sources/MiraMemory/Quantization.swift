/// Vectors squeezed to one signed byte a component, for a fast first pass
/// over many stored vectors: each vector keeps its own scale (its largest
/// magnitude / 127), so the dot of two codes times both scales approximates
/// the float dot within about 1% of a unit vector's components. Candidates
/// it finds are re-ranked with the exact float vectors.
package enum Quantization {
    /// The vector's scale and codes; a zero vector has scale 0 and zero codes.
    package static func quantize(_ v: [Float]) -> (scale: Float, codes: [Int8]) {
        let largest = v.reduce(Float(0)) { max($0, abs($1)) }
        guard largest > 0, largest.isFinite else { return (0, Array(repeating: 0, count: v.count)) }
        let scale = largest / 127
        return (scale, v.map { Int8(max(-127, min(127, ($0 / scale).rounded()))) })
    }

    /// The integer dot product of two code vectors of `count` bytes, 16 lanes
    /// at a time (products of two int8 fit int16; sums go into int32 lanes).
    @inlinable
    package static func dot(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count n: Int) -> Int32 {
        var s0 = SIMD16<Int32>(), s1 = SIMD16<Int32>()
        var i = 0
        while i + 32 <= n {
            let a0 = SIMD16<Int16>(truncatingIfNeeded: a.loadUnaligned(fromByteOffset: i, as: SIMD16<Int8>.self))
            let b0 = SIMD16<Int16>(truncatingIfNeeded: b.loadUnaligned(fromByteOffset: i, as: SIMD16<Int8>.self))
            let a1 = SIMD16<Int16>(truncatingIfNeeded: a.loadUnaligned(fromByteOffset: i + 16, as: SIMD16<Int8>.self))
            let b1 = SIMD16<Int16>(truncatingIfNeeded: b.loadUnaligned(fromByteOffset: i + 16, as: SIMD16<Int8>.self))
            s0 &+= SIMD16<Int32>(truncatingIfNeeded: a0 &* b0)
            s1 &+= SIMD16<Int32>(truncatingIfNeeded: a1 &* b1)
            i += 32
        }
        var sum = (s0 &+ s1).wrappedSum()
        while i < n {
            sum &+= Int32(a.load(fromByteOffset: i, as: Int8.self)) * Int32(b.load(fromByteOffset: i, as: Int8.self))
            i += 1
        }
        return sum
    }
}
