import Testing
@testable import MiraSQLite
import MiraShared
import MiraSystem

/// A mapping node: `message` nil for the root's empty node.
private func node(_ id: String, parent: String?, children: [String] = [], role: String? = "user",
                  parts: [JSON]? = nil, text: String? = nil, time: Double? = nil, hidden: Bool = false) -> JSON {
    var n: JSONObject = ["id": .string(id), "parent": parent.map(JSON.string) ?? .null, "children": .array(children.map(JSON.string))]
    if let role {
        var content: JSONObject = ["content_type": parts != nil ? "text" : "code"]
        if let parts { content["parts"] = .array(parts) }
        if let text { content["text"] = .string(text) }
        var m: JSONObject = ["id": .string(id), "author": ["role": .string(role)], "content": .object(content)]
        m["create_time"] = time.map { JSON.number(String($0)) } ?? .null
        if hidden { m["metadata"] = ["is_visually_hidden_from_conversation": true] }
        n["message"] = .object(m)
    } else {
        n["message"] = .null
    }
    return .object(n)
}

private func mapping(_ nodes: [JSON]) -> JSONObject {
    var o = JSONObject()
    for n in nodes { o[n["id"]!.stringValue!] = n }
    return o
}

/// root → sys → u1 → a1 (regenerated as a1b, current) → u2 (edited as u2b, current) → a2b.
private func branchyConversation(id: String = "conv-1") -> JSON {
    let nodes = [
        node("root", parent: nil, children: ["sys"], role: nil),
        node("sys", parent: "root", children: ["u1"], role: "system", parts: ["be helpful"], hidden: true),
        node("u1", parent: "sys", children: ["a1", "a1b"], role: "user", parts: ["hello"], time: 1_700_000_000.5),
        node("a1", parent: "u1", children: [], role: "assistant", parts: ["first reply"], time: 1_700_000_001),
        node("a1b", parent: "u1", children: ["u2", "u2b"], role: "assistant", parts: ["second reply"], time: 1_700_000_002),
        node("u2", parent: "a1b", children: [], role: "user", parts: ["typo questoin"], time: 1_700_000_003),
        node("u2b", parent: "a1b", children: ["a2b"], role: "user", parts: ["fixed question"], time: 1_700_000_004),
        node("a2b", parent: "u2b", children: [], role: "assistant", parts: ["answer"], time: nil),
    ]
    return ["title": "t", "create_time": .number("1600000000.25"), "update_time": 1_700_000_005, "id": .string(id),
            "current_node": "a2b", "mapping": .object(mapping(nodes))]
}

@Suite struct ChatGPTBranchWalk {
    @Test func onlyTheCurrentBranchIsKeptRootFirst() throws {
        let c = try ChatGPTImportReader.conversation(branchyConversation(), index: 0)
        #expect(c.messages.map(\.message.content) == ["hello", "second reply", "fixed question", "answer"])
        #expect(c.messages.map(\.message.role) == [.user, .assistant, .user, .assistant])
        #expect(c.offBranch == 2)  // a1 (regenerated) and u2 (edited)
        #expect(c.hidden == 1)
        #expect(c.messages.allSatisfy { $0.session == "chatgpt-conv-1" })
    }

    @Test func timesAreTheMessagesElseTheConversations() throws {
        let c = try ChatGPTImportReader.conversation(branchyConversation(), index: 0)
        #expect(c.messages.map(\.message.time) == [
            "2023-11-14T22:13:20.500Z", "2023-11-14T22:13:22.000Z", "2023-11-14T22:13:24.000Z", "2020-09-13T12:26:40.250Z",
        ])
        for m in c.messages { try m.message.validateForStore(what: "m") }
        #expect(c.messages.allSatisfy { $0.message.persona == nil && $0.message.mood == nil })
    }

    @Test func aCycleAMissingCurrentNodeAndADanglingParentAreErrors() {
        let cycle = mapping([node("a", parent: "b"), node("b", parent: "a")])
        guard case .failure(let p) = ChatGPTImportReader.branchNodes(mapping: cycle, current: "a") else {
            Issue.record("a cycle was walked"); return
        }
        #expect(p.reason.contains("cycle"))
        guard case .failure(let q) = ChatGPTImportReader.branchNodes(mapping: cycle, current: "zz") else {
            Issue.record("a missing current node was walked"); return
        }
        #expect(q.reason.contains("\"zz\" is not in"))
        let dangling = mapping([node("a", parent: "gone")])
        guard case .failure(let r) = ChatGPTImportReader.branchNodes(mapping: dangling, current: "a") else {
            Issue.record("a dangling parent was walked"); return
        }
        #expect(r.reason.contains("\"gone\" is not in"))
    }

    @Test func aTenThousandDeepChainIsWalkedWithoutRecursion() throws {
        var nodes: [JSON] = [node("n0", parent: nil, parts: ["m0"], time: 1)]
        for k in 1..<10_000 { nodes.append(node("n\(k)", parent: "n\(k - 1)", role: k % 2 == 0 ? "user" : "assistant", parts: [.string("m\(k)")], time: 1)) }
        guard case .success(let path) = ChatGPTImportReader.branchNodes(mapping: mapping(nodes), current: "n9999") else {
            Issue.record("the chain was refused"); return
        }
        #expect(path.count == 10_000)
        #expect(path.first?.id == "n0")
        #expect(path.last?.id == "n9999")
    }

    @Test func aBadConversationIsNamedByIndexAndId() {
        var conv = branchyConversation(id: "abc").objectValue!
        conv["current_node"] = "nowhere"
        #expect(throws: StageError(.badRecord, #"conversation 4 (id "abc"): current_node "nowhere" is not in "mapping""#)) {
            try ChatGPTImportReader.conversation(.object(conv), index: 4)
        }
    }
}

@Suite struct ChatGPTTextExtraction {
    @Test func stringPartsAreJoinedAndObjectsCounted() {
        let content: JSON = ["content_type": "multimodal_text", "parts": [["content_type": "image_asset_pointer"], "look", "at this"]]
        let (text, others) = ChatGPTImportReader.text(of: content)
        #expect(text == "look\nat this")
        #expect(others == 1)
    }

    @Test func codeContentGivesItsText() {
        #expect(ChatGPTImportReader.text(of: ["content_type": "code", "language": "python", "text": "print(1)"]).text == "print(1)")
    }

    @Test func onlyAnImageIsNoText() {
        #expect(ChatGPTImportReader.text(of: ["content_type": "multimodal_text", "parts": [["asset_pointer": "x"]]]).text == nil)
        #expect(ChatGPTImportReader.text(of: nil).text == nil)
    }

    @Test func emptyHiddenImageOnlyAndToolMessagesAreLeftOutAndCounted() throws {
        let nodes = [
            node("root", parent: nil, role: nil),
            node("u", parent: "root", role: "user", parts: ["  \n\t"], time: 5),
            node("img", parent: "u", role: "user", parts: [["asset_pointer": "file-1"]], time: 6),
            node("h", parent: "img", role: "user", parts: ["secret context"], time: 7, hidden: true),
            node("tool", parent: "h", role: "tool", parts: ["search results"], time: 8),
            node("code", parent: "tool", role: "assistant", text: "let x = 1", time: 9),
            node("mm", parent: "code", role: "user", parts: [["asset_pointer": "file-2"], "what is this?"], time: 10),
        ]
        let conv: JSON = ["id": "c", "create_time": 1, "current_node": "mm", "mapping": .object(mapping(nodes))]
        let c = try ChatGPTImportReader.conversation(conv, index: 0)
        #expect(c.messages.map(\.message.content) == ["let x = 1", "what is this?"])
        #expect(c.noText == 2)
        #expect(c.hidden == 1)
        #expect(c.notChat == 1)
        #expect(c.nonTextParts == 1)
        #expect(c.offBranch == 0)
    }
}

@Suite struct ChatGPTIds {
    @Test func sessionIdsAreValidDeterministicAndDistinct() throws {
        let ids = ["6789abcd-0123-4567-89ab-cdef01234567", "a b/c", String(repeating: "x", count: 500), "", "é", "-dash", "x"]
        var seen = Set<String>()
        for id in ids {
            let s = ChatGPTImportReader.sessionID(conversation: id)
            try Identifiers.validateSession(s)
            #expect(s == ChatGPTImportReader.sessionID(conversation: id))
            seen.insert(s)
        }
        #expect(seen.count == ids.count)
        #expect(ChatGPTImportReader.sessionID(conversation: "6789abcd-0123") == "chatgpt-6789abcd-0123")
        #expect(ChatGPTImportReader.sessionID(conversation: "a b") != ChatGPTImportReader.sessionID(conversation: "a c"))
        // A long id's hash differs in its last byte too.
        let long = String(repeating: "y", count: 200)
        #expect(ChatGPTImportReader.sessionID(conversation: long + "1") != ChatGPTImportReader.sessionID(conversation: long + "2"))
    }

    @Test func turnIdsAreValidDeterministicAndDistinct() throws {
        let ids = ["aaa-111", "aaa-112", String(repeating: "z", count: 300), "tab\there"]
        var seen = Set<String>()
        for id in ids {
            let t = ChatGPTImportReader.turnID(node: id)
            try Identifiers.validateTurn(t)
            #expect(t == ChatGPTImportReader.turnID(node: id))
            seen.insert(t)
        }
        #expect(seen.count == ids.count)
        #expect(ChatGPTImportReader.turnID(node: "aaa-111") == "chatgpt-aaa-111")
    }

    @Test func timesOutsideTheYears1970To9999AreRefused() {
        #expect(ChatGPTImportReader.iso8601(0) == "1970-01-01T00:00:00.000Z")
        #expect(ChatGPTImportReader.iso8601(1_700_000_000.9996) == "2023-11-14T22:13:21.000Z")
        #expect(ChatGPTImportReader.iso8601(-1) == nil)
        #expect(ChatGPTImportReader.iso8601(.infinity) == nil)
        #expect(ChatGPTImportReader.iso8601(1e300) == nil)
    }
}

@Suite struct ChatGPTFileReading {
    func messages(_ text: String) throws(StageError) -> [StoredMessage] {
        var reader = ChatGPTImportReader(bytes: Array(text.utf8))
        var out: [StoredMessage] = []
        while let m = try reader.next() { out.append(m) }
        return out
    }

    @Test func conversationsAreReadOneByOneInOrder() throws {
        let a = JSONWriter.string(branchyConversation(id: "A"))
        let b = JSONWriter.string(branchyConversation(id: "B"))
        let got = try messages(" [ \(a) ,\n\(b) ]\n")
        #expect(got.map(\.session) == Array(repeating: "chatgpt-A", count: 4) + Array(repeating: "chatgpt-B", count: 4))
        #expect(try messages("[]").isEmpty)
    }

    @Test func aFileThatIsNotAnArrayOfConversationsIsRefused() {
        #expect(throws: StageError.self) { try messages("{}") }
        #expect(throws: StageError.self) { try messages("") }
        #expect(throws: StageError.self) { try messages("[1]") }
        #expect(throws: StageError.self) { try messages("[\(JSONWriter.string(branchyConversation()))") }
        #expect(throws: StageError.self) { try messages("[] x") }
        #expect(throws: StageError.self) { try messages("[{\"a\":\"\u{1}\"}]") }
    }

    @Test func theErrorNamesTheConversationsIndex() {
        let good = JSONWriter.string(branchyConversation())
        do {
            _ = try messages("[\(good), {\"id\": \"bad\", \"create_time\": 1, \"current_node\": \"x\", \"mapping\": {}}]")
            Issue.record("a bad conversation was read")
        } catch {
            #expect(error.message.hasPrefix("conversation 1 (id \"bad\"): "), "\(error.message)")
        }
    }
}
