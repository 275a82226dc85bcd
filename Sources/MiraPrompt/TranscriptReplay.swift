import MiraShared
import MiraSystem

/// A whole conversation to regenerate turn by turn: each of its user messages
/// becomes one turn record whose history is everything said before it.
package struct Transcript: Equatable, Sendable {
    /// Names the transcript; turn ids are `<id>:<k>` for the k-th user message.
    package var id: String
    package var messages: [Message]
    /// Each message's own `expect` (read on user messages only), by index.
    package var messageExpects: [JSON?]
    /// The transcript's `expect`: an object for every turn, or an array aligned with its user messages.
    package var expect: JSON?
    /// The transcript's other top-level members, passed on to every turn in order.
    package var carried: JSONObject
    /// Where the transcript starts in the input, for error messages.
    package var line: Int

    package init(id: String, messages: [Message], messageExpects: [JSON?]? = nil, expect: JSON? = nil,
                carried: JSONObject = JSONObject(), line: Int) {
        self.id = id
        self.messages = messages
        self.messageExpects = messageExpects ?? Array(repeating: nil, count: messages.count)
        self.expect = expect
        self.carried = carried
        self.line = line
    }

    /// Members replay writes itself; a transcript carrying them is refused
    /// rather than having them silently replaced.
    static let replayOwned: Set<String> = ["turn", "history", "input"]

    /// Reads a transcript line `{"id"?, "messages": [...], "expect"?, ...}`.
    /// Without an id it is named `line-<N>`.
    package init(object: JSONObject, line: Int) throws(StageError) {
        if let owned = object.keys.first(where: { Self.replayOwned.contains($0) }) {
            throw StageError(.badRecord, "a transcript must not carry \(owned): replay sets turn, history and input itself")
        }
        // The members every record may carry (mira, session, persona, ...) are checked as in any record.
        var check = Record()
        check.fields = object
        try check.check()
        let id: String
        switch object["id"] {
        case nil, .null?: id = "line-\(line)"
        case .string(let s)?: id = s
        case .number(let text)?: id = text
        case let other?: throw StageError(.badRecord, "id must be a string or a number, not \(other.typeName)")
        }
        guard let items = object["messages"]?.arrayValue else {
            throw StageError(.badRecord, "messages must be an array, not \(object["messages"]?.typeName ?? "missing")")
        }
        var messages: [Message] = []
        var expects: [JSON?] = []
        for (k, item) in items.enumerated() {
            messages.append(try Message(json: item, what: "messages[\(k)]"))
            expects.append(item["expect"])
        }
        var carried = JSONObject()
        for member in object where !["mira", "id", "messages", "expect"].contains(member.key) {
            carried[member.key] = member.value
        }
        self.init(id: id, messages: messages, messageExpects: expects, expect: object["expect"], carried: carried, line: line)
        if object["id"] != nil, object["id"] != .null { self.idValue = object["id"] }
    }

    /// The id as the user wrote it (a number stays a number in the turn records).
    var idValue: JSON?

    package var userMessageCount: Int { messages.reduce(0) { $0 + ($1.role == .user ? 1 : 0) } }

    /// Checks everything that could fail before the first turn is written, so
    /// a transcript yields either all its turns or one error.
    package func validate() throws(StageError) {
        let users = userMessageCount
        guard users > 0 else { throw StageError(.noInput, "transcript \(Identifiers.quoted(id)) has no user message") }
        do {
            try Identifiers.validateTurn("\(id):\(users)")
        } catch {
            throw StageError(.badRecord, "transcript id \(Identifiers.quoted(id)) is too long or not printable: turn ids \"<id>:<n>\" must be 1-\(Identifiers.maxTurnLength) bytes of printable text")
        }
        for (k, m) in messages.enumerated() {
            if m.role == .user && !m.content.contains(where: { !$0.isWhitespace }) {
                throw StageError(.noInput, "messages[\(k)] is an empty user message")
            }
            if let e = messageExpects[k], !e.isNull {
                guard m.role == .user else { throw StageError(.badRecord, "messages[\(k)].expect is only read on user messages") }
                guard e.objectValue != nil else { throw StageError(.badRecord, "messages[\(k)].expect must be an object, not \(e.typeName)") }
            }
        }
        switch expect {
        case nil, .null?, .object?: break
        case .array(let items)?:
            guard items.count == users else {
                throw StageError(.badRecord, "expect has \(items.count) entries but the transcript has \(users) user messages")
            }
            if let bad = items.first(where: { !$0.isNull && $0.objectValue == nil }) {
                throw StageError(.badRecord, "expect entries must be objects or null, not \(bad.typeName)")
            }
        case let other?:
            throw StageError(.badRecord, "expect must be an object or an array, not \(other.typeName)")
        }
    }

    /// The expect for a user message (`userIndex` counts user messages from 0,
    /// `messageIndex` all messages): its own, else the transcript's.
    func expectation(userIndex: Int, messageIndex: Int) -> JSON? {
        if let own = messageExpects[messageIndex], !own.isNull { return own }
        switch expect {
        case .object?: return expect
        case .array(let items)?:
            // Spelled out: a bare nil here would become JSON's own null.
            return items[userIndex].isNull ? Optional<JSON>.none : items[userIndex]
        default: return nil
        }
    }

    /// Calls `each` with every turn record, in order, built the way
    /// mira-prompt builds any turn, with at most `historyWindow` earlier
    /// messages (nil: all); stops early when `each` returns false.
    package func forEachTurn(preparer: TurnPreparer, historyWindow: Int? = nil, _ each: (Record) -> Bool) throws(StageError) {
        try validate()
        var user = 0
        for (k, m) in messages.enumerated() where m.role == .user {
            user += 1
            var record = Record()
            record.fields = ["mira": .int(Record.version), "id": idValue ?? .string(id)]
            record.fields["turn"] = .string("\(id):\(user)")
            let first = historyWindow.map { max(0, k - $0) } ?? 0
            record.fields["history"] = .array(messages[first..<k].map(\.json))
            record.fields["input"] = .string(m.content)
            if let expected = expectation(userIndex: user - 1, messageIndex: k) { record.fields["expect"] = expected }
            for member in carried { record.fields[member.key] = member.value }
            try preparer.prepare(&record, message: nil)
            if !each(record) { return }
        }
    }
}

/// mira-prompt --replay: reads transcripts (whole ones, one a line, or
/// `mira-store export` lines grouped by session) and writes their turns.
package struct TranscriptReplay {
    package var preparer: TurnPreparer
    package private(set) var stage: Stage
    /// Ids already replayed and where: a repeat would repeat turn ids, which
    /// `mira-llm --resume` would then wrongly skip.
    var replayed: [String: Int] = [:]
    /// The exported session being gathered: its lines end when the session changes.
    var open: Transcript?
    /// Why the open session cannot be replayed (one of its lines was bad).
    var spoiled: StageError?
    var writer: LineWriter = .standardOutput
    var outputBroken: Bool { stage.outputBroken }
    /// How many earlier messages each turn carries: the live pipeline's
    /// `mira-store load` window by default, so a replayed turn asks what the
    /// live turn asked (and output grows with the transcript, not its square).
    /// nil carries all of them.
    package var historyWindow: Int? = TranscriptReplay.defaultHistoryWindow

    /// `mira-store load`'s default `--last`.
    package static let defaultHistoryWindow = 15

    package init(preparer: TurnPreparer, stageName: String, diagnostics: Diagnostics) {
        self.preparer = preparer
        stage = Stage(name: stageName, diagnostics: diagnostics)
    }

    package var status: Sysexit { stage.status }

    package mutating func run(reader: inout LineReader, writer: LineWriter = .standardOutput) {
        self.writer = writer
        var lines = RecordLines(reader)
        defer { reader = lines.reader }
        while !outputBroken, let (line, input) = lines.next() {
            switch input {
            case .unreadable(let error):
                spoilOpen(line: line)
                fail(error, line: line, record: nil)
            case .failed(_, let bytes):
                // A line an earlier stage failed goes on untouched.
                finishOpen()
                stage.write(bytes, to: writer)
            case .record(let record):
                read(record.fields, line: line)
            }
        }
        finishOpen()
        stage.noteReadError(lines.readError)
    }

    /// A transcript starts a replay of its own; an exported message joins its session's.
    mutating func read(_ object: JSONObject, line: Int) {
        if object["messages"] != nil {
            finishOpen()
            do {
                replay(try Transcript(object: object, line: line))
            } catch {
                var record = Record()
                record.fields = object
                fail(error, line: line, record: record)
            }
        } else if object["role"] != nil, let session = object["session"]?.stringValue {
            gather(object, session: session, line: line)
        } else {
            finishOpen()
            var record = Record()
            record.fields = object
            fail(StageError(.badRecord, "neither a transcript (with messages) nor an exported message (with session and role)"), line: line, record: record)
        }
    }

    /// Adds one exported message to its session's transcript, starting a new
    /// transcript when the session changes.
    mutating func gather(_ object: JSONObject, session: String, line: Int) {
        if open?.id != session { finishOpen() }
        if open == nil { open = Transcript(id: session, messages: [], line: line) }
        guard spoiled == nil else { return }
        do {
            try Identifiers.validateSession(session)
            open!.messages.append(try Message(json: .object(object), what: "message"))
            open!.messageExpects.append(object["expect"])
        } catch {
            spoiled = StageError(error.code, "session \(Identifiers.quoted(session)) not replayed: line \(line): \(error.message)")
        }
    }

    /// A line that could not be read may have belonged to the session being
    /// gathered: replaying it without that message would be wrong.
    mutating func spoilOpen(line: Int) {
        guard let open, spoiled == nil else { return }
        spoiled = StageError(.badRecord, "session \(Identifiers.quoted(open.id)) not replayed: line \(line) in it could not be read")
    }

    mutating func finishOpen() {
        guard let transcript = open else { return }
        let why = spoiled
        open = nil
        spoiled = nil
        if let why { return fail(why, transcript) }
        replay(transcript)
    }

    mutating func replay(_ transcript: Transcript) {
        if let first = replayed[transcript.id] {
            return fail(StageError(.badRecord, "transcript id \(Identifiers.quoted(transcript.id)) was already replayed from line \(first); its turn ids would repeat"),
                        transcript)
        }
        replayed[transcript.id] = transcript.line
        let writer = self.writer
        var broken = false
        do {
            try transcript.forEachTurn(preparer: preparer, historyWindow: historyWindow) { record in
                broken = !writer.writeLine(record.line)
                return !broken
            }
        } catch {
            return fail(error, transcript)
        }
        if broken { brokenOutput() }
    }

    /// One error record for a whole transcript: its id and carried members, no turns.
    mutating func fail(_ error: StageError, _ transcript: Transcript) {
        var record = Record(failure: error, stage: stage.name)
        record.fields["id"] = transcript.idValue ?? .string(transcript.id)
        for member in transcript.carried { record.fields[member.key] = member.value }
        fail(error, line: transcript.line, record: record)
    }

    mutating func fail(_ error: StageError, line: Int, record: Record?) {
        stage.fail(error, line: line, record: record, writer: writer)
    }

    mutating func brokenOutput() {
        stage.brokenOutput()
    }
}
