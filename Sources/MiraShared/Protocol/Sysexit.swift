/// Exit statuses shared by every Mira command (after BSD sysexits), so a
/// script can tell a bad line from a dead server from a rejected key.
package enum Sysexit: Int32, Sendable, CaseIterable {
    case ok = 0
    /// The command line was wrong.
    case usage = 64
    /// An input line was not a valid record, or a record could not be saved.
    case badInput = 65
    /// A file named on the command line could not be read, or a session
    /// named there (`mira-store export`, `rm`) does not exist.
    case noInput = 66
    /// The server could not be reached.
    case unavailable = 69
    /// A bug in Mira.
    case software = 70
    /// The database or an output could not be written.
    case ioError = 74
    /// The server kept failing or timing out until the retries ran out.
    case gaveUp = 75
    /// The server answered with something that is not a valid reply.
    case badReply = 76
    /// The server rejected the API key or the account.
    case rejected = 77
    /// The config file cannot be read or holds a wrong line.
    case config = 78
}
