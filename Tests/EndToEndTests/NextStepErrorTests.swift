import Foundation
import Testing

/// Common mistakes end with one stderr line that names the tool, the cause
/// and what to do next; the mistakes that used to pass silently fail.
@Suite struct NextStepErrorTests {
    /// The lines of stderr, for "exactly one line" checks.
    func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    // MARK: 7. --version

    @Test func everyToolPrintsItsVersion() throws {
        let world = try World()
        var versions: Set<String> = []
        for tool in ["mira-store", "mira-prompt", "mira-llm", "mira-eval"] {
            let result = try world.sh("\(tool) --version < /dev/null")
            #expect(result.status == 0, "\(tool): \(result.stderr)")
            #expect(result.stderr.isEmpty, "\(tool): \(result.stderr)")
            let words = result.stdout.split(separator: " ")
            #expect(result.stdout.hasSuffix("\n") && lines(result.stdout).count == 1, "\(tool): \(result.stdout)")
            #expect(words.first.map(String.init) == tool, "\(tool): \(result.stdout)")
            let version = words.dropFirst().first.map { $0.trimmingCharacters(in: .newlines) } ?? ""
            #expect(version.split(separator: ".").count == 3 && version.split(separator: ".").allSatisfy { Int($0) != nil }, "\(tool): \(result.stdout)")
            versions.insert(version)
        }
        #expect(versions.count == 1, "one version for every tool: \(versions)")
    }
}
