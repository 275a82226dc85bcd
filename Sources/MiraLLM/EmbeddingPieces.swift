/// Cutting a text too long for the embedding model into pieces it takes.
package enum EmbeddingPieces {
    /// Whether a text has anything to embed (it is not empty or all whitespace).
    package static func hasContent(_ text: String) -> Bool {
        text.contains { !$0.isWhitespace }
    }

    /// The text in pieces of at most `maxBytes` UTF-8 bytes, in order: cut
    /// before a whitespace, else between two Characters, and only for a
    /// single Character longer than a piece between two Unicode scalars;
    /// never inside a UTF-8 sequence. The whitespace at a cut is dropped
    /// (it carries nothing to embed); pieces are never empty or all
    /// whitespace. A text that fits is one piece, exactly as given.
    package static func pieces(of text: String, maxBytes: Int) -> [String] {
        let limit = max(maxBytes, 4)  // the longest UTF-8 scalar must fit
        if text.utf8.count <= limit { return hasContent(text) ? [text] : [] }
        var pieces: [String] = []
        var rest = Substring(text)
        while true {
            rest = rest.drop(while: \.isWhitespace)
            if rest.isEmpty { break }
            if rest.utf8.count <= limit {
                pieces.append(String(rest))
                break
            }
            // The longest run of whole Characters that fits, and where its last whitespace is.
            var bytes = 0
            var end = rest.startIndex
            var lastSpace: Substring.Index?
            while end < rest.endIndex {
                let c = rest[end]
                let size = c.utf8.count
                if bytes + size > limit { break }
                if c.isWhitespace { lastSpace = end }
                bytes += size
                end = rest.index(after: end)
            }
            if end == rest.startIndex {
                // One Character (a long run of combining marks) larger than a
                // piece: cut it between scalars.
                let scalars = rest.unicodeScalars
                var cut = scalars.startIndex
                var taken = 0
                while cut < scalars.endIndex, taken + UTF8.width(scalars[cut]) <= limit {
                    taken += UTF8.width(scalars[cut])
                    cut = scalars.index(after: cut)
                }
                pieces.append(String(Substring(scalars[..<cut])))
                rest = Substring(scalars[cut...])
                continue
            }
            // A window that ends just before whitespace is already a clean cut.
            let cleanEnd = rest[end].isWhitespace
            let cut = cleanEnd ? end : (lastSpace ?? end)
            var piece = rest[..<cut]
            while let last = piece.last, last.isWhitespace { piece = piece.dropLast() }
            pieces.append(String(piece))
            rest = rest[cut...]
        }
        return pieces
    }
}
