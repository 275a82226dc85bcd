#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiraShared

/// The config file on disk: where it is, reading it, and changing one
/// setting at a time (the API under `mira config get|set|unset|list|path`).
///
/// The file must be a regular file of at most `ConfigFile.sizeLimit` bytes:
/// a symbolic link is not followed (writing replaces the file by renaming,
/// which would quietly turn a link into a file), a FIFO is not waited on.
/// An absent file is an empty one.
package struct ConfigStore: Sendable {
    /// The file's path.
    package let path: String

    package init(path: String) {
        self.path = path
    }

    /// `$XDG_CONFIG_HOME/mira/config`, else `~/.config/mira/config`; nil
    /// when neither variable gives a folder. Found from the raw variables,
    /// never from the file itself.
    package static func located(environment: Environment = .variables) -> ConfigStore? {
        MiraFolders.config(environment: environment).map { ConfigStore(path: $0 + "/config") }
    }

    /// The file's folder.
    package var folder: String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    // MARK: Reading

    /// The file's settings; empty when there is no file. Throws `.unreadable`
    /// when it cannot be read, `.badLine` with the first wrong line.
    package func read() throws(ConfigProblem) -> ConfigFile {
        let file = ConfigFile(parsing: try bytes() ?? [], path: path)
        if let first = file.problems.first { throw first }
        return file
    }

    /// The file's value for a known `name` (not the environment's: that is
    /// `Environment.process[name]`); nil when the file does not set it.
    package func get(_ name: String) throws(ConfigProblem) -> String? {
        try checkKnown(name)
        return try read()[name]
    }

    /// Every setting in the file, in its order, with secrets
    /// (`KnownSetting.isSecret`) shown as `sk-…abcd` or `(set)` when `redacted`.
    /// `KnownSetting.names` lists the names that could be there.
    package func list(redacted: Bool = true) throws(ConfigProblem) -> [ConfigFile.Entry] {
        try read().entries.map { entry in
            var shown = entry
            if redacted && KnownSetting.isSecret(entry.name) { shown.value = KnownSetting.redacted(entry.value) }
            return shown
        }
    }

    // MARK: Writing

    /// Sets a known `name` to `value` (checked as a file line would be).
    /// The line of that name is replaced where it stands (a repeat of it
    /// removed), or one is added at the end; every other line, comments
    /// included, is kept byte for byte, even a wrong one. The new file
    /// replaces the old in one rename, so a reader sees the old file or the
    /// new, never half. A lock on the folder makes concurrent changes wait
    /// for each other, so none is lost. The folder is created 0700 when
    /// absent, the file 0600; an existing file keeps its mode.
    package func set(_ name: String, to value: String) throws(ConfigProblem) {
        try checkKnown(name)
        if let problem = KnownSetting.named(name)?.problem(with: value) { throw ConfigProblem(.badSetting, path: path, cause: problem) }
        try change { lines in
            var replaced = false
            lines = lines.compactMap { line in
                guard Self.line(line, sets: name) else { return line }
                defer { replaced = true }
                return replaced ? nil : Array("\(name)=\(value)".utf8) + (line.last == 0x0D ? [0x0D] : [])
            }
            if !replaced { lines.append(Array("\(name)=\(value)".utf8)) }
        }
    }

    /// Removes every line that sets `name`: a known name, or any name a line
    /// of the file sets (a misspelt one, to clear its line). Other lines are
    /// kept as `set` keeps them. Whether a line was removed; with none, the
    /// file is left untouched.
    @discardableResult
    package func unset(_ name: String) throws(ConfigProblem) -> Bool {
        guard ConfigFile.isName(name) else { throw ConfigProblem(.badSetting, path: path, cause: "\(Identifiers.quoted(name)) is not a setting's name") }
        var removed = false
        try change { lines in
            let before = lines.count
            lines.removeAll { Self.line($0, sets: name) }
            removed = lines.count != before
        }
        return removed
    }

    func checkKnown(_ name: String) throws(ConfigProblem) {
        guard KnownSetting.named(name) != nil else {
            let cause = ConfigFile.isName(name) ? ConfigFile.unknown(name) : "\(Identifiers.quoted(name)) is not a setting's name"
            throw ConfigProblem(.badSetting, path: path, cause: cause)
        }
    }

    /// Whether a line of the file sets `name` (spaces before `=` too, so
    /// `set` can mend such a line).
    static func line(_ line: [UInt8], sets name: String) -> Bool {
        var rest = line[...].drop { $0 == 0x20 || $0 == 0x09 }
        let key = Array(name.utf8)
        guard rest.starts(with: key) else { return false }
        rest = rest.dropFirst(key.count).drop { $0 == 0x20 || $0 == 0x09 }
        return rest.first == 0x3D
    }

    /// The file's bytes, or nil when there is none.
    func bytes() throws(ConfigProblem) -> [UInt8]? {
        switch Files.readRegularFile(path: path, limit: ConfigFile.sizeLimit) {
        case .success(let bytes): return bytes
        case .failure(let problem) where problem == FileProblem(errno: ENOENT): return nil
        case .failure(let problem): throw ConfigProblem(.unreadable, path: path, cause: "cannot read it: \(problem)")
        }
    }

    /// Reads the lines, lets `edit` change them, and puts the file back in
    /// one rename, all under the folder's lock. Nothing is written when the
    /// lines did not change.
    func change(_ edit: (inout [[UInt8]]) -> Void) throws(ConfigProblem) {
        guard Files.makeDirectories(folder) else {
            throw ConfigProblem(.unwritable, path: path, cause: "cannot create the folder \(folder): \(FileProblem(errno: errno))")
        }
        let lock = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard lock >= 0 else { throw ConfigProblem(.unwritable, path: path, cause: "cannot open the folder: \(FileProblem(errno: errno))") }
        defer { Files.close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw ConfigProblem(.unwritable, path: path, cause: "cannot lock the folder: \(FileProblem(errno: errno))") }
        }

        let old = try bytes() ?? []
        var lines = old.isEmpty ? [] : old.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        if old.last == 0x0A { lines.removeLast() }
        let before = lines
        edit(&lines)
        guard lines != before else { return }
        let new: [UInt8] = lines.reduce(into: []) { $0 += $1; $0.append(0x0A) }
        guard new.count <= ConfigFile.sizeLimit else {
            throw ConfigProblem(.badSetting, path: path, cause: "the file would be over \(ConfigFile.sizeLimit) bytes")
        }
        var info = stat()
        let mode: mode_t = lstat(path, &info) == 0 ? info.st_mode & 0o7777 : 0o600
        try replace(with: new, mode: mode, folderDescriptor: lock)
    }

    /// Writes a temporary file in the same folder (made 0600 by mkstemp),
    /// gives it `mode`, flushes it to disk and renames it over the file.
    func replace(with bytes: [UInt8], mode: mode_t, folderDescriptor: Int32) throws(ConfigProblem) {
        var template = Array((folder + "/.config.XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw ConfigProblem(.unwritable, path: path, cause: "cannot write in \(folder): \(FileProblem(errno: errno))") }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var failure: FileProblem?
        if !LineWriter(fd: fd).write(bytes) { failure = FileProblem(errno: errno) }
        if failure == nil && fchmod(fd, mode) != 0 { failure = FileProblem(errno: errno) }
        if failure == nil && fsync(fd) != 0 { failure = FileProblem(errno: errno) }
        Files.close(fd)
        if failure == nil && rename(temporary, path) != 0 { failure = FileProblem(errno: errno) }
        if let failure {
            unlink(temporary)
            throw ConfigProblem(.unwritable, path: path, cause: "cannot write it: \(failure)")
        }
        _ = fsync(folderDescriptor)  // the rename itself survives a crash
    }
}

extension ConfigFile {
    /// This process's config file, read once from where the raw variables
    /// say it is: empty when there is none (or no HOME to find it by), the
    /// problem when it cannot be read or a line is wrong. Executables check
    /// it before anything else (`Startup.prepare`).
    package static let ofThisProcess: Result<ConfigFile, ConfigProblem> = {
        guard let store = ConfigStore.located() else { return .success(ConfigFile()) }
        return Result { () throws(ConfigProblem) in try store.read() }
    }()
}
