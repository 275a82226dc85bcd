import MiraCLI
import MiraCompanion
import MiraCurl
import MiraPrompt
import MiraRecall
import MiraShared
import MiraSQLite
import MiraSystem

/// What every `mira` command shares: where the database is, which session
/// is current, the personas, and a companion made from the settings.
package enum Setup {
    package static let stage = "mira"

    /// The session database (`MIRA_DB`, else the data folder), opened to read
    /// or to write; reading creates nothing.
    package static func store(_ access: SessionStore.Access) -> SessionStore {
        guard let path = StoreLocation.resolve(explicit: nil) else {
            fatal(stage: stage, "no database path: set MIRA_DB or HOME", status: .usage)
        }
        do {
            return try SessionStore(path: path, access: access)
        } catch {
            fatal(stage: stage, error.message, status: error.code.exitStatus)
        }
    }

    package static func currentSession() -> CurrentSession {
        guard let current = CurrentSession.located() else {
            fatal(stage: stage, "no state folder for the current session: set XDG_STATE_HOME or HOME", status: .usage)
        }
        return current
    }

    /// A session id typed by a person, checked.
    package static func checked(session id: String) throws(UsageError) -> String {
        do {
            try Identifiers.validateSession(id)
        } catch {
            throw UsageError(error.message)
        }
        return id
    }

    /// Remembers `session` as current; a failure is said, not fatal: the turn
    /// matters more. The file is written only when the session changes.
    package static func remember(_ session: String, in current: CurrentSession) {
        if current.read() == session { return }
        if case .failure(let problem) = current.remember(session) {
            report(stage: stage, line: nil, "warning: cannot remember the current session in \(current.path): \(problem)")
        }
    }

    /// The personas, read once per process: checking a name and building
    /// the request both need them, and a skipped file is said once.
    package static func personas() -> PersonaRegistry { registry }

    private static let registry = PersonaRegistry.withUserFolder {
        report(stage: stage, line: nil, "skipped persona file \($0): \($1)")
    }

    /// A companion for turns: prompt settings and the server from the
    /// settings (flags beat them), the database opened to write.
    package static func companion(model: String?, stream: Bool, interruptible: Bool) -> Companion {
        let environment = Environment.process
        let prompt: PromptSettings
        let server: ServerSettings
        do {
            prompt = try PromptSettings(environment: environment)
            server = try ServerSettings(environment: environment)
            try server.refuseKeylessOpenAI()
        } catch {
            fatal(stage: stage, error.message, status: .usage)
        }
        var settings = prompt
        if let model { settings.model = model }
        let preparer = TurnPreparer(registry: personas(), settings: settings)
        let shouldStop: (() -> Bool)? = interruptible ? { TurnInterrupt.isRaised } : nil
        let companion = Companion(
            store: store(.readWrite), preparer: preparer, server: server, stream: stream, shouldStop: shouldStop,
            sleep: interruptible ? { TurnInterrupt.sleep(milliseconds: $0) } : nil)
        if EmbeddingServer.isConfigured(environment) {
            do {
                let embedder = try MemoryServices.embedder(environment: environment, shouldStop: shouldStop)
                companion.recaller = Recaller(indexer: Indexer(memory: MemoryStore(companion.store), embedder: embedder))
            } catch {
                fatal(stage: stage, error.message, status: .usage)
            }
            companion.onMemoryProblem = { problem in
                report(stage: stage, line: nil, "memory left out of this turn: \(problem.message)")
            }
        }
        return companion
    }

    /// After a reply: the session's next summary, when one is due, written
    /// by this program started again in the background (`mira _summarize`),
    /// so the person never waits for it. Its words go to a log in the state folder.
    package static func summarizeLater(_ companion: Companion, session: String) {
        guard companion.summaryIsDue(session: session), let folder = MiraFolders.state() else { return }
        _ = Files.makeDirectories(folder)
        Background.start(["_summarize", session], log: folder + "/summaries.log")
    }
}
