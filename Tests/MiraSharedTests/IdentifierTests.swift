import Testing
@testable import MiraShared
import MiraTestSupport

@Suite struct SessionIDs {
    func isValid(_ id: String) -> Bool {
        (try? Identifiers.validateSession(id)) != nil
    }

    @Test(arguments: ["abc", "A-b_c.9", "x", String(repeating: "a", count: 128)])
    func acceptedSessionIDs(_ id: String) {
        #expect(isValid(id))
    }

    @Test(arguments: [
        "", String(repeating: "a", count: 129), "\"quoted\"", "a';drop table messages;--", "..", "../etc",
        "-rf", ".hidden", "a b", "a/b", "é",
    ])
    func rejectedSessionIDs(_ id: String) {
        #expect(!isValid(id))
    }

    @Test func rejectionsCarryTheInvalidSessionCode() {
        #expect(throws: StageError(.invalidSession, "session id \"-x\" must not start with '-' or '.'")) {
            try Identifiers.validateSession("-x")
        }
    }

    @Test func newSessionIDsAreTwelveValidCharactersAndDiffer() throws {
        let first = Identifiers.newSessionID()
        let second = Identifiers.newSessionID()
        #expect(first.utf8.count == 12)
        try Identifiers.validateSession(first)
        #expect(first != second)
    }

    /// Every place of an id takes every character of the alphabet (all 31
    /// in 2,000 ids; a place left out would be a fault in the drawing).
    @Test func everyPlaceOfASessionIDTakesTheWholeAlphabet() {
        let ids = (0..<2000).map { _ in Array(Identifiers.newSessionID().utf8) }
        for place in 0..<12 {
            #expect(Set(ids.map { $0[place] }) == Set("abcdefghjkmnpqrstuvwxyz23456789".utf8), "place \(place)")
        }
    }
}

@Suite struct PersonaNames {
    func isValid(_ name: String) -> Bool {
        (try? Identifiers.validatePersonaName(name)) != nil
    }

    @Test(arguments: ["ok-name_2", "default", "a", String(repeating: "z", count: 32)])
    func acceptedPersonaNames(_ name: String) {
        #expect(isValid(name))
    }

    @Test(arguments: ["Default", "../x", "", "2fast", "-x", "_x", "a.b", "a b", String(repeating: "z", count: 33)])
    func rejectedPersonaNames(_ name: String) {
        #expect(!isValid(name))
    }

    @Test func rejectionsCarryTheInvalidPersonaCode() {
        #expect {
            try Identifiers.validatePersonaName("UPPER")
        } throws: { ($0 as? StageError)?.code == .invalidPersona }
    }
}

@Suite struct TurnIDs {
    @Test func newTurnIDIsAVersion4UUID() {
        let id = Array(Identifiers.newTurnID())
        #expect(id.count == 36)
        for k in [8, 13, 18, 23] { #expect(id[k] == "-") }
        #expect(id[14] == "4")
        #expect("89ab".contains(id[19]))
        #expect(id.allSatisfy { "0123456789abcdef-".contains($0) })
    }

    @Test func newTurnIDsDiffer() {
        #expect(Identifiers.newTurnID() != Identifiers.newTurnID())
    }

    /// Every random hex digit of an id takes all 16 values over 2,000 ids
    /// (the version and variant digits excepted).
    @Test func everyRandomDigitOfATurnIDVaries() {
        let ids = (0..<2000).map { _ in Array(Identifiers.newTurnID()) }
        for place in 0..<36 where ![8, 13, 14, 18, 19, 23].contains(place) {
            #expect(Set(ids.map { $0[place] }).count == 16, "place \(place)")
        }
        #expect(Set(ids.map { $0[19] }) == Set("89ab"))
    }

    @Test func turnIDsWithControlCharactersAreRejected() {
        #expect(throws: StageError.self) { try Identifiers.validateTurn("a\nb") }
        #expect(throws: StageError.self) { try Identifiers.validateTurn("") }
        #expect(throws: Never.self) { try Identifiers.validateTurn("batch 7 / turn 3 é") }
    }
}
