#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Environment variables, passed in so the core can be tested with plain values.
public struct Environment: Sendable {
    let lookup: @Sendable (String) -> String?

    public init(_ values: [String: String]) {
        lookup = { values[$0] }
    }

    init(lookup: @escaping @Sendable (String) -> String?) {
        self.lookup = lookup
    }

    /// This process's environment.
    public static let process = Environment { name in
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    /// The value, or nil when unset or empty.
    public subscript(name: String) -> String? {
        guard let v = lookup(name), !v.isEmpty else { return nil }
        return v
    }
}
