import Foundation
import Testing

/// Bad records of every kind, fed to every stage: one clear error line each,
/// naming the line; one output line each from the filters; bounded memory;
/// and the database exactly as it was.
@Suite struct HostileInputTests {
    static let corpus = packageRoot + "/Tests/Support/hostile_corpus.py"

    static let stages: [(name: String, command: String, passesThrough: Bool)] = [
        ("mira-prompt", "mira-prompt hi", true),
        ("mira-llm", "mira-llm", true),
        ("mira-store save", "mira-store save s1", false),
    ]

    /// One defect of the corpus and what a stage must say about it.
    struct Defect {
        var name: String
        /// Words the stage's stderr line must hold: the reason, not just a failure.
        var reason: String
        /// The error code per stage; nil when the stage takes the line (the
        /// defect is in a field it does not read, such as a reply for mira-llm).
        var codes: [String: String?]
    }

    /// Writes the corpus into the world and returns what each line must give.
    static func corpus(_ world: World, _ arguments: String) throws -> [Defect] {
        let made = try world.sh("python3 \(shellQuote(corpus)) \(arguments)")
        #expect(made.status == 0, "\(made.stderr)")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [[String: Any]])
        return entries.map { entry in
            let codes = (entry["codes"] as? [String: Any] ?? [:]).mapValues { $0 as? String }
            return Defect(name: entry["defect"] as? String ?? "?", reason: entry["reason"] as? String ?? "?", codes: codes)
        }
    }

    /// A good record from the real pipeline (a request and a reply), the base every defect is made from.
    static func baseRecord(_ world: World) throws {
        let made = try world.sh("mira-store load s1 | mira-prompt 'a fresh turn' | mira-llm > base.json")
        #expect(made.status == 0, "\(made.stderr)")
    }

    // Each line is a good record but for one defect, so a stage that refuses
    // it for another reason (no request, no reply) fails this test.
    @Test(arguments: stages.map(\.name))
    func eachDefectIsRefusedForItsOwnReason(_ stage: String) throws {
        let world = try World()
        let command = try #require(Self.stages.first { $0.name == stage })
        #expect(try world.sh(turn("s1", "a turn that is already there")).status == 0)
        let before = try world.sh("mira-store export s1; mira-store list").stdout
        try Self.baseRecord(world)
        let defects = try Self.corpus(world, "records base.json bad.jsonl")
        let asked = try world.requests().count

        let result = try world.sh("\(command.command) < bad.jsonl")
        let refused = defects.indices.filter { defects[$0].codes[stage] ?? nil != nil }
        #expect(refused.count >= 16, "the corpus lost its defects")
        // mira-llm's status counts the failed records and it ends with a summary line.
        let batch = stage == "mira-llm"
        #expect(result.status == (batch ? Int32(min(refused.count, 63)) : 65), "\(result.stderr)")
        var errors = result.stderr.split(separator: "\n").map(String.init)
        if batch {
            #expect(errors.last?.contains("\(refused.count) failed") == true, "\(result.stderr)")
            errors.removeLast()
        }
        #expect(errors.count == refused.count, "\(result.stderr)")
        for (line, k) in zip(errors, refused) {
            let defect = defects[k]
            #expect(line.hasPrefix("\(stage): line \(k + 1): "), "\(defect.name): \(line)")
            #expect(line.contains(defect.reason), "\(defect.name): \(line)")
        }
        if command.passesThrough {
            let records = try result.records()
            #expect(records.count == defects.count)
            for (record, defect) in zip(records, defects) {
                let error = record["error"] as? [String: Any]
                #expect(error?["code"] as? String == defect.codes[stage] ?? nil, "\(defect.name): \(record)")
                if error != nil { #expect(error?["stage"] as? String == stage, "\(defect.name)") }
            }
        } else {
            #expect(result.stdout.isEmpty)
        }
        #expect(try world.sh("mira-store export s1; mira-store list").stdout == before)
        // Only lines mira-llm takes reach the server.
        #expect(try world.requests().count == asked + (batch ? defects.count - refused.count : 0))
    }

    // Import checks a message as strictly as a saved turn: a persona that is
    // a path, a mood that would become a line of the next system prompt.
    @Test func importRefusesEachDefectForItsOwnReasonAndImportsNothing() throws {
        let world = try World()
        let defects = try Self.corpus(world, "messages bad.jsonl")
        let lines = try String(contentsOfFile: world.dir + "/bad.jsonl", encoding: .isoLatin1).split(separator: "\n")
        #expect(lines.count == defects.count)
        for (k, defect) in defects.enumerated() {
            // A good message first, so "nothing imported" is tested, not assumed.
            let result = try world.sh(#"printf '%s\n' '{"session":"s1","role":"user","content":"ok"}' > one.jsonl; sed -n '\#(k + 1)p' bad.jsonl >> one.jsonl; mira-store import < one.jsonl"#)
            #expect(result.status == 65, "\(defect.name): \(result.stderr)")
            #expect(result.stderr.hasPrefix("mira-store import: line 2: "), "\(defect.name): \(result.stderr)")
            #expect(result.stderr.contains(defect.reason), "\(defect.name): \(result.stderr)")
            #expect(try world.exported("s1").isEmpty)
        }
    }

    @Test func aHundredMegabyteLineIsRefusedInBoundedMemory() throws {
        let world = try World()
        try Self.baseRecord(world)
        let defects = try Self.corpus(world, "records base.json big.jsonl --big")
        let last = defects.count
        // Peak memory of the stage, in KiB, as the kernel counted it.
        let measure = #"python3 -c 'import resource,subprocess,sys; r=subprocess.run(sys.argv[1:], stdin=open("big.jsonl","rb"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE); print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.stdout.write(r.stderr.decode())' "#
        for stage in Self.stages {
            let result = try world.sh(measure + stage.command)
            let parts = result.stdout.split(separator: "\n")
            let figures = parts.first?.split(separator: " ").compactMap { Int($0) } ?? []
            // mira-llm exits with its count of failed lines, the others with 65.
            let failed = defects.filter { $0.codes[stage.name] ?? nil != nil }.count
            #expect(figures.first == (stage.name == "mira-llm" ? failed : 65), "\(stage.name): \(result.stdout) \(result.stderr)")
            #expect((figures.last ?? .max) < 100 * 1024, "\(stage.name) peaked at \(figures.last ?? -1) KiB")
            #expect(result.stdout.contains("line \(last): line of "), "\(result.stdout)")
            #expect(result.stdout.contains("bytes is over the"), "\(result.stdout)")
        }
        #expect(try world.exported("s1").isEmpty)
    }
}
