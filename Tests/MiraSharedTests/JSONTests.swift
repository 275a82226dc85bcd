import Testing
@testable import MiraShared
import MiraTestSupport

@Suite struct JSONRoundTrip {
    @Test func writingParsedTextGivesBackTheSameMemberOrderAndNumberLiterals() throws {
        let text = #"{"b":1,"a":1.50,"c":[true,null,"x"],"d":-0.0e+10,"e":{}}"#
        #expect(JSONWriter.string(try JSONParser.parse(text)) == text)
    }

    @Test func numbersKeepTheirLiteralText() throws {
        let value = try JSONParser.parse("[1.50, 1e400, 12345678901234567890]")
        #expect(value == .array([.number("1.50"), .number("1e400"), .number("12345678901234567890")]))
    }

    @Test func whitespaceAroundValuesIsDroppedOnWrite() throws {
        let value = try JSONParser.parse(" { \"a\" : [ 1 , 2 ] }\n")
        #expect(JSONWriter.string(value) == #"{"a":[1,2]}"#)
    }

    @Test func escapesDecodeToTheirCharacters() throws {
        let value = try JSONParser.parse(#""line\nquote\" slash\/ tab\t e\u00e9""#)
        #expect(value == .string("line\nquote\" slash/ tab\t eé"))
    }

    @Test func surrogatePairDecodesToOneScalar() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func writerEscapesQuotesBackslashesAndControlCharactersButKeepsUTF8() {
        let written = JSONWriter.string(.string("a\"b\\c\nd\u{01}é😀"))
        #expect(written == #""a\"b\\c\nd\u0001é😀""#)
    }

    /// The writer copies runs of plain bytes whole: escapes at the edges,
    /// side by side and alone must land exactly, and a string that is not
    /// stored contiguously (bridged or a substring's copy) reads the same.
    @Test func escapesAtEveryPlaceOfARunAreWrittenExactly() {
        #expect(JSONWriter.string(.string("")) == #""""#)
        #expect(JSONWriter.string(.string("\n")) == #""\n""#)
        #expect(JSONWriter.string(.string("\"\"")) == #""\"\"""#)
        #expect(JSONWriter.string(.string("\nab\tcd\u{7F}")) == #""\nab\tcd\u007f""#)
        #expect(JSONWriter.string(.string("plain text, no escapes at all")) == #""plain text, no escapes at all""#)
        let long = String(repeating: "abc\"", count: 1000)
        #expect(JSONWriter.string(.string(long)) == "\"" + String(repeating: #"abc\""#, count: 1000) + "\"")
    }

    @Test func writtenStringsParseBackToTheSameText() throws {
        let original = JSON.string("tab\t cr\r nul\u{0} del\u{7F} é 😀 \"q\"")
        #expect(try JSONParser.parse(JSONWriter.string(original)) == original)
    }

    @Test func objectSubscriptReplacesInPlaceAndAppendsNewKeys() {
        var object = JSONObject()
        object["a"] = 1
        object["b"] = 2
        object["a"] = 3
        object["c"] = 4
        object["b"] = nil
        #expect(object.keys == ["a", "c"])
        #expect(object["a"] == 3)
    }
}

@Suite struct JSONRejection {
    func error(_ bytes: [UInt8], maxDepth: Int = JSONParser.defaultMaxDepth) -> JSONSyntaxError? {
        do {
            _ = try JSONParser.parse(bytes, maxDepth: maxDepth)
            return nil
        } catch {
            return error
        }
    }

    func error(_ text: String) -> JSONSyntaxError? { error(Array(text.utf8)) }

    @Test func trailingGarbageIsRejected() {
        #expect(error(#"{"a":1} x"#) != nil)
        #expect(error("[1][2]") != nil)
    }

    @Test func invalidUTF8InAStringIsRejected() {
        #expect(error([0x22, 0xFF, 0x22]) != nil)
    }

    @Test func invalidUTF8AfterAnEscapeIsRejected() {
        #expect(error([0x22, 0x5C, 0x6E, 0xC3, 0x22]) != nil)
    }

    @Test func rawControlCharacterInAStringIsRejected() {
        #expect(error("\"a\tb\"") != nil)
        #expect(error("\"a\nb\"") != nil)
    }

    @Test func nulByteIsRejected() {
        #expect(error([0x22, 0x61, 0x00, 0x22]) != nil)
        #expect(error([0x00]) != nil)
        #expect(error([0x5B, 0x31, 0x5D, 0x00]) != nil)
    }

    @Test func loneHighSurrogateIsRejected() {
        #expect(error(#""\ud83d""#) != nil)
        #expect(error(#""\ud83dx""#) != nil)
    }

    @Test func loneLowSurrogateIsRejected() {
        #expect(error(#""\ude00""#) != nil)
    }

    @Test func highSurrogateFollowedByANonLowEscapeIsRejected() {
        #expect(error(#""\ud83d\u0041""#) != nil)
    }

    @Test func nestingDeeperThanTheLimitFailsWithoutCrashing() {
        let deep = [UInt8](repeating: UInt8(ascii: "["), count: 10_000)
        let failure = error(deep)
        #expect(failure?.reason.contains("nested deeper") == true)
    }

    @Test func nestingAtTheLimitIsAccepted() {
        let text = String(repeating: "[", count: 5) + String(repeating: "]", count: 5)
        #expect(error(Array(text.utf8), maxDepth: 5) == nil)
        #expect(error(Array(text.utf8), maxDepth: 4) != nil)
    }

    @Test func leadingZerosAreRejected() {
        #expect(error("01") != nil)
        #expect(error("[01]") != nil)
        #expect(error("-01") != nil)
    }

    @Test func malformedNumbersAreRejected() {
        #expect(error("1.") != nil)
        #expect(error("-") != nil)
        #expect(error("1e") != nil)
        #expect(error(".5") != nil)
        #expect(error("+1") != nil)
    }

    @Test func unterminatedStringIsRejected() {
        #expect(error(#""abc"#) != nil)
        #expect(error(#""abc\"#) != nil)
        #expect(error(#""a\nb"#) != nil)
    }

    @Test func invalidEscapeIsRejected() {
        #expect(error(#""\x41""#) != nil)
        #expect(error(#""\u12g4""#) != nil)
    }

    @Test func emptyInputIsRejected() {
        #expect(error("") != nil)
        #expect(error("   ") != nil)
    }

    @Test func errorMessageNamesTheByteOffset() {
        let failure = error(#"{"a":1} x"#)
        #expect(failure?.offset == 8)
        #expect(failure?.description.hasSuffix("at byte 9") == true)
    }
}
