/// Vector arithmetic on Float for memory search. Embeddings are compared by
/// cosine; stored vectors are unit length, so the cosine is a dot product.
package enum Vectors {
    /// The vector scaled to unit length; nil for an empty, zero or non-finite one.
    package static func normalized(_ v: [Float]) -> [Float]? {
        guard !v.isEmpty, v.allSatisfy(\.isFinite) else { return nil }
        let norm = dot(v, v).squareRoot()
        guard norm > 0, norm.isFinite else { return nil }
        return v.map { $0 / norm }
    }

    /// Dot product of two vectors of the same length.
    package static func dot(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "dot of vectors of different lengths")
        return a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in dot(pa, pb) } }
    }

    /// Dot product over raw buffers, 16 lanes at a time with four
    /// independent accumulators so the loop is not one long dependency chain.
    @inlinable
    package static func dot(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Float {
        let n = min(a.count, b.count)
        guard n > 0, let pa = a.baseAddress, let pb = b.baseAddress else { return 0 }
        var s0 = SIMD16<Float>(), s1 = SIMD16<Float>(), s2 = SIMD16<Float>(), s3 = SIMD16<Float>()
        var i = 0
        let ra = UnsafeRawPointer(pa), rb = UnsafeRawPointer(pb)
        while i + 64 <= n {
            s0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            s1 += ra.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self) * rb.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
            s2 += ra.loadUnaligned(fromByteOffset: (i + 32) * 4, as: SIMD16<Float>.self) * rb.loadUnaligned(fromByteOffset: (i + 32) * 4, as: SIMD16<Float>.self)
            s3 += ra.loadUnaligned(fromByteOffset: (i + 48) * 4, as: SIMD16<Float>.self) * rb.loadUnaligned(fromByteOffset: (i + 48) * 4, as: SIMD16<Float>.self)
            i += 64
        }
        while i + 16 <= n {
            s0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        var sum = ((s0 + s1) + (s2 + s3)).sum()
        while i < n {
            sum += pa[i] * pb[i]
            i += 1
        }
        return sum
    }

    /// The vector as a BLOB: float32, little-endian, 4 bytes a component.
    package static func encode(_ v: [Float]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(v.count * 4)
        for x in v {
            let bits = x.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// Reads a BLOB written by `encode`; nil when its length is not a whole
    /// number of float32s.
    package static func decode(_ bytes: UnsafeRawBufferPointer) -> [Float]? {
        guard bytes.count % 4 == 0 else { return nil }
        return (0..<bytes.count / 4).map { k in
            Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: k * 4, as: UInt32.self)))
        }
    }

    package static func decode(_ bytes: [UInt8]) -> [Float]? {
        bytes.withUnsafeBytes { decode($0) }
    }
}
