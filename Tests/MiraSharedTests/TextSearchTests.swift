import MiraShared
import Testing

@Suite struct TextSearch {
    /// What `firstOccurrence(of:)` finds is what a plain scan finds, for text
    /// at the start, the end, overlapping false starts, and none.
    @Test func findsTheFirstOccurrenceOrNone() {
        let cases: [(String, String, Int?)] = [
            ("https://host/v1", "://", 5),
            ("abc", "", 0),
            ("", "a", nil),
            ("abc", "abc", 0),
            ("abc", "abcd", nil),
            ("aaab", "aab", 1),
            ("xyzxy", "xy", 0),
            ("max_tokens then max_completion_tokens", "max_completion_tokens", 16),
            ("ab", "b", 1),
            ("ab", "bc", nil),
            ("café au lait", "au", 6),
            ("naïve ☕ coffee", "☕", 7),
        ]
        for (text, wanted, offset) in cases {
            let found = text.firstOccurrence(of: wanted)
            #expect(found.map { text.utf8.distance(from: text.startIndex, to: $0.lowerBound) } == offset, "\(wanted) in \(text)")
            if let found { #expect(String(text[found]) == wanted) }
            #expect(text.containsText(wanted) == (offset != nil))
        }
    }

    /// A substring is searched within its own bounds, and its indices are the string's.
    @Test func searchesASubstringWithinItsBounds() {
        let text = "a://b and c://d"
        let tail = text[text.firstOccurrence(of: "and")!.upperBound...]
        let scheme = tail.firstOccurrence(of: "://")
        #expect(scheme.map { String(text[..<$0.lowerBound]) } == "a://b and c")
        #expect(!tail.containsText("a://"))
    }
}
