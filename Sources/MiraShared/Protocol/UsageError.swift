/// A setting or argument that cannot be used as given (exit 64): from the
/// command line, the environment or the config file, before any record.
package struct UsageError: Error, Equatable, Sendable {
    package var message: String

    package init(_ message: String) {
        self.message = message
    }
}
