#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiraShared

/// Why a file could not be used, in words for a person.
package struct FileProblem: Error, Equatable, Sendable, CustomStringConvertible {
    package var reason: String

    package init(reason: String) { self.reason = reason }
    package init(errno code: Int32) { reason = Files.describe(errno: code) }

    package var description: String { reason }
}

/// The little file I/O the core needs, without Foundation (whose start-up
/// cost every process of a chat turn would pay).
package enum Files {
    /// Names in a folder, without `.` and `..`; empty when it cannot be read.
    package static func list(directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The whole file, or nil when it cannot be read or is bigger than `limit`.
    package static func read(path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return read(fd: fd, limit: limit)
    }

    /// A file that must be a plain file of our own choosing: a symlink is not
    /// followed (a link to a key or /etc/shadow would send it to the server),
    /// a FIFO or device is not waited on, and a file over `limit` bytes is
    /// refused by its size before a byte is read.
    package static func readRegularFile(path: String, limit: Int) -> Result<[UInt8], FileProblem> {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else {
            return .failure(errno == ELOOP ? FileProblem(reason: "it is a symbolic link (not followed)") : FileProblem(errno: errno))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(FileProblem(errno: errno)) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return .failure(FileProblem(reason: "it is not a regular file")) }
        guard Int(info.st_size) <= limit else {
            return .failure(FileProblem(reason: "it is \(info.st_size) bytes, over the \(limit)-byte limit"))
        }
        guard let bytes = read(fd: fd, limit: limit, expecting: Int(info.st_size)) else {
            return .failure(FileProblem(reason: "it grew past the \(limit)-byte limit while being read"))
        }
        return .success(bytes)
    }

    /// Everything from a descriptor up to `limit` bytes, or nil beyond it.
    /// `expecting`, the size a regular file has, sizes the read buffer: a
    /// small file (the current session, the config) then takes one page, not
    /// a fresh 64 KiB whose pages a short process pays for one fault each.
    /// Never under a page: a file whose size says 0 is still read in pages.
    package static func read(fd: Int32, limit: Int, expecting size: Int? = nil) -> [UInt8]? {
        var out: [UInt8] = []
        // One byte over the size, so a file read whole meets its end in the next read.
        var chunk = [UInt8](repeating: 0, count: size.map { max(4096, min($0 + 1, 65536)) } ?? 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit { return nil }
        }
    }

    /// A descriptor to read `path` from, or why it cannot be read. A folder
    /// is refused here: opening one works, and reading it would only fail
    /// later, where a line reader would take the error for an empty file.
    package static func openForReading(_ path: String) -> Result<Int32, FileProblem> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(FileProblem(errno: errno)) }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            return .failure(FileProblem(reason: "it is a directory"))
        }
        return .success(fd)
    }

    /// The system's words for an errno value ("No such file or directory").
    package static func describe(errno code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    /// Makes a folder and its parents, owner-only where it creates them.
    package static func makeDirectories(_ path: String) -> Bool {
        var built = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            built += "/" + part
            if mkdir(built, 0o700) != 0 && errno != EEXIST { return false }
        }
        return true
    }

    package static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Replaces a small file whole: written to a temporary file beside it,
    /// flushed, then renamed over it, so a reader sees the old bytes or the
    /// new ones, never half. The file is owner-only (`mode`).
    package static func replace(path: String, with bytes: [UInt8], mode: mode_t = 0o600) -> Result<Void, FileProblem> {
        let temporary: String
        switch writeTemporary(beside: path, bytes, mode: mode) {
        case .failure(let problem): return .failure(problem)
        case .success(let written): temporary = written
        }
        guard rename(temporary, path) == 0 else {
            let problem = FileProblem(errno: errno)
            unlink(temporary)
            return .failure(problem)
        }
        return .success(())
    }

    /// Makes a small file whole, only if there is none: written and flushed
    /// beside it, then linked into place, which fails when the name exists.
    /// Of two processes making the same file at once, one makes it and the
    /// other is told (false) and can read the winner's.
    package static func create(path: String, with bytes: [UInt8], mode: mode_t = 0o600) -> Result<Bool, FileProblem> {
        let temporary: String
        switch writeTemporary(beside: path, bytes, mode: mode) {
        case .failure(let problem): return .failure(problem)
        case .success(let written): temporary = written
        }
        defer { unlink(temporary) }
        guard link(temporary, path) == 0 else {
            return errno == EEXIST ? .success(false) : .failure(FileProblem(errno: errno))
        }
        return .success(true)
    }

    /// Writes `bytes` to a new temporary file in `path`'s folder and flushes
    /// it; returns its path. Named by process and a random part, so writers
    /// in one process do not share it either.
    private static func writeTemporary(beside path: String, _ bytes: [UInt8], mode: mode_t) -> Result<String, FileProblem> {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: .min ... .max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { return .failure(FileProblem(errno: errno)) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let problem = FileProblem(errno: errno)
                _ = systemClose(fd)
                unlink(temporary)
                return .failure(problem)
            }
            offset += n
        }
        let synced = fsync(fd) == 0
        let problem = synced ? nil : FileProblem(errno: errno)
        _ = systemClose(fd)
        if let problem {
            unlink(temporary)
            return .failure(problem)
        }
        return .success(temporary)
    }

    package static func close(_ fd: Int32) {
        _ = systemClose(fd)
    }

    /// Reads exactly `count` bytes at `offset` (pread: the descriptor's
    /// position is untouched, so threads can share it); nil when fewer came.
    package static func read(fd: Int32, offset: Int, count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            done += n
        }
        return bytes
    }
}

extension Files {
    /// The descriptor is a regular file (a batch's input, not a pipe or a terminal).
    package static func isRegularFile(fd: Int32) -> Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// How many lines are left to read in `fd` when it is a regular file
    /// (read with pread, so the reader's place does not move); nil otherwise.
    package static func linesAhead(fd: Int32) -> Int? {
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        var offset = lseek(fd, 0, SEEK_CUR)
        guard offset >= 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var lines = 0
        var last: UInt8 = 0x0A
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            for b in buffer[..<n] where b == 0x0A { lines += 1 }
            last = buffer[n - 1]
            offset += off_t(n)
        }
        return lines + (last == 0x0A ? 0 : 1)
    }
}
