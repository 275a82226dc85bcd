import Testing
@testable import MiraLLM
import MiraPrompt
import MiraShared
import MiraSystem
import MiraTestSupport

@Suite struct OutputTextExtraction {
    func extract(_ text: String, fragmentSize: Int) -> String {
        let bytes = Array(text.utf8)
        var extractor = OutputTextExtractor()
        var out: [UInt8] = []
        var start = 0
        while start < bytes.count {
            let end = min(start + fragmentSize, bytes.count)
            out += extractor.feed(bytes[start..<end])
            start = end
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test(arguments: 1...10)
    func fragmentsOfAnySizeGiveTheDecodedOutput(size: Int) {
        let text = #"{"output":"hi \"you\" \u00e9 ✓","persona":"default","mood":"x"}"#
        #expect(extract(text, fragmentSize: size) == #"hi "you" é ✓"#)
    }

    @Test(arguments: 1...4)
    func surrogatePairEscapesDecode(size: Int) {
        #expect(extract(#"{"output":"a\ud83d\ude00b\n\\"}"#, fragmentSize: size) == "a😀b\n\\")
    }

    @Test func otherKeysTextIsNotEmitted() {
        #expect(extract(#"{"persona":"output","mood":"output","output":"yes"}"#, fragmentSize: 3) == "yes")
    }

    @Test func nestedOutputKeysAreNotEmitted() {
        let text = #"{"meta":{"output":"no"},"list":[{"output":"no"},"output"],"output":"yes"}"#
        #expect(extract(text, fragmentSize: 1) == "yes")
    }

    @Test func keysInAnyOrderWork() {
        #expect(extract(#"{"mood":"x","persona":"haven","output":"last"}"#, fragmentSize: 2) == "last")
        #expect(extract(#"{"mood":"x","output":"middle","persona":"haven"}"#, fragmentSize: 2) == "middle")
    }

    @Test func whitespaceBetweenTokensIsAllowed() {
        #expect(extract("{ \"output\" :\n \"spaced\" , \"mood\": \"x\" }", fragmentSize: 1) == "spaced")
    }

    @Test func aValueThatIsNotAStringEmitsNothing() {
        #expect(extract(#"{"output":5,"mood":"x"}"#, fragmentSize: 1) == "")
    }
}
