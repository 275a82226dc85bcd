import Hummingbird
import MiraCompanion
import MiraShared
import MiraSQLite
import MiraSystem
import Synchronization

/// What Mira remembers about the person asking, and forgetting it: only
/// their own realm's facts and summaries are shown or may be forgotten.
extension API {
    enum Memory: String {
        case fact, summary
    }

    func memory(_ realm: Realm) async throws(APIError) -> Response {
        let (facts, summaries) = try await onWorker { companion throws(StageError) -> ([StoredFact], [StoredSummary]) in
            let memory = MemoryStore(companion.store)
            return (try memory.currentFacts(limit: 500, realm: realm), try memory.summaries(realm: realm))
        }
        let factRows: [JSON] = facts.map {
            ["id": .int(Int($0.id)), "topic": .string($0.topic), "text": .string($0.text), "seen": .int($0.seen),
             "last_seen": .string($0.lastSeen), "session": .string($0.session)]
        }
        let summaryRows: [JSON] = summaries.map {
            ["id": .int(Int($0.id)), "session": .string($0.session), "text": .string($0.text), "time": .string($0.time)]
        }
        return API.json(["facts": .array(factRows), "summaries": .array(summaryRows)])
    }

    /// DELETE /memory/facts/ID or /memory/summaries/ID: 204 when forgotten,
    /// 404 when not this realm's (or not there).
    func forget(_ kind: Memory, _ context: ServeContext) async throws(APIError) -> Response {
        let given = context.parameters.get("id") ?? ""
        let notFound = APIError(.notFound, "no_memory", "no \(kind.rawValue) \(given) here (GET /memory lists yours)")
        guard let id = Int64(given), id > 0 else { throw notFound }
        let realm = context.realm
        let forgotten = try await onWorker { companion throws(StageError) -> Bool in
            let memory = MemoryStore(companion.store)
            switch kind {
            case .fact:
                guard try memory.fact(id, isIn: realm) else { return false }
                return try memory.forget(fact: id)
            case .summary:
                guard try memory.summary(id, isIn: realm) else { return false }
                return try memory.forget(summary: id)
            }
        }
        guard forgotten else { throw notFound }
        return Response(status: .noContent, headers: [.cacheControl: "no-store"])
    }

    /// After a web turn, as `mira` does after its own: the session's next
    /// summary when one is due, on a worker, without making anyone wait.
    /// One run per session at a time; nothing at all without memory.
    func summarizeLater(_ session: String) {
        guard let background else { return }
        let running = summaryRuns
        guard running.start(session) else { return }
        let accepted = background.submit { companion in
            defer { running.finish(session) }
            guard let summarizer = companion.summarizer, (try? summarizer.isDue(session: session)) == true else { return }
            do throws(StageError) {
                _ = try summarizer.summarize(session: session)
            } catch {
                Diagnostics.standardError.report(stage: Server.stage, line: nil, "summary of \(session) not written: \(error.message)")
            }
        }
        if !accepted { running.finish(session) }
    }
}

/// The sessions whose summary is being written now.
final class SummaryRuns: Sendable {
    private let sessions = Mutex<Set<String>>([])

    /// False when `session` has a run already.
    func start(_ session: String) -> Bool { sessions.withLock { $0.insert(session).inserted } }

    func finish(_ session: String) { _ = sessions.withLock { $0.remove(session) } }
}

/// A persona as `GET /personas` shows it.
package struct PersonaInfo: Sendable {
    package var name: String
    package var summary: String

    package init(name: String, summary: String) {
        self.name = name
        self.summary = summary
    }
}

extension API {
    func personaList() -> Response {
        let rows: [JSON] = personas.map { ["name": .string($0.name), "summary": .string($0.summary)] }
        return API.json(["personas": .array(rows)])
    }

    /// `GET /own?key=KEY`: with this run's key, the browser becomes the
    /// owner's (the cookie is set to the owner identity) and goes to `/`.
    func own(_ request: Request) throws(APIError) -> Response {
        guard let owner, let key = request.uri.queryParameters["key"], owner.accepts(String(key)) else {
            throw APIError(.forbidden, "bad_owner_key", "this owner link is not this run's: use the link mira-serve printed when it started")
        }
        return Response(status: .seeOther, headers: [
            .location: "/", .cacheControl: "no-store", .setCookie: Identity.setCookie(owner.identity),
        ])
    }
}
