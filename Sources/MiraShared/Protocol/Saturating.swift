/// Arithmetic on counts that come from outside (a server's usage, a
/// record's max_tokens, an option): it stops at the largest value instead of
/// trapping, so no number anyone sends can kill a batch.
extension Int {
    /// `self + other`, held at `Int.max` (or `Int.min`) instead of overflowing.
    package func addingSaturated(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }

    /// A count read from outside: negative values mean nothing and count as 0.
    package static func count(_ value: Int?) -> Int { Swift.max(0, value ?? 0) }
}
