import MiraShared
import MiraSystem

/// Reads a ChatGPT data export's `conversations.json` for `mira-store import
/// --from chatgpt`: one session per conversation, the messages of its current
/// branch only, each with a turn id derived from its node id so importing the
/// same export again adds nothing.
///
/// The file is read whole (up to `maxFileBytes`) but parsed one conversation
/// at a time: the top-level array is scanned for each element's bytes, and
/// only that element goes through the strict `JSONParser`, so memory holds
/// the file and one conversation, never the whole tree.
package struct ChatGPTImportReader {
    /// An export of a few years of daily use is a few hundred MB.
    package static let maxFileBytes = 1 << 30
    /// Session ids are `chatgpt-` and the conversation id when it fits.
    package static let sessionPrefix = "chatgpt-"
    /// Turn ids are `chatgpt-` and the node id when it fits.
    package static let turnPrefix = "chatgpt-"

    /// What the import read and what it left out, for the summary line.
    package struct Summary: Equatable, Sendable {
        /// Conversations read.
        package var conversations = 0
        /// Distinct sessions given at least one message.
        package var sessions = 0
        /// Messages handed to the store (new or already stored).
        package var messages = 0
        /// Messages on other branches (edited questions, regenerated replies).
        package var offBranch = 0
        /// Current-branch messages marked hidden from the conversation.
        package var hidden = 0
        /// Current-branch messages of other authors (system, tool, ...).
        package var notChat = 0
        /// Current-branch user and assistant messages with no text.
        package var noText = 0
        /// Non-text parts (images, files) of messages that were kept for their text.
        package var nonTextParts = 0
    }

    /// One conversation's current branch, as it will be stored.
    package struct Conversation: Equatable, Sendable {
        package var session: String
        package var messages: [StoredMessage]
        package var offBranch = 0
        package var hidden = 0
        package var notChat = 0
        package var noText = 0
        package var nonTextParts = 0
    }

    let bytes: [UInt8]
    var scanner: ArrayScanner
    var pending: [StoredMessage] = []
    var pendingIndex = 0
    var sessions: Set<String> = []
    package private(set) var summary = Summary()

    /// Reads the export file: a regular file (a symbolic link is not
    /// followed) of at most `maxFileBytes`. The error is a sentence on why.
    package static func open(path: String, limit: Int = maxFileBytes) -> Result<ChatGPTImportReader, FileProblem> {
        Files.readRegularFile(path: path, limit: limit).map { ChatGPTImportReader(bytes: $0) }
    }

    package init(bytes: [UInt8]) {
        self.bytes = bytes
        scanner = ArrayScanner()
    }

    /// The next message to store, nil at the end of the export. A problem
    /// anywhere is thrown, naming the conversation (index from 0, and its id).
    package mutating func next() throws(StageError) -> StoredMessage? {
        while pendingIndex == pending.count {
            pending = []
            pendingIndex = 0
            let element = try bytes.withUnsafeBufferPointer { (buffer) throws(StageError) -> Range<Int>? in
                try scanner.nextElement(in: buffer)
            }
            guard let element else { return nil }
            let index = summary.conversations
            summary.conversations += 1
            let json: JSON
            do {
                json = try bytes.withUnsafeBufferPointer { (buffer) throws(JSONSyntaxError) -> JSON in
                    try JSONParser.parse(UnsafeBufferPointer(rebasing: buffer[element]))
                }
            } catch {
                throw StageError(.badJSON, "conversation \(index): not JSON: \(error.reason) at byte \(element.lowerBound + error.offset + 1) of the file")
            }
            let conversation = try Self.conversation(json, index: index)
            summary.offBranch += conversation.offBranch
            summary.hidden += conversation.hidden
            summary.notChat += conversation.notChat
            summary.noText += conversation.noText
            summary.nonTextParts += conversation.nonTextParts
            summary.messages += conversation.messages.count
            if !conversation.messages.isEmpty, sessions.insert(conversation.session).inserted { summary.sessions += 1 }
            pending = conversation.messages
        }
        defer { pendingIndex += 1 }
        return pending[pendingIndex]
    }

    // MARK: One conversation

    /// A conversation object as the messages of its current branch; `index`
    /// names it in errors.
    package static func conversation(_ json: JSON, index: Int) throws(StageError) -> Conversation {
        guard let o = json.objectValue else {
            throw StageError(.badRecord, "conversation \(index): must be an object, not \(json.typeName)")
        }
        let rawID = [o["conversation_id"], o["id"]].lazy.compactMap { $0?.stringValue }.first { !$0.isEmpty }
        guard let id = rawID else {
            throw StageError(.badRecord, "conversation \(index): has no \"conversation_id\" or \"id\" string")
        }
        let what = "conversation \(index) (id \(Identifiers.quoted(id)))"
        func bad(_ problem: String) -> StageError { StageError(.badRecord, "\(what): \(problem)") }

        guard let mapping = o["mapping"]?.objectValue else { throw bad("\"mapping\" must be an object") }
        guard let current = o["current_node"]?.stringValue else { throw bad("\"current_node\" must be a string") }
        let fallbackTime = try conversationTime(o, bad)

        let branch: [(id: String, node: JSONObject)]
        switch branchNodes(mapping: mapping, current: current) {
        case .success(let nodes): branch = nodes
        case .failure(let problem): throw bad(problem.reason)
        }

        let session = sessionID(conversation: id)
        var result = Conversation(session: session, messages: [])
        var onBranch = Set<String>()
        for (nodeID, node) in branch {
            onBranch.insert(nodeID)
            guard let message = node["message"], !message.isNull else { continue }
            guard let m = message.objectValue else { throw bad("node \(Identifiers.quoted(nodeID)): \"message\" must be an object or null") }
            if m["metadata"]?["is_visually_hidden_from_conversation"]?.boolValue == true {
                result.hidden += 1
                continue
            }
            guard let roleText = m["author"]?["role"]?.stringValue, roleText == "user" || roleText == "assistant" else {
                result.notChat += 1
                continue
            }
            let (text, skippedParts) = Self.text(of: m["content"])
            guard let text, text.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else {
                result.noText += 1
                continue
            }
            result.nonTextParts += skippedParts
            let time: String
            if let t = m["create_time"], !t.isNull {
                guard let seconds = t.doubleValue, let iso = iso8601(seconds) else {
                    throw bad("node \(Identifiers.quoted(nodeID)): \"create_time\" is not a time in seconds since 1970")
                }
                time = iso
            } else {
                time = fallbackTime
            }
            result.messages.append(StoredMessage(
                session: session, turn: turnID(node: nodeID),
                message: Message(role: roleText == "user" ? .user : .assistant, content: text, time: time)))
        }
        for member in mapping where !onBranch.contains(member.key) {
            if let message = member.value["message"], !message.isNull { result.offBranch += 1 }
        }
        return result
    }

    /// The conversation's `create_time`, else its `update_time`: the time of
    /// a message that has none.
    static func conversationTime(_ o: JSONObject, _ bad: (String) -> StageError) throws(StageError) -> String {
        for key in ["create_time", "update_time"] {
            guard let t = o[key], !t.isNull else { continue }
            guard let seconds = t.doubleValue, let iso = iso8601(seconds) else {
                throw bad("\"\(key)\" is not a time in seconds since 1970")
            }
            return iso
        }
        throw bad("has neither \"create_time\" nor \"update_time\"")
    }

    /// Seconds since 1970 (a float) as Mira writes a time, to the
    /// millisecond; nil outside years 1970 to 9999.
    package static func iso8601(_ seconds: Double) -> String? {
        guard seconds.isFinite, seconds >= 0, seconds < 253_402_300_800 else { return nil }
        let milliseconds = Int((seconds * 1000).rounded())
        return SystemTime.iso8601(seconds: milliseconds / 1000, milliseconds: milliseconds % 1000)
    }

    /// The current branch: node ids from the root to `current`, found by
    /// following `parent` up and reversing. Iterative, with every node
    /// visited at most once, so a cycle or a chain as long as the mapping is
    /// an error or a loop of at most `mapping.count` steps, never a crash.
    package static func branchNodes(mapping: JSONObject, current: String) -> Result<[(id: String, node: JSONObject)], BranchProblem> {
        var index: [String: JSON] = [:]
        index.reserveCapacity(mapping.count)
        for member in mapping { index[member.key] = member.value }
        guard index[current] != nil else {
            return .failure(BranchProblem(reason: "current_node \(Identifiers.quoted(current)) is not in \"mapping\""))
        }
        var path: [(id: String, node: JSONObject)] = []
        var seen = Set<String>()
        var id = current
        while true {
            guard seen.insert(id).inserted else {
                return .failure(BranchProblem(reason: "the parents of node \(Identifiers.quoted(current)) form a cycle at node \(Identifiers.quoted(id))"))
            }
            guard let node = index[id]?.objectValue else {
                return .failure(BranchProblem(reason: "node \(Identifiers.quoted(id)) must be an object"))
            }
            path.append((id, node))
            guard let parent = node["parent"], !parent.isNull else { break }
            guard let parentID = parent.stringValue else {
                return .failure(BranchProblem(reason: "node \(Identifiers.quoted(id)): \"parent\" must be a string or null"))
            }
            guard index[parentID] != nil else {
                return .failure(BranchProblem(reason: "node \(Identifiers.quoted(id)): parent \(Identifiers.quoted(parentID)) is not in \"mapping\""))
            }
            id = parentID
        }
        return .success(path.reversed())
    }

    /// A message's text: its string parts joined with line breaks (images
    /// and other objects left out and counted), else its `text` (code
    /// content); nil when it has neither.
    package static func text(of content: JSON?) -> (text: String?, nonTextParts: Int) {
        guard let content = content?.objectValue else { return (nil, 0) }
        if let parts = content["parts"]?.arrayValue {
            var strings: [String] = []
            var others = 0
            for part in parts {
                if let s = part.stringValue { strings.append(s) } else if !part.isNull { others += 1 }
            }
            return (strings.isEmpty ? nil : strings.joined(separator: "\n"), others)
        }
        return (content["text"]?.stringValue, 0)
    }

    // MARK: Ids

    /// `chatgpt-` and the conversation id when that makes a valid session
    /// id; else `chatgpt_` and a 128-bit hash of the id in hex. The `_` keeps
    /// the two forms apart, so distinct conversation ids give distinct
    /// sessions (short of a hash collision between two unusable ids).
    package static func sessionID(conversation id: String) -> String {
        let direct = sessionPrefix + id
        if (try? Identifiers.validateSession(direct)) != nil { return direct }
        return "chatgpt_" + hash128(id)
    }

    /// `chatgpt-` and the node id (the message's id in every export, and
    /// unique in a conversation's mapping) when that is a valid turn id;
    /// else `chatgpt_` and a hash of it.
    package static func turnID(node id: String) -> String {
        let direct = turnPrefix + id
        if (try? Identifiers.validateTurn(direct)) != nil { return direct }
        return "chatgpt_" + hash128(id)
    }

    /// Two 64-bit FNV-1a hashes (different offsets) as 32 hex digits: stable
    /// across runs and builds, unlike Swift's Hasher.
    static func hash128(_ text: String) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x6c62_272e_07bb_0142
        for byte in text.utf8 {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            b = b ^ (b >> 29)
        }
        func hex(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return hex(a) + hex(b)
    }
}

/// Why a conversation's current branch cannot be found.
package struct BranchProblem: Error, Equatable, Sendable {
    package var reason: String
}

/// Finds each element of a top-level JSON array without parsing it: strings
/// are skipped with their escapes and brackets counted outside them. What
/// the elements hold is left to the strict parser.
struct ArrayScanner {
    var i = 0
    var started = false
    var finished = false

    /// The byte range of the next element; nil after the closing `]`.
    mutating func nextElement(in b: UnsafeBufferPointer<UInt8>) throws(StageError) -> Range<Int>? {
        if finished { return nil }
        func fail(_ reason: String) -> StageError {
            StageError(.badJSON, "not a ChatGPT conversations.json: \(reason) at byte \(i + 1)")
        }
        skipWhitespace(b)
        if !started {
            guard i < b.count else { throw fail("the file is empty") }
            guard b[i] == UInt8(ascii: "[") else { throw fail("the file must be a JSON array of conversations") }
            started = true
            i += 1
            skipWhitespace(b)
            if i < b.count, b[i] == UInt8(ascii: "]") { return try end(b) }
        } else {
            guard i < b.count else { throw fail("unexpected end of input") }
            if b[i] == UInt8(ascii: "]") { return try end(b) }
            guard b[i] == UInt8(ascii: ",") else { throw fail("expected ',' or ']' after a conversation") }
            i += 1
            skipWhitespace(b)
        }
        let start = i
        var depth = 0
        while i < b.count {
            let c = b[i]
            switch c {
            case UInt8(ascii: "\""):
                i += 1
                while i < b.count, b[i] != UInt8(ascii: "\"") { i += b[i] == UInt8(ascii: "\\") ? 2 : 1 }
                guard i < b.count else { throw fail("unterminated string") }
                i += 1
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 { return start..<i }
                depth -= 1
                i += 1
            case UInt8(ascii: ","), 0x20, 0x0A, 0x0D, 0x09:
                if depth == 0 { return start..<i }
                i += 1
            default:
                i += 1
            }
            if depth == 0, i > start, c == UInt8(ascii: "}") || c == UInt8(ascii: "]") || c == UInt8(ascii: "\"") {
                return start..<i
            }
        }
        throw fail("unexpected end of input")
    }

    mutating func end(_ b: UnsafeBufferPointer<UInt8>) throws(StageError) -> Range<Int>? {
        i += 1
        skipWhitespace(b)
        guard i >= b.count else {
            throw StageError(.badJSON, "not a ChatGPT conversations.json: unexpected text after the array at byte \(i + 1)")
        }
        finished = true
        return nil
    }

    mutating func skipWhitespace(_ b: UnsafeBufferPointer<UInt8>) {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }
}

extension ChatGPTImportReader {
    /// The summary line: what was read, stored, skipped and left out, every
    /// count named even when zero, so nothing is dropped without a word.
    package static func describe(_ s: Summary, added: Int) -> String {
        "read \(s.conversations) ChatGPT conversations: \(s.sessions) sessions, imported \(added) messages"
            + " (\(s.messages - added) already stored, skipped); left out \(s.offBranch) off the current branch,"
            + " \(s.hidden) hidden, \(s.notChat) system or tool, \(s.noText) without text,"
            + " and \(s.nonTextParts) non-text parts (images, files) of kept messages"
    }
}
