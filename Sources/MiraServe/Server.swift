import Hummingbird
import Logging
import MiraCompanion
import MiraPrompt
import MiraShared
import MiraSQLite
import MiraSystem
import Synchronization

/// What a route knows of its request beyond Hummingbird's own: who asks.
package struct ServeContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The browser's identity, read from its cookie or just made (by `Gate`).
    package var identity = ""
    /// Whose conversations and memories it may see: its own, or the local
    /// person's for the owner's browser (set by `Gate`; until then a realm
    /// no session has).
    package var realm = Realm.browser("none")

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}

/// The origins allowed to change state: this server's own address, known
/// only once it listens (`--port 0` picks a port then).
package final class Origins: Sendable {
    let host: String
    private let allowed = Mutex<Set<String>>([])

    package init(host: String) {
        self.host = host
    }

    package func listening(port: Int) {
        let origins = Self.origins(host: host, port: port)
        allowed.withLock { $0 = origins }
    }

    package func allows(_ origin: String) -> Bool {
        allowed.withLock { $0.contains(origin) }
    }

    /// `http://HOST:PORT`; on loopback also the other names a browser may
    /// use for it (localhost, 127.0.0.1, [::1]).
    package static func origins(host: String, port: Int) -> Set<String> {
        var hosts = [host.contains(":") ? "[\(host)]" : host]
        if ["127.0.0.1", "localhost", "::1"].contains(host) { hosts += ["127.0.0.1", "localhost", "[::1]"] }
        return Set(hosts.map { "http://\($0):\(port)" })
    }
}

/// Runs before every route: gives a browser without a (well-formed)
/// identity cookie a new one, refuses state changes from foreign pages, and
/// turns every failure into the API's JSON error.
struct Gate: RouterMiddleware {
    typealias Context = ServeContext
    let origins: Origins
    let secret: String?
    let owner: Owner?

    func handle(_ request: Request, context: ServeContext, next: (Request, ServeContext) async throws -> Response) async throws -> Response {
        var context = context
        let known = Identity.read(cookieHeader: request.headers[.cookie])
        context.identity = known ?? Identity.make()
        context.realm = owner?.realm(of: context.identity) ?? .browser(context.identity)
        var response: Response
        if request.method != .get && request.method != .head, let origin = request.headers[.origin], !origins.allows(origin) {
            // A page elsewhere (or a sandboxed one: "null") may not act for this browser.
            response = API.error(APIError(.forbidden, "forbidden_origin", "only this server's own pages may change anything"), hiding: secret)
        } else {
            do {
                response = try await next(request, context)
            } catch let error as APIError {
                response = API.error(error, hiding: secret)
            } catch let error as any HTTPResponseError {
                // The router's own refusals: no such route, wrong method, body too large.
                let code = error.status.reasonPhrase.lowercased().replacing(" ", with: "_")
                response = API.error(APIError(error.status, code, "\(error.status.code) \(error.status.reasonPhrase)"), hiding: secret)
            } catch {
                response = API.error(APIError(.internalServerError, "internal", "the server failed: \(error)"), hiding: secret)
            }
        }
        // The owner link sets its own cookie.
        if known == nil && response.headers[.setCookie] == nil { response.headers[.setCookie] = Identity.setCookie(context.identity) }
        return response
    }
}

/// The routes (docs/http.md) over the workers that run turns.
package struct API: Sendable {
    /// Bodies over this many bytes are refused (413).
    package static let maxBody = 64 << 10
    /// The most sessions `GET /sessions?limit=` may ask for.
    static let maxSessionsListed = 1000

    /// Workers with a database connection each, for what reads or writes the
    /// database: a turn's session, history and memories, the routes' reads.
    let workers: Workers<Companion>
    /// Threads that wait on the model, a turn each, with no connection: a
    /// turn holds a connection only while it reads.
    let callers: Workers<ModelCaller>
    /// Where summaries are written after turns, a few at a time (each waits
    /// on the model while holding its connection); nil without memory,
    /// when there are none to write.
    let background: Workers<Companion>?
    /// The personas a request may force, in the registry's order, with a line about each.
    let personas: [PersonaInfo]
    /// Why a persona name may not be forced (nil: it may).
    let personaProblem: @Sendable (String) -> String?
    /// The API key: never in a response, even if an error message echoed it.
    let secret: String?
    /// The local person's browser (nil: no owner link this run).
    let owner: Owner?
    /// Turns per identity.
    let turnLimit: RateLimit
    /// Where turns and new sessions are written, in groups.
    let writes: GroupedWrites
    /// Sessions whose summary is being written now (one at a time each).
    let summaryRuns = SummaryRuns()

    init(
        workers: Workers<Companion>, callers: Workers<ModelCaller>, background: Workers<Companion>?, personas: [PersonaInfo],
        personaProblem: @escaping @Sendable (String) -> String?, secret: String?,
        owner: Owner?, writes: GroupedWrites, turnLimit: RateLimit
    ) {
        self.writes = writes
        self.workers = workers
        self.callers = callers
        self.background = background
        self.personas = personas
        self.personaProblem = personaProblem
        self.secret = secret
        self.owner = owner
        self.turnLimit = turnLimit
    }

    package func router(origins: Origins) -> Router<ServeContext> {
        let router = Router(context: ServeContext.self)
        router.add(middleware: Gate(origins: origins, secret: secret, owner: owner))
        router.get("/") { _, _ in Page.response(Page.html, type: "text/html; charset=utf-8") }
        router.get("/app.js") { _, _ in Page.response(Page.script, type: "text/javascript; charset=utf-8") }
        router.get("/app.css") { _, _ in Page.response(Page.css, type: "text/css; charset=utf-8") }
        router.get("/healthz") { _, _ in API.json(["status": "ok"]) }
        router.get("/own") { request, _ in try own(request) }
        router.get("/personas") { _, _ in personaList() }
        router.post("/sessions") { _, context in try await startSession(context.realm) }
        router.get("/sessions") { request, context in try await sessions(request, realm: context.realm) }
        router.get("/history") { request, context in try await history(request, realm: context.realm) }
        router.delete("/sessions/:id") { _, context in try await deleteSession(context) }
        router.post("/chat") { request, context in try await chat(request, context: context) }
        router.get("/memory") { _, context in try await memory(context.realm) }
        router.delete("/memory/facts/:id") { _, context in try await forget(.fact, context) }
        router.delete("/memory/summaries/:id") { _, context in try await forget(.summary, context) }
        return router
    }

    // MARK: Routes

    func startSession(_ realm: Realm) async throws(APIError) -> Response {
        let writes = self.writes
        let id = try await onWorker { _ throws(StageError) in try writes.startSession(realm) }
        return API.json(["session": .string(id)], status: .created)
    }

    /// The realm's sessions, most recent first; only the first `?limit=N`
    /// (1-1000) when asked: the owner's may be thousands (every session
    /// the command line and batches stored).
    func sessions(_ request: Request, realm: Realm) async throws(APIError) -> Response {
        let limit = try Self.limit(request.uri.queryParameters["limit"].map(String.init))
        let list = try await onWorker { companion throws(StageError) in try companion.store.webSessions(realm: realm, limit: limit) }
        let rows: [JSON] = list.map {
            ["session": .string($0.session), "messages": .int($0.messages), "last_activity": .string($0.lastActivity),
             "title": .string($0.title)]
        }
        return API.json(["sessions": .array(rows)])
    }

    /// Deletes one of the realm's sessions for good, with what memory kept
    /// of it (facts, summaries), as `mira-store rm` does, then scrubs the
    /// files so its words are gone from them too. 204, or 404 when not the realm's.
    func deleteSession(_ context: ServeContext) async throws(APIError) -> Response {
        let id = try Self.checkedSession(context.parameters.get("id") ?? "")
        let realm = context.realm
        let removed = try await onWorker { companion throws(StageError) -> Bool in
            guard try companion.store.webSession(id, isIn: realm) else { return false }
            _ = try companion.store.remove(session: id)
            _ = try MemoryStore(companion.store).scrub()
            return true
        }
        guard removed else { throw APIError.noSession(id) }
        return Response(status: .noContent, headers: [.cacheControl: "no-store"])
    }

    func history(_ request: Request, realm: Realm) async throws(APIError) -> Response {
        guard let given = request.uri.queryParameters["session"] else {
            throw APIError(.badRequest, "no_session_given", "say which session: GET /history?session=ID")
        }
        let id = try Self.checkedSession(String(given))
        let messages = try await onWorker { companion throws(StageError) -> [JSON]? in
            guard try companion.store.webSession(id, isIn: realm) else { return nil }
            var out: [JSON] = []
            try companion.store.export(session: id) { stored in
                var o = stored.message.json.objectValue ?? JSONObject()
                if let turn = stored.turn { o["turn"] = .string(turn) }
                out.append(.object(o))
                return true
            }
            return out
        }
        guard let messages else { throw APIError.noSession(id) }
        return API.json(["session": .string(id), "messages": .array(messages)])
    }

    func chat(_ request: Request, context: ServeContext) async throws(APIError) -> Response {
        let turn = try await ChatRequest(request, personaProblem: personaProblem)
        if let wait = turnLimit.take(context.identity) {
            throw APIError(.tooManyRequests, "rate_limited", "too many turns from this browser; try again in \(wait) s", retryAfter: wait)
        }
        let realm = context.realm
        // The session, the history and the memories, on a worker with a
        // connection; then the model, on a caller, which saves the turn.
        let prepared = try await onWorker { companion throws(StageError) -> (session: TurnSession, record: Record)? in
            guard let session = try Self.session(for: turn, in: realm, companion.store) else { return nil }
            return (session, try companion.prepared(message: turn.message, session: session.id, persona: turn.persona, opening: session.opening))
        }
        guard let prepared else { throw APIError.noSession(turn.session ?? "") }
        if request.uri.queryParameters["stream"] == "1" {
            return try stream(prepared.record, session: prepared.session)
        }
        // Unstreamed: the model asked without streaming.
        let writes = self.writes
        let session = prepared.session
        let record = try await onCaller { model throws(StageError) -> Record in
            model.streams = false
            var record = prepared.record
            try model.answer(&record)
            try writes.save(record, session: session.id, opening: session.opening)
            return record
        }
        summarizeLater(session.id)
        return API.json(try Self.reply(record, session: session.id))
    }

    /// The session a turn goes to: the one it names (nil when that is not
    /// the realm's), else the realm's most recent, else a new one. A new
    /// one is only named here: it is stored with the turn (`opening`), so
    /// a first turn waits for one commit, not two, and a first turn that
    /// fails leaves no empty conversation.
    static func session(for turn: ChatRequest, in realm: Realm, _ store: SessionStore) throws(StageError) -> TurnSession? {
        if let asked = turn.session { return try store.webSession(asked, isIn: realm) ? TurnSession(id: asked) : nil }
        if let latest = try store.latestWebSession(realm: realm) { return TurnSession(id: latest) }
        return TurnSession(id: Identifiers.newSessionID(), opening: realm)
    }

    /// The turn as server-sent events: `text` pieces while the model writes,
    /// then `reply` (the same object as without streaming) or `error`. A
    /// reader who leaves early stops the events, not the turn: it is saved.
    func stream(_ prepared: Record, session: TurnSession) throws(APIError) -> Response {
        let (events, sink) = AsyncStream.makeStream(of: [UInt8].self)
        let secret = self.secret
        let writes = self.writes
        let accepted = callers.submit { model in
            model.streams = true
            let pieces = TextPieces()
            model.onText = { bytes in
                let text = pieces.add(bytes)
                if !text.isEmpty { sink.yield(ServerEvent.bytes("text", ["text": .string(text)])) }
            }
            defer { model.onText = { _ in } }
            do {
                var record = prepared
                try model.answer(&record)
                try writes.save(record, session: session.id, opening: session.opening)
                sink.yield(ServerEvent.bytes("reply", try Self.reply(record, session: session.id)))
                summarizeLater(session.id)
            } catch let error as StageError {
                sink.yield(ServerEvent.bytes("error", APIError(error).json(hiding: secret)))
            } catch {
                sink.yield(ServerEvent.bytes("error", error.json(hiding: secret)))
            }
            sink.finish()
        }
        guard accepted else { throw APIError.busy }
        let headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            for await event in events {
                try await writer.write(ByteBuffer(bytes: event))
            }
            try await writer.finish(nil)
        })
    }

    // MARK: Helpers

    /// Runs `body` on a worker (its own companion and connection); a store
    /// or turn failure comes back as the API's error.
    func onWorker<T: Sendable>(_ body: @escaping @Sendable (Companion) throws(StageError) -> T) async throws(APIError) -> T {
        try await Self.run(body, on: workers)
    }

    /// Runs `body` on a caller (a thread that waits on the model).
    func onCaller<T: Sendable>(_ body: @escaping @Sendable (ModelCaller) throws(StageError) -> T) async throws(APIError) -> T {
        try await Self.run(body, on: callers)
    }

    static func run<R, T: Sendable>(_ body: @escaping @Sendable (R) throws(StageError) -> T, on pool: Workers<R>) async throws(APIError) -> T {
        let result = await pool.run { resource in
            Result { () throws(StageError) -> T in try body(resource) }
        }
        switch result {
        case nil: throw APIError.busy
        case .success(let value)?: return value
        case .failure(let error)?: throw APIError(error)
        }
    }

    /// `?limit=`'s number, checked; nil when not given.
    static func limit(_ given: String?) throws(APIError) -> Int? {
        guard let given else { return nil }
        guard let n = Int(given), (1...maxSessionsListed).contains(n) else {
            throw APIError(.badRequest, "bad_limit", "limit must be a whole number from 1 to \(maxSessionsListed)")
        }
        return n
    }

    static func checkedSession(_ id: String) throws(APIError) -> String {
        do {
            try Identifiers.validateSession(id)
        } catch {
            throw APIError(error)
        }
        return id
    }

    /// What a finished turn answers: the reply, its turn id and session.
    static func reply(_ record: Record, session: String) throws(APIError) -> JSON {
        guard let reply = try? record.reply() else {
            throw APIError(.internalServerError, "no_reply", "the turn ended without a reply")
        }
        var o: JSONObject = [
            "output": .string(reply.output), "persona": .string(reply.persona), "mood": .string(reply.mood),
            "session": .string(session),
        ]
        if let turn = record.turn { o["turn"] = .string(turn) }
        return .object(o)
    }

    static func json(_ value: JSON, status: HTTPResponse.Status = .ok) -> Response {
        var bytes = JSONWriter.bytes(value)
        bytes.append(0x0A)
        let headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func error(_ error: APIError, hiding secret: String?) -> Response {
        var response = json(["error": error.json(hiding: secret)], status: error.status)
        if let wait = error.retryAfter { response.headers[.retryAfter] = String(wait) }
        return response
    }
}

/// The session a turn goes to, and its realm when the turn starts it.
struct TurnSession: Sendable {
    var id: String
    /// Set when the session is new: stored with the turn, in this realm.
    var opening: Realm? = nil
}

/// A `POST /chat` body: `{message, persona?, session?}`, checked.
struct ChatRequest: Sendable {
    var message: String
    var persona: String?
    var session: String?

    init(_ request: Request, personaProblem: (String) -> String?) async throws(APIError) {
        let body = try await Self.object(request)
        guard let text = body["message"]?.stringValue, text.contains(where: { !$0.isWhitespace }) else {
            throw APIError(.badRequest, "no_input", "the body needs \"message\": the words to say to Mira")
        }
        message = text
        if let value = body["persona"], !value.isNull {
            guard let name = value.stringValue else { throw APIError(.badRequest, "invalid_persona", "\"persona\" must be a string") }
            if let problem = personaProblem(name) { throw APIError(.badRequest, "invalid_persona", problem) }
            persona = name
        }
        if let value = body["session"], !value.isNull {
            guard let id = value.stringValue else { throw APIError(.badRequest, "invalid_session", "\"session\" must be a string") }
            session = try API.checkedSession(id)
        }
    }

    /// The body as a JSON object, at most `API.maxBody` bytes.
    static func object(_ request: Request) async throws(APIError) -> JSONObject {
        let tooLarge = APIError(.contentTooLarge, "body_too_large", "the body is over \(API.maxBody / 1024) KiB")
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > API.maxBody { throw tooLarge }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: API.maxBody)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw tooLarge
        } catch {
            throw APIError(.badRequest, "bad_body", "the body could not be read: \(error)")
        }
        let json: JSON
        do {
            json = try JSONParser.parse(Array(buffer.readableBytesView))
        } catch {
            throw APIError(.badRequest, "bad_json", "the body is not JSON: \(error.description)")
        }
        guard let object = json.objectValue else {
            throw APIError(.badRequest, "bad_json", "the body must be a JSON object, not \(json.typeName)")
        }
        return object
    }
}

/// Server-sent events: `event: NAME` and one `data:` line of JSON (which
/// never holds a raw newline), then a blank line.
enum ServerEvent {
    static func bytes(_ name: String, _ data: JSON) -> [UInt8] {
        var out = Array("event: \(name)\ndata: ".utf8)
        JSONWriter.write(data, into: &out)
        out += Array("\n\n".utf8)
        return out
    }
}

/// The streamed reply's bytes as text: a character split across two pieces
/// waits for its end instead of becoming U+FFFD.
final class TextPieces {
    private var pending: [UInt8] = []

    func add(_ bytes: [UInt8]) -> String {
        pending += bytes
        // Back up over an unfinished UTF-8 sequence at the end (at most 3 bytes).
        var cut = pending.count
        var back = 0
        while back < 3, cut > 0, pending[cut - 1] & 0xC0 == 0x80 {
            cut -= 1
            back += 1
        }
        if cut > 0 {
            let lead = pending[cut - 1]
            let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
            if length > back + 1 { cut -= 1 } else { cut = pending.count }
        } else {
            cut = pending.count
        }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }
}

extension Error {
    func json(hiding secret: String?) -> JSON {
        APIError(.internalServerError, "internal", "the server failed: \(self)").json(hiding: secret)
    }
}
