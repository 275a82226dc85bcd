#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser
import MiraCLI
import MiraCompanion
import MiraFront
import MiraShared
import MiraSQLite
import MiraSystem

/// `mira _summarize SESSION`: what `Setup.summarizeLater` starts in the
/// background after a reply. Hidden: people run `mira-memory summarize`.
struct SummarizeLater: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_summarize", abstract: "Write a session's next summary when one is due (run by mira itself).",
        shouldDisplay: false)

    @Argument var session: String

    func run() throws {
        let id = try Setup.validated(session: session)
        let stage = "mira _summarize"
        // One at a time: a chat's next replies start this again while a slow
        // model is still summarizing, and a second summary of the same
        // messages would only be refused after its model call.
        if let folder = MiraFolders.state() {
            let lock = open(folder + "/summarize.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            if lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) != 0 { return }
        }
        do {
            let summarizer = try MemoryServices.summarizer(memory: MemoryStore(Setup.store(.readWrite)), environment: .process)
            if let summary = try summarizer.summarize(session: id) {
                report(stage: stage, line: nil, "\(SystemTime.nowISO8601()) summarized \(id) up to message \(summary.lastMessage)")
            }
        } catch let error as UsageError {
            fatal(stage: stage, error.message, status: .usage)
        } catch let error as StageError {
            fatal(stage: stage, "\(SystemTime.nowISO8601()) \(id): \(error.message)", status: error.code.exitStatus)
        }
    }
}
