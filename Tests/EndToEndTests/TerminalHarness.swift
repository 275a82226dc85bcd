import Foundation
import Testing

/// A program on a real terminal: tmux runs it in a detached pane of its own
/// server (a socket per test), keys go in with send-keys, and the screen
/// comes back with capture-pane, as a person would see it.
final class TerminalScreen {
    let world: World
    let socket: String

    /// Starts `command` in the world's environment (bash, in the world's folder).
    /// After the command ends the pane stays, with `[exit N]` shown.
    init(world: World, command: String, width: Int = 100, height: Int = 30, extraEnvironment: [String: String] = [:]) throws {
        self.world = world
        socket = "mira-test-" + UUID().uuidString.prefix(8)
        let script = "\(command); echo \"[exit $?]\"; sleep 600"
        let started = try world.sh(
            "tmux -L \(socket) -f /dev/null new-session -d -x \(width) -y \(height) \(shellQuote(script))",
            extraEnvironment: extraEnvironment)
        guard started.status == 0 else { throw WorldError(message: "tmux did not start: \(started.stderr)") }
    }

    deinit {
        _ = try? world.sh("tmux -L \(socket) kill-server")
    }

    /// Types keys: text is sent literally, names such as "Enter" or "C-c" as keys.
    func type(_ text: String) throws {
        #expect(try world.sh("tmux -L \(socket) send-keys -l \(shellQuote(text))").status == 0)
    }

    func press(_ key: String) throws {
        #expect(try world.sh("tmux -L \(socket) send-keys \(key)").status == 0)
    }

    /// The visible screen, lines joined by newlines, each without its
    /// trailing spaces (tmux drops them: the prompt `you> ` reads `you>`),
    /// trailing blank lines dropped.
    func screen() throws -> String {
        let captured = try world.sh("tmux -L \(socket) capture-pane -p")
        if captured.status != 0 { throw WorldError(message: "capture-pane failed: \(captured.stderr)") }
        var lines = captured.stdout.components(separatedBy: "\n").map { line in
            var trimmed = Substring(line)
            while trimmed.last == " " { trimmed.removeLast() }
            return String(trimmed)
        }
        while lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// Waits until the screen satisfies `condition` (polling every 50 ms); the last screen.
    @discardableResult
    func wait(seconds: Double = 15, for what: String, until condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if condition(last) { return last }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw WorldError(message: "timed out waiting for \(what); the screen was:\n\(last)")
    }

    @discardableResult
    func wait(for text: String, seconds: Double = 15) throws -> String {
        try wait(seconds: seconds, for: "\"\(text)\"") { $0.contains(text) }
    }
}
