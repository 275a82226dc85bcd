#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiraShared

/// The user's terminal, for a message typed at a prompt while stdin carries records.
package enum Terminal {
    /// Shows `prompt` on the terminal and reads one line from it; nil when
    /// there is no terminal or it ends before a line. Both go through
    /// /dev/tty, so the prompt appears where the answer is typed even when
    /// stderr is redirected. A line that is not UTF-8 is refused, not
    /// repaired: the message would be sent changed.
    package static func readLine(prompt: String) throws(StageError) -> String? {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        LineWriter(fd: fd).write(Array(prompt.utf8))
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                if line.isEmpty { return nil }
                break
            }
            if byte == 0x0A { break }
            line.append(byte)
        }
        if line.last == 0x0D { line.removeLast() }
        guard let text = String(validating: line, as: UTF8.self) else {
            throw StageError(.noInput, "the typed message is not UTF-8 text (check the terminal's encoding)")
        }
        return text
    }

    package static var isAvailable: Bool {
        let fd = open("/dev/tty", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }
}

/// What is typed at the chat's terminal while a reply streams: kept for the
/// next prompt, not echoed into the reply.
package enum TypeAhead {
    /// Runs `body` with the terminal on stdin neither echoing nor gathering
    /// lines (signals still work: Ctrl-C stops the turn), then puts its
    /// settings back without discarding what was typed. In the terminal's
    /// usual line mode, a key pressed while Mira writes was echoed into her
    /// reply, and a Ctrl-D typed ahead was lost; now the keys wait as bytes,
    /// and the line editor shows them (or leaves, for a Ctrl-D) at the next
    /// prompt. Without a terminal on stdin, `body` runs as it is.
    package static func heldWhile<T>(_ body: () -> T) -> T {
        var usual = termios()
        guard isatty(0) == 1, tcgetattr(0, &usual) == 0 else { return body() }
        var quiet = usual
        quiet.c_lflag &= ~tcflag_t(ECHO | ICANON)
        withUnsafeMutableBytes(of: &quiet.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        // TCSANOW: TCSAFLUSH would throw away what was typed ahead.
        guard tcsetattr(0, TCSANOW, &quiet) == 0 else { return body() }
        defer { _ = tcsetattr(0, TCSANOW, &usual) }
        return body()
    }
}
