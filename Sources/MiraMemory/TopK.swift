/// One scored item: a stored row's id and its score (higher is better).
package struct Scored: Equatable, Sendable {
    package var id: Int64
    package var score: Float

    package init(id: Int64, score: Float) {
        self.id = id
        self.score = score
    }

    /// Better first: the higher score, and on a tie the smaller id, so the
    /// order never depends on the order the items came in.
    @inlinable
    package func isBetter(than other: Scored) -> Bool {
        score != other.score ? score > other.score : id < other.id
    }
}

/// The best `k` of a stream of scored items, kept in a bounded min-heap:
/// O(n log k) for n items and O(k) memory, not a sort of all n.
package struct TopK {
    package let k: Int
    /// A heap whose root is the worst item kept.
    @usableFromInline var heap: [Scored] = []

    package init(_ k: Int) {
        self.k = max(0, k)
        heap.reserveCapacity(self.k)
    }

    /// The score an item must beat to get in: -infinity until k are kept,
    /// +infinity when k is 0.
    @inlinable
    package var threshold: Float {
        if k == 0 { return .infinity }
        return heap.count < k ? -.infinity : heap[0].score
    }

    @inlinable
    package mutating func add(_ item: Scored) {
        if heap.count < k {
            heap.append(item)
            siftUp(heap.count - 1)
        } else if k > 0, item.isBetter(than: heap[0]) {
            heap[0] = item
            siftDown(0)
        }
    }

    @inlinable
    package mutating func add(id: Int64, score: Float) { add(Scored(id: id, score: score)) }

    /// The items kept, best first.
    package func sorted() -> [Scored] {
        heap.sorted { $0.isBetter(than: $1) }
    }

    @usableFromInline mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[parent].isBetter(than: heap[child]) else { return }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    @usableFromInline mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var worst = left
            if left + 1 < heap.count, heap[worst].isBetter(than: heap[left + 1]) { worst = left + 1 }
            guard heap[parent].isBetter(than: heap[worst]) else { return }
            heap.swapAt(parent, worst)
            parent = worst
        }
    }
}

extension Vectors {
    /// Exact top-k of unit `vectors` by cosine to the unit `query` (a dot
    /// product each), best first; ids not in `excluding` only.
    package static func topK(query: [Float], vectors: [(id: Int64, vector: [Float])], k: Int, excluding: Set<Int64> = []) -> [Scored] {
        var best = TopK(k)
        for (id, v) in vectors where !excluding.contains(id) && v.count == query.count {
            best.add(id: id, score: dot(query, v))
        }
        return best.sorted()
    }
}
