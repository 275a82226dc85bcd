#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Testing
import MiraShared
@testable import MiraSystem
import MiraTestSupport

@Suite struct StageLoop {
    /// Runs a stage over `input` and returns its output lines and final status.
    func run(
        _ input: String, upstreamErrors: Stage.UpstreamErrors = .passThrough,
        transform: (inout Record, Int) throws(StageError) -> Void = { record, _ in record.input = "seen" }
    ) -> (lines: [String], status: Sysexit, reports: [String]) {
        let readEnd = pipeHolding(Array(input.utf8))
        defer { close(readEnd) }
        let output = OutputPipe()
        let log = DiagnosticsLog()
        var reader = LineReader(fd: readEnd)
        var stage = Stage(name: "test-stage", diagnostics: log.diagnostics, upstreamErrors: upstreamErrors)
        stage.run(reader: &reader, writer: output.writer, transform: transform)
        return (output.collect(), stage.status, log.lines)
    }

    @Test func everyFailureIsReportedThroughTheInjectedDiagnosticsWithItsLine() {
        let refused = #"{"session":"c","error":{"stage":"mira-llm","code":"timeout","message":"m"}}"#
        let result = run("{bad\n\n" + #"{"session":"b"}"# + "\n", transform: { (_, _) throws(StageError) in
            throw StageError(.unreachable, "down")
        })
        #expect(result.reports.count == 2)
        #expect(result.reports.first?.hasPrefix("test-stage: line 1: not JSON") == true)
        #expect(result.reports.last == "test-stage: line 3: down")
        let saved = run(refused + "\n", upstreamErrors: .refuse)
        #expect(saved.reports == ["test-stage: line 1: not saved: the turn failed in mira-llm (timeout)"])
    }

    @Test func eachRecordIsTransformedAndWrittenOnItsOwnLine() {
        let result = run(#"{"session":"a"}"# + "\n" + #"{"session":"b"}"# + "\n")
        #expect(result.lines == [#"{"session":"a","input":"seen"}"#, #"{"session":"b","input":"seen"}"#])
        #expect(result.status == .ok)
    }

    @Test func blankLinesAreSkipped() {
        let result = run("\n   \n\t\r\n" + #"{"session":"a"}"# + "\n\n")
        #expect(result.lines == [#"{"session":"a","input":"seen"}"#])
        #expect(result.status == .ok)
    }

    @Test func aBadJSONLineBecomesAnErrorRecordAndTheRunGoesOn() throws {
        let result = run("not json\n" + #"{"session":"b"}"# + "\n")
        try #require(result.lines.count == 2)
        let failed = try JSONParser.parse(result.lines[0])
        #expect(failed["mira"] == 1)
        #expect(failed["error"]?["stage"] == "test-stage")
        #expect(failed["error"]?["code"] == "bad_json")
        #expect(result.lines[1] == #"{"session":"b","input":"seen"}"#)
        #expect(result.status == .badInput)
    }

    @Test func aTransformFailureIsWrittenOnTheRecordItself() throws {
        let result = run(#"{"session":"a","keep":[1.0]}"# + "\n") { (_, _) throws(StageError) in
            throw StageError(.timeout, "too slow")
        }
        try #require(result.lines.count == 1)
        #expect(result.lines[0] == #"{"session":"a","keep":[1.0],"error":{"stage":"test-stage","code":"timeout","message":"too slow"}}"#)
        #expect(result.status == .gaveUp)
    }

    @Test func aRecordCarryingAnErrorPassesThroughByteForByte() {
        let line = #"{ "mira": 1, "session":"a", "error": {"stage":"mira-llm","code":"timeout","message":"m"}, "n": 1.50 }"#
        var transformed = false
        let result = run(line + "\n") { (_, _) throws(StageError) in transformed = true }
        #expect(result.lines == [line])
        #expect(!transformed)
        #expect(result.status == .ok)
    }

    @Test func aRecordCarryingAnErrorIsRefusedWithItsStatusInRefuseMode() {
        let line = #"{"session":"a","error":{"stage":"mira-llm","code":"rejected_key","message":"m"}}"#
        let result = run(line + "\n", upstreamErrors: .refuse)
        #expect(result.lines == [])
        #expect(result.status == .rejected)
    }

    @Test func theStatusIsTheFirstFailures() {
        var count = 0
        let input = #"{"session":"a"}"# + "\n" + "{bad\n" + #"{"session":"c"}"# + "\n"
        let result = run(input) { (_, _) throws(StageError) in
            count += 1
            throw StageError(.unreachable, "down")
        }
        #expect(result.lines.count == 3)
        #expect(count == 2)
        #expect(result.status == .unavailable)
    }

    @Test func theTransformIsToldTheLineNumber() {
        var numbers: [Int] = []
        _ = run("\n" + #"{"session":"a"}"# + "\n\n" + #"{"session":"b"}"# + "\n") { (_, n) throws(StageError) in
            numbers.append(n)
        }
        #expect(numbers == [2, 4])
    }

    @Test func aLineOverTheLimitBecomesALineTooLongRecord() throws {
        let readEnd = pipeHolding(Array((String(repeating: "x", count: 100) + "\n" + #"{"session":"a"}"# + "\n").utf8))
        defer { close(readEnd) }
        let output = OutputPipe()
        var reader = LineReader(fd: readEnd, maxLine: 50)
        var stage = Stage(name: "s", diagnostics: .discard)
        stage.run(reader: &reader, writer: output.writer) { (_, _) throws(StageError) in }
        let lines = output.collect()
        try #require(lines.count == 2)
        #expect(try JSONParser.parse(lines[0])["error"]?["code"] == "line_too_long")
        #expect(lines[1] == #"{"session":"a"}"#)
        #expect(stage.status == .badInput)
    }
}

@Suite struct LineReading {
    func items(_ input: String, maxLine: Int = LineReader.defaultMaxLine, bufferSize: Int = 256 * 1024) -> [LineReader.Item] {
        let fd = pipeHolding(Array(input.utf8))
        defer { close(fd) }
        var reader = LineReader(fd: fd, maxLine: maxLine, bufferSize: bufferSize)
        var out: [LineReader.Item] = []
        while let item = reader.next() { out.append(item) }
        return out
    }

    @Test func linesComeWithoutTheirNewlines() {
        #expect(items("a\nbc\n\nd\n") == [.line(Array("a".utf8)), .line(Array("bc".utf8)), .line([]), .line(Array("d".utf8))])
    }

    @Test func aLastLineWithoutANewlineIsReturned() {
        #expect(items("a\nlast") == [.line(Array("a".utf8)), .line(Array("last".utf8))])
    }

    @Test func aLineLongerThanTheLimitIsTooLongAndTheNextLineStillReads() {
        #expect(items("12345678901\nok\n", maxLine: 10) == [.tooLong(bytes: 11, limit: 10), .line(Array("ok".utf8))])
    }

    @Test func aLineAtTheLimitIsKept() {
        #expect(items("1234567890\n", maxLine: 10) == [.line(Array("1234567890".utf8))])
    }

    @Test func aTooLongLineSpanningManyBufferFillsIsSkipped() {
        let long = String(repeating: "y", count: 1000)
        #expect(items(long + "\nok\n" + long, maxLine: 100, bufferSize: 16)
            == [.tooLong(bytes: 1000, limit: 100), .line(Array("ok".utf8)), .tooLong(bytes: 1000, limit: 100)])
    }

    @Test func linesSpanningBufferFillsAreJoined() {
        #expect(items("abcdefghij\nklmnop", bufferSize: 4) == [.line(Array("abcdefghij".utf8)), .line(Array("klmnop".utf8))])
    }

    @Test func emptyInputHasNoLines() {
        #expect(items("") == [])
    }

    @Test func lineNumbersCountEveryLine() {
        let fd = pipeHolding(Array("a\n\nb".utf8))
        defer { close(fd) }
        var reader = LineReader(fd: fd)
        var numbers: [Int] = []
        while reader.next() != nil { numbers.append(reader.lineNumber) }
        #expect(numbers == [1, 2, 3])
    }
}
