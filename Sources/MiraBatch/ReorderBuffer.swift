import MiraShared

/// Puts results that finish out of order back into input order: results
/// wait here until every earlier one has arrived. A nil result holds a place
/// but writes nothing (a turn skipped by --resume).
package struct ReorderBuffer<Result> {
    private var waiting: [Int: Result?] = [:]
    /// The sequence number to be written next.
    package private(set) var next = 0

    package init() {}

    /// How many results wait for an earlier one.
    package var count: Int { waiting.count }

    /// Adds result `sequence` and returns the results now free to go, in order.
    package mutating func add(_ sequence: Int, _ result: Result?) -> [Result] {
        precondition(sequence >= next && waiting[sequence] == nil, "result \(sequence) delivered twice")
        waiting[sequence] = .some(result)
        var ready: [Result] = []
        while let item = waiting.removeValue(forKey: next) {
            if let item { ready.append(item) }
            next += 1
        }
        return ready
    }

    /// Everything still waiting, in order, gaps skipped: what an interrupted
    /// run can still write whole.
    package mutating func drain() -> [Result] {
        let sequences = waiting.keys.sorted()
        let out = sequences.compactMap { waiting[$0] ?? nil }
        waiting = [:]
        next = (sequences.last ?? next - 1) + 1
        return out
    }
}
