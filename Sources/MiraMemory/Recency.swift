import MiraShared

/// Ages of stored messages, from the ISO 8601 times the store writes.
package enum Recency {
    /// Seconds since 1970 of `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]` (no zone
    /// is read as UTC); nil for anything else.
    package static func epochSeconds(_ text: String) -> Double? {
        let b = Array(text.utf8)
        guard b.count >= 19, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " "),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let year = number(b, 0, 4), let month = number(b, 5, 2), let day = number(b, 8, 2),
            let hour = number(b, 11, 2), let minute = number(b, 14, 2), let second = number(b, 17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, (48...57).contains(b[i]) {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        var offset = 0
        if i < b.count {
            if b[i] == UInt8(ascii: "Z"), i + 1 == b.count {
                i += 1
            } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), b.count == i + 6, b[i + 3] == UInt8(ascii: ":"),
                let h = number(b, i + 1, 2), let m = number(b, i + 4, 2) {
                offset = (h * 60 + m) * 60 * (b[i] == UInt8(ascii: "+") ? 1 : -1)
            } else {
                return nil
            }
        }
        let days = CivilDays.since1970(year: year, month: month, day: day)
        return Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction
    }

    /// Age in days of a message written at `time`, seen at `now` (epoch seconds).
    package static func ageDays(_ time: String?, now: Double) -> Double? {
        guard let time, let then = epochSeconds(time) else { return nil }
        return (now - then) / 86_400
    }

    static func number(_ b: [UInt8], _ start: Int, _ count: Int) -> Int? {
        var n = 0
        for c in b[start..<start + count] {
            guard (48...57).contains(c) else { return nil }
            n = n * 10 + Int(c - 48)
        }
        return n
    }
}
