/// A JSON value that keeps object members in their written order and numbers
/// as written, so a record passes through a stage byte-for-byte unchanged
/// except for the fields the stage sets.
package enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number's literal text: exact round trips, no Double rounding.
    case number(String)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    package static func int(_ value: Int) -> JSON { .number(String(value)) }

    package static func double(_ value: Double) -> JSON {
        value.isFinite ? .number(String(value)) : .null
    }

    package var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    package var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    package var arrayValue: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }

    package var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    package var intValue: Int? {
        guard case .number(let text) = self else { return nil }
        if let i = Int(text) { return i }
        if let d = Double(text), d == d.rounded(), abs(d) < 9e15 { return Int(d) }
        return nil
    }

    package var doubleValue: Double? {
        if case .number(let text) = self { return Double(text) }
        return nil
    }

    package var isNull: Bool { self == .null }

    /// The member `key` when this is an object.
    package subscript(key: String) -> JSON? {
        objectValue?[key]
    }

    /// A short name of the value's type, for error messages.
    package var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A JSON object whose members keep their order.
package struct JSONObject: Equatable, Sendable, Sequence {
    package struct Member: Equatable, Sendable {
        package var key: String
        package var value: JSON
    }

    package private(set) var members: [Member] = []

    package init() {}

    package init(_ pairs: KeyValuePairs<String, JSON>) {
        for (k, v) in pairs { self[k] = v }
    }

    package var count: Int { members.count }
    package var keys: [String] { members.map(\.key) }

    /// Reading finds the member; writing replaces it in place, appends a new
    /// one at the end, or removes it when given nil.
    package subscript(key: String) -> JSON? {
        get {
            for m in members where m.key == key { return m.value }
            return nil
        }
        set {
            if let i = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    package func makeIterator() -> IndexingIterator<[Member]> { members.makeIterator() }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    package init(stringLiteral value: String) { self = .string(value) }
    package init(booleanLiteral value: Bool) { self = .bool(value) }
    package init(integerLiteral value: Int) { self = .int(value) }
    package init(arrayLiteral elements: JSON...) { self = .array(elements) }
    package init(nilLiteral: ()) { self = .null }
    package init(dictionaryLiteral elements: (String, JSON)...) {
        var o = JSONObject()
        for (k, v) in elements { o[k] = v }
        self = .object(o)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    package init(dictionaryLiteral elements: (String, JSON)...) {
        for (k, v) in elements { self[k] = v }
    }
}
