import CSpawn
import Foundation
import Testing

/// The package root, found from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Where the built executables are: `MIRA_BIN`, else the debug build folder.
let binDirectory = ProcessInfo.processInfo.environment["MIRA_BIN"] ?? packageRoot + "/.build/debug"

/// What a shell command did.
struct Outcome {
    var status: Int32
    var stdout: String
    var stderr: String

    var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }

    /// Each stdout line parsed as a JSON object.
    func records() throws -> [[String: Any]] {
        try stdoutLines.map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw WorldError(message: "not a JSON object: \(line)")
            }
            return object
        }
    }
}

/// A scratch world for one test: its own folder, database, config folder and
/// a fake OpenAI-compatible server on a loopback port.
final class World {
    let dir: String
    /// fake_openai.py, stopped when its stdin (the lifeline) closes, even
    /// when this test process dies (python3 may be a pyenv shim, so a
    /// signal can miss it).
    let server: Child
    let port: Int
    let apiKey: String?

    init(behaviour: String = "normal", apiKey: String? = nil, serverArguments: [String] = []) throws {
        dir = NSTemporaryDirectory() + "mira-e2e-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        self.apiKey = apiKey
        var arguments = ["python3", packageRoot + "/Tests/Support/fake_openai.py", "--port", "0",
                         "--log", dir + "/requests.jsonl", "--behaviour", behaviour, "--exit-on-stdin-eof"]
        if let apiKey { arguments += ["--api-key", apiKey] }
        arguments += serverArguments
        server = try Child("/usr/bin/env", arguments, environment: ProcessInfo.processInfo.environment)
        // The server prints PORT=n first.
        let text = try server.readLine()
        guard text.hasPrefix("PORT="), let port = Int(text.dropFirst(5)) else {
            _ = server.stop()
            throw WorldError(message: "fake server did not start: \(text)")
        }
        self.port = port
    }

    deinit {
        server.stopLater(signal: SIGTERM)
        try? FileManager.default.removeItem(atPath: dir)
    }

    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// Every message stored in the session, grouped by turn: a whole turn is
    /// exactly a user message then an assistant message.
    func halfTurns(_ session: String) throws -> [String] {
        var roles: [String: [String]] = [:]
        for m in try exported(session) {
            roles[m["turn"] as? String ?? "?", default: []].append(m["role"] as? String ?? "?")
        }
        return roles.filter { $0.value != ["user", "assistant"] }.map(\.key)
    }
    var database: String { dir + "/mira.db" }

    /// Runs `command` with bash (pipefail off, as a user types it) in this
    /// world; one still running after `timeout` seconds is killed and throws.
    func sh(_ command: String, stdin: String? = nil, extraEnvironment: [String: String] = [:], timeout: Double = 600) throws -> Outcome {
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = binDirectory + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["OPENAI_BASE_URL"] = baseURL
        env["MIRA_DB"] = database
        env["XDG_CONFIG_HOME"] = dir + "/config"
        env["XDG_DATA_HOME"] = dir + "/data"
        env["XDG_STATE_HOME"] = dir + "/state"
        env["OPENAI_API_KEY"] = apiKey ?? "sk-test-not-a-real-key"
        env["MIRA_MODEL"] = nil
        for (k, v) in extraEnvironment { env[k] = v }
        // A line of its own, so `&` and `$!` in the command apply to the command alone.
        let script = "cd \(shellQuote(dir)) || exit 70\n" + command
        return try spawnBash(script, stdin: stdin, environment: env, timeout: timeout)
    }

    /// The server's log, one entry per chat request in arrival order:
    /// "n", "t" (arrival, seconds on the server's monotonic clock), "headers", "body".
    /// The server makes the file as it starts: a missing log is an error, not "no requests".
    func logEntries() throws -> [[String: Any]] {
        let text = try String(contentsOfFile: dir + "/requests.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard let entry = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                entry["body"] is [String: Any], entry["t"] is Double
            else { throw WorldError(message: "bad server log line: \(line)") }
            return entry
        }
    }

    /// The request bodies the server received, in order.
    func requests() throws -> [[String: Any]] {
        try logEntries().map { $0["body"] as! [String: Any] }
    }

    /// When each request arrived, in seconds on the server's clock.
    func arrivals() throws -> [Double] {
        try logEntries().map { $0["t"] as! Double }
    }

    /// The gaps in seconds between successive arrivals.
    func arrivalGaps() throws -> [Double] {
        let t = try arrivals()
        return zip(t, t.dropFirst()).map { $1 - $0 }
    }

    /// The last user message of each request, in arrival order.
    func askedMessages() throws -> [String] {
        try requests().map { World.messages(of: $0).last { $0["role"] as? String == "user" }?["content"] as? String ?? "?" }
    }

    /// The session's stored messages, via mira-store export: none when
    /// export says there is no such session (status 66).
    func exported(_ session: String) throws -> [[String: Any]] {
        let result = try sh("mira-store export \(session)")
        if result.status == 66 && result.stderr.hasPrefix("mira-store export: no session \(session) ") && result.stdout.isEmpty {
            return []
        }
        #expect(result.status == 0, "export failed: \(result.stderr)")
        return try result.records()
    }

    /// Changes the fake server's behaviour for the next requests.
    func setBehaviour(_ name: String) throws {
        let script = "import sys,urllib.request;urllib.request.urlopen(urllib.request.Request(sys.argv[1],data=sys.argv[2].encode()))"
        let result = try sh("python3 -c \(shellQuote(script)) http://127.0.0.1:\(port)/control \(shellQuote("{\"behaviour\":\"\(name)\"}"))")
        #expect(result.status == 0)
    }

    static func messages(of request: [String: Any]) -> [[String: Any]] {
        request["messages"] as? [[String: Any]] ?? []
    }
}

struct WorldError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// The pipeline of one chat turn, as the README shows it.
func turn(_ session: String, _ message: String, llm: String = "mira-llm", save: String = "--format json") -> String {
    "mira-store load \(session) | mira-prompt \(shellQuote(message)) | \(llm) | mira-store save \(session) \(save)"
}

func shellQuote(_ s: String) -> String {
    "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Starts `path arguments…` with posix_spawn, its stdin, stdout and stderr
/// the descriptors given; returns its pid.
///
/// Not Foundation's Process: under many parallel tests its exit monitoring
/// sometimes missed a child (a zombie nobody reaped, a test waiting forever).
/// The child gets descriptors 0, 1 and 2 and nothing else: a pipe another
/// test has open (Foundation's are not close-on-exec) must never end up in
/// a long-lived process of this one (a tmux server, a background summary),
/// or the other test waits for that process to end. The signal mask is
/// cleared, as a user's shell would have it (the test process's threads
/// block signals its children would inherit), and SIGPIPE and the stopping
/// signals get their default action back (this process ignores SIGPIPE, so
/// a write to a child that stopped reading fails with EPIPE instead of
/// killing every test). The child leads a process group of its own, so
/// whatever it started can be killed with it.
func spawnChild(_ path: String, _ arguments: [String], environment: [String: String], stdin: Int32, stdout: Int32, stderr: Int32) throws -> pid_t {
    ignoringBrokenPipes
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, stdin, 0)
    posix_spawn_file_actions_adddup2(&actions, stdout, 1)
    posix_spawn_file_actions_adddup2(&actions, stderr, 2)
    mira_spawn_close_from(&actions, 3)

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attributes, &none)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setpgroup(&attributes, 0)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { (s: String) in strdup(s) } + [nil]
    let variables: [UnsafeMutablePointer<CChar>?] = environment.map { (k: String, v: String) in strdup("\(k)=\(v)") } + [nil]
    defer { (argv + variables).forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, &attributes, argv, variables)
    guard rc == 0 else { throw WorldError(message: "posix_spawn \(path) failed: \(rc)") }
    return pid
}

let ignoringBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

/// A pipe whose two ends are close-on-exec (the child gets its end by dup2).
func pipePair() -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    precondition(pipe(&fds) == 0, "pipe failed: \(errno)")
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return (fds[0], fds[1])
}

/// Runs `bash -c script` and waits for exactly that child, at most
/// `timeout` seconds: a command still running then is killed with its
/// process group, and the test fails naming it instead of the run hanging.
func spawnBash(_ script: String, stdin: String?, environment: [String: String], timeout: Double = 600) throws -> Outcome {
    let input = pipePair(), output = pipePair(), errors = pipePair()
    let pid: pid_t
    do {
        defer { close(input.read); close(output.write); close(errors.write) }
        pid = try spawnChild("/bin/bash", ["-c", script], environment: environment,
                             stdin: input.read, stdout: output.write, stderr: errors.write)
    } catch {
        close(input.write); close(output.read); close(errors.read)
        throw error
    }

    // Feed stdin on another thread while reading stdout and stderr here, so
    // no pipe fills up and stalls the child.
    let fed = DispatchGroup()
    DispatchQueue.global().async(group: fed) {
        if let stdin { Array(stdin.utf8).withUnsafeBytes { writeAll(input.write, $0) } }
        close(input.write)
    }
    let (stdoutData, stderrData, finished) = readBoth(output.read, errors.read, until: monotonicSeconds() + timeout)
    close(output.read)
    close(errors.read)
    // Killed or not, the group's stdin reader is gone: the feeder meets EPIPE and ends.
    if !finished { kill(-pid, SIGKILL) }
    fed.wait()

    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let stdoutText = String(decoding: stdoutData, as: UTF8.self)
    let stderrText = String(decoding: stderrData, as: UTF8.self)
    guard finished else {
        throw WorldError(message: "still running after \(Int(timeout)) s, killed: \(script)\nits stdout: \(stdoutText)\nits stderr: \(stderrText)")
    }
    return Outcome(status: exitCode(status), stdout: stdoutText, stderr: stderrText)
}

/// A wait status as a shell shows it: the exit code, or 128 + the signal.
func exitCode(_ status: Int32) -> Int32 {
    status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
}

/// A long-lived child (a fake server, mira-serve) whose stdin is a lifeline:
/// closing it asks the child to stop. Its stderr goes to `stderrPath`, or
/// nowhere.
final class Child: @unchecked Sendable {
    let pid: pid_t
    private let lifeline: Int32
    private let output: Int32
    private let lock = NSLock()
    private var status: Int32?

    init(_ path: String, _ arguments: [String], environment: [String: String], stderrPath: String = "/dev/null") throws {
        let input = pipePair(), out = pipePair()
        let errors = open(stderrPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard errors >= 0 else { throw WorldError(message: "cannot open \(stderrPath): \(errno)") }
        defer { close(errors); close(input.read); close(out.write) }
        do {
            pid = try spawnChild(path, arguments, environment: environment, stdin: input.read, stdout: out.write, stderr: errors)
        } catch {
            close(input.write); close(out.read)
            throw error
        }
        lifeline = input.write
        output = out.read
    }

    deinit { close(output) }

    /// The next line of its stdout, without the newline; what came before
    /// the end, or before `timeout` seconds passed, if no newline did.
    func readLine(timeout: Double = 60) throws -> String {
        var line = Data()
        let deadline = monotonicSeconds() + timeout
        var byte: UInt8 = 0
        while monotonicSeconds() < deadline {
            var polled = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&polled, 1, 1000)
            if ready < 0 && errno != EINTR { break }
            if ready <= 0 { continue }
            let n = read(output, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 || byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }

    /// Closes the lifeline (and sends `signal`, if any) and waits for the
    /// child, at most `timeout` seconds before killing its process group;
    /// its exit status as a shell shows it.
    @discardableResult
    func stop(signal: Int32? = nil, timeout: Double = 30) -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        if let status { return status }
        close(lifeline)
        if let signal { kill(pid, signal) }
        let deadline = monotonicSeconds() + timeout
        var raw: Int32 = 0
        while true {
            let reaped = waitpid(pid, &raw, WNOHANG)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR { raw = 0x7F; break }  // not ours to reap: no status
            if monotonicSeconds() > deadline { kill(-pid, SIGKILL) }
            usleep(10_000)
        }
        status = exitCode(raw)
        return status!
    }

    /// stop() on another thread, so a test's end never waits for it.
    func stopLater(signal: Int32? = nil) {
        DispatchQueue.global().async { self.stop(signal: signal) }
    }
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// Reads two pipes to their ends, or until `deadline` (monotonic seconds);
/// `finished` says whether both ended.
func readBoth(_ first: Int32, _ second: Int32, until deadline: Double) -> (Data, Data, finished: Bool) {
    var data = [Data(), Data()]
    var open = [true, true]
    var buffer = [UInt8](repeating: 0, count: 65536)
    while open[0] || open[1] {
        let left = deadline - monotonicSeconds()
        if left <= 0 { return (data[0], data[1], false) }
        var polled = [pollfd(fd: open[0] ? first : -1, events: Int16(POLLIN), revents: 0),
                      pollfd(fd: open[1] ? second : -1, events: Int16(POLLIN), revents: 0)]
        let ready = poll(&polled, 2, Int32(min(left * 1000, 1000)))
        if ready < 0 && errno != EINTR { return (data[0], data[1], false) }
        for i in 0..<2 where open[i] && polled[i].revents != 0 {
            let n = buffer.withUnsafeMutableBytes { read(polled[i].fd, $0.baseAddress, $0.count) }
            if n > 0 {
                data[i].append(contentsOf: buffer[0..<n])
            } else if n == 0 || errno != EINTR {
                open[i] = false
            }
        }
    }
    return (data[0], data[1], true)
}

func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
    var offset = 0
    while offset < bytes.count {
        let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if n < 0 { if errno == EINTR { continue }; return }
        offset += n
    }
}
