#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiraShared

/// What is at a path, as a database file must be: a regular file.
package enum FileStatus: Equatable, Sendable {
    case missing
    case regularFile
    /// A folder, FIFO, device or socket.
    case notRegular
    /// The path cannot be looked at (a parent we may not search, say).
    case unreachable(FileProblem)
}

/// The checks a database file gets before SQLite opens it.
extension Files {
    /// What `path` is, following symbolic links.
    package static func status(of path: String) -> FileStatus {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return errno == ENOENT ? .missing : .unreachable(FileProblem(errno: errno))
        }
        return (info.st_mode & S_IFMT) == S_IFREG ? .regularFile : .notRegular
    }

    /// Whether this process may write the file (its mode, owner, and mount).
    package static func isWritable(_ path: String) -> Bool {
        access(path, W_OK) == 0
    }

    package static func isOnReadOnlyMount(_ path: String) -> Bool {
        var info = statvfs()
        return statvfs(path, &info) == 0 && info.f_flag & UInt(ST_RDONLY) != 0
    }

    /// Makes the file owner-only before a database opens it: created 0600
    /// when absent (SQLite gives its -wal and -shm files the database's
    /// mode), and an existing file of ours that others can read is closed
    /// up. `open` follows a symbolic link, so a link's target gets the same.
    /// Nonblocking, so a FIFO in its place is refused instead of waited on.
    /// `.regularFile` when the file is ready.
    ///
    /// A file already as it should be (ours, owner-only, writable) is only
    /// looked at, not opened: closing any descriptor of a file drops every
    /// POSIX lock this process holds on it, so opening it here while a SQLite
    /// connection of ours has it (a server's second connection) would let
    /// another process think the database unused, checkpoint it and delete
    /// the -wal under our feet.
    package static func prepareOwnerOnly(_ path: String) -> FileStatus {
        var known = stat()
        if stat(path, &known) == 0, (known.st_mode & S_IFMT) == S_IFREG, known.st_uid == geteuid(),
            known.st_mode & 0o077 == 0, access(path, W_OK) == 0 {
            return .regularFile
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0o600)
        guard fd >= 0 else { return .unreachable(FileProblem(errno: errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return .notRegular }
        if info.st_mode & 0o077 != 0 && info.st_uid == geteuid() {
            _ = fchmod(fd, 0o600)
        }
        return .regularFile
    }
}
