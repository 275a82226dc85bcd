/// Finding one piece of text in another with the standard library alone.
/// `firstRange(of:)` and `contains(_:)` of one string in another come from
/// _StringProcessing, and using them links its regex engine (about 1 MB of
/// code) into every program, `mira`'s turn included, which then maps it and
/// pays page faults for it (bench/README.md).
extension StringProtocol {
    /// Where `text` first occurs, compared byte for byte in UTF-8 (so "é"
    /// written two ways differs); nil when it does not occur. An empty
    /// `text` occurs at the start.
    package func firstOccurrence(of text: some StringProtocol) -> Range<Index>? {
        let bytes = utf8, wanted = text.utf8
        guard let first = wanted.first else { return startIndex..<startIndex }
        var start = bytes.startIndex
        while let candidate = bytes[start...].firstIndex(of: first) {
            var here = candidate, there = wanted.startIndex
            while there != wanted.endIndex, here != bytes.endIndex, bytes[here] == wanted[there] {
                bytes.formIndex(after: &here)
                wanted.formIndex(after: &there)
            }
            if there == wanted.endIndex { return candidate..<here }
            if here == bytes.endIndex { return nil }
            start = bytes.index(after: candidate)
        }
        return nil
    }

    /// Whether `text` occurs in this string (as `firstOccurrence(of:)` finds it).
    package func containsText(_ text: some StringProtocol) -> Bool {
        firstOccurrence(of: text) != nil
    }
}
