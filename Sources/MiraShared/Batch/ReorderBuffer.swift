/// Puts results that finish out of order back into input order: results
/// wait here until every earlier one has arrived. A nil result holds a place
/// but writes nothing (a turn skipped by --resume).
public struct ReorderBuffer<Result> {
    private var waiting: [Int: Result?] = [:]
    /// The sequence number to be written next.
    public private(set) var next = 0

    public init() {}

    /// How many results wait for an earlier one.
    public var count: Int { waiting.count }

    /// Adds result `sequence` and returns the results now free to go, in order.
    public mutating func add(_ sequence: Int, _ result: Result?) -> [Result] {
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
    public mutating func drain() -> [Result] {
        let sequences = waiting.keys.sorted()
        let out = sequences.compactMap { waiting[$0] ?? nil }
        waiting = [:]
        next = (sequences.last ?? next - 1) + 1
        return out
    }
}
