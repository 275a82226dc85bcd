/// Calendar dates as day counts, for the times Mira reads (an HTTP date in
/// Retry-After, the ISO 8601 times the store writes) without libc's timegm.
package enum CivilDays {
    /// Days from 1970-01-01 to a proleptic Gregorian date, counting in
    /// 400-year eras that start on 1 March (so the leap day ends a year).
    package static func since1970(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
