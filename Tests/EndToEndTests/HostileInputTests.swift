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

    @Test(arguments: stages.map(\.name))
    func everyBadLineIsNamedAndTheDatabaseIsUntouched(_ stage: String) throws {
        let world = try World()
        let command = try #require(Self.stages.first { $0.name == stage })
        #expect(try world.sh(turn("s1", "a turn that is already there")).status == 0)
        let before = try world.sh("mira-store export s1; mira-store list").stdout
        let count = Int(try world.sh("python3 \(shellQuote(Self.corpus)) bad.jsonl").stdout.trimmingCharacters(in: .whitespacesAndNewlines))!

        let result = try world.sh("\(command.command) < bad.jsonl")
        // mira-llm's status counts the failed records and it ends with a summary line.
        let batch = stage == "mira-llm"
        #expect(result.status == (batch ? Int32(min(count, 63)) : 65), "\(result.stderr)")
        var errors = result.stderr.split(separator: "\n")
        if batch {
            #expect(errors.last?.contains("\(count) failed") == true, "\(result.stderr)")
            errors.removeLast()
        }
        #expect(errors.count == count, "\(result.stderr)")
        for (k, line) in errors.enumerated() {
            #expect(line.hasPrefix("\(stage): line \(k + 1): "), "\(line)")
        }
        if command.passesThrough {
            let records = try result.records()
            #expect(records.count == count)
            #expect(records.allSatisfy { ($0["error"] as? [String: Any])?["stage"] as? String == stage })
        } else {
            #expect(result.stdout.isEmpty)
        }
        #expect(try world.sh("mira-store export s1; mira-store list").stdout == before)
        #expect(try world.requests().count == 1)
    }

    @Test func importRefusesEachBadLineAndImportsNothing() throws {
        let world = try World()
        _ = try world.sh("python3 \(shellQuote(Self.corpus)) bad.jsonl")
        let lines = try String(contentsOfFile: world.dir + "/bad.jsonl", encoding: .isoLatin1).split(separator: "\n")
        for k in lines.indices {
            // A good message first, so "nothing imported" is tested, not assumed.
            let result = try world.sh(#"printf '%s\n' '{"session":"s1","role":"user","content":"ok"}' > one.jsonl; sed -n '\#(k + 1)p' bad.jsonl >> one.jsonl; mira-store import < one.jsonl"#)
            #expect(result.status == 65, "line \(k + 1): \(result.stderr)")
            #expect(result.stderr.hasPrefix("mira-store import: line 2: "), "\(result.stderr)")
            #expect(try world.exported("s1").isEmpty)
        }
    }

    @Test func aHundredMegabyteLineIsRefusedInBoundedMemory() throws {
        let world = try World()
        _ = try world.sh("python3 \(shellQuote(Self.corpus)) big.jsonl --big")
        // Peak memory of the stage, in KiB, as the kernel counted it.
        let measure = #"python3 -c 'import resource,subprocess,sys; r=subprocess.run(sys.argv[1:], stdin=open("big.jsonl","rb"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE); print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.stdout.write(r.stderr.decode())' "#
        for stage in ["mira-prompt hi", "mira-llm", "mira-store save s1"] {
            let result = try world.sh(measure + stage)
            let parts = result.stdout.split(separator: "\n")
            let figures = parts.first?.split(separator: " ").compactMap { Int($0) } ?? []
            // mira-llm exits with its count of failed lines (all 15), the others with 65.
            #expect(figures.first == (stage == "mira-llm" ? 15 : 65), "\(stage): \(result.stdout) \(result.stderr)")
            #expect((figures.last ?? .max) < 100 * 1024, "\(stage) peaked at \(figures.last ?? -1) KiB")
            #expect(result.stdout.contains("line 15: line of 100000013 bytes is over the"), "\(result.stdout)")
        }
        #expect(try world.exported("s1").isEmpty)
    }
}
