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

    /// The integer dot product of two code vectors of `count` bytes.
    ///
    /// Written for SSE2, the x86-64 baseline, which has 16-bit multiplies but
    /// no byte-to-word widening Swift's SIMD conversions lower well (both a
    /// plain loop and SIMD16<Int8> -> SIMD16<Int16> measured 2-3 times
    /// slower; bench/memory/speed.md): 16 bytes are loaded as eight 16-bit
    /// lanes, each lane's two bytes sign-extended by shifts, multiplied and
    /// summed in pairs (|code| <= 127, so a pair fits 16 bits), and the
    /// 16-bit sums widened to 32 bits the same way before accumulating.
    @inlinable
    package static func dot(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count n: Int) -> Int32 {
        var acc0 = SIMD4<Int32>(), acc1 = SIMD4<Int32>()
        var i = 0
        while i + 16 <= n {
            let x = a.loadUnaligned(fromByteOffset: i, as: SIMD8<Int16>.self)
            let y = b.loadUnaligned(fromByteOffset: i, as: SIMD8<Int16>.self)
            let pairs = ((x &<< 8) &>> 8) &* ((y &<< 8) &>> 8) &+ (x &>> 8) &* (y &>> 8)
            let wide = unsafeBitCast(pairs, to: SIMD4<Int32>.self)
            acc0 &+= (wide &<< 16) &>> 16
            acc1 &+= wide &>> 16
            i += 16
        }
        var sum = (acc0 &+ acc1).wrappedSum()
        while i < n {
            sum &+= Int32(a.load(fromByteOffset: i, as: Int8.self)) &* Int32(b.load(fromByteOffset: i, as: Int8.self))
            i += 1
        }
        return sum
    }
}
