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
    let server: Process
    let port: Int
    let apiKey: String?
    /// The server's stdin: closing it stops the server, even when this test
    /// process dies (python3 may be a pyenv shim, so a signal can miss it).
    let lifeline = Pipe()

    init(behaviour: String = "normal", apiKey: String? = nil, serverArguments: [String] = []) throws {
        dir = NSTemporaryDirectory() + "mira-e2e-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        self.apiKey = apiKey
        server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = ["python3", packageRoot + "/Tests/Support/fake_openai.py", "--port", "0",
                         "--log", dir + "/requests.jsonl", "--behaviour", behaviour, "--exit-on-stdin-eof"]
        if let apiKey { arguments += ["--api-key", apiKey] }
        arguments += serverArguments
        server.arguments = arguments
        let out = Pipe()
        closeOnExec(out, lifeline)
        server.standardOutput = out
        server.standardInput = lifeline
        server.standardError = FileHandle.nullDevice
        try server.run()
        // The server prints PORT=n first; read byte by byte up to the newline.
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT="), let port = Int(text.dropFirst(5)) else {
            server.terminate()
            throw WorldError(message: "fake server did not start: \(text)")
        }
        self.port = port
    }

    deinit {
        try? lifeline.fileHandleForWriting.close()
        server.terminate()
        try? FileManager.default.removeItem(atPath: dir)
    }

    static let unblockedBash = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv('/bin/bash', ['bash', '-c', sys.argv[1]])"

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

    /// Runs `command` with bash (pipefail off, as a user types it) in this world.
    func sh(_ command: String, stdin: String? = nil, extraEnvironment: [String: String] = [:]) throws -> Outcome {
        let p = Process()
        // Children of this test process inherit its threads' blocked signals;
        // a user's shell blocks none, so clear the mask before bash starts.
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", Self.unblockedBash, command]
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = binDirectory + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["OPENAI_BASE_URL"] = baseURL
        env["MIRA_DB"] = database
        env["XDG_CONFIG_HOME"] = dir + "/config"
        env["XDG_DATA_HOME"] = dir + "/data"
        env["OPENAI_API_KEY"] = apiKey ?? "sk-test-not-a-real-key"
        env["MIRA_MODEL"] = nil
        for (k, v) in extraEnvironment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        closeOnExec(out, err, input)
        p.standardOutput = out
        p.standardError = err
        p.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try p.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }
        // Read both pipes before waiting, or a chatty child fills a pipe and stalls.
        let stderrData = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            stderrData.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Outcome(status: p.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                       stderr: String(decoding: stderrData.data, as: UTF8.self))
    }

    /// The request bodies the server received, in order.
    func requests() throws -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: dir + "/requests.jsonl", encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { line in
            guard let entry = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let body = entry["body"] as? [String: Any]
            else { throw WorldError(message: "bad server log line: \(line)") }
            return body
        }
    }

    /// The session's stored messages, via mira-store export.
    func exported(_ session: String) throws -> [[String: Any]] {
        let result = try sh("mira-store export \(session)")
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

/// Bytes filled in by another thread before the reader waits on it.
final class Box: @unchecked Sendable {
    var data = Data()
}

/// Tests run in parallel and each spawns processes: without close-on-exec a
/// pipe of one test leaks into another test's long-lived child (a server),
/// and the first test never sees its pipe's end.
func closeOnExec(_ pipes: Pipe...) {
    for pipe in pipes {
        for fd in [pipe.fileHandleForReading.fileDescriptor, pipe.fileHandleForWriting.fileDescriptor] {
            _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
        }
    }
}
