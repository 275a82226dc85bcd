import MiraRecall
import MiraShared
import MiraSQLite
import MiraSystem
import MiraTestSupport
import Testing

/// Recall's search keeps to one person's conversations: the local person
/// (the command line) never gets a browser's words, nor a browser another's.
@Suite(.serialized) struct RealmRecallTests {
    @Test func theLocalPersonsSearchLeavesBrowsersMessagesOutAndABrowsersKeepsToItsOwn() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try SessionStore(path: dir.path + "/mira.db")
        let browser = Realm.browser(String(repeating: "a", count: 64))
        let web = try store.startWebSession(realm: browser)
        let said: [(String, String)] = [
            ("cli", "the tulips in my garden came up today"),
            (web, "my secret is that I planted tulips at night"),
            ("cli", "a quiet evening with tea"),
        ]
        for (k, (session, text)) in said.enumerated() {
            #expect(try store.save(session: session, turn: "t\(k)", messages: [Message(role: .user, content: text)]))
        }
        let recaller = Recaller.keywordOnly(memory: MemoryStore(store), options: RecallOptions())
        let local = try recaller.search("tulips", session: nil, realm: .local).map(\.text)
        #expect(local == ["the tulips in my garden came up today"])
        let theirs = try recaller.search("tulips", session: nil, realm: browser).map(\.text)
        #expect(theirs == ["my secret is that I planted tulips at night"])
        // The command line's own view (no realm) is everyone's.
        #expect(try recaller.search("tulips", session: nil).count == 2)
    }
}
