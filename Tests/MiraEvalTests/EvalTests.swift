#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Testing
@testable import MiraEval
import MiraShared
import MiraSystem
import MiraTestSupport

/// One record's checks, each on the smallest record that shows it.
@Suite struct Scoring {
    let settings = EvalSettings()

    func score(_ text: String, settings: EvalSettings? = nil) throws -> Score {
        Score(record: try Record(line: Array(text.utf8)), settings: settings ?? self.settings)
    }

    func reply(_ output: String = "Hey you.", persona: String = "default", mood: String = "playful", _ extra: String = "") -> String {
        #"{"reply":{"output":"\#(output)","persona":"\#(persona)","mood":"\#(mood)"}\#(extra)}"#
    }

    @Test func aGoodReplyWithNoExpectationPasses() throws {
        let s = try score(reply())
        #expect(s.passed)
        #expect(s.failed == [])
        #expect(s.json == ["pass": true, "failed": []])
    }

    @Test func aRecordWithAnErrorFailsUnderItsCode() throws {
        let s = try score(#"{"error":{"stage":"mira-llm","code":"gave_up","message":"m"}}"#)
        #expect(s.failed == [.error])
        #expect(s.errorCode == "gave_up")
        #expect(s.json == ["pass": false, "failed": ["error"], "error": "gave_up"])
    }

    @Test func noReplyAndNoErrorIsNoReply() throws {
        #expect(try score(#"{"turn":"t"}"#).failed == [.noReply])
    }

    @Test func aReplyBreakingTheContractIsInvalid() throws {
        #expect(try score(#"{"reply":{"output":"x","persona":"default"}}"#).failed == [.invalidReply])
        #expect(try score(#"{"reply":{"output":"x","persona":"default","mood":"m","extra":1}}"#).failed == [.invalidReply])
    }

    func remembering(_ remember: String) -> String {
        #"{"reply":{"output":"Hey you.","persona":"default","mood":"playful","remember":"# + remember + "}}"
    }

    @Test func aMalformedRememberFailsItsOwnCheck() throws {
        for remember in [#"{}"#, #"[{"topic":"a b","fact":"x"}]"#, #"[{"topic":"pet","fact":"x","extra":1}]"#,
                         #"[{"topic":"pet","fact":"line\nbreak"}]"#, "[" + Array(repeating: #"{"topic":"t","fact":"x"}"#, count: 6).joined(separator: ",") + "]"] {
            #expect(try score(remembering(remember)).failed == [.invalidRemember], "\(remember)")
        }
    }

    @Test func aRememberThatKeepsTheRulesOrNoneAtAllPasses() throws {
        #expect(try score(remembering("[]")).passed)
        #expect(try score(remembering(#"[{"topic":"pet","fact":"has a cat called Miso"}]"#)).passed)
        #expect(try score(reply()).passed)
        #expect(Check.invalidRemember.rawValue == "invalid_remember")
    }

    @Test func aBlankOutputIsEmptyOutputNotInvalid() throws {
        #expect(try score(reply("  ")).failed == [.emptyOutput])
    }

    @Test func aPersonaOutsideTheRequestsEnumIsUnknown() throws {
        let request = #","request":{"response_format":{"json_schema":{"schema":{"properties":{"persona":{"enum":["haven"]}}}}}}"#
        #expect(try score(reply(persona: "default", request)).failed == [.unknownPersona])
        #expect(try score(reply(persona: "haven", request)).passed)
    }

    @Test func withoutARequestThePersonaMustBeABuiltIn() throws {
        #expect(try score(reply(persona: "tender")).failed == [.unknownPersona])
        #expect(try score(reply(persona: "hallow")).passed)
    }

    @Test func theExpectedPersonaMatchesAnyOfAListIgnoringCase() throws {
        #expect(try score(reply(persona: "haven", #","expect":{"persona":["Default","HAVEN"]}"#)).passed)
        #expect(try score(reply(persona: "haven", #","expect":{"persona":"default"}"#)).failed == [.personaMismatch])
    }

    @Test func aMoodMatchesWhenItHoldsAnExpectedWord() throws {
        #expect(try score(reply(mood: "Gently Playful", #","expect":{"mood":"playful"}"#)).passed)
        #expect(try score(reply(mood: "playful", #","expect":{"mood":["tender","PLAYFUL"]}"#)).passed)
        #expect(try score(reply(mood: "unplayful", #","expect":{"mood":"playful"}"#)).failed == [.moodMismatch])
        #expect(try score(reply(mood: "calm", #","expect":{"mood":"gently playful"}"#)).failed == [.moodMismatch])
    }

    @Test func anExpectOfTheWrongShapeIsBadExpect() throws {
        #expect(try score(reply("Hey you.", #","expect":{"persona":3}"#)).failed == [.badExpect])
        #expect(try score(reply("Hey you.", #","expect":"haven""#)).failed == [.badExpect])
    }

    @Test func assistantSpeakIsACharacterBreakWhateverTheApostrophe() throws {
        #expect(try score(reply("Sorry, I can\u{2019}t assist with that.")).failed == [.characterBreak])
        #expect(try score(reply("As A Large Language Model I must say")).failed == [.characterBreak])
        #expect(try score(reply("I adore rain.")).passed)
    }

    @Test func aPhraseFileReplacesTheDefaultList() throws {
        let phrases = EvalSettings.phrases(fromFile: "# my list\n\nAdore\n  certainly!  \n")
        #expect(phrases == ["adore", "certainly!"])
        let custom = EvalSettings(breakPhrases: phrases)
        #expect(try score(reply("I adore rain."), settings: custom).failed == [.characterBreak])
        #expect(try score(reply("As an AI, hi."), settings: custom).passed)
    }

    @Test func anOutputOverTheLimitIsOverlong() throws {
        let short = EvalSettings(maxOutputCharacters: 5)
        #expect(try score(reply("héllo"), settings: short).passed)
        #expect(try score(reply("héllo!"), settings: short).failed == [.overlongOutput])
    }

    @Test func everyFailingCheckIsListed() throws {
        let s = try score(reply("As an AI", persona: "haven", mood: "calm", #","expect":{"persona":"default","mood":"warm"}"#))
        #expect(s.failed == [.personaMismatch, .moodMismatch, .characterBreak])
    }
}

/// The report over a hand-checked set of eleven results (Tests/Support/eval-results.jsonl):
///
///  1 default/playful  expect default          100 ms  100/10  pass
///  2 haven/tender     expect [haven,default], tender   200 ms  pass
///  3 default/Calm     expect haven            300 ms  persona_mismatch
///  4 hallow/"gently playful"  expect mood playful  400 ms  pass
///  5 forbidden/sly    expect forbidden, [tender,warm]  500 ms  mood_mismatch
///  6 default/calm     "As an AI, I can’t…"    600 ms  character_break
///  7 error timeout    expect haven            -
///  8 haven/tender     expect haven, cached    5 ms  100/10  pass
///  9 hallow/wry       enum [default,haven]    700 ms  unknown_persona
/// 10 not JSON                                          bad_json
/// 11 default/calm     blank output            800 ms  empty_output
@Suite struct EvalReporting {
    static let fixture: String = {
        var path = #filePath
        while !path.hasSuffix("/Tests") { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/Support/eval-results.jsonl"
    }()

    func evaluate(annotate: Bool = false) throws -> (report: EvalReport, lines: [String], unreadable: Int) {
        let fd = try Files.openForReading(Self.fixture).get()
        defer { close(fd) }
        let output = OutputPipe()
        var reader = LineReader(fd: fd)
        var evaluator = Evaluator(settings: EvalSettings(), annotate: annotate, diagnostics: .discard)
        evaluator.read(&reader, writer: output.writer)
        return (evaluator.results, output.collect(), evaluator.unreadableLines)
    }

    @Test func passRateCountsUnreadableLinesAsFailedRecords() throws {
        let result = try evaluate()
        #expect(result.report.total == 11)
        #expect(result.report.passed == 4)
        #expect(result.report.passRate == 4.0 / 11.0)
        #expect(result.unreadable == 1)
        #expect(result.lines == [])
    }

    @Test func errorsAreCountedByCodeAndFailuresByCheck() throws {
        let report = try evaluate().report
        #expect(report.errorsByCode == ["timeout": 1, "bad_json": 1])
        #expect(report.failuresByCheck == ["persona_mismatch": 1, "mood_mismatch": 1, "character_break": 1,
                                           "unknown_persona": 1, "empty_output": 1])
    }

    @Test func personasAndLowerCasedMoodsAreCountedOverReplies() throws {
        let report = try evaluate().report
        #expect(report.personas == ["default": 4, "haven": 2, "hallow": 2, "forbidden": 1])
        #expect(report.moods == ["calm": 3, "tender": 2, "gently playful": 1, "playful": 1, "sly": 1, "wry": 1])
        #expect(report.topMoods(3).map(\.name) == ["calm", "tender", "gently playful"])
    }

    @Test func theConfusionTableFilesEachTurnUnderItsFirstExpectedPersona() throws {
        let report = try evaluate().report
        #expect(report.confusion == [
            "default": ["default": 1],
            "forbidden": ["forbidden": 1],
            "haven": ["default": 1, "haven": 2, EvalReport.noPersona: 1],
        ])
        #expect(report.confusionColumns == ["default", "forbidden", "haven", "(none)"])
    }

    @Test func latencyPercentilesAreNearestRankOverUncachedRecordsWithoutError() throws {
        let report = try evaluate().report
        #expect(report.latencyCount == 8)
        #expect(report.cachedLatenciesLeftOut == 1)
        #expect(report.latencyPercentile(50) == 400)
        #expect(report.latencyPercentile(90) == 800)
        #expect(report.latencyPercentile(99) == 800)
        #expect(report.latencyPercentile(1) == 100)
    }

    @Test func tokensAddUpEverywhereButCostLeavesCachedRecordsOut() throws {
        let report = try evaluate().report
        #expect(report.promptTokens == 3700)
        #expect(report.completionTokens == 370)
        #expect(report.billedRecords == 10)
        let cost = report.cost(Prices(input: 2, output: 8))
        #expect(DecimalText.fixed(cost.input, places: 6) == "0.007200")
        #expect(DecimalText.fixed(cost.output, places: 6) == "0.002880")
    }

    @Test func theJSONReportHasTheNumbersInAStableShape() throws {
        let report = try evaluate().report
        let json = report.json(ReportOptions(topMoods: 2, prices: Prices(input: 2, output: 8), minPassRate: 0.5))
        #expect(json.objectValue?.keys == ["records", "superseded", "passed", "pass_rate", "min_pass_rate", "gate_passed", "errors", "failures",
                                           "personas", "moods", "distinct_moods", "confusion", "latency_ms", "tokens", "cost_usd"])
        #expect(json["pass_rate"] == .number("0.3636"))
        #expect(json["gate_passed"] == false)
        #expect(json["moods"] == ["calm": 3, "tender": 2])
        #expect(json["confusion"]?["haven"] == ["default": 1, "forbidden": 0, "haven": 2, "(none)": 1])
        #expect(json["latency_ms"] == ["records": 8, "cached_left_out": 1, "p50": 400, "p90": 800, "p99": 800])
        #expect(json["cost_usd"] == ["input": .number("0.0072"), "output": .number("0.00288"), "total": .number("0.01008"),
                                     "records": 10, "cached_left_out": 1])
    }

    @Test func withoutPricesOrRecordsTheMembersAreNull() {
        let json = EvalReport().json(ReportOptions())
        #expect(json["pass_rate"] == .null)
        #expect(json["cost_usd"] == .null)
        #expect(json["latency_ms"]?["p50"] == .null)
    }

    @Test func aGateIsMetAtTheRateAndNeverWithNoRecords() throws {
        let report = try evaluate().report
        #expect(report.meetsGate(nil))
        #expect(report.meetsGate(4.0 / 11.0))
        #expect(!report.meetsGate(0.37))
        #expect(!EvalReport().meetsGate(0))
    }

    @Test func theTextReportAlignsItsColumns() throws {
        let text = try evaluate().report.text(ReportOptions(prices: Prices(input: 2, output: 8)))
        #expect(text.hasPrefix("records          11\npassed           4 (36.4%)\n"))
        #expect(text.contains("cost             $0.010080 (in $0.007200, out $0.002880) over 10 uncached records, 1 cached left out\n"))
        #expect(text.contains("""
              expected   default  forbidden  haven  (none)
              default          1          0      0       0
              forbidden        0          1      0       0
              haven            1          0      2       1
            """))
        #expect(text.contains("latency (over 8 records without error, 1 cached left out)\n  p50     p90     p99\n  400 ms  800 ms  800 ms\n"))
    }

    @Test func theMarkdownReportIsTables() throws {
        let markdown = try evaluate().report.markdown(ReportOptions())
        #expect(markdown.contains("### errors by code\n\n| code | records |\n|---|---:|\n| bad_json | 1 |\n| timeout | 1 |\n"))
        #expect(markdown.contains("| haven | 1 | 0 | 2 | 1 |"))
    }

    @Test func annotatingWritesEveryLineBackWithItsVerdict() throws {
        let result = try evaluate(annotate: true)
        try #require(result.lines.count == 11)
        let verdicts = try result.lines.map { try json($0)["eval"] }
        #expect(verdicts[0] == ["pass": true, "failed": []])
        #expect(verdicts[2] == ["pass": false, "failed": ["persona_mismatch"]])
        #expect(verdicts[6] == ["pass": false, "failed": ["error"], "error": "timeout"])
        #expect(verdicts[9] == ["pass": false, "failed": ["error"], "error": "bad_json"])
        // Everything else of the record is as it was.
        var original = try #require(try json(result.lines[3]).objectValue)
        original["eval"] = nil
        let fd = try Files.openForReading(Self.fixture).get()
        defer { close(fd) }
        var reader = LineReader(fd: fd)
        for _ in 0..<3 { _ = reader.next() }
        guard case .line(let fourth)? = reader.next() else { Issue.record("fixture too short"); return }
        #expect(JSONWriter.bytes(.object(original)) == fourth)
    }

    @Test func decimalsAreRoundedWithoutFoundation() {
        #expect(DecimalText.fixed(0.125, places: 2) == "0.13")
        #expect(DecimalText.fixed(12, places: 0) == "12")
        #expect(DecimalText.fixed(-0.5, places: 1) == "-0.5")
        #expect(DecimalText.trimmed(0.80, places: 4) == "0.8")
        #expect(DecimalText.percent(4.0 / 11.0) == "36.4%")
    }
}

@Suite struct NumbersFromOutside {
    @Test func hugeUsageAndPricesGiveANumberNotATrap() throws {
        var report = EvalReport()
        var score = Score()
        score.promptTokens = 9_000_000_000_000_000_000
        score.completionTokens = .max
        report.add(score)
        report.add(score)
        #expect(report.promptTokens == .max)
        let cost = report.cost(Prices(input: 2.5, output: 1_000_000))
        #expect(cost.input > 0 && cost.input.isFinite)
        let shown = JSONWriter.string(report.json(ReportOptions(prices: Prices(input: 2.5, output: 1_000_000))))
        #expect((try? JSONParser.parse(shown)) != nil, "the report stays JSON: \(shown)")
        _ = report.text(ReportOptions(prices: Prices(input: 2.5, output: 1_000_000)))
    }

    @Test func negativeUsageOrLatencyFailsInvalidUsage() throws {
        let line = #"{"reply":{"output":"hi","persona":"default","mood":"calm"},"usage":{"prompt_tokens":-5,"completion_tokens":3},"latency_ms":-1}"#
        let score = Score(record: try Record(line: Array(line.utf8)), settings: EvalSettings())
        #expect(score.failed == [.invalidUsage])
        #expect(score.promptTokens == 0 && score.latencyMilliseconds == nil)
    }

    @Test func decimalTextWritesAnyDouble() {
        #expect(DecimalText.fixed(2.25e13, places: 6) == "22500000000000.0")
        #expect(DecimalText.trimmed(2.25e13, places: 6) == "22500000000000")
        #expect(DecimalText.fixed(.infinity, places: 2) == "inf")
        #expect(DecimalText.fixed(0.125, places: 2) == "0.13")
        #expect(DecimalText.trimmed(1e300, places: 6) == "1e+300")
    }
}

@Suite struct EvaluationOfResumedRuns {
    @Test func onlyTheLastRecordOfATurnCounts() {
        let lines = [
            #"{"turn":"a","error":{"stage":"mira-llm","code":"timeout","message":"slow"}}"#,
            #"{"turn":"b","reply":{"output":"hi","persona":"default","mood":"calm"}}"#,
            #"{"turn":"a","reply":{"output":"hi","persona":"default","mood":"calm"}}"#,
            #"{"reply":{"output":"no turn id","persona":"default","mood":"calm"}}"#,
        ]
        let fd = pipeHolding(Array((lines.joined(separator: "\n") + "\n").utf8))
        defer { close(fd) }
        var reader = LineReader(fd: fd)
        var evaluator = Evaluator(settings: EvalSettings(), annotate: false, diagnostics: .discard)
        evaluator.read(&reader)
        #expect(evaluator.results.total == 3)
        #expect(evaluator.results.passed == 3)
        #expect(evaluator.results.superseded == 1)
        #expect(evaluator.results.errorsByCode.isEmpty)
    }

    @Test func aNegatedMoodDoesNotMatch() {
        let expectation = Expectation(moods: ["playful"])
        #expect(!expectation.moodMatches("not playful"))
        #expect(!expectation.moodMatches("never really playful"))
        #expect(expectation.moodMatches("gently playful"))
        #expect(expectation.moodMatches("playful, not sad"))
    }

    @Test func aPhraseFileWithCRLFLinesIsReadLineByLine() {
        #expect(EvalSettings.phrases(fromFile: "as an ai\r\n# note\r\nlanguage model\r\n") == ["as an ai", "language model"])
    }
}
